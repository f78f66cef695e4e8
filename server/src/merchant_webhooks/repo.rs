//! SQL for merchant webhook endpoints, their deliveries and the attempts of each.

use crate::db::{placeholders, value_rows, Db, Row, Tx};
use crate::ids::new_id;
use serde_json::json;
use shared::api::{WebhookAttempt, WebhookDelivery, WebhookEndpoint};
use sqlx::Row as _;
use std::collections::BTreeMap;

#[derive(Debug, Clone)]
pub struct EndpointRecord {
    pub id: String,
    pub url: String,
    pub description: Option<String>,
    pub enabled_events: Vec<String>,
    pub status: String,
    pub secret_ciphertext: String,
    pub previous_secret_ciphertext: Option<String>,
    pub previous_secret_expires_at: Option<i64>,
    /// Unix ms of the first failed attempt since the last successful one.
    pub failing_since: Option<i64>,
    /// `failing` when paygate disabled the endpoint.
    pub disabled_reason: Option<String>,
    pub created_at: i64,
    pub updated_at: i64,
}

const ENDPOINT_COLUMNS: &str = "id, url, description, enabled_events, status, secret_ciphertext, \
    previous_secret_ciphertext, previous_secret_expires_at, failing_since, disabled_reason, \
    created_at, updated_at";

impl EndpointRecord {
    fn from_row(row: &Row) -> Result<EndpointRecord, sqlx::Error> {
        let events: String = row.try_get("enabled_events")?;
        Ok(EndpointRecord {
            id: row.try_get("id")?,
            url: row.try_get("url")?,
            description: row.try_get("description")?,
            enabled_events: serde_json::from_str(&events).map_err(|e| {
                sqlx::Error::Decode(format!("webhook_endpoints.enabled_events: {e}").into())
            })?,
            status: row.try_get("status")?,
            secret_ciphertext: row.try_get("secret_ciphertext")?,
            previous_secret_ciphertext: row.try_get("previous_secret_ciphertext")?,
            previous_secret_expires_at: row.try_get("previous_secret_expires_at")?,
            failing_since: row.try_get("failing_since")?,
            disabled_reason: row.try_get("disabled_reason")?,
            created_at: row.try_get("created_at")?,
            updated_at: row.try_get("updated_at")?,
        })
    }

    /// The API's view; `secret` only in the answer that made it.
    pub fn to_api(&self, secret: Option<String>) -> WebhookEndpoint {
        WebhookEndpoint {
            id: self.id.clone(),
            url: self.url.clone(),
            description: self.description.clone(),
            enabled_events: self.enabled_events.clone(),
            status: self.status.clone(),
            disabled_reason: self.disabled_reason.clone(),
            failing_since: self.failing_since.map(|ms| ms.div_euclid(1000)),
            secret,
            created: self.created_at.div_euclid(1000),
        }
    }

    /// Whether events of `kind` go to this endpoint: `*`, the exact type, or a `prefix.*`.
    pub fn wants(&self, kind: &str) -> bool {
        self.enabled_events.iter().any(|pattern| {
            pattern == "*"
                || pattern == kind
                || pattern
                    .strip_suffix('*')
                    .is_some_and(|prefix| prefix.ends_with('.') && kind.starts_with(prefix))
        })
    }
}

pub async fn insert(db: &Db, e: &EndpointRecord) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO webhook_endpoints (id, url, description, enabled_events, status, \
         secret_ciphertext, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(&e.id)
    .bind(&e.url)
    .bind(&e.description)
    .bind(json!(e.enabled_events).to_string())
    .bind(&e.status)
    .bind(&e.secret_ciphertext)
    .bind(e.created_at)
    .bind(e.updated_at)
    .execute(&db.pool)
    .await
    .map(|_| ())
}

pub async fn get(db: &Db, id: &str) -> Result<Option<EndpointRecord>, sqlx::Error> {
    let row = sqlx::query(&format!(
        "SELECT {ENDPOINT_COLUMNS} FROM webhook_endpoints WHERE id = $1"
    ))
    .bind(id)
    .fetch_optional(&db.pool)
    .await?;
    row.as_ref().map(EndpointRecord::from_row).transpose()
}

