//! `POST /demo/webhooks`: the shop's receiver for paygate's events, written as merchant code
//! should be. It verifies the signature on the raw bytes first (a refused delivery gets 400
//! and changes nothing), then, in one transaction, records the `webhook-id` and applies the
//! event: `checkout.session.completed` marks the session's order paid if the amount paid is
//! the order's, `checkout.session.expired` marks it expired. A delivery seen before is
//! acknowledged (2xx, so paygate stops retrying) without touching anything.

use super::orders;
use super::registration::endpoint_and_secret;
use super::signature;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::HeaderMap;
use serde::Deserialize;
use serde_json::{json, Value};

/// The part of paygate's event envelope the shop reads (docs/EVENTS.md); the rest is ignored.
#[derive(Deserialize)]
struct Envelope {
    #[serde(rename = "type")]
    kind: String,
    data: EventData,
}

#[derive(Deserialize)]
struct EventData {
    object: SessionObject,
}

/// The checkout session in `data.object`, for the two types the shop wants.
#[derive(Deserialize)]
struct SessionObject {
    id: String,
    #[serde(default)]
    amount_minor: Option<i64>,
    #[serde(default)]
    currency: Option<String>,
}

pub async fn receive(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<axum::Json<Value>> {
    let Some((_, secret)) = endpoint_and_secret(&state).await? else {
        return Err(unverified("the shop has no endpoint secret"));
    };
    let webhook_id = signature::verify(&secret, &headers, &body, state.clock.now_secs())
        .map_err(|reason| unverified(&reason.to_string()))?;
    let event: Envelope = serde_json::from_slice(&body).map_err(|_| {
        ApiError::bad_request(
            "malformed_webhook",
            "The body is not a paygate event about a checkout session.",
        )
    })?;
    let outcome = apply(&state, &webhook_id, &event).await?;
    tracing::info!(%webhook_id, event_type = %event.kind, ?outcome, "demo shop webhook");
    Ok(axum::Json(outcome.to_json()))
}

fn unverified(reason: &str) -> ApiError {
    tracing::warn!(%reason, "the demo shop refused a webhook delivery");
    ApiError::bad_request(
        "webhook_unverified",
        "The webhook signature could not be verified.",
    )
}

/// What a delivery did; the answer's body, which paygate keeps in its delivery log.
#[derive(Debug)]
enum Outcome {
    Duplicate,
    Settled { order: String, status: &'static str },
    Ignored(&'static str),
}

impl Outcome {
    fn to_json(&self) -> Value {
        match self {
            Outcome::Duplicate => json!({ "received": true, "duplicate": true }),
            Outcome::Settled { order, status } => {
                json!({ "received": true, "order": order, "status": status })
            }
            Outcome::Ignored(why) => json!({ "received": true, "ignored": why }),
        }
    }
}

async fn apply(state: &AppState, webhook_id: &str, event: &Envelope) -> ApiResult<Outcome> {
    let now = state.clock.now_ms();
    let mut tx = state.db.begin_write().await?;
    if !orders::record_receipt(&mut tx, webhook_id, &event.kind, now).await? {
        return Ok(Outcome::Duplicate);
    }
    let status = match event.kind.as_str() {
        "checkout.session.completed" => "paid",
        "checkout.session.expired" => "expired",
        _ => {
            tx.commit().await?;
            return Ok(Outcome::Ignored("not an event the shop acts on"));
        }
    };
    let session = &event.data.object;
    let Some(order) = orders::for_session(&state.db, &mut tx, &session.id).await? else {
        tx.commit().await?;
        return Ok(Outcome::Ignored("no demo order for this session"));
    };
    if status == "paid"
        && (session.amount_minor != Some(order.money.minor())
            || session.currency.as_deref() != Some(order.money.currency().code()))
    {
        // Never ship for less than the order's total; a person has to look at it.
        tracing::warn!(order = %order.id, session = %session.id, "the paid amount differs from the order's; not marked paid");
        tx.commit().await?;
        return Ok(Outcome::Ignored("the amount paid is not the order's"));
    }
    let outcome = if orders::settle(&mut tx, &order.id, status, webhook_id, now).await? {
        Outcome::Settled {
            order: order.id,
            status,
        }
    } else {
        Outcome::Ignored("the order was already settled")
    };
    tx.commit().await?;
    Ok(outcome)
}
