use super::{CheckoutSessionStatus, LineItem, ProviderName};
use crate::money::{Currency, Money};
use serde::{Deserialize, Serialize};

/// What the widget shows for a checkout session (`GET /checkout/api/sessions/{id}`): nothing
/// secret, nothing the browser could use to change the amount.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WidgetSession {
    pub id: String,
    pub merchant_name: String,
    #[serde(default)]
    pub description: Option<String>,
    // The total is spelled out as the three fields every paygate amount has, where other
    // responses embed an `Amount` with `#[serde(flatten)]`: a flattened field makes serde buffer
    // the whole object before reading it, a second deserializer for every nested type that the
    // widget's download would carry (issue 13's size budget). The JSON is the same.
    /// Decimal string with exactly the currency's number of fraction digits.
    pub amount: String,
    pub currency: Currency,
    /// The same amount in the currency's minor units: the authoritative figure.
    pub amount_minor: i64,
    pub line_items: Vec<LineItem>,
    pub status: CheckoutSessionStatus,
    /// Providers that can take this amount, with what their scripts need.
    pub providers: Vec<WidgetProvider>,
    pub expires_at: i64,
    #[serde(default)]
    pub success_url: Option<String>,
    #[serde(default)]
    pub cancel_url: Option<String>,
    /// Manual capture: PayPal's script is loaded with `intent=authorize`.
    #[serde(default)]
    pub capture_mode: super::CaptureMode,
    /// Whether a card paid with is saved for the customer (`optional`: their choice).
    #[serde(default)]
    pub save_payment_method: Option<super::SavePaymentMethod>,
    /// The customer's saved cards, masked, to pay with one.
    #[serde(default)]
    pub saved_cards: Vec<WidgetSavedCard>,
    /// A session that only saves a card (`mode: setup`): nothing is charged, the card form
    /// confirms a SetupIntent.
    #[serde(default)]
    pub setup: bool,
}

/// A saved card as the widget shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WidgetSavedCard {
    /// Stripe's PaymentMethod id, handed to Stripe.js to pay with.
    pub id: String,
    /// What the customer reads, masked: "Visa •••• 4242, expires 12/2030" (written by the
    /// server, so the widget's download carries no formatting of its own for it).
    pub label: String,
}

/// Body of `POST /checkout/api/sessions/{id}/stripe/save`: the customer's answer to "save
/// this card".
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WidgetSaveChoice {
    pub save: bool,
}

impl WidgetSession {
    /// The session's total, as [`Amount::money`](super::Amount::money) reads it: `amount_minor`
    /// is authoritative.
    pub fn total(&self) -> Money {
        Money::from_minor(self.amount_minor, self.currency)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WidgetProvider {
    pub provider: ProviderName,
    /// Stripe publishable key or PayPal client id: public by design.
    pub public_key: String,
    /// Where the provider's script is loaded from (Stripe.js, PayPal JS SDK).
    pub script_url: String,
}

/// Answer of `POST /checkout/api/sessions/{id}/stripe/intent`: what Stripe.js needs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WidgetStripeIntent {
    /// The PaymentIntent's client secret, for `stripe.elements({clientSecret})`.
    pub client_secret: String,
    /// paygate's payment id (`pay_...`).
    pub payment: String,
}

/// Answer of `POST /checkout/api/sessions/{id}/paypal/orders`: the order the buttons approve.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WidgetPaypalOrder {
    /// PayPal's order id, returned from the buttons' `createOrder`.
    pub order_id: String,
    pub payment: String,
}

/// Answer of `.../stripe/complete` and `.../paypal/orders/{id}/capture`: the session's state
/// after the server re-read the provider (the browser's word is never enough).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WidgetOutcome {
    pub session: CheckoutSessionStatus,
    /// The payment's status (`succeeded`, `requires_payment_method`, `processing`, ...).
    pub payment_status: super::PaymentStatus,
    pub payment: String,
    /// A message for the customer when the payment did not go through.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}
