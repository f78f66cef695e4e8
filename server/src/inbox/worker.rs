//! The durable inbox worker: claims due rows, hands each effect to the module that owns it
//! (payments, refunds, subscriptions), and marks the row processed in the same transaction as
//! the change. Rows for payments paygate
//! does not know yet are retried with backoff, then parked (kept, listed and replayable), never
//! dropped. Several instances may run: a row
//! is claimed with a lease (`locked_until`) so only one applies it at a time.

use super::effect::Applied;
use super::store;
use crate::db::Tx;
use crate::providers::EventEffect;
use crate::state::AppState;
use crate::{payments, refunds, subscriptions};
use serde_json::json;
use shared::api::ProviderName;
use std::time::Duration;
use tokio::sync::watch;

const BATCH: i64 = 32;
const LEASE_MS: i64 = 60_000;
const MAX_BACKOFF_MS: i64 = 3_600_000;
/// Attempts at an event that cannot be applied yet (its object unknown, its provider not
/// readable) before it is parked: with the backoff above (1 s doubling to 34 min, then one an
/// hour), the first 12 come within about 70 minutes and all 36 within about a day. Each attempt may call the provider, so a forged
/// or stray event about an object that will never exist must not be retried for ever. A parked
/// event is kept with its reason, listed in the console, and applied again by
/// `paygate events replay` (or the console's replay).
pub const MAX_ATTEMPTS: i64 = 36;

/// Runs until `shutdown` turns true: wakes on a new event or every `poll`.
pub async fn run(state: AppState, poll: Duration, mut shutdown: watch::Receiver<bool>) {
    loop {
        match process_due(&state).await {
            Ok(n) if n > 0 => continue,
            Ok(_) => {}
            Err(e) => tracing::error!(error = %e, "inbox worker pass failed"),
        }
        tokio::select! {
            _ = state.inbox_wakeup.notified() => {}
            _ = tokio::time::sleep(poll) => {}
            _ = shutdown.changed() => {}
        }
        if *shutdown.borrow() {
            return;
        }
    }
}

/// Applies every due event once; returns how many were handled.
pub async fn process_due(state: &AppState) -> Result<usize, sqlx::Error> {
    let now = state.clock.now_ms();
    let ids = store::due(&state.db, now, BATCH).await?;

    let mut handled = 0;
    for id in ids {
        let claimed = store::claim(&state.db, id, now, now + LEASE_MS).await?;
        if claimed {
            apply_one(state, id).await?;
            handled += 1;
        }
    }
    Ok(handled)
}

