//! `/v1/payment_links`: create, list, read, and switch a link off or on.

use super::record::LinkRecord;
use super::{repo, service};
use crate::auth::Merchant;
use crate::error::{ApiError, ApiResult};
use crate::http::extract::{Json, Query};
use crate::state::AppState;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::Router;
use serde::Deserialize;
use shared::api::{CreatePaymentLink, List, PaymentLink, Problem, UpdatePaymentLink};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/v1/payment_links", post(create_link).get(list_links))
        .route("/v1/payment_links/{id}", get(get_link).post(update_link))
}

const DEFAULT_LIMIT: i64 = 20;
const MAX_LIMIT: i64 = 100;

/// Query of `GET /v1/payment_links`.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct ListLinksQuery {
    /// Only active (`true`) or deactivated (`false`) links.
    pub active: Option<bool>,
    /// Page size, 1 to 100 (default 20).
    pub limit: Option<i64>,
    /// The `next_cursor` of the previous page.
    pub starting_after: Option<String>,
}

/// The link as the API shows it now.
pub async fn to_api(state: &AppState, link: &LinkRecord) -> Result<PaymentLink, ApiError> {
    let completed = repo::completed_count(&state.db, &link.id).await?;
    Ok(link.to_api(&state.config.public_url, state.clock.now_ms(), completed))
}

/// Creates a link; the shared logic of the merchant API and the console.
pub async fn create(state: &AppState, body: CreatePaymentLink) -> Result<PaymentLink, ApiError> {
    let link = service::new_link(state, body)?;
    repo::insert(&state.db, &link, &state.config.public_url).await?;
    Ok(link.to_api(&state.config.public_url, link.created_at, 0))
}

/// Switches a link; the shared logic of the merchant API and the console.
pub async fn update(
    state: &AppState,
    id: &str,
    body: UpdatePaymentLink,
) -> Result<PaymentLink, ApiError> {
    let Some(active) = body.active else {
        return Err(ApiError::invalid("active", "Send active: true or false."));
    };
    let link = repo::set_active(
        &state.db,
        id,
        active,
        &state.config.public_url,
        state.clock.now_ms(),
    )
    .await?
    .ok_or_else(|| ApiError::not_found("payment link"))?;
    to_api(state, &link).await
}

/// A page of links, newest first; shared by the merchant API and the console.
pub async fn list(state: &AppState, query: &ListLinksQuery) -> Result<List<PaymentLink>, ApiError> {
    let limit = query.limit.unwrap_or(DEFAULT_LIMIT);
    if !(1..=MAX_LIMIT).contains(&limit) {
        return Err(ApiError::invalid(
            "limit",
            format!("The limit must be between 1 and {MAX_LIMIT}."),
        ));
    }
    let cursor = match query.starting_after.as_deref().filter(|c| !c.is_empty()) {
        Some(text) => Some(crate::ids::decode_cursor(text, "plink").ok_or_else(|| {
            ApiError::invalid("starting_after", "Not a cursor from a previous page.")
        })?),
        None => None,
    };
    let mut links = repo::page(&state.db, cursor, query.active, limit).await?;
    let has_more = links.len() as i64 > limit;
    links.truncate(limit as usize);
    let ids: Vec<String> = links.iter().map(|l| l.id.clone()).collect();
    let counts = repo::completed_counts(&state.db, &ids).await?;
    let now = state.clock.now_ms();
    let next_cursor = has_more
        .then(|| links.last().map(|l| format!("{}.{}", l.created_at, l.id)))
        .flatten();
    Ok(List {
        data: links
            .iter()
            .map(|l| {
                let completed = counts.get(&l.id).copied().unwrap_or(0);
                l.to_api(&state.config.public_url, now, completed)
            })
            .collect(),
        has_more,
        next_cursor,
    })
}

/// Create a payment link: a reusable URL that opens a fresh checkout session for each
/// customer.
#[utoipa::path(
    post, path = "/v1/payment_links", tag = "payment_links",
    request_body = CreatePaymentLink,
    params(("Idempotency-Key" = Option<String>, Header, description = "Makes retries safe: the first answer is replayed.")),
    responses((status = 201, body = PaymentLink), (status = 400, body = Problem), (status = 401, body = Problem)),
    security(("bearer" = []))
)]
pub async fn create_link(
    State(state): State<AppState>,
    _merchant: Merchant,
    Json(body): Json<CreatePaymentLink>,
) -> ApiResult<(StatusCode, axum::Json<PaymentLink>)> {
    Ok((StatusCode::CREATED, axum::Json(create(&state, body).await?)))
}

/// Payment links, newest first.
#[utoipa::path(
    get, path = "/v1/payment_links", tag = "payment_links",
    params(ListLinksQuery),
    responses((status = 200, body = List<PaymentLink>), (status = 400, body = Problem), (status = 401, body = Problem)),
    security(("bearer" = []))
)]
pub async fn list_links(
    State(state): State<AppState>,
    _merchant: Merchant,
    Query(query): Query<ListLinksQuery>,
) -> ApiResult<axum::Json<List<PaymentLink>>> {
    Ok(axum::Json(list(&state, &query).await?))
}

/// One payment link, with how many of its sessions are paid.
#[utoipa::path(
    get, path = "/v1/payment_links/{id}", tag = "payment_links",
    params(("id" = String, Path, description = "plink_...")),
    responses((status = 200, body = PaymentLink), (status = 401, body = Problem), (status = 404, body = Problem)),
    security(("bearer" = []))
)]
pub async fn get_link(
    State(state): State<AppState>,
    _merchant: Merchant,
    Path(id): Path<String>,
) -> ApiResult<axum::Json<PaymentLink>> {
    let link = repo::get(&state.db, &id)
        .await?
        .ok_or_else(|| ApiError::not_found("payment link"))?;
    Ok(axum::Json(to_api(&state, &link).await?))
}

/// Deactivate (`active: false`) or activate again (`active: true`) a payment link.
#[utoipa::path(
    post, path = "/v1/payment_links/{id}", tag = "payment_links",
    params(("id" = String, Path, description = "plink_...")),
    request_body = UpdatePaymentLink,
    responses((status = 200, body = PaymentLink), (status = 400, body = Problem), (status = 401, body = Problem), (status = 404, body = Problem)),
    security(("bearer" = []))
)]
pub async fn update_link(
    State(state): State<AppState>,
    _merchant: Merchant,
    Path(id): Path<String>,
    Json(body): Json<UpdatePaymentLink>,
) -> ApiResult<axum::Json<PaymentLink>> {
    Ok(axum::Json(update(&state, &id, body).await?))
}
