use serde::{Deserialize, Serialize};

/// A payment event paygate emitted (what merchant webhooks carry); written in the same
/// transaction as the change it reports.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Event {
    /// `evt_...`
    pub id: String,
    /// `payment.created`, `payment.succeeded`, `checkout.session.created`, ...
    #[serde(rename = "type")]
    pub kind: String,
    /// The object's state after the change.
    pub data: serde_json::Value,
    /// Unix time, seconds.
    pub created: i64,
}
