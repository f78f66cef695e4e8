use crate::crypto::DataCipher;
use crate::db::Row;
use shared::api::{
    Amount, CaptureMode, CheckoutMode, CheckoutSession, CheckoutSessionStatus, LineItem, Metadata,
    Payment, ProviderName, SavePaymentMethod,
};
use shared::{Currency, Money};
use sqlx::Row as _;

/// A `checkout_sessions` row, with the customer email still encrypted.
#[derive(Debug, Clone)]
pub struct SessionRecord {
    pub id: String,
    pub status: CheckoutSessionStatus,
    pub money: Money,
    pub line_items: Vec<LineItem>,
    pub description: Option<String>,
    pub customer_email_ciphertext: Option<String>,
    pub metadata: Metadata,
    pub success_url: Option<String>,
    pub cancel_url: Option<String>,
    pub providers: Vec<ProviderName>,
    pub capture_mode: CaptureMode,
    pub expires_at: i64,
    pub completed_payment_id: Option<String>,
    /// The payment link the session was opened from.
    pub payment_link_id: Option<String>,
    /// The paygate customer paying, and whether the card paid with is saved for them.
    pub customer_id: Option<String>,
    pub save_payment_method: Option<SavePaymentMethod>,
    /// `setup`: charges nothing (`money` is 0) and saves a card through a SetupIntent.
    pub mode: CheckoutMode,
    /// `setup` mode: the session's SetupIntent, and the card it saved once complete.
    pub setup_intent_id: Option<String>,
    pub setup_payment_method_id: Option<String>,
    pub created_at: i64,
}

pub const COLUMNS: &str = "id, status, currency, amount_minor, line_items, description, \
    customer_email_ciphertext, metadata, success_url, cancel_url, providers, capture_mode, \
    expires_at, completed_payment_id, payment_link_id, customer_id, save_payment_method, mode, \
    setup_intent_id, setup_payment_method_id, created_at";

pub const EMAIL_CONTEXT: &str = "checkout_sessions.customer_email";

fn corrupt(column: &str) -> sqlx::Error {
    sqlx::Error::Decode(format!("checkout_sessions.{column} holds an unexpected value").into())
}

impl SessionRecord {
    pub fn from_row(row: &Row) -> Result<SessionRecord, sqlx::Error> {
        let status: String = row.try_get("status")?;
        let currency: String = row.try_get("currency")?;
        let currency = Currency::from_code(&currency).map_err(|_| corrupt("currency"))?;
        let line_items: String = row.try_get("line_items")?;
        let metadata: String = row.try_get("metadata")?;
        let providers: String = row.try_get("providers")?;
        let capture_mode: String = row.try_get("capture_mode")?;
        Ok(SessionRecord {
            id: row.try_get("id")?,
            status: CheckoutSessionStatus::parse(&status).ok_or_else(|| corrupt("status"))?,
            money: Money::from_minor(row.try_get("amount_minor")?, currency),
            line_items: serde_json::from_str(&line_items).map_err(|_| corrupt("line_items"))?,
            description: row.try_get("description")?,
            customer_email_ciphertext: row.try_get("customer_email_ciphertext")?,
            metadata: serde_json::from_str(&metadata).map_err(|_| corrupt("metadata"))?,
            success_url: row.try_get("success_url")?,
            cancel_url: row.try_get("cancel_url")?,
            providers: crate::providers::parse_list(&providers)
                .ok_or_else(|| corrupt("providers"))?,
            capture_mode: CaptureMode::parse(&capture_mode)
                .ok_or_else(|| corrupt("capture_mode"))?,
            expires_at: row.try_get("expires_at")?,
            completed_payment_id: row.try_get("completed_payment_id")?,
            payment_link_id: row.try_get("payment_link_id")?,
            customer_id: row.try_get("customer_id")?,
            save_payment_method: match row.try_get::<Option<String>, _>("save_payment_method")? {
                Some(s) => Some(
                    SavePaymentMethod::parse(&s).ok_or_else(|| corrupt("save_payment_method"))?,
                ),
                None => None,
            },
            mode: CheckoutMode::parse(&row.try_get::<String, _>("mode")?)
                .ok_or_else(|| corrupt("mode"))?,
            setup_intent_id: row.try_get("setup_intent_id")?,
            setup_payment_method_id: row.try_get("setup_payment_method_id")?,
            created_at: row.try_get("created_at")?,
        })
    }

    /// The status as of `now_ms`: an open session past its expiry is expired, whether or not a
    /// sweeper has written that yet.
    pub fn effective_status(&self, now_ms: i64) -> CheckoutSessionStatus {
        match self.status {
            CheckoutSessionStatus::Open if now_ms >= self.expires_at => {
                CheckoutSessionStatus::Expired
            }
            s => s,
        }
    }

    pub fn to_api(
        &self,
        cipher: &DataCipher,
        public_url: &str,
        now_ms: i64,
        payment: Option<Payment>,
    ) -> CheckoutSession {
        let email = self.customer_email_ciphertext.as_deref().and_then(|ct| {
            cipher
                .decrypt(ct, EMAIL_CONTEXT)
                .map_err(|e| tracing::error!(session = %self.id, error = %e, "cannot decrypt customer email"))
                .ok()
        });
        CheckoutSession {
            customer_email: email,
            ..self.event_object(public_url, now_ms, payment)
        }
    }

    /// The session as events carry it: the merchant API's object without the customer's email,
    /// which stays encrypted at rest (the events table is not).
    pub fn event_object(
        &self,
        public_url: &str,
        now_ms: i64,
        payment: Option<Payment>,
    ) -> CheckoutSession {
        CheckoutSession {
            id: self.id.clone(),
            status: self.effective_status(now_ms),
            amount: Amount::from(self.money),
            line_items: self.line_items.clone(),
            description: self.description.clone(),
            customer_email: None,
            metadata: self.metadata.clone(),
            success_url: self.success_url.clone(),
            cancel_url: self.cancel_url.clone(),
            providers: self.providers.clone(),
            capture_mode: self.capture_mode,
            url: format!("{public_url}/checkout/{}", self.id),
            expires_at: self.expires_at.div_euclid(1000),
            created: self.created_at.div_euclid(1000),
            payment,
            payment_link: self.payment_link_id.clone(),
            customer: self.customer_id.clone(),
            save_payment_method: self.save_payment_method,
            mode: self.mode,
            setup_intent: self.setup_intent_id.clone(),
            payment_method: self.setup_payment_method_id.clone(),
        }
    }
}
