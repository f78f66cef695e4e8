//! PayPal's error bodies and statuses (developer.paypal.com/api/rest/responses, the specs' `error_*` schemas):
//!
//! - REST v2 (Orders, Payments): `{name, message, debug_id, details: [{field, value, location,
//!   issue, description}], links: [{href, rel: "information_link", method}]}`; 500 bodies have
//!   no `details`;
//! - Webhooks v1: the same plus a top-level `information_link`, with `VALIDATION_ERROR` for bad
//!   requests;
//! - OAuth2 (`/v1/oauth2/token`, and an unknown token on the v1 APIs): RFC 6749's
//!   `{error, error_description}`.
//!
//! Every answer carries a fresh `debug_id`, also sent as the `Paypal-Debug-Id` header.

use super::util::debug_id;
use axum::http::{HeaderName, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{json, Map, Value};

/// Which API's documentation the `information_link`s point at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Api {
    Orders,
    Payments,
    Webhooks,
    Disputes,
}

impl Api {
    fn doc(self) -> &'static str {
        match self {
            Api::Orders => "https://developer.paypal.com/docs/api/orders/v2/",
            Api::Payments => "https://developer.paypal.com/docs/api/payments/v2/",
            Api::Webhooks => "https://developer.paypal.com/docs/api/webhooks/v1/",
            Api::Disputes => "https://developer.paypal.com/docs/api/customer-disputes/v1/",
        }
    }
}

pub const MSG_400: &str =
    "Request is not well-formed, syntactically incorrect, or violates schema.";
pub const MSG_401: &str = "Authentication failed due to missing authorization header, or invalid authentication credentials.";
pub const MSG_403: &str = "Authorization failed due to insufficient permissions.";
pub const MSG_404: &str = "The specified resource does not exist.";
pub const MSG_405: &str = "The server does not implement the requested HTTP method.";
pub const MSG_409: &str = "The server has detected a conflict while processing this request.";
pub const MSG_422: &str = "The requested action could not be performed, semantically incorrect, or failed business validation.";
pub const MSG_429: &str = "Too many requests. Blocked due to rate limiting.";
pub const MSG_500: &str = "An internal server error occurred.";
pub const MSG_503: &str = "Service Unavailable.";

#[derive(Debug, Clone)]
pub struct Detail {
    pub field: Option<String>,
    pub value: Option<String>,
    pub location: &'static str,
    pub issue: String,
    pub description: String,
}

#[derive(Debug, Clone)]
enum Shape {
    Rest,
    Webhooks,
    OAuth { error: String, description: String },
}

/// A PayPal error answer (boxed: errors travel in `Result`s everywhere).
#[derive(Debug, Clone)]
pub struct ApiError(Box<ErrorData>);

#[derive(Debug, Clone)]
pub struct ErrorData {
    pub status: StatusCode,
    pub name: String,
    message: String,
    pub details: Vec<Detail>,
    links: Vec<Value>,
    api: Api,
    shape: Shape,
    headers: Vec<(HeaderName, HeaderValue)>,
}

impl std::ops::Deref for ApiError {
    type Target = ErrorData;

    fn deref(&self) -> &ErrorData {
        &self.0
    }
}

impl std::ops::DerefMut for ApiError {
    fn deref_mut(&mut self) -> &mut ErrorData {
        &mut self.0
    }
}

impl ApiError {
    pub fn new(status: StatusCode, name: &str, message: &str, api: Api) -> ApiError {
        ApiError(Box::new(ErrorData {
            status,
            name: name.into(),
            message: message.into(),
            details: Vec::new(),
            links: Vec::new(),
            api,
            shape: Shape::Rest,
            headers: Vec::new(),
        }))
    }

    /// 400 `INVALID_REQUEST` with one detail.
    pub fn invalid(
        api: Api,
        field: &str,
        value: Option<&str>,
        issue: &str,
        description: &str,
    ) -> ApiError {
        ApiError::new(StatusCode::BAD_REQUEST, "INVALID_REQUEST", MSG_400, api).detail(
            Some(field),
            value,
            "body",
            issue,
            description,
        )
    }

    /// 400 `MISSING_REQUIRED_PARAMETER` at `field`.
    pub fn missing(api: Api, field: &str) -> ApiError {
        ApiError::invalid(
            api,
            field,
            None,
            "MISSING_REQUIRED_PARAMETER",
            "A required field / parameter is missing.",
        )
    }

    /// 400 `INVALID_PARAMETER_SYNTAX` at `field`.
    pub fn syntax(api: Api, field: &str, value: Option<&str>) -> ApiError {
        ApiError::invalid(
            api,
            field,
            value,
            "INVALID_PARAMETER_SYNTAX",
            "The value of a field does not conform to the expected format.",
        )
    }

