//! SQL for disputes.

use crate::db::{Db, Row, Tx};
use shared::api::{Amount, Dispute, ProviderName};
use shared::{Currency, Money};
use sqlx::Row as _;

const COLUMNS: &str = "id, provider, provider_reference, payment_id, currency, amount_minor, \
    reason, status, evidence_due_by, submission_count, created_at, updated_at";

/// Statuses in which the merchant can still respond.
pub fn needs_response(status: &str) -> bool {
    matches!(status, "needs_response" | "warning_needs_response")
}

/// Statuses that end a dispute.
pub fn is_closed(status: &str) -> bool {
    matches!(status, "won" | "lost" | "warning_closed")
}

fn corrupt(column: &str) -> sqlx::Error {
    sqlx::Error::Decode(format!("disputes.{column} holds an unexpected value").into())
}

pub fn from_row(row: &Row) -> Result<Dispute, sqlx::Error> {
    let currency: String = row.try_get("currency")?;
    let currency = Currency::from_code(&currency).map_err(|_| corrupt("currency"))?;
    let provider: String = row.try_get("provider")?;
    let status: String = row.try_get("status")?;
    Ok(Dispute {
        id: row.try_get("id")?,
        payment: row.try_get("payment_id")?,
        provider: ProviderName::parse(&provider).ok_or_else(|| corrupt("provider"))?,
        provider_reference: row.try_get("provider_reference")?,
        amount: Amount::from(Money::from_minor(row.try_get("amount_minor")?, currency)),
        reason: row.try_get("reason")?,
        needs_response: needs_response(&status),
        status,
        evidence_due_by: row
            .try_get::<Option<i64>, _>("evidence_due_by")?
            .map(|ms| ms.div_euclid(1000)),
        submission_count: row.try_get("submission_count")?,
        created: row.try_get::<i64, _>("created_at")?.div_euclid(1000),
        updated: row.try_get::<i64, _>("updated_at")?.div_euclid(1000),
    })
}

pub async fn get(db: &Db, id: &str) -> Result<Option<Dispute>, sqlx::Error> {
    if !crate::ids::has_shape(id, "dsp") {
        return Ok(None);
    }
    let row = sqlx::query(&format!("SELECT {COLUMNS} FROM disputes WHERE id = $1"))
        .bind(id)
        .fetch_optional(&db.pool)
        .await?;
    row.as_ref().map(from_row).transpose()
}

/// The dispute the provider knows as `reference`, locked for the caller's transaction.
pub async fn get_by_reference_in(
    db: &Db,
    tx: &mut Tx,
    provider: ProviderName,
    reference: &str,
) -> Result<Option<Dispute>, sqlx::Error> {
    let row = sqlx::query(&format!(
        "SELECT {COLUMNS} FROM disputes WHERE provider = $1 AND provider_reference = $2{}",
        db.for_update()
    ))
    .bind(provider.as_str())
    .bind(reference)
    .fetch_optional(&mut **tx)
    .await?;
    row.as_ref().map(from_row).transpose()
}

pub async fn insert(tx: &mut Tx, d: &Dispute, now_ms: i64) -> Result<(), sqlx::Error> {
    sqlx::query(&format!(
        "INSERT INTO disputes ({COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)"
    ))
    .bind(&d.id)
    .bind(d.provider.as_str())
    .bind(&d.provider_reference)
    .bind(&d.payment)
    .bind(d.amount.currency.code())
    .bind(d.amount.amount_minor)
    .bind(&d.reason)
    .bind(&d.status)
    .bind(d.evidence_due_by.map(|s| s * 1000))
    .bind(d.submission_count)
    .bind(now_ms)
    .bind(now_ms)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

pub async fn update(tx: &mut Tx, d: &Dispute, now_ms: i64) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE disputes SET amount_minor = $1, reason = $2, status = $3, evidence_due_by = $4, \
         submission_count = $5, updated_at = $6 WHERE id = $7",
    )
    .bind(d.amount.amount_minor)
    .bind(&d.reason)
    .bind(&d.status)
    .bind(d.evidence_due_by.map(|s| s * 1000))
    .bind(d.submission_count)
    .bind(now_ms)
    .bind(&d.id)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// What a payment's disputes hold back: open disputes (not inquiries), and lost Stripe
/// disputes, whose money Stripe withdrew. A PayPal case lost returns the money through a refund
/// or a reversal, which the payment records already.
const HELD: &str = "SELECT COALESCE(SUM(amount_minor), 0) FROM disputes WHERE payment_id = $1 \
    AND (status IN ('needs_response', 'under_review') OR (status = 'lost' AND provider = 'stripe'))";

/// Sets the payment's `disputed_minor` to what its disputes hold back now; whether it changed.
pub async fn refresh_disputed(tx: &mut Tx, payment_id: &str) -> Result<bool, sqlx::Error> {
    // Each placeholder once: the `Any` driver's SQLite side numbers binds by position.
    let again = HELD.replace("$1", "$3");
    let changed = sqlx::query(&format!(
        "UPDATE payments SET disputed_minor = ({HELD}) WHERE id = $2 AND disputed_minor <> ({again})"
    ))
    .bind(payment_id)
    .bind(payment_id)
    .bind(payment_id)
    .execute(&mut **tx)
    .await?
    .rows_affected();
    Ok(changed == 1)
}

/// Disputes newest first after the `(created_at, id)` cursor, up to `limit + 1`; optionally
/// of one status, one payment.
pub async fn page(
    db: &Db,
    before: Option<(i64, String)>,
    status: Option<&str>,
    payment: Option<&str>,
    limit: i64,
) -> Result<Vec<(Dispute, i64)>, sqlx::Error> {
    let (at, id) = before.unwrap_or((i64::MAX, String::new()));
    let rows = sqlx::query(&format!(
        "SELECT {COLUMNS} FROM disputes WHERE created_at <= $1 \
         AND (created_at < $2 OR id < $3 OR $4 = '') \
         AND ($5 = '' OR status = $6) AND ($7 = '' OR payment_id = $8) \
         ORDER BY created_at DESC, id DESC LIMIT $9"
    ))
    .bind(at)
    .bind(at)
    .bind(&id)
    .bind(&id)
    .bind(status.unwrap_or_default())
    .bind(status.unwrap_or_default())
    .bind(payment.unwrap_or_default())
    .bind(payment.unwrap_or_default())
    .bind(limit + 1)
    .fetch_all(&db.pool)
    .await?;
    rows.iter()
        .map(|row| Ok((from_row(row)?, row.try_get::<i64, _>("created_at")?)))
        .collect()
}
