//! Reconciliation: payments left in a non-final state past a deadline are re-read
//! from their provider, so a lost webhook cannot leave a payment stuck. A payment whose creation
//! answer never came back (crash, lost response) is looked up at the provider by paygate's id,
//! or asked for again with the same idempotency key, which makes the provider return the object
//! it already created instead of a new one; a refund whose answer was lost is settled the same
//! way.

use crate::jobs::JobLease;
use crate::payments::repo::{self, Update};
use crate::payments::{lifecycle, Cause, PaymentRecord};
use crate::providers::ProviderPayment;
use crate::state::AppState;
use serde_json::json;
use std::time::Duration;
use tokio::sync::watch;

const BATCH: i64 = 50;
/// Providers keep idempotency keys at least 24 hours (Stripe); a creation is only replayed
/// inside that window.
const CREATE_REPLAY_WINDOW_MS: i64 = 23 * 3600 * 1000;

/// Runs a pass every `interval` until `stopped` turns true. With several instances, only the
/// one holding the job lease runs a pass, renewing it before each payment or refund it looks
/// at; the lease lives a few periods (at least four provider timeouts, so one unit of work
/// never outlives it), and is given up on shutdown.
pub async fn run(state: AppState, interval: Duration, mut stopped: watch::Receiver<bool>) {
    let ttl = (interval * 3).max(state.config.provider_timeout * 4);
    let lease = JobLease::new("reconcile", &state.instance_id, ttl.as_millis() as i64);
    // The first pass one period after start, not at once: nothing is due at start-up that a
    // period's wait would hurt, and tests that move the clock are not raced by a pass.
    let mut tick = tokio::time::interval_at(tokio::time::Instant::now() + interval, interval);
    loop {
        tokio::select! {
            _ = tick.tick() => {}
            _ = stopped.changed() => {}
        }
        if *stopped.borrow() {
            if let Err(e) = lease.release(&state.db).await {
                tracing::warn!(error = %e, "could not give up the reconciliation lease");
            }
            return;
        }
        match lease.hold(&state.db, state.clock.now_ms()).await {
            Ok(true) => {}
            Ok(false) => continue,
            Err(e) => {
                tracing::warn!(error = %e, "could not take the reconciliation lease");
                continue;
            }
        }
        if let Err(e) = pass(&state, Some(&lease)).await {
            tracing::warn!(error = %e, "reconciliation pass failed");
        }
        if !still_held(&state, Some(&lease)).await {
            continue;
        }
        if let Err(e) = crate::checkout::expiry::sweep(&state).await {
            tracing::warn!(error = %e, "expired-session sweep failed");
        }
    }
}

/// One pass: re-reads every open payment idle for longer than the configured deadline and not
/// re-read since, settles lost refunds, and gives back duplicates whose give-back was
/// interrupted. Returns how many payments and refunds were looked at.
pub async fn reconcile_once(state: &AppState) -> Result<usize, sqlx::Error> {
    pass(state, None).await
}

/// A pass that stops where `lease` is lost (another instance took it after it ran out).
async fn pass(state: &AppState, lease: Option<&JobLease>) -> Result<usize, sqlx::Error> {
    let now = state.clock.now_ms();
    let deadline = now - state.config.reconcile_after.as_millis() as i64;
    let payments = repo::idle_open(&state.db, deadline, BATCH).await?;
    for payment in &payments {
        if !still_held(state, lease).await {
            return Ok(0);
        }
        reconcile_payment(state, payment).await?;
    }
    if !still_held(state, lease).await {
        return Ok(payments.len());
    }
    let refunds = reconcile_refunds(state, deadline, now).await?;
    let duplicates = lifecycle::give_back_leftovers(state).await?;
    Ok(payments.len() + refunds + duplicates)
}

/// Renews the lease, if there is one; false when another instance holds it now.
async fn still_held(state: &AppState, lease: Option<&JobLease>) -> bool {
    let Some(lease) = lease else {
        return true;
    };
    match lease.hold(&state.db, state.clock.now_ms()).await {
        Ok(held) => held,
        Err(e) => {
            tracing::warn!(error = %e, "could not renew the reconciliation lease");
            false
        }
    }
}

