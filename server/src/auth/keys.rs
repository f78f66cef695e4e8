use crate::crypto::sha256_hex;
use crate::db::Db;
use crate::ids::new_id;
use rand::Rng;

/// The single merchant a deployment serves (one deployment, one merchant).
pub const MERCHANT_ID: &str = "mer_default";

#[derive(Debug, Clone)]
pub struct ApiKeyRecord {
    pub id: String,
    pub name: String,
    pub prefix: String,
}

/// A new secret key: `sk_live_` or `sk_test_` and 32 base62 characters (~190 bits).
pub fn generate_key(live: bool) -> String {
    const ALPHABET: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
    let mut rng = rand::rngs::OsRng;
    let body: String = (0..32)
        .map(|_| ALPHABET[rng.gen_range(0..ALPHABET.len())] as char)
        .collect();
    format!("sk_{}_{body}", if live { "live" } else { "test" })
}

/// Stores a new key's hash and returns the key: the only time its text exists.
pub async fn create_key(
    db: &Db,
    name: &str,
    live: bool,
    now_ms: i64,
) -> Result<(String, ApiKeyRecord), sqlx::Error> {
    let key = generate_key(live);
    let record = ApiKeyRecord {
        id: new_id("key"),
        name: name.to_string(),
        prefix: key[..12].to_string(),
    };
    sqlx::query(
        "INSERT INTO api_keys (id, merchant_id, name, key_hash, prefix, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(&record.id)
    .bind(MERCHANT_ID)
    .bind(&record.name)
    .bind(sha256_hex(key.as_bytes()))
    .bind(&record.prefix)
    .bind(now_ms)
    .execute(&db.pool)
    .await?;
    Ok((key, record))
}

/// A stored key as `paygate keys list` shows it: never its text, which is not kept.
#[derive(Debug, Clone)]
pub struct ApiKeyListing {
    pub id: String,
    pub name: String,
    pub prefix: String,
    pub created_at: i64,
    pub revoked_at: Option<i64>,
}

pub async fn list_keys(db: &Db) -> Result<Vec<ApiKeyListing>, sqlx::Error> {
    use sqlx::Row;
    let rows = sqlx::query(
        "SELECT id, name, prefix, created_at, revoked_at FROM api_keys ORDER BY created_at, id",
    )
    .fetch_all(&db.pool)
    .await?;
    rows.iter()
        .map(|r| {
            Ok(ApiKeyListing {
                id: r.try_get("id")?,
                name: r.try_get("name")?,
                prefix: r.try_get("prefix")?,
                created_at: r.try_get("created_at")?,
                revoked_at: r.try_get("revoked_at")?,
            })
        })
        .collect()
}

/// What `revoke_key` found.
#[derive(Debug, PartialEq, Eq)]
pub enum Revocation {
    Revoked,
    AlreadyRevoked,
    Unknown,
}

/// Revokes the key with this id, with its audit entry in the same transaction. Keys are checked
/// against the database on every request, so every instance refuses it from the next one.
pub async fn revoke_key(db: &Db, id: &str, now_ms: i64) -> Result<Revocation, sqlx::Error> {
    let mut tx = db.begin_write().await?;
    let revoked =
        sqlx::query("UPDATE api_keys SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL")
            .bind(now_ms)
            .bind(id)
            .execute(&mut *tx)
            .await?;
    if revoked.rows_affected() == 0 {
        let exists: Option<String> = sqlx::query_scalar("SELECT id FROM api_keys WHERE id = $1")
            .bind(id)
            .fetch_optional(&mut *tx)
            .await?;
        return Ok(match exists {
            Some(_) => Revocation::AlreadyRevoked,
            None => Revocation::Unknown,
        });
    }
    crate::admin::audit::record_in(
        &mut tx,
        "cli",
        "api_key_revoked",
        Some(id),
        &serde_json::json!({}),
        None,
        now_ms,
    )
    .await?;
    tx.commit().await?;
    Ok(Revocation::Revoked)
}