async fn apply_one(state: &AppState, id: i64) -> Result<(), sqlx::Error> {
    let store::StoredEvent {
        provider: provider_name,
        event_id,
        event_type,
        payload,
        attempts,
    } = store::load(&state.db, &state.cipher, id).await?;

    let payload = match payload {
        Ok(payload) => payload,
        // A data key left out of the configuration: kept, and tried again once it is back.
        Err(e) => return retry_later(state, id, attempts, &format!("stored body: {e}")).await,
    };
    let Some(provider) = ProviderName::parse(&provider_name).and_then(|p| state.providers.get(p))
    else {
        return retry_later(state, id, attempts, "provider not enabled").await;
    };
    let effects = match provider.interpret_event(payload.as_bytes()) {
        Ok(effects) => effects,
        Err(e) => {
            tracing::error!(%event_id, error = %e, "stored provider event is unreadable");
            return finish(state, id, "unreadable", None, Some(&e.to_string())).await;
        }
    };
    if effects.is_empty() {
        return finish(state, id, "ignored", None, None).await;
    }
    if attempts == 0
        && effects
            .iter()
            .any(|e| matches!(e, EventEffect::Reread { .. }))
    {
        state
            .metrics
            .count_other_api_version(provider.name().as_str());
        tracing::warn!(%event_id, %event_type, "provider event rendered at another API version; applied only from a re-read");
    }
    let effects = match current_state(provider.as_ref(), effects).await {
        Ok(effects) => effects,
        // Applied from the provider's answer or not at all: tried again later.
        Err(reason) => return retry_later(state, id, attempts, &reason).await,
    };
    let mut tx = state.db.begin_write().await?;
    let detail = json!({ "event_id": event_id, "event_type": event_type });
    let mut outcome = "unchanged";
    let mut payment_id: Option<String> = None;
    let mut follow_ups = Vec::new();
    for effect in effects {
        match apply_effect(state, &mut tx, provider.name(), effect, &detail).await? {
            Applied::Missing(what) => {
                tx.rollback().await?;
                // The webhook may outrun our own write of the provider reference.
                return retry_later(
                    state,
                    id,
                    attempts,
                    &format!("no {what} with this provider reference yet"),
                )
                .await;
            }
            Applied::Done {
                changed,
                payment,
                follow_up,
            } => {
                if changed {
                    outcome = "applied";
                }
                payment_id = payment_id.or(payment);
                follow_ups.extend(follow_up);
            }
            Applied::Refused { payment } => {
                if outcome != "applied" {
                    outcome = "refused_transition";
                }
                payment_id = payment_id.or(Some(payment));
            }
        }
    }
    store::mark_processed(
        &mut *tx,
        id,
        outcome,
        payment_id.as_deref(),
        None,
        state.clock.now_ms(),
    )
    .await?;
    tx.commit().await?;
    // The session was settled in the transaction; giving back a duplicate calls the provider,
    // so it runs now (and reconciliation retries it if this fails).
    for follow_up in follow_ups {
        if let Err(e) = follow_up.run(state).await {
            tracing::warn!(error = %e, "could not give back a duplicate payment yet");
        }
    }
    Ok(())
}

/// Providers deliver events in any order (a `requires_action` event may arrive after the
/// `payment_failed` that followed it), and a stale snapshot could move an open payment to an
/// older state. For providers that ask for it, a payment's current state is read back from the
/// provider before it is applied. When that read fails, a Stripe event's own snapshot is
/// applied (its HMAC authenticates it; the state machine still guards terminal states), but a
/// PayPal event waits and is tried again: its verification rests on a fetched certificate, so a
/// capture, a refund or a status is never applied from its body alone (a PayPal refund is read
/// back too). Done before any transaction.
async fn current_state(
    provider: &dyn crate::providers::PaymentProvider,
    effects: Vec<EventEffect>,
) -> Result<Vec<EventEffect>, String> {
    if !provider.webhooks_need_current_state() {
        return Ok(effects);
    }
    let mut out = Vec::with_capacity(effects.len());
    // (effect, whether it was just read from the provider and so is current already)
    let mut queue: std::collections::VecDeque<(EventEffect, bool)> =
        effects.into_iter().map(|e| (e, false)).collect();
    while let Some((effect, fresh)) = queue.pop_front() {
        match effect {
            // Another API version: only the object read back counts.
            EventEffect::Reread {
                event_type,
                object,
                id,
            } => match provider.reread(&event_type, &object, &id).await {
                Ok(effects) => queue.extend(effects.into_iter().map(|e| (e, true))),
                Err(e) => {
                    return Err(format!(
                        "could not read {object} {id} back from the provider: {e}"
                    ))
                }
            },
            EventEffect::RefundsOfCharge { charge } => {
                match provider.refunds_of_charge(&charge).await {
                    Ok(refunds) => out.extend(refunds),
                    Err(e) => {
                        return Err(format!(
                            "could not list the refunds of {charge} from the provider: {e}"
                        ))
                    }
                }
            }
            effect if fresh => out.push(effect),
            effect => out.push(current_one(provider, effect).await?),
        }
    }
    Ok(out)
}

