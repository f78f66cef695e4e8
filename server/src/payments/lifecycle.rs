//! The one path from a provider's view of a payment to every consequence.
//!
//! Every actor — the merchant API, the widget, the webhook worker, reconciliation, the console,
//! session expiry — records what a provider said about a payment through [`apply`] (or, inside a
//! transaction it must share, [`apply_locked`] and then [`FollowUp::run`] after its commit):
//!
//! 1. the payment row is locked and the state machine applies the update; the timeline entry
//!    (with the true cause) and the outbox event are written in the same transaction;
//! 2. a checkout session the payment now pays for is completed in that same transaction, so a
//!    paid session can never stay open and later expire;
//! 3. after the commit, a payment that paid for a session another payment completed (or that
//!    expired) is given back: refunded if captured, voided if only authorised. That step calls
//!    the provider, so it cannot share the transaction; [`give_back_leftovers`] retries it from
//!    reconciliation until it is done.

use super::actions::{self, Action};
use super::repo::{self, Outcome, Update};
use super::{timeline, Cause, PaymentRecord};
use crate::checkout;
use crate::db::Tx;
use crate::error::ApiError;
use crate::http::idempotency::RequestKey;
use crate::providers::ProviderError;
use crate::refunds;
use crate::state::AppState;
use serde_json::json;
use shared::api::{
    CaptureMode, CheckoutSessionStatus, CreateRefund, PaymentError, PaymentStatus, RefundReason,
};
use std::future::Future;
use std::pin::Pin;

/// Whether this payment pays for its checkout session: captured, or in manual-capture mode
/// authorised.
pub fn pays_for_session(payment: &PaymentRecord) -> bool {
    match payment.capture_mode {
        CaptureMode::Automatic => payment.status == PaymentStatus::Succeeded,
        CaptureMode::Manual => matches!(
            payment.status,
            PaymentStatus::RequiresCapture | PaymentStatus::Succeeded
        ),
    }
}

/// What applying a provider's view did.
#[derive(Debug)]
pub struct Applied {
    pub outcome: Outcome,
    pub payment: PaymentRecord,
    /// The payment's checkout session's status afterwards, when it belongs to one.
    pub session: Option<CheckoutSessionStatus>,
}

/// The part of a change that must wait for its transaction's commit.
#[must_use = "run the follow-up after the transaction commits"]
#[derive(Debug)]
pub struct FollowUp {
    applied: Applied,
    cause: Cause,
    /// The session this payment paid for although another payment completed it (or it expired).
    give_back: Option<String>,
}

impl FollowUp {
    /// Gives back a duplicate payment, if this change made one; returns what was applied.
    pub async fn run(self, state: &AppState) -> Result<Applied, ApiError> {
        if let Some(session) = &self.give_back {
            give_back(state, session, &self.applied.payment, self.cause).await?;
        }
        Ok(self.applied)
    }

    pub fn applied(&self) -> &Applied {
        &self.applied
    }
}

/// Locks the payment, applies `update` (what the provider said) with its cause, completes the
/// session it pays for, commits, then gives back a duplicate.
pub async fn apply(
    state: &AppState,
    payment_id: &str,
    update: Update,
    cause: Cause,
    detail: serde_json::Value,
) -> Result<Applied, ApiError> {
    let mut tx = state.db.begin_write().await?;
    let current = repo::get_locked(&state.db, &mut tx, payment_id)
        .await?
        .ok_or_else(|| ApiError::not_found("payment"))?;
    let follow_up = apply_locked(state, &mut tx, &current, update, cause, detail).await?;
    tx.commit().await?;
    follow_up.run(state).await
}