/// Every endpoint, oldest first (a merchant has a handful).
pub async fn list(db: &Db) -> Result<Vec<EndpointRecord>, sqlx::Error> {
    let rows = sqlx::query(&format!(
        "SELECT {ENDPOINT_COLUMNS} FROM webhook_endpoints ORDER BY created_at, id"
    ))
    .fetch_all(&db.pool)
    .await?;
    rows.iter().map(EndpointRecord::from_row).collect()
}

/// Writes the endpoint's url, description, events, status and secrets.
pub async fn update(db: &Db, e: &EndpointRecord) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE webhook_endpoints SET url = $1, description = $2, enabled_events = $3, status = $4, \
         secret_ciphertext = $5, previous_secret_ciphertext = $6, previous_secret_expires_at = $7, \
         disabled_reason = $8, failing_since = $9, updated_at = $10 WHERE id = $11",
    )
    .bind(&e.url)
    .bind(&e.description)
    .bind(json!(e.enabled_events).to_string())
    .bind(&e.status)
    .bind(&e.secret_ciphertext)
    .bind(&e.previous_secret_ciphertext)
    .bind(e.previous_secret_expires_at)
    .bind(&e.disabled_reason)
    .bind(e.failing_since)
    .bind(e.updated_at)
    .bind(&e.id)
    .execute(&db.pool)
    .await
    .map(|_| ())
}

/// Deletes the endpoint with its deliveries and their attempts. Returns whether it existed.
pub async fn delete(db: &Db, id: &str) -> Result<bool, sqlx::Error> {
    let mut tx = db.begin_write().await?;
    sqlx::query(
        "DELETE FROM webhook_attempts WHERE delivery_id IN \
         (SELECT id FROM webhook_deliveries WHERE endpoint_id = $1)",
    )
    .bind(id)
    .execute(&mut *tx)
    .await?;
    sqlx::query("DELETE FROM webhook_deliveries WHERE endpoint_id = $1")
        .bind(id)
        .execute(&mut *tx)
        .await?;
    let gone = sqlx::query("DELETE FROM webhook_endpoints WHERE id = $1")
        .bind(id)
        .execute(&mut *tx)
        .await?
        .rows_affected()
        == 1;
    tx.commit().await?;
    Ok(gone)
}

/// Events not fanned out to the endpoints yet, in commit-independent order of writing. Each is
/// marked on its own row when fanned out: an event whose transaction committed late (after
/// later ones were fanned out) is still found here.
pub async fn unfanned_events(db: &Db, limit: i64) -> Result<Vec<(String, String)>, sqlx::Error> {
    let rows =
        sqlx::query("SELECT id, type FROM events WHERE published_at IS NULL ORDER BY seq LIMIT $1")
            .bind(limit)
            .fetch_all(&db.pool)
            .await?;
    rows.iter()
        .map(|r| Ok((r.try_get("id")?, r.try_get("type")?)))
        .collect()
}

/// Rows per multi-row statement of the relay: 7 parameters a row at most (3,584 a statement),
/// far under SQLite's 32,766 and PostgreSQL's 65,535.
const ROWS_PER_STATEMENT: usize = 512;

