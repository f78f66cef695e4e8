//! The durable inbox worker: claims due rows, applies them through the payment state machine,
//! and marks them processed in the same transaction as the change. Rows for payments paygate
//! does not know yet are retried with backoff, never dropped. Several instances may run: a row
//! is claimed with a lease (`locked_until`) so only one applies it at a time.

use crate::db::Tx;
use crate::payments::repo::{self, Outcome, Update};
use crate::payments::{timeline, Cause};
use crate::providers::EventEffect;
use crate::state::AppState;
use crate::{outbox, refunds};
use serde_json::json;
use shared::api::ProviderName;
use sqlx::Row;
use std::time::Duration;
use tokio::sync::watch;

const BATCH: i64 = 32;
const LEASE_MS: i64 = 60_000;
const MAX_BACKOFF_MS: i64 = 3_600_000;

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
    let ids: Vec<i64> = sqlx::query(
        "SELECT id FROM provider_events WHERE processed_at IS NULL AND next_attempt_at <= $1 \
         AND (locked_until IS NULL OR locked_until < $2) ORDER BY id LIMIT $3",
    )
    .bind(now)
    .bind(now)
    .bind(BATCH)
    .fetch_all(&state.db.pool)
    .await?
    .iter()
    .map(|r| r.try_get::<i64, _>("id"))
    .collect::<Result<_, _>>()?;

    let mut handled = 0;
    for id in ids {
        let claimed = sqlx::query(
            "UPDATE provider_events SET locked_until = $1 WHERE id = $2 AND processed_at IS NULL \
             AND (locked_until IS NULL OR locked_until < $3)",
        )
        .bind(now + LEASE_MS)
        .bind(id)
        .bind(now)
        .execute(&state.db.pool)
        .await?
        .rows_affected()
            == 1;
        if claimed {
            apply_one(state, id).await?;
            handled += 1;
        }
    }
    Ok(handled)
}

async fn apply_one(state: &AppState, id: i64) -> Result<(), sqlx::Error> {
    let row = sqlx::query(
        "SELECT provider, event_id, event_type, payload, attempts FROM provider_events WHERE id = $1",
    )
    .bind(id)
    .fetch_one(&state.db.pool)
    .await?;
    let provider_name: String = row.try_get("provider")?;
    let event_id: String = row.try_get("event_id")?;
    let event_type: String = row.try_get("event_type")?;
    let payload: String = row.try_get("payload")?;
    let attempts: i64 = row.try_get("attempts")?;

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
    let effects = current_state(provider.as_ref(), effects).await;
    let mut tx = state.db.begin_write().await?;
    let detail = json!({ "event_id": event_id, "event_type": event_type });
    let mut outcome = "unchanged";
    let mut payment_id: Option<String> = None;
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
            Applied::Done { changed, payment } => {
                if changed {
                    outcome = "applied";
                }
                payment_id = payment_id.or(payment);
            }
            Applied::Refused { payment } => {
                if outcome != "applied" {
                    outcome = "refused_transition";
                }
                payment_id = payment_id.or(Some(payment));
            }
        }
    }
    sqlx::query(
        "UPDATE provider_events SET processed_at = $1, outcome = $2, payment_id = $3, \
         attempts = attempts + 1, locked_until = NULL, last_error = NULL WHERE id = $4",
    )
    .bind(state.clock.now_ms())
    .bind(outcome)
    .bind(&payment_id)
    .bind(id)
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    // A payment that succeeded by webhook completes its checkout session even if the customer's
    // browser never came back.
    if let Some(pid) = payment_id {
        if let Some(payment) = repo::get(&state.db, &pid).await? {
            if let Some(session) = payment.checkout_session_id.clone() {
                if let Err(e) = crate::checkout::settle::settle(state, &session, &payment).await {
                    tracing::warn!(payment = %pid, error = %e, "could not settle the checkout session");
                }
            }
        }
    }
    Ok(())
}

/// Providers deliver events in any order (a `requires_action` event may arrive after the
/// `payment_failed` that followed it), and a stale snapshot could move an open payment to an
/// older state. For providers that ask for it, a payment's current state is read back from the
/// provider before it is applied; the event's own snapshot is used when that read fails (the
/// state machine still guards terminal states). Done before any transaction is opened.
async fn current_state(
    provider: &dyn crate::providers::PaymentProvider,
    effects: Vec<EventEffect>,
) -> Vec<EventEffect> {
    if !provider.webhooks_need_current_state() {
        return effects;
    }
    let mut out = Vec::with_capacity(effects.len());
    for effect in effects {
        out.push(match effect {
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
                _ => EventEffect::PaymentUpdate {
                    reference,
                    status,
                    captured_minor,
                    last_error,
                    authorization,
                    capture,
                },
            },
            other => other,
        });
    }
    out
}

