//! Payment links: a reusable URL for a price (or an amount the customer chooses within bounds);
//! every customer who asks to pay through it gets a fresh checkout session.

use super::{Amount, CaptureMode, LineItem, LineItemRequest, Metadata, ProviderName};
use serde::{Deserialize, Serialize};

/// Body of `POST /v1/payment_links`: a fixed price (`amount`, or `line_items` the server sums)
/// or a `custom_amount` the customer chooses; exactly one of the three.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct CreatePaymentLink {
    /// ISO 4217 code.
    pub currency: String,
    /// Decimal string (`"25.00"`).
    #[serde(default)]
    pub amount: Option<String>,
    #[serde(default)]
    pub line_items: Vec<LineItemRequest>,
    #[serde(default)]
    pub custom_amount: Option<CustomAmountRequest>,
    /// What is sold, shown on the link's page and in the widget.
    #[serde(default)]
    pub description: Option<String>,
    /// Copied to every session opened from the link.
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
    #[serde(default)]
    pub restrictions: Option<PaymentLinkRestrictionsRequest>,
    /// Unix time (seconds) after which the link opens no more sessions; at most a year ahead.
    #[serde(default)]
    pub expires_at: Option<i64>,
}

/// Bounds of an amount the customer chooses (decimal strings, inclusive).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct CustomAmountRequest {
    pub minimum: String,
    pub maximum: String,
    /// The amount the form starts with; within the bounds.
    #[serde(default)]
    pub preset: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct PaymentLinkRestrictionsRequest {
    pub completed_sessions: CompletedSessionsLimit,
}

/// At most `limit` sessions are paid through the link (1 to 1,000,000).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct CompletedSessionsLimit {
    pub limit: i64,
}

/// Body of `POST /v1/payment_links/{id}`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct UpdatePaymentLink {
    /// `false` deactivates the link (its page opens no more sessions; sessions already open can
    /// still be paid), `true` activates it again.
    #[serde(default)]
    pub active: Option<bool>,
}

/// Why a link opens no session now.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum PaymentLinkUnavailable {
    /// The merchant deactivated it.
    Inactive,
    /// Past `expires_at`.
    Expired,
    /// `restrictions.completed_sessions.limit` sessions are paid.
    LimitReached,
}

/// A payment link as the merchant API returns it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PaymentLink {
    /// `plink_...`
    pub id: String,
    /// The merchant's switch.
    pub active: bool,
    /// Whether the link's page opens sessions now (active, not expired, limit not reached).
    pub available: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unavailable_reason: Option<PaymentLinkUnavailable>,
    /// The page to share with customers.
    pub url: String,
    pub currency: String,
    /// The fixed price; absent when the customer chooses the amount.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub amount: Option<Amount>,
    pub line_items: Vec<LineItem>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub custom_amount: Option<CustomAmount>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    pub metadata: Metadata,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub success_url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cancel_url: Option<String>,
    /// The providers the merchant allowed; empty: every enabled provider.
    pub providers: Vec<ProviderName>,
    pub capture_mode: CaptureMode,
    /// How many sessions opened from the link are paid.
    pub completed_sessions: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub restrictions: Option<PaymentLinkRestrictions>,
    /// Unix time, seconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<i64>,
    pub created: i64,
    pub updated: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CustomAmount {
    pub minimum: Amount,
    pub maximum: Amount,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub preset: Option<Amount>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PaymentLinkRestrictions {
    pub completed_sessions: CompletedSessions,
}

/// As Stripe's `restrictions.completed_sessions`: paid sessions so far and the limit.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CompletedSessions {
    pub count: i64,
    pub limit: i64,
}
