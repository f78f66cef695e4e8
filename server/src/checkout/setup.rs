//! Checkout sessions in `setup` mode: the customer saves a card for later payments and nothing
//! is charged (Stripe Checkout's `mode: setup`, built on Stripe's SetupIntents,
//! docs.stripe.com/payments/save-and-reuse).
//!
//! One SetupIntent per session, made when the widget opens the card form and keyed by the
//! session, so a retried or repeated request never makes a second one. The customer confirms it
//! with Stripe.js (`confirmSetup`, which runs 3-D Secure when the bank asks). The session
//! completes when Stripe reports the SetupIntent `succeeded`, whichever of these tells paygate
//! first: the widget's `…/stripe/complete`, Stripe's `setup_intent.succeeded` event, or the
//! expiry sweep re-reading it at the deadline. Each records the card for the session's customer
//! and completes the session in one transaction, once.

use super::record::SessionRecord;
use super::repo;
use crate::db::Tx;
use crate::error::ApiError;
use crate::inbox::effect::Applied;
use crate::providers::stripe::setup_intents::StripeSetupIntent;
use crate::providers::CardFacts;
use crate::state::AppState;
use shared::api::{CheckoutSessionStatus, PaymentStatus, WidgetOutcome, WidgetStripeIntent};

const WHAT: &str = "Saved cards";

/// The card form of a setup session: its SetupIntent's client secret (the SetupIntent is made
/// the first time; its secret is read from Stripe each time, never stored).
pub async fn intent(
    state: &AppState,
    session: &SessionRecord,
) -> Result<WidgetStripeIntent, ApiError> {
    let stripe = state.providers.require_stripe(WHAT)?;
    let setup = match &session.setup_intent_id {
        Some(id) => stripe.retrieve_setup_intent(id).await?,
        None => {
            let stripe_customer = stripe_customer_of(state, session).await?;
            let setup = stripe
                .create_setup_intent(
                    &session.id,
                    &stripe_customer,
                    session.description.as_deref(),
                )
                .await?;
            // Recorded only while the session is open and before its deadline: the expiry
            // sweep may have passed in between, and a SetupIntent it never saw is canceled here
            // rather than left able to save a card for an expired session.
            let now = state.clock.now_ms();
            if !repo::set_setup_intent(&state.db, &session.id, &setup.id, now).await? {
                let recorded = repo::get(&state.db, &session.id).await?;
                if recorded.and_then(|s| s.setup_intent_id).as_deref() != Some(&setup.id) {
                    if let Err(e) = stripe.cancel_setup_intent(&setup.id).await {
                        tracing::warn!(session = %session.id, error = %e, "could not cancel the SetupIntent of a session that closed meanwhile");
                    }
                    return Err(ApiError::conflict(
                        "session_expired",
                        "This checkout has expired.",
                    ));
                }
            }
            setup
        }
    };
    if setup.succeeded() {
        // Saved already (the answer to the widget was lost): the session completes now.
        return Err(match settle(state, session, &setup).await? {
            CheckoutSessionStatus::Complete => {
                ApiError::conflict("session_complete", "This card has already been saved.")
            }
            CheckoutSessionStatus::Expired => {
                ApiError::conflict("session_expired", "This checkout has expired.")
            }
            CheckoutSessionStatus::Open => {
                ApiError::internal("a succeeded SetupIntent that does not complete its session")
            }
        });
    }
    if setup.status == "canceled" {
        return Err(ApiError::conflict(
            "setup_canceled",
            "This card form was closed at Stripe. Ask the shop for a new checkout.",
        ));
    }
    let client_secret = setup
        .client_secret
        .ok_or_else(|| ApiError::internal("SetupIntent without client secret"))?;
    Ok(WidgetStripeIntent {
        client_secret,
        payment: setup.id,
    })
}

