//! Test knobs (secret key required; JSON bodies):
//! - `POST /_emulator/faults` `{"latency_ms", "fail_next", "status", "should_retry",
//!   "retry_after", "reset_next", "lose_response_next", "processing_next", "redirect_next"}`
//!   (each optional);
//!   `DELETE /_emulator/faults` clears them all;
//! - `GET /_emulator/state`: counts of every kind of object, events, queued deliveries, keys;
//! - `POST /_emulator/disputes` `{"payment_intent", "reason"?, "amount"?, "inquiry"?}`: opens a
//!   dispute (or an inquiry) on the PaymentIntent's captured charge (`charge.dispute.created`).

use super::error::{ApiError, ApiResult};
use super::faults::{self, FaultsRequest};
use super::http::{authenticate, new_request_id};
use super::store::{Origin, View};
use super::App;
use crate::common::util::count_by_status;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::IntoResponse;
use bytes::Bytes;
use serde::Deserialize;
use serde_json::{json, Value};

fn require_secret(headers: &HeaderMap, app: &App) -> Result<(), ApiError> {
    match authenticate(headers, app)? {
        View::Secret => Ok(()),
        View::Publishable => Err(ApiError::publishable_key_not_allowed()),
    }
}

fn faults_json(app: &App) -> Value {
    let faults = app.faults.lock().expect("faults lock").clone();
    let (processing_next, redirect_next) = {
        let store = app.store.lock().expect("store lock");
        (store.processing_next, store.redirect_next)
    };
    let mut v = serde_json::to_value(faults).unwrap_or(Value::Null);
    v["processing_next"] = json!(processing_next);
    v["redirect_next"] = json!(redirect_next);
    v
}

fn parse<T: for<'de> Deserialize<'de>>(body: &Bytes) -> Result<T, ApiError> {
    serde_json::from_slice(body).map_err(|e| ApiError::invalid(format!("Invalid JSON body: {e}")))
}

pub async fn set_faults(State(app): State<App>, headers: HeaderMap, body: Bytes) -> ApiResult {
    require_secret(&headers, &app)?;
    let request: FaultsRequest = parse(&body)?;
    faults::apply(&mut app.faults.lock().expect("faults lock"), &request)
        .map_err(ApiError::invalid)?;
    {
        let mut store = app.store.lock().expect("store lock");
        if let Some(n) = request.processing_next {
            store.processing_next = n;
        }
        if let Some(n) = request.redirect_next {
            store.redirect_next = n;
        }
    }
    Ok(axum::Json(faults_json(&app)).into_response())
}

pub async fn clear_faults(State(app): State<App>, headers: HeaderMap) -> ApiResult {
    require_secret(&headers, &app)?;
    *app.faults.lock().expect("faults lock") = Default::default();
    {
        let mut store = app.store.lock().expect("store lock");
        store.processing_next = 0;
        store.redirect_next = 0;
    }
    Ok(axum::Json(faults_json(&app)).into_response())
}

pub async fn state(State(app): State<App>, headers: HeaderMap) -> ApiResult {
    require_secret(&headers, &app)?;
    let idempotency_keys = app.idempotency.lock().expect("idempotency lock").len();
    let deliveries = app.webhook_sender.attempts();
    let store = app.store.lock().expect("store lock");
    let count = |status: &str| {
        store
            .charges
            .values()
            .filter(|c| c.status == status)
            .count()
    };
    let pi_status = count_by_status(store.payment_intents.values().map(|pi| pi.status));
    let v = json!({
        "api_version": super::store::API_VERSION,
        "payment_intents": store.payment_intents.len(),
        "payment_intents_by_status": pi_status,
        "payment_methods": store.payment_methods.len(),
        "charges": {"succeeded": count("succeeded"), "failed": count("failed"), "pending": count("pending"),
                    "captured": store.charges.values().filter(|c| c.captured).count()},
        "customers": store.customers.values().filter(|c| !c.deleted).count(),
        "products": store.products.len(),
        "prices": store.prices.len(),
        "subscriptions": store.subscriptions.len(),
        "invoices": store.invoices.len(),
        "refunds": store.refunds.len(),
        "disputes": store.disputes.len(),
        "events": store.events.len(),
        "webhooks": store.webhooks.summary(
            deliveries.len(),
            deliveries.iter().filter(|d| d.delivered).count(),
        ),
        // The events a receiver acknowledged with a 2xx: crash tests check that each of them
        // was applied, since an acknowledged event is never sent again.
        "acknowledged_events": acknowledged(&deliveries),
        "idempotency_keys": idempotency_keys,
    });
    drop(store);
    let mut v = v;
    v["faults"] = faults_json(&app);
    Ok(axum::Json(v).into_response())
}

