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
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WidgetProvider {
    pub provider: ProviderName,
    /// Stripe publishable key or PayPal client id: public by design.
    pub public_key: String,
    /// Where the provider's script is loaded from (Stripe.js, PayPal JS SDK).
    pub script_url: String,
}
