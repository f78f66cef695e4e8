//! A refund's state reported by a provider webhook: paygate's own refunds (found by the
//! provider's id, or by the id paygate gave the provider when the webhook beat the answer) and
//! refunds made outside paygate (recorded, so the payment's refunded total stays true).

use super::{external, repo};
use crate::db::Tx;
use crate::inbox::effect::Applied;
use crate::payments::Cause;
use crate::providers::{EventEffect, RefundStatus};
use crate::state::AppState;
use shared::api::ProviderName;
use shared::Money;

/// What the provider said about one refund.
pub struct RefundReport {
    pub reference: String,
    pub payment_reference: Option<String>,
    pub status: RefundStatus,
    pub failure_reason: Option<String>,
    pub amount: Option<Money>,
    pub paygate_refund_id: Option<String>,
}

impl RefundReport {
    /// The report an [`EventEffect::RefundUpdate`] carries; `None` for any other effect.
    pub fn from_effect(effect: EventEffect) -> Option<RefundReport> {
        match effect {
            EventEffect::RefundUpdate {
                reference,
                payment_reference,
                status,
                failure_reason,
                amount,
                paygate_refund_id,
            } => Some(RefundReport {
                reference,
                payment_reference,
                status,
                failure_reason,
                amount,
                paygate_refund_id,
            }),
            _ => None,
        }
    }
}

pub async fn apply(
    state: &AppState,
    tx: &mut Tx,
    provider: ProviderName,
    report: RefundReport,
) -> Result<Applied, sqlx::Error> {
    let now = state.clock.now_ms();
    let known = match repo::find_by_reference(&state.db, tx, &report.reference).await? {
        Some(refund) => Some(refund),
        // One of ours whose provider answer is not recorded yet (the webhook won the race):
        // found by the id paygate gave the provider.
        None => match &report.paygate_refund_id {
            Some(id) => repo::get_locked(&state.db, tx, id)
                .await?
                .filter(|r| r.provider_reference.is_none()),
            None => None,
        },
    };
    let refund = match known {
        Some(refund) => refund,
        // Made outside paygate (the provider's dashboard): recorded so the payment's refunded
        // total stays true.
        None if report.paygate_refund_id.is_none() => {
            match external::record(
                state,
                tx,
                provider,
                &report.reference,
                report.payment_reference.as_deref(),
                report.amount,
                now,
            )
            .await?
            {
                Some(refund) => refund,
                None => return Ok(Applied::Missing("payment of the refund")),
            }
        }
        None => return Ok(Applied::Missing("refund")),
    };
    let changed = repo::apply_status(
        tx,
        &refund,
        report.status,
        Some(&report.reference),
        report.failure_reason.as_deref(),
        Cause::Webhook,
        now,
    )
    .await?;
    Ok(Applied::done(changed, Some(refund.payment_id)))
}