/// Makes one pending delivery per endpoint that wants each event, and marks the events fanned
/// out, in the caller's transaction and in a few multi-row statements (not two per event). A
/// repeat (another instance, a crash before the mark) adds nothing.
pub async fn fan_out(
    tx: &mut Tx,
    events: &[(String, String)],
    endpoints: &[EndpointRecord],
    now_ms: i64,
) -> Result<(), sqlx::Error> {
    let deliveries: Vec<(&str, &str, &str)> = events
        .iter()
        .flat_map(|(event_id, event_type)| {
            endpoints
                .iter()
                .filter(|e| e.wants(event_type))
                .map(move |e| (e.id.as_str(), event_id.as_str(), event_type.as_str()))
        })
        .collect();
    for chunk in deliveries.chunks(ROWS_PER_STATEMENT) {
        const COLUMNS: usize = 7;
        let rows = (0..chunk.len())
            .map(|r| {
                let at = |i: usize| r * COLUMNS + i;
                format!(
                    "({}, 'pending', 0, {})",
                    placeholders(at(1), 4),
                    placeholders(at(5), 3)
                )
            })
            .collect::<Vec<_>>()
            .join(", ");
        let sql = format!(
            "INSERT INTO webhook_deliveries (id, endpoint_id, event_id, event_type, status, attempts, \
             next_attempt_at, created_at, updated_at) VALUES {rows} \
             ON CONFLICT (endpoint_id, event_id) DO NOTHING"
        );
        let mut query = sqlx::query(&sql);
        for (endpoint_id, event_id, event_type) in chunk {
            query = query
                .bind(new_id("whd"))
                .bind(*endpoint_id)
                .bind(*event_id)
                .bind(*event_type)
                .bind(now_ms)
                .bind(now_ms)
                .bind(now_ms);
        }
        query.execute(&mut **tx).await?;
    }
    // By id alone: with `published_at IS NULL` beside the list, PostgreSQL planned the update
    // through the `(published_at, seq)` index and walked the whole unpublished backlog for each
    // statement (the drain of a 100,000-event backlog fell to about 500/s). Marking an event a
    // second time (another instance fanned it out too) only moves its time.
    for chunk in events.chunks(ROWS_PER_STATEMENT) {
        let sql = format!(
            "UPDATE events SET published_at = $1 WHERE id IN ({})",
            placeholders(2, chunk.len())
        );
        let mut query = sqlx::query(&sql).bind(now_ms);
        for (event_id, _) in chunk {
            query = query.bind(event_id);
        }
        query.execute(&mut **tx).await?;
    }
    Ok(())
}

/// The enabled endpoints, read in the fan-out's transaction.
pub async fn enabled_endpoints(tx: &mut Tx) -> Result<Vec<EndpointRecord>, sqlx::Error> {
    let rows = sqlx::query(&format!(
        "SELECT {ENDPOINT_COLUMNS} FROM webhook_endpoints WHERE status = 'enabled'"
    ))
    .fetch_all(&mut **tx)
    .await?;
    rows.iter().map(EndpointRecord::from_row).collect()
}

/// The endpoints with a delivery due and not leased now (a disabled endpoint's pending
/// deliveries are still sent). A read, one index seek per endpoint, so an idle relay takes no
/// write lock: only endpoints with work are claimed from.
pub async fn endpoints_with_due(db: &Db, now_ms: i64) -> Result<Vec<String>, sqlx::Error> {
    sqlx::query_scalar(
        "SELECT e.id FROM webhook_endpoints e WHERE EXISTS (SELECT 1 FROM webhook_deliveries d \
         WHERE d.endpoint_id = e.id AND d.status = 'pending' AND d.next_attempt_at <= $1 \
         AND (d.locked_until IS NULL OR d.locked_until < $2)) ORDER BY e.created_at, e.id",
    )
    .bind(now_ms)
    .bind(now_ms)
    .fetch_all(&db.pool)
    .await
}

/// Leases up to `limit` of the endpoint's due pending deliveries (the longest due first: a
/// first attempt is due from its fan-out, so events go out in the order they were fanned out)
/// to this sender until `until_ms`, in one statement; returns their ids. The order is the
/// `(endpoint_id, status, next_attempt_at)` index's, so the database reads only the rows it
/// returns, however long the backlog. Under concurrency each row is leased by one sender: the
/// outer condition is checked again on the locked row.
pub async fn claim_due(
    db: &Db,
    endpoint_id: &str,
    now_ms: i64,
    until_ms: i64,
    limit: i64,
) -> Result<Vec<String>, sqlx::Error> {
    sqlx::query_scalar(
        "UPDATE webhook_deliveries SET locked_until = $1 WHERE status = 'pending' \
         AND (locked_until IS NULL OR locked_until < $2) AND id IN (SELECT id \
         FROM webhook_deliveries WHERE endpoint_id = $3 AND status = 'pending' \
         AND next_attempt_at <= $4 AND (locked_until IS NULL OR locked_until < $5) \
         ORDER BY next_attempt_at LIMIT $6) RETURNING id",
    )
    .bind(until_ms)
    .bind(now_ms)
    .bind(endpoint_id)
    .bind(now_ms)
    .bind(now_ms)
    .bind(limit)
    .fetch_all(&db.pool)
    .await
}

