use crate::db::{Db, Row, Tx};
use crate::events;
use crate::payments::timeline::{self, Cause};
use crate::providers::RefundStatus;
use serde_json::json;
use shared::api::{Amount, Metadata, Refund};
use shared::{Currency, Money};
use sqlx::Row as _;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefundRecord {
    pub id: String,
    pub payment_id: String,
    pub provider_reference: Option<String>,
    pub status: RefundStatus,
    pub money: Money,
    pub reason: Option<String>,
    pub failure_reason: Option<String>,
    pub metadata: Metadata,
    pub created_at: i64,
    pub updated_at: i64,
}

const COLUMNS: &str = "id, payment_id, provider_reference, status, currency, amount_minor, reason, last_error, metadata, created_at, updated_at";

fn corrupt(column: &str) -> sqlx::Error {
    sqlx::Error::Decode(format!("refunds.{column} holds an unexpected value").into())
}

impl RefundRecord {
    fn from_row(row: &Row) -> Result<RefundRecord, sqlx::Error> {
        let status: String = row.try_get("status")?;
        let currency: String = row.try_get("currency")?;
        let metadata: String = row.try_get("metadata")?;
        Ok(RefundRecord {
            id: row.try_get("id")?,
            payment_id: row.try_get("payment_id")?,
            provider_reference: row.try_get("provider_reference")?,
            status: RefundStatus::parse(&status).ok_or_else(|| corrupt("status"))?,
            money: Money::from_minor(
                row.try_get("amount_minor")?,
                Currency::from_code(&currency).map_err(|_| corrupt("currency"))?,
            ),
            reason: row.try_get("reason")?,
            failure_reason: row.try_get("last_error")?,
            metadata: serde_json::from_str(&metadata).map_err(|_| corrupt("metadata"))?,
            created_at: row.try_get("created_at")?,
            updated_at: row.try_get("updated_at")?,
        })
    }

    pub fn to_api(&self) -> Refund {
        Refund {
            id: self.id.clone(),
            payment: self.payment_id.clone(),
            status: self.status.as_str().to_string(),
            amount: Amount::from(self.money),
            reason: self.reason.clone(),
            provider_reference: self.provider_reference.clone(),
            failure_reason: self.failure_reason.clone(),
            created: self.created_at.div_euclid(1000),
            updated: self.updated_at.div_euclid(1000),
        }
    }
}

pub async fn insert(tx: &mut Tx, r: &RefundRecord, cause: Cause) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO refunds (id, payment_id, provider_reference, status, currency, amount_minor, reason, last_error, metadata, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
    )
    .bind(&r.id)
    .bind(&r.payment_id)
    .bind(&r.provider_reference)
    .bind(r.status.as_str())
    .bind(r.money.currency().code())
    .bind(r.money.minor())
    .bind(&r.reason)
    .bind(&r.failure_reason)
    .bind(json!(r.metadata).to_string())
    .bind(r.created_at)
    .bind(r.updated_at)
    .execute(&mut **tx)
    .await?;
    timeline::append(
        tx,
        &r.payment_id,
        r.created_at,
        cause,
        "refund_created",
        None,
        None,
        &json!({ "refund": r.id, "amount_minor": r.money.minor(), "status": r.status.as_str() }),
    )
    .await?;
    events::record(
        tx,
        "refund.created",
        &r.id,
        &json!(r.to_api()),
        r.created_at,
    )
    .await?;
    Ok(())
}

pub async fn get(db: &Db, id: &str) -> Result<Option<RefundRecord>, sqlx::Error> {
    let row = sqlx::query(&format!("SELECT {COLUMNS} FROM refunds WHERE id = $1"))
        .bind(id)
        .fetch_optional(&db.pool)
        .await?;
    row.as_ref().map(RefundRecord::from_row).transpose()
}

pub async fn list_for_payment(db: &Db, payment_id: &str) -> Result<Vec<RefundRecord>, sqlx::Error> {
    let rows = sqlx::query(&format!(
        "SELECT {COLUMNS} FROM refunds WHERE payment_id = $1 ORDER BY created_at, id"
    ))
    .bind(payment_id)
    .fetch_all(&db.pool)
    .await?;
    rows.iter().map(RefundRecord::from_row).collect()
}

pub async fn find_by_reference(
    db: &Db,
    tx: &mut Tx,
    reference: &str,
) -> Result<Option<RefundRecord>, sqlx::Error> {
    let row = sqlx::query(&format!(
        "SELECT {COLUMNS} FROM refunds WHERE provider_reference = $1{}",
        db.for_update()
    ))
    .bind(reference)
    .fetch_optional(&mut **tx)
    .await?;
    row.as_ref().map(RefundRecord::from_row).transpose()
}

pub async fn get_locked(
    db: &Db,
    tx: &mut Tx,
    id: &str,
) -> Result<Option<RefundRecord>, sqlx::Error> {
    let row = sqlx::query(&format!(
        "SELECT {COLUMNS} FROM refunds WHERE id = $1{}",
        db.for_update()
    ))
    .bind(id)
    .fetch_optional(&mut **tx)
    .await?;
    row.as_ref().map(RefundRecord::from_row).transpose()
}

