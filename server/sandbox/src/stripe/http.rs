//! The layer every `/v1` call passes through, in Stripe's order: a `Request-Id`; the raw body
//! kept for the tests' audit; the fault knobs; the key check (401); the `Idempotency-Key`
//! layer (replay, mismatch, in flight); then execution (after any added latency) in a task of
//! its own, so that, as at Stripe, a request whose client went away still completes and its
//! idempotent result is saved.

use super::error::{ApiError, NotSaved};
use super::form::Params;
use super::idempotency::{self, Begin, Saved, MAX_KEY_LEN};
use super::store::{Origin, View, API_VERSION};
use super::App;
use crate::common::http::{dropped_connection, run_detached, MAX_BODY};
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::response::Parts;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use base64::Engine;
use bytes::Bytes;
use serde_json::{json, Value};

/// The caller of one API request.
#[derive(Debug, Clone)]
pub struct Ctx {
    pub request_id: String,
    pub idempotency_key: Option<String>,
    pub key: View,
}

impl Ctx {
    pub fn origin(&self) -> Origin {
        Origin {
            request_id: Some(self.request_id.clone()),
            idempotency_key: self.idempotency_key.clone(),
        }
    }

    pub fn require_secret(&self) -> Result<(), ApiError> {
        match self.key {
            View::Secret => Ok(()),
            View::Publishable => Err(ApiError::publishable_key_not_allowed()),
        }
    }
}

pub fn new_request_id() -> String {
    let id = crate::ids::new_id("req");
    id.chars().take(18).collect()
}

/// Which key the request carries: Bearer, or Basic with the key as user name.
pub fn authenticate(headers: &HeaderMap, app: &App) -> Result<View, ApiError> {
    let Some(value) = headers.get(axum::http::header::AUTHORIZATION) else {
        return Err(ApiError::no_api_key());
    };
    let value = value.to_str().unwrap_or("").trim();
    let key = if let Some(token) = value
        .strip_prefix("Bearer ")
        .or_else(|| value.strip_prefix("bearer "))
    {
        token.trim().to_string()
    } else if let Some(encoded) = value
        .strip_prefix("Basic ")
        .or_else(|| value.strip_prefix("basic "))
    {
        let decoded = base64::engine::general_purpose::STANDARD
            .decode(encoded.trim())
            .ok()
            .and_then(|b| String::from_utf8(b).ok())
            .unwrap_or_default();
        decoded.split(':').next().unwrap_or("").to_string()
    } else {
        value.to_string()
    };
    if key.is_empty() {
        return Err(ApiError::no_api_key());
    }
    if key == app.config.secret_key {
        Ok(View::Secret)
    } else if key == app.config.publishable_key {
        Ok(View::Publishable)
    } else {
        Err(ApiError::invalid_api_key(&key))
    }
}

fn forced_failure(status: u16, should_retry: Option<bool>, retry_after: Option<u64>) -> Response {
    let (code, body) = match status {
        429 => (
            StatusCode::TOO_MANY_REQUESTS,
            json!({"error": {"code": "rate_limit", "doc_url": "https://stripe.com/docs/error-codes/rate-limit",
                "message": "Too many requests hit the API too quickly. We recommend an exponential backoff of your requests.",
                "type": "invalid_request_error"}}),
        ),
        s => (
            StatusCode::from_u16(s).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
            unknown_error(),
        ),
    };
    let mut response = (code, axum::Json(body)).into_response();
    if let Some(retry) = should_retry {
        response.headers_mut().insert(
            "stripe-should-retry",
            HeaderValue::from_static(if retry { "true" } else { "false" }),
        );
    }
    if status == 429 {
        let seconds = retry_after.unwrap_or(1);
        if let Ok(v) = HeaderValue::from_str(&seconds.to_string()) {
            response.headers_mut().insert("retry-after", v);
        }
    }
    response
}

pub async fn api_layer(State(app): State<App>, req: Request, next: Next) -> Response {
    let request_id = new_request_id();
    let now_secs = app.config.clock.now_ms() / 1000;
    let response = handle(app, req, next, request_id.clone()).await;
    let mut response = with_request_log_url(response, &request_id, now_secs).await;
    let headers = response.headers_mut();
    if let Ok(v) = HeaderValue::from_str(&request_id) {
        headers.insert("request-id", v);
    }
    headers.insert("stripe-version", HeaderValue::from_static(API_VERSION));
    response
}

