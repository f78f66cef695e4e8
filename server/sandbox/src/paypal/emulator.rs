//! Test knobs (an access token or the client credentials required; JSON bodies):
//! - `POST /_emulator/faults` `{"latency_ms", "fail_next", "status", "retry_after",
//!   "reset_next", "lose_response_next", "expire_tokens"}` (each optional);
//!   `DELETE /_emulator/faults` clears them all;
//! - `GET /_emulator/state`: counts of every kind of object, tokens, events and deliveries;
//! - `POST /_emulator/captures/{id}/complete` and `/deny`: settle a `PENDING` capture
//!   (`PAYMENT.CAPTURE.COMPLETED` or `PAYMENT.CAPTURE.DENIED`);
//! - `POST /_emulator/captures/{id}/reverse`: a chargeback takes back what is left of a
//!   completed capture (`PAYMENT.CAPTURE.REVERSED`);
//! - `POST /_emulator/refunds/pending` `{"next": N}`: the next N refunds are `PENDING`
//!   (`status_details.reason` `ECHECK`: the balance does not cover them);
//!   `POST /_emulator/refunds/{id}/complete`, `/fail` and `/cancel` settle one
//!   (`PAYMENT.CAPTURE.REFUNDED` on completion only);
//! - `POST /_emulator/disputes` `{"capture_id", "reason"?, "inquiry"?}` (default an inquiry),
//!   `/_emulator/disputes/{id}/escalate`, `/_emulator/disputes/{id}/resolve` `{"outcome"}`: a
//!   buyer's case through its stages (`CUSTOMER.DISPUTE.*`, `disputes.rs`);
//! - `POST /_emulator/orders/{id}/reverse-approval`: PayPal reverses an approval before
//!   capture (`CHECKOUT.PAYMENT-APPROVAL.REVERSED`; the order becomes `VOIDED`), as it does by
//!   itself 3 hours after an approval nobody acted on.

use super::error::{Api, ApiError, ApiResult};
use super::faults::{self, FaultsRequest};
use super::http::json_response;
use super::oauth::{bearer, valid_client, TokenKind};
use super::App;
use crate::common::util::count_by_status;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use bytes::Bytes;
use serde_json::{json, Value};

fn authorize(headers: &HeaderMap, app: &App) -> Result<(), ApiError> {
    if valid_client(app, headers) {
        return Ok(());
    }
    let now = app.config.clock.now_ms();
    let kind = bearer(headers).and_then(|t| app.tokens.lock().expect("tokens lock").check(&t, now));
    match kind {
        Some(TokenKind::Client) => Ok(()),
        Some(TokenKind::Facilitator) => Err(ApiError::permission_denied(Api::Orders)),
        None => Err(ApiError::authentication_failure(Api::Orders)),
    }
}

fn bad(description: &str) -> ApiError {
    ApiError::invalid(
        Api::Orders,
        "/",
        None,
        "INVALID_PARAMETER_VALUE",
        description,
    )
}

fn faults_json(app: &App) -> Value {
    serde_json::to_value(app.faults.lock().expect("faults lock").clone()).unwrap_or(Value::Null)
}

pub async fn set_faults(State(app): State<App>, headers: HeaderMap, body: Bytes) -> ApiResult {
    authorize(&headers, &app)?;
    let request: FaultsRequest =
        serde_json::from_slice(&body).map_err(|e| bad(&format!("Invalid knobs: {e}")))?;
    faults::apply(&mut app.faults.lock().expect("faults lock"), &request).map_err(|e| bad(&e))?;
    if request.expire_tokens == Some(true) {
        app.tokens.lock().expect("tokens lock").expire_all();
    }
    Ok(json_response(StatusCode::OK, faults_json(&app)))
}

pub async fn clear_faults(State(app): State<App>, headers: HeaderMap) -> ApiResult {
    authorize(&headers, &app)?;
    *app.faults.lock().expect("faults lock") = Default::default();
    Ok(json_response(StatusCode::OK, faults_json(&app)))
}

pub async fn state(State(app): State<App>, headers: HeaderMap) -> ApiResult {
    authorize(&headers, &app)?;
    let now = app.config.clock.now_ms();
    let (issued, live) = {
        let t = app.tokens.lock().expect("tokens lock");
        (t.issued, t.live(now))
    };
    let request_ids = app.request_ids.lock().expect("request ids lock").len();
    let attempts = app.webhook_sender.attempts();
    let store = app.store.lock().expect("store lock");
    let v = json!({
        "orders": count_by_status(store.orders.values().map(|o| o.status)),
        "authorizations": count_by_status(store.authorizations.values().map(|a| a.status)),
        "captures": count_by_status(store.captures.values().map(|c| c.status)),
        "refunds": store.refunds.len(),
        "events": store.events.len(),
        "webhooks": store.webhooks.summary(
            attempts.len(),
            attempts.iter().filter(|d| d.delivered).count(),
        ),
        "tokens": {"issued": issued, "live": live},
        "request_ids": request_ids,
    });
    drop(store);
    let mut v = v;
    v["faults"] = faults_json(&app);
    Ok(json_response(StatusCode::OK, v))
}

