//! The router: every route of the merchant, widget and admin APIs that exists so far, with its
//! middleware. Kept apart from start-up so tests can drive it in-process with `oneshot`.

use crate::auth::require_merchant;
use crate::error::ApiError;
use crate::http::client_addr::resolve_client;
use crate::http::idempotency::idempotency;
use crate::http::metrics;
use crate::http::rate_limit::{limit_merchant, limit_widget};
use crate::http::security::{widget_cors, widget_origin_guard};
use crate::state::AppState;
use crate::{
    admin, checkout, customers, events, inbox, openapi, pages, payment_links, payments, refunds,
    subscriptions,
};
use axum::extract::{DefaultBodyLimit, Request, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::middleware::{from_fn_with_state, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use serde_json::json;
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::trace::TraceLayer;

pub fn app(state: AppState) -> Router {
    // Layers run outside-in in reverse order of `.layer` calls: authentication first, then the
    // rate limit (per key), then idempotency (which needs the merchant).
    let merchant_api = Router::new()
        .merge(checkout::routes::router())
        .merge(payments::routes::router())
        .merge(refunds::routes::router())
        .merge(crate::merchant_webhooks::router())
        .merge(customers::routes::router())
        .merge(customers::payment_methods::router())
        .merge(payment_links::router())
        .merge(crate::disputes::router())
        .merge(subscriptions::routes::router())
        .merge(events::router())
        .layer(from_fn_with_state(state.clone(), idempotency))
        .layer(from_fn_with_state(state.clone(), limit_merchant))
        .layer(from_fn_with_state(state.clone(), require_merchant));

    let widget_api = checkout::widget::router()
        .merge(checkout::widget_payments::router())
        .layer(from_fn_with_state(state.clone(), limit_widget))
        .layer(from_fn_with_state(state.clone(), widget_origin_guard))
        .layer(widget_cors(&state.config));

    let router = Router::new()
        .merge(merchant_api)
        .merge(widget_api)
        .merge(inbox::routes::router())
        .merge(admin::router(&state))
        .merge(pages::router(&state))
        .merge(payment_links::page_router(&state))
        .merge(payments::authenticate::router(&state))
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics::render))
        .route("/openapi.json", get(openapi::serve))
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(from_fn_with_state(state.clone(), metrics::track))
        .layer(from_fn_with_state(state.clone(), time_limit))
        .layer(DefaultBodyLimit::max(state.config.body_limit))
        .layer(from_fn_with_state(state.clone(), resolve_client))
        .layer(TraceLayer::new_for_http());
    // Served over https: browsers are told to use nothing else for two years (the preload
    // list's minimum is one; hstspreload.org). Over plain HTTP the header would be ignored.
    let router = if state.config.public_url.starts_with("https://") {
        router.layer(SetResponseHeaderLayer::overriding(
            header::STRICT_TRANSPORT_SECURITY,
            HeaderValue::from_static("max-age=63072000; includeSubDomains"),
        ))
    } else {
        router
    };
    router.with_state(state)
}

async fn healthz() -> axum::Json<serde_json::Value> {
    axum::Json(json!({ "status": "ok" }))
}

/// Ready when the database answers.
async fn readyz(State(state): State<AppState>) -> Response {
    // Rate limits never make paygate unready: without Redis each instance limits on its own.
    let rate_limits = match &state.rate_limits.shared {
        None => "per instance",
        Some(shared) if shared.is_up() => "shared (Redis)",
        Some(_) => "per instance: Redis unreachable",
    };
    match state.db.ping().await {
        Ok(()) => {
            axum::Json(json!({ "status": "ready", "rate_limits": rate_limits })).into_response()
        }
        Err(e) => {
            tracing::error!(error = %e, "readiness check: database unreachable");
            ApiError::unavailable("database_unavailable", "The database is not reachable.")
                .into_response()
        }
    }
}

async fn not_found() -> ApiError {
    ApiError::new(StatusCode::NOT_FOUND, "not_found", "No such route.")
}

async fn method_not_allowed() -> ApiError {
    ApiError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "method_not_allowed",
        "This route does not accept that method.",
    )
}

/// Answers 503 in the error envelope when a request outlives `PAYGATE_REQUEST_TIMEOUT_SECS`.
async fn time_limit(State(state): State<AppState>, request: Request, next: Next) -> Response {
    match tokio::time::timeout(state.config.request_timeout, next.run(request)).await {
        Ok(response) => response,
        Err(_) => {
            ApiError::unavailable("request_timeout", "The request took too long.").into_response()
        }
    }
}
