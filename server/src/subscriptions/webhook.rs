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
    pause_collection: Option<(String, Option<i64>)>,
) -> Result<Applied, sqlx::Error> {
    let now = state.clock.now_ms();
    let found = repo::apply_provider_update(
        tx,
        reference,
        status,
        cancel_at_period_end,
        current_period_end,
        pause_collection,
        now,
    )
    .await?;
    match found {
        None => Ok(Applied::Missing("subscription")),
        // It had ended already: nothing changes, and nothing is told.
        Some(false) => Ok(Applied::done(false, None)),
        Some(true) => {
            record_event(tx, "subscription.updated", reference, now).await?;
            Ok(Applied::done(true, None))
        }
    }
}

/// An invoice of a subscription was paid, failed, or needs the customer (3-D Secure on a
/// renewal: Stripe's `invoice.payment_action_required`).
pub async fn apply_invoice(
    state: &AppState,
    tx: &mut Tx,
    subscription_reference: &str,
    invoice_id: &str,
    status: &str,
    provider_event_type: &str,
) -> Result<Applied, sqlx::Error> {
    let now = state.clock.now_ms();
    let Some(changed) =
        repo::record_invoice(tx, subscription_reference, invoice_id, status, now).await?
    else {
        return Ok(Applied::Missing("subscription"));
    };
    // paygate's own names. Stripe's `invoice.paid` and `invoice.payment_succeeded` both mean
    // the invoice was paid: only the first of the two is told. A failed attempt, or one that
    // needs the customer, is told once per Stripe event (the inbox stores each event once)
    // while the invoice is still open: its status does not change between attempts (the
    // creation's answer may already have said `open`), and one paid since is not a failure
    // to act on.
    let (kind, tell) = match provider_event_type {
        "invoice.payment_failed" => ("subscription.invoice_payment_failed", status == "open"),
        "invoice.payment_action_required" => {
            ("subscription.invoice_action_required", status == "open")
        }
        _ => ("subscription.invoice_paid", changed),
    };
    if !tell {
        return Ok(Applied::done(changed, None));
    }
    record_event(tx, kind, subscription_reference, now).await?;
    Ok(Applied::done(true, None))
}

/// The event of a change, carrying the subscription as it is now.
async fn record_event(
    tx: &mut Tx,
    kind: &str,
    reference: &str,
    now: i64,
) -> Result<(), sqlx::Error> {
    if let Some(subscription) = repo::get_by_reference_in(tx, reference).await? {
        events::record(tx, kind, &subscription.id, &json!(subscription), now).await?;
    }
    Ok(())
}
