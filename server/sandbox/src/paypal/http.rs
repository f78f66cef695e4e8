//! The layer every API call (`/v1/oauth2/token`, `/v1/notifications/...`, `/v2/...`) passes
//! through: the raw body kept for the tests' audit; the fault knobs; the bearer token check
//! (401); `PayPal-Request-Id` (replay, in flight); `Prefer`; then execution (after any added
//! latency) in a task of its own, so that, as at PayPal, a request whose client went away
//! still completes and its result is kept for a retry with the same id.

use super::error::{Api, ApiError};
use super::idempotency::{Begin, Produced, MAX_ID_LEN};
use super::oauth::{bearer, TokenKind};
use super::store::OrderView;
use super::util::debug_id;
use super::App;
use crate::common::http::{dropped_connection, run_detached, MAX_BODY};
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::response::Parts;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use serde_json::{json, Value};

/// What a handler knows about its caller.
#[derive(Debug, Clone)]
pub struct Ctx {
    /// `Prefer: return=representation` (else minimal, PayPal's default).
    pub representation: bool,
}

/// Which API a path belongs to (for error links).
pub fn api_for(path: &str) -> Api {
    if path.contains("/v2/payments/") {
        Api::Payments
    } else if path.contains("/v1/notifications/") {
        Api::Webhooks
    } else {
        Api::Orders
    }
}

fn forced_failure(status: u16, retry_after: Option<u64>, api: Api) -> Response {
    let code = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let mut e = ApiError::server(code, api);
    if status == 429 {
        e = e.with_header("retry-after", &retry_after.unwrap_or(1).to_string());
    }
    e.into_response()
}

fn wants_representation(headers: &HeaderMap) -> bool {
    headers
        .get_all("prefer")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|p| p.trim().eq_ignore_ascii_case("return=representation"))
}

/// A JSON answer with a `Paypal-Debug-Id`.
pub fn json_response(status: StatusCode, value: Value) -> Response {
    let mut response = (status, axum::Json(value)).into_response();
    if let Ok(v) = HeaderValue::from_str(&debug_id()) {
        response.headers_mut().insert("paypal-debug-id", v);
    }
    response
}

