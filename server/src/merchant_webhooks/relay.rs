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
use shared::api::Event;
use shared::api::WebhookAttempt;
use std::collections::HashMap;
use std::sync::OnceLock;
use std::time::{Duration, Instant};
use tokio::sync::watch;

/// The delay before each retry, after the first attempt (made at once): Svix's published
/// schedule (5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h: about 28 hours; e.g.
/// https://resend.com/docs/webhooks/retries-and-replays), then two daily retries, so a delivery is tried for about three days in all (as Stripe does) before it is
/// marked failed. Each delay gets up to 10% of random jitter, so endpoints that failed together
/// are not retried in lockstep.
pub const RETRY_DELAYS_MS: [i64; 9] = [
    5_000,
    5 * 60_000,
    30 * 60_000,
    2 * 3_600_000,
    5 * 3_600_000,
    10 * 3_600_000,
    10 * 3_600_000,
    24 * 3_600_000,
    24 * 3_600_000,
];
const TIMEOUT: Duration = Duration::from_secs(10);
const LEASE_MS: i64 = 60_000;
const RESPONSE_KEPT_BYTES: usize = 1024;
/// Deliveries leased per pass; with [`CONCURRENCY`] sends at a time and the 10 s time limit a
/// pass ends within the lease even if every receiver times out (4 rounds of 10 s < 60 s).
const BATCH: i64 = 128;
const CONCURRENCY: usize = 32;
/// Events fanned out per transaction.
const FAN_OUT_BATCH: i64 = 256;
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

/// Fans out new events and sends due deliveries once, the two at the same time (while one
/// waits on the database or a receiver the other works); returns how much was done.
pub async fn pass(state: &AppState) -> Result<usize, sqlx::Error> {
    let (fanned, sent) = tokio::join!(fan_out(state), send_due(state));
    Ok(fanned? + sent?)
}

/// Makes the deliveries of a batch of events not fanned out yet, and (with `RABBITMQ_URL`) their
/// publications on the event bus, in the one transaction that marks each event fanned out.
pub async fn fan_out(state: &AppState) -> Result<usize, sqlx::Error> {
    let events = repo::unfanned_events(&state.db, FAN_OUT_BATCH).await?;
    if events.is_empty() {
        return Ok(0);
    }
    let now = state.clock.now_ms();
    let mut tx = state.db.begin_write().await?;
    let endpoints = repo::enabled_endpoints(&mut tx).await?;
    for (event_id, event_type) in &events {
        repo::fan_out(&mut tx, event_id, event_type, &endpoints, now).await?;
        if state.config.event_bus.is_some() {
            crate::event_bus::repo::enqueue(&mut tx, event_id, now).await?;
        }
    }
    tx.commit().await?;
    Ok(events.len())
}

/// Sends every due delivery this instance can claim, several at a time, then records the
/// batch's attempts in one transaction (a crash in between means those are sent again: at
/// least once).
pub async fn send_due(state: &AppState) -> Result<usize, sqlx::Error> {
    let now = state.clock.now_ms();
    let claimed = repo::claim_due(&state.db, now, now + LEASE_MS, BATCH).await?;
    if claimed.is_empty() {
        return Ok(0);
    }
    let deliveries = repo::load_many(&state.db, &claimed).await?;
    let event_ids: Vec<String> = deliveries.iter().map(|d| d.event_id.clone()).collect();
    let events = crate::events::repo::get_many(&state.db, &event_ids).await?;
    let mut endpoints: HashMap<String, Option<Signer>> = HashMap::new();
    for d in &deliveries {
        if !endpoints.contains_key(&d.endpoint_id) {
            let signer = repo::get(&state.db, &d.endpoint_id)
                .await?
                .map(|endpoint| Signer {
                    secrets: signing_secrets(state, &endpoint),
                    endpoint,
                });
            endpoints.insert(d.endpoint_id.clone(), signer);
        }
    }
    let (events, endpoints) = (&events, &endpoints);
    let attempts: Vec<repo::Attempted> = futures::stream::iter(deliveries)
        .map(|delivery| async move {
            let endpoint = endpoints
                .get(&delivery.endpoint_id)
                .and_then(Option::as_ref);
            let event = events.get(&delivery.event_id);
            attempt(state, delivery, endpoint, event).await
        })
        .buffer_unordered(CONCURRENCY)
        .collect()
        .await;
    let count = attempts.len();
    for endpoint in repo::record_attempts(&state.db, &attempts).await? {
        tracing::warn!(%endpoint, "webhook endpoint disabled: every attempt failed for 5 days");
    }
    Ok(count)
}

/// An endpoint with the secrets that sign for it now.
struct Signer {
    endpoint: EndpointRecord,
    secrets: Vec<String>,
}

/// One attempt of `delivery`, and the delivery's next state.
async fn attempt(
    state: &AppState,
    delivery: repo::Claimed,
    signer: Option<&Signer>,
    event: Option<&Event>,
) -> repo::Attempted {
    let started = Instant::now();
    let at = state.clock.now_ms();
    let outcome = match (signer, event) {
        (Some(signer), Some(event)) => {
            let body = serde_json::to_vec(event).expect("an event serialises");
            post(state, signer, &event.id, &body).await
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
    let (status, next_attempt_at) = if delivered {
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
    repo::Attempted {
        delivery,
        attempt,
        status,
        next_attempt_at,
    }
}

/// The delivery client: no redirects (a 3xx is an answer, recorded and retried like any
/// non-2xx), a time limit, and unless local destinations are allowed, a resolver that answers
/// only with public addresses.
fn client(policy: url::Policy) -> &'static reqwest::Client {
    static OPEN: OnceLock<reqwest::Client> = OnceLock::new();
    static PUBLIC_ONLY: OnceLock<reqwest::Client> = OnceLock::new();
    let build = |public_only: bool| {
        let builder = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(TIMEOUT)
            .user_agent("paygate-webhooks/1");
        let builder = if public_only {
            builder.dns_resolver(std::sync::Arc::new(url::PublicOnly))
        } else {
            builder
        };
        builder.build().expect("HTTP client")
    };
    if policy.allow_local {
        OPEN.get_or_init(|| build(false))
    } else {
        PUBLIC_ONLY.get_or_init(|| build(true))
    }
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

/// One signed POST; the status and the start of the answer, or why there was none.
async fn post(
    state: &AppState,
    signer: &Signer,
    msg_id: &str,
    body: &[u8],
) -> Result<(u16, String), String> {
    let policy = url::Policy::of(&state.config);
    let target = url::validate(&signer.endpoint.url, policy).map_err(|e| e.to_string())?;
    url::check_destination(&target, policy).await?;
    let timestamp = state.clock.now_secs();
    let signature = signing::signature_header(&signer.secrets, msg_id, timestamp, body);
    let mut response = client(policy)
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
