//! The audit log of admin actions: who, what, to what, when, from where.
//! Rows are only ever appended.

use super::session::AdminAuth;
use crate::db::{Db, Tx};
use crate::error::{ApiError, ApiResult};
use crate::http::extract::Query;
use crate::state::AppState;
use axum::extract::State;
use axum::Json;
use serde::Deserialize;
use shared::api::admin::{AuditEntry, AuditPage};
use sqlx::Row;

/// Appends an entry inside the caller's transaction (so it commits with the change it records).
pub async fn record_in(
    tx: &mut Tx,
    actor: &str,
    action: &str,
    target: Option<&str>,
    detail: &serde_json::Value,
    ip: Option<&str>,
    now_ms: i64,
) -> Result<(), sqlx::Error> {
    insert(&mut **tx, actor, action, target, detail, ip, now_ms).await
}

/// Appends an entry on its own.
pub async fn record(
    db: &Db,
    actor: &str,
    action: &str,
    target: Option<&str>,
    detail: &serde_json::Value,
    ip: Option<&str>,
    now_ms: i64,
) -> Result<(), sqlx::Error> {
    insert(&db.pool, actor, action, target, detail, ip, now_ms).await
}

async fn insert<'e>(
    executor: impl sqlx::Executor<'e, Database = sqlx::Any>,
    actor: &str,
    action: &str,
    target: Option<&str>,
    detail: &serde_json::Value,
    ip: Option<&str>,
    now_ms: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO admin_audit (at, actor, action, target, detail, ip) VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(now_ms)
    .bind(actor)
    .bind(action)
    .bind(target)
    .bind(detail.to_string())
    .bind(ip)
    .execute(executor)
    .await?;
    Ok(())
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuditQuery {
    before: Option<i64>,
    limit: Option<u32>,
}

/// `GET /admin/api/audit`: newest first, paged by id.
pub async fn list(
    State(state): State<AppState>,
    _admin: AdminAuth,
    Query(query): Query<AuditQuery>,
) -> ApiResult<Json<AuditPage>> {
    let limit = query.limit.unwrap_or(50);
    if !(1..=200).contains(&limit) {
        return Err(ApiError::invalid(
            "limit",
            "The limit must be between 1 and 200.",
        ));
    }
    let rows = sqlx::query(
        "SELECT id, at, actor, action, target, detail, ip FROM admin_audit \
         WHERE id < $1 ORDER BY id DESC LIMIT $2",
    )
    .bind(query.before.unwrap_or(i64::MAX))
    .bind(i64::from(limit) + 1)
    .fetch_all(&state.db.pool)
    .await?;
    let mut data = rows
        .iter()
        .map(|r| {
            let detail: String = r.try_get("detail")?;
            Ok(AuditEntry {
                id: r.try_get("id")?,
                at: r.try_get("at")?,
                actor: r.try_get("actor")?,
                action: r.try_get("action")?,
                target: r.try_get("target")?,
                detail: serde_json::from_str(&detail).unwrap_or(serde_json::Value::Null),
                ip: r.try_get("ip")?,
            })
        })
        .collect::<Result<Vec<_>, sqlx::Error>>()?;
    let next_before = (data.len() > limit as usize).then(|| {
        data.truncate(limit as usize);
        data.last().map(|e| e.id)
    });
    Ok(Json(AuditPage {
        data,
        next_before: next_before.flatten(),
    }))
}
