//! A payment's side of provider webhooks: state changes (through the one path, inside the
//! inbox worker's transaction). Disputes are `disputes::webhook`'s.

use super::lifecycle;
use super::repo::{self, Outcome, Update};
use super::Cause;
use crate::db::Tx;
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
