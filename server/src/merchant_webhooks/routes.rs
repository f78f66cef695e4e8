//! `/v1/webhook_endpoints`: create (the secret is shown once), list, read, update, delete,
//! rotate the secret, and read an endpoint's deliveries; `POST /v1/events/{id}/resend`.

use super::relay::ROTATION_OVERLAP_MS;
use super::repo::{self, EndpointRecord};
use super::{service, signing, SECRET_CONTEXT};
use crate::auth::Merchant;
use crate::error::{ApiError, ApiResult};
use crate::http::extract::{Json, Query};
use crate::state::AppState;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::Router;
use serde::Deserialize;
use shared::api::{
    CreateWebhookEndpoint, List, Problem, ResendEvent, UpdateWebhookEndpoint, WebhookDelivery,
    WebhookEndpoint,
};

pub fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/v1/webhook_endpoints",
            post(create_endpoint).get(list_endpoints),
        )
        .route(
            "/v1/webhook_endpoints/{id}",
            get(get_endpoint)
                .post(update_endpoint)
                .delete(delete_endpoint),
        )
        .route(
            "/v1/webhook_endpoints/{id}/rotate_secret",
            post(rotate_secret),
        )
        .route(
            "/v1/webhook_endpoints/{id}/deliveries",
            get(list_deliveries),
        )
        .route("/v1/events/{id}/resend", post(resend_event))
}

/// The endpoint, or 404 in the error envelope.
pub async fn found(state: &AppState, id: &str) -> Result<EndpointRecord, ApiError> {
    repo::get(&state.db, id)
        .await?
        .ok_or_else(|| ApiError::not_found("webhook endpoint"))
}

/// Register an endpoint; the answer carries its signing secret, shown this once.
#[utoipa::path(
    post, path = "/v1/webhook_endpoints", tag = "webhooks",
    request_body = CreateWebhookEndpoint,
    responses((status = 201, body = WebhookEndpoint), (status = 400, body = Problem), (status = 401, body = Problem)),
    security(("bearer" = []))
)]
pub async fn create_endpoint(
    State(state): State<AppState>,
    _merchant: Merchant,
    Json(body): Json<CreateWebhookEndpoint>,
) -> ApiResult<(StatusCode, axum::Json<WebhookEndpoint>)> {
    let (record, secret) = service::create(&state, body).await?;
    Ok((StatusCode::CREATED, axum::Json(record.to_api(Some(secret)))))
}

/// Every endpoint.
#[utoipa::path(
    get, path = "/v1/webhook_endpoints", tag = "webhooks",
    responses((status = 200, body = List<WebhookEndpoint>), (status = 401, body = Problem)),
    security(("bearer" = []))
)]
pub async fn list_endpoints(
    State(state): State<AppState>,
    _merchant: Merchant,
) -> ApiResult<axum::Json<List<WebhookEndpoint>>> {
    let data = repo::list(&state.db)
        .await?
        .iter()
        .map(|e| e.to_api(None))
        .collect();
    Ok(axum::Json(List {
        data,
        has_more: false,
        next_cursor: None,
    }))
}

/// One endpoint (without its secret).
#[utoipa::path(
    get, path = "/v1/webhook_endpoints/{id}", tag = "webhooks",
    params(("id" = String, Path, description = "we_...")),
    responses((status = 200, body = WebhookEndpoint), (status = 404, body = Problem)),
    security(("bearer" = []))
)]
pub async fn get_endpoint(
    State(state): State<AppState>,
    _merchant: Merchant,
    Path(id): Path<String>,
) -> ApiResult<axum::Json<WebhookEndpoint>> {
    Ok(axum::Json(found(&state, &id).await?.to_api(None)))
}

/// Change the url, the events, the description, or enable / disable the endpoint.
#[utoipa::path(
    post, path = "/v1/webhook_endpoints/{id}", tag = "webhooks",
    params(("id" = String, Path, description = "we_...")),
    request_body = UpdateWebhookEndpoint,
    responses((status = 200, body = WebhookEndpoint), (status = 400, body = Problem), (status = 404, body = Problem)),
    security(("bearer" = []))
)]
pub async fn update_endpoint(
    State(state): State<AppState>,
    _merchant: Merchant,
    Path(id): Path<String>,
    Json(body): Json<UpdateWebhookEndpoint>,
) -> ApiResult<axum::Json<WebhookEndpoint>> {
    let endpoint = service::update(&state, &id, body).await?;
    Ok(axum::Json(endpoint.to_api(None)))
}

/// Delete the endpoint and its delivery log.
#[utoipa::path(
    delete, path = "/v1/webhook_endpoints/{id}", tag = "webhooks",
    params(("id" = String, Path, description = "we_...")),
    responses((status = 204), (status = 404, body = Problem)),
    security(("bearer" = []))
)]
pub async fn delete_endpoint(
    State(state): State<AppState>,
    _merchant: Merchant,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    if repo::delete(&state.db, &id).await? {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(ApiError::not_found("webhook endpoint"))
    }
}

