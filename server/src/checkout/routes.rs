//! `/v1/checkout/sessions`: the merchant API for checkout sessions.

use super::record::SessionRecord;
use super::service::Created;
use super::{repo, service};
use crate::auth::Merchant;
use crate::error::{ApiError, ApiResult};
use crate::http::extract::Json;
use crate::http::idempotency::{self, AnswerInTransaction, RequestKey};
use crate::payments;
use crate::state::AppState;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
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
    answer: Option<AnswerInTransaction>,
    Json(body): Json<CreateCheckoutSession>,
) -> ApiResult<Response> {
    let email = body.customer_email.clone();
    let to_api = |record: &SessionRecord| {
        let mut session = record.to_api(
            &state.cipher,
            &state.config.public_url,
            state.clock.now_ms(),
            None,
        );
        session.customer_email = email.as_deref().map(|e| e.trim().to_string());
        session
    };
    let id = key.map(|k| k.derive_id("cs"));
    match service::begin_create(&state, body, id).await? {
        // Made by another request with this key: with its answer stored, that answer is the
        // one (the idempotency layer replays it).
        Created::Existing(_) if answer.is_some() => Ok(idempotency::key_taken()),
        Created::Existing(record) => {
            Ok((StatusCode::CREATED, axum::Json(to_api(&record))).into_response())
        }
        Created::New(record, mut tx) => {
            let session = to_api(&record);
            let Some(answer) = answer else {
                tx.commit().await?;
                return Ok((StatusCode::CREATED, axum::Json(session)).into_response());
            };
            // The answer commits with the session: one write for the whole request.
            let body = serde_json::to_string(&session)
                .map_err(|e| ApiError::internal(format!("session JSON: {e}")))?;
            let now = state.clock.now_ms();
            let stored = idempotency::store_answer_in(
                &mut tx,
                &state.cipher,
                &answer,
                StatusCode::CREATED,
                &body,
                now,
            )
            .await?;
            if !stored {
                return Ok(idempotency::key_taken());
            }
            tx.commit().await?;
            Ok(idempotency::stored_answer(StatusCode::CREATED, body))
        }
    }
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
