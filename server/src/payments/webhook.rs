//! A payment's side of provider webhooks: state changes (through the one path, inside the
//! inbox worker's transaction) and disputes.

use super::lifecycle;
use super::repo::{self, Outcome, Update};
use super::{timeline, Cause};
use crate::db::Tx;
use crate::events;
use crate::inbox::effect::Applied;
use crate::state::AppState;
use shared::api::{PaymentError, PaymentStatus, ProviderName};

/// The provider's view of the payment with `reference` (its own id, or one of its PayPal
/// authorization or capture ids), applied through [`lifecycle::apply_locked`].
pub async fn apply_update(
    state: &AppState,
    tx: &mut Tx,
    provider: ProviderName,
    reference: &str,
    update: Update,
    detail: &serde_json::Value,
) -> Result<Applied, sqlx::Error> {
    let Some(current) = repo::find_by_reference(&state.db, tx, provider, reference).await? else {
        return Ok(Applied::Missing("payment"));
    };
    let follow_up =
        lifecycle::apply_locked(state, tx, &current, update, Cause::Webhook, detail.clone())
            .await?;
    Ok(match follow_up.applied().outcome {
        Outcome::Refused { .. } => Applied::Refused {
            payment: current.id,
        },
        ref outcome => Applied::Done {
            changed: *outcome != Outcome::Unchanged,
            payment: Some(current.id),
            follow_up: Some(Box::new(follow_up)),
        },
    })
}

/// The update a webhook's snapshot of a payment stands for.
pub fn update_from_event(
    status: PaymentStatus,
    captured_minor: Option<i64>,
    last_error: Option<PaymentError>,
    authorization: Option<String>,
    capture: Option<String>,
) -> Update {
    Update {
        status: Some(status),
        captured_minor,
        last_error: last_error.map(Some),
        authorization,
        capture,
        ..Update::default()
    }
}

/// A dispute opened against the payment: on its timeline and in the outbox.
pub async fn record_dispute(
    state: &AppState,
    tx: &mut Tx,
    provider: ProviderName,
    payment_reference: &str,
    dispute: serde_json::Value,
    detail: &serde_json::Value,
) -> Result<Applied, sqlx::Error> {
    let Some(payment) = repo::find_by_reference(&state.db, tx, provider, payment_reference).await?
    else {
        return Ok(Applied::Missing("payment"));
    };
    let now = state.clock.now_ms();
    let mut d = detail.clone();
    if let Some(obj) = d.as_object_mut() {
        obj.insert("dispute".into(), dispute);
    }
    timeline::append(
        tx,
        &payment.id,
        now,
        Cause::Webhook,
        "dispute_opened",
        None,
        None,
        &d,
    )
    .await?;
    let data = serde_json::json!({ "object": payment.to_api(), "dispute": d["dispute"] });
    events::record_data(tx, "payment.dispute_opened", &payment.id, &data, now).await?;
    Ok(Applied::done(true, Some(payment.id)))
}
