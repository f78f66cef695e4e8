use super::record::{SessionRecord, COLUMNS, EMAIL_CONTEXT};
use crate::crypto::DataCipher;
use crate::db::{Db, Insert, Tx};
use crate::events;
use crate::payments::PaymentRecord;
use serde_json::json;
use shared::api::CheckoutMode;

/// Stores a new session and its `checkout.session.created` event in the caller's transaction.
pub async fn insert(
    tx: &mut Tx,
    s: &SessionRecord,
    customer_email: Option<&str>,
    cipher: &DataCipher,
    public_url: &str,
) -> Result<(), sqlx::Error> {
    for insert in inserts(s, customer_email, cipher, public_url) {
        insert.execute(tx).await?;
    }
    Ok(())
}

/// What [`insert`] writes, as inserts for `Db::insert_all`: the session, then its event.
pub fn inserts(
    s: &SessionRecord,
    customer_email: Option<&str>,
    cipher: &DataCipher,
    public_url: &str,
) -> Vec<Insert> {
    let providers = s
        .providers
        .iter()
        .map(|p| p.as_str())
        .collect::<Vec<_>>()
        .join(",");
    let session = Insert::new(
        "INSERT INTO checkout_sessions (id, status, currency, amount_minor, line_items, description, \
         customer_email_ciphertext, customer_email_index, metadata, success_url, cancel_url, \
         providers, capture_mode, expires_at, payment_link_id, created_at, updated_at, \
         customer_id, save_payment_method, mode) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20)",
    )
    .text(s.id.clone())
    .text(s.status.as_str().to_string())
    .text(s.money.currency().code().to_string())
    .int(s.money.minor())
    .text(json!(s.line_items).to_string())
    .text(s.description.clone())
    .text(customer_email.map(|e| cipher.encrypt(e, EMAIL_CONTEXT)))
    .text(customer_email.map(|e| cipher.email_index(e)))
    .text(json!(s.metadata).to_string())
    .text(s.success_url.clone())
    .text(s.cancel_url.clone())
    .text(providers)
    .text(s.capture_mode.as_str().to_string())
    .int(s.expires_at)
    .text(s.payment_link_id.clone())
    .int(s.created_at)
    .int(s.created_at)
    .text(s.customer_id.clone())
    .text(s.save_payment_method.map(|m| m.as_str().to_string()))
    .text(s.mode.as_str().to_string());
    let event = events::repo::insert(
        "checkout.session.created",
        &s.id,
        &json!(s.event_object(public_url, s.created_at, None)),
        s.created_at,
    );
    vec![session, event]
}

pub async fn get(db: &Db, id: &str) -> Result<Option<SessionRecord>, sqlx::Error> {
    if !crate::ids::has_shape(id, "cs") {
        return Ok(None);
    }
    let row = sqlx::query(&format!(
        "SELECT {COLUMNS} FROM checkout_sessions WHERE id = $1"
    ))
    .bind(id)
    .fetch_optional(&db.pool)
    .await?;
    row.as_ref().map(SessionRecord::from_row).transpose()
}

/// The session read inside a transaction that is changing one of its payments.
pub async fn get_in(tx: &mut Tx, id: &str) -> Result<Option<SessionRecord>, sqlx::Error> {
    let row = sqlx::query(&format!(
        "SELECT {COLUMNS} FROM checkout_sessions WHERE id = $1"
    ))
    .bind(id)
    .fetch_optional(&mut **tx)
    .await?;
    row.as_ref().map(SessionRecord::from_row).transpose()
}

/// Completes the session with `payment_id` if it is still open, in the transaction that
/// recorded the payment's success (so a paid session can never be left open, then expire).
/// Returns whether this payment completed it.
pub async fn complete_if_open(
    tx: &mut Tx,
    session_id: &str,
    payment: &PaymentRecord,
    public_url: &str,
    now_ms: i64,
) -> Result<bool, sqlx::Error> {
    let won = sqlx::query(
        "UPDATE checkout_sessions SET status = 'complete', completed_payment_id = $1, updated_at = $2 \
         WHERE id = $3 AND status = 'open'",
    )
    .bind(&payment.id)
    .bind(now_ms)
    .bind(session_id)
    .execute(&mut **tx)
    .await?
    .rows_affected()
        == 1;
    if won {
        record_completed(tx, session_id, public_url, now_ms, Some(payment.to_api())).await?;
    }
    Ok(won)
}

/// The `checkout.session.completed` event of a session just completed, in its transaction.
async fn record_completed(
    tx: &mut Tx,
    session_id: &str,
    public_url: &str,
    now_ms: i64,
    payment: Option<shared::api::Payment>,
) -> Result<(), sqlx::Error> {
    if let Some(session) = get_in(tx, session_id).await? {
        let object = session.event_object(public_url, now_ms, payment);
        events::record(
            tx,
            "checkout.session.completed",
            session_id,
            &json!(object),
            now_ms,
        )
        .await?;
    }
    Ok(())
}