/// Renders what a successful POST produced, for its first answer (`replay` false: 201) or a
/// `PayPal-Request-Id` repeat (200), with the caller's `Prefer`.
pub fn render(app: &App, produced: &Produced, representation: bool, replay: bool) -> Response {
    if let Produced::Refused { status, body } = produced {
        let status = StatusCode::from_u16(*status).unwrap_or(StatusCode::UNPROCESSABLE_ENTITY);
        let mut response = (status, body.clone()).into_response();
        response.headers_mut().insert(
            axum::http::header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
        if let Ok(v) = HeaderValue::from_str(&debug_id()) {
            response.headers_mut().insert("paypal-debug-id", v);
        }
        return response;
    }
    let created = if replay {
        StatusCode::OK
    } else {
        StatusCode::CREATED
    };
    let store = app.store.lock().expect("store lock");
    let found = match produced {
        Produced::OrderCreated(id) => store.orders.get(id).map(|o| {
            let view = if representation {
                OrderView::Full
            } else {
                OrderView::CreateMinimal
            };
            (created, Some(store.order_json(o, view)))
        }),
        Produced::OrderAction(id) => store.orders.get(id).map(|o| {
            let view = if representation {
                OrderView::Full
            } else {
                OrderView::ActionMinimal
            };
            (created, Some(store.order_json(o, view)))
        }),
        Produced::Capture(id) => store.captures.get(id).map(|c| {
            let full = store.capture_json(c, true);
            (
                created,
                Some(if representation { full } else { minimal(&full) }),
            )
        }),
        Produced::Refund(id) => store.refunds.get(id).map(|r| {
            let full = store.refund_json(r);
            (
                created,
                Some(if representation { full } else { minimal(&full) }),
            )
        }),
        Produced::Void(id) => store.authorizations.get(id).map(|a| {
            if representation {
                (StatusCode::OK, Some(store.authorization_json(a, true)))
            } else {
                (StatusCode::NO_CONTENT, None)
            }
        }),
        Produced::Refused { .. } => unreachable!("answered above"),
    };
    drop(store);
    let mut response = match found {
        Some((status, Some(v))) => json_response(status, v),
        Some((status, None)) => {
            let mut r = status.into_response();
            if let Ok(v) = HeaderValue::from_str(&debug_id()) {
                r.headers_mut().insert("paypal-debug-id", v);
            }
            r
        }
        None => ApiError::server(StatusCode::INTERNAL_SERVER_ERROR, Api::Orders).into_response(),
    };
    response.extensions_mut().insert(produced.clone());
    response
}

/// Payments v2's minimal answer: `id`, `status`, `links`.
fn minimal(full: &Value) -> Value {
    json!({"id": full["id"], "status": full["status"], "links": full["links"]})
}

pub async fn api_layer(State(app): State<App>, req: Request, next: Next) -> Response {
    let (mut parts, body) = req.into_parts();
    let path = parts.uri.path().to_string();
    let api = api_for(&path);
    let bytes = match axum::body::to_bytes(body, MAX_BODY).await {
        Ok(b) => b,
        Err(_) => return ApiError::malformed(api).into_response(),
    };
    app.bodies.record(&bytes);
    let now_ms = app.config.clock.now_ms();
    app.request_ids
        .lock()
        .expect("request ids lock")
        .prune(now_ms);
    app.run(|store| store.sweep());

    let plan = app.faults.lock().expect("faults lock").plan();
    if plan.reset {
        return dropped_connection();
    }
    if let Some((status, retry_after)) = plan.fail {
        return forced_failure(status, retry_after, api);
    }

    let is_token_endpoint = path.ends_with("/v1/oauth2/token");
    let token = if is_token_endpoint {
        None
    } else {
        let kind = bearer(&parts.headers)
            .and_then(|t| app.tokens.lock().expect("tokens lock").check(&t, now_ms));
        match kind {
            Some(k) => Some(k),
            // The v1 APIs answer in OAuth's shape, the v2 APIs with AUTHENTICATION_FAILURE.
            None if api == Api::Webhooks => return ApiError::invalid_token().into_response(),
            None => return ApiError::authentication_failure(api).into_response(),
        }
    };
    if token == Some(TokenKind::Facilitator)
        && !(parts.method == Method::GET && path.contains("/v2/checkout/orders/"))
    {
        return ApiError::permission_denied(api).into_response();
    }
    let representation = wants_representation(&parts.headers);

    let request_id = if parts.method == Method::POST && path.contains("/v2/") {
        match parts.headers.get("paypal-request-id").map(|v| v.to_str()) {
            None => None,
            Some(Ok(id)) if !id.is_empty() && id.len() <= MAX_ID_LEN => Some(id.to_string()),
            Some(v) => {
                let shown = v.unwrap_or("");
                return ApiError::new(
                    StatusCode::BAD_REQUEST,
                    "INVALID_REQUEST",
                    super::error::MSG_400,
                    api,
                )
                .detail(
                    Some("PayPal-Request-Id"),
                    Some(shown),
                    "body",
                    "INVALID_STRING_LENGTH",
                    "The value of a field is either too short or too long.",
                )
                .into_response();
            }
        }
    } else {
        None
    };
    let endpoint = format!("{} {}", parts.method, path);
    if let Some(id) = &request_id {
        let begin = app
            .request_ids
            .lock()
            .expect("request ids lock")
            .begin(&endpoint, id, now_ms);
        match begin {
            Begin::Fresh => {}
            Begin::Replay(produced) => {
                if plan.lose_response {
                    return dropped_connection();
                }
                return render(&app, &produced, representation, true);
            }
            Begin::InFlight => return ApiError::in_progress(api).into_response(),
        }
    }

    parts.extensions.insert(Ctx { representation });
    let req = Request::from_parts(parts, Body::from(bytes));
    let task_app = app.clone();
    let task_id = request_id.clone();
    let task_endpoint = endpoint.clone();
    // Successful results (what they produced, rendered again on a repeat) and business
    // refusals (the answer itself) are kept; see `idempotency`.
    let keep = move |parts: &Parts, body: &Bytes| {
        if let Some(id) = &task_id {
            let produced = if parts.status.is_success() {
                parts.extensions.get::<Produced>().cloned()
            } else if parts.status == StatusCode::UNPROCESSABLE_ENTITY {
                Some(Produced::Refused {
                    status: parts.status.as_u16(),
                    body: body.clone(),
                })
            } else {
                None
            };
            task_app
                .request_ids
                .lock()
                .expect("request ids lock")
                .finish(&task_endpoint, id, produced);
        }
    };
    let response = match run_detached(req, next, plan.latency, keep).await {
        Some(r) => r,
        None => {
            if let Some(id) = &request_id {
                app.request_ids
                    .lock()
                    .expect("request ids lock")
                    .finish(&endpoint, id, None);
            }
            ApiError::server(StatusCode::INTERNAL_SERVER_ERROR, api).into_response()
        }
    };
    if plan.lose_response {
        return dropped_connection();
    }
    response
}

/// Unknown paths: 404 `RESOURCE_NOT_FOUND` without details (as PayPal answers them).
pub async fn unknown_path(uri: axum::http::Uri) -> Response {
    ApiError::new(
        StatusCode::NOT_FOUND,
        "RESOURCE_NOT_FOUND",
        super::error::MSG_404,
        api_for(uri.path()),
    )
    .into_response()
}

/// Known paths with another method: 405 `METHOD_NOT_SUPPORTED`.
pub async fn method_not_supported(uri: axum::http::Uri) -> Response {
    ApiError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "METHOD_NOT_SUPPORTED",
        super::error::MSG_405,
        api_for(uri.path()),
    )
    .into_response()
}

/// A JSON request body: `{}` when empty; 400 `MALFORMED_REQUEST_JSON` when not a JSON object.
pub fn json_body(bytes: &Bytes, api: Api, empty_ok: bool) -> Result<Value, ApiError> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return if empty_ok {
            Ok(json!({}))
        } else {
            Err(ApiError::malformed(api))
        };
    }
    match serde_json::from_slice::<Value>(bytes) {
        Ok(v @ Value::Object(_)) => Ok(v),
        _ => Err(ApiError::malformed(api)),
    }
}
