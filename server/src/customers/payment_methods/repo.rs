//! SQL for saved payment methods.

use crate::db::{Db, Row, Tx};
use shared::api::SavedPaymentMethod;
use sqlx::Row as _;

/// A `payment_methods` row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SavedCard {
    pub id: String,
    pub customer_id: String,
    pub brand: String,
    pub last4: String,
    pub exp_month: i64,
    pub exp_year: i64,
    pub created_at: i64,
    pub detached_at: Option<i64>,
}

const COLUMNS: &str = "id, customer_id, brand, last4, exp_month, exp_year, created_at, detached_at";

/// How many saved cards a list shows (a customer with more has far more than anyone uses).
pub const LIST_LIMIT: i64 = 100;

impl SavedCard {
    fn from_row(row: &Row) -> Result<SavedCard, sqlx::Error> {
        Ok(SavedCard {
            id: row.try_get("id")?,
            customer_id: row.try_get("customer_id")?,
            brand: row.try_get("brand")?,
            last4: row.try_get("last4")?,
            exp_month: row.try_get("exp_month")?,
            exp_year: row.try_get("exp_year")?,
            created_at: row.try_get("created_at")?,
            detached_at: row.try_get("detached_at")?,
        })
    }

    /// How a customer reads the card: "Visa •••• 4242, expires 12/2030".
    pub fn label(&self) -> String {
        let mut brand = self.brand.clone();
        if let Some(first) = brand.get_mut(..1) {
            first.make_ascii_uppercase();
        }
        format!(
            "{brand} •••• {}, expires {:02}/{}",
            self.last4, self.exp_month, self.exp_year
        )
    }

    pub fn to_api(&self) -> SavedPaymentMethod {
        SavedPaymentMethod {
            id: self.id.clone(),
            customer: self.customer_id.clone(),
            brand: self.brand.clone(),
            last4: self.last4.clone(),
            exp_month: self.exp_month,
            exp_year: self.exp_year,
            created: self.created_at.div_euclid(1000),
        }
    }
}

/// Stores a card unless it is known already (attached once at Stripe, it never moves to another
/// customer, and a detached card cannot be attached again); whether it was new.
pub async fn insert(tx: &mut Tx, card: &SavedCard) -> Result<bool, sqlx::Error> {
    let done = sqlx::query(
        "INSERT INTO payment_methods (id, customer_id, provider, brand, last4, exp_month, exp_year, created_at) \
         VALUES ($1, $2, 'stripe', $3, $4, $5, $6, $7) ON CONFLICT (id) DO NOTHING",
    )
    .bind(&card.id)
    .bind(&card.customer_id)
    .bind(&card.brand)
    .bind(&card.last4)
    .bind(card.exp_month)
    .bind(card.exp_year)
    .bind(card.created_at)
    .execute(&mut **tx)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Brings a known, attached card's shown details up to date; whether anything changed.
pub async fn update_details(tx: &mut Tx, card: &SavedCard) -> Result<bool, sqlx::Error> {
    let done = sqlx::query(
        "UPDATE payment_methods SET brand = $1, last4 = $2, exp_month = $3, exp_year = $4 \
         WHERE id = $5 AND customer_id = $6 AND detached_at IS NULL \
         AND (brand <> $7 OR last4 <> $8 OR exp_month <> $9 OR exp_year <> $10)",
    )
    .bind(&card.brand)
    .bind(&card.last4)
    .bind(card.exp_month)
    .bind(card.exp_year)
    .bind(&card.id)
    .bind(&card.customer_id)
    .bind(&card.brand)
    .bind(&card.last4)
    .bind(card.exp_month)
    .bind(card.exp_year)
    .execute(&mut **tx)
    .await?;
    Ok(done.rows_affected() > 0)
}

/// Marks a card detached; the card as it is now, or `None` when it was unknown or already
/// detached.
pub async fn mark_detached(
    tx: &mut Tx,
    id: &str,
    now_ms: i64,
) -> Result<Option<SavedCard>, sqlx::Error> {
    let done = sqlx::query(
        "UPDATE payment_methods SET detached_at = $1 WHERE id = $2 AND detached_at IS NULL",
    )
    .bind(now_ms)
    .bind(id)
    .execute(&mut **tx)
    .await?;
    if done.rows_affected() == 0 {
        return Ok(None);
    }
    let row = sqlx::query(&format!(
        "SELECT {COLUMNS} FROM payment_methods WHERE id = $1"
    ))
    .bind(id)
    .fetch_one(&mut **tx)
    .await?;
    SavedCard::from_row(&row).map(Some)
}

/// The customer's card `id`, if it is theirs and still attached.
pub async fn get_usable(
    db: &Db,
    customer_id: &str,
    id: &str,
) -> Result<Option<SavedCard>, sqlx::Error> {
    let row = sqlx::query(&format!(
        "SELECT {COLUMNS} FROM payment_methods WHERE id = $1 AND customer_id = $2 AND detached_at IS NULL"
    ))
    .bind(id)
    .bind(customer_id)
    .fetch_optional(&db.pool)
    .await?;
    row.as_ref().map(SavedCard::from_row).transpose()
}

/// The customer's attached cards, newest first: at most `limit`.
pub async fn list_usable(
    db: &Db,
    customer_id: &str,
    limit: i64,
) -> Result<Vec<SavedCard>, sqlx::Error> {
    let rows = sqlx::query(&format!(
        "SELECT {COLUMNS} FROM payment_methods WHERE customer_id = $1 AND detached_at IS NULL \
         ORDER BY created_at DESC, id DESC LIMIT {limit}"
    ))
    .bind(customer_id)
    .fetch_all(&db.pool)
    .await?;
    rows.iter().map(SavedCard::from_row).collect()
}

#[cfg(test)]
mod tests {
    use super::SavedCard;

    #[test]
    fn a_card_reads_masked() {
        let card = SavedCard {
            id: "pm_1".into(),
            customer_id: "cus_1".into(),
            brand: "amex".into(),
            last4: "0005".into(),
            exp_month: 3,
            exp_year: 2031,
            created_at: 0,
            detached_at: None,
        };
        assert_eq!(card.label(), "Amex •••• 0005, expires 03/2031");
    }
}
