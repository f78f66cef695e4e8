//! The per-payment timeline: every change, with what caused it.

use crate::db::{Db, Tx};
use serde::Serialize;
use shared::api::PaymentStatus;
use sqlx::Row;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Cause {
    Api,
    Webhook,
    Admin,
    Reconciliation,
    Widget,
    /// The sweep that expires overdue checkout sessions.
    Expiry,
}

impl Cause {
    pub fn as_str(self) -> &'static str {
        match self {
            Cause::Api => "api",
            Cause::Webhook => "webhook",
            Cause::Admin => "admin",
            Cause::Reconciliation => "reconciliation",
            Cause::Widget => "widget",
            Cause::Expiry => "expiry",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TimelineEntry {
    pub at: i64,
    pub cause: String,
    pub kind: String,
    pub from_status: Option<String>,
    pub to_status: Option<String>,
    pub detail: serde_json::Value,
}

#[allow(clippy::too_many_arguments)]
pub async fn append(
    tx: &mut Tx,
    payment_id: &str,
    now_ms: i64,
    cause: Cause,
    kind: &str,
    from: Option<PaymentStatus>,
    to: Option<PaymentStatus>,
    detail: &serde_json::Value,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO payment_timeline (payment_id, at, cause, kind, from_status, to_status, detail) \
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(payment_id)
    .bind(now_ms)
    .bind(cause.as_str())
    .bind(kind)
    .bind(from.map(|s| s.as_str()))
    .bind(to.map(|s| s.as_str()))
    .bind(detail.to_string())
    .execute(&mut **tx)
    .await?;
    Ok(())
}

pub async fn list(db: &Db, payment_id: &str) -> Result<Vec<TimelineEntry>, sqlx::Error> {
    let rows = sqlx::query(
        "SELECT at, cause, kind, from_status, to_status, detail FROM payment_timeline \
         WHERE payment_id = $1 ORDER BY id",
    )
    .bind(payment_id)
    .fetch_all(&db.pool)
    .await?;
    rows.iter()
        .map(|r| {
            let detail: String = r.try_get("detail")?;
            Ok(TimelineEntry {
                at: r.try_get("at")?,
                cause: r.try_get("cause")?,
                kind: r.try_get("kind")?,
                from_status: r.try_get("from_status")?,
                to_status: r.try_get("to_status")?,
                detail: serde_json::from_str(&detail).unwrap_or(serde_json::Value::Null),
            })
        })
        .collect()
}
