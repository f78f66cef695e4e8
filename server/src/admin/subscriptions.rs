//! `GET /admin/api/subscriptions`: subscriptions newest first with their state, paused
//! collection and latest invoice, a page at a time; `attention=true` keeps those whose first
//! invoice or renewal is not paid (failed, or waiting for the customer's 3-D Secure).

use super::session::AdminAuth;
use crate::error::{ApiError, ApiResult};
use crate::http::extract::Query;
use crate::state::AppState;
use crate::subscriptions::repo;
use axum::extract::State;
use axum::Json;
use serde::Deserialize;
use shared::api::{List, Subscription};

const DEFAULT_LIMIT: i64 = 50;
const MAX_LIMIT: i64 = 200;

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SubscriptionsQuery {
    #[serde(default)]
    pub attention: bool,
    pub limit: Option<i64>,
    /// The `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

pub async fn list(
    State(state): State<AppState>,
    _admin: AdminAuth,
    Query(q): Query<SubscriptionsQuery>,
) -> ApiResult<Json<List<Subscription>>> {
    let limit = q.limit.unwrap_or(DEFAULT_LIMIT);
    if !(1..=MAX_LIMIT).contains(&limit) {
        return Err(ApiError::invalid(
            "limit",
            format!("The limit must be between 1 and {MAX_LIMIT}."),
        ));
    }
    let cursor = match q.cursor.as_deref().filter(|c| !c.is_empty()) {
        Some(text) => Some(
            crate::ids::decode_cursor(text, "sub")
                .ok_or_else(|| ApiError::invalid("cursor", "Malformed cursor."))?,
        ),
        None => None,
    };
    let mut rows = repo::page(&state.db, cursor, q.attention, limit).await?;
    let has_more = rows.len() as i64 > limit;
    rows.truncate(limit as usize);
    let next_cursor = has_more
        .then(|| rows.last().map(|(s, at)| format!("{at}.{}", s.id)))
        .flatten();
    Ok(Json(List {
        data: rows.into_iter().map(|(s, _)| s).collect(),
        has_more,
        next_cursor,
    }))
}
