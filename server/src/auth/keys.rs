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