fn settle(app: &App, id: &str, complete: bool) -> ApiResult {
    app.run(|store| store.settle_capture(id, complete))
        .map_err(|e| bad(&e))?;
    let store = app.store.lock().expect("store lock");
    let c = &store.captures[id];
    Ok(json_response(StatusCode::OK, store.capture_json(c, true)))
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct PendingRefunds {
    next: u32,
}

pub async fn pending_refunds(State(app): State<App>, headers: HeaderMap, body: Bytes) -> ApiResult {
    authorize(&headers, &app)?;
    let request: PendingRefunds =
        serde_json::from_slice(&body).map_err(|e| bad(&format!("Invalid knob: {e}")))?;
    app.store.lock().expect("store lock").pending_refunds_next = request.next;
    Ok(json_response(
        StatusCode::OK,
        json!({ "next": request.next }),
    ))
}

/// Settles a pending refund as `outcome` (`COMPLETED`, `FAILED` or `CANCELLED`).
pub async fn settle_refund(
    State(app): State<App>,
    headers: HeaderMap,
    Path((id, action)): Path<(String, String)>,
) -> ApiResult {
    authorize(&headers, &app)?;
    let outcome = match action.as_str() {
        "complete" => "COMPLETED",
        "fail" => "FAILED",
        "cancel" => "CANCELLED",
        _ => return Err(bad("The action is complete, fail or cancel.")),
    };
    app.run(|store| store.settle_refund(&id, outcome))
        .map_err(|e| bad(&e))?;
    let store = app.store.lock().expect("store lock");
    Ok(json_response(
        StatusCode::OK,
        store.refund_json(&store.refunds[&id]),
    ))
}

pub async fn complete_capture(
    State(app): State<App>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> ApiResult {
    authorize(&headers, &app)?;
    settle(&app, &id, true)
}

pub async fn deny_capture(
    State(app): State<App>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> ApiResult {
    authorize(&headers, &app)?;
    settle(&app, &id, false)
}

pub async fn reverse_capture(
    State(app): State<App>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> ApiResult {
    authorize(&headers, &app)?;
    let refund = app
        .run(|store| store.reverse_capture(&id))
        .map_err(|e| bad(&e))?;
    let store = app.store.lock().expect("store lock");
    Ok(json_response(
        StatusCode::OK,
        store.refund_json(&store.refunds[&refund]),
    ))
}

pub async fn reverse_approval(
    State(app): State<App>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> ApiResult {
    authorize(&headers, &app)?;
    if !app.run(|store| store.reverse_approval(&id)) {
        return Err(bad("The order is not APPROVED."));
    }
    let store = app.store.lock().expect("store lock");
    Ok(json_response(
        StatusCode::OK,
        store.order_json(&store.orders[&id], super::store::OrderView::Full),
    ))
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct DisputeRequest {
    capture_id: String,
    reason: Option<String>,
    inquiry: Option<bool>,
}

const DISPUTE_REASONS: &[&str] = &[
    "MERCHANDISE_OR_SERVICE_NOT_RECEIVED",
    "MERCHANDISE_OR_SERVICE_NOT_AS_DESCRIBED",
    "UNAUTHORISED",
    "CREDIT_NOT_PROCESSED",
    "DUPLICATE_TRANSACTION",
    "INCORRECT_AMOUNT",
    "PAYMENT_BY_OTHER_MEANS",
    "CANCELED_RECURRING_BILLING",
    "PROBLEM_WITH_REMITTANCE",
    "OTHER",
];

/// `POST /_emulator/disputes` `{"capture_id", "reason"?, "inquiry"?}`: a buyer opens a case.
pub async fn open_dispute(State(app): State<App>, headers: HeaderMap, body: Bytes) -> ApiResult {
    authorize(&headers, &app)?;
    let request: DisputeRequest =
        serde_json::from_slice(&body).map_err(|e| bad(&format!("Invalid dispute: {e}")))?;
    let reason = request
        .reason
        .unwrap_or_else(|| "MERCHANDISE_OR_SERVICE_NOT_RECEIVED".into());
    if !DISPUTE_REASONS.contains(&reason.as_str()) {
        return Err(bad(&format!("Unknown dispute reason {reason}")));
    }
    let id = app
        .run(|store| {
            store.open_dispute(
                &request.capture_id,
                &reason,
                request.inquiry.unwrap_or(true),
            )
        })
        .map_err(|e| bad(&e))?;
    let store = app.store.lock().expect("store lock");
    Ok(json_response(
        StatusCode::OK,
        super::disputes::dispute_json(&store.base, &store.disputes[&id]),
    ))
}

/// `POST /_emulator/disputes/{id}/escalate`: the inquiry becomes a claim PayPal reviews.
pub async fn escalate_dispute(
    State(app): State<App>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> ApiResult {
    authorize(&headers, &app)?;
    app.run(|store| store.escalate_dispute(&id))
        .map_err(|e| bad(&e))?;
    let store = app.store.lock().expect("store lock");
    Ok(json_response(
        StatusCode::OK,
        super::disputes::dispute_json(&store.base, &store.disputes[&id]),
    ))
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct ResolveRequest {
    outcome: String,
}

/// `POST /_emulator/disputes/{id}/resolve` `{"outcome"}`: PayPal decides.
pub async fn resolve_dispute(
    State(app): State<App>,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: Bytes,
) -> ApiResult {
    authorize(&headers, &app)?;
    let request: ResolveRequest =
        serde_json::from_slice(&body).map_err(|e| bad(&format!("Invalid outcome: {e}")))?;
    app.run(|store| store.resolve_dispute(&id, &request.outcome))
        .map_err(|e| bad(&e))?;
    let store = app.store.lock().expect("store lock");
    Ok(json_response(
        StatusCode::OK,
        super::disputes::dispute_json(&store.base, &store.disputes[&id]),
    ))
}
