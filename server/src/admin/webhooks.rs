//! The console's view of the merchant webhook endpoints:
//! - `GET /admin/api/webhook_endpoints` and `GET /admin/api/webhook_endpoints/{id}` (never the
//!   signing secret);
//! - `GET /admin/api/webhook_endpoints/{id}/deliveries`: the delivery log with every attempt,
//!   the same filters, limit and cursor as the merchant API's;
//! - `POST /admin/api/webhook_endpoints/{endpoint}/deliveries/{delivery}/resend`: queues the
//!   delivery's event again for its endpoint (as `POST /v1/events/{id}/resend` does), audited.
//!
//! The SQL and the delivery log's paging belong to `merchant_webhooks`; this file only adds the
//! admin session, the CSRF check (through [`AdminAuth`]) and the audit record.

use super::audit;
use super::session::AdminAuth;
use crate::error::{ApiError, ApiResult};
use crate::http::extract::Query;
use crate::merchant_webhooks::repo;
use crate::merchant_webhooks::routes::{deliveries_page, found, DeliveriesQuery};
use crate::state::AppState;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use serde_json::json;
use shared::api::admin::WebhookResent;
use shared::api::{List, WebhookDelivery, WebhookEndpoint};

/// Every endpoint, oldest first (a merchant has a handful: no paging).
pub async fn list(
    State(state): State<AppState>,
    _admin: AdminAuth,
) -> ApiResult<Json<List<WebhookEndpoint>>> {
    let data = repo::list(&state.db)
        .await?
        .iter()
        .map(|e| e.to_api(None))
        .collect();
    Ok(Json(List {
        data,
        has_more: false,
        next_cursor: None,
    }))
}

/// One endpoint, for the heading of its deliveries page.
pub async fn show(
    State(state): State<AppState>,
    _admin: AdminAuth,
    Path(id): Path<String>,
) -> ApiResult<Json<WebhookEndpoint>> {
    Ok(Json(found(&state, &id).await?.to_api(None)))
}

/// The endpoint's deliveries, newest first, each with every attempt.
pub async fn deliveries(
    State(state): State<AppState>,
    _admin: AdminAuth,
    Path(id): Path<String>,
    Query(q): Query<DeliveriesQuery>,
) -> ApiResult<Json<List<WebhookDelivery>>> {
    Ok(Json(deliveries_page(&state, &id, &q).await?))
}

/// Queues the delivery's event again for its endpoint. The delivery must belong to the endpoint
/// of the path; an unknown endpoint, delivery or event is a 404 and writes nothing. Audited as
/// `webhook_resend` with the event as target. No `Idempotency-Key`: a repeat only makes the same
/// delivery due again (the merchant's receiver must accept duplicates anyway).
pub async fn resend(
    State(state): State<AppState>,
    admin: AdminAuth,
    Path((endpoint_id, delivery_id)): Path<(String, String)>,
) -> ApiResult<(StatusCode, Json<WebhookResent>)> {
    let endpoint = found(&state, &endpoint_id).await?;
    let delivery = repo::load(&state.db, &delivery_id)
        .await?
        .filter(|d| d.endpoint_id == endpoint.id)
        .ok_or_else(|| ApiError::not_found("webhook delivery"))?;
    let event = crate::events::repo::get(&state.db, &delivery.event_id)
        .await?
        .ok_or_else(|| ApiError::not_found("event"))?;
    let now = state.clock.now_ms();
    let requeued = repo::requeue(&state.db, &event.id, &event.kind, &endpoint.id, now).await?;
    // As the refund's audit: after the change, on its own. The endpoint's url is left out of
    // the detail, since merchants sometimes put a token in it.
    audit::record(
        &state.db,
        &admin.email,
        "webhook_resend",
        Some(&event.id),
        &json!({
            "endpoint": endpoint.id,
            "delivery": requeued,
            "event_type": event.kind,
        }),
        admin.ip.as_deref(),
        now,
    )
    .await?;
    Ok((
        StatusCode::ACCEPTED,
        Json(WebhookResent {
            delivery: requeued,
            event: event.id,
            endpoint: endpoint.id,
        }),
    ))
}
