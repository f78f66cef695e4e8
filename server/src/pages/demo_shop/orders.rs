//! The demo shop's orders (`demo_orders`) and the webhook deliveries it accepted
//! (`demo_webhook_receipts`). An order moves once, from `awaiting_payment` to `paid` or
//! `expired`, and only inside the transaction that records the delivery's `webhook-id`, so a
//! delivery applies at most once however often it arrives.

use crate::db::{Db, Row, Tx};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use shared::{Currency, Money};
use sqlx::Row as _;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderItem {
    pub sku: String,
    pub name: String,
    /// Decimal string, as priced by the catalogue.
    pub unit_amount: String,
    pub quantity: i64,
}

#[derive(Debug, Clone)]
pub struct Order {
    pub id: String,
    pub checkout_session_id: String,
    pub items: Vec<OrderItem>,
    pub money: Money,
    pub status: String,
    pub created_at: i64,
    pub updated_at: i64,
}

const COLUMNS: &str =
    "id, checkout_session_id, items, amount_minor, currency, status, created_at, updated_at";

impl Order {
    fn from_row(row: &Row) -> Result<Order, sqlx::Error> {
        let corrupt = |what: &str| sqlx::Error::Decode(format!("demo_orders.{what}").into());
        let items: String = row.try_get("items")?;
        let currency: String = row.try_get("currency")?;
        let currency = Currency::from_code(&currency).map_err(|_| corrupt("currency"))?;
        Ok(Order {
            id: row.try_get("id")?,
            checkout_session_id: row.try_get("checkout_session_id")?,
            items: serde_json::from_str(&items).map_err(|_| corrupt("items"))?,
            money: Money::from_minor(row.try_get("amount_minor")?, currency),
            status: row.try_get("status")?,
            created_at: row.try_get("created_at")?,
            updated_at: row.try_get("updated_at")?,
        })
    }

    /// What `GET /demo/orders/{id}` answers.
    pub fn to_json(&self) -> Value {
        json!({
            "id": self.id,
            "status": self.status,
            "amount": self.money.to_decimal_string(),
            "amount_minor": self.money.minor(),
            "currency": self.money.currency().code(),
            "items": self.items,
            "checkout_session": self.checkout_session_id,
            "created": self.created_at.div_euclid(1000),
            "updated": self.updated_at.div_euclid(1000),
        })
    }
}

pub async fn insert(db: &Db, order: &Order) -> Result<(), sqlx::Error> {
    sqlx::query(&format!(
        "INSERT INTO demo_orders ({COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)"
    ))
    .bind(&order.id)
    .bind(&order.checkout_session_id)
    .bind(json!(order.items).to_string())
    .bind(order.money.minor())
    .bind(order.money.currency().code())
    .bind(&order.status)
    .bind(order.created_at)
    .bind(order.updated_at)
    .execute(&db.pool)
    .await
    .map(|_| ())
}

pub async fn get(db: &Db, id: &str) -> Result<Option<Order>, sqlx::Error> {
    let row = sqlx::query(&format!("SELECT {COLUMNS} FROM demo_orders WHERE id = $1"))
        .bind(id)
        .fetch_optional(&db.pool)
        .await?;
    row.as_ref().map(Order::from_row).transpose()
}

/// Records the delivery `webhook_id` in the caller's transaction; false when it was already
/// recorded (a redelivery, which must change nothing).
pub async fn record_receipt(
    tx: &mut Tx,
    webhook_id: &str,
    event_type: &str,
    now_ms: i64,
) -> Result<bool, sqlx::Error> {
    let inserted = sqlx::query(
        "INSERT INTO demo_webhook_receipts (webhook_id, event_type, received_at) \
         VALUES ($1, $2, $3) ON CONFLICT (webhook_id) DO NOTHING",
    )
    .bind(webhook_id)
    .bind(event_type)
    .bind(now_ms)
    .execute(&mut **tx)
    .await?
    .rows_affected();
    Ok(inserted == 1)
}

/// The order paid for by `session_id`, locked for the caller's transaction.
pub async fn for_session(
    db: &Db,
    tx: &mut Tx,
    session_id: &str,
) -> Result<Option<Order>, sqlx::Error> {
    let row = sqlx::query(&format!(
        "SELECT {COLUMNS} FROM demo_orders WHERE checkout_session_id = $1{}",
        db.for_update()
    ))
    .bind(session_id)
    .fetch_optional(&mut **tx)
    .await?;
    row.as_ref().map(Order::from_row).transpose()
}

/// Moves an order still awaiting payment to `status`; false if it had already moved.
pub async fn settle(
    tx: &mut Tx,
    order_id: &str,
    status: &str,
    webhook_id: &str,
    now_ms: i64,
) -> Result<bool, sqlx::Error> {
    let changed = sqlx::query(
        "UPDATE demo_orders SET status = $1, settled_by = $2, updated_at = $3 \
         WHERE id = $4 AND status = 'awaiting_payment'",
    )
    .bind(status)
    .bind(webhook_id)
    .bind(now_ms)
    .bind(order_id)
    .execute(&mut **tx)
    .await?
    .rows_affected();
    Ok(changed == 1)
}
