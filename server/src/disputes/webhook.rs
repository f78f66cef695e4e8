//! Applying what a provider says about a dispute, in the caller's transaction: from a webhook
//! (the object read back by the inbox) or from the provider's answer to the merchant's
//! response. The first report makes the dispute (`payment.dispute_opened` and
//! `dispute.created`); a later one that changes it is `dispute.updated`, or `dispute.closed`
//! when it ends. Each is on the payment's timeline; the payment's `disputed_minor` follows
//! (`payment.updated` when it moves).

use super::repo;
use crate::db::Tx;
use crate::events;
use crate::ids::new_id;
use crate::inbox::effect::Applied;
use crate::payments::{self, timeline, Cause};
use crate::providers::DisputeFacts;
use crate::state::AppState;
use serde_json::json;
use shared::api::{Amount, Dispute, ProviderName};
use shared::Money;

pub async fn apply(
    state: &AppState,
    tx: &mut Tx,
    provider: ProviderName,
    facts: &DisputeFacts,
    cause: Cause,
    detail: &serde_json::Value,
) -> Result<Applied, sqlx::Error> {
    let Some(payment) =
        payments::repo::find_by_reference(&state.db, tx, provider, &facts.payment_reference)
            .await?
    else {
        return Ok(Applied::Missing("payment"));
    };
    let now = state.clock.now_ms();
    let amount_minor = facts
        .amount_minor
        .filter(|a| *a > 0)
        .unwrap_or(payment.money.minor());
    let amount = Amount::from(Money::from_minor(amount_minor, payment.money.currency()));
    let existing = repo::get_by_reference_in(&state.db, tx, provider, &facts.dispute_id).await?;
    let mut detail = detail.clone();
    if let Some(obj) = detail.as_object_mut() {
        obj.insert(
            "dispute".into(),
            json!({ "id": facts.dispute_id, "reason": facts.reason, "amount_minor": amount_minor,
                    "status": facts.status }),
        );
    }
    let (dispute, kind) = match existing {
        None => {
            let d = Dispute {
                id: new_id("dsp"),
                payment: payment.id.clone(),
                provider,
                provider_reference: facts.dispute_id.clone(),
                amount,
                reason: facts.reason.clone(),
                status: facts.status.clone(),
                needs_response: repo::needs_response(&facts.status),
                evidence_due_by: facts.evidence_due_by,
                submission_count: facts.submission_count,
                created: now.div_euclid(1000),
                updated: now.div_euclid(1000),
            };
            repo::insert(tx, &d, now).await?;
            timeline::append(
                tx,
                &payment.id,
                now,
                cause,
                "dispute_opened",
                None,
                None,
                &detail,
            )
            .await?;
            let data = json!({ "object": payment.to_api(), "dispute": detail["dispute"] });
            events::record_data(tx, "payment.dispute_opened", &payment.id, &data, now).await?;
            (d, "dispute.created")
        }
        Some(old) => {
            let d = Dispute {
                amount,
                reason: facts.reason.clone().or(old.reason.clone()),
                status: facts.status.clone(),
                needs_response: repo::needs_response(&facts.status),
                evidence_due_by: facts.evidence_due_by.or(old.evidence_due_by),
                submission_count: facts.submission_count.max(old.submission_count),
                updated: now.div_euclid(1000),
                ..old.clone()
            };
            if d.status == old.status
                && d.amount == old.amount
                && d.evidence_due_by == old.evidence_due_by
                && d.submission_count == old.submission_count
            {
                return Ok(Applied::done(false, Some(payment.id)));
            }
            repo::update(tx, &d, now).await?;
            let closed = repo::is_closed(&d.status) && !repo::is_closed(&old.status);
            let step = if closed {
                "dispute_closed"
            } else {
                "dispute_updated"
            };
            timeline::append(tx, &payment.id, now, cause, step, None, None, &detail).await?;
            (
                d,
                if closed {
                    "dispute.closed"
                } else {
                    "dispute.updated"
                },
            )
        }
    };
    events::record(tx, kind, &dispute.id, &json!(dispute), now).await?;
    if repo::refresh_disputed(tx, &payment.id).await? {
        if let Some(fresh) = payments::repo::get_locked(&state.db, tx, &payment.id).await? {
            events::record(
                tx,
                "payment.updated",
                &fresh.id,
                &json!(fresh.to_api()),
                now,
            )
            .await?;
        }
    }
    Ok(Applied::done(true, Some(payment.id)))
}