/// Records a setup session's SetupIntent, once (a second request made the same one, under the
/// same idempotency key) and only while the session is open and before its deadline. Whether
/// this call recorded it.
pub async fn set_setup_intent(
    db: &Db,
    id: &str,
    setup_intent: &str,
    now_ms: i64,
) -> Result<bool, sqlx::Error> {
    Ok(sqlx::query(
        "UPDATE checkout_sessions SET setup_intent_id = $1 \
         WHERE id = $2 AND setup_intent_id IS NULL AND status = 'open' AND expires_at > $3",
    )
    .bind(setup_intent)
    .bind(id)
    .bind(now_ms)
    .execute(&db.pool)
    .await?
    .rows_affected()
        == 1)
}

/// The setup session whose SetupIntent is `setup_intent`.
pub async fn get_by_setup_intent(
    tx: &mut Tx,
    setup_intent: &str,
) -> Result<Option<SessionRecord>, sqlx::Error> {
    let row = sqlx::query(&format!(
        "SELECT {COLUMNS} FROM checkout_sessions WHERE setup_intent_id = $1"
    ))
    .bind(setup_intent)
    .fetch_optional(&mut **tx)
    .await?;
    row.as_ref().map(SessionRecord::from_row).transpose()
}

/// Completes a setup session with the card its SetupIntent saved, if it is still open, with its
/// `checkout.session.completed` event. Whether it completed now.
pub async fn complete_setup_if_open(
    tx: &mut Tx,
    session_id: &str,
    setup_intent: &str,
    payment_method: &str,
    public_url: &str,
    now_ms: i64,
) -> Result<bool, sqlx::Error> {
    let won = sqlx::query(
        "UPDATE checkout_sessions SET status = 'complete', setup_intent_id = $1, \
         setup_payment_method_id = $2, updated_at = $3 \
         WHERE id = $4 AND status = 'open' AND mode = 'setup'",
    )
    .bind(setup_intent)
    .bind(payment_method)
    .bind(now_ms)
    .bind(session_id)
    .execute(&mut **tx)
    .await?
    .rows_affected()
        == 1;
    if won {
        record_completed(tx, session_id, public_url, now_ms, None).await?;
    }
    Ok(won)
}

/// Open sessions whose time is up, oldest deadline first: each id, and whether it is a setup
/// session (which the sweep reads whole; a payment session needs only its id).
pub async fn overdue(db: &Db, now_ms: i64, limit: i64) -> Result<Vec<(String, bool)>, sqlx::Error> {
    let rows: Vec<(String, String)> = sqlx::query_as(
        "SELECT id, mode FROM checkout_sessions WHERE status = 'open' AND expires_at <= $1 \
         ORDER BY expires_at LIMIT $2",
    )
    .bind(now_ms)
    .bind(limit)
    .fetch_all(&db.pool)
    .await?;
    Ok(rows
        .into_iter()
        .map(|(id, mode)| (id, mode == CheckoutMode::Setup.as_str()))
        .collect())
}

/// Marks an overdue session expired unless a payment completed it first. Returns whether it
/// expired now.
pub async fn expire_if_open(
    db: &Db,
    id: &str,
    public_url: &str,
    now_ms: i64,
) -> Result<bool, sqlx::Error> {
    let mut tx = db.begin_write().await?;
    let expired = sqlx::query(
        "UPDATE checkout_sessions SET status = 'expired', updated_at = $1 \
         WHERE id = $2 AND status = 'open' AND expires_at <= $3",
    )
    .bind(now_ms)
    .bind(id)
    .bind(now_ms)
    .execute(&mut *tx)
    .await?
    .rows_affected()
        == 1;
    if expired {
        if let Some(session) = get_in(&mut tx, id).await? {
            let object = session.event_object(public_url, now_ms, None);
            events::record(
                &mut tx,
                "checkout.session.expired",
                id,
                &json!(object),
                now_ms,
            )
            .await?;
        }
    }
    tx.commit().await?;
    Ok(expired)
}

/// Takes one payment attempt of the session if it has used fewer than `max`; whether it did.
pub async fn take_payment_attempt(db: &Db, id: &str, max: i64) -> Result<bool, sqlx::Error> {
    Ok(sqlx::query(
        "UPDATE checkout_sessions SET payment_attempts = payment_attempts + 1 \
         WHERE id = $1 AND payment_attempts < $2",
    )
    .bind(id)
    .bind(max)
    .execute(&db.pool)
    .await?
    .rows_affected()
        == 1)
}
