use super::{Amount, Metadata, PaymentStatus};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ProviderName {
    Stripe,
    Paypal,
}

impl ProviderName {
    pub const ALL: [ProviderName; 2] = [ProviderName::Stripe, ProviderName::Paypal];

    pub fn as_str(self) -> &'static str {
        match self {
            ProviderName::Stripe => "stripe",
            ProviderName::Paypal => "paypal",
        }
    }

    pub fn parse(s: &str) -> Option<ProviderName> {
        ProviderName::ALL.into_iter().find(|p| p.as_str() == s)
    }

    /// The provider's name as people write it.
    pub fn display_name(self) -> &'static str {
        match self {
            ProviderName::Stripe => "Stripe",
            ProviderName::Paypal => "PayPal",
        }
    }
}

impl std::fmt::Display for ProviderName {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// When funds are taken: at once, or later through `POST /v1/payments/{id}/capture`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum CaptureMode {
    #[default]
    Automatic,
    Manual,
}

impl CaptureMode {
    pub fn as_str(self) -> &'static str {
        match self {
            CaptureMode::Automatic => "automatic",
            CaptureMode::Manual => "manual",
        }
    }

    pub fn parse(s: &str) -> Option<CaptureMode> {
        match s {
            "automatic" => Some(CaptureMode::Automatic),
            "manual" => Some(CaptureMode::Manual),
            _ => None,
        }
    }
}

/// Body of `POST /v1/payments`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct CreatePayment {
    pub provider: ProviderName,
    /// Decimal string, at most the currency's number of fraction digits (`"19.99"`).
    pub amount: String,
    /// ISO 4217 code.
    pub currency: String,
    #[serde(default)]
    pub description: Option<String>,
    /// A paygate customer id (`cus_...`).
    #[serde(default)]
    pub customer: Option<String>,
    /// At most 49 keys (Stripe's 50 less paygate's own `paygate_payment_id`); keys starting
    /// with `paygate_` are refused.
    #[serde(default)]
    pub metadata: Metadata,
    #[serde(default)]
    pub capture_mode: CaptureMode,
    /// Where the provider sends the customer back after an approval step (PayPal, 3-D Secure).
    #[serde(default)]
    pub return_url: Option<String>,
    /// A card saved for `customer` (`pm_...`, from `GET /v1/customers/{id}/payment_methods`),
    /// charged at once without the customer; needs `off_session: true` (Stripe).
    #[serde(default)]
    pub payment_method: Option<String>,
    /// The customer is not present: when the bank asks for authentication the payment stays
    /// `requires_action`, with a `next_action.url` of a paygate page where the customer
    /// completes it.
    #[serde(default)]
    pub off_session: bool,
}

/// Why the last attempt failed (a decline leaves the payment open for another try).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PaymentError {
    pub code: String,
    pub message: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub decline_code: Option<String>,
    /// The provider's page about this error (Stripe's `doc_url`, PayPal's `information_link`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub doc_url: Option<String>,
}

/// What the customer must do next, when the provider asks for an action.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct NextAction {
    /// `redirect_to_url` (PayPal approval, 3-D Secure), `use_stripe_sdk` (Stripe.js), or
    /// `authenticate`: an off-session charge the bank wants the customer to authenticate, at
    /// `url` (a paygate page to send them to).
    #[serde(rename = "type")]
    pub kind: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
}

/// A payment: one provider object (a PaymentIntent, or a PayPal order).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Payment {
    /// `pay_...`
    pub id: String,
    pub provider: ProviderName,
    /// The provider's id for the object (PaymentIntent id, PayPal order id).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub provider_reference: Option<String>,
    pub status: PaymentStatus,
    #[serde(flatten)]
    pub amount: Amount,
    pub captured_minor: i64,
    pub refunded_minor: i64,
    /// What the payment's disputes hold back: open ones (not inquiries) and Stripe disputes
    /// lost (a PayPal case lost returns the money through a refund or reversal instead).
    #[serde(default)]
    pub disputed_minor: i64,
    pub capture_mode: CaptureMode,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub customer: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub checkout_session: Option<String>,
    /// The payment link (`plink_...`) whose session this payment pays.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payment_link: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_error: Option<PaymentError>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_action: Option<NextAction>,
    /// The saved card charged off session (`pm_...`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payment_method: Option<String>,
    pub metadata: Metadata,
    /// Unix time, seconds.
    pub created: i64,
    pub updated: i64,
}

/// Body of `POST /v1/payments/{id}/confirm`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ConfirmPayment {
    /// A provider payment method id (Stripe `pm_...`).
    pub payment_method: String,
}

/// Body of `POST /v1/payments/{id}/capture`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct CapturePayment {
    /// Decimal string up to the payment's amount; default: all of it.
    #[serde(default)]
    pub amount: Option<String>,
}
