//! Refunds (docs.stripe.com/api, docs.stripe.com/testing): never more than what is left on the
//! charge (pending refunds count), `charge_already_refunded` when nothing is;
//! `pm_card_pendingRefund` refunds are `pending` and succeed shortly after, `pm_card_refundFail`
//! ones succeed and then fail.

use super::cards::RefundMode;
use super::error::{ok, ApiError, ApiResult};
use super::form::Params;
use super::http::Ctx;
use super::store::{list_page, FollowUp, Metadata, Origin, Refund, Store, View};
use super::App;
use axum::extract::{Path, State};
use axum::Extension;

pub async fn create(
    State(app): State<App>,
    Extension(ctx): Extension<Ctx>,
    Extension(p): Extension<Params>,
) -> ApiResult {
    ctx.require_secret()?;
    p.check_allowed(&[
        "payment_intent",
        "charge",
        "amount",
        "reason",
        "metadata.*",
        "instructions_email",
        "expand.#",
    ])?;
    let pi_param = p.nonempty("payment_intent")?.map(str::to_string);
    let charge_param = p.nonempty("charge")?.map(str::to_string);
    let amount = p.int("amount")?;
    let reason = p
        .one_of(
            "reason",
            &["duplicate", "fraudulent", "requested_by_customer"],
        )?
        .map(str::to_string);
    let metadata = p.metadata("metadata")?;
    let expand = p.expand()?;
    if pi_param.is_none() && charge_param.is_none() {
        return Err(ApiError::invalid_param(
            "charge",
            "One of the following params should be provided for this request: payment_intent or charge.".to_string(),
        )
        .with_code("parameter_missing"));
    }
    if let Some(a) = amount {
        if a < 1 {
            return Err(
                ApiError::invalid_param("amount", "Invalid positive integer".to_string())
                    .with_code("parameter_invalid_integer"),
            );
        }
    }
    let origin = ctx.origin();
    app.run(|store| {
        let charge_id = match (&charge_param, &pi_param) {
            (Some(ch), pi) => {
                let charge = store
                    .charges
                    .get(ch)
                    .ok_or_else(|| ApiError::no_such("charge", ch, "charge"))?;
                if pi.as_ref().is_some_and(|pi| *pi != charge.payment_intent) {
                    return Err(ApiError::invalid(format!(
                        "The charge {ch} does not belong to the PaymentIntent {}.",
                        pi.as_deref().unwrap_or("")
                    ))
                    .with_param("payment_intent"));
                }
                ch.clone()
            }
            (None, Some(pi_id)) => {
                let pi = store
                    .payment_intents
                    .get(pi_id)
                    .ok_or_else(|| ApiError::no_such("payment_intent", pi_id, "payment_intent"))?;
                match (&pi.latest_charge, pi.status) {
                    (Some(ch), "succeeded") => ch.clone(),
                    _ => {
                        return Err(ApiError::invalid(format!(
                            "This PaymentIntent ({pi_id}) does not have a successful charge to refund."
                        ))
                        .with_param("payment_intent"))
                    }
                }
            }
            (None, None) => unreachable!("checked above"),
        };
        let charge = &store.charges[&charge_id];
        if charge.status != "succeeded" || !charge.captured {
            return Err(ApiError::invalid(format!(
                "Charge {charge_id} has not been captured, so it cannot be refunded. Cancel its PaymentIntent to release the funds instead."
            ))
            .with_param("charge"));
        }
        if charge.disputed {
            return Err(ApiError::invalid(format!(
                "Charge {charge_id} has been charged back; you cannot issue a refund on a charge that has been disputed."
            ))
            .with_code("charge_disputed"));
        }
        let left = charge.amount_captured - store.refunded_on(&charge_id);
        if left <= 0 {
            return Err(ApiError::invalid(format!(
                "Charge {charge_id} has already been refunded."
            ))
            .with_code("charge_already_refunded"));
        }
        let amount = amount.unwrap_or(left);
        if amount > left {
            return Err(ApiError::invalid(format!(
                "Refund amount ({}) is greater than unrefunded amount on charge ({})",
                super::units::display(amount, &charge.currency),
                super::units::display(left, &charge.currency)
            ))
            .with_code("amount_too_large")
            .with_param("amount"));
        }
        let mode = charge.refund_mode;
        let (currency, payment_intent) = (charge.currency.clone(), charge.payment_intent.clone());
        let mut meta = Metadata::new();
        if let Some(m) = &metadata {
            m.apply(&mut meta);
        }
        let seq = store.next_seq();
        let refund = Refund {
            id: crate::ids::new_id("re"),
            seq,
            created: store.now(),
            amount,
            currency,
            charge: charge_id.clone(),
            payment_intent,
            reason: reason.clone(),
            status: if mode == RefundMode::Pending {
                "pending"
            } else {
                "succeeded"
            },
            failure_reason: None,
            metadata: meta,
        };
        let id = refund.id.clone();
        store.refunds.insert(id.clone(), refund);
        // At the pinned 2024-06-20 a refund of a charge sends `charge.refunded` with the Charge,
        // which no longer embeds its refunds (2022-11-15); `refund.created` is for refunds
        // without a charge (cash balance) until 2024-10-28.acacia. Sources: stripe-node v16.12.0
        // `types/EventTypes.d.ts` ("Occurs whenever a refund from a customer's cash balance is
        // created"), docs.stripe.com/changelog/acacia/2024-10-28/refund-webhook-update.
        let charge_json = store.charge_json(&store.charges[&charge_id]);
        store.emit(&origin, "charge.refunded", charge_json, None);
        match mode {
            RefundMode::Pending => store.follow_ups.push(FollowUp::SettleRefund(id.clone())),
            RefundMode::Fail => store.follow_ups.push(FollowUp::FailRefund(id.clone())),
            RefundMode::Normal => {}
        }
        let mut v = store.refund_json(&store.refunds[&id]);
        store.expand(&mut v, &expand, View::Secret)?;
        ok(v)
    })
}

