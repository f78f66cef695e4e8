//! The parts of Stripe's objects paygate reads, parsed leniently: Stripe adds fields and enum
//! values all the time, so unknown ones never fail a whole response (statuses stay strings and
//! are mapped where used).

use serde::Deserialize;
use serde_json::Value;
use shared::api::{NextAction, PaymentError, PaymentStatus};

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct PaymentIntent {
    pub id: String,
    pub status: String,
    pub amount: i64,
    pub amount_received: i64,
    pub amount_capturable: i64,
    pub currency: String,
    pub client_secret: Option<String>,
    pub last_payment_error: Option<LastPaymentError>,
    pub next_action: Option<Value>,
    pub latest_charge: Option<Value>,
    pub customer: Option<Value>,
    /// An id, or the object when expanded.
    pub payment_method: Option<Value>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct LastPaymentError {
    pub code: Option<String>,
    pub decline_code: Option<String>,
    pub message: Option<String>,
    pub doc_url: Option<String>,
    /// The PaymentMethod that failed (an object).
    pub payment_method: Option<Value>,
}

/// The code of an off-session charge the bank wants authenticated ("authentication_required":
/// docs.stripe.com/payments/save-and-reuse, "the PaymentIntent's status is
/// requires_payment_method"; the customer comes back and confirms it with that card).
pub const AUTHENTICATION_REQUIRED: &str = "authentication_required";

/// paygate's `next_action` type for such a charge: the customer authenticates on paygate's page.
pub const AUTHENTICATE: &str = "authenticate";

/// The id of a field that is an id or an expanded object.
fn id_of(value: Option<&Value>) -> Option<String> {
    match value? {
        Value::String(s) => Some(s.clone()),
        Value::Object(o) => o.get("id")?.as_str().map(str::to_string),
        _ => None,
    }
}

/// Stripe's PaymentIntent status in paygate's shared state machine; None for values paygate
/// does not know (they are left alone rather than guessed).
pub fn map_status(status: &str) -> Option<PaymentStatus> {
    Some(match status {
        "requires_payment_method" => PaymentStatus::RequiresPaymentMethod,
        "requires_confirmation" => PaymentStatus::RequiresConfirmation,
        "requires_action" => PaymentStatus::RequiresAction,
        "processing" => PaymentStatus::Processing,
        "requires_capture" => PaymentStatus::RequiresCapture,
        "succeeded" => PaymentStatus::Succeeded,
        "canceled" => PaymentStatus::Canceled,
        _ => return None,
    })
}

impl PaymentIntent {
    /// The status in paygate's terms. An off-session charge the bank wants authenticated is
    /// left by Stripe in `requires_payment_method` with the decline as its last error; for
    /// paygate the payment waits for its customer (`requires_action`, see [`AUTHENTICATE`]), not
    /// for another card.
    pub fn paygate_status(&self) -> Option<PaymentStatus> {
        if self.needs_authentication() {
            return Some(PaymentStatus::RequiresAction);
        }
        map_status(&self.status)
    }

    fn needs_authentication(&self) -> bool {
        self.status == "requires_payment_method"
            && self
                .last_payment_error
                .as_ref()
                .and_then(|e| e.code.as_deref())
                == Some(AUTHENTICATION_REQUIRED)
    }

    /// The PaymentMethod charged, or the one that failed last.
    pub fn payment_method_id(&self) -> Option<String> {
        id_of(self.payment_method.as_ref()).or_else(|| {
            id_of(
                self.last_payment_error
                    .as_ref()
                    .and_then(|e| e.payment_method.as_ref()),
            )
        })
    }

    pub fn last_error(&self) -> Option<PaymentError> {
        self.last_payment_error.as_ref().map(|e| PaymentError {
            code: e.code.clone().unwrap_or_else(|| "payment_failed".into()),
            message: e
                .message
                .clone()
                .unwrap_or_else(|| "The payment failed.".into()),
            decline_code: e.decline_code.clone(),
            doc_url: e.doc_url.clone(),
        })
    }

    /// 3-D Secure or a redirect: what the customer's browser must do.
    pub fn next_action(&self) -> Option<NextAction> {
        if self.needs_authentication() {
            // paygate's page, whose address the payments layer fills in.
            return Some(NextAction {
                kind: AUTHENTICATE.into(),
                url: None,
            });
        }
        let action = self.next_action.as_ref()?;
        let kind = action.get("type")?.as_str()?.to_string();
        let url = action
            .get("redirect_to_url")
            .and_then(|r| r.get("url"))
            .and_then(|u| u.as_str())
            .map(str::to_string);
        Some(NextAction { kind, url })
    }

    pub fn charge_id(&self) -> Option<String> {
        id_of(self.latest_charge.as_ref())
    }
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct Refund {
    pub id: String,
    pub status: String,
    pub amount: i64,
    pub currency: String,
    pub payment_intent: Option<String>,
    pub charge: Option<String>,
    pub failure_reason: Option<String>,
    pub metadata: std::collections::BTreeMap<String, String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct Event {
    pub id: String,
    #[serde(rename = "type")]
    pub kind: String,
    /// The version the event's object is rendered at: the webhook endpoint's, not the one
    /// paygate's requests pin (docs.stripe.com/webhooks/versioning).
    pub api_version: Option<String>,
    pub data: EventData,
}

/// What a webhook's receipt needs of its event: its id and type. The object is skipped, not
/// built (the worker reads it later), so acknowledging a delivery costs no allocation per field.
#[derive(Debug, Deserialize)]
pub struct EventHeader {
    pub id: String,
    #[serde(rename = "type")]
    pub kind: String,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct EventData {
    pub object: Value,
}