/// The ids of the events some attempt delivered, once each, in the order first delivered.
fn acknowledged(deliveries: &[super::DeliveryAttempt]) -> Vec<&str> {
    let mut seen = std::collections::HashSet::new();
    deliveries
        .iter()
        .filter(|d| d.delivered && seen.insert(d.event_id.as_str()))
        .map(|d| d.event_id.as_str())
        .collect()
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct DisputeRequest {
    payment_intent: String,
    reason: Option<String>,
    amount: Option<i64>,
    /// An inquiry (`warning_needs_response`) rather than a dispute.
    inquiry: Option<bool>,
}

const REASONS: &[&str] = &[
    "bank_cannot_process",
    "check_returned",
    "credit_not_processed",
    "customer_initiated",
    "debit_not_authorized",
    "duplicate",
    "fraudulent",
    "general",
    "incorrect_account_details",
    "insufficient_funds",
    "product_not_received",
    "product_unacceptable",
    "subscription_canceled",
    "unrecognized",
];

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct WebhookEndpointRequest {
    api_version: String,
}

/// Sets the API version the emulator's webhook endpoint renders events at, as
/// `POST /v1/webhook_endpoints/{id}` with `api_version` would at Stripe.
pub async fn set_webhook_endpoint(
    State(app): State<App>,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult {
    require_secret(&headers, &app)?;
    let request: WebhookEndpointRequest = parse(&body)?;
    let Some(version) = super::versions::SUPPORTED
        .into_iter()
        .find(|v| *v == request.api_version)
    else {
        return Err(ApiError::invalid(format!(
            "The emulator renders events at {}, not {}",
            super::versions::SUPPORTED.join(" or "),
            request.api_version
        ))
        .with_param("api_version"));
    };
    app.store.lock().expect("store lock").webhook_api_version = version;
    Ok(axum::Json(serde_json::json!({ "api_version": version })).into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AccountRequest {
    settlement_currency: Option<String>,
}

/// Sets the account's default settlement currency (`null`: every charge settles in its own).
pub async fn set_account(State(app): State<App>, headers: HeaderMap, body: Bytes) -> ApiResult {
    require_secret(&headers, &app)?;
    let request: AccountRequest = parse(&body)?;
    let currency = match &request.settlement_currency {
        None => None,
        Some(code) => Some(
            shared::Currency::from_code(&code.to_ascii_uppercase()).map_err(|_| {
                ApiError::invalid(format!("Invalid currency: {code}"))
                    .with_param("settlement_currency")
            })?,
        ),
    };
    app.store.lock().expect("store lock").settlement_currency = currency;
    Ok(axum::Json(serde_json::json!({
        "settlement_currency": currency.map(|c| c.code().to_ascii_lowercase())
    }))
    .into_response())
}

pub async fn create_dispute(State(app): State<App>, headers: HeaderMap, body: Bytes) -> ApiResult {
    require_secret(&headers, &app)?;
    let request: DisputeRequest = parse(&body)?;
    let reason = request.reason.unwrap_or_else(|| "fraudulent".into());
    if !REASONS.contains(&reason.as_str()) {
        return Err(
            ApiError::invalid(format!("Unknown dispute reason: {reason}")).with_param("reason"),
        );
    }
    let origin = Origin {
        request_id: Some(new_request_id()),
        idempotency_key: None,
    };
    app.run(|store| {
        let pi = store
            .payment_intents
            .get(&request.payment_intent)
            .ok_or_else(|| {
                ApiError::no_such("payment_intent", &request.payment_intent, "payment_intent")
            })?;
        let charge = pi
            .latest_charge
            .clone()
            .filter(|c| {
                store
                    .charges
                    .get(c)
                    .is_some_and(|c| c.captured && c.status == "succeeded")
            })
            .ok_or_else(|| {
                ApiError::invalid("This PaymentIntent has no captured charge to dispute.")
            })?;
        let captured = store.charges[&charge].amount_captured;
        let amount = request.amount.unwrap_or(captured);
        if amount < 1 || amount > captured {
            return Err(ApiError::invalid(format!(
                "The dispute amount must be between 1 and the captured amount ({captured})."
            ))
            .with_param("amount"));
        }
        let id = super::charging::create_dispute(
            store,
            &origin,
            &charge,
            &reason,
            Some(amount),
            request.inquiry.unwrap_or(false),
        )
        .ok_or_else(|| ApiError::invalid("No such charge."))?;
        let v = store.dispute_json(&store.disputes[&id]);
        Ok((StatusCode::OK, axum::Json(v)).into_response())
    })
}
