use crate::crypto::DataCipher;
use crate::db::{Db, Row, Tx};
use crate::ids::new_id;
use serde_json::json;
use shared::api::Metadata;
use sqlx::Row as _;

pub const EMAIL_CONTEXT: &str = "customers.email";
pub const NAME_CONTEXT: &str = "customers.name";

#[derive(Debug, Clone, Default)]
pub struct NewCustomer {
    pub email: Option<String>,
    pub name: Option<String>,
    pub metadata: Metadata,
}

/// A customer with its personal data decrypted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CustomerRecord {
    pub id: String,
    pub email: Option<String>,
    pub name: Option<String>,
    pub stripe_customer_id: Option<String>,
    pub default_payment_method: Option<String>,
    pub metadata: Metadata,
    pub created_at: i64,
}

pub async fn insert(
    tx: &mut Tx,
    cipher: &DataCipher,
    new: &NewCustomer,
    now_ms: i64,
) -> Result<CustomerRecord, sqlx::Error> {
    let record = CustomerRecord {
        id: new_id("cus"),
        email: new.email.as_deref().map(|e| e.trim().to_string()),
        name: new.name.as_deref().map(|n| n.trim().to_string()),
        stripe_customer_id: None,
        default_payment_method: None,
        metadata: new.metadata.clone(),
        created_at: now_ms,
    };
    sqlx::query(
        "INSERT INTO customers (id, email_ciphertext, email_index, name_ciphertext, metadata, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(&record.id)
    .bind(record.email.as_deref().map(|e| cipher.encrypt(e, EMAIL_CONTEXT)))
    .bind(record.email.as_deref().map(|e| cipher.email_index(e)))
    .bind(record.name.as_deref().map(|n| cipher.encrypt(n, NAME_CONTEXT)))
    .bind(json!(record.metadata).to_string())
    .bind(now_ms)
    .bind(now_ms)
    .execute(&mut **tx)
    .await?;
    Ok(record)
}

const COLUMNS: &str =
    "id, email_ciphertext, name_ciphertext, stripe_customer_id, default_payment_method, metadata, created_at";

fn from_row(row: &Row, cipher: &DataCipher) -> Result<CustomerRecord, sqlx::Error> {
    let decrypt = |column: &str, context: &str| -> Result<Option<String>, sqlx::Error> {
        let ct: Option<String> = row.try_get(column)?;
        ct.map(|ct| {
            cipher
                .decrypt(&ct, context)
                .map_err(|e| sqlx::Error::Decode(format!("customers.{column}: {e}").into()))
        })
        .transpose()
    };
    let metadata: String = row.try_get("metadata")?;
    Ok(CustomerRecord {
        id: row.try_get("id")?,
        email: decrypt("email_ciphertext", EMAIL_CONTEXT)?,
        name: decrypt("name_ciphertext", NAME_CONTEXT)?,
        stripe_customer_id: row.try_get("stripe_customer_id")?,
        default_payment_method: row.try_get("default_payment_method")?,
        metadata: serde_json::from_str(&metadata)
            .map_err(|e| sqlx::Error::Decode(format!("customers.metadata: {e}").into()))?,
        created_at: row.try_get("created_at")?,
    })
}

pub async fn get(
    db: &Db,
    cipher: &DataCipher,
    id: &str,
) -> Result<Option<CustomerRecord>, sqlx::Error> {
    let row = sqlx::query(&format!("SELECT {COLUMNS} FROM customers WHERE id = $1"))
        .bind(id)
        .fetch_optional(&db.pool)
        .await?;
    row.map(|r| from_row(&r, cipher)).transpose()
}

/// Exact (case-insensitive) email match through the blind index; no decryption of other rows.
pub async fn find_by_email(
    db: &Db,
    cipher: &DataCipher,
    email: &str,
) -> Result<Vec<CustomerRecord>, sqlx::Error> {
    // Under every configured key: a rotation re-indexes rows in batches.
    let indexes = cipher.email_indexes(email);
    let sql = format!(
        "SELECT {COLUMNS} FROM customers WHERE email_index IN ({}) ORDER BY created_at DESC, id DESC",
        crate::db::placeholders(1, indexes.len())
    );
    let mut query = sqlx::query(&sql);
    for index in &indexes {
        query = query.bind(index);
    }
    let rows = query.fetch_all(&db.pool).await?;
    rows.iter().map(|r| from_row(r, cipher)).collect()
}

pub async fn set_stripe_customer_id(
    tx: &mut Tx,
    id: &str,
    stripe_id: &str,
    now_ms: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE customers SET stripe_customer_id = $1, updated_at = $2 WHERE id = $3")
        .bind(stripe_id)
        .bind(now_ms)
        .bind(id)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

pub async fn set_default_payment_method(
    tx: &mut Tx,
    id: &str,
    payment_method: &str,
    now_ms: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE customers SET default_payment_method = $1, updated_at = $2 WHERE id = $3")
        .bind(payment_method)
        .bind(now_ms)
        .bind(id)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

pub async fn exists(db: &Db, id: &str) -> Result<bool, sqlx::Error> {
    Ok(sqlx::query("SELECT 1 FROM customers WHERE id = $1")
        .bind(id)
        .fetch_optional(&db.pool)
        .await?
        .is_some())
}

/// paygate's customer mirrored by the Stripe customer `stripe_id`, read in the caller's
/// transaction.
pub async fn id_for_stripe_customer(
    tx: &mut Tx,
    stripe_id: &str,
) -> Result<Option<String>, sqlx::Error> {
    sqlx::query_scalar("SELECT id FROM customers WHERE stripe_customer_id = $1")
        .bind(stripe_id)
        .fetch_optional(&mut **tx)
        .await
}
