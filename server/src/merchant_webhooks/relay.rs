//! The relay: a durable background job that fans each committed event out to the endpoints
//! that want it (one delivery row per event and endpoint) and sends the due deliveries, signed,
//! retrying with backoff. Everything it does is read from and written to the database, so an
//! event committed just before a crash is delivered after the restart, and several instances
//! share the work through leases (each delivery attempt is made by one of them).

use super::repo::{self, EndpointRecord};
use super::{signing, url};
use crate::state::AppState;
use futures::StreamExt;
use rand::Rng;
use shared::api::WebhookAttempt;
use std::sync::OnceLock;
use std::time::{Duration, Instant};
use tokio::sync::watch;

/// The delay before each retry, after the first attempt (made at once): about three days in
/// all, then the delivery is marked failed. Each delay gets up to 10% of random jitter, so
/// endpoints that failed together are not retried in lockstep.
pub const RETRY_DELAYS_MS: [i64; 7] = [
    5_000,
    5 * 60_000,
    30 * 60_000,
    2 * 3_600_000,
    5 * 3_600_000,
    10 * 3_600_000,
    10 * 3_600_000,
];
const TIMEOUT: Duration = Duration::from_secs(10);
const LEASE_MS: i64 = 60_000;
const RESPONSE_KEPT_BYTES: usize = 1024;
const BATCH: i64 = 64;
const CONCURRENCY: usize = 16;
/// How long the previous secret keeps signing after a rotation.
pub const ROTATION_OVERLAP_MS: i64 = 24 * 3_600_000;

/// Runs until `stopped` turns true, every `poll`.
pub async fn run(state: AppState, poll: Duration, mut stopped: watch::Receiver<bool>) {
    loop {
        let worked = match pass(&state).await {
            Ok(n) => n,
            Err(e) => {
                tracing::error!(error = %e, "merchant webhook relay pass failed");
                0
            }
        };
        if worked == 0 {
            tokio::select! {
                _ = tokio::time::sleep(poll) => {}
                _ = stopped.changed() => {}
            }
        }
        if *stopped.borrow() {
            return;
        }
    }
}

/// Fans out new events and sends due deliveries once; returns how much was done.
pub async fn pass(state: &AppState) -> Result<usize, sqlx::Error> {
    Ok(fan_out(state).await? + send_due(state).await?)
}

/// Makes the deliveries of events not fanned out yet, and (with `RABBITMQ_URL`) their
/// publications on the event bus, in the transaction that marks each event fanned out.
pub async fn fan_out(state: &AppState) -> Result<usize, sqlx::Error> {
    let events = repo::unfanned_events(&state.db, BATCH).await?;
    for (event_id, event_type) in &events {
        let mut tx = state.db.begin_write().await?;
        let endpoints = repo::enabled_endpoints(&mut tx).await?;
        repo::fan_out(
            &mut tx,
            event_id,
            event_type,
            &endpoints,
            state.clock.now_ms(),
        )
        .await?;
        if state.config.event_bus.is_some() {
            crate::event_bus::repo::enqueue(&mut tx, event_id, state.clock.now_ms()).await?;
        }
        tx.commit().await?;
    }
    Ok(events.len())
}

/// Sends every due delivery this instance can claim, several at a time.
pub async fn send_due(state: &AppState) -> Result<usize, sqlx::Error> {
    let now = state.clock.now_ms();
    let claimed = repo::claim_due(&state.db, now, now + LEASE_MS, BATCH).await?;
    let count = claimed.len();
    futures::stream::iter(claimed)
        .for_each_concurrent(CONCURRENCY, |id| async move {
            if let Err(e) = send_one(state, &id).await {
                tracing::error!(delivery = %id, error = %e, "could not record a webhook attempt");
            }
        })
        .await;
    Ok(count)
}

fn client() -> &'static reqwest::Client {
    static CLIENT: OnceLock<reqwest::Client> = OnceLock::new();
    CLIENT.get_or_init(|| {
        reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(TIMEOUT)
            .user_agent("paygate-webhooks/1")
            .build()
            .expect("HTTP client")
    })
}

