use crate::db::Row;
use crate::providers::PaymentRefs;
use shared::api::{
    Amount, CaptureMode, Metadata, NextAction, Payment, PaymentError, PaymentStatus, ProviderName,
};
use shared::{Currency, Money};
use sqlx::Row as _;

/// A `payments` row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PaymentRecord {
    pub id: String,
    pub provider: ProviderName,
    pub provider_reference: Option<String>,
    /// PayPal: the authorization and capture ids under the order.
    pub provider_authorization: Option<String>,
    pub provider_capture: Option<String>,
    pub status: PaymentStatus,
    pub money: Money,
    pub captured_minor: i64,
    pub refunded_minor: i64,
    pub disputed_minor: i64,
    pub capture_mode: CaptureMode,
    pub description: Option<String>,
    pub customer_id: Option<String>,
    pub checkout_session_id: Option<String>,
    /// The payment link of the checkout session, copied when the widget created the payment.
    pub payment_link_id: Option<String>,
    pub last_error: Option<PaymentError>,
    pub next_action: Option<NextAction>,
    /// The saved card an off-session payment charges (Stripe's `pm_...`).
    pub payment_method_id: Option<String>,
    pub metadata: Metadata,
    pub created_at: i64,
    pub updated_at: i64,
}

pub const COLUMNS: &str = "id, provider, provider_reference, provider_authorization, provider_capture, status, currency, amount_minor, \
    captured_minor, refunded_minor, disputed_minor, capture_mode, description, customer_id, checkout_session_id, \
    payment_link_id, last_error, next_action, payment_method_id, metadata, created_at, updated_at";

fn corrupt(column: &str, value: &str) -> sqlx::Error {
    sqlx::Error::Decode(format!("payments.{column} holds an unexpected value {value:?}").into())
}

fn json_column<T: serde::de::DeserializeOwned>(
    row: &Row,
    column: &str,
) -> Result<Option<T>, sqlx::Error> {
    let text: Option<String> = row.try_get(column)?;
    text.map(|t| serde_json::from_str(&t).map_err(|_| corrupt(column, &t)))
        .transpose()
}

impl PaymentRecord {
    pub fn from_row(row: &Row) -> Result<PaymentRecord, sqlx::Error> {
        let provider: String = row.try_get("provider")?;
        let status: String = row.try_get("status")?;
        let currency: String = row.try_get("currency")?;
        let capture_mode: String = row.try_get("capture_mode")?;
        let currency =
            Currency::from_code(&currency).map_err(|_| corrupt("currency", &currency))?;
        Ok(PaymentRecord {
            id: row.try_get("id")?,
            provider: ProviderName::parse(&provider)
                .ok_or_else(|| corrupt("provider", &provider))?,
            provider_reference: row.try_get("provider_reference")?,
            provider_authorization: row.try_get("provider_authorization")?,
            provider_capture: row.try_get("provider_capture")?,
            status: PaymentStatus::parse(&status).ok_or_else(|| corrupt("status", &status))?,
            money: Money::from_minor(row.try_get("amount_minor")?, currency),
            captured_minor: row.try_get("captured_minor")?,
            refunded_minor: row.try_get("refunded_minor")?,
            disputed_minor: row.try_get("disputed_minor")?,
            capture_mode: CaptureMode::parse(&capture_mode)
                .ok_or_else(|| corrupt("capture_mode", &capture_mode))?,
            description: row.try_get("description")?,
            customer_id: row.try_get("customer_id")?,
            checkout_session_id: row.try_get("checkout_session_id")?,
            payment_link_id: row.try_get("payment_link_id")?,
            last_error: json_column(row, "last_error")?,
            next_action: json_column(row, "next_action")?,
            payment_method_id: row.try_get("payment_method_id")?,
            metadata: json_column(row, "metadata")?.unwrap_or_default(),
            created_at: row.try_get("created_at")?,
            updated_at: row.try_get("updated_at")?,
        })
    }

    /// What a provider needs to act on this payment; None before the provider object exists.
    pub fn refs(&self) -> Option<PaymentRefs> {
        Some(PaymentRefs {
            payment_id: self.id.clone(),
            reference: self.provider_reference.clone()?,
            authorization: self.provider_authorization.clone(),
            capture: self.provider_capture.clone(),
            capture_mode: self.capture_mode,
            money: self.money,
            captured_minor: self.captured_minor,
        })
    }

    pub fn to_api(&self) -> Payment {
        Payment {
            id: self.id.clone(),
            provider: self.provider,
            provider_reference: self.provider_reference.clone(),
            status: self.status,
            amount: Amount::from(self.money),
            captured_minor: self.captured_minor,
            refunded_minor: self.refunded_minor,
            disputed_minor: self.disputed_minor,
            capture_mode: self.capture_mode,
            description: self.description.clone(),
            customer: self.customer_id.clone(),
            checkout_session: self.checkout_session_id.clone(),
            payment_link: self.payment_link_id.clone(),
            last_error: self.last_error.clone(),
            next_action: self.next_action.clone(),
            payment_method: self.payment_method_id.clone(),
            metadata: self.metadata.clone(),
            created: self.created_at.div_euclid(1000),
            updated: self.updated_at.div_euclid(1000),
        }
    }
}
