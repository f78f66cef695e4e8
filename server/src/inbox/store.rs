use crate::db::Db;
use shared::api::ProviderName;
use sqlx::Row;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stored {
    New,
    Duplicate,
}

/// Stores a verified event once; a second delivery of the same event id is a no-op.
pub async fn store(
    db: &Db,
    provider: ProviderName,
    event_id: &str,
    event_type: &str,
    payload: &str,
    now_ms: i64,
) -> Result<Stored, sqlx::Error> {
    let done = sqlx::query(
        "INSERT INTO provider_events (provider, event_id, event_type, payload, received_at, next_attempt_at) \
         VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (provider, event_id) DO NOTHING",
    )
    .bind(provider.as_str())
    .bind(event_id)
    .bind(event_type)
    .bind(payload)
    .bind(now_ms)
    .bind(now_ms)
    .execute(&db.pool)
    .await?;
    Ok(if done.rows_affected() == 1 {
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

/// Marks a stored event for another application (the replay tool). Applying is idempotent
/// through the state machine, so a replay can never move a payment backwards.
pub async fn requeue(
    db: &Db,
    provider: ProviderName,
    event_id: &str,
    now_ms: i64,
) -> Result<bool, sqlx::Error> {
    let done = sqlx::query(
        "UPDATE provider_events SET processed_at = NULL, outcome = NULL, next_attempt_at = $1, \
         locked_until = NULL WHERE provider = $2 AND event_id = $3",
    )
    .bind(now_ms)
    .bind(provider.as_str())
    .bind(event_id)
    .execute(&db.pool)
    .await?;
    Ok(done.rows_affected() == 1)
}
