use super::{Amount, Metadata};
use serde::{Deserialize, Serialize};

/// Body of `POST /v1/refunds`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct CreateRefund {
    /// The payment to refund (`pay_...`).
    pub payment: String,
    /// Decimal string in the payment's currency; default: everything not yet refunded.
    #[serde(default)]
    pub amount: Option<String>,
    /// `duplicate`, `fraudulent` or `requested_by_customer`.
    #[serde(default)]
    pub reason: Option<RefundReason>,
    #[serde(default)]
    pub metadata: Metadata,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum RefundReason {
    Duplicate,
    Fraudulent,
    RequestedByCustomer,
}

impl RefundReason {
    pub fn as_str(self) -> &'static str {
        match self {
            RefundReason::Duplicate => "duplicate",
            RefundReason::Fraudulent => "fraudulent",
            RefundReason::RequestedByCustomer => "requested_by_customer",
        }
    }
}

/// A refund: its own record; the payment's `refunded_minor` counts the succeeded ones.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Refund {
    /// `re_...`
    pub id: String,
    pub payment: String,
    /// `pending`, `succeeded` or `failed`.
    pub status: String,
    #[serde(flatten)]
    pub amount: Amount,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub provider_reference: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failure_reason: Option<String>,
    pub created: i64,
    pub updated: i64,
}
