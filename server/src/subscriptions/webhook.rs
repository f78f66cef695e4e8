//! Stripe Billing webhooks: a subscription's state and its latest invoice.

use super::repo;
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
    let found = repo::apply_provider_update(
        tx,
        reference,
        status,
        cancel_at_period_end,
        current_period_end,
        now,
    )
    .await?;
    if !found {
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
    let found = repo::record_invoice(tx, subscription_reference, invoice_id, status, now).await?;
    if !found {
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