/// How many deliveries are still pending (for `/metrics`).
pub async fn pending_count(db: &Db) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar("SELECT COUNT(*) FROM webhook_deliveries WHERE status = 'pending'")
        .fetch_one(&db.pool)
        .await
}

/// What a sender needs of a claimed delivery.
pub struct Claimed {
    pub id: String,
    pub endpoint_id: String,
    pub event_id: String,
    pub attempts: i64,
}

pub async fn load(db: &Db, id: &str) -> Result<Option<Claimed>, sqlx::Error> {
    Ok(load_many(db, &[id.to_string()]).await?.pop())
}

/// The claimed deliveries `ids` (those that still exist).
pub async fn load_many(db: &Db, ids: &[String]) -> Result<Vec<Claimed>, sqlx::Error> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let sql = format!(
        "SELECT id, endpoint_id, event_id, attempts FROM webhook_deliveries WHERE id IN ({})",
        placeholders(1, ids.len())
    );
    let mut query = sqlx::query(&sql);
    for id in ids {
        query = query.bind(id);
    }
    let rows = query.fetch_all(&db.pool).await?;
    rows.iter()
        .map(|r| {
            Ok(Claimed {
                id: r.try_get("id")?,
                endpoint_id: r.try_get("endpoint_id")?,
                event_id: r.try_get("event_id")?,
                attempts: r.try_get("attempts")?,
            })
        })
        .collect()
}

/// An endpoint whose every attempt has failed for this long is disabled.
pub const DISABLE_AFTER_FAILING_MS: i64 = 5 * 24 * 3_600_000;

/// One attempt made, and the delivery's next state (`delivered`, `failed`, or `pending` with
/// the time of the next attempt).
pub struct Attempted {
    pub delivery: Claimed,
    pub attempt: WebhookAttempt,
    pub status: &'static str,
    pub next_attempt_at: i64,
}

/// Records a batch of attempts and each delivery's next state, releasing the leases, in one
/// transaction; and each endpoint's health: a success clears `failing_since`, a failure sets it
/// if unset, and a failure 5 days after it disables the endpoint and records
/// `webhook_endpoint.disabled` (which the fan-out sends to the other endpoints). Returns the
/// endpoints this batch disabled.
pub async fn record_attempts(db: &Db, attempts: &[Attempted]) -> Result<Vec<String>, sqlx::Error> {
    let mut disabled = Vec::new();
    if attempts.is_empty() {
        return Ok(disabled);
    }
    let mut tx = db.begin_write().await?;
    insert_attempts(&mut tx, attempts).await?;
    update_deliveries(&mut tx, attempts).await?;
    // Health, once per endpoint of the batch: any success means it answers; otherwise its
    // earliest failure here counts.
    let mut health: BTreeMap<&str, (bool, i64)> = BTreeMap::new();
    for a in attempts {
        let entry = health
            .entry(a.delivery.endpoint_id.as_str())
            .or_insert((false, a.attempt.at));
        entry.0 |= a.status == "delivered";
        entry.1 = entry.1.min(a.attempt.at);
    }
    for (endpoint_id, (answered, first_failure)) in health {
        if answered {
            sqlx::query(
                "UPDATE webhook_endpoints SET failing_since = NULL \
                 WHERE id = $1 AND failing_since IS NOT NULL",
            )
            .bind(endpoint_id)
            .execute(&mut *tx)
            .await?;
        } else if note_failure(&mut tx, endpoint_id, first_failure).await? {
            disabled.push(endpoint_id.to_string());
        }
    }
    tx.commit().await?;
    Ok(disabled)
}

