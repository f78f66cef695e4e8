//! SQL for payment links. A link's paid sessions are counted from `checkout_sessions` (indexed
//! by link and status) rather than kept in a counter, so the count can never drift from the
//! sessions themselves.

use super::record::{LinkRecord, Price, COLUMNS};
use crate::db::{Db, Tx};
use crate::events;
use serde_json::json;
use sqlx::Row as _;
use std::collections::HashMap;

/// Stores a new link and its `payment_link.created` event, in one transaction.
pub async fn insert(db: &Db, link: &LinkRecord, public_url: &str) -> Result<(), sqlx::Error> {
    let (amount, minimum, maximum, preset) = match &link.price {
        Price::Fixed(money) => (Some(money.minor()), None, None, None),
        Price::Custom {
            minimum,
            maximum,
            preset,
        } => (
            None,
            Some(minimum.minor()),
            Some(maximum.minor()),
            preset.map(|p| p.minor()),
        ),
    };
    let providers = link
        .providers
        .iter()
        .map(|p| p.as_str())
        .collect::<Vec<_>>()
        .join(",");
    let mut tx = db.begin_write().await?;
    sqlx::query(&format!(
        "INSERT INTO payment_links ({COLUMNS}) VALUES \
         ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18)"
    ))
    .bind(&link.id)
    .bind(i64::from(link.active))
    .bind(link.currency.code())
    .bind(amount)
    .bind(json!(link.line_items).to_string())
    .bind(minimum)
    .bind(maximum)
    .bind(preset)
    .bind(&link.description)
    .bind(json!(link.metadata).to_string())
    .bind(&link.success_url)
    .bind(&link.cancel_url)
    .bind(providers)
    .bind(link.capture_mode.as_str())
    .bind(link.completed_limit)
    .bind(link.expires_at)
    .bind(link.created_at)
    .bind(link.updated_at)
    .execute(&mut *tx)
    .await?;
    events::record(
        &mut tx,
        "payment_link.created",
        &link.id,
        &json!(link.to_api(public_url, link.created_at, 0)),
        link.created_at,
    )
    .await?;
    tx.commit().await
}

pub async fn get(db: &Db, id: &str) -> Result<Option<LinkRecord>, sqlx::Error> {
    if !crate::ids::has_shape(id, "plink") {
        return Ok(None);
    }
    let row = sqlx::query(&format!(
        "SELECT {COLUMNS} FROM payment_links WHERE id = $1"
    ))
    .bind(id)
    .fetch_optional(&db.pool)
    .await?;
    row.as_ref().map(LinkRecord::from_row).transpose()
}

/// The link, locked for the rest of the transaction (on PostgreSQL; SQLite's write transaction
/// already excludes every other writer), so two visitors cannot both take its last place.
pub async fn get_for_update(
    db: &Db,
    tx: &mut Tx,
    id: &str,
) -> Result<Option<LinkRecord>, sqlx::Error> {
    let row = sqlx::query(&format!(
        "SELECT {COLUMNS} FROM payment_links WHERE id = $1{}",
        db.for_update()
    ))
    .bind(id)
    .fetch_optional(&mut **tx)
    .await?;
    row.as_ref().map(LinkRecord::from_row).transpose()
}

/// Links newest first, after the `(created_at, id)` cursor; up to `limit + 1` (the extra one
/// tells whether more follow). `active`: only links with that switch.
pub async fn page(
    db: &Db,
    before: Option<(i64, String)>,
    active: Option<bool>,
    limit: i64,
) -> Result<Vec<LinkRecord>, sqlx::Error> {
    let (at, id) = before.unwrap_or((i64::MAX, String::new()));
    let rows = sqlx::query(&format!(
        "SELECT {COLUMNS} FROM payment_links \
         WHERE created_at <= $1 AND (created_at < $2 OR id < $3 OR $4 = '') \
         AND ($5 < 0 OR active = $6) ORDER BY created_at DESC, id DESC LIMIT $7"
    ))
    .bind(at)
    .bind(at)
    .bind(&id)
    .bind(&id)
    .bind(active.map_or(-1, i64::from))
    .bind(active.map_or(-1, i64::from))
    .bind(limit + 1)
    .fetch_all(&db.pool)
    .await?;
    rows.iter().map(LinkRecord::from_row).collect()
}

/// How many sessions of each link are paid.
pub async fn completed_counts(
    db: &Db,
    ids: &[String],
) -> Result<HashMap<String, i64>, sqlx::Error> {
    let mut counts = HashMap::new();
    if ids.is_empty() {
        return Ok(counts);
    }
    let sql = format!(
        "SELECT payment_link_id, CAST(COUNT(*) AS BIGINT) AS n FROM checkout_sessions \
         WHERE payment_link_id IN ({}) AND status = 'complete' GROUP BY payment_link_id",
        crate::db::placeholders(1, ids.len())
    );
    let mut query = sqlx::query(&sql);
    for id in ids {
        query = query.bind(id);
    }
    for row in query.fetch_all(&db.pool).await? {
        counts.insert(row.try_get("payment_link_id")?, row.try_get("n")?);
    }
    Ok(counts)
}

pub async fn completed_count(db: &Db, id: &str) -> Result<i64, sqlx::Error> {
    Ok(completed_counts(db, &[id.to_string()])
        .await?
        .get(id)
        .copied()
        .unwrap_or(0))
}

/// The link's places taken at `now_ms`, read in the caller's transaction: sessions paid, and
/// sessions still open (each may yet be paid).
pub async fn places_taken(tx: &mut Tx, id: &str, now_ms: i64) -> Result<Taken, sqlx::Error> {
    let row = sqlx::query(
        "SELECT CAST(COALESCE(SUM(CASE WHEN status = 'complete' THEN 1 ELSE 0 END), 0) AS BIGINT) AS paid, \
         CAST(COALESCE(SUM(CASE WHEN status = 'open' AND expires_at > $1 THEN 1 ELSE 0 END), 0) AS BIGINT) AS open \
         FROM checkout_sessions WHERE payment_link_id = $2 AND status IN ('complete', 'open')",
    )
    .bind(now_ms)
    .bind(id)
    .fetch_one(&mut **tx)
    .await?;
    Ok(Taken {
        paid: row.try_get("paid")?,
        open: row.try_get("open")?,
    })
}

#[derive(Debug, Clone, Copy)]
pub struct Taken {
    pub paid: i64,
    pub open: i64,
}

/// Sets the link's switch and records `payment_link.updated` if it changed; the link as it is
/// now, or `None` if there is no such link.
pub async fn set_active(
    db: &Db,
    id: &str,
    active: bool,
    public_url: &str,
    now_ms: i64,
) -> Result<Option<LinkRecord>, sqlx::Error> {
    let mut tx = db.begin_write().await?;
    let Some(mut link) = get_for_update(db, &mut tx, id).await? else {
        return Ok(None);
    };
    if link.active != active {
        sqlx::query("UPDATE payment_links SET active = $1, updated_at = $2 WHERE id = $3")
            .bind(i64::from(active))
            .bind(now_ms)
            .bind(id)
            .execute(&mut *tx)
            .await?;
        link.active = active;
        link.updated_at = now_ms;
        let completed = places_taken(&mut tx, id, now_ms).await?.paid;
        events::record(
            &mut tx,
            "payment_link.updated",
            id,
            &json!(link.to_api(public_url, now_ms, completed)),
            now_ms,
        )
        .await?;
    }
    tx.commit().await?;
    Ok(Some(link))
}