async fn handle(app: App, req: Request, next: Next, request_id: String) -> Response {
    let (mut parts, body) = req.into_parts();
    let bytes = match axum::body::to_bytes(body, MAX_BODY).await {
        Ok(b) => b,
        Err(_) => {
            return ApiError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "invalid_request_error",
                "The request body is too large.",
            )
            .into_response()
        }
    };
    app.bodies.record(&bytes);
    let now_ms = app.config.clock.now_ms();
    app.idempotency
        .lock()
        .expect("idempotency lock")
        .prune(now_ms);
    let base = app.config.public_base.clone();
    app.run(|store| super::subscriptions::sweep(store, &base));

    let (plan, should_retry, fail_after_execution) = {
        let mut faults = app.faults.lock().expect("faults lock");
        let plan = faults.plan();
        let after = plan.fail.is_none() && !plan.reset && faults.fails_after_execution();
        (plan, faults.extra.should_retry, after)
    };
    if plan.reset {
        return dropped_connection();
    }
    if let Some((status, retry_after)) = plan.fail {
        return forced_failure(status, should_retry, retry_after);
    }

    let key = match authenticate(&parts.headers, &app) {
        Ok(k) => k,
        Err(e) => return e.into_response(),
    };
    let params = if parts.method == Method::POST {
        Params::parse(&String::from_utf8_lossy(&bytes))
    } else {
        Params::parse(parts.uri.query().unwrap_or(""))
    };

    // Stripe ignores Idempotency-Key on GET and DELETE.
    let idem_key = if parts.method == Method::POST {
        match parts.headers.get("idempotency-key") {
            None => None,
            Some(v) => match v.to_str() {
                Ok(k) if !k.is_empty() && k.len() <= MAX_KEY_LEN => Some(k.to_string()),
                Ok(k) if k.len() > MAX_KEY_LEN => {
                    return ApiError::invalid(format!(
                        "Invalid Idempotency-Key: the key must be at most {MAX_KEY_LEN} characters long (got {}).",
                        k.len()
                    ))
                    .not_saved()
                    .into_response()
                }
                _ => {
                    return ApiError::invalid("Invalid Idempotency-Key: the key must be a non-empty ASCII string.")
                        .not_saved()
                        .into_response()
                }
            },
        }
    } else {
        None
    };

    if let Some(k) = &idem_key {
        let endpoint = format!("{} {}", parts.method, parts.uri.path());
        let begin = app.idempotency.lock().expect("idempotency lock").begin(
            k,
            &endpoint,
            &params.canonical(),
            now_ms,
        );
        match begin {
            Begin::Fresh if app.faults.lock().expect("faults lock").fails_saved() => {
                app.idempotency
                    .lock()
                    .expect("idempotency lock")
                    .finish(k, Some(saved_unknown_error(request_id.clone())));
                return unknown_error_response();
            }
            Begin::Fresh => {}
            Begin::Replay(saved) => return replay(saved, k, plan.lose_response),
            Begin::InFlight => return idempotency::in_flight(k).into_response(),
            Begin::Refused(e) => return e.into_response(),
        }
    }

    parts.extensions.insert(Ctx {
        request_id: request_id.clone(),
        idempotency_key: idem_key.clone(),
        key,
    });
    parts.extensions.insert(params);
    let req = Request::from_parts(parts, Body::from(bytes));
    let task_app = app.clone();
    let task_key = idem_key.clone();
    // The answer is saved, unless the handler marked it as given before "endpoint execution
    // begins" (parameter validation). With `fail_after_execution_next`, what is saved (and
    // answered) is a 500 instead of what the endpoint did.
    let save = move |parts: &Parts, body: &Bytes| {
        if let Some(k) = &task_key {
            let not_saved = parts.extensions.get::<NotSaved>().is_some();
            let saved = (!not_saved).then(|| {
                if fail_after_execution {
                    saved_unknown_error(request_id)
                } else {
                    Saved {
                        status: parts.status,
                        body: body.clone(),
                        request_id,
                    }
                }
            });
            task_app
                .idempotency
                .lock()
                .expect("idempotency lock")
                .finish(k, saved);
        }
    };
    let mut response = match run_detached(req, next, plan.latency, save).await {
        Some(r) => r,
        None => {
            if let Some(k) = &idem_key {
                app.idempotency
                    .lock()
                    .expect("idempotency lock")
                    .finish(k, None);
            }
            ApiError::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                "api_error",
                "An unknown error occurred while processing your request.",
            )
            .into_response()
        }
    };
    if plan.lose_response {
        return dropped_connection();
    }
    if fail_after_execution {
        response = unknown_error_response();
    }
    if let Some(k) = &idem_key {
        if let Ok(v) = HeaderValue::from_str(k) {
            response.headers_mut().insert("idempotency-key", v);
        }
    }
    response
}

