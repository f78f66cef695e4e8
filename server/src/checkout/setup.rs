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
            repo::set_setup_intent(&state.db, &session.id, &setup.id).await?;
            setup
        }
    };
    if setup.succeeded() {
        // Saved already (the answer to the widget was lost): the session completes now.
        settle(state, session, &setup).await?;
        return Err(ApiError::conflict(
            "session_complete",
            "This card has already been saved.",
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
        complete_in(state, &mut tx, session, setup).await?;
        tx.commit().await?;
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

/// In the caller's transaction: records the card `setup` saved for the session's customer (when
/// Stripe attached it to that customer) and completes the session with it, if still open and if
/// the SetupIntent is the session's. Whether the session completed now.
async fn complete_in(
    state: &AppState,
    tx: &mut Tx,
    session: &SessionRecord,
    setup: &StripeSetupIntent,
) -> Result<bool, sqlx::Error> {
    let (Some(customer), Some(card_id)) = (&session.customer_id, &setup.payment_method) else {
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
    if let Some(card) = attached_card(tx, customer, setup).await? {
        crate::customers::payment_methods::record_attached(tx, customer, card, now).await?;
    }
    repo::complete_setup_if_open(
        tx,
        &session.id,
        &setup.id,
        card_id,
        &state.config.public_url,
        now,
    )
    .await
}

/// The SetupIntent's card, if Stripe attached it to the session's customer.
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

/// For the expiry sweep: an overdue setup session's SetupIntent, read from Stripe. `Ok(true)`
/// when it succeeded (the session completed now instead of expiring).
pub async fn completed_at_deadline(
    state: &AppState,
    session: &SessionRecord,
) -> Result<bool, ApiError> {
    let Some(id) = &session.setup_intent_id else {
        return Ok(false);
    };
    let stripe = state.providers.require_stripe(WHAT)?;
    let setup = stripe.retrieve_setup_intent(id).await?;
    Ok(settle(state, session, &setup).await? == CheckoutSessionStatus::Complete)
}

/// For the expiry sweep, after the session expired: its SetupIntent can save no card any more
/// (canceled `abandoned`, as Stripe does when a Checkout Session expires). A SetupIntent that
/// succeeded meanwhile cannot be canceled; its card stays saved and is recorded by its
/// `payment_method.attached` event.
pub async fn give_up(state: &AppState, session: &SessionRecord) -> Result<(), ApiError> {
    let Some(id) = &session.setup_intent_id else {
        return Ok(());
    };
    let stripe = state.providers.require_stripe(WHAT)?;
    let setup = stripe.retrieve_setup_intent(id).await?;
    if matches!(
        setup.status.as_str(),
        "requires_payment_method" | "requires_confirmation" | "requires_action"
    ) {
        stripe.cancel_setup_intent(id).await?;
    }
    Ok(())
}
