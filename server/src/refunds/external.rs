//! Refunds made outside paygate, e.g. in Stripe's Dashboard or PayPal's: paygate learns of them
//! from the provider's webhook and records them like its own, so the payment's refunded total,
//! its timeline and the console's totals stay true. Refunds paygate made carry its id to the
//! provider (Stripe `metadata[paygate_refund_id]`, PayPal `invoice_id`) and never come here.

use super::repo::{self, RefundRecord};
use crate::db::Tx;
use crate::ids::new_id;
use crate::payments::{self, Cause};
use crate::providers::RefundStatus;
use crate::state::AppState;
use shared::api::{Metadata, ProviderName};
use shared::Money;

/// Inserts a `pending` record for the provider's refund `reference` of the payment found by
/// `payment_reference` (under its row lock); the caller then applies the refund's status.
/// `None` when the payment or the amount is unknown.
pub async fn record(
    state: &AppState,
    tx: &mut Tx,
    provider: ProviderName,
    reference: &str,
    payment_reference: Option<&str>,
    amount: Option<Money>,
    now_ms: i64,
) -> Result<Option<RefundRecord>, sqlx::Error> {
    let (Some(payment_reference), Some(amount)) = (payment_reference, amount) else {
        return Ok(None);
    };
    let Some(payment) =
        payments::repo::find_by_reference(&state.db, tx, provider, payment_reference).await?
    else {
        return Ok(None);
    };
    if amount.currency() != payment.money.currency() || amount.minor() <= 0 {
        tracing::warn!(payment = %payment.id, refund = %reference, "provider refund in another currency than its payment; not recorded");
        return Ok(None);
    }
    let mut metadata = Metadata::new();
    metadata.insert("source".to_string(), "provider".to_string());
    let record = RefundRecord {
        id: new_id("re"),
        payment_id: payment.id,
        provider_reference: Some(reference.to_string()),
        status: RefundStatus::Pending,
        money: amount,
        reason: None,
        failure_reason: None,
        metadata,
        created_at: now_ms,
        updated_at: now_ms,
    };
    repo::insert(tx, &record, Cause::Webhook).await?;
    Ok(Some(record))
}