/// The attempts of a batch in multi-row INSERTs.
async fn insert_attempts(tx: &mut Tx, attempts: &[Attempted]) -> Result<(), sqlx::Error> {
    for chunk in attempts.chunks(ROWS_PER_STATEMENT) {
        let rows = value_rows(1, chunk.len(), 6);
        let sql = format!(
            "INSERT INTO webhook_attempts (delivery_id, at, http_status, error, latency_ms, \
             response_body) VALUES {rows}"
        );
        let mut query = sqlx::query(&sql);
        for a in chunk {
            query = query
                .bind(&a.delivery.id)
                .bind(a.attempt.at)
                .bind(a.attempt.http_status.map(i64::from))
                .bind(&a.attempt.error)
                .bind(a.attempt.latency_ms)
                .bind(&a.attempt.response_body);
        }
        query.execute(&mut **tx).await?;
    }
    Ok(())
}

/// Each attempted delivery's next state, its lease released, in multi-row `UPDATE ... FROM`
/// statements over the attempts' values (SQLite 3.33+ and PostgreSQL both take this form).
async fn update_deliveries(tx: &mut Tx, attempts: &[Attempted]) -> Result<(), sqlx::Error> {
    for chunk in attempts.chunks(ROWS_PER_STATEMENT) {
        let rows = value_rows(1, chunk.len(), 4);
        let sql = format!(
            "WITH v (id, status, next_attempt_at, at) AS (VALUES {rows}) \
             UPDATE webhook_deliveries SET status = v.status, attempts = attempts + 1, \
             next_attempt_at = v.next_attempt_at, locked_until = NULL, updated_at = v.at \
             FROM v WHERE webhook_deliveries.id = v.id"
        );
        let mut query = sqlx::query(&sql);
        for a in chunk {
            query = query
                .bind(&a.delivery.id)
                .bind(a.status)
                .bind(a.next_attempt_at)
                .bind(a.attempt.at);
        }
        query.execute(&mut **tx).await?;
    }
    Ok(())
}

/// A failed attempt at `at`: starts the endpoint's failing period if none is running, and
/// disables the endpoint once the period reaches [`DISABLE_AFTER_FAILING_MS`].
async fn note_failure(tx: &mut Tx, endpoint_id: &str, at: i64) -> Result<bool, sqlx::Error> {
    sqlx::query(
        "UPDATE webhook_endpoints SET failing_since = $1 WHERE id = $2 AND failing_since IS NULL",
    )
    .bind(at)
    .bind(endpoint_id)
    .execute(&mut **tx)
    .await?;
    let disabled = sqlx::query(
        "UPDATE webhook_endpoints SET status = 'disabled', disabled_reason = 'failing', \
         updated_at = $1 WHERE id = $2 AND status = 'enabled' AND failing_since <= $3",
    )
    .bind(at)
    .bind(endpoint_id)
    .bind(at - DISABLE_AFTER_FAILING_MS)
    .execute(&mut **tx)
    .await?
    .rows_affected()
        == 1;
    if disabled {
        let row = sqlx::query(&format!(
            "SELECT {ENDPOINT_COLUMNS} FROM webhook_endpoints WHERE id = $1"
        ))
        .bind(endpoint_id)
        .fetch_one(&mut **tx)
        .await?;
        let endpoint = EndpointRecord::from_row(&row)?.to_api(None);
        crate::events::repo::record(
            tx,
            "webhook_endpoint.disabled",
            endpoint_id,
            &json!(endpoint),
            at,
        )
        .await?;
    }
    Ok(disabled)
}

