//! Stripe's error JSON and statuses (docs.stripe.com/api/errors):
//! `{"error": {"type", "code", "decline_code", "message", "param", "payment_intent", ...}}`.
//! Absent fields are omitted, as Stripe omits them.

use axum::http::{HeaderName, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{json, Map, Value};

/// Marks a response that the idempotency layer must not save: Stripe validates parameters
/// before "endpoint execution begins", and such failures are not replayed.
#[derive(Clone, Copy, Debug)]
pub struct NotSaved;

#[derive(Debug, Clone)]
pub struct ApiError {
    pub status: StatusCode,
    fields: Map<String, Value>,
    /// Whether the idempotency layer saves this answer (errors after execution began).
    saved: bool,
    headers: Vec<(HeaderName, HeaderValue)>,
}

fn doc_url(code: &str) -> String {
    format!(
        "https://stripe.com/docs/error-codes/{}",
        code.replace('_', "-")
    )
}

impl ApiError {
    pub fn new(status: StatusCode, kind: &str, message: impl Into<String>) -> ApiError {
        let mut fields = Map::new();
        fields.insert("message".into(), Value::String(message.into()));
        fields.insert("type".into(), Value::String(kind.into()));
        ApiError {
            status,
            fields,
            saved: true,
            headers: Vec::new(),
        }
    }

    /// `invalid_request_error` with HTTP 400.
    pub fn invalid(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::BAD_REQUEST, "invalid_request_error", message)
    }

    /// A parameter-validation failure (not saved by the idempotency layer).
    pub fn invalid_param(param: &str, message: String) -> ApiError {
        ApiError::invalid(message).with_param(param).not_saved()
    }

    pub fn missing_parameter(param: &str) -> ApiError {
        ApiError::invalid_param(param, format!("Missing required param: {param}."))
            .with_code("parameter_missing")
    }

    pub fn unknown_parameter(param: &str) -> ApiError {
        ApiError::invalid_param(param, format!("Received unknown parameter: {param}"))
            .with_code("parameter_unknown")
    }

    /// 404 `resource_missing`: "No such payment_intent: 'pi_123'".
    pub fn no_such(kind: &str, id: &str, param: &str) -> ApiError {
        ApiError::new(
            StatusCode::NOT_FOUND,
            "invalid_request_error",
            format!("No such {kind}: '{id}'"),
        )
        .with_code("resource_missing")
        .with_param(param)
    }

    pub fn unrecognized_url(method: &str, path: &str) -> ApiError {
        ApiError::new(
            StatusCode::NOT_FOUND,
            "invalid_request_error",
            format!(
                "Unrecognized request URL ({method}: {path}). Please see https://stripe.com/docs or we can help at https://support.stripe.com/."
            ),
        )
        .not_saved()
    }

    pub fn no_api_key() -> ApiError {
        ApiError::new(
            StatusCode::UNAUTHORIZED,
            "invalid_request_error",
            "You did not provide an API key. You need to provide your API key in the Authorization header, using Bearer auth (e.g. 'Authorization: Bearer YOUR_SECRET_KEY'). See https://stripe.com/docs/api#authentication for details, or we can help at https://support.stripe.com/.",
        )
        .with_header("www-authenticate", "Basic realm=\"Stripe\"")
        .not_saved()
    }

    pub fn invalid_api_key(key: &str) -> ApiError {
        // Stripe shows the key's prefix and last four characters only.
        let shown = if key.is_ascii() && key.len() > 12 {
            format!(
                "{}{}{}",
                &key[..8],
                "*".repeat(key.len() - 12),
                &key[key.len() - 4..]
            )
        } else {
            "*".repeat(key.chars().count())
        };
        ApiError::new(
            StatusCode::UNAUTHORIZED,
            "invalid_request_error",
            format!("Invalid API Key provided: {shown}"),
        )
        .with_header("www-authenticate", "Basic realm=\"Stripe\"")
        .not_saved()
    }

    pub fn publishable_key_not_allowed() -> ApiError {
        ApiError::new(
            StatusCode::UNAUTHORIZED,
            "invalid_request_error",
            "This API call cannot be made with a publishable API key. Please use a secret API key. You can find a list of your API keys at https://dashboard.stripe.com/account/apikeys.",
        )
        .not_saved()
    }

    pub fn idempotency(message: String) -> ApiError {
        ApiError::new(StatusCode::BAD_REQUEST, "idempotency_error", message).not_saved()
    }

    pub fn with_code(mut self, code: &str) -> ApiError {
        self.fields
            .insert("code".into(), Value::String(code.into()));
        self.fields
            .insert("doc_url".into(), Value::String(doc_url(code)));
        self
    }

    pub fn with_param(mut self, param: &str) -> ApiError {
        self.fields
            .insert("param".into(), Value::String(param.into()));
        self
    }

    pub fn with_field(mut self, name: &str, value: Value) -> ApiError {
        self.fields.insert(name.into(), value);
        self
    }

    pub fn with_header(mut self, name: &'static str, value: &str) -> ApiError {
        if let Ok(v) = HeaderValue::from_str(value) {
            self.headers.push((HeaderName::from_static(name), v));
        }
        self
    }

    pub fn not_saved(mut self) -> ApiError {
        self.saved = false;
        self
    }

    pub fn param(&self) -> Option<&str> {
        self.fields.get("param").and_then(Value::as_str)
    }

    /// The inner `error` object.
    pub fn body(&self) -> Value {
        Value::Object(self.fields.clone())
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let saved = self.saved;
        let mut response =
            (self.status, axum::Json(json!({ "error": self.fields }))).into_response();
        for (name, value) in self.headers {
            response.headers_mut().insert(name, value);
        }
        if !saved {
            response.extensions_mut().insert(NotSaved);
        }
        response
    }
}

pub type ApiResult = Result<Response, ApiError>;

/// A 200 JSON answer.
pub fn ok(value: Value) -> ApiResult {
    Ok(axum::Json(value).into_response())
}
