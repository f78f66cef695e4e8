//! `/v1/payments`: the merchant API for payments.

use super::actions::{self, Action};
use super::repo;
use super::service;
use super::Cause;
use crate::auth::Merchant;
use crate::error::{ApiError, ApiResult};
use crate::http::extract::{Json, Query};
use crate::http::idempotency::RequestKey;
use crate::state::AppState;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::Router;
use shared::api::{
    CapturePayment, ConfirmPayment, CreatePayment, List, ListPaymentsQuery, Payment, Problem,
};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/v1/payments", post(create_payment).get(list_payments))
        .route("/v1/payments/{id}", get(get_payment))
        .route("/v1/payments/{id}/confirm", post(confirm_payment))
        .route("/v1/payments/{id}/capture", post(capture_payment))
        .route("/v1/payments/{id}/cancel", post(cancel_payment))
}

/// Create a payment with a provider.
#[utoipa::path(
    post, path = "/v1/payments", tag = "payments",
    request_body = CreatePayment,
    params(("Idempotency-Key" = Option<String>, Header, description = "Makes retries safe: the first answer is replayed.")),
    responses(
        (status = 201, body = Payment),
        (status = 400, body = Problem), (status = 401, body = Problem), (status = 402, body = Problem),
        (status = 409, body = Problem), (status = 422, body = Problem), (status = 503, body = Problem)
    ),
    security(("bearer" = []))
)]
pub async fn create_payment(
    State(state): State<AppState>,
    _merchant: Merchant,
    key: Option<RequestKey>,
    Json(body): Json<CreatePayment>,
) -> ApiResult<(StatusCode, axum::Json<Payment>)> {
    let mut new = service::NewPayment::from_api(body)?;
    new.id = key.map(|k| k.derive_id("pay"));
    let created = service::create(&state, new).await?;
    Ok((StatusCode::CREATED, axum::Json(created.payment.to_api())))
}

/// List payments, newest first.
#[utoipa::path(
    get, path = "/v1/payments", tag = "payments",
    params(ListPaymentsQuery),
    responses((status = 200, body = List<Payment>), (status = 400, body = Problem), (status = 401, body = Problem)),
    security(("bearer" = []))
)]
pub async fn list_payments(
    State(state): State<AppState>,
    _merchant: Merchant,
    Query(query): Query<ListPaymentsQuery>,
) -> ApiResult<axum::Json<List<Payment>>> {
    let limit = query.limit.unwrap_or(20);
    if !(1..=100).contains(&limit) {
        return Err(ApiError::invalid(
            "limit",
            "limit must be between 1 and 100.",
        ));
    }
    if let (Some(a), Some(b)) = (query.created_gte, query.created_lte) {
        if a > b {
            return Err(ApiError::invalid(
                "created_gte",
                "created_gte must not be after created_lte.",
            ));
        }
    }
    let cursor = match &query.starting_after {
        Some(c) => Some(repo::decode_cursor(c).ok_or_else(|| {
            ApiError::invalid("starting_after", "Not a cursor from a previous page.")
        })?),
        None => None,
    };
    let (rows, has_more) = repo::list(&state.db, &query, cursor, limit).await?;
    let next_cursor = if has_more {
        rows.last().map(repo::encode_cursor)
    } else {
        None
    };
    Ok(axum::Json(List {
        data: rows.iter().map(|p| p.to_api()).collect(),
        has_more,
        next_cursor,
    }))
}

/// Fetch one payment.
#[utoipa::path(
    get, path = "/v1/payments/{id}", tag = "payments",
    params(("id" = String, Path, description = "pay_...")),
    responses((status = 200, body = Payment), (status = 401, body = Problem), (status = 404, body = Problem)),
    security(("bearer" = []))
)]
pub async fn get_payment(
    State(state): State<AppState>,
    _merchant: Merchant,
    Path(id): Path<String>,
) -> ApiResult<axum::Json<Payment>> {
    let payment = repo::get(&state.db, &id)
        .await?
        .ok_or_else(|| ApiError::not_found("payment"))?;
    Ok(axum::Json(payment.to_api()))
}

/// Confirm a payment server-side with a payment method (Stripe).
#[utoipa::path(
    post, path = "/v1/payments/{id}/confirm", tag = "payments",
    params(("id" = String, Path, description = "pay_..."), ("Idempotency-Key" = Option<String>, Header, description = "Makes retries safe.")),
    request_body = ConfirmPayment,
    responses((status = 200, body = Payment), (status = 400, body = Problem), (status = 402, body = Problem), (status = 404, body = Problem), (status = 409, body = Problem)),
    security(("bearer" = []))
)]
pub async fn confirm_payment(
    State(state): State<AppState>,
    _merchant: Merchant,
    key: Option<RequestKey>,
    Path(id): Path<String>,
    Json(body): Json<ConfirmPayment>,
) -> ApiResult<axum::Json<Payment>> {
    let p = actions::run(
        &state,
        &id,
        Action::Confirm {
            payment_method: body.payment_method,
            attempt_key: actions::confirm_attempt_key(&id, key.as_ref()),
        },
        Cause::Api,
    )
    .await?;
    Ok(axum::Json(p.to_api()))
}

/// Capture an authorised payment, fully or partly (the rest is released).
#[utoipa::path(
    post, path = "/v1/payments/{id}/capture", tag = "payments",
    params(("id" = String, Path, description = "pay_..."), ("Idempotency-Key" = Option<String>, Header, description = "Makes retries safe.")),
    request_body = CapturePayment,
    responses((status = 200, body = Payment), (status = 400, body = Problem), (status = 404, body = Problem), (status = 409, body = Problem)),
    security(("bearer" = []))
)]
pub async fn capture_payment(
    State(state): State<AppState>,
    _merchant: Merchant,
    Path(id): Path<String>,
    Json(body): Json<CapturePayment>,
) -> ApiResult<axum::Json<Payment>> {
    let p = actions::run(
        &state,
        &id,
        Action::Capture {
            amount: body.amount,
        },
        Cause::Api,
    )
    .await?;
    Ok(axum::Json(p.to_api()))
}

/// Cancel (void) a payment before capture.
#[utoipa::path(
    post, path = "/v1/payments/{id}/cancel", tag = "payments",
    params(("id" = String, Path, description = "pay_..."), ("Idempotency-Key" = Option<String>, Header, description = "Makes retries safe.")),
    responses((status = 200, body = Payment), (status = 404, body = Problem), (status = 409, body = Problem)),
    security(("bearer" = []))
)]
pub async fn cancel_payment(
    State(state): State<AppState>,
    _merchant: Merchant,
    Path(id): Path<String>,
) -> ApiResult<axum::Json<Payment>> {
    let p = actions::run(&state, &id, Action::Cancel, Cause::Api).await?;
    Ok(axum::Json(p.to_api()))
}