/// Queues the event again for the endpoint (a new delivery, or the existing one made pending
/// and due now). Returns the delivery's id.
pub async fn requeue(
    db: &Db,
    event_id: &str,
    event_type: &str,
    endpoint_id: &str,
    now_ms: i64,
) -> Result<String, sqlx::Error> {
    let mut tx = db.begin_write().await?;
    sqlx::query(
        "INSERT INTO webhook_deliveries (id, endpoint_id, event_id, event_type, status, attempts, \
         next_attempt_at, created_at, updated_at) VALUES ($1, $2, $3, $4, 'pending', 0, $5, $6, $7) \
         ON CONFLICT (endpoint_id, event_id) DO UPDATE SET status = 'pending', next_attempt_at = $8, \
         locked_until = NULL, updated_at = $9",
    )
    .bind(new_id("whd"))
    .bind(endpoint_id)
    .bind(event_id)
    .bind(event_type)
    .bind(now_ms)
    .bind(now_ms)
    .bind(now_ms)
    .bind(now_ms)
    .bind(now_ms)
    .execute(&mut *tx)
    .await?;
    let id: String = sqlx::query_scalar(
        "SELECT id FROM webhook_deliveries WHERE endpoint_id = $1 AND event_id = $2",
    )
    .bind(endpoint_id)
    .bind(event_id)
    .fetch_one(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(id)
}

/// A page of an endpoint's deliveries, newest first, each with its attempts; filters by status
/// and event type; the cursor is the last delivery's id of the previous page.
pub async fn deliveries(
    db: &Db,
    endpoint_id: &str,
    status: Option<&str>,
    event_type: Option<&str>,
    before: Option<(i64, String)>,
    limit: i64,
) -> Result<Vec<(i64, WebhookDelivery)>, sqlx::Error> {
    let (before_at, before_id) = before.unwrap_or((i64::MAX, String::new()));
    let rows = sqlx::query(
        "SELECT id, event_id, event_type, status, next_attempt_at, created_at FROM webhook_deliveries \
         WHERE endpoint_id = $1 AND ($2 = '' OR status = $3) AND ($4 = '' OR event_type = $5) \
         AND (created_at < $6 OR (created_at = $7 AND id < $8)) \
         ORDER BY created_at DESC, id DESC LIMIT $9",
    )
    .bind(endpoint_id)
    .bind(status.unwrap_or_default())
    .bind(status.unwrap_or_default())
    .bind(event_type.unwrap_or_default())
    .bind(event_type.unwrap_or_default())
    .bind(before_at)
    .bind(before_at)
    .bind(before_id)
    .bind(limit)
    .fetch_all(&db.pool)
    .await?;
    let mut out = Vec::with_capacity(rows.len());
    for r in &rows {
        let id: String = r.try_get("id")?;
        let status: String = r.try_get("status")?;
        let created_at: i64 = r.try_get("created_at")?;
        let next: i64 = r.try_get("next_attempt_at")?;
        out.push((
            created_at,
            WebhookDelivery {
                attempts: attempts(db, &id).await?,
                next_attempt_at: (status == "pending").then(|| next.div_euclid(1000)),
                id,
                endpoint: endpoint_id.to_string(),
                event: r.try_get("event_id")?,
                event_type: r.try_get("event_type")?,
                status,
                created: created_at.div_euclid(1000),
            },
        ));
    }
    Ok(out)
}

async fn attempts(db: &Db, delivery_id: &str) -> Result<Vec<WebhookAttempt>, sqlx::Error> {
    let rows = sqlx::query(
        "SELECT at, http_status, error, latency_ms, response_body FROM webhook_attempts \
         WHERE delivery_id = $1 ORDER BY id",
    )
    .bind(delivery_id)
    .fetch_all(&db.pool)
    .await?;
    rows.iter()
        .map(|r| {
            Ok(WebhookAttempt {
                at: r.try_get("at")?,
                http_status: r
                    .try_get::<Option<i64>, _>("http_status")?
                    .and_then(|s| u16::try_from(s).ok()),
                error: r.try_get("error")?,
                latency_ms: r.try_get("latency_ms")?,
                response_body: r.try_get("response_body")?,
            })
        })
        .collect()
}
