//! Stripe Billing webhooks: a subscription's state and its latest invoice.

use crate::db::Tx;
use crate::events;
use crate::inbox::effect::Applied;
use crate::state::AppState;
use serde_json::json;

/// A subscription changed at the provider.
pub async fn apply_update(
    state: &AppState,
    tx: &mut Tx,
    reference: &str,
    status: &str,
    cancel_at_period_end: bool,
    current_period_end: Option<i64>,
) -> Result<Applied, sqlx::Error> {
    let now = state.clock.now_ms();
    let done = sqlx::query(
        "UPDATE subscriptions SET status = $1, cancel_at_period_end = $2, current_period_end = $3, updated_at = $4 \
         WHERE provider_reference = $5",
    )
    .bind(status)
    .bind(i64::from(cancel_at_period_end))
    .bind(current_period_end)
    .bind(now)
    .bind(reference)
    .execute(&mut **tx)
    .await?;
    if done.rows_affected() == 0 {
        return Ok(Applied::Missing("subscription"));
    }
    events::record(
        tx,
        "subscription.updated",
        reference,
        &json!({ "status": status, "cancel_at_period_end": cancel_at_period_end }),
        now,
    )
    .await?;
    Ok(Applied::done(true, None))
}

/// An invoice of a subscription was paid or failed.
pub async fn apply_invoice(
    state: &AppState,
    tx: &mut Tx,
    subscription_reference: &str,
    invoice_id: &str,
    status: &str,
    event_type: &str,
) -> Result<Applied, sqlx::Error> {
    let now = state.clock.now_ms();
    let done = sqlx::query(
        "UPDATE subscriptions SET latest_invoice_id = $1, latest_invoice_status = $2, updated_at = $3 \
         WHERE provider_reference = $4",
    )
    .bind(invoice_id)
    .bind(status)
    .bind(now)
    .bind(subscription_reference)
    .execute(&mut **tx)
    .await?;
    if done.rows_affected() == 0 {
        return Ok(Applied::Missing("subscription"));
    }
    events::record(
        tx,
        event_type,
        subscription_reference,
        &json!({ "invoice": invoice_id, "status": status }),
        now,
    )
    .await?;
    Ok(Applied::done(true, None))
}
