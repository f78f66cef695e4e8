//! The relay: a durable background job that fans each committed event out to the endpoints
//! that want it (one delivery row per event and endpoint) and sends the due deliveries, signed,
//! retrying with backoff. Everything it does is read from and written to the database, so an
//! event committed just before a crash is delivered after the restart, and several instances
//! share the work through leases (each delivery attempt is made by one of them).

use super::repo::{self, EndpointRecord};
use super::{signing, url};
use crate::state::AppState;
use rand::Rng;
use shared::api::Event;
use shared::api::WebhookAttempt;
use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};
use tokio::sync::{mpsc, watch, Semaphore};

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
/// Deliveries claimed and not yet recorded, in this instance, at most...
const IN_FLIGHT: usize = 256;
/// ...and of one endpoint at most: claims are large (few writes, which matters on SQLite's one
/// write lock) and each endpoint's deliveries wait their turn in memory, under their lease
/// (128 / 32 senders x the 10 s limit = 40 s < the 60 s lease).
const QUEUED_PER_ENDPOINT: usize = 128;
/// Attempts in flight to one endpoint at most, so a slow or silent receiver holds a few
/// senders for its 10 s and the other endpoints' deliveries go on.
pub const PER_ENDPOINT: usize = 32;
/// Attempts recorded per transaction at most.
const RECORD_BATCH: usize = 256;
/// Events fanned out per transaction.
const FAN_OUT_BATCH: i64 = 256;
/// How long the previous secret keeps signing after a rotation.
pub const ROTATION_OVERLAP_MS: i64 = 24 * 3_600_000;

/// Runs until `stopped` turns true: the fan-out beside the sender. Each delivery is leased
/// from the database when claimed, sent by a task of its own (at most [`PER_ENDPOINT`] at once
/// per endpoint), and its attempt recorded in batches by the sender's loop, which also claims
/// (two writers in all, as SQLite has one write lock). A delivery stays leased until its attempt
/// is recorded, so no other sender takes it, and a crash before the record means it is sent
/// again when the lease runs out. On stop, the attempts under way finish and are recorded.
pub async fn run(state: AppState, poll: Duration, stopped: watch::Receiver<bool>) {
    tokio::join!(
        fan_out_loop(&state, poll, stopped.clone()),
        send_loop(&state, poll, stopped),
    );
}

async fn fan_out_loop(state: &AppState, poll: Duration, mut stopped: watch::Receiver<bool>) {
    while !*stopped.borrow() {
        let fanned = fan_out(state).await.unwrap_or_else(|e| {
            tracing::error!(error = %e, "merchant webhook fan-out failed");
            0
        });
        if fanned == 0 {
            tokio::select! {
                _ = tokio::time::sleep(poll) => {}
                _ = stopped.changed() => {}
            }
        }
    }
}

/// Deliveries claimed and not yet handed to the recorder, per endpoint.
type InFlight = Arc<Mutex<HashMap<String, usize>>>;
/// Each endpoint's senders ([`PER_ENDPOINT`] permits).
type Lanes = Arc<Mutex<HashMap<String, Arc<Semaphore>>>>;

async fn send_loop(state: &AppState, poll: Duration, mut stopped: watch::Receiver<bool>) {
    let (done, mut results) = mpsc::channel::<repo::Attempted>(IN_FLIGHT);
    let senders = Arc::new(Semaphore::new(IN_FLIGHT));
    let in_flight = InFlight::default();
    let lanes = Lanes::default();
    // Attempts started and not yet received back.
    let mut outstanding = 0usize;
    let mut finished_attempts = Vec::new();
    loop {
        while finished_attempts.len() < RECORD_BATCH {
            match results.try_recv() {
                Ok(a) => {
                    finished_attempts.push(a);
                    outstanding -= 1;
                }
                Err(_) => break,
            }
        }
        if !finished_attempts.is_empty() {
            record(state, &finished_attempts).await;
            finished_attempts.clear();
        }
        if *stopped.borrow() {
            if outstanding == 0 {
                return;
            }
            // Each task sends its one result; the 10 s limit bounds the wait.
            match tokio::time::timeout(TIMEOUT * 2, results.recv()).await {
                Ok(Some(a)) => {
                    finished_attempts.push(a);
                    outstanding -= 1;
                }
                _ => return,
            }
            continue;
        }
        let started = if senders.available_permits() > 0 {
            claim_and_send(state, &senders, &in_flight, &done, &lanes)
                .await
                .unwrap_or_else(|e| {
                    tracing::error!(error = %e, "merchant webhook sender failed");
                    0
                })
        } else {
            0
        };
        outstanding += started;
        if started == 0 {
            tokio::select! {
                got = results.recv() => {
                    if let Some(a) = got {
                        finished_attempts.push(a);
                        outstanding -= 1;
                    }
                }
                _ = tokio::time::sleep(poll) => {}
                _ = stopped.changed() => {}
            }
        }
    }
}

