//! The console's view of the provider-webhook inbox's parked events:
//! - `GET /admin/api/provider_events/parked`: the events the worker stopped retrying after its
//!   last attempt, newest first, with the reason;
//! - `POST /admin/api/provider_events/{provider}/{event_id}/replay`: makes one due again with a
//!   fresh set of attempts (as `paygate events replay` does), audited. A replay is always safe:
//!   applying goes through the payment state machine, which never moves a payment backwards.

use super::audit;
use super::session::AdminAuth;
use crate::error::{ApiError, ApiResult};
use crate::inbox::store;
use crate::state::AppState;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use serde_json::json;
use shared::api::admin::{ParkedProviderEvent, ProviderEventReplayed};
use shared::api::{List, ProviderName};

/// The newest parked events shown (there should be none; a screenful is plenty).
const SHOWN: i64 = 200;

pub async fn parked(
    State(state): State<AppState>,
    _admin: AdminAuth,
) -> ApiResult<Json<List<ParkedProviderEvent>>> {
    let data = store::parked(&state.db, SHOWN + 1).await?;
    let has_more = data.len() as i64 > SHOWN;
    Ok(Json(List {
        data: data.into_iter().take(SHOWN as usize).collect(),
        has_more,
        next_cursor: None,
    }))
}

pub async fn replay(
    State(state): State<AppState>,
    admin: AdminAuth,
    Path((provider, event_id)): Path<(String, String)>,
) -> ApiResult<(StatusCode, Json<ProviderEventReplayed>)> {
    let provider = ProviderName::parse(&provider).ok_or_else(|| ApiError::not_found("provider"))?;
    let now = state.clock.now_ms();
    match store::requeue(&state.db, provider, &event_id, now).await? {
        store::Requeue::Queued => {}
        store::Requeue::Busy => {
            return Err(ApiError::conflict(
                "event_in_progress",
                "A worker is applying this event right now; try again in a minute.",
            ))
        }
        store::Requeue::Unknown => return Err(ApiError::not_found("provider event")),
    }
    state.inbox_wakeup.notify_one();
    audit::record(
        &state.db,
        &admin.email,
        "provider_event_replay",
        Some(&event_id),
        &json!({ "provider": provider.as_str() }),
        admin.ip.as_deref(),
        now,
    )
    .await?;
    Ok((
        StatusCode::ACCEPTED,
        Json(ProviderEventReplayed {
            provider: provider.as_str().to_string(),
            event_id,
        }),
    ))
}
