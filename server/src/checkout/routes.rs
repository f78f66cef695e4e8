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
    // A request without a key, or the first with its key: the session (and the stored answer)
    // are one write (`Db::insert_all`), committed with other requests' on SQLite. A key whose
    // earlier request died in flight goes the longer way below, which finds what it made.
    if answer.is_some() || id.is_none() {
        let (record, email) = service::new_record(&state, body, id)?;
        service::check_customer(&state, &record).await?;
        let session = to_api(&record);
        let body = serde_json::to_string(&session)
            .map_err(|e| ApiError::internal(format!("session JSON: {e}")))?;
        let now = state.clock.now_ms();
        let mut inserts = repo::inserts(
            &record,
            email.as_deref(),
            &state.cipher,
            &state.config.public_url,
        );
        if let Some(answer) = &answer {
            inserts.push(idempotency::answer_insert(
                &state.cipher,
                answer,
                StatusCode::CREATED,
                &body,
                now,
            ));
        }
        let stored_with_answer = answer.is_some();
        // One statement on PostgreSQL, a share of a group commit on SQLite.
        let written = state.db.insert_all(inserts).await;
        return match written {
            Ok(()) if stored_with_answer => {
                Ok(idempotency::stored_answer(StatusCode::CREATED, body))
            }
            Ok(()) => Ok(idempotency::plain_answer(StatusCode::CREATED, body)),
            // Another request with this key committed first: its answer is the one.
            Err(e) if stored_with_answer && crate::db::is_unique_violation(&e) => {
                Ok(idempotency::key_taken())
            }
            Err(e) => Err(e.into()),
        };
    }
    match service::begin_create(&state, body, id).await? {
        Created::Existing(record) => {
            Ok((StatusCode::CREATED, axum::Json(to_api(&record))).into_response())
        }
        Created::New(record, tx) => {
            tx.commit().await?;
            Ok((StatusCode::CREATED, axum::Json(to_api(&record))).into_response())
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
