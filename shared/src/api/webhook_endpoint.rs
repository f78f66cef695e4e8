use serde::{Deserialize, Serialize};

/// Where paygate pushes its events (`POST /v1/webhook_endpoints`), signed as the Standard
/// Webhooks specification says.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct WebhookEndpoint {
    /// `we_...`
    pub id: String,
    pub url: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Event types delivered: exact types, `*`, or prefixes such as `payment.*`.
    pub enabled_events: Vec<String>,
    /// `enabled` or `disabled`.
    pub status: String,
    /// Why paygate itself disabled the endpoint: `failing` (every attempt failed for 5 days).
    /// Absent while enabled, or when the merchant disabled it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub disabled_reason: Option<String>,
    /// Unix seconds of the first failed attempt since the last successful one; absent while the
    /// endpoint answers. Five days of failures from here disable it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failing_since: Option<i64>,
    /// The signing secret (`whsec_` + base64): only in the answer that made it (creation or
    /// rotation), never again.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret: Option<String>,
    /// Unix seconds.
    pub created: i64,
}

/// `POST /v1/webhook_endpoints`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct CreateWebhookEndpoint {
    pub url: String,
    pub enabled_events: Vec<String>,
    #[serde(default)]
    pub description: Option<String>,
}

/// `POST /v1/webhook_endpoints/{id}`: what is given changes.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct UpdateWebhookEndpoint {
    #[serde(default)]
    pub url: Option<String>,
    #[serde(default)]
    pub enabled_events: Option<Vec<String>>,
    #[serde(default)]
    pub description: Option<String>,
    /// `enabled` or `disabled`.
    #[serde(default)]
    pub status: Option<String>,
}

/// One event for one endpoint, with every attempt to deliver it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct WebhookDelivery {
    /// `whd_...`
    pub id: String,
    pub endpoint: String,
    /// The event's id (`evt_...`), also the `webhook-id` header of every attempt.
    pub event: String,
    pub event_type: String,
    /// `pending`, `delivered` or `failed` (every retry used).
    pub status: String,
    /// When the next attempt is due (Unix seconds), while pending.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_attempt_at: Option<i64>,
    pub attempts: Vec<WebhookAttempt>,
    pub created: i64,
}

/// One try at delivering an event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct WebhookAttempt {
    /// Unix milliseconds.
    pub at: i64,
    /// The endpoint's HTTP status, when it answered.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub http_status: Option<u16>,
    /// Why no answer came (connection refused, timeout, ...).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    pub latency_ms: i64,
    /// The start of the endpoint's answer (at most 1 KB).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub response_body: Option<String>,
}

/// `POST /v1/events/{id}/resend`: deliver the event again to one endpoint.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ResendEvent {
    pub endpoint: String,
}