enum Applied {
    Done {
        changed: bool,
        payment: Option<String>,
    },
    Refused {
        payment: String,
    },
    /// The object the event is about is not (yet) known: retry later.
    Missing(&'static str),
}

async fn apply_effect(
    state: &AppState,
    tx: &mut Tx,
    provider: ProviderName,
    effect: EventEffect,
    detail: &serde_json::Value,
) -> Result<Applied, sqlx::Error> {
    let now = state.clock.now_ms();
    match effect {
        EventEffect::PaymentUpdate {
            reference,
            status,
            captured_minor,
            last_error,
            authorization,
            capture,
        } => {
            let Some(current) =
                repo::find_by_reference(&state.db, tx, provider, &reference).await?
            else {
                return Ok(Applied::Missing("payment"));
            };
            let update = Update {
                status: Some(status),
                captured_minor,
                last_error: last_error.map(Some),
                authorization,
                capture,
                ..Update::default()
            };
            let (outcome, _) =
                repo::apply_update(tx, &current, update, Cause::Webhook, detail.clone(), now)
                    .await?;
            Ok(match outcome {
                Outcome::Refused { .. } => Applied::Refused {
                    payment: current.id,
                },
                Outcome::Unchanged => Applied::Done {
                    changed: false,
                    payment: Some(current.id),
                },
                _ => Applied::Done {
                    changed: true,
                    payment: Some(current.id),
                },
            })
        }
        EventEffect::RefundUpdate {
            reference,
            payment_reference,
            status,
            failure_reason,
            amount,
            paygate_refund_id,
        } => {
            let known = match refunds::repo::find_by_reference(&state.db, tx, &reference).await? {
                Some(refund) => Some(refund),
                // One of ours whose provider answer is not recorded yet (the webhook won the
                // race): found by the id paygate gave the provider.
                None => match &paygate_refund_id {
                    Some(id) => refunds::repo::get_locked(&state.db, tx, id)
                        .await?
                        .filter(|r| r.provider_reference.is_none()),
                    None => None,
                },
            };
            let refund = match known {
                Some(refund) => refund,
                // Made outside paygate (the provider's dashboard): recorded so the payment's
                // refunded total stays true.
                None if paygate_refund_id.is_none() => {
                    match refunds::external::record(
                        state,
                        tx,
                        provider,
                        &reference,
                        payment_reference.as_deref(),
                        amount,
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
            let changed = refunds::repo::apply_status(
                tx,
                &refund,
                status,
                Some(&reference),
                failure_reason.as_deref(),
                Cause::Webhook,
                now,
            )
            .await?;
            Ok(Applied::Done {
                changed,
                payment: Some(refund.payment_id),
            })
        }
        EventEffect::Dispute {
            payment_reference,
            dispute_id,
            reason,
            amount_minor,
        } => {
            let Some(payment) =
                repo::find_by_reference(&state.db, tx, provider, &payment_reference).await?
            else {
                return Ok(Applied::Missing("payment"));
            };
            let mut d = detail.clone();
            if let Some(obj) = d.as_object_mut() {
                obj.insert(
                    "dispute".into(),
                    json!({ "id": dispute_id, "reason": reason, "amount_minor": amount_minor }),
                );
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
            outbox::record(tx, "payment.dispute_opened", &payment.id, &d, now).await?;
            Ok(Applied::Done {
                changed: true,
                payment: Some(payment.id),
            })
        }
        EventEffect::SubscriptionUpdate {
            reference,
            status,
            cancel_at_period_end,
            current_period_end,
        } => {
            let done = sqlx::query(
                "UPDATE subscriptions SET status = $1, cancel_at_period_end = $2, current_period_end = $3, updated_at = $4 \
                 WHERE provider_reference = $5",
            )
            .bind(&status)
            .bind(i64::from(cancel_at_period_end))
            .bind(current_period_end)
            .bind(now)
            .bind(&reference)
            .execute(&mut **tx)
            .await?;
            if done.rows_affected() == 0 {
                return Ok(Applied::Missing("subscription"));
            }
            outbox::record(
                tx,
                "subscription.updated",
                &reference,
                &json!({ "status": status, "cancel_at_period_end": cancel_at_period_end }),
                now,
            )
            .await?;
            Ok(Applied::Done {
                changed: true,
                payment: None,
            })
        }
        EventEffect::InvoiceUpdate {
            subscription_reference,
            invoice_id,
            status,
            event_type,
        } => {
            let done = sqlx::query(
                "UPDATE subscriptions SET latest_invoice_id = $1, latest_invoice_status = $2, updated_at = $3 \
                 WHERE provider_reference = $4",
            )
            .bind(&invoice_id)
            .bind(&status)
            .bind(now)
            .bind(&subscription_reference)
            .execute(&mut **tx)
            .await?;
            if done.rows_affected() == 0 {
                return Ok(Applied::Missing("subscription"));
            }
            outbox::record(
                tx,
                &event_type,
                &subscription_reference,
                &json!({ "invoice": invoice_id, "status": status }),
                now,
            )
            .await?;
            Ok(Applied::Done {
                changed: true,
                payment: None,
            })
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
    sqlx::query(
        "UPDATE provider_events SET processed_at = $1, outcome = $2, payment_id = $3, \
         attempts = attempts + 1, locked_until = NULL, last_error = $4 WHERE id = $5",
    )
    .bind(state.clock.now_ms())
    .bind(outcome)
    .bind(payment_id)
    .bind(error)
    .bind(id)
    .execute(&state.db.pool)
    .await
    .map(|_| ())
}

async fn retry_later(
    state: &AppState,
    id: i64,
    attempts: i64,
    reason: &str,
) -> Result<(), sqlx::Error> {
    let backoff = (1000_i64 << attempts.clamp(0, 12)).min(MAX_BACKOFF_MS);
    sqlx::query(
        "UPDATE provider_events SET attempts = attempts + 1, next_attempt_at = $1, \
         locked_until = NULL, last_error = $2 WHERE id = $3",
    )
    .bind(state.clock.now_ms() + backoff)
    .bind(reason)
    .bind(id)
    .execute(&state.db.pool)
    .await
    .map(|_| ())
}
