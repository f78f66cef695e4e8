//! Seeded payment history, written straight into paygate's tables (the triggers keep the daily
//! rollup as they do for every write). Used by the admin API tests, which compute the expected
//! answers from the same generated rows, and by the history benchmark (`history_bench`), which
//! seeds a million of them.

use paygate::crypto::DataCipher;
use paygate::db::Db;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use shared::api::{PaymentStatus, ProviderName};
use shared::Currency;

pub const DAY_MS: i64 = 86_400_000;
const CUSTOMER_CONTEXT: &str = "customers.email";
const SESSION_CONTEXT: &str = "checkout_sessions.customer_email";

/// One generated payment, as the oracle sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Seeded {
    pub id: String,
    pub provider: ProviderName,
    pub reference: String,
    pub authorization: Option<String>,
    pub capture: Option<String>,
    pub status: PaymentStatus,
    pub currency: Currency,
    pub amount_minor: i64,
    pub captured_minor: i64,
    pub refunded_minor: i64,
    pub description: String,
    pub email: Option<String>,
    /// The email comes through a checkout session (else through a customer).
    pub email_via_session: bool,
    pub created_at: i64,
}

/// The email of generated customer `n`.
pub fn email(n: u32) -> String {
    format!("buyer{n}@shop.example")
}

/// `n` payments created over `days` days before `end_ms` (newest last), deterministic in `seed`.
/// `emails` distinct customers own a third of them each through a customer record, a third
/// through a checkout session; a third have no email.
pub fn generate(n: usize, seed: u64, end_ms: i64, days: i64, emails: u32) -> Vec<Seeded> {
    let mut rng = StdRng::seed_from_u64(seed);
    let span = days * DAY_MS;
    let mut out = Vec::with_capacity(n);
    for i in 0..n {
        let provider = if rng.gen_ratio(2, 3) {
            ProviderName::Stripe
        } else {
            ProviderName::Paypal
        };
        let currency = match rng.gen_range(0..20) {
            0..=11 => Currency::USD,
            12..=16 => Currency::EUR,
            17..=18 => Currency::GBP,
            _ => Currency::JPY,
        };
        let status = match rng.gen_range(0..100) {
            0..=69 => PaymentStatus::Succeeded,
            70..=79 => PaymentStatus::Failed,
            80..=84 => PaymentStatus::Canceled,
            85..=94 => PaymentStatus::RequiresPaymentMethod,
            95..=97 => PaymentStatus::RequiresCapture,
            _ => PaymentStatus::Processing,
        };
        let amount_minor = rng.gen_range(100..50_000_i64);
        let captured_minor = if status == PaymentStatus::Succeeded {
            amount_minor
        } else {
            0
        };
        let refunded_minor = if captured_minor > 0 && rng.gen_ratio(1, 10) {
            rng.gen_range(1..=captured_minor)
        } else {
            0
        };
        let (email, email_via_session) = match rng.gen_range(0..3) {
            0 => (Some(email(rng.gen_range(0..emails.max(1)))), false),
            1 => (Some(email(rng.gen_range(0..emails.max(1)))), true),
            _ => (None, false),
        };
        let (reference, authorization, capture) = match provider {
            ProviderName::Stripe => (format!("pi_seed{seed}x{i}"), None, None),
            ProviderName::Paypal => (
                format!("ORDSEED{seed}X{i}"),
                None,
                (captured_minor > 0).then(|| format!("CAPSEED{seed}X{i}")),
            ),
        };
        out.push(Seeded {
            id: format!("pay_seed{seed:04}x{i:016}"),
            provider,
            reference,
            authorization,
            capture,
            status,
            currency,
            amount_minor,
            captured_minor,
            refunded_minor,
            description: format!("Order {i}"),
            email,
            email_via_session,
            created_at: end_ms - span
                + (i as i64 * span) / n.max(1) as i64
                + rng.gen_range(0..1000),
        });
    }
    out
}

/// Writes the rows (and the customers and checkout sessions that carry their emails) in
/// batches of multi-row INSERTs.
pub async fn insert(db: &Db, cipher: &DataCipher, rows: &[Seeded]) -> Result<(), sqlx::Error> {
    // One customer and one checkout session per distinct email.
    let mut emails: Vec<&str> = rows.iter().filter_map(|r| r.email.as_deref()).collect();
    emails.sort_unstable();
    emails.dedup();
    let mut tx = db.pool.begin().await?;
    for email in &emails {
        let key = email_key(email);
        sqlx::query(
            "INSERT INTO customers (id, email_ciphertext, email_index, metadata, created_at, updated_at) \
             VALUES ($1, $2, $3, '{}', 0, 0) ON CONFLICT (id) DO NOTHING",
        )
        .bind(format!("cus_seed{key}"))
        .bind(cipher.encrypt(email, CUSTOMER_CONTEXT))
        .bind(cipher.email_index(email))
        .execute(&mut *tx)
        .await?;
        sqlx::query(
            "INSERT INTO checkout_sessions (id, status, currency, amount_minor, customer_email_ciphertext, \
             customer_email_index, providers, capture_mode, expires_at, created_at, updated_at) \
             VALUES ($1, 'expired', 'USD', 100, $2, $3, '[\"stripe\"]', 'automatic', 0, 0, 0) \
             ON CONFLICT (id) DO NOTHING",
        )
        .bind(format!("cs_seed{key}"))
        .bind(cipher.encrypt(email, SESSION_CONTEXT))
        .bind(cipher.email_index(email))
        .execute(&mut *tx)
        .await?;
    }
    tx.commit().await?;

    const COLS: usize = 17;
    for batch in rows.chunks(500) {
        let mut sql = String::from(
            "INSERT INTO payments (id, provider, provider_reference, provider_authorization, provider_capture, \
             status, currency, amount_minor, captured_minor, refunded_minor, capture_mode, description, \
             customer_id, checkout_session_id, metadata, created_at, updated_at) VALUES ",
        );
        for (i, _) in batch.iter().enumerate() {
            if i > 0 {
                sql.push(',');
            }
            let ps: Vec<String> = (1..=COLS).map(|c| format!("${}", i * COLS + c)).collect();
            sql.push_str(&format!("({})", ps.join(", ")));
        }
        let mut q = sqlx::query(&sql);
        for r in batch {
            let key = r.email.as_deref().map(email_key);
            q = q
                .bind(r.id.clone())
                .bind(r.provider.as_str())
                .bind(r.reference.clone())
                .bind(r.authorization.clone())
                .bind(r.capture.clone())
                .bind(r.status.as_str())
                .bind(r.currency.code())
                .bind(r.amount_minor)
                .bind(r.captured_minor)
                .bind(r.refunded_minor)
                .bind("automatic")
                .bind(r.description.clone())
                .bind(
                    key.as_ref()
                        .filter(|_| !r.email_via_session)
                        .map(|k| format!("cus_seed{k}")),
                )
                .bind(
                    key.as_ref()
                        .filter(|_| r.email_via_session)
                        .map(|k| format!("cs_seed{k}")),
                )
                .bind("{}")
                .bind(r.created_at)
                .bind(r.created_at);
        }
        let mut tx = db.pool.begin().await?;
        q.execute(&mut *tx).await?;
        tx.commit().await?;
    }
    Ok(())
}

/// A stable id fragment for an email (ids must be alphanumeric).
fn email_key(email: &str) -> String {
    paygate::crypto::sha256_hex(email.as_bytes())[..24].to_string()
}