/// Refunds still `pending` without the provider's id past the deadline: the answer to their
/// creation was lost and no webhook told of them. The creation is asked for again with the same
/// idempotency key (inside the provider's replay window), which returns the refund the provider
/// made, or makes it once if it never arrived.
async fn reconcile_refunds(
    state: &AppState,
    deadline: i64,
    now: i64,
) -> Result<usize, sqlx::Error> {
    let ids = crate::refunds::repo::lost_pending(
        &state.db,
        deadline,
        now - CREATE_REPLAY_WINDOW_MS,
        BATCH,
    )
    .await?;
    for id in &ids {
        if let Err(e) = crate::refunds::service::resume_pending(state, id).await {
            tracing::warn!(refund = %id, error = %e, "reconciliation: refund still unresolved");
        }
    }
    let pending = crate::refunds::repo::stale_pending(&state.db, deadline, BATCH).await?;
    for (id, reference, provider) in &pending {
        if let Err(e) = settle_pending_refund(state, provider, reference).await {
            tracing::warn!(refund = %id, error = %e, "reconciliation: reading a pending refund back failed");
        }
        crate::refunds::repo::mark_reconciled(&state.db, id, now).await?;
    }
    Ok(ids.len() + pending.len())
}

/// A refund the provider still had as pending when it last said anything: its state now, read
/// back and applied as its webhook would be.
async fn settle_pending_refund(
    state: &AppState,
    provider: &str,
    reference: &str,
) -> Result<(), crate::error::ApiError> {
    let name = shared::api::ProviderName::parse(provider)
        .ok_or_else(|| crate::error::ApiError::internal(format!("provider {provider:?}")))?;
    let provider = state.providers.require(name)?;
    let Some(report) = provider
        .retrieve_refund(reference)
        .await?
        .and_then(crate::refunds::webhook::RefundReport::from_effect)
    else {
        return Ok(());
    };
    let mut tx = state.db.begin_write().await?;
    crate::refunds::webhook::apply(state, &mut tx, name, report).await?;
    tx.commit().await?;
    Ok(())
}

/// A creation whose answer never came: the provider's object found by paygate's id, or, if
/// there is none, the creation asked again with its idempotency key (which makes it once if it
/// never ran, and returns it if it did). Never with another key: a timeout or a 409 says nothing
/// about whether the first request made an object, and a second object for one payment is a
/// payment the customer could pay without paygate knowing. A key that answers a failure Stripe
/// saved under it is passed over for the next of a fixed sequence (`providers::saved_failures`).
async fn recover_creation(
    state: &AppState,
    provider: &dyn crate::providers::PaymentProvider,
    payment: &PaymentRecord,
) -> Option<ProviderPayment> {
    match provider.find_payment(&payment.id, payment.created_at).await {
        Ok(Some(found)) => return Some(found),
        Ok(None) => {}
        Err(e) => {
            tracing::warn!(payment = %payment.id, error = %e, "reconciliation: looking up a lost creation failed");
            return None;
        }
    }
    // An off-session charge is made and confirmed by one request: asked again, it would charge
    // the card hours after the merchant was told it failed (and may have charged it another
    // way). Only the merchant's own retry, under its Idempotency-Key, asks again.
    if payment.payment_method_id.is_some() {
        return None;
    }
    let request = match crate::payments::service::provider_request(state, payment).await {
        Ok(request) => request,
        Err(e) => {
            tracing::warn!(payment = %payment.id, error = %e, "reconciliation: cannot rebuild a lost creation");
            return None;
        }
    };
    crate::providers::saved_failures::create_payment(provider, &request, payment.created_at)
        .await
        .map_err(|e| {
            tracing::warn!(payment = %payment.id, error = %e, "reconciliation: creation replay failed");
        })
        .ok()
}

async fn reconcile_payment(state: &AppState, payment: &PaymentRecord) -> Result<(), sqlx::Error> {
    let Some(provider) = state.providers.get(payment.provider).cloned() else {
        return Ok(());
    };
    let now = state.clock.now_ms();
    let answer: Option<ProviderPayment> = match &payment.provider_reference {
        Some(reference) => provider.retrieve_payment(reference).await.map_err(|e| {
            tracing::warn!(payment = %payment.id, error = %e, "reconciliation: provider read failed");
        }).ok(),
        None if now - payment.created_at < CREATE_REPLAY_WINDOW_MS => {
            recover_creation(state, provider.as_ref(), payment).await
        }
        None => None,
    };
    if let Some(answer) = answer {
        // The one path: a payment found paid here completes its checkout session, exactly as
        // if the browser or the webhook had reported it.
        let applied = lifecycle::apply(
            state,
            &payment.id,
            Update::from(answer),
            Cause::Reconciliation,
            json!({ "operation": "reconcile" }),
        )
        .await;
        if let Err(e) = applied {
            tracing::warn!(payment = %payment.id, error = %e, "reconciliation: recording the provider's state failed");
        }
    }
    repo::mark_reconciled(&state.db, &payment.id, now).await
}
