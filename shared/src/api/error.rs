use serde::{Deserialize, Serialize};

/// The one error envelope of every paygate answer (RFC 9457 `application/problem+json`), with a
/// stable machine-readable `code` and, when a field is at fault, `param`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Problem {
    /// A URI naming the problem type (`https://paygate.dev/errors/<code>`).
    #[serde(rename = "type")]
    pub type_uri: String,
    /// Short, human summary of the problem type.
    pub title: String,
    /// The HTTP status code.
    pub status: u16,
    /// What went wrong this time, safe to show to the caller.
    pub detail: String,
    /// Stable, machine-readable error code (`invalid_request`, `payment_declined`, ...).
    pub code: String,
    /// The request field at fault, when there is one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub param: Option<String>,
    /// The provider's decline code for declined payments (`insufficient_funds`, ...).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub decline_code: Option<String>,
    /// Further field-level problems.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<FieldError>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct FieldError {
    pub param: String,
    pub detail: String,
}
