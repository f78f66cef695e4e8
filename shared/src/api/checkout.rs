use super::{Amount, CaptureMode, Metadata, Payment, ProviderName};
use serde::{Deserialize, Serialize};

/// Body of `POST /v1/checkout/sessions`: either `amount` or `line_items` (the server sums them).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct CreateCheckoutSession {
    /// Decimal string (`"19.99"`); mutually exclusive with `line_items`.
    #[serde(default)]
    pub amount: Option<String>,
    /// ISO 4217 code.
    pub currency: String,
    #[serde(default)]
    pub line_items: Vec<LineItemRequest>,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub customer_email: Option<String>,
    #[serde(default)]
    pub metadata: Metadata,
    #[serde(default)]
    pub success_url: Option<String>,
    #[serde(default)]
    pub cancel_url: Option<String>,
    /// Providers the customer may choose from; default: every enabled provider.
    #[serde(default)]
    pub providers: Option<Vec<ProviderName>>,
    #[serde(default)]
    pub capture_mode: CaptureMode,
    /// Seconds until the session expires: 60 to 604800 (7 days); default 86400.
    #[serde(default)]
    pub expires_in: Option<i64>,
    /// The paygate customer (`cus_...`) paying: the widget shows their saved cards, and a card
    /// saved in this checkout is saved for them. Needs Stripe.
    #[serde(default)]
    pub customer: Option<String>,
    /// Whether the card paid with is saved for the customer's later payments (Stripe's
    /// `setup_future_usage: off_session`): `optional` shows a "save this card" box, `always`
    /// saves it (and leaves out PayPal, which cannot save one here). Needs `customer`.
    #[serde(default)]
    pub save_payment_method: Option<SavePaymentMethod>,
    /// `payment` (the default) charges the amount; `setup` charges nothing and saves the card
    /// the customer enters for `customer`'s later payments (Stripe's SetupIntents): it takes no
    /// `amount` or `line_items`, needs `customer`, and offers Stripe only.
    #[serde(default)]
    pub mode: CheckoutMode,
}

/// [`CreateCheckoutSession::mode`], as Stripe Checkout names it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum CheckoutMode {
    /// The customer pays the session's amount.
    #[default]
    Payment,
    /// The customer saves a card for later; nothing is charged and the amount is 0.
    Setup,
}

impl CheckoutMode {
    pub fn as_str(self) -> &'static str {
        match self {
            CheckoutMode::Payment => "payment",
            CheckoutMode::Setup => "setup",
        }
    }

    pub fn parse(s: &str) -> Option<CheckoutMode> {
        match s {
            "payment" => Some(CheckoutMode::Payment),
            "setup" => Some(CheckoutMode::Setup),
            _ => None,
        }
    }
}

/// [`CreateCheckoutSession::save_payment_method`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum SavePaymentMethod {
    /// The customer chooses, with a box in the widget.
    Optional,
    /// The card is saved whenever the payment succeeds; the widget says so.
    Always,
}

impl SavePaymentMethod {
    pub fn as_str(self) -> &'static str {
        match self {
            SavePaymentMethod::Optional => "optional",
            SavePaymentMethod::Always => "always",
        }
    }

    pub fn parse(s: &str) -> Option<SavePaymentMethod> {
        match s {
            "optional" => Some(SavePaymentMethod::Optional),
            "always" => Some(SavePaymentMethod::Always),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct LineItemRequest {
    pub name: String,
    /// Decimal string in the session's currency.
    pub unit_amount: String,
    /// 1 to 10000.
    pub quantity: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct LineItem {
    pub name: String,
    pub quantity: i64,
    pub unit_amount: Amount,
    pub total: Amount,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum CheckoutSessionStatus {
    /// Waiting for the customer.
    Open,
    /// Paid by exactly one successful payment.
    Complete,
    /// Past `expires_at` without a payment; accepts nothing.
    Expired,
}

impl CheckoutSessionStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            CheckoutSessionStatus::Open => "open",
            CheckoutSessionStatus::Complete => "complete",
            CheckoutSessionStatus::Expired => "expired",
        }
    }

    pub fn parse(s: &str) -> Option<CheckoutSessionStatus> {
        match s {
            "open" => Some(CheckoutSessionStatus::Open),
            "complete" => Some(CheckoutSessionStatus::Complete),
            "expired" => Some(CheckoutSessionStatus::Expired),
            _ => None,
        }
    }
}

/// A checkout session as the merchant API returns it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CheckoutSession {
    /// `cs_...`: carries 128 random bits; it is the widget's capability.
    pub id: String,
    pub status: CheckoutSessionStatus,
    #[serde(flatten)]
    pub amount: Amount,
    pub line_items: Vec<LineItem>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub customer_email: Option<String>,
    pub metadata: Metadata,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub success_url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cancel_url: Option<String>,
    /// Providers that can take this amount among those allowed.
    pub providers: Vec<ProviderName>,
    pub capture_mode: CaptureMode,
    /// The hosted checkout page.
    pub url: String,
    /// Unix time, seconds.
    pub expires_at: i64,
    pub created: i64,
    /// The payment that completed the session.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payment: Option<Payment>,
    /// The payment link (`plink_...`) the session was opened from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payment_link: Option<String>,
    /// The paygate customer paying (`cus_...`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub customer: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub save_payment_method: Option<SavePaymentMethod>,
    #[serde(default)]
    pub mode: CheckoutMode,
    /// `setup` mode: Stripe's SetupIntent (`seti_...`), once the customer opened the card form.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub setup_intent: Option<String>,
    /// `setup` mode: the card saved (`pm_...`, listed under the customer's payment methods)
    /// once the session is complete.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payment_method: Option<String>,
}
