//! The inbox's table, `provider_events`: verified webhooks stored once each, then leased, applied
//! and marked by the worker.

use super::batch;
use crate::crypto::{CryptoError, DataCipher};
use crate::db::Db;
use crate::state::AppState;
use shared::api::admin::ParkedProviderEvent;
use shared::api::ProviderName;
use sqlx::Row;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stored {
    New,
    Duplicate,
}

/// Associated data of the encrypted `provider_events.payload`. Webhook bodies carry payer names,
/// emails and addresses, so they are kept encrypted like the customer columns.
pub const PAYLOAD_CONTEXT: &str = "provider_events.payload";

/// One event's insert (the batch's statement with a single row).
static INSERT_ONE: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
    format!(
        "{}($1, $2, $3, $4, $5, $6){}",
        batch::INSERT,
        batch::ON_CONFLICT
    )
});

/// Stores a verified event once, its body encrypted; a second delivery of the same event id is a
/// no-op. The event is durable before this returns (the provider is acknowledged after it).
/// Concurrent deliveries share commits: on SQLite through the group writer ([`Db::write`]), on
/// PostgreSQL as one multi-row insert ([`super::batch`]), instead of one commit and one sync each.
pub async fn store(
    state: &AppState,
    provider: ProviderName,
    event_id: &str,
    event_type: &str,
    payload: &str,
) -> Result<Stored, sqlx::Error> {
    let (db, now_ms) = (&state.db, state.clock.now_ms());
    // Encrypted before the write: the writer's time is for writing.
    let sealed = state.cipher.encrypt(payload, PAYLOAD_CONTEXT);
    let (event_id, event_type) = (event_id.to_string(), event_type.to_string());
    if !db.commits_in_groups() {
        let row = batch::Row {
            provider: provider.as_str(),
            event_id,
            event_type,
            sealed_payload: sealed,
            now_ms,
        };
        return batch::store(&state.inbox_batch, row).await;
    }
    let inserted = db
        .write(move |tx| {
            Box::pin(async move {
                let done = sqlx::query(&INSERT_ONE)
                    .bind(provider.as_str())
                    .bind(event_id)
                    .bind(event_type)
                    .bind(sealed)
                    .bind(now_ms)
                    .bind(now_ms)
                    .execute(&mut **tx)
                    .await?;
                Ok(done.rows_affected())
            })
        })
        .await?;
    Ok(if inserted == 1 {
        Stored::New
    } else {
        Stored::Duplicate
    })
}

/// A stored event's processing state, for tools and tests.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventState {
    pub event_type: String,
    pub processed: bool,
    pub outcome: Option<String>,
    pub attempts: i64,
    pub payment_id: Option<String>,
    pub last_error: Option<String>,
}

pub async fn state_of(
    db: &Db,
    provider: ProviderName,
    event_id: &str,
) -> Result<Option<EventState>, sqlx::Error> {
    let row = sqlx::query(
        "SELECT event_type, processed_at, outcome, attempts, payment_id, last_error \
         FROM provider_events WHERE provider = $1 AND event_id = $2",
    )
    .bind(provider.as_str())
    .bind(event_id)
    .fetch_optional(&db.pool)
    .await?;
    row.map(|r| {
        Ok(EventState {
            event_type: r.try_get("event_type")?,
            processed: r.try_get::<Option<i64>, _>("processed_at")?.is_some(),
            outcome: r.try_get("outcome")?,
            attempts: r.try_get("attempts")?,
            payment_id: r.try_get("payment_id")?,
            last_error: r.try_get("last_error")?,
        })
    })
    .transpose()
}

/// What a replay request did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Requeue {
    /// Due now, with a fresh set of attempts.
    Queued,
    /// A worker holds it right now: try again in a moment.
    Busy,
    /// No such stored event.
    Unknown,
}

/// Marks a stored event for another application (the replay tool), with a fresh set of
/// attempts, unless a worker holds its lease (two workers must never apply one event at once).
/// Applying is idempotent through the state machine, so a replay can never move a payment
/// backwards.
pub async fn requeue(
    db: &Db,
    provider: ProviderName,
    event_id: &str,
    now_ms: i64,
) -> Result<Requeue, sqlx::Error> {
    let done = sqlx::query(
        "UPDATE provider_events SET processed_at = NULL, outcome = NULL, next_attempt_at = $1, \
         locked_until = NULL, attempts = 0 WHERE provider = $2 AND event_id = $3 \
         AND (locked_until IS NULL OR locked_until < $4)",
    )
    .bind(now_ms)
    .bind(provider.as_str())
    .bind(event_id)
    .bind(now_ms)
    .execute(&db.pool)
    .await?;
    if done.rows_affected() == 1 {
        return Ok(Requeue::Queued);
    }
    Ok(match state_of(db, provider, event_id).await? {
        Some(_) => Requeue::Busy,
        None => Requeue::Unknown,
    })
}