/// [`apply`] inside the caller's transaction, for `current` read with its row lock (the inbox
/// worker marks the provider event processed in the same transaction). The caller commits, then
/// runs the returned [`FollowUp`].
pub async fn apply_locked(
    state: &AppState,
    tx: &mut Tx,
    current: &PaymentRecord,
    update: Update,
    cause: Cause,
    detail: serde_json::Value,
) -> Result<FollowUp, sqlx::Error> {
    let now = state.clock.now_ms();
    let update = super::authenticate::with_page_url(state, current, update);
    let (outcome, payment) = repo::apply_update(tx, current, update, cause, detail, now).await?;
    let (session, give_back) = match payment.checkout_session_id.clone() {
        Some(session_id) => {
            let public_url = &state.config.public_url;
            settle_session(tx, public_url, &session_id, &payment, cause, now).await?
        }
        None => (None, None),
    };
    Ok(FollowUp {
        applied: Applied {
            outcome,
            payment,
            session,
        },
        cause,
        give_back,
    })
}

/// Re-reads the payment from its provider and applies what it says.
pub async fn refresh(
    state: &AppState,
    payment: &PaymentRecord,
    cause: Cause,
    operation: &str,
) -> Result<Applied, ApiError> {
    Ok(refresh_read(state, payment, cause, operation).await?.0)
}

/// [`refresh`], also returning the payment method the provider reported (what a checkout that
/// saves the card records; paygate keeps it only for off-session charges).
pub async fn refresh_read(
    state: &AppState,
    payment: &PaymentRecord,
    cause: Cause,
    operation: &str,
) -> Result<(Applied, Option<String>), ApiError> {
    let Some(reference) = payment.provider_reference.clone() else {
        return Err(ApiError::conflict(
            "invalid_state",
            "The payment has no provider object yet.",
        ));
    };
    let provider = state.providers.require(payment.provider)?;
    let mut fresh = provider.retrieve_payment(&reference).await?;
    let payment_method = fresh.payment_method.take();
    let applied = apply(
        state,
        &payment.id,
        Update::from(fresh),
        cause,
        json!({ "operation": operation }),
    )
    .await?;
    Ok((applied, payment_method))
}

/// Records a provider's refusal or failure of `operation`. A decline leaves the payment open for
/// another payment method, with the decline as its last error; any other failure (timeout, 5xx,
/// an outcome unknown) changes nothing but gets a timeline entry: exactly one entry per failure.
pub async fn record_failure(
    state: &AppState,
    payment_id: &str,
    operation: &str,
    error: &ProviderError,
    cause: Cause,
) -> Result<Applied, ApiError> {
    let update = match error {
        ProviderError::Declined {
            code,
            decline_code,
            message,
            reference,
        } => Update {
            status: Some(PaymentStatus::RequiresPaymentMethod),
            last_error: Some(Some(PaymentError {
                code: code.clone(),
                message: message.clone(),
                decline_code: decline_code.clone(),
                doc_url: reference.doc_url.clone(),
            })),
            ..Update::default()
        },
        // The provider refused to make the payment at all (an amount under its minimum after
        // conversion, a currency the account cannot take): nothing exists there and asking
        // again would be refused again, so the payment ends here, saying why.
        ProviderError::InvalidRequest { message, .. } if operation == "create" => Update {
            status: Some(PaymentStatus::Failed),
            last_error: Some(Some(PaymentError {
                code: "provider_invalid_request".into(),
                message: message.clone(),
                decline_code: None,
                doc_url: None,
            })),
            ..Update::default()
        },
        _ => Update::default(),
    };
    let mut detail = json!({ "operation": operation, "error": error.to_string() });
    if let ProviderError::Declined { reference, .. } = error {
        // A final answer for this attempt: the next one needs a key of its own (actions.rs).
        detail["declined"] = json!(true);
        detail["provider_error"] = reference.to_json();
    }
    let mut tx = state.db.begin_write().await?;
    let current = repo::get_locked(&state.db, &mut tx, payment_id)
        .await?
        .ok_or_else(|| ApiError::not_found("payment"))?;
    let follow_up = apply_locked(state, &mut tx, &current, update, cause, detail.clone()).await?;
    if follow_up.applied.outcome == Outcome::Unchanged {
        timeline::append(
            &mut tx,
            payment_id,
            state.clock.now_ms(),
            cause,
            "provider_error",
            Some(current.status),
            None,
            &detail,
        )
        .await?;
    }
    tx.commit().await?;
    follow_up.run(state).await
}