/// What the widget shows after the customer confirmed the card: Stripe's answer on the
/// SetupIntent, read by the server (the browser's word is only a hint).
pub async fn complete(
    state: &AppState,
    session: &SessionRecord,
) -> Result<WidgetOutcome, ApiError> {
    let Some(id) = &session.setup_intent_id else {
        return Err(ApiError::conflict(
            "no_payment",
            "No card was entered for this checkout.",
        ));
    };
    let stripe = state.providers.require_stripe(WHAT)?;
    let setup = stripe.retrieve_setup_intent(id).await?;
    let status = settle(state, session, &setup).await?;
    Ok(WidgetOutcome {
        session: status,
        payment_status: payment_status(&setup.status),
        message: setup
            .last_error
            .filter(|_| setup.status == "requires_payment_method"),
        payment: setup.id,
    })
}

/// A SetupIntent's status in the widget's terms (the payment statuses share Stripe's names).
fn payment_status(stripe: &str) -> PaymentStatus {
    match stripe {
        "succeeded" => PaymentStatus::Succeeded,
        "requires_action" => PaymentStatus::RequiresAction,
        "requires_confirmation" => PaymentStatus::RequiresConfirmation,
        "processing" => PaymentStatus::Processing,
        "canceled" => PaymentStatus::Canceled,
        _ => PaymentStatus::RequiresPaymentMethod,
    }
}

/// Completes `session` if `setup` (read from Stripe) succeeded; returns the session's status.
pub async fn settle(
    state: &AppState,
    session: &SessionRecord,
    setup: &StripeSetupIntent,
) -> Result<CheckoutSessionStatus, ApiError> {
    let now = state.clock.now_ms();
    if setup.succeeded() && session.status == CheckoutSessionStatus::Open {
        let mut tx = state.db.begin_write().await?;
        let completed = complete_in(state, &mut tx, session, setup).await?;
        tx.commit().await?;
        if completed {
            return Ok(CheckoutSessionStatus::Complete);
        }
        // Another report completed it first, or it is not this session's card.
        return Ok(repo::get(&state.db, &session.id)
            .await?
            .ok_or_else(|| ApiError::not_found("checkout session"))?
            .effective_status(now));
    }
    Ok(session.effective_status(now))
}

/// Stripe's `setup_intent.succeeded` (read back): the session it belongs to completes. Found by
/// the SetupIntent paygate recorded, or by the session its metadata names (an instance that
/// made the SetupIntent may have died before recording it).
pub async fn apply_event(
    state: &AppState,
    tx: &mut Tx,
    setup: &StripeSetupIntent,
) -> Result<Applied, sqlx::Error> {
    if !setup.succeeded() {
        return Ok(Applied::done(false, None));
    }
    // Its card could not be read with it (Stripe unreachable, and the event's own body stands
    // in): the event waits and is tried again, as a session completes only with a card known
    // to be its customer's.
    if setup.card.is_none() {
        return Ok(Applied::Missing("the SetupIntent's card, read from Stripe"));
    }
    let session = match repo::get_by_setup_intent(tx, &setup.id).await? {
        Some(session) => Some(session),
        None => match &setup.session {
            Some(id) => repo::get_in(tx, id).await?,
            None => None,
        },
    };
    let Some(session) = session else {
        // Not a paygate checkout's SetupIntent.
        return Ok(Applied::done(false, None));
    };
    let changed = complete_in(state, tx, &session, setup).await?;
    Ok(Applied::done(changed, None))
}