/// A refund of a charge changed: at 2024-06-20 that is `charge.refund.updated` with the Refund
/// ("Occurs whenever a refund is updated, on selected payment methods"); `refund.updated` was
/// for cash-balance refunds and `refund.failed` did not exist before 2024-10-28.acacia. Like
/// every `*.updated` event it carries `data.previous_attributes`, the changed fields' old
/// values (docs.stripe.com/api/events/object).
fn changed(store: &mut Store, id: &str, previous: serde_json::Value) {
    let origin = Origin::default();
    let json = store.refund_json(&store.refunds[id]);
    store.emit(&origin, "charge.refund.updated", json, Some(previous));
}

/// A pending refund succeeds (4000000000007726).
pub fn settle(store: &mut Store, id: &str) {
    let Some(r) = store.refunds.get_mut(id) else {
        return;
    };
    if r.status != "pending" {
        return;
    }
    r.status = "succeeded";
    changed(store, id, serde_json::json!({ "status": "pending" }));
}

/// A succeeded refund fails (4000000000005126): the money goes back to the merchant, so the
/// charge's refunded amount drops again.
pub fn fail(store: &mut Store, id: &str) {
    let Some(r) = store.refunds.get_mut(id) else {
        return;
    };
    if r.status != "succeeded" {
        return;
    }
    r.status = "failed";
    r.failure_reason = Some("expired_or_canceled_card".into());
    changed(
        store,
        id,
        serde_json::json!({ "status": "succeeded", "failure_reason": null }),
    );
}

pub async fn retrieve(
    State(app): State<App>,
    Extension(ctx): Extension<Ctx>,
    Extension(p): Extension<Params>,
    Path(id): Path<String>,
) -> ApiResult {
    ctx.require_secret()?;
    p.check_allowed(&["expand.#"])?;
    let store = app.store.lock().expect("store lock");
    let r = store
        .refunds
        .get(&id)
        .ok_or_else(|| ApiError::no_such("refund", &id, "refund"))?;
    let mut v = store.refund_json(r);
    store.expand(&mut v, &p.expand()?, View::Secret)?;
    ok(v)
}

pub async fn update(
    State(app): State<App>,
    Extension(ctx): Extension<Ctx>,
    Extension(p): Extension<Params>,
    Path(id): Path<String>,
) -> ApiResult {
    ctx.require_secret()?;
    p.check_allowed(&["metadata.*", "expand.#"])?;
    let metadata = p.metadata("metadata")?;
    app.run(|store| {
        let r = store
            .refunds
            .get_mut(&id)
            .ok_or_else(|| ApiError::no_such("refund", &id, "refund"))?;
        if let Some(m) = &metadata {
            m.apply(&mut r.metadata);
        }
        ok(store.refund_json(&store.refunds[&id]))
    })
}

pub async fn list(
    State(app): State<App>,
    Extension(ctx): Extension<Ctx>,
    Extension(p): Extension<Params>,
) -> ApiResult {
    ctx.require_secret()?;
    p.check_allowed(&[
        "payment_intent",
        "charge",
        "limit",
        "starting_after",
        "ending_before",
        "expand.#",
    ])?;
    let pi = p.str("payment_intent")?;
    let charge = p.str("charge")?;
    let store = app.store.lock().expect("store lock");
    let mut items: Vec<&Refund> = store
        .refunds
        .values()
        .filter(|r| pi.is_none_or(|x| r.payment_intent == x))
        .filter(|r| charge.is_none_or(|x| r.charge == x))
        .collect();
    items.sort_by_key(|r| std::cmp::Reverse(r.seq));
    let data = items.iter().map(|r| store.refund_json(r)).collect();
    let mut v = list_page(
        "/v1/refunds",
        data,
        p.int("limit")?,
        p.str("starting_after")?,
        p.str("ending_before")?,
    )?;
    store.expand(&mut v, &p.expand()?, View::Secret)?;
    ok(v)
}
