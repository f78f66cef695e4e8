//! SQL of the event bus: the rows the relay's fan-out adds, leased in batches by a publisher
//! and marked published once the broker confirms them.

use crate::db::{placeholders, Db, Tx};
use sqlx::Row;

/// Adds the events to what the bus must publish, in the fan-out's transaction, in one statement
/// (the fan-out takes at most a few hundred events at a time). A repeat (another instance, a
/// crash before the fan-out's mark) adds nothing.
pub async fn enqueue(tx: &mut Tx, event_ids: &[&str], now_ms: i64) -> Result<(), sqlx::Error> {
    if event_ids.is_empty() {
        return Ok(());
    }
    let sql = format!(
        "INSERT INTO bus_publications (event_id, seq, next_attempt_at, created_at) \
         SELECT id, seq, $1, $2 FROM events WHERE id IN ({}) ON CONFLICT (event_id) DO NOTHING",
        placeholders(3, event_ids.len())
    );
    let mut query = sqlx::query(&sql).bind(now_ms).bind(now_ms);
    for id in event_ids {
        query = query.bind(*id);
    }
    query.execute(&mut **tx).await?;
    Ok(())
}

/// Leases up to `limit` unpublished, due rows (oldest event first) until `until_ms`, in one
/// statement; the outer condition is checked again on each locked row, so under concurrency
/// each row goes to one publisher. Returns the event ids in order.
pub async fn claim_due(
    db: &Db,
    now_ms: i64,
    until_ms: i64,
    limit: i64,
) -> Result<Vec<String>, sqlx::Error> {
    let rows = sqlx::query(
        "UPDATE bus_publications SET locked_until = $1 WHERE event_id IN (SELECT event_id \
         FROM bus_publications WHERE published_at IS NULL AND next_attempt_at <= $2 \
         AND (locked_until IS NULL OR locked_until < $3) ORDER BY seq LIMIT $4) \
         AND published_at IS NULL AND (locked_until IS NULL OR locked_until < $5) \
         RETURNING event_id, seq",
    )
    .bind(until_ms)
    .bind(now_ms)
    .bind(now_ms)
    .bind(limit)
    .bind(now_ms)
    .fetch_all(&db.pool)
    .await?;
    // RETURNING gives no order guarantee.
    let mut claimed = rows
        .iter()
        .map(|r| Ok((r.try_get::<i64, _>("seq")?, r.try_get("event_id")?)))
        .collect::<Result<Vec<(i64, String)>, sqlx::Error>>()?;
    claimed.sort();
    Ok(claimed.into_iter().map(|(_, id)| id).collect())
}

/// Marks events the broker confirmed as published.
pub async fn mark_published(db: &Db, event_ids: &[String], now_ms: i64) -> Result<(), sqlx::Error> {
    let mut tx = db.begin_write().await?;
    for id in event_ids {
        sqlx::query(
            "UPDATE bus_publications SET published_at = $1, attempts = attempts + 1, \
             locked_until = NULL WHERE event_id = $2",
        )
        .bind(now_ms)
        .bind(id)
        .execute(&mut *tx)
        .await?;
    }
    tx.commit().await
}

/// Gives events the broker did not confirm back, to be tried again from `next_attempt_at`.
pub async fn release(
    db: &Db,
    event_ids: &[String],
    next_attempt_at: i64,
) -> Result<(), sqlx::Error> {
    let mut tx = db.begin_write().await?;
    for id in event_ids {
        sqlx::query(
            "UPDATE bus_publications SET attempts = attempts + 1, locked_until = NULL, \
             next_attempt_at = $1 WHERE event_id = $2 AND published_at IS NULL",
        )
        .bind(next_attempt_at)
        .bind(id)
        .execute(&mut *tx)
        .await?;
    }
    tx.commit().await
}

/// How many events wait to be published.
pub async fn backlog(db: &Db) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar("SELECT COUNT(*) FROM bus_publications WHERE published_at IS NULL")
        .fetch_one(&db.pool)
        .await
}