/// A new signing secret, shown this once; for 24 hours the previous one also signs every
/// delivery (two signatures), so receivers can switch without losing an event.
#[utoipa::path(
    post, path = "/v1/webhook_endpoints/{id}/rotate_secret", tag = "webhooks",
    params(("id" = String, Path, description = "we_...")),
    responses((status = 200, body = WebhookEndpoint), (status = 404, body = Problem)),
    security(("bearer" = []))
)]
pub async fn rotate_secret(
    State(state): State<AppState>,
    _merchant: Merchant,
    Path(id): Path<String>,
) -> ApiResult<axum::Json<WebhookEndpoint>> {
    let mut endpoint = found(&state, &id).await?;
    let secret = signing::new_secret();
    let now = state.clock.now_ms();
    endpoint.previous_secret_ciphertext = Some(endpoint.secret_ciphertext.clone());
    endpoint.previous_secret_expires_at = Some(now + ROTATION_OVERLAP_MS);
    endpoint.secret_ciphertext = state.cipher.encrypt(&secret, SECRET_CONTEXT);
    endpoint.updated_at = now;
    repo::update(&state.db, &endpoint).await?;
    Ok(axum::Json(endpoint.to_api(Some(secret))))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct DeliveriesQuery {
    /// `pending`, `delivered` or `failed`.
    pub status: Option<String>,
    /// Only this event type.
    pub event_type: Option<String>,
    /// Page size, 1 to 100 (default 20).
    pub limit: Option<u32>,
    /// The `next_cursor` of the previous page.
    pub starting_after: Option<String>,
}

/// The endpoint's deliveries, newest first, each with every attempt.
#[utoipa::path(
    get, path = "/v1/webhook_endpoints/{id}/deliveries", tag = "webhooks",
    params(("id" = String, Path, description = "we_..."), DeliveriesQuery),
    responses((status = 200, body = List<WebhookDelivery>), (status = 400, body = Problem), (status = 404, body = Problem)),
    security(("bearer" = []))
)]
pub async fn list_deliveries(
    State(state): State<AppState>,
    _merchant: Merchant,
    Path(id): Path<String>,
    Query(q): Query<DeliveriesQuery>,
) -> ApiResult<axum::Json<List<WebhookDelivery>>> {
    Ok(axum::Json(deliveries_page(&state, &id, &q).await?))
}

/// One page of an endpoint's delivery log for `q`: 404 for an unknown endpoint, 400 for a bad
/// filter, limit or cursor. Shared with the admin console's view of the same log, so both
/// answer alike.
pub async fn deliveries_page(
    state: &AppState,
    id: &str,
    q: &DeliveriesQuery,
) -> ApiResult<List<WebhookDelivery>> {
    found(state, id).await?;
    let limit = q.limit.unwrap_or(20);
    if !(1..=100).contains(&limit) {
        return Err(ApiError::invalid(
            "limit",
            "limit must be between 1 and 100.",
        ));
    }
    if let Some(s) = &q.status {
        if !matches!(s.as_str(), "pending" | "delivered" | "failed") {
            return Err(ApiError::invalid(
                "status",
                "status must be pending, delivered or failed.",
            ));
        }
    }
    let before = match &q.starting_after {
        Some(c) => Some(
            c.split_once(':')
                .and_then(|(at, id)| Some((at.parse::<i64>().ok()?, id.to_string())))
                .ok_or_else(|| {
                    ApiError::invalid("starting_after", "Not a cursor from a previous page.")
                })?,
        ),
        None => None,
    };
    let page = repo::deliveries(
        &state.db,
        id,
        q.status.as_deref(),
        q.event_type.as_deref(),
        before,
        i64::from(limit) + 1,
    )
    .await?;
    let has_more = page.len() > limit as usize;
    let mut data = Vec::new();
    let mut cursor = None;
    for (created_at, delivery) in page.into_iter().take(limit as usize) {
        cursor = Some(format!("{created_at}:{}", delivery.id));
        data.push(delivery);
    }
    Ok(List {
        data,
        has_more,
        next_cursor: if has_more { cursor } else { None },
    })
}

/// Deliver one event again to one endpoint (whatever became of earlier deliveries).
#[utoipa::path(
    post, path = "/v1/events/{id}/resend", tag = "webhooks",
    params(("id" = String, Path, description = "evt_...")),
    request_body = ResendEvent,
    responses((status = 202, body = WebhookDelivery), (status = 404, body = Problem)),
    security(("bearer" = []))
)]
pub async fn resend_event(
    State(state): State<AppState>,
    _merchant: Merchant,
    Path(event_id): Path<String>,
    Json(body): Json<ResendEvent>,
) -> ApiResult<(StatusCode, axum::Json<serde_json::Value>)> {
    let event = crate::events::repo::get(&state.db, &event_id)
        .await?
        .ok_or_else(|| ApiError::not_found("event"))?;
    let endpoint = found(&state, &body.endpoint)
        .await
        .map_err(|e| e.with_param("endpoint"))?;
    let delivery = repo::requeue(
        &state.db,
        &event.id,
        &event.kind,
        &endpoint.id,
        state.clock.now_ms(),
    )
    .await?;
    Ok((
        StatusCode::ACCEPTED,
        axum::Json(
            serde_json::json!({ "delivery": delivery, "event": event.id, "endpoint": endpoint.id }),
        ),
    ))
}
