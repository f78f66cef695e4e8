//! Changing a subscription's price (`items[0][id]` with `items[0][price]` on an update), with
//! Stripe's prorations in the classic billing mode (docs.stripe.com/billing/subscriptions/
//! prorations, stripe.com/docs/subscriptions/changing):
//! - the time left in the current period is credited at the old price ("Unused time on ...")
//!   and charged at the new one ("Remaining time on ..."), each line rounded to the minor unit;
//! - `proration_behavior=create_prorations` (the default) keeps those lines as pending invoice
//!   items for the next invoice (the renewal, [`renew_due`]); `always_invoice` invoices them at once and charges the
//!   default payment method; `none` makes none;
//! - a price with another billing interval resets the billing cycle to now and invoices at
//!   once: the new period in full, less the credit unless `none`.
//!
//! An invoice charged at once that fails leaves the change in place and the subscription
//! `past_due` (`payment_behavior=allow_incomplete`, the default for updates). A negative total
//! is an invoice of zero (Stripe credits the rest to the customer's balance, which the emulator
//! does not keep).

use super::calendar::add_interval;
use super::charging::{attempt, AttemptOptions};
use super::error::ApiError;
use super::payment_intents::insert_intent;
use super::store::{Invoice, InvoiceLine, Metadata, Origin, PendingItem, Store};

/// One requested change: the item (`si_...`) and its new price.
pub struct ItemChange {
    pub index: String,
    pub item: String,
    pub price: String,
}

/// Checks and applies the changes to `sub_id`, with its prorations; returns the id of an
/// invoice made at once, if one was.
pub fn change_prices(
    store: &mut Store,
    origin: &Origin,
    sub_id: &str,
    changes: &[ItemChange],
    proration: &str,
    public_base: &str,
) -> Result<Option<String>, ApiError> {
    let sub = store.subscriptions[sub_id].clone();
    let mut resolved = Vec::new();
    for change in changes {
        let position = sub
            .items
            .iter()
            .position(|i| i.id == change.item)
            .ok_or_else(|| {
                ApiError::no_such(
                    "subscription_item",
                    &change.item,
                    &format!("items[{}][id]", change.index),
                )
            })?;
        let param = format!("items[{}][price]", change.index);
        let price = store
            .prices
            .get(&change.price)
            .ok_or_else(|| ApiError::no_such("price", &change.price, &param))?;
        if price.recurring.is_none() || !price.active {
            return Err(ApiError::invalid(
                "The price specified is inactive or not recurring. This field only accepts active recurring prices.",
            )
            .with_param(&param));
        }
        if price.currency != sub.currency {
            return Err(ApiError::invalid(
                "All prices on a subscription must have the same `currency`.",
            )
            .with_param(&param));
        }
        resolved.push((position, price.clone()));
    }
    let now = store.now();
    let old_interval = sub
        .items
        .first()
        .and_then(|i| store.prices.get(&i.price))
        .and_then(|p| p.recurring.clone());
    let new_interval = resolved.first().and_then(|(_, p)| p.recurring.clone());
    let interval_changes = new_interval.is_some() && new_interval != old_interval;

    // Time left in the period, as a share of it (classic mode: by the second).
    let (start, end) = (sub.current_period_start, sub.current_period_end);
    let left = (end - now).clamp(0, (end - start).max(1));
    let length = (end - start).max(1);
    let prorate = |amount: i64| -> i64 {
        // Rounded half away from zero to the minor unit, per line.
        let scaled = i128::from(amount) * i128::from(left);
        let half = i128::from(length) / 2;
        i64::try_from((scaled + half) / i128::from(length)).unwrap_or(i64::MAX)
    };
    let mut lines = Vec::new();
    for (position, price) in &resolved {
        let item = &sub.items[*position];
        let old = &store.prices[&item.price];
        if proration != "none" {
            let credit = prorate(old.unit_amount * item.quantity);
            if credit != 0 {
                lines.push(proration_line(
                    -credit,
                    &old.id,
                    item.quantity,
                    "Unused time",
                ));
            }
            if !interval_changes {
                let debit = prorate(price.unit_amount * item.quantity);
                if debit != 0 {
                    lines.push(proration_line(
                        debit,
                        &price.id,
                        item.quantity,
                        "Remaining time",
                    ));
                }
            }
        }
        if interval_changes {
            lines.push(InvoiceLine {
                id: crate::ids::new_id("il"),
                amount: price.unit_amount * item.quantity,
                price: price.id.clone(),
                quantity: item.quantity,
                description: format!("{} × {} (new billing period)", item.quantity, price.id),
                proration: false,
            });
        }
    }

    let s = store.subscriptions.get_mut(sub_id).expect("subscription");
    for (position, price) in &resolved {
        s.items[*position].price = price.id.clone();
    }
    if interval_changes {
        let (interval, count) = new_interval.clone().unwrap_or(("month".into(), 1));
        s.current_period_start = now;
        s.current_period_end = add_interval(now, &interval, count);
        s.billing_cycle_anchor = now;
    }
    let customer = s.customer.clone();
    let currency = s.currency.clone();
    if lines.is_empty() {
        return Ok(None);
    }
    if proration == "create_prorations" && !interval_changes {
        store
            .pending_items
            .extend(lines.into_iter().map(|line| PendingItem {
                customer: customer.clone(),
                subscription: sub_id.to_string(),
                currency: currency.clone(),
                line,
            }));
        return Ok(None);
    }
    Ok(Some(invoice_now(
        store,
        origin,
        sub_id,
        lines,
        "subscription_update",
        public_base,
    )))
}

