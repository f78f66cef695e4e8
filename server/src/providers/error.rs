use crate::error::ApiError;
use axum::http::StatusCode;

/// What a provider says about where its error is explained and where it logged the request:
/// Stripe's `doc_url`, `request_log_url` and `Request-Id` (docs.stripe.com/api/errors), PayPal's
/// `information_link` and `debug_id` (developer.paypal.com/api/rest/responses). Kept in the
/// payment's record of a refusal, so whoever reads it can find the provider's side.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ErrorReference {
    pub doc_url: Option<String>,
    pub request_log_url: Option<String>,
    pub request_id: Option<String>,
}

impl ErrorReference {
    /// The fields present, for a timeline entry's detail.
    pub fn to_json(&self) -> serde_json::Value {
        let mut out = serde_json::Map::new();
        for (name, value) in [
            ("doc_url", &self.doc_url),
            ("request_log_url", &self.request_log_url),
            ("request_id", &self.request_id),
        ] {
            if let Some(v) = value {
                out.insert(name.into(), serde_json::Value::String(v.clone()));
            }
        }
        serde_json::Value::Object(out)
    }
}

/// A provider call that failed, classified so the API can answer with the right status.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProviderError {
    /// The customer's payment method was refused (402); the payment stays open for another try.
    #[error("declined: {message}")]
    Declined {
        code: String,
        decline_code: Option<String>,
        /// Safe to show to the customer.
        message: String,
        /// Where the provider documents this refusal and logged the request (boxed: rarely
        /// read, and it would make every provider `Result` three times larger).
        reference: Box<ErrorReference>,
    },
    /// The provider rejected our request as invalid.
    #[error("invalid request: {message}")]
    InvalidRequest {
        message: String,
        param: Option<String>,
    },
    /// The object's state forbids the action (409).
    #[error("conflict: {message}")]
    Conflict { message: String },
    /// Our credentials were refused: a configuration problem (503).
    #[error("authentication with the provider failed")]
    Authentication,
    /// The provider is unreachable, overloaded or failing after our retries (503).
    #[error("provider unavailable: {message}")]
    Unavailable { message: String },
    /// The provider answered a failure it saved under the idempotency key when the request
    /// that first used the key failed (Stripe's replayed 500s): the outcome is as unknown as
    /// with `Unavailable`, and asking again with the same key cannot change the answer; see
    /// `providers::saved_failures`.
    #[error("provider replayed a saved failure: {message}")]
    SavedFailure { message: String },
    /// A webhook whose signature could not be verified (400).
    #[error("webhook not verified: {0}")]
    Unverified(String),
    /// A payload we cannot read.
    #[error("malformed provider data: {0}")]
    Malformed(String),
    /// The provider refused a request paygate built: a bug or a configuration mismatch on our
    /// side, not the caller's fault (502).
    #[error("provider rejected our request: {0}")]
    Rejected(String),
    /// The provider has no such operation.
    #[error("{0} is not supported by this provider")]
    Unsupported(&'static str),
}

impl From<ProviderError> for ApiError {
    fn from(e: ProviderError) -> ApiError {
        match e {
            ProviderError::Declined {
                code,
                decline_code,
                message,
                ..
            } => {
                let mut err =
                    ApiError::new(StatusCode::PAYMENT_REQUIRED, "payment_declined", message);
                err.decline_code = decline_code.or(Some(code));
                err
            }
            ProviderError::InvalidRequest { message, param } => {
                let mut err =
                    ApiError::new(StatusCode::BAD_REQUEST, "provider_invalid_request", message);
                err.param = param;
                err
            }
            ProviderError::Conflict { message } => ApiError::conflict("invalid_state", message),
            ProviderError::Authentication => {
                tracing::error!("the provider refused paygate's credentials: check the provider keys in the configuration");
                ApiError::unavailable(
                    "provider_unavailable",
                    "The payment provider is not available right now.",
                )
            }
            ProviderError::Unavailable { message } | ProviderError::SavedFailure { message } => {
                tracing::warn!(%message, "provider unavailable");
                ApiError::unavailable(
                    "provider_unavailable",
                    "The payment provider is not available right now.",
                )
            }
            // The reason (a URL, a client error) is for the log, where the receiving route
            // writes it; a caller probing the verifier learns only that it failed.
            ProviderError::Unverified(_) => {
                ApiError::bad_request("webhook_unverified", "The webhook could not be verified.")
            }
            ProviderError::Rejected(reason) => {
                tracing::error!(%reason, "the provider rejected a request paygate built");
                ApiError::new(
                    StatusCode::BAD_GATEWAY,
                    "provider_error",
                    "The payment provider rejected the request.",
                )
            }
            ProviderError::Unsupported(what) => ApiError::bad_request(
                "unsupported_operation",
                format!("This provider does not support {what}."),
            ),
            ProviderError::Malformed(reason) => ApiError::new(
                StatusCode::BAD_GATEWAY,
                "provider_error",
                format!("Unexpected provider response: {reason}."),
            ),
        }
    }
}
