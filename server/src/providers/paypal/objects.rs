//! The parts of PayPal's orders, captures, authorizations and refunds paygate reads, parsed
//! leniently, and their meaning in paygate's state machine. Success is decided from
//! `purchase_units[].payments.captures[].status`, never from the order status alone
//! (developer.paypal.com/docs/api/orders/v2).

use crate::providers::ProviderPayment;
use serde::Deserialize;
use serde_json::Value;
use shared::api::{NextAction, PaymentError, PaymentStatus};
use shared::providers::paypal as amounts;
use shared::Currency;

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct Money {
    pub currency_code: String,
    pub value: String,
}

impl Money {
    pub fn minor(&self) -> Option<i64> {
        let currency = Currency::from_code(&self.currency_code).ok()?;
        amounts::decode_value(&self.value, currency)
            .ok()
            .map(|m| m.minor())
    }
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct Link {
    pub href: String,
    pub rel: String,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct PaymentItem {
    pub id: String,
    pub status: String,
    pub amount: Option<Money>,
    pub status_details: Option<Value>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct Payments {
    pub captures: Vec<PaymentItem>,
    pub authorizations: Vec<PaymentItem>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct PurchaseUnit {
    pub reference_id: Option<String>,
    pub payments: Option<Payments>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct Order {
    pub id: String,
    /// Optional: orders whose only capture was declined may lack it
    /// (developer.paypal.com/docs/api/orders/v2).
    pub status: Option<String>,
    pub intent: Option<String>,
    pub purchase_units: Vec<PurchaseUnit>,
    pub links: Vec<Link>,
}

impl Order {
    fn payments(&self) -> Option<&Payments> {
        self.purchase_units
            .first()
            .and_then(|u| u.payments.as_ref())
    }

    pub fn capture(&self) -> Option<&PaymentItem> {
        self.payments().and_then(|p| p.captures.last())
    }

    pub fn authorization(&self) -> Option<&PaymentItem> {
        self.payments().and_then(|p| p.authorizations.last())
    }

    /// Where the buyer approves: the `approve` link (CREATED) or the `payer-action` link
    /// (PAYER_ACTION_REQUIRED); accept either.
    pub fn approval_url(&self) -> Option<String> {
        self.links
            .iter()
            .find(|l| l.rel == "approve" || l.rel == "payer-action")
            .map(|l| l.href.clone())
    }

    pub fn to_provider_payment(&self) -> ProviderPayment {
        let capture = self.capture();
        let authorization = self.authorization();
        let (status, last_error) = match (capture, authorization, self.status.as_deref()) {
            (Some(c), _, _) => capture_status(&c.status),
            (None, Some(a), _) => authorization_status(&a.status),
            (None, None, Some("APPROVED")) => (PaymentStatus::RequiresConfirmation, None),
            (None, None, Some("VOIDED")) => (PaymentStatus::Canceled, None),
            (None, None, Some("COMPLETED")) => (PaymentStatus::Processing, None),
            _ => (PaymentStatus::RequiresAction, None),
        };
        let captured_minor = capture
            .filter(|c| {
                matches!(
                    c.status.as_str(),
                    "COMPLETED" | "PARTIALLY_REFUNDED" | "REFUNDED"
                )
            })
            .and_then(|c| c.amount.as_ref())
            .and_then(Money::minor);
        ProviderPayment {
            reference: self.id.clone(),
            status,
            captured_minor,
            last_error,
            next_action: (status == PaymentStatus::RequiresAction)
                .then(|| self.approval_url())
                .flatten()
                .map(|url| NextAction {
                    kind: "redirect_to_url".into(),
                    url: Some(url),
                }),
            client_secret: None,
            payment_method: None,
            authorization: authorization.map(|a| a.id.clone()),
            capture: capture.map(|c| c.id.clone()),
        }
    }
}

/// A capture's status in paygate's terms.
pub fn capture_status(status: &str) -> (PaymentStatus, Option<PaymentError>) {
    match status {
        "COMPLETED" | "PARTIALLY_REFUNDED" | "REFUNDED" => (PaymentStatus::Succeeded, None),
        "PENDING" => (PaymentStatus::Processing, None),
        // The buyer may choose another funding source for the same order.
        "DECLINED" | "FAILED" => (
            PaymentStatus::RequiresPaymentMethod,
            Some(PaymentError {
                code: "instrument_declined".into(),
                message: "PayPal declined the payment. Choose another way to pay.".into(),
                decline_code: None,
                doc_url: None,
            }),
        ),
        _ => (PaymentStatus::Processing, None),
    }
}

/// An authorization's status in paygate's terms.
pub fn authorization_status(status: &str) -> (PaymentStatus, Option<PaymentError>) {
    match status {
        "CREATED" | "PENDING" => (PaymentStatus::RequiresCapture, None),
        "CAPTURED" | "PARTIALLY_CAPTURED" => (PaymentStatus::Succeeded, None),
        "VOIDED" => (PaymentStatus::Canceled, None),
        "DENIED" => (
            PaymentStatus::Failed,
            Some(PaymentError {
                code: "authorization_denied".into(),
                message: "PayPal denied the authorization.".into(),
                decline_code: None,
                doc_url: None,
            }),
        ),
        _ => (PaymentStatus::RequiresCapture, None),
    }
}

/// The order id a capture or authorization belongs to, from its `supplementary_data` or its
/// `up` link.
pub fn related_order_id(resource: &Value) -> Option<String> {
    resource
        .pointer("/supplementary_data/related_ids/order_id")
        .and_then(Value::as_str)
        .map(str::to_string)
}