/// Minor units of the payment already refunded or being refunded (pending counts).
pub async fn committed_minor(tx: &mut Tx, payment_id: &str) -> Result<i64, sqlx::Error> {
    let sum: Option<i64> = sqlx::query_scalar(
        "SELECT CAST(SUM(amount_minor) AS BIGINT) FROM refunds WHERE payment_id = $1 AND status IN ('pending', 'succeeded')",
    )
    .bind(payment_id)
    .fetch_one(&mut **tx)
    .await?;
    Ok(sum.unwrap_or(0))
}

/// Moves a refund to `status` (pending → succeeded/failed, succeeded → failed as Stripe's
/// refund-failure flow does; failed is final), keeping the payment's `refunded_minor` equal to
/// the sum of its succeeded refunds. Returns whether anything changed.
pub async fn apply_status(
    tx: &mut Tx,
    refund: &RefundRecord,
    status: RefundStatus,
    provider_reference: Option<&str>,
    failure_reason: Option<&str>,
    cause: Cause,
    now_ms: i64,
) -> Result<bool, sqlx::Error> {
    let allowed = matches!(
        (refund.status, status),
        (RefundStatus::Pending, RefundStatus::Succeeded)
            | (RefundStatus::Pending, RefundStatus::Failed)
            | (RefundStatus::Succeeded, RefundStatus::Failed)
    );
    let reference_changes =
        provider_reference.is_some() && refund.provider_reference.as_deref() != provider_reference;
    if !allowed && !reference_changes {
        return Ok(false);
    }
    let new_status = if allowed { status } else { refund.status };
    sqlx::query(
        "UPDATE refunds SET status = $1, provider_reference = COALESCE($2, provider_reference), \
         last_error = COALESCE($3, last_error), updated_at = $4 WHERE id = $5",
    )
    .bind(new_status.as_str())
    .bind(provider_reference)
    .bind(failure_reason)
    .bind(now_ms)
    .bind(&refund.id)
    .execute(&mut **tx)
    .await?;
    if !allowed {
        return Ok(true);
    }
    let delta = match (refund.status, status) {
        (RefundStatus::Pending, RefundStatus::Succeeded) => refund.money.minor(),
        (RefundStatus::Succeeded, RefundStatus::Failed) => -refund.money.minor(),
        _ => 0,
    };
    if delta != 0 {
        sqlx::query("UPDATE payments SET refunded_minor = refunded_minor + $1, updated_at = $2 WHERE id = $3")
            .bind(delta)
            .bind(now_ms)
            .bind(&refund.payment_id)
            .execute(&mut **tx)
            .await?;
    }
    timeline::append(
        tx,
        &refund.payment_id,
        now_ms,
        cause,
        &format!("refund_{}", status.as_str()),
        None,
        None,
        &json!({ "refund": refund.id, "amount_minor": refund.money.minor(), "failure_reason": failure_reason }),
    )
    .await?;
    let mut updated = refund.clone();
    updated.status = status;
    updated.updated_at = now_ms;
    if let Some(r) = provider_reference {
        updated.provider_reference = Some(r.to_string());
    }
    events::record(
        tx,
        &format!("refund.{}", status.as_str()),
        &refund.id,
        &json!(updated.to_api()),
        now_ms,
    )
    .await?;
    Ok(true)
}

/// Refunds still `pending` without the provider's id, idle since before `deadline` and created
/// after `created_after` (inside the provider's idempotency replay window): their creation's
/// answer was lost and no webhook told of them.
/// Refunds the provider accepted as pending (they have its id), quiet since `deadline` and not
/// read back since then either: their state is read back (a settled refund may send no webhook,
/// as a failed PayPal refund does not), least recently read first.
/// `(id, provider reference, the payment's provider)`.
pub async fn stale_pending(
    db: &Db,
    deadline: i64,
    limit: i64,
) -> Result<Vec<(String, String, String)>, sqlx::Error> {
    sqlx::query_as(
        "SELECT r.id, r.provider_reference, p.provider FROM refunds r \
         JOIN payments p ON p.id = r.payment_id \
         WHERE r.status = 'pending' AND r.provider_reference IS NOT NULL AND r.updated_at < $1 \
         AND (r.reconciled_at IS NULL OR r.reconciled_at < $2) \
         ORDER BY COALESCE(r.reconciled_at, 0), r.updated_at LIMIT $3",
    )
    .bind(deadline)
    .bind(deadline)
    .bind(limit)
    .fetch_all(&db.pool)
    .await
}

/// Notes that reconciliation read the refund back now.
pub async fn mark_reconciled(db: &Db, id: &str, now_ms: i64) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE refunds SET reconciled_at = $1 WHERE id = $2")
        .bind(now_ms)
        .bind(id)
        .execute(&db.pool)
        .await?;
    Ok(())
}

pub async fn lost_pending(
    db: &Db,
    deadline: i64,
    created_after: i64,
    limit: i64,
) -> Result<Vec<String>, sqlx::Error> {
    sqlx::query_scalar(
        "SELECT id FROM refunds WHERE status = 'pending' AND provider_reference IS NULL \
         AND updated_at < $1 AND created_at > $2 ORDER BY updated_at LIMIT $3",
    )
    .bind(deadline)
    .bind(created_after)
    .bind(limit)
    .fetch_all(&db.pool)
    .await
}
