use super::record::{SessionRecord, COLUMNS, EMAIL_CONTEXT};
use crate::crypto::DataCipher;
use crate::db::{Db, Tx};
use crate::outbox;
use serde_json::json;

pub async fn insert(
    tx: &mut Tx,
    s: &SessionRecord,
    customer_email: Option<&str>,
    cipher: &DataCipher,
) -> Result<(), sqlx::Error> {
    let providers = s
        .providers
        .iter()
        .map(|p| p.as_str())
        .collect::<Vec<_>>()
        .join(",");
    sqlx::query(
        "INSERT INTO checkout_sessions (id, status, currency, amount_minor, line_items, description, \
         customer_email_ciphertext, customer_email_index, metadata, success_url, cancel_url, \
         providers, capture_mode, expires_at, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)",
    )
    .bind(&s.id)
    .bind(s.status.as_str())
    .bind(s.money.currency().code())
    .bind(s.money.minor())
    .bind(json!(s.line_items).to_string())
    .bind(&s.description)
    .bind(customer_email.map(|e| cipher.encrypt(e, EMAIL_CONTEXT)))
    .bind(customer_email.map(|e| cipher.email_index(e)))
    .bind(json!(s.metadata).to_string())
    .bind(&s.success_url)
    .bind(&s.cancel_url)
    .bind(providers)
    .bind(s.capture_mode.as_str())
    .bind(s.expires_at)
    .bind(s.created_at)
    .bind(s.created_at)
    .execute(&mut **tx)
    .await?;
    outbox::record(
        tx,
        "checkout.session.created",
        &s.id,
        &json!({ "id": s.id, "amount_minor": s.money.minor(), "currency": s.money.currency().code() }),
        s.created_at,
    )
    .await?;
    Ok(())
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
