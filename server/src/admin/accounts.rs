//! Admin accounts: created and disabled from the command line (`paygate admin`), passwords kept
//! only as Argon2id hashes (OWASP's choice for password storage; the `argon2` crate's defaults
//! are its recommended m=19 MiB, t=2, p=1).

use super::audit;
use crate::crypto::normalize_email;
use crate::db::Db;
use crate::ids::new_id;
use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;
use serde_json::json;
use sqlx::Row;

/// Shorter passwords are refused (NIST SP 800-63B asks for at least 8; staff who can refund
/// money get a higher floor).
pub const MIN_PASSWORD_CHARS: usize = 12;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Admin {
    pub id: String,
    pub email: String,
    pub created_at: i64,
    pub disabled_at: Option<i64>,
}

#[derive(Debug, thiserror::Error)]
pub enum AccountError {
    #[error("{0:?} is not an email address")]
    BadEmail(String),
    #[error("the password must have at least {MIN_PASSWORD_CHARS} characters")]
    WeakPassword,
    #[error("an admin with the email {0} already exists")]
    Exists(String),
    #[error("no admin with the email {0}")]
    Missing(String),
    #[error(transparent)]
    Db(#[from] sqlx::Error),
}

fn check_email(email: &str) -> Result<String, AccountError> {
    let email = normalize_email(email);
    let ok = email.len() <= 254
        && email
            .split_once('@')
            .is_some_and(|(local, domain)| !local.is_empty() && domain.contains('.'))
        && !email.chars().any(|c| c.is_whitespace() || c.is_control());
    if ok {
        Ok(email)
    } else {
        Err(AccountError::BadEmail(email))
    }
}

pub fn hash_password(password: &str) -> String {
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .expect("Argon2 hashing with default parameters does not fail")
        .to_string()
}

/// Whether `password` matches the stored PHC string (constant time inside `argon2`).
pub fn verify_password(password: &str, stored: &str) -> bool {
    PasswordHash::new(stored).is_ok_and(|hash| {
        Argon2::default()
            .verify_password(password.as_bytes(), &hash)
            .is_ok()
    })
}

/// A hash of a password nobody has, checked when the email is unknown so a sign-in takes as
/// long for a missing account as for a wrong password (no account enumeration by timing).
pub fn decoy_hash() -> &'static str {
    static DECOY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    DECOY.get_or_init(|| hash_password("paygate decoy password, never valid"))
}

pub async fn create(
    db: &Db,
    email: &str,
    password: &str,
    now_ms: i64,
) -> Result<Admin, AccountError> {
    let email = check_email(email)?;
    if password.chars().count() < MIN_PASSWORD_CHARS {
        return Err(AccountError::WeakPassword);
    }
    let admin = Admin {
        id: new_id("adm"),
        email,
        created_at: now_ms,
        disabled_at: None,
    };
    let hash = hash_password(password);
    let mut tx = db.begin_write().await?;
    let inserted = sqlx::query(
        "INSERT INTO admins (id, email, password_hash, created_at) VALUES ($1, $2, $3, $4) \
         ON CONFLICT (email) DO NOTHING",
    )
    .bind(&admin.id)
    .bind(&admin.email)
    .bind(&hash)
    .bind(now_ms)
    .execute(&mut *tx)
    .await?;
    if inserted.rows_affected() == 0 {
        return Err(AccountError::Exists(admin.email));
    }
    audit::record_in(
        &mut tx,
        "cli",
        "admin_created",
        Some(&admin.email),
        &json!({}),
        None,
        now_ms,
    )
    .await?;
    tx.commit().await?;
    Ok(admin)
}

pub async fn list(db: &Db) -> Result<Vec<Admin>, sqlx::Error> {
    let rows = sqlx::query(
        "SELECT id, email, created_at, disabled_at FROM admins ORDER BY created_at, email",
    )
    .fetch_all(&db.pool)
    .await?;
    rows.iter()
        .map(|r| {
            Ok(Admin {
                id: r.try_get("id")?,
                email: r.try_get("email")?,
                created_at: r.try_get("created_at")?,
                disabled_at: r.try_get("disabled_at")?,
            })
        })
        .collect()
}

/// Disables an admin and ends their sessions at once. Disabling twice is not an error.
pub async fn disable(db: &Db, email: &str, now_ms: i64) -> Result<Admin, AccountError> {
    let email = normalize_email(email);
    let mut tx = db.begin_write().await?;
    let row = sqlx::query("SELECT id, created_at, disabled_at FROM admins WHERE email = $1")
        .bind(&email)
        .fetch_optional(&mut *tx)
        .await?
        .ok_or_else(|| AccountError::Missing(email.clone()))?;
    let id: String = row.try_get("id")?;
    let disabled_at: Option<i64> = row.try_get("disabled_at")?;
    let disabled_at = match disabled_at {
        Some(at) => at,
        None => {
            sqlx::query("UPDATE admins SET disabled_at = $1 WHERE id = $2")
                .bind(now_ms)
                .bind(&id)
                .execute(&mut *tx)
                .await?;
            audit::record_in(
                &mut tx,
                "cli",
                "admin_disabled",
                Some(&email),
                &json!({}),
                None,
                now_ms,
            )
            .await?;
            now_ms
        }
    };
    sqlx::query("DELETE FROM admin_sessions WHERE admin_id = $1")
        .bind(&id)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(Admin {
        id,
        email,
        created_at: row.try_get("created_at")?,
        disabled_at: Some(disabled_at),
    })
}

/// The enabled admin with this email and their password hash.
pub async fn find_for_sign_in(
    db: &Db,
    email: &str,
) -> Result<Option<(Admin, String)>, sqlx::Error> {
    let row = sqlx::query(
        "SELECT id, email, created_at, disabled_at, password_hash FROM admins \
         WHERE email = $1 AND disabled_at IS NULL",
    )
    .bind(normalize_email(email))
    .fetch_optional(&db.pool)
    .await?;
    row.map(|r| {
        Ok((
            Admin {
                id: r.try_get("id")?,
                email: r.try_get("email")?,
                created_at: r.try_get("created_at")?,
                disabled_at: None,
            },
            r.try_get("password_hash")?,
        ))
    })
    .transpose()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn password_hashes_are_argon2id_salted_and_verify() {
        let a = hash_password("correct horse battery");
        let b = hash_password("correct horse battery");
        assert!(a.starts_with("$argon2id$"), "{a}");
        assert_ne!(a, b, "each hash has its own salt");
        assert!(verify_password("correct horse battery", &a));
        assert!(!verify_password("correct horse batterY", &a));
        assert!(!verify_password("anything", "not a phc string"));
    }

    #[test]
    fn emails_are_normalised_and_checked() {
        assert_eq!(
            check_email(" Ops@Shop.Example ").unwrap(),
            "ops@shop.example"
        );
        for bad in ["", "no-at", "@shop.example", "a@nodot", "a b@shop.example"] {
            assert!(check_email(bad).is_err(), "{bad:?}");
        }
    }
}
