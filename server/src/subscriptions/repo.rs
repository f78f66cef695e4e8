use crate::db::{Db, Row, Tx};
use crate::providers::stripe::billing::StripeSubscription;
use shared::api::{PauseCollection, Subscription};
use sqlx::Row as _;

const COLUMNS: &str = "id, customer_id, provider_reference, price, status, cancel_at_period_end, \
    current_period_end, latest_invoice_status, pause_behavior, pause_resumes_at, created_at";

pub fn from_row(row: &Row) -> Result<Subscription, sqlx::Error> {
    Ok(Subscription {
        id: row.try_get("id")?,
        customer: row.try_get("customer_id")?,
        price: row.try_get("price")?,
        status: row.try_get("status")?,
        provider_reference: row.try_get("provider_reference")?,
        cancel_at_period_end: row.try_get::<i64, _>("cancel_at_period_end")? != 0,
        current_period_end: row.try_get("current_period_end")?,
        latest_invoice_status: row.try_get("latest_invoice_status")?,
        pause_collection: row
            .try_get::<Option<String>, _>("pause_behavior")?
            .map(|behavior| -> Result<PauseCollection, sqlx::Error> {
                Ok(PauseCollection {
                    behavior,
                    resumes_at: row.try_get("pause_resumes_at")?,
                })
            })
            .transpose()?,
        client_secret: None,
        created: row.try_get::<i64, _>("created_at")?.div_euclid(1000),
    })
}

pub async fn insert(
    tx: &mut Tx,
    id: &str,
    customer_id: &str,
    price: &str,
    now_ms: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO subscriptions (id, customer_id, price, status, created_at, updated_at) \
         VALUES ($1, $2, $3, 'incomplete', $4, $5)",
    )
    .bind(id)
    .bind(customer_id)
    .bind(price)
    .bind(now_ms)
    .bind(now_ms)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

pub async fn record_provider_state(
    tx: &mut Tx,
    id: &str,
    s: &StripeSubscription,
    now_ms: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE subscriptions SET provider_reference = $1, status = $2, cancel_at_period_end = $3, \
         current_period_end = $4, latest_invoice_id = COALESCE($5, latest_invoice_id), \
         latest_invoice_status = COALESCE($6, latest_invoice_status), updated_at = $7, \
         pause_behavior = $8, pause_resumes_at = $9 WHERE id = $10",
    )
    .bind(&s.reference)
    .bind(&s.status)
    .bind(i64::from(s.cancel_at_period_end))
    .bind(s.current_period_end)
    .bind(&s.latest_invoice_id)
    .bind(&s.latest_invoice_status)
    .bind(now_ms)
    .bind(s.pause_collection.as_ref().map(|(b, _)| b.clone()))
    .bind(s.pause_collection.as_ref().and_then(|(_, at)| *at))
    .bind(id)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

pub async fn get(db: &Db, id: &str) -> Result<Option<Subscription>, sqlx::Error> {
    let row = sqlx::query(&format!(
        "SELECT {COLUMNS} FROM subscriptions WHERE id = $1"
    ))
    .bind(id)
    .fetch_optional(&db.pool)
    .await?;
    row.as_ref().map(from_row).transpose()
}

/// The subscription's price after a change Stripe accepted.
pub async fn set_price(tx: &mut Tx, id: &str, price: &str, now_ms: i64) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE subscriptions SET price = $1, updated_at = $2 WHERE id = $3")
        .bind(price)
        .bind(now_ms)
        .bind(id)
        .execute(&mut **tx)
        .await
        .map(|_| ())
}

/// Stripe refused the subscription for good: the row says so instead of staying `incomplete`.
pub async fn mark_failed(tx: &mut Tx, id: &str, now_ms: i64) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE subscriptions SET status = 'failed', updated_at = $1 WHERE id = $2")
        .bind(now_ms)
        .bind(id)
        .execute(&mut **tx)
        .await
        .map(|_| ())
}