/// Unprocessed events due now and not leased by a worker, oldest first.
pub async fn due(db: &Db, now_ms: i64, limit: i64) -> Result<Vec<i64>, sqlx::Error> {
    sqlx::query_scalar(
        "SELECT id FROM provider_events WHERE processed_at IS NULL AND next_attempt_at <= $1 \
         AND (locked_until IS NULL OR locked_until < $2) ORDER BY id LIMIT $3",
    )
    .bind(now_ms)
    .bind(now_ms)
    .bind(limit)
    .fetch_all(&db.pool)
    .await
}

/// Leases the event to this worker until `until_ms` unless another holds a live lease or it
/// was processed meanwhile. Returns whether this worker got it.
pub async fn claim(db: &Db, id: i64, now_ms: i64, until_ms: i64) -> Result<bool, sqlx::Error> {
    Ok(sqlx::query(
        "UPDATE provider_events SET locked_until = $1 WHERE id = $2 AND processed_at IS NULL \
         AND (locked_until IS NULL OR locked_until < $3)",
    )
    .bind(until_ms)
    .bind(id)
    .bind(now_ms)
    .execute(&db.pool)
    .await?
    .rows_affected()
        == 1)
}

/// A stored event as the worker applies it.
pub struct StoredEvent {
    pub provider: String,
    pub event_id: String,
    pub event_type: String,
    /// The decrypted body, or why it cannot be (a data key missing from the configuration).
    pub payload: Result<String, CryptoError>,
    pub attempts: i64,
}

pub async fn load(db: &Db, cipher: &DataCipher, id: i64) -> Result<StoredEvent, sqlx::Error> {
    let row = sqlx::query(
        "SELECT provider, event_id, event_type, payload, attempts FROM provider_events WHERE id = $1",
    )
    .bind(id)
    .fetch_one(&db.pool)
    .await?;
    Ok(StoredEvent {
        provider: row.try_get("provider")?,
        event_id: row.try_get("event_id")?,
        event_type: row.try_get("event_type")?,
        payload: open_payload(cipher, &row.try_get::<String, _>("payload")?),
        attempts: row.try_get("attempts")?,
    })
}

/// A stored body: encrypted, or plaintext from a version before bodies were encrypted (until
/// `paygate keys rotate-data-key` encrypts it).
pub fn open_payload(cipher: &DataCipher, stored: &str) -> Result<String, CryptoError> {
    cipher.decrypt_or_plain(stored, PAYLOAD_CONTEXT)
}

/// Marks the event processed with its outcome; inside the transaction of its effects when it
/// had any, so the change and "processed" commit together.
pub async fn mark_processed<'e, E>(
    executor: E,
    id: i64,
    outcome: &str,
    payment_id: Option<&str>,
    error: Option<&str>,
    now_ms: i64,
) -> Result<(), sqlx::Error>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    sqlx::query(
        "UPDATE provider_events SET processed_at = $1, outcome = $2, payment_id = $3, \
         attempts = attempts + 1, locked_until = NULL, last_error = $4 WHERE id = $5",
    )
    .bind(now_ms)
    .bind(outcome)
    .bind(payment_id)
    .bind(error)
    .bind(id)
    .execute(executor)
    .await
    .map(|_| ())
}

/// Releases the event's lease and schedules its next attempt (the object it is about is not
/// known yet, or its provider is not enabled).
pub async fn retry_at(db: &Db, id: i64, at_ms: i64, reason: &str) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE provider_events SET attempts = attempts + 1, next_attempt_at = $1, \
         locked_until = NULL, last_error = $2 WHERE id = $3",
    )
    .bind(at_ms)
    .bind(reason)
    .bind(id)
    .execute(&db.pool)
    .await
    .map(|_| ())
}

/// Gives up on an event after its last attempt: kept as processed with the outcome `parked`
/// and its reason, so the worker leaves it alone until it is replayed. Only if nobody replayed
/// it since it was loaded with `attempts` (a replay resets them): a replay is never lost.
pub async fn park(
    db: &Db,
    id: i64,
    attempts: i64,
    reason: &str,
    now_ms: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE provider_events SET processed_at = $1, outcome = 'parked', \
         attempts = attempts + 1, locked_until = NULL, last_error = $2 \
         WHERE id = $3 AND attempts = $4 AND processed_at IS NULL",
    )
    .bind(now_ms)
    .bind(reason)
    .bind(id)
    .bind(attempts)
    .execute(&db.pool)
    .await
    .map(|_| ())
}

/// Parked events, newest first (at most `limit`).
pub async fn parked(db: &Db, limit: i64) -> Result<Vec<ParkedProviderEvent>, sqlx::Error> {
    let rows = sqlx::query(
        "SELECT provider, event_id, event_type, received_at, processed_at, attempts, last_error \
         FROM provider_events WHERE outcome = 'parked' ORDER BY processed_at DESC, id DESC LIMIT $1",
    )
    .bind(limit)
    .fetch_all(&db.pool)
    .await?;
    rows.iter()
        .map(|r| {
            Ok(ParkedProviderEvent {
                provider: r.try_get("provider")?,
                event_id: r.try_get("event_id")?,
                event_type: r.try_get("event_type")?,
                received_at: r.try_get("received_at")?,
                parked_at: r.try_get("processed_at")?,
                attempts: r.try_get("attempts")?,
                reason: r.try_get("last_error")?,
            })
        })
        .collect()
}