fn proration_line(amount: i64, price: &str, quantity: i64, what: &str) -> InvoiceLine {
    InvoiceLine {
        id: crate::ids::new_id("il"),
        amount,
        price: price.to_string(),
        quantity,
        description: format!("{what} on {quantity} × {price}"),
        proration: true,
    }
}

/// An invoice for `lines` made, finalised and charged at once to the subscription's default
/// payment method (or the customer's); the subscription becomes `past_due` if it is not paid.
/// While payment collection is paused the invoice is left as it says instead
/// (docs.stripe.com/billing/subscriptions/pause-payment): a draft (`keep_as_draft`), marked
/// uncollectible, or voided, and nothing is charged.
pub fn invoice_now(
    store: &mut Store,
    origin: &Origin,
    sub_id: &str,
    lines: Vec<InvoiceLine>,
    billing_reason: &'static str,
    public_base: &str,
) -> String {
    let now = store.now();
    let sub = store.subscriptions[sub_id].clone();
    let total: i64 = lines.iter().map(|l| l.amount).sum();
    let amount_due = total.max(0);
    let id = crate::ids::new_id("in");
    let invoice = Invoice {
        id: id.clone(),
        seq: store.next_seq(),
        created: now,
        number: store.next_invoice_number(),
        customer: sub.customer.clone(),
        subscription: Some(sub_id.to_string()),
        status: if amount_due == 0 { "paid" } else { "open" },
        currency: sub.currency.clone(),
        amount_due,
        amount_paid: 0,
        lines,
        period_start: sub.current_period_start,
        period_end: sub.current_period_end,
        payment_intent: None,
        charge: None,
        attempt_count: 0,
        billing_reason,
        finalized_at: Some(now),
        paid_at: (amount_due == 0).then_some(now),
        voided_at: None,
    };
    store.invoices.insert(id.clone(), invoice);
    store
        .subscriptions
        .get_mut(sub_id)
        .expect("subscription")
        .latest_invoice = Some(id.clone());
    if let Some((behavior, _)) = &sub.pause_collection {
        let (status, event) = match behavior.as_str() {
            "keep_as_draft" => ("draft", None),
            "void" => ("void", Some("invoice.voided")),
            _ => ("uncollectible", Some("invoice.marked_uncollectible")),
        };
        let inv = store.invoices.get_mut(&id).expect("invoice");
        inv.status = status;
        inv.paid_at = None;
        if status == "draft" {
            inv.finalized_at = None;
        }
        if status == "void" {
            inv.voided_at = Some(now);
        }
        let json = store.invoice_json(&store.invoices[&id]);
        store.emit(origin, "invoice.created", json.clone(), None);
        if let Some(event) = event {
            store.emit(origin, event, json, None);
        }
        return id;
    }
    let json = store.invoice_json(&store.invoices[&id]);
    store.emit(origin, "invoice.created", json.clone(), None);
    store.emit(origin, "invoice.finalized", json.clone(), None);
    if amount_due == 0 {
        store.emit(origin, "invoice.paid", json.clone(), None);
        store.emit(origin, "invoice.payment_succeeded", json, None);
        return id;
    }
    let pm = sub.default_payment_method.clone().or_else(|| {
        store
            .customers
            .get(&sub.customer)
            .and_then(|c| c.default_payment_method.clone())
    });
    let pi = insert_intent(
        store,
        origin,
        amount_due,
        &sub.currency,
        "automatic",
        Some(sub.customer.clone()),
        Some("Subscription update".to_string()),
        Metadata::new(),
        Some(vec!["card".to_string()]),
    );
    {
        let intent = store.payment_intents.get_mut(&pi).expect("payment intent");
        intent.invoice = Some(id.clone());
        if let Some(pm) = &pm {
            intent.payment_method = Some(pm.clone());
            intent.status = "requires_confirmation";
        }
    }
    store.invoices.get_mut(&id).expect("invoice").payment_intent = Some(pi.clone());
    if let Some(pm) = &pm {
        let _ = attempt(
            store,
            origin,
            &pi,
            pm,
            &AttemptOptions {
                authenticated: false,
                off_session: true,
                use_stripe_sdk: false,
                public_base,
            },
        );
    }
    if store.invoices[&id].status != "paid" {
        let s = store.subscriptions.get_mut(sub_id).expect("subscription");
        if s.status == "active" {
            s.status = "past_due";
        }
    }
    id
}