/// The secrets that sign now: the current one, and the previous one during a rotation.
pub fn signing_secrets(state: &AppState, endpoint: &EndpointRecord) -> Vec<String> {
    let now = state.clock.now_ms();
    let context = super::SECRET_CONTEXT;
    let mut secrets = Vec::new();
    match state.cipher.decrypt(&endpoint.secret_ciphertext, context) {
        Ok(s) => secrets.push(s),
        Err(e) => {
            tracing::error!(endpoint = %endpoint.id, error = %e, "cannot decrypt a webhook secret")
        }
    }
    if let (Some(previous), Some(until)) = (
        &endpoint.previous_secret_ciphertext,
        endpoint.previous_secret_expires_at,
    ) {
        if now < until {
            if let Ok(s) = state.cipher.decrypt(previous, context) {
                secrets.push(s);
            }
        }
    }
    secrets
}

async fn send_one(state: &AppState, delivery_id: &str) -> Result<(), sqlx::Error> {
    let Some(delivery) = repo::load(&state.db, delivery_id).await? else {
        return Ok(());
    };
    let endpoint = repo::get(&state.db, &delivery.endpoint_id).await?;
    let event = crate::events::repo::get(&state.db, &delivery.event_id).await?;
    let started = Instant::now();
    let at = state.clock.now_ms();
    let outcome = match (endpoint, event) {
        (Some(endpoint), Some(event)) => {
            let body = serde_json::to_vec(&event).expect("an event serialises");
            post(state, &endpoint, &event.id, &body).await
        }
        _ => Err("the endpoint or the event no longer exists".to_string()),
    };
    let latency_ms = started.elapsed().as_millis() as i64;
    let (attempt, delivered) = match outcome {
        Ok((status, text)) => (
            WebhookAttempt {
                at,
                http_status: Some(status),
                error: None,
                latency_ms,
                response_body: Some(text),
            },
            (200..300).contains(&status),
        ),
        Err(error) => (
            WebhookAttempt {
                at,
                http_status: None,
                error: Some(error),
                latency_ms,
                response_body: None,
            },
            false,
        ),
    };
    let made = delivery.attempts + 1;
    let (status, next) = if delivered {
        ("delivered", at)
    } else {
        match RETRY_DELAYS_MS.get(made as usize - 1) {
            Some(delay) => {
                let jitter = rand::thread_rng().gen_range(0..=delay / 10);
                ("pending", at + delay + jitter)
            }
            None => ("failed", at),
        }
    };
    repo::record_attempt(&state.db, &delivery.id, &attempt, status, next).await
}

/// One signed POST; the status and the start of the answer, or why there was none.
async fn post(
    state: &AppState,
    endpoint: &EndpointRecord,
    msg_id: &str,
    body: &[u8],
) -> Result<(u16, String), String> {
    let target = url::validate(&endpoint.url, state.config.mode).map_err(|e| e.to_string())?;
    url::check_destination(&target, state.config.mode).await?;
    let timestamp = state.clock.now_secs();
    let signature =
        signing::signature_header(&signing_secrets(state, endpoint), msg_id, timestamp, body);
    let mut response = client()
        .post(target)
        .header("content-type", "application/json")
        .header("webhook-id", msg_id)
        .header("webhook-timestamp", timestamp.to_string())
        .header("webhook-signature", signature)
        .body(body.to_vec())
        .send()
        .await
        .map_err(|e| {
            if e.is_timeout() {
                "timed out".to_string()
            } else {
                format!("no answer: {e}")
            }
        })?;
    let status = response.status().as_u16();
    let mut kept = Vec::new();
    while kept.len() < RESPONSE_KEPT_BYTES {
        match response.chunk().await {
            Ok(Some(chunk)) => kept.extend_from_slice(&chunk),
            _ => break,
        }
    }
    kept.truncate(RESPONSE_KEPT_BYTES);
    Ok((status, String::from_utf8_lossy(&kept).into_owned()))
}
