//! `POST /webhooks/{provider}`: verify on the raw bytes, store, acknowledge, wake the worker.

use super::store::{self, Stored};
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::routing::post;
use axum::Router;
use serde_json::{json, Value};
use shared::api::ProviderName;

pub fn router() -> Router<AppState> {
    Router::new().route("/webhooks/{provider}", post(receive))
}

pub async fn receive(
    State(state): State<AppState>,
    Path(provider): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<axum::Json<Value>> {
    let name =
        ProviderName::parse(&provider).ok_or_else(|| ApiError::not_found("webhook endpoint"))?;
    let provider = state
        .providers
        .get(name)
        .ok_or_else(|| ApiError::not_found("webhook endpoint"))?;
    let verified = provider
        .verify_webhook(&headers, &body)
        .await
        .map_err(|e| {
            tracing::warn!(provider = %name, error = %e, "rejected webhook");
            ApiError::from(e)
        })?;
    let payload = std::str::from_utf8(&body).map_err(|_| {
        ApiError::bad_request("malformed_webhook", "The webhook body is not UTF-8 text.")
    })?;
    let stored = store::store(
        &state,
        name,
        &verified.event_id,
        &verified.event_type,
        payload,
    )
    .await?;
    if stored == Stored::New {
        state.inbox_wakeup.notify_one();
    }
    tracing::info!(provider = %name, event_id = %verified.event_id, event_type = %verified.event_type, duplicate = stored == Stored::Duplicate, "webhook received");
    Ok(axum::Json(
        json!({ "received": true, "duplicate": stored == Stored::Duplicate }),
    ))
}