/// Every error body names "a URL to the request log entry in your dashboard"
/// (`request_log_url`, docs.stripe.com/api/errors). A replayed answer points at the request that
/// made it (its `Original-Request`), as the saved body is that request's.
async fn with_request_log_url(response: Response, request_id: &str, now_secs: i64) -> Response {
    if response.status().is_success() || response.status() == StatusCode::SWITCHING_PROTOCOLS {
        return response;
    }
    let logged = response
        .headers()
        .get("original-request")
        .and_then(|v| v.to_str().ok())
        .unwrap_or(request_id)
        .to_string();
    let (parts, body) = response.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, MAX_BODY).await else {
        return dropped_connection();
    };
    let body = match serde_json::from_slice::<Value>(&bytes) {
        Ok(mut v) if v.get("error").is_some_and(Value::is_object) => {
            if v["error"].get("request_log_url").is_none() {
                v["error"]["request_log_url"] = Value::String(format!(
                    "https://dashboard.stripe.com/test/logs/{logged}?t={now_secs}"
                ));
            }
            Bytes::from(v.to_string())
        }
        _ => bytes,
    };
    let mut response = Response::from_parts(parts, Body::from(body));
    response
        .headers_mut()
        .remove(axum::http::header::CONTENT_LENGTH);
    response
}

/// Stripe's body for an error of its own (forced failures, `fail_after_execution_next`).
fn unknown_error() -> Value {
    json!({"error": {"message": "An unknown error occurred while processing your request. Please try again later.",
        "type": "api_error"}})
}

/// A 500 with [`unknown_error`]'s body.
fn unknown_error_response() -> Response {
    (
        StatusCode::INTERNAL_SERVER_ERROR,
        axum::Json(unknown_error()),
    )
        .into_response()
}

/// The same 500, as saved under an idempotency key for request `request_id`.
fn saved_unknown_error(request_id: String) -> Saved {
    Saved {
        status: StatusCode::INTERNAL_SERVER_ERROR,
        body: Bytes::from(unknown_error().to_string()),
        request_id,
    }
}

fn replay(saved: Saved, key: &str, lose: bool) -> Response {
    if lose {
        return dropped_connection();
    }
    let mut response = Response::new(Body::from(saved.body));
    *response.status_mut() = saved.status;
    let headers = response.headers_mut();
    headers.insert(
        axum::http::header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    headers.insert("idempotent-replayed", HeaderValue::from_static("true"));
    if let Ok(v) = HeaderValue::from_str(&saved.request_id) {
        headers.insert("original-request", v);
    }
    if let Ok(v) = HeaderValue::from_str(key) {
        headers.insert("idempotency-key", v);
    }
    response
}

/// Unknown paths and methods: Stripe's 404.
pub async fn unrecognized(method: Method, uri: axum::http::Uri) -> Response {
    ApiError::unrecognized_url(method.as_str(), uri.path()).into_response()
}

/// Stripe's API answers browsers from any origin (Stripe.js calls it from merchants' pages
/// with the publishable key).
pub fn cors() -> tower_http::cors::CorsLayer {
    use axum::http::header::{AUTHORIZATION, CONTENT_TYPE};
    use axum::http::HeaderName;
    tower_http::cors::CorsLayer::new()
        .allow_origin(tower_http::cors::Any)
        .allow_methods([Method::GET, Method::POST, Method::DELETE])
        .allow_headers([
            AUTHORIZATION,
            CONTENT_TYPE,
            HeaderName::from_static("idempotency-key"),
            HeaderName::from_static("stripe-version"),
        ])
        .expose_headers([HeaderName::from_static("request-id")])
}