/// `GET /v1/invoiceitems`: the pending invoice items (prorations waiting for the next
/// invoice), filtered by `customer`; `pending=true` is what they all are here.
pub async fn list_invoice_items(
    axum::extract::State(app): axum::extract::State<super::App>,
    axum::Extension(ctx): axum::Extension<super::http::Ctx>,
    axum::Extension(p): axum::Extension<super::form::Params>,
) -> super::error::ApiResult {
    ctx.require_secret()?;
    p.check_allowed(&[
        "customer",
        "pending",
        "limit",
        "starting_after",
        "ending_before",
    ])?;
    let customer = p.str("customer")?;
    let pending = p.bool("pending")?;
    let store = app.store.lock().expect("store lock");
    let data: Vec<serde_json::Value> = if pending == Some(false) {
        Vec::new()
    } else {
        store
            .pending_items
            .iter()
            .rev()
            .filter(|i| customer.is_none_or(|c| i.customer == c))
            .map(|i| {
                serde_json::json!({
                    "id": i.line.id, "object": "invoiceitem", "amount": i.line.amount,
                    "currency": i.currency, "customer": i.customer, "description": i.line.description,
                    "invoice": null, "livemode": false, "price": i.line.price,
                    "proration": i.line.proration, "quantity": i.line.quantity,
                    "subscription": i.subscription,
                })
            })
            .collect()
    };
    super::error::ok(super::store::list_page(
        "/v1/invoiceitems",
        data,
        p.int("limit")?,
        p.str("starting_after")?,
        p.str("ending_before")?,
    )?)
}

/// Renewals (docs.stripe.com/billing/subscriptions/overview, "Subscription lifecycle"): at the
/// end of each period an active, trialing or past-due subscription starts the next one and is
/// invoiced for it (`billing_reason` `subscription_cycle`), with the prorations pending for it,
/// and the invoice is charged off session to the default payment method; a renewal that is not
/// paid makes the subscription `past_due`. A trial that ends is invoiced the same way. A paused
/// collection whose `resumes_at` has come resumes first. Periods missed while the clock jumped
/// are renewed one by one (at most 366 at once). Run before each API call.
pub fn renew_due(store: &mut Store, public_base: &str) {
    let now = store.now();
    let origin = Origin::default();
    let renews = |s: &super::store::Subscription| {
        matches!(s.status, "active" | "trialing" | "past_due")
            && s.current_period_end <= now
            && s.cancel_at.is_none_or(|at| at > s.current_period_end)
    };
    let due: Vec<String> = store
        .subscriptions
        .values()
        .filter(|s| renews(s))
        .map(|s| s.id.clone())
        .collect();
    for id in due {
        for _ in 0..366 {
            if !renews(&store.subscriptions[&id]) {
                break;
            }
            renew_once(store, &origin, &id, public_base);
        }
    }
}

fn renew_once(store: &mut Store, origin: &Origin, sub_id: &str, public_base: &str) {
    let before = store.subscription_json(&store.subscriptions[sub_id]);
    let sub = store.subscriptions[sub_id].clone();
    let start = sub.current_period_end;
    let (interval, count) = sub
        .items
        .first()
        .and_then(|i| store.prices.get(&i.price))
        .and_then(|p| p.recurring.clone())
        .unwrap_or(("month".into(), 1));
    let end = add_interval(start, &interval, count);
    let mut lines: Vec<InvoiceLine> = sub
        .items
        .iter()
        .filter_map(|item| {
            let price = store.prices.get(&item.price)?;
            Some(InvoiceLine {
                id: crate::ids::new_id("il"),
                amount: price.unit_amount * item.quantity,
                price: price.id.clone(),
                quantity: item.quantity,
                description: format!("{} × {} (renewal)", item.quantity, price.id),
                proration: false,
            })
        })
        .collect();
    let (pending, kept): (Vec<PendingItem>, Vec<PendingItem>) =
        std::mem::take(&mut store.pending_items)
            .into_iter()
            .partition(|p| p.subscription == sub_id);
    store.pending_items = kept;
    lines.extend(pending.into_iter().map(|p| p.line));
    {
        let s = store.subscriptions.get_mut(sub_id).expect("subscription");
        s.current_period_start = start;
        s.current_period_end = end;
        if s.status == "trialing" {
            s.status = "active";
        }
        if s.pause_collection
            .as_ref()
            .is_some_and(|(_, resumes)| resumes.is_some_and(|at| at <= start))
        {
            s.pause_collection = None;
        }
    }
    invoice_now(
        store,
        origin,
        sub_id,
        lines,
        "subscription_cycle",
        public_base,
    );
    let after = store.subscription_json(&store.subscriptions[sub_id]);
    let previous = super::customers::previous_attributes(&before, &after);
    if !previous.is_empty() {
        store.emit(
            origin,
            "customer.subscription.updated",
            after,
            Some(serde_json::Value::Object(previous)),
        );
    }
}
