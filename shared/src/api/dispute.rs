//! Disputes: a customer's bank contesting a payment (or asking about it first: an inquiry), as
//! the provider reports it, and the merchant's response.

use super::Amount;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// A dispute as the merchant API returns it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Dispute {
    /// `dsp_...`
    pub id: String,
    /// The disputed payment (`pay_...`).
    pub payment: String,
    pub provider: super::ProviderName,
    /// The provider's id (`du_...` at Stripe).
    pub provider_reference: String,
    #[serde(flatten)]
    pub amount: Amount,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// The provider's status: `needs_response`, `under_review`, `won`, `lost`, or for an
    /// inquiry `warning_needs_response`, `warning_under_review`, `warning_closed`.
    pub status: String,
    /// Whether the merchant can still respond (submit evidence or accept).
    pub needs_response: bool,
    /// Unix time (seconds) when the time to respond ends.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub evidence_due_by: Option<i64>,
    /// How many times evidence was submitted.
    pub submission_count: i64,
    pub created: i64,
    pub updated: i64,
}

/// Body of `POST /v1/disputes/{id}`: text evidence, submitted to the bank unless `submit` is
/// false (then only staged at the provider).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct SubmitDisputeEvidence {
    /// Stripe's text evidence fields (`customer_name`, `product_description`,
    /// `shipping_tracking_number`, `uncategorized_text`, ...), each up to 20,000 characters.
    pub evidence: BTreeMap<String, String>,
    #[serde(default = "yes")]
    pub submit: bool,
}

fn yes() -> bool {
    true
}

/// The text evidence fields a dispute response may carry (Stripe's dispute `evidence`).
pub const DISPUTE_TEXT_EVIDENCE: &[&str] = &[
    "access_activity_log",
    "billing_address",
    "cancellation_policy_disclosure",
    "cancellation_rebuttal",
    "customer_email_address",
    "customer_name",
    "customer_purchase_ip",
    "duplicate_charge_explanation",
    "duplicate_charge_id",
    "product_description",
    "refund_policy_disclosure",
    "refund_refusal_explanation",
    "service_date",
    "shipping_address",
    "shipping_carrier",
    "shipping_date",
    "shipping_tracking_number",
    "uncategorized_text",
];
