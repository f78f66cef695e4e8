//! `/v1/checkout/sessions`: the merchant API for checkout sessions.

use super::{repo, service};
use crate::auth::Merchant;
use crate::error::{ApiError, ApiResult};
use crate::http::extract::Json;
use crate::http::idempotency::RequestKey;
use crate::payments;
use crate::state::AppState;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::Router;
use shared::api::{CheckoutSession, CreateCheckoutSession, Problem};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/v1/checkout/sessions", post(create_session))
        .route("/v1/checkout/sessions/{id}", get(get_session))
}

/// Open a checkout session.
#[utoipa::path(
    post, path = "/v1/checkout/sessions", tag = "checkout",
    request_body = CreateCheckoutSession,
    params(("Idempotency-Key" = Option<String>, Header, description = "Makes retries safe: the first answer is replayed.")),
    responses(
        (status = 201, body = CheckoutSession),
        (status = 400, body = Problem), (status = 401, body = Problem),
        (status = 409, body = Problem), (status = 422, body = Problem)
    ),
    security(("bearer" = []))
)]
pub async fn create_session(
    State(state): State<AppState>,
    _merchant: Merchant,
    key: Option<RequestKey>,
    Json(body): Json<CreateCheckoutSession>,
) -> ApiResult<(StatusCode, axum::Json<CheckoutSession>)> {
    let email = body.customer_email.clone();
    let record = service::create(&state, body, key.map(|k| k.derive_id("cs"))).await?;
    let mut session = record.to_api(
        &state.cipher,
        &state.config.public_url,
        state.clock.now_ms(),
        None,
    );
    session.customer_email = email.map(|e| e.trim().to_string());
    Ok((StatusCode::CREATED, axum::Json(session)))
}

/// A checkout session, with the payment that completed it.
#[utoipa::path(
    get, path = "/v1/checkout/sessions/{id}", tag = "checkout",
    params(("id" = String, Path, description = "cs_...")),
    responses((status = 200, body = CheckoutSession), (status = 401, body = Problem), (status = 404, body = Problem)),
    security(("bearer" = []))
)]
pub async fn get_session(
    State(state): State<AppState>,
    _merchant: Merchant,
    Path(id): Path<String>,
) -> ApiResult<axum::Json<CheckoutSession>> {
    let record = repo::get(&state.db, &id)
        .await?
        .ok_or_else(|| ApiError::not_found("checkout session"))?;
    let payment = match &record.completed_payment_id {
        Some(pid) => payments::repo::get(&state.db, pid)
            .await?
            .map(|p| p.to_api()),
        None => None,
    };
    Ok(axum::Json(record.to_api(
        &state.cipher,
        &state.config.public_url,
        state.clock.now_ms(),
        payment,
    )))
}