/// Claims due deliveries for the free senders, endpoint by endpoint within each one's share,
/// and starts a task for each; returns how many.
async fn claim_and_send(
    state: &AppState,
    senders: &Arc<Semaphore>,
    in_flight: &InFlight,
    done: &mpsc::Sender<repo::Attempted>,
    lanes: &Lanes,
) -> Result<usize, sqlx::Error> {
    let mut free = senders.available_permits();
    let (mut claimed, mut taken) = (Vec::new(), Vec::new());
    let now = state.clock.now_ms();
    for endpoint in repo::endpoints_with_due(&state.db, now).await? {
        let busy = in_flight
            .lock()
            .expect("in-flight counts")
            .get(&endpoint)
            .copied()
            .unwrap_or(0);
        // Refilled by halves: few, large claims.
        let room = QUEUED_PER_ENDPOINT.saturating_sub(busy);
        if room < QUEUED_PER_ENDPOINT / 2 || free == 0 {
            continue;
        }
        let room = room.min(free);
        let now = state.clock.now_ms();
        let ids = repo::claim_due(&state.db, &endpoint, now, now + LEASE_MS, room as i64).await?;
        free -= ids.len();
        *in_flight
            .lock()
            .expect("in-flight counts")
            .entry(endpoint.clone())
            .or_default() += ids.len();
        taken.push((endpoint, ids.len()));
        claimed.extend(ids);
    }
    if claimed.is_empty() {
        return Ok(0);
    }
    let deliveries = match load_and_prepare(state, &claimed).await {
        Ok(loaded) => loaded,
        Err(e) => {
            // Their leases run out and they are claimed again.
            let mut counts = in_flight.lock().expect("in-flight counts");
            for (endpoint, n) in taken {
                for _ in 0..n {
                    finished(&mut counts, &endpoint);
                }
            }
            return Err(e);
        }
    };
    let started = deliveries.0.len();
    let (deliveries, events, signers) = deliveries;
    for delivery in deliveries {
        let sender = senders.clone().acquire_owned().await.expect("never closed");
        let signer = signers.get(&delivery.endpoint_id).cloned().flatten();
        let event = events.get(&delivery.event_id).cloned();
        let lane = lanes
            .lock()
            .expect("endpoint lanes")
            .entry(delivery.endpoint_id.clone())
            .or_insert_with(|| Arc::new(Semaphore::new(PER_ENDPOINT)))
            .clone();
        let (state, done, in_flight) = (state.clone(), done.clone(), in_flight.clone());
        tokio::spawn(async move {
            let endpoint_id = delivery.endpoint_id.clone();
            // The endpoint's turn: at most PER_ENDPOINT of its attempts at once.
            let turn = lane.acquire_owned().await.expect("never closed");
            let attempted = attempt(&state, delivery, signer.as_deref(), event.as_ref()).await;
            drop(turn);
            // Handed to the recorder (the delivery stays leased until it is recorded).
            let _ = done.send(attempted).await;
            finished(
                &mut in_flight.lock().expect("in-flight counts"),
                &endpoint_id,
            );
            drop(sender);
        });
    }
    Ok(started)
}

fn finished(counts: &mut HashMap<String, usize>, endpoint_id: &str) {
    if let Some(n) = counts.get_mut(endpoint_id) {
        *n -= 1;
        if *n == 0 {
            counts.remove(endpoint_id);
        }
    }
}

type Prepared = (
    Vec<repo::Claimed>,
    HashMap<String, Event>,
    HashMap<String, Option<Arc<Signer>>>,
);

/// The claimed deliveries with their events and endpoints (and the secrets that sign now), read
/// once per claim.
async fn load_and_prepare(state: &AppState, claimed: &[String]) -> Result<Prepared, sqlx::Error> {
    let deliveries = repo::load_many(&state.db, claimed).await?;
    let event_ids: Vec<String> = deliveries.iter().map(|d| d.event_id.clone()).collect();
    let events = crate::events::repo::get_many(&state.db, &event_ids).await?;
    let mut signers = HashMap::new();
    for d in &deliveries {
        if !signers.contains_key(&d.endpoint_id) {
            let signer = repo::get(&state.db, &d.endpoint_id).await?.map(|endpoint| {
                Arc::new(Signer {
                    secrets: signing_secrets(state, &endpoint),
                    endpoint,
                })
            });
            signers.insert(d.endpoint_id.clone(), signer);
        }
    }
    Ok((deliveries, events, signers))
}

/// Records finished attempts in one transaction; on failure their leases run out and they are
/// sent again.
async fn record(state: &AppState, attempts: &[repo::Attempted]) {
    match repo::record_attempts(&state.db, attempts).await {
        Ok(disabled) => {
            for endpoint in disabled {
                tracing::warn!(%endpoint, "webhook endpoint disabled: every attempt failed for 5 days");
            }
        }
        Err(e) => tracing::error!(
            error = %e,
            attempts = attempts.len(),
            "could not record webhook attempts; they are sent again when their lease runs out"
        ),
    }
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
    repo::fan_out(&mut tx, &events, &endpoints, now).await?;
    if state.config.event_bus.is_some() {
        let ids: Vec<&str> = events.iter().map(|(id, _)| id.as_str()).collect();
        crate::event_bus::repo::enqueue(&mut tx, &ids, now).await?;
    }
    tx.commit().await?;
    Ok(events.len())
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