    /// 400 `INVALID_PARAMETER_VALUE` at `field`.
    pub fn bad_value(api: Api, field: &str, value: Option<&str>) -> ApiError {
        ApiError::invalid(
            api,
            field,
            value,
            "INVALID_PARAMETER_VALUE",
            "A parameter value is not valid.",
        )
    }

    /// 400 `INVALID_STRING_LENGTH` at `field`.
    pub fn length(api: Api, field: &str, value: Option<&str>) -> ApiError {
        ApiError::invalid(
            api,
            field,
            value,
            "INVALID_STRING_LENGTH",
            "The value of a field is either too short or too long.",
        )
    }

    /// 400 `MALFORMED_REQUEST_JSON`.
    pub fn malformed(api: Api) -> ApiError {
        ApiError::new(StatusCode::BAD_REQUEST, "INVALID_REQUEST", MSG_400, api).detail(
            None,
            None,
            "body",
            "MALFORMED_REQUEST_JSON",
            "The request JSON is not well formed.",
        )
    }

    /// 422 `UNPROCESSABLE_ENTITY` with one detail.
    pub fn unprocessable(
        api: Api,
        field: Option<&str>,
        value: Option<&str>,
        issue: &str,
        description: &str,
    ) -> ApiError {
        ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "UNPROCESSABLE_ENTITY",
            MSG_422,
            api,
        )
        .detail(field, value, "body", issue, description)
    }

    /// 404 `RESOURCE_NOT_FOUND` / `INVALID_RESOURCE_ID`.
    pub fn not_found(api: Api) -> ApiError {
        ApiError::new(StatusCode::NOT_FOUND, "RESOURCE_NOT_FOUND", MSG_404, api).detail(
            None,
            None,
            "path",
            "INVALID_RESOURCE_ID",
            "Specified resource ID does not exist. Please check the resource ID and try again.",
        )
    }

    /// 401 `AUTHENTICATION_FAILURE` (REST v2 APIs: missing, unknown or expired bearer token).
    pub fn authentication_failure(api: Api) -> ApiError {
        let mut e = ApiError::new(
            StatusCode::UNAUTHORIZED,
            "AUTHENTICATION_FAILURE",
            MSG_401,
            api,
        );
        e.links = vec![
            json!({"href": "https://developer.paypal.com/docs/api/overview/#error",
                              "rel": "information_link"}),
        ];
        e
    }

    /// 401 in the OAuth shape: `{"error":"invalid_token","error_description":"Access Token not
    /// found in cache"}` (what the v1 APIs answer for an unknown or expired token).
    pub fn invalid_token() -> ApiError {
        ApiError::oauth(
            StatusCode::UNAUTHORIZED,
            "invalid_token",
            "Access Token not found in cache",
        )
    }

    /// The token endpoint's errors (`invalid_client`, `unsupported_grant_type`).
    pub fn oauth(status: StatusCode, error: &str, description: &str) -> ApiError {
        let mut e = ApiError::new(status, error, description, Api::Orders);
        e.shape = Shape::OAuth {
            error: error.into(),
            description: description.into(),
        };
        e
    }

    /// 403 `NOT_AUTHORIZED` / `PERMISSION_DENIED`.
    pub fn permission_denied(api: Api) -> ApiError {
        ApiError::new(StatusCode::FORBIDDEN, "NOT_AUTHORIZED", MSG_403, api).detail(
            None,
            None,
            "body",
            "PERMISSION_DENIED",
            "You do not have permission to access or perform operations on this resource.",
        )
    }

    /// 409 `RESOURCE_CONFLICT` / `PREVIOUS_REQUEST_IN_PROGRESS`.
    pub fn in_progress(api: Api) -> ApiError {
        ApiError::new(StatusCode::CONFLICT, "RESOURCE_CONFLICT", MSG_409, api).detail(
            None,
            None,
            "body",
            "PREVIOUS_REQUEST_IN_PROGRESS",
            "A previous request on this resource is currently in progress. Please wait for sometime and try again. It is best to space out the initial and the subsequent request(s) to avoid receiving this error.",
        )
    }

    /// The Webhooks v1 API's validation error.
    pub fn webhooks_validation(field: &str, issue: &str) -> ApiError {
        let mut e = ApiError::new(
            StatusCode::BAD_REQUEST,
            "VALIDATION_ERROR",
            "Invalid request - see details",
            Api::Webhooks,
        )
        .detail(Some(field), None, "body", issue, issue);
        e.shape = Shape::Webhooks;
        e
    }

    /// A forced failure (fault knobs) or an internal error: 429, 500 or 503, no `details`.
    pub fn server(status: StatusCode, api: Api) -> ApiError {
        let (name, message) = match status.as_u16() {
            429 => ("RATE_LIMIT_REACHED", MSG_429),
            503 => ("SERVICE_UNAVAILABLE", MSG_503),
            _ => ("INTERNAL_SERVER_ERROR", MSG_500),
        };
        let mut e = ApiError::new(status, name, message, api);
        e.links = vec![json!({"href": format!("{}#error-{name}", api.doc()),
                              "rel": "information_link"})];
        e
    }

    pub fn detail(
        mut self,
        field: Option<&str>,
        value: Option<&str>,
        location: &'static str,
        issue: &str,
        description: &str,
    ) -> ApiError {
        self.details.push(Detail {
            field: field.map(str::to_string),
            value: value.map(str::to_string),
            location,
            issue: issue.into(),
            description: description.into(),
        });
        self
    }

    /// Adds a HATEOAS link (e.g. the `redirect` of `INSTRUMENT_DECLINED`).
    pub fn link(mut self, href: &str, rel: &str, method: &str) -> ApiError {
        self.links
            .push(json!({"href": href, "rel": rel, "method": method}));
        self
    }

    pub fn with_header(mut self, name: &'static str, value: &str) -> ApiError {
        if let Ok(v) = HeaderValue::from_str(value) {
            self.headers.push((HeaderName::from_static(name), v));
        }
        self
    }

    /// The first detail's issue code, for tests and logs.
    pub fn issue(&self) -> Option<&str> {
        self.details.first().map(|d| d.issue.as_str())
    }

    pub fn body(&self, debug: &str) -> Value {
        match &self.shape {
            Shape::OAuth { error, description } => {
                json!({"error": error, "error_description": description})
            }
            Shape::Rest | Shape::Webhooks => {
                let mut m = Map::new();
                m.insert("name".into(), json!(self.name));
                m.insert("message".into(), json!(self.message));
                m.insert("debug_id".into(), json!(debug));
                if !self.details.is_empty() {
                    let details: Vec<Value> = self
                        .details
                        .iter()
                        .map(|d| {
                            let mut o = Map::new();
                            if let Some(f) = &d.field {
                                o.insert("field".into(), json!(f));
                            }
                            if let Some(v) = &d.value {
                                o.insert("value".into(), json!(v));
                            }
                            o.insert("location".into(), json!(d.location));
                            o.insert("issue".into(), json!(d.issue));
                            o.insert("description".into(), json!(d.description));
                            Value::Object(o)
                        })
                        .collect();
                    m.insert("details".into(), Value::Array(details));
                }
                let mut links = self.links.clone();
                if links.is_empty() {
                    if let Some(issue) = self.issue() {
                        links.push(json!({"href": format!("{}#error-{issue}", self.api.doc()),
                                          "rel": "information_link", "method": "GET"}));
                    }
                } else if let Some(issue) = self.issue() {
                    links.insert(
                        0,
                        json!({"href": format!("{}#error-{issue}", self.api.doc()),
                               "rel": "information_link", "method": "GET"}),
                    );
                }
                if matches!(self.shape, Shape::Webhooks) {
                    m.insert(
                        "information_link".into(),
                        json!(format!("{}#error-{}", self.api.doc(), self.name)),
                    );
                }
                m.insert("links".into(), Value::Array(links));
                Value::Object(m)
            }
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let debug = debug_id();
        let mut response = (self.status, axum::Json(self.body(&debug))).into_response();
        let headers = response.headers_mut();
        if let Ok(v) = HeaderValue::from_str(&debug) {
            headers.insert("paypal-debug-id", v);
        }
        for (name, value) in self.0.headers {
            headers.insert(name, value);
        }
        response
    }
}

pub type ApiResult = Result<Response, ApiError>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shapes() {
        let e = ApiError::unprocessable(
            Api::Orders,
            Some("/purchase_units/@reference_id=='default'/amount/value"),
            Some("10.999"),
            "DECIMAL_PRECISION",
            "If the currency supports decimals, only two decimal place precision is supported.",
        );
        let b = e.body("80cb04a5dbea7");
        assert_eq!(b["name"], "UNPROCESSABLE_ENTITY");
        assert_eq!(b["details"][0]["issue"], "DECIMAL_PRECISION");
        assert_eq!(b["details"][0]["location"], "body");
        assert_eq!(
            b["links"][0]["href"],
            "https://developer.paypal.com/docs/api/orders/v2/#error-DECIMAL_PRECISION"
        );
        let s = ApiError::server(StatusCode::INTERNAL_SERVER_ERROR, Api::Orders).body("x");
        assert!(s.get("details").is_none());
        let o = ApiError::invalid_token().body("x");
        assert_eq!(
            o,
            json!({"error": "invalid_token", "error_description": "Access Token not found in cache"})
        );
    }
}
