//! `GET /v1/events`: the events paygate emitted (the outbox), newest first; `GET
//! /v1/event_types`: every type it emits.

use super::repo;
use crate::auth::Merchant;
use crate::error::{ApiError, ApiResult};
use crate::http::extract::Query;
use crate::state::AppState;
use axum::extract::State;
use axum::routing::get;
use axum::Router;
use serde::Deserialize;
use shared::api::{Event, EventType, List, Problem};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/v1/events", get(list_events))
        .route("/v1/event_types", get(list_event_types))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct EventsQuery {
    /// Only events about this object (`pay_...`, `cs_...`).
    pub object_id: Option<String>,
    /// Only this event type (`payment.succeeded`, ...).
    #[serde(rename = "type")]
    pub kind: Option<String>,
    /// Page size, 1 to 100 (default 20).
    pub limit: Option<u32>,
    /// The `next_cursor` of the previous page.
    pub starting_after: Option<String>,
}

/// List emitted events, newest first.
#[utoipa::path(
    get, path = "/v1/events", tag = "events",
    params(EventsQuery),
    responses((status = 200, body = List<Event>), (status = 400, body = Problem), (status = 401, body = Problem)),
    security(("bearer" = []))
)]
pub async fn list_events(
    State(state): State<AppState>,
    _merchant: Merchant,
    Query(q): Query<EventsQuery>,
) -> ApiResult<axum::Json<List<Event>>> {
    let limit = q.limit.unwrap_or(20);
    if !(1..=100).contains(&limit) {
        return Err(ApiError::invalid(
            "limit",
            "limit must be between 1 and 100.",
        ));
    }
    let before: i64 = match &q.starting_after {
        Some(c) => c.parse().ok().filter(|n| *n > 0).ok_or_else(|| {
            ApiError::invalid("starting_after", "Not a cursor from a previous page.")
        })?,
        None => i64::MAX,
    };
    let page = repo::list(
        &state.db,
        before,
        q.object_id.as_deref(),
        q.kind.as_deref(),
        i64::from(limit) + 1,
    )
    .await?;
    let has_more = page.len() > limit as usize;
    let mut data = Vec::with_capacity(page.len());
    let mut last_seq = None;
    for (seq, event) in page.into_iter().take(limit as usize) {
        last_seq = Some(seq);
        data.push(event);
    }
    Ok(axum::Json(List {
        data,
        has_more,
        next_cursor: if has_more {
            last_seq.map(|s| s.to_string())
        } else {
            None
        },
    }))
}

/// Every type of event paygate emits, with the object it carries and when it fires.
#[utoipa::path(
    get, path = "/v1/event_types", tag = "events",
    responses((status = 200, body = List<EventType>), (status = 401, body = Problem)),
    security(("bearer" = []))
)]
pub async fn list_event_types(_merchant: Merchant) -> axum::Json<List<EventType>> {
    axum::Json(List {
        data: super::types::all(),
        has_more: false,
        next_cursor: None,
    })
}