/// One effect as the provider has it now (see [`current_state`]).
async fn current_one(
    provider: &dyn crate::providers::PaymentProvider,
    effect: EventEffect,
) -> Result<EventEffect, String> {
    Ok(match effect {
        EventEffect::PaymentUpdate {
            reference,
            status,
            captured_minor,
            last_error,
            authorization,
            capture,
        } => match provider.retrieve_payment(&reference).await {
            Ok(fresh) if fresh.reference == reference => EventEffect::PaymentUpdate {
                reference,
                status: fresh.status,
                captured_minor: fresh.captured_minor.or(captured_minor),
                last_error: fresh.last_error,
                authorization: fresh.authorization.or(authorization),
                capture: fresh.capture.or(capture),
            },
            Ok(_) | Err(_) if provider.webhook_snapshot_trusted() => EventEffect::PaymentUpdate {
                reference,
                status,
                captured_minor,
                last_error,
                authorization,
                capture,
            },
            Ok(fresh) => {
                return Err(format!(
                    "the provider answered {} for {reference}",
                    fresh.reference
                ))
            }
            Err(e) => {
                return Err(format!(
                    "could not read {reference} back from the provider: {e}"
                ))
            }
        },
        EventEffect::RefundUpdate { ref reference, .. } if !provider.webhook_snapshot_trusted() => {
            let reference = reference.clone();
            match provider.retrieve_refund(&reference).await {
                Ok(None) => effect,
                Ok(Some(fresh)) if refund_reference(&fresh) == Some(reference.as_str()) => fresh,
                Ok(Some(_)) => {
                    return Err(format!(
                        "the provider answered another refund for {reference}"
                    ))
                }
                Err(e) => {
                    return Err(format!(
                        "could not read refund {reference} back from the provider: {e}"
                    ))
                }
            }
        }
        // Stripe does not deliver events in order (docs.stripe.com/webhooks#event-ordering),
        // and a subscription's state can go back and forth (active, past_due, active): only
        // its current state, read back, is applied, so a late event cannot undo a newer one.
        // The same for an invoice (a late `invoice.payment_failed` for an invoice since paid).
        // As for payments, a verified snapshot stands in where the object cannot be read.
        EventEffect::SubscriptionUpdate { ref reference, .. } => {
            let reference = reference.clone();
            read_back(
                provider,
                effect,
                "customer.subscription.updated",
                "subscription",
                &reference,
            )
            .await?
        }
        // A dispute moves through several states within minutes (opened, funds withdrawn,
        // evidence under review, closed): the current one counts.
        // (A PayPal capture reversal is a dispute of no dispute id PayPal can show: it is
        // applied as the reversal says, as before.)
        EventEffect::Dispute(ref facts)
            if provider.name() == ProviderName::Stripe || facts.dispute_id.starts_with("PP-D-") =>
        {
            let id = facts.dispute_id.clone();
            read_back(provider, effect, "charge.dispute.updated", "dispute", &id).await?
        }
        EventEffect::InvoiceUpdate {
            ref invoice_id,
            ref event_type,
            ..
        } => {
            let (invoice_id, event_type) = (invoice_id.clone(), event_type.clone());
            read_back(provider, effect, &event_type, "invoice", &invoice_id).await?
        }
        // `attached` and `detached` may arrive in either order: whether the card is attached
        // now is what counts, and only Stripe's answer says it (an event's body, even a
        // verified one, may be the older of the two): without it the event waits.
        // Read back with its card, which the session's completion records.
        EventEffect::SetupUpdate(ref setup) => {
            let id = setup.id.clone();
            read_back(
                provider,
                effect,
                "setup_intent.succeeded",
                "setup_intent",
                &id,
            )
            .await?
        }
        EventEffect::SavedCard(ref card) => {
            let id = card.id.clone();
            match provider
                .reread("payment_method.updated", "payment_method", &id)
                .await
            {
                Ok(effects) => effects
                    .into_iter()
                    .find(|e| matches!(e, EventEffect::SavedCard(_)))
                    .unwrap_or(effect),
                Err(e) => {
                    return Err(format!(
                        "could not read payment method {id} back from the provider: {e}"
                    ))
                }
            }
        }
        other => other,
    })
}

