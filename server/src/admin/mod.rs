//! The admin console's API (`/admin/api/...`): sign-in with sessions and CSRF
//! protection, the payment history with filters and totals, the daily chart, a payment's detail,
//! refunds, the CSV export, the audit log, the merchant webhook endpoints with their delivery
//! log and resend, the payment links (create, deactivate), the subscriptions with their latest
//! invoice, disputes (evidence, accept), and the provider webhooks parked
//! after their last attempt, with replay.
//! Admin accounts are managed from the command line (`paygate admin`, [`accounts`]). The console's page itself is served by `pages`.

pub mod accounts;
pub mod audit;
pub mod days;
mod detail;
mod disputes;
mod export;
pub mod filters;
mod history;
mod inbox;
mod payment_links;
pub mod session;
mod sign_in;
mod stats;
mod subscriptions;
mod webhooks;

use crate::error::ApiError;
use crate::http::idempotency::{self, IdempotencyScope};
use crate::state::AppState;
use axum::extract::{FromRequestParts, Request, State};
use axum::http::{header, HeaderValue};
use axum::middleware::{from_fn_with_state, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use session::AdminAuth;
use tower_http::set_header::SetResponseHeaderLayer;

pub use export::neutralise;
pub use sign_in::{
    ACCOUNT_SLOWDOWN_AFTER, MAX_ACCOUNT_DELAY_MS, MAX_PER_ACCOUNT_AND_ADDRESS, MAX_PER_ADDRESS,
    WINDOW_MS,
};

pub fn router(state: &AppState) -> Router<AppState> {
    let refunds = Router::new()
        .route("/admin/api/payments/{id}/refunds", post(detail::refund))
        .route_layer(from_fn_with_state(state.clone(), refund_idempotency));
    Router::new()
        .route(
            "/admin/api/session",
            post(sign_in::sign_in)
                .get(sign_in::current)
                .delete(sign_in::sign_out),
        )
        .route("/admin/api/payments", get(history::page))
        .route("/admin/api/payments/export.csv", get(export::export))
        .route("/admin/api/payments/{id}", get(detail::show))
        .route("/admin/api/stats/daily", get(stats::daily))
        .route("/admin/api/audit", get(audit::list))
        .route("/admin/api/provider_events/parked", get(inbox::parked))
        .route(
            "/admin/api/provider_events/{provider}/{event_id}/replay",
            post(inbox::replay),
        )
        .route("/admin/api/subscriptions", get(subscriptions::list))
        .route("/admin/api/disputes", get(disputes::list))
        .route(
            "/admin/api/disputes/{id}/evidence",
            post(disputes::evidence),
        )
        .route("/admin/api/disputes/{id}/close", post(disputes::close))
        .route(
            "/admin/api/payment_links",
            get(payment_links::list).post(payment_links::create),
        )
        .route("/admin/api/payment_links/{id}", post(payment_links::update))
        .route("/admin/api/webhook_endpoints", get(webhooks::list))
        .route("/admin/api/webhook_endpoints/{id}", get(webhooks::show))
        .route(
            "/admin/api/webhook_endpoints/{id}/deliveries",
            get(webhooks::deliveries),
        )
        .route(
            "/admin/api/webhook_endpoints/{id}/deliveries/{delivery}/resend",
            post(webhooks::resend),
        )
        .merge(refunds)
        // Payment data and CSRF tokens must not linger in caches.
        .layer(SetResponseHeaderLayer::overriding(
            header::CACHE_CONTROL,
            HeaderValue::from_static("no-store"),
        ))
}

/// Admin refunds must carry an `Idempotency-Key`; it is scoped to the signed-in admin and
/// handled by the same store as the merchant API's keys.
async fn refund_idempotency(
    State(state): State<AppState>,
    request: Request,
    next: Next,
) -> Response {
    let (mut parts, body) = request.into_parts();
    let admin = match AdminAuth::from_request_parts(&mut parts, &state).await {
        Ok(a) => a,
        Err(e) => return e.into_response(),
    };
    if !parts.headers.contains_key(idempotency::HEADER) {
        return ApiError::invalid(
            "Idempotency-Key",
            "Refunds from the console need an Idempotency-Key header.",
        )
        .into_response();
    }
    parts
        .extensions
        .insert(IdempotencyScope(format!("admin:{}", admin.admin_id)));
    idempotency::idempotency(State(state), Request::from_parts(parts, body), next).await
}
