//! The RabbitMQ event bus (`RABBITMQ_URL`): every event the relay fans out while the bus is
//! configured is also published to a durable topic exchange (`RABBITMQ_EXCHANGE`, default
//! `paygate.events`), routing key = event type, in the same envelope as the webhooks and
//! `GET /v1/events`, persistent, `message_id` = event id, with publisher confirms: an event
//! counts as published only once the broker confirms it ([`broker`]).
//!
//! The publisher is a background job reading what to publish from the database ([`repo`]), so
//! the broker can be unreachable at start or go away at any time: payments go on, the backlog
//! waits in `bus_publications`, the job reconnects with backoff and publishes it when the broker
//! is back. Delivery is at least once (a confirm lost with the connection means the event is
//! sent again); consumers deduplicate by `message_id`. `/metrics` shows the backlog and whether
//! the broker is connected. Without `RABBITMQ_URL` none of this runs.

pub mod broker;
pub mod repo;

use crate::config::EventBusConfig;
use crate::state::AppState;
use broker::Broker;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;
use tokio::sync::watch;

const BATCH: i64 = 256;
/// A batch leased by a publisher that died is published by another after this.
const LEASE_MS: i64 = 60_000;
/// An event the broker refused (nack) is offered again after this.
const NACK_RETRY_MS: i64 = 1_000;
const RECONNECT_FIRST: Duration = Duration::from_millis(200);
const RECONNECT_MAX: Duration = Duration::from_secs(10);
/// A connection attempt or a batch's confirms that take longer mean a dead connection.
const BROKER_TIMEOUT: Duration = Duration::from_secs(20);

/// What `/metrics` reports about the bus.
#[derive(Default)]
pub struct BusHealth {
    connected: AtomicBool,
    published: AtomicU64,
}

impl BusHealth {
    pub fn connected(&self) -> bool {
        self.connected.load(Ordering::Relaxed)
    }

    /// Events this process published (confirmed by the broker) since it started.
    pub fn published(&self) -> u64 {
        self.published.load(Ordering::Relaxed)
    }
}

/// Connects, publishes while the connection lasts, reconnects with backoff; until `stopped`.
pub async fn run(
    state: AppState,
    config: EventBusConfig,
    poll: Duration,
    mut stopped: watch::Receiver<bool>,
) {
    let mut backoff = RECONNECT_FIRST;
    while !*stopped.borrow() {
        let broker = match tokio::time::timeout(BROKER_TIMEOUT, Broker::connect(&config)).await {
            Ok(Ok(broker)) => broker,
            failed => {
                let error = match failed {
                    Ok(Err(e)) => e.to_string(),
                    _ => "timed out".to_string(),
                };
                tracing::warn!(%error, retry_in_ms = backoff.as_millis() as u64, "cannot reach the event bus");
                tokio::select! {
                    _ = tokio::time::sleep(backoff) => {}
                    _ = stopped.changed() => {}
                }
                backoff = (backoff * 2).min(RECONNECT_MAX);
                continue;
            }
        };
        tracing::info!(exchange = %config.exchange, "event bus connected");
        state.bus_health.connected.store(true, Ordering::Relaxed);
        backoff = RECONNECT_FIRST;
        while !*stopped.borrow() && broker.is_usable() {
            let published = match publish_due(&state, &broker).await {
                Ok(Some(n)) => n,
                Ok(None) => break,
                Err(e) => {
                    tracing::error!(error = %e, "event bus pass failed");
                    0
                }
            };
            if published == 0 {
                tokio::select! {
                    _ = tokio::time::sleep(poll) => {}
                    _ = stopped.changed() => {}
                }
            }
        }
        state.bus_health.connected.store(false, Ordering::Relaxed);
        if !*stopped.borrow() {
            tracing::warn!("event bus connection lost; reconnecting");
        }
    }
}

/// Publishes one leased batch; the number published, or `None` when the connection broke.
async fn publish_due(state: &AppState, broker: &Broker) -> Result<Option<usize>, sqlx::Error> {
    let now = state.clock.now_ms();
    let ids = repo::claim_due(&state.db, now, now + LEASE_MS, BATCH).await?;
    if ids.is_empty() {
        return Ok(Some(0));
    }
    let mut events = Vec::with_capacity(ids.len());
    for id in &ids {
        if let Some(event) = crate::events::repo::get(&state.db, id).await? {
            events.push(event);
        }
    }
    let outcome = match tokio::time::timeout(BROKER_TIMEOUT, broker.publish(&events)).await {
        Ok(outcome) => outcome,
        Err(_) => broker::Published {
            unconfirmed: ids.clone(),
            broken: Some(broker::BrokerError::timed_out()),
            ..Default::default()
        },
    };
    let done = state.clock.now_ms();
    repo::mark_published(&state.db, &outcome.confirmed, done).await?;
    state
        .bus_health
        .published
        .fetch_add(outcome.confirmed.len() as u64, Ordering::Relaxed);
    // Lost with the connection: at once on the next one. Refused: after a pause.
    let retry_at = if outcome.broken.is_some() {
        done
    } else {
        done + NACK_RETRY_MS
    };
    repo::release(&state.db, &outcome.unconfirmed, retry_at).await?;
    match outcome.broken {
        Some(e) => {
            tracing::warn!(error = %e, unconfirmed = outcome.unconfirmed.len(), "event bus publish failed");
            Ok(None)
        }
        None => Ok(Some(outcome.confirmed.len())),
    }
}