/// In the payment's transaction: completes its session if it pays for it and the session is
/// still open. Returns the session's status and, for a payment that paid for a session someone
/// else completed, that session's id (to give the payment back after the commit).
async fn settle_session(
    tx: &mut Tx,
    public_url: &str,
    session_id: &str,
    payment: &PaymentRecord,
    cause: Cause,
    now: i64,
) -> Result<(Option<CheckoutSessionStatus>, Option<String>), sqlx::Error> {
    if pays_for_session(payment)
        && checkout::repo::complete_if_open(tx, session_id, payment, public_url, now).await?
    {
        timeline::append(
            tx,
            &payment.id,
            now,
            cause,
            "completed_session",
            None,
            None,
            &json!({ "checkout_session": session_id }),
        )
        .await?;
        return Ok((Some(CheckoutSessionStatus::Complete), None));
    }
    let Some(session) = checkout::repo::get_in(tx, session_id).await? else {
        return Ok((None, None));
    };
    let duplicate = pays_for_session(payment)
        && session.completed_payment_id.as_deref() != Some(payment.id.as_str());
    Ok((
        Some(session.effective_status(now)),
        duplicate.then(|| session_id.to_string()),
    ))
}

/// Another payment already completed the session (or it expired): this one is given back.
/// Safe to repeat: the refund's id and provider key are derived from the payment, and a void
/// of a voided payment is refused by the state machine before any provider call.
fn give_back<'a>(
    state: &'a AppState,
    session_id: &'a str,
    payment: &'a PaymentRecord,
    cause: Cause,
) -> Pin<Box<dyn Future<Output = Result<(), ApiError>> + Send + 'a>> {
    // Boxed: voiding runs an action, which records its answer through `apply`, which may come
    // back here; the explicit type breaks that cycle for the compiler.
    Box::pin(async move {
        let refund = payment.status == PaymentStatus::Succeeded;
        let key = RequestKey::internal(&format!("duplicate-refund:{}", payment.id));
        if refund
            && refunds::repo::get(&state.db, &key.derive_id("re"))
                .await?
                .is_some()
        {
            // Already under way; reconciliation settles a refund whose answer was lost.
            return Ok(());
        }
        let mut tx = state.db.begin_write().await?;
        timeline::append(
            &mut tx,
            &payment.id,
            state.clock.now_ms(),
            cause,
            "duplicate_for_session",
            Some(payment.status),
            None,
            &json!({ "checkout_session": session_id, "action": if refund { "refund" } else { "void" } }),
        )
        .await?;
        tx.commit().await?;
        tracing::warn!(payment = %payment.id, session = %session_id, "second successful payment for one session: giving it back");
        if refund {
            refunds::service::create(
                state,
                CreateRefund {
                    payment: payment.id.clone(),
                    amount: None,
                    reason: Some(RefundReason::Duplicate),
                    metadata: Default::default(),
                },
                cause,
                Some(key),
            )
            .await?;
        } else {
            actions::run(state, &payment.id, Action::Cancel, cause).await?;
        }
        Ok(())
    })
}

/// Reconciliation: gives back duplicates whose give-back was interrupted (a crash after the
/// commit, a provider error). Returns how many were looked at.
pub async fn give_back_leftovers(state: &AppState) -> Result<usize, sqlx::Error> {
    let leftovers = repo::unreturned_duplicates(&state.db, 50).await?;
    for payment in &leftovers {
        let Some(session) = payment.checkout_session_id.as_deref() else {
            continue;
        };
        if let Err(e) = give_back(state, session, payment, Cause::Reconciliation).await {
            tracing::warn!(payment = %payment.id, error = %e, "could not give back a duplicate payment yet");
        }
    }
    Ok(leftovers.len())
}
