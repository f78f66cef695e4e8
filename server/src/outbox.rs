//! Outbox (DESIGN.md §4): every state change appends an event row in the same transaction as
//! the change. `GET /v1/events` lists them; a later relay publishes them.

use crate::db::Tx;
use crate::ids::new_id;

pub async fn record(
    tx: &mut Tx,
    kind: &str,
    object_id: &str,
    data: &serde_json::Value,
    now_ms: i64,
) -> Result<String, sqlx::Error> {
    let id = new_id("evt");
    sqlx::query(
        "INSERT INTO events (id, type, object_id, data, created_at) VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(&id)
    .bind(kind)
    .bind(object_id)
    .bind(data.to_string())
    .bind(now_ms)
    .execute(&mut **tx)
    .await?;
    Ok(id)
}