/// A subscription's state reported by a Stripe webhook. Returns whether paygate knows it.
pub async fn apply_provider_update(
    tx: &mut Tx,
    reference: &str,
    status: &str,
    cancel_at_period_end: bool,
    current_period_end: Option<i64>,
    pause_collection: Option<(String, Option<i64>)>,
    now_ms: i64,
) -> Result<Option<bool>, sqlx::Error> {
    let (pause_behavior, pause_resumes_at) = match pause_collection {
        Some((behavior, at)) => (Some(behavior), at),
        None => (None, None),
    };
    // A subscription that ended stays ended: Stripe cannot reactivate a canceled (or
    // `incomplete_expired`) subscription (docs.stripe.com/billing/subscriptions/cancel), so a
    // state read back before the end and applied after it is older than what paygate has.
    let done = sqlx::query(
        "UPDATE subscriptions SET status = $1, cancel_at_period_end = $2, current_period_end = $3, updated_at = $4, \
         pause_behavior = $5, pause_resumes_at = $6 WHERE provider_reference = $7 \
         AND status NOT IN ('canceled', 'incomplete_expired')",
    )
    .bind(status)
    .bind(i64::from(cancel_at_period_end))
    .bind(current_period_end)
    .bind(now_ms)
    .bind(pause_behavior)
    .bind(pause_resumes_at)
    .bind(reference)
    .execute(&mut **tx)
    .await?;
    if done.rows_affected() > 0 {
        return Ok(Some(true));
    }
    let known: Option<String> =
        sqlx::query_scalar("SELECT id FROM subscriptions WHERE provider_reference = $1")
            .bind(reference)
            .fetch_optional(&mut **tx)
            .await?;
    Ok(known.map(|_| false))
}

/// The latest invoice of a subscription (paid or failed). `None` when paygate does not know
/// the subscription; `Some(false)` when it already had this invoice in this state (Stripe sends
/// both `invoice.paid` and `invoice.payment_succeeded` for one payment).
pub async fn record_invoice(
    tx: &mut Tx,
    subscription_reference: &str,
    invoice_id: &str,
    status: &str,
    now_ms: i64,
) -> Result<Option<bool>, sqlx::Error> {
    let Some(row) = sqlx::query(
        "SELECT latest_invoice_id, latest_invoice_status FROM subscriptions WHERE provider_reference = $1",
    )
    .bind(subscription_reference)
    .fetch_optional(&mut **tx)
    .await?
    else {
        return Ok(None);
    };
    let known_id: Option<String> = row.try_get("latest_invoice_id")?;
    let known_status: Option<String> = row.try_get("latest_invoice_status")?;
    if known_id.as_deref() == Some(invoice_id) && known_status.as_deref() == Some(status) {
        return Ok(Some(false));
    }
    sqlx::query(
        "UPDATE subscriptions SET latest_invoice_id = $1, latest_invoice_status = $2, updated_at = $3 \
         WHERE provider_reference = $4",
    )
    .bind(invoice_id)
    .bind(status)
    .bind(now_ms)
    .bind(subscription_reference)
    .execute(&mut **tx)
    .await?;
    Ok(Some(true))
}

/// The subscription as the caller's transaction sees it (for the event of a change).
pub async fn get_in(tx: &mut Tx, id: &str) -> Result<Option<Subscription>, sqlx::Error> {
    let row = sqlx::query(&format!(
        "SELECT {COLUMNS} FROM subscriptions WHERE id = $1"
    ))
    .bind(id)
    .fetch_optional(&mut **tx)
    .await?;
    row.as_ref().map(from_row).transpose()
}

/// [`get_in`] by Stripe's id.
pub async fn get_by_reference_in(
    tx: &mut Tx,
    reference: &str,
) -> Result<Option<Subscription>, sqlx::Error> {
    let row = sqlx::query(&format!(
        "SELECT {COLUMNS} FROM subscriptions WHERE provider_reference = $1"
    ))
    .bind(reference)
    .fetch_optional(&mut **tx)
    .await?;
    row.as_ref().map(from_row).transpose()
}

/// The statuses and invoice states that need the merchant: a first invoice or a renewal not
/// paid (`incomplete`, `past_due`, `unpaid`), or an open latest invoice (failed or waiting
/// for 3-D Secure).
pub const ATTENTION: &str = "(status IN ('incomplete', 'past_due', 'unpaid') \
    OR latest_invoice_status = 'open')";

/// Subscriptions newest first after the `(created_at, id)` cursor, up to `limit + 1` (the
/// extra one tells whether more follow); `attention`: only those that need the merchant.
pub async fn page(
    db: &Db,
    before: Option<(i64, String)>,
    attention: bool,
    limit: i64,
) -> Result<Vec<(Subscription, i64)>, sqlx::Error> {
    let (at, id) = before.unwrap_or((i64::MAX, String::new()));
    let filter = if attention {
        format!(" AND {ATTENTION}")
    } else {
        String::new()
    };
    let rows = sqlx::query(&format!(
        "SELECT {COLUMNS} FROM subscriptions WHERE created_at <= $1 \
         AND (created_at < $2 OR id < $3 OR $4 = ''){filter} \
         ORDER BY created_at DESC, id DESC LIMIT $5"
    ))
    .bind(at)
    .bind(at)
    .bind(&id)
    .bind(&id)
    .bind(limit + 1)
    .fetch_all(&db.pool)
    .await?;
    rows.iter()
        .map(|row| Ok((from_row(row)?, row.try_get::<i64, _>("created_at")?)))
        .collect()
}
