//! Expired sessions accept nothing, and what they opened at the providers is given up: open
//! PaymentIntents are canceled, open PayPal orders voided, a setup session's SetupIntent
//! canceled. Run from the reconciliation loop.
//!
//! Before a session is marked expired its open payments are re-read from their providers: a
//! customer who paid just before the deadline, whose browser and webhook were both lost, has
//! paid, and the re-read completes the session (through the one path) instead of expiring it
//! and voiding the authorisation they gave. A session whose payments cannot be re-read now is
//! left for the next pass; the widget already treats it as expired by its deadline.

use super::{repo, setup};
use crate::payments::actions::{self, Action};
use crate::payments::{lifecycle, repo as payments_repo, Cause};
use crate::state::AppState;
use shared::api::PaymentStatus;

const BATCH: i64 = 100;

/// Marks open sessions past their expiry as expired and cancels their open payments. Returns
/// how many sessions expired.
pub async fn sweep(state: &AppState) -> Result<usize, sqlx::Error> {
    let now = state.clock.now_ms();
    let mut expired = 0;
    for (id, setup) in repo::overdue(&state.db, now, BATCH).await? {
        if setup {
            if let Some(session) = repo::get(&state.db, &id).await? {
                expired += usize::from(expire_setup(state, &session, now).await?);
            }
            continue;
        }
        let mut unknown = false;
        for payment in payments_repo::unfinished_for_session(&state.db, &id).await? {
            if let Err(e) = lifecycle::refresh(state, &payment, Cause::Expiry, "expiry_check").await
            {
                tracing::warn!(payment = %payment.id, error = %e, "could not re-read the payment of an overdue session; trying again later");
                unknown = true;
            }
        }
        if unknown || !repo::expire_if_open(&state.db, &id, &state.config.public_url, now).await? {
            continue;
        }
        expired += 1;
        for payment in payments_repo::unfinished_for_session(&state.db, &id).await? {
            // A payment still processing at the provider cannot be canceled; if it succeeds, it
            // is given back as a payment for a session that no longer accepts one.
            if payment.status == PaymentStatus::Processing {
                continue;
            }
            if let Err(e) = actions::run(state, &payment.id, Action::Cancel, Cause::Expiry).await {
                tracing::warn!(payment = %payment.id, error = %e, "could not cancel the payment of an expired session");
            }
        }
    }
    Ok(expired)
}

/// A setup session at its deadline: its SetupIntent canceled first, then the session expired;
/// completed instead if the SetupIntent succeeded (the customer saved the card just before, and
/// both the widget's report and Stripe's event were lost); left for the next pass if Stripe
/// cannot be reached. Whether it expired now.
async fn expire_setup(
    state: &AppState,
    session: &super::SessionRecord,
    now: i64,
) -> Result<bool, sqlx::Error> {
    match setup::close_at_deadline(state, session).await {
        Ok(setup::AtDeadline::Closed) => {
            repo::expire_if_open(&state.db, &session.id, &state.config.public_url, now).await
        }
        Ok(setup::AtDeadline::Completed) => Ok(false),
        Err(e) => {
            tracing::warn!(session = %session.id, error = %e, "could not close the SetupIntent of an overdue session; trying again later");
            Ok(false)
        }
    }
}
