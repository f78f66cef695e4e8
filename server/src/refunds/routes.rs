//! `/v1/refunds`.

use super::{repo, service};
use crate::auth::Merchant;
use crate::error::{ApiError, ApiResult};
use crate::http::extract::Json;
use crate::http::idempotency::RequestKey;
use crate::payments::Cause;
use crate::state::AppState;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::Router;
use shared::api::{CreateRefund, Problem, Refund};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/v1/refunds", post(create_refund))
        .route("/v1/refunds/{id}", get(get_refund))
}

/// Refund a captured payment, fully or partly; never more than what is left (pending refunds
/// count).
#[utoipa::path(
    post, path = "/v1/refunds", tag = "refunds",
    request_body = CreateRefund,
    params(("Idempotency-Key" = Option<String>, Header, description = "Makes retries safe: the first answer is replayed.")),
    responses(
        (status = 201, body = Refund),
        (status = 400, body = Problem), (status = 401, body = Problem), (status = 404, body = Problem),
        (status = 409, body = Problem), (status = 502, body = Problem), (status = 503, body = Problem)
    ),
    security(("bearer" = []))
)]
pub async fn create_refund(
    State(state): State<AppState>,
    _merchant: Merchant,
    key: Option<RequestKey>,
    Json(body): Json<CreateRefund>,
) -> ApiResult<(StatusCode, axum::Json<Refund>)> {
    let refund = service::create(&state, body, Cause::Api, key).await?;
    Ok((StatusCode::CREATED, axum::Json(refund.to_api())))
}

/// Fetch one refund.
#[utoipa::path(
    get, path = "/v1/refunds/{id}", tag = "refunds",
    params(("id" = String, Path, description = "re_...")),
    responses((status = 200, body = Refund), (status = 401, body = Problem), (status = 404, body = Problem)),
    security(("bearer" = []))
)]
pub async fn get_refund(
    State(state): State<AppState>,
    _merchant: Merchant,
    Path(id): Path<String>,
) -> ApiResult<axum::Json<Refund>> {
    let refund = repo::get(&state.db, &id)
        .await?
        .ok_or_else(|| ApiError::not_found("refund"))?;
    Ok(axum::Json(refund.to_api()))
}
