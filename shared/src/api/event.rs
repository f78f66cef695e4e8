use serde::{Deserialize, Serialize};

/// The version of paygate's event envelope and of the objects it carries. An event keeps the
/// version it was written with.
pub const EVENTS_API_VERSION: &str = "2026-12-01";

/// An event paygate emitted, written in the same transaction as the change it reports. The same
/// envelope on every channel: `GET /v1/events` today, merchant webhooks and the event bus later.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Event {
    /// `evt_...`, unique and stable.
    pub id: String,
    /// One of `GET /v1/event_types`: `payment.succeeded`, `checkout.session.completed`, ...
    #[serde(rename = "type")]
    pub kind: String,
    /// Unix time, seconds.
    pub created: i64,
    /// The envelope's and the object's version ([`EVENTS_API_VERSION`] when written).
    pub api_version: String,
    /// `{"object": {...}}`: the full public object (payment, refund, checkout session,
    /// subscription, customer) as it was right after the change, plus `dispute` on
    /// `payment.dispute_opened`.
    pub data: serde_json::Value,
}

/// One type of event paygate emits (`GET /v1/event_types`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct EventType {
    /// `payment.succeeded`, ...
    #[serde(rename = "type")]
    pub kind: String,
    /// The kind of object in `data.object`: `payment`, `refund`, `checkout.session`,
    /// `subscription` or `customer`.
    pub object: String,
    /// When it fires.
    pub description: String,
}