/// In the caller's transaction: records the card `setup` saved for the session's customer and
/// completes the session with it, if still open, if the SetupIntent is the session's and if
/// Stripe attached the card to the session's customer (a card of anyone else's is never
/// recorded as theirs, and completes nothing). Whether the session completed now.
async fn complete_in(
    state: &AppState,
    tx: &mut Tx,
    session: &SessionRecord,
    setup: &StripeSetupIntent,
) -> Result<bool, sqlx::Error> {
    let Some(customer) = &session.customer_id else {
        return Ok(false);
    };
    let ours = setup.session.as_deref() == Some(session.id.as_str())
        && session
            .setup_intent_id
            .as_deref()
            .is_none_or(|id| id == setup.id);
    if session.mode != shared::api::CheckoutMode::Setup || !ours {
        tracing::warn!(session = %session.id, setup_intent = %setup.id, "a SetupIntent that is not this session's; ignored");
        return Ok(false);
    }
    let now = state.clock.now_ms();
    let Some(card) = attached_card(tx, customer, setup).await? else {
        tracing::warn!(session = %session.id, setup_intent = %setup.id, "a SetupIntent whose card is not attached to the session's customer; the session stays open");
        return Ok(false);
    };
    crate::customers::payment_methods::record_attached(tx, customer, card, now).await?;
    repo::complete_setup_if_open(
        tx,
        &session.id,
        &setup.id,
        &card.id,
        &state.config.public_url,
        now,
    )
    .await
}

/// The SetupIntent's card, if the SetupIntent is for the session's customer and Stripe attached
/// the card to them.
async fn attached_card<'a>(
    tx: &mut Tx,
    customer: &str,
    setup: &'a StripeSetupIntent,
) -> Result<Option<&'a CardFacts>, sqlx::Error> {
    let Some(card) = &setup.card else {
        return Ok(None);
    };
    let Some(stripe_customer) = &card.provider_customer else {
        return Ok(None);
    };
    if setup.customer.as_ref() != Some(stripe_customer) {
        return Ok(None);
    }
    let owner = crate::customers::repo::id_for_stripe_customer(tx, stripe_customer).await?;
    Ok((owner.as_deref() == Some(customer)).then_some(card))
}

/// The Stripe customer a setup session saves the card for.
async fn stripe_customer_of(state: &AppState, session: &SessionRecord) -> Result<String, ApiError> {
    let customer = session
        .customer_id
        .as_deref()
        .ok_or_else(|| ApiError::internal("setup session without a customer"))?;
    crate::customers::repo::get(&state.db, &state.cipher, customer)
        .await?
        .and_then(|c| c.stripe_customer_id)
        .ok_or_else(|| ApiError::internal("setup session for a customer not mirrored at Stripe"))
}

/// What the expiry sweep may do with an overdue setup session.
#[derive(Debug, PartialEq, Eq)]
pub enum AtDeadline {
    /// Its SetupIntent can save no card any more (never made, canceled now or before): the
    /// session may expire.
    Closed,
    /// The card was saved: the session completed instead.
    Completed,
}

/// For the expiry sweep, before an overdue setup session expires: its SetupIntent is canceled
/// first (`abandoned`, as Stripe does when a Checkout Session expires), so no card can be saved
/// after paygate has told the merchant the session expired. Stripe refuses to cancel a
/// SetupIntent that succeeded: then the card was saved just before the deadline (the widget's
/// report and Stripe's event both lost) and the session completes instead. An error (Stripe
/// unreachable) leaves the session for the next pass.
pub async fn close_at_deadline(
    state: &AppState,
    session: &SessionRecord,
) -> Result<AtDeadline, ApiError> {
    let Some(id) = &session.setup_intent_id else {
        return Ok(AtDeadline::Closed);
    };
    let stripe = state.providers.require_stripe(WHAT)?;
    // Canceled at once, in one call, in the usual case (the customer left); read only when
    // Stripe refuses (it succeeded, or was canceled before) or does not answer.
    let setup = match stripe.cancel_setup_intent(id).await {
        Ok(_) => return Ok(AtDeadline::Closed),
        Err(e) => stripe.retrieve_setup_intent(id).await.map_err(|_| e)?,
    };
    match setup.status.as_str() {
        "succeeded" => match settle(state, session, &setup).await? {
            CheckoutSessionStatus::Complete => Ok(AtDeadline::Completed),
            _ => Err(ApiError::internal(
                "a succeeded SetupIntent that does not complete its session",
            )),
        },
        "canceled" => Ok(AtDeadline::Closed),
        other => Err(ApiError::internal(format!(
            "SetupIntent {id} is {other} at its session's deadline"
        ))),
    }
}