/// An effect replaced by the one its object's current state gives (the same kind of
/// effect); the event's own when the object cannot be read and the snapshot is trusted.
async fn read_back(
    provider: &dyn crate::providers::PaymentProvider,
    effect: EventEffect,
    event_type: &str,
    object: &str,
    id: &str,
) -> Result<EventEffect, String> {
    let same_kind = |e: &EventEffect| std::mem::discriminant(e) == std::mem::discriminant(&effect);
    match provider.reread(event_type, object, id).await {
        Ok(effects) => match effects.into_iter().find(same_kind) {
            Some(fresh) => Ok(fresh),
            // The object no longer names what the event did (an invoice moved off its
            // subscription): nothing current to apply beyond the event itself.
            None => Ok(effect),
        },
        Err(_) if provider.webhook_snapshot_trusted() => Ok(effect),
        Err(e) => Err(format!(
            "could not read {object} {id} back from the provider: {e}"
        )),
    }
}

fn refund_reference(effect: &EventEffect) -> Option<&str> {
    match effect {
        EventEffect::RefundUpdate { reference, .. } => Some(reference),
        _ => None,
    }
}

/// Hands one effect to the module that owns it, inside the event's transaction.
async fn apply_effect(
    state: &AppState,
    tx: &mut Tx,
    provider: ProviderName,
    effect: EventEffect,
    detail: &serde_json::Value,
) -> Result<Applied, sqlx::Error> {
    match effect {
        EventEffect::PaymentUpdate {
            reference,
            status,
            captured_minor,
            last_error,
            authorization,
            capture,
        } => {
            let update = payments::webhook::update_from_event(
                status,
                captured_minor,
                last_error,
                authorization,
                capture,
            );
            payments::webhook::apply_update(state, tx, provider, &reference, update, detail).await
        }
        effect @ EventEffect::RefundUpdate { .. } => {
            let report =
                refunds::webhook::RefundReport::from_effect(effect).expect("a refund update");
            refunds::webhook::apply(state, tx, provider, report).await
        }
        // Replaced in `current_state` by what the provider answers; nothing of their own.
        EventEffect::RefundsOfCharge { .. } | EventEffect::Reread { .. } => {
            Ok(Applied::done(false, None))
        }
        EventEffect::Dispute(facts) => {
            crate::disputes::webhook::apply(
                state,
                tx,
                provider,
                &facts,
                payments::Cause::Webhook,
                detail,
            )
            .await
        }
        EventEffect::SavedCard(card) => {
            crate::customers::payment_methods::apply_provider_card(state, tx, &card).await
        }
        EventEffect::SetupUpdate(setup) => {
            crate::checkout::setup::apply_event(state, tx, &setup).await
        }
        EventEffect::SubscriptionUpdate {
            reference,
            status,
            cancel_at_period_end,
            current_period_end,
            pause_collection,
        } => {
            subscriptions::webhook::apply_update(
                state,
                tx,
                &reference,
                &status,
                cancel_at_period_end,
                current_period_end,
                pause_collection,
            )
            .await
        }
        EventEffect::InvoiceUpdate {
            subscription_reference,
            invoice_id,
            status,
            event_type,
        } => {
            subscriptions::webhook::apply_invoice(
                state,
                tx,
                &subscription_reference,
                &invoice_id,
                &status,
                &event_type,
            )
            .await
        }
    }
}

async fn finish(
    state: &AppState,
    id: i64,
    outcome: &str,
    payment_id: Option<&str>,
    error: Option<&str>,
) -> Result<(), sqlx::Error> {
    store::mark_processed(
        &state.db.pool,
        id,
        outcome,
        payment_id,
        error,
        state.clock.now_ms(),
    )
    .await
}

async fn retry_later(
    state: &AppState,
    id: i64,
    attempts: i64,
    reason: &str,
) -> Result<(), sqlx::Error> {
    // `attempts` counts those before this one.
    if attempts + 1 >= MAX_ATTEMPTS {
        tracing::warn!(
            id,
            attempts = attempts + 1,
            reason,
            "provider event parked after its last attempt; replay it with `paygate events replay`"
        );
        return store::park(&state.db, id, attempts, reason, state.clock.now_ms()).await;
    }
    let backoff = (1000_i64 << attempts.clamp(0, 12)).min(MAX_BACKOFF_MS);
    store::retry_at(&state.db, id, state.clock.now_ms() + backoff, reason).await
}
