use super::{Amount, CheckoutSessionStatus, LineItem, ProviderName};
use serde::{Deserialize, Serialize};

/// What the widget shows for a checkout session (`GET /checkout/api/sessions/{id}`): nothing
/// secret, nothing the browser could use to change the amount.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WidgetSession {
    pub id: String,
    pub merchant_name: String,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(flatten)]
    pub amount: Amount,
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
