//! SQL for the outbox: events are appended in the transaction of the change they describe, and
//! listed newest first.

use crate::db::{Db, Insert, Tx};
use crate::ids::new_id;
use serde_json::json;
use shared::api::{Event, EVENTS_API_VERSION};
use sqlx::Row;

/// Appends an event about `object` (its full public form) in the caller's transaction, so it
/// commits (or not) with its change.
pub async fn record(
    tx: &mut Tx,
    kind: &str,
    object_id: &str,
    object: &serde_json::Value,
    now_ms: i64,
) -> Result<String, sqlx::Error> {
    record_data(tx, kind, object_id, &json!({ "object": object }), now_ms).await
}

/// [`record`] with a `data` of the caller's making: `{"object": ..., <more>}`.
pub async fn record_data(
    tx: &mut Tx,
    kind: &str,
    object_id: &str,
    data: &serde_json::Value,
    now_ms: i64,
) -> Result<String, sqlx::Error> {
    let (id, insert) = insert_data(kind, object_id, data, now_ms);
    insert.execute(tx).await?;
    Ok(id)
}

/// The event [`record`] appends, as an [`Insert`] for a write made only of inserts
/// (`Db::insert_all`).
pub fn insert(kind: &str, object_id: &str, object: &serde_json::Value, now_ms: i64) -> Insert {
    insert_data(kind, object_id, &json!({ "object": object }), now_ms).1
}

fn insert_data(
    kind: &str,
    object_id: &str,
    data: &serde_json::Value,
    now_ms: i64,
) -> (String, Insert) {
    debug_assert!(
        super::types::is_known(kind),
        "event type {kind} is missing from events::types::CATALOG"
    );
    let id = new_id("evt");
    let insert = Insert::new(
        "INSERT INTO events (id, type, object_id, data, created_at, api_version) \
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .text(id.clone())
    .text(kind.to_string())
    .text(object_id.to_string())
    .text(data.to_string())
    .int(now_ms)
    .text(EVENTS_API_VERSION.to_string());
    (id, insert)
}

/// Up to `limit` events older than the sequence number `before`, newest first, optionally only
/// about one object or of one type; each with its sequence number (the next page's cursor).
pub async fn list(
    db: &Db,
    before: i64,
    object_id: Option<&str>,
    kind: Option<&str>,
    limit: i64,
) -> Result<Vec<(i64, Event)>, sqlx::Error> {
    let rows = sqlx::query(
        "SELECT seq, id, type, data, created_at, api_version FROM events WHERE seq < $1 \
         AND ($2 = '' OR object_id = $3) AND ($4 = '' OR type = $5) ORDER BY seq DESC LIMIT $6",
    )
    .bind(before)
    .bind(object_id.unwrap_or_default())
    .bind(object_id.unwrap_or_default())
    .bind(kind.unwrap_or_default())
    .bind(kind.unwrap_or_default())
    .bind(limit)
    .fetch_all(&db.pool)
    .await?;
    rows.iter()
        .map(|row| {
            let text: String = row.try_get("data")?;
            Ok((
                row.try_get::<i64, _>("seq")?,
                Event {
                    id: row.try_get("id")?,
                    kind: row.try_get("type")?,
                    data: serde_json::from_str(&text).unwrap_or(serde_json::Value::Null),
                    created: row.try_get::<i64, _>("created_at")?.div_euclid(1000),
                    api_version: row.try_get("api_version")?,
                },
            ))
        })
        .collect()
}

/// The events `ids` in their envelopes, by id (those that exist).
pub async fn get_many(
    db: &Db,
    ids: &[String],
) -> Result<std::collections::HashMap<String, Event>, sqlx::Error> {
    let mut out = std::collections::HashMap::new();
    if ids.is_empty() {
        return Ok(out);
    }
    let sql = format!(
        "SELECT id, type, data, created_at, api_version FROM events WHERE id IN ({})",
        crate::db::placeholders(1, ids.len())
    );
    let mut query = sqlx::query(&sql);
    for id in ids {
        query = query.bind(id);
    }
    for row in query.fetch_all(&db.pool).await? {
        let event = event_from_row(&row)?;
        out.insert(event.id.clone(), event);
    }
    Ok(out)
}

fn event_from_row(row: &crate::db::Row) -> Result<Event, sqlx::Error> {
    let text: String = row.try_get("data")?;
    Ok(Event {
        id: row.try_get("id")?,
        kind: row.try_get("type")?,
        data: serde_json::from_str(&text).unwrap_or(serde_json::Value::Null),
        created: row.try_get::<i64, _>("created_at")?.div_euclid(1000),
        api_version: row.try_get("api_version")?,
    })
}

/// One event in its envelope.
pub async fn get(db: &Db, id: &str) -> Result<Option<Event>, sqlx::Error> {
    let row =
        sqlx::query("SELECT id, type, data, created_at, api_version FROM events WHERE id = $1")
            .bind(id)
            .fetch_optional(&db.pool)
            .await?;
    row.as_ref().map(event_from_row).transpose()
}
