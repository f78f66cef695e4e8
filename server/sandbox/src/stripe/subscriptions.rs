//! Subscriptions with their first Invoice (docs.stripe.com/api): `payment_behavior`
//! `allow_incomplete` (charge the default PaymentMethod now; `incomplete` if that fails),
//! `default_incomplete` (`incomplete` until the customer confirms the invoice's PaymentIntent
//! with its client secret) and `error_if_incomplete` (402 instead); trials (`trialing`, a paid
//! zero invoice); cancel at period end or immediately (`DELETE`). Paying the first invoice
//! moves the subscription to `active`; an unpaid one expires after 23 hours
//! (`incomplete_expired`), by the emulator's clock.
//!
//! Payment collection is paused and resumed with `pause_collection` on an update
//! (docs.stripe.com/billing/subscriptions/pause-payment: `behavior` `keep_as_draft`,
//! `mark_uncollectible` or `void`, optional `resumes_at`; an empty `pause_collection` resumes;
//! the status stays `active`, and the change reaches webhooks as
//! `customer.subscription.updated`).
//!
//! A price change (`items[i][id]` and `items[i][price]`) prorates as Stripe does
//! (`subscription_changes.rs`).
//!
//! Renewals: at each period's end the subscription is invoiced for the next period with its
//! pending prorations and charged off session; unpaid, it is `past_due`; while collection is
//! paused the invoice is a draft, uncollectible or void, and a pause whose `resumes_at` has come
//! ends (`subscription_changes.rs`). Time is the emulator's clock, which tests move.
//!
//! Not emulated: Smart Retries of a failed renewal (its invoice stays open), adding or removing
//! items, test clocks.

use super::calendar::add_interval;
use super::cards::AUTHENTICATION_REQUIRED;
use super::charging::{attempt, decline_error, AttemptOptions};
use super::customers::previous_attributes;
use super::error::{ok, ApiError, ApiResult};
use super::form::Params;
use super::http::Ctx;
use super::payment_intents::insert_intent;
use super::payment_methods::customer_exists;
use super::store::{
    list_page, Invoice, InvoiceLine, Metadata, Origin, Store, Subscription, SubscriptionItem, View,
};
use super::subscription_changes::{change_prices, ItemChange};
use super::App;
use axum::extract::{Path, State};
use axum::Extension;
use serde_json::Value;

/// An unpaid first invoice expires this long after creation.
const INCOMPLETE_EXPIRY_SECS: i64 = 23 * 60 * 60;

const CREATE: &[&str] = &[
    "customer",
    "items.#.price",
    "items.#.quantity",
    "items.#.metadata.*",
    "trial_period_days",
    "payment_behavior",
    "default_payment_method",
    "metadata.*",
    "description",
    "cancel_at_period_end",
    "collection_method",
    "off_session",
    "proration_behavior",
    "payment_settings.save_default_payment_method",
    "payment_settings.payment_method_types.#",
    "expand.#",
];

fn get<'a>(store: &'a Store, id: &str) -> Result<&'a Subscription, ApiError> {
    store
        .subscriptions
        .get(id)
        .ok_or_else(|| ApiError::no_such("subscription", id, "id"))
}

fn check_attached(store: &Store, customer: &str, pm: &str, param: &str) -> Result<(), ApiError> {
    match store.payment_methods.get(pm) {
        Some(x) if x.customer.as_deref() == Some(customer) => Ok(()),
        _ => Err(ApiError::invalid(format!(
            "The customer does not have a payment method with the ID {pm}. The payment method must be attached to the customer."
        ))
        .with_code("resource_missing")
        .with_param(param)),
    }
}

pub async fn create(
    State(app): State<App>,
    Extension(ctx): Extension<Ctx>,
    Extension(p): Extension<Params>,
) -> ApiResult {
    ctx.require_secret()?;
    p.check_allowed(CREATE)?;
    let customer = p.required("customer")?.to_string();
    let indexes = p.indexes("items")?;
    if indexes.is_empty() {
        return Err(ApiError::missing_parameter("items"));
    }
    let mut wanted = Vec::new();
    for i in &indexes {
        let price = p.required(&format!("items.{i}.price"))?.to_string();
        let quantity = p.int(&format!("items.{i}.quantity"))?.unwrap_or(1);
        if quantity < 1 {
            return Err(ApiError::invalid_param(
                &format!("items[{i}][quantity]"),
                "This value must be greater than or equal to 1.".to_string(),
            ));
        }
        wanted.push((i.clone(), price, quantity));
    }
    let trial_days = p.int("trial_period_days")?;
    if let Some(d) = trial_days {
        if !(0..=730).contains(&d) {
            return Err(ApiError::invalid_param(
                "trial_period_days",
                "trial_period_days must be between 0 and 730.".to_string(),
            ));
        }
    }
    let behavior = p
        .one_of(
            "payment_behavior",
            &[
                "allow_incomplete",
                "default_incomplete",
                "error_if_incomplete",
                "pending_if_incomplete",
            ],
        )?
        .unwrap_or("allow_incomplete")
        .to_string();
    if behavior == "pending_if_incomplete" {
        return Err(ApiError::invalid_param(
            "payment_behavior",
            "payment_behavior=pending_if_incomplete is only supported when updating a subscription.".to_string(),
        ));
    }
    p.one_of("collection_method", &["charge_automatically"])?;
    p.one_of(
        "proration_behavior",
        &["always_invoice", "create_prorations", "none"],
    )?;
    let save_default = p
        .one_of(
            "payment_settings.save_default_payment_method",
            &["off", "on_subscription"],
        )?
        .is_some_and(|v| v == "on_subscription");
    if let Some(types) = p.strings("payment_settings.payment_method_types")? {
        if types.iter().any(|t| t != "card") {
            return Err(ApiError::invalid_param(
                "payment_settings[payment_method_types]",
                "Only `card` is enabled on this account.".to_string(),
            ));
        }
    }
    let off_session = p.bool("off_session")?.unwrap_or(false);
    let cancel_at_period_end = p.bool("cancel_at_period_end")?.unwrap_or(false);
    let default_pm = p.nonempty("default_payment_method")?.map(str::to_string);
    let description = p.nonempty("description")?.map(str::to_string);
    let metadata = p.metadata("metadata")?;
    let expand = p.expand()?;
    let base = app.config.public_base.clone();
    let origin = ctx.origin();
    app.run(|store| {
        customer_exists(store, &customer, "customer")?;
        // Prices: recurring, one currency, one interval.
        let mut currency: Option<String> = None;
        let mut interval: Option<(String, i64)> = None;
        let mut amount = 0i64;
        for (i, price_id, quantity) in &wanted {
            let param = format!("items[{i}][price]");
            let price = store
                .prices
                .get(price_id)
                .ok_or_else(|| ApiError::no_such("price", price_id, &param))?;
            let Some(rec) = &price.recurring else {
                return Err(ApiError::invalid(
                    "The price specified is set to `type=one_time` but this field only accepts prices with `type=recurring`.",
                )
                .with_param(&param));
            };
            if !price.active {
                return Err(ApiError::invalid(
                    "The price specified is inactive. This field only accepts active prices.",
                )
                .with_param(&param));
            }
            if currency.as_ref().is_some_and(|c| *c != price.currency) {
                return Err(ApiError::invalid(
                    "All prices on a subscription must have the same `currency`.",
                )
                .with_param(&param));
            }
            if interval.as_ref().is_some_and(|iv| iv != rec) {
                return Err(ApiError::invalid(
                    "All prices on a subscription must have the same `recurring.interval` and `recurring.interval_count`.",
                )
                .with_param(&param));
            }
            currency = Some(price.currency.clone());
            interval = Some(rec.clone());
            amount = amount
                .checked_add(price.unit_amount.saturating_mul(*quantity))
                .unwrap_or(i64::MAX);
        }
        let currency = currency.unwrap_or_default();
        let (interval, count) = interval.unwrap_or(("month".into(), 1));
        if let Some(pm) = &default_pm {
            check_attached(store, &customer, pm, "default_payment_method")?;
        }
        let charge_pm = default_pm.clone().or_else(|| {
            store.customers[&customer]
                .default_payment_method
                .clone()
        });
        let trial = trial_days.filter(|d| *d > 0);
        let now = store.now();
        let needs_payment = trial.is_none() && amount > 0;
        if needs_payment && behavior != "default_incomplete" {
            let Some(pm) = &charge_pm else {
                return Err(ApiError::invalid(
                    "This customer has no attached payment source or default payment method. Please consider adding a default payment method. For more information, visit https://stripe.com/docs/billing/subscriptions/payment-methods-setting#payment-method-priority.",
                )
                .with_code("resource_missing"));
            };
            if behavior == "error_if_incomplete" {
                let profile = store.payment_methods[pm].profile;
                let set_up = store.payment_methods[pm].set_up;
                let decline = if profile.authentication.required(off_session, set_up) {
                    Some(AUTHENTICATION_REQUIRED)
                } else {
                    profile.decline
                };
                if let Some(d) = decline {
                    return Err(decline_error(store, &d, None, pm));
                }
            }
        }

        let sub_id = crate::ids::new_id("sub");
        let (period_end, trial_start, trial_end) = match trial {
            Some(d) => (now + d * 86_400, Some(now), Some(now + d * 86_400)),
            None => (add_interval(now, &interval, count), None, None),
        };
        let items: Vec<SubscriptionItem> = wanted
            .iter()
            .map(|(_, price, quantity)| SubscriptionItem {
                id: crate::ids::new_id("si"),
                created: now,
                price: price.clone(),
                quantity: *quantity,
            })
            .collect();
        let mut meta = Metadata::new();
        if let Some(m) = &metadata {
            m.apply(&mut meta);
        }
        let seq = store.next_seq();
        let sub = Subscription {
            id: sub_id.clone(),
            seq,
            created: now,
            customer: customer.clone(),
            items: items.clone(),
            currency: currency.clone(),
            status: if trial.is_some() {
                "trialing"
            } else if needs_payment {
                "incomplete"
            } else {
                "active"
            },
            current_period_start: now,
            current_period_end: period_end,
            billing_cycle_anchor: period_end.min(if trial.is_some() { period_end } else { now }),
            start_date: now,
            cancel_at_period_end,
            cancel_at: cancel_at_period_end.then_some(period_end),
            canceled_at: None,
            ended_at: None,
            cancellation_details: (None, None, None),
            default_payment_method: default_pm.clone(),
            latest_invoice: None,
            metadata: meta,
            description: description.clone(),
            trial_start,
            trial_end,
            save_default_payment_method: save_default,
            pause_collection: None,
        };
        store.subscriptions.insert(sub_id.clone(), sub);

        // The first invoice.
        let invoice_amount = if trial.is_some() { 0 } else { amount };
        let lines: Vec<InvoiceLine> = items
            .iter()
            .map(|item| {
                let price = &store.prices[&item.price];
                let product = store
                    .products
                    .get(&price.product)
                    .map_or("Subscription".to_string(), |x| x.name.clone());
                let line_amount = if trial.is_some() {
                    0
                } else {
                    price.unit_amount * item.quantity
                };
                let description = if trial.is_some() {
                    format!("Trial period for {product}")
                } else {
                    format!(
                        "{} × {product} (at {} / {interval})",
                        item.quantity,
                        super::units::display(price.unit_amount, &price.currency)
                    )
                };
                InvoiceLine {
                    id: crate::ids::new_id("il"),
                    amount: line_amount,
                    price: item.price.clone(),
                    quantity: item.quantity,
                    description,
                    proration: false,
                }
            })
            .collect();
        let inv_seq = store.next_seq();
        let number = store.next_invoice_number();
        let inv_id = crate::ids::new_id("in");
        let invoice = Invoice {
            id: inv_id.clone(),
            seq: inv_seq,
            created: now,
            number,
            customer: customer.clone(),
            subscription: Some(sub_id.clone()),
            status: if invoice_amount == 0 { "paid" } else { "open" },
            currency: currency.clone(),
            amount_due: invoice_amount,
            amount_paid: 0,
            lines,
            period_start: now,
            period_end: now,
            payment_intent: None,
            charge: None,
            attempt_count: 0,
            billing_reason: "subscription_create",
            finalized_at: Some(now),
            paid_at: (invoice_amount == 0).then_some(now),
            voided_at: None,
        };
        store.invoices.insert(inv_id.clone(), invoice);
        store
            .subscriptions
            .get_mut(&sub_id)
            .expect("subscription")
            .latest_invoice = Some(inv_id.clone());

        let sub_json = store.subscription_json(&store.subscriptions[&sub_id]);
        store.emit(&origin, "customer.subscription.created", sub_json, None);
        let inv_json = store.invoice_json(&store.invoices[&inv_id]);
        store.emit(&origin, "invoice.created", inv_json.clone(), None);
        store.emit(&origin, "invoice.finalized", inv_json.clone(), None);
        if invoice_amount == 0 {
            store.emit(&origin, "invoice.paid", inv_json.clone(), None);
            store.emit(&origin, "invoice.payment_succeeded", inv_json, None);
        } else {
            let pi_id = insert_intent(
                store,
                &origin,
                invoice_amount,
                &currency,
                "automatic",
                Some(customer.clone()),
                Some("Subscription creation".to_string()),
                Metadata::new(),
                Some(vec!["card".to_string()]),
            );
            {
                let pi = store.payment_intents.get_mut(&pi_id).expect("payment intent");
                pi.invoice = Some(inv_id.clone());
                if save_default {
                    pi.setup_future_usage = Some("off_session".to_string());
                }
                if let Some(pm) = &charge_pm {
                    pi.payment_method = Some(pm.clone());
                    pi.status = "requires_confirmation";
                }
            }
            store
                .invoices
                .get_mut(&inv_id)
                .expect("invoice")
                .payment_intent = Some(pi_id.clone());
            let pi_json = store.payment_intent_json(&store.payment_intents[&pi_id], View::Secret);
            store.emit(&origin, "payment_intent.created", pi_json, None);
            if behavior != "default_incomplete" {
                if let Some(pm) = &charge_pm {
                    let _ = attempt(
                        store,
                        &origin,
                        &pi_id,
                        pm,
                        &AttemptOptions {
                            authenticated: false,
                            off_session,
                            use_stripe_sdk: false,
                            public_base: &base,
                        },
                    );
                }
            }
        }
        let mut v = store.subscription_json(&store.subscriptions[&sub_id]);
        store.expand(&mut v, &expand, View::Secret)?;
        ok(v)
    })
}

/// The first invoice's PaymentIntent succeeded.
pub fn invoice_paid(
    store: &mut Store,
    origin: &Origin,
    invoice_id: &str,
    charge_id: &str,
    pm_id: &str,
) {
    let now = store.now();
    let Some(inv) = store.invoices.get_mut(invoice_id) else {
        return;
    };
    inv.status = "paid";
    inv.amount_paid = inv.amount_due;
    inv.paid_at = Some(now);
    inv.charge = Some(charge_id.to_string());
    inv.attempt_count += 1;
    let sub_id = inv.subscription.clone();
    let json = store.invoice_json(&store.invoices[invoice_id]);
    store.emit(origin, "invoice.paid", json.clone(), None);
    store.emit(origin, "invoice.payment_succeeded", json, None);
    let Some(sub_id) = sub_id else {
        return;
    };
    let Some(before) = store
        .subscriptions
        .get(&sub_id)
        .map(|s| store.subscription_json(s))
    else {
        return;
    };
    let sub = store.subscriptions.get_mut(&sub_id).expect("subscription");
    if sub.status == "incomplete" || sub.status == "past_due" {
        sub.status = "active";
    }
    if sub.save_default_payment_method {
        sub.default_payment_method = Some(pm_id.to_string());
    }
    let after = store.subscription_json(&store.subscriptions[&sub_id]);
    let previous = previous_attributes(&before, &after);
    if !previous.is_empty() {
        store.emit(
            origin,
            "customer.subscription.updated",
            after,
            Some(Value::Object(previous)),
        );
    }
}

pub fn invoice_payment_failed(store: &mut Store, origin: &Origin, invoice_id: &str) {
    let Some(inv) = store.invoices.get_mut(invoice_id) else {
        return;
    };
    inv.attempt_count += 1;
    let json = store.invoice_json(&store.invoices[invoice_id]);
    store.emit(origin, "invoice.payment_failed", json, None);
}

pub fn invoice_action_required(store: &mut Store, origin: &Origin, invoice_id: &str) {
    let Some(inv) = store.invoices.get_mut(invoice_id) else {
        return;
    };
    inv.attempt_count += 1;
    let json = store.invoice_json(&store.invoices[invoice_id]);
    store.emit(origin, "invoice.payment_action_required", json, None);
}

/// Voids an open invoice and cancels its PaymentIntent.
fn void_invoice(store: &mut Store, origin: &Origin, invoice_id: &str) {
    let now = store.now();
    let Some(inv) = store.invoices.get_mut(invoice_id) else {
        return;
    };
    if inv.status != "open" {
        return;
    }
    inv.status = "void";
    inv.voided_at = Some(now);
    let pi_id = inv.payment_intent.clone();
    let json = store.invoice_json(&store.invoices[invoice_id]);
    store.emit(origin, "invoice.voided", json, None);
    let Some(pi_id) = pi_id else {
        return;
    };
    if let Some(pi) = store.payment_intents.get_mut(&pi_id) {
        if pi.status != "succeeded" && pi.status != "canceled" {
            pi.status = "canceled";
            pi.canceled_at = Some(now);
            pi.cancellation_reason = Some("void_invoice".to_string());
            pi.next_action = None;
            let json = store.payment_intent_json(&store.payment_intents[&pi_id], View::Secret);
            store.emit(origin, "payment_intent.canceled", json, None);
        }
    }
}

/// Ends a subscription now (`customer.subscription.deleted`).
pub fn end_now(store: &mut Store, origin: &Origin, sub_id: &str, reason: &str) {
    let now = store.now();
    let Some(sub) = store.subscriptions.get_mut(sub_id) else {
        return;
    };
    sub.status = "canceled";
    sub.canceled_at.get_or_insert(now);
    sub.ended_at = Some(now);
    sub.cancellation_details.2 = Some(reason.to_string());
    let invoice = sub.latest_invoice.clone();
    if let Some(inv) = invoice {
        void_invoice(store, origin, &inv);
    }
    let json = store.subscription_json(&store.subscriptions[sub_id]);
    store.emit(origin, "customer.subscription.deleted", json, None);
}

/// Time-driven changes, run before each API call: first invoices unpaid for 23 hours expire;
/// subscriptions set to cancel at period end end when the period does; the others renew
/// (`subscription_changes::renew_due`).
pub fn sweep(store: &mut Store, public_base: &str) {
    let now = store.now();
    let origin = Origin::default();
    let expired: Vec<String> = store
        .subscriptions
        .values()
        .filter(|s| s.status == "incomplete" && now >= s.created + INCOMPLETE_EXPIRY_SECS)
        .map(|s| s.id.clone())
        .collect();
    for id in expired {
        let before = store.subscription_json(&store.subscriptions[&id]);
        let sub = store.subscriptions.get_mut(&id).expect("subscription");
        sub.status = "incomplete_expired";
        sub.ended_at = Some(now);
        let invoice = sub.latest_invoice.clone();
        if let Some(inv) = invoice {
            void_invoice(store, &origin, &inv);
        }
        let after = store.subscription_json(&store.subscriptions[&id]);
        let previous = previous_attributes(&before, &after);
        store.emit(
            &origin,
            "customer.subscription.updated",
            after,
            Some(Value::Object(previous)),
        );
    }
    let ending: Vec<String> = store
        .subscriptions
        .values()
        .filter(|s| {
            (s.status == "active" || s.status == "trialing" || s.status == "past_due")
                && s.cancel_at.is_some_and(|at| now >= at)
        })
        .map(|s| s.id.clone())
        .collect();
    for id in ending {
        end_now(store, &origin, &id, "cancellation_requested");
    }
    super::subscription_changes::renew_due(store, public_base);
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
    let mut v = store.subscription_json(get(&store, &id)?);
    store.expand(&mut v, &p.expand()?, View::Secret)?;
    ok(v)
}

const UPDATE: &[&str] = &[
    "cancel_at_period_end",
    "cancel_at",
    "metadata.*",
    "default_payment_method",
    "description",
    "proration_behavior",
    "cancellation_details.comment",
    "cancellation_details.feedback",
    "pause_collection.behavior",
    "pause_collection.resumes_at",
    "items.#.id",
    "items.#.price",
    "expand.#",
];
const FEEDBACK: &[&str] = &[
    "customer_service",
    "low_quality",
    "missing_features",
    "other",
    "switched_service",
    "too_complex",
    "too_expensive",
    "unused",
];

pub async fn update(
    State(app): State<App>,
    Extension(ctx): Extension<Ctx>,
    Extension(p): Extension<Params>,
    Path(id): Path<String>,
) -> ApiResult {
    ctx.require_secret()?;
    p.check_allowed(UPDATE)?;
    let cancel_at_period_end = p.bool("cancel_at_period_end")?;
    let cancel_at = p.int("cancel_at")?;
    let feedback = p
        .one_of("cancellation_details.feedback", FEEDBACK)?
        .map(str::to_string);
    let comment = p
        .nonempty("cancellation_details.comment")?
        .map(str::to_string);
    let proration = p
        .one_of(
            "proration_behavior",
            &["always_invoice", "create_prorations", "none"],
        )?
        .unwrap_or("create_prorations")
        .to_string();
    let mut changes = Vec::new();
    for i in p.indexes("items")? {
        let item = p.required(&format!("items.{i}.id"))?.to_string();
        let price = p.required(&format!("items.{i}.price"))?.to_string();
        changes.push(ItemChange {
            index: i.clone(),
            item,
            price,
        });
    }
    let base = app.config.public_base.clone();
    let metadata = p.metadata("metadata")?;
    // `pause_collection[behavior]` (with an optional `resumes_at`) pauses; an empty
    // `pause_collection` resumes.
    let pause = match p.str("pause_collection") {
        Ok(Some("")) => Some(None),
        Ok(Some(_)) => {
            return Err(ApiError::invalid_param(
                "pause_collection",
                "Invalid object".to_string(),
            ))
        }
        _ if p.has("pause_collection") => {
            let behavior = p
                .one_of(
                    "pause_collection.behavior",
                    &["keep_as_draft", "mark_uncollectible", "void"],
                )?
                .ok_or_else(|| ApiError::missing_parameter("pause_collection[behavior]"))?
                .to_string();
            Some(Some((behavior, p.int("pause_collection.resumes_at")?)))
        }
        _ => None,
    };
    let expand = p.expand()?;
    let origin = ctx.origin();
    app.run(|store| {
        let sub = get(store, &id)?;
        let ended = sub.status == "canceled" || sub.status == "incomplete_expired";
        if ended && (pause.is_some() || !changes.is_empty()) {
            return Err(ApiError::invalid(
                "A canceled subscription can only update its cancellation_details and metadata.",
            ));
        }
        if let Some(Some((_, Some(at)))) = &pause {
            if *at <= store.now() {
                return Err(ApiError::invalid_param(
                    "pause_collection[resumes_at]",
                    "resumes_at must be in the future.".to_string(),
                ));
            }
        }
        if ended
            && [
                "cancel_at_period_end",
                "cancel_at",
                "default_payment_method",
                "description",
            ]
            .iter()
            .any(|f| p.has(f))
        {
            return Err(ApiError::invalid(
                "A canceled subscription can only update its cancellation_details and metadata.",
            ));
        }
        let customer = sub.customer.clone();
        let period_end = sub.current_period_end;
        let default_pm = p.str("default_payment_method")?;
        if let Some(pm) = default_pm.filter(|x| !x.is_empty()) {
            check_attached(store, &customer, pm, "default_payment_method")?;
        }
        let now = store.now();
        let before = store.subscription_json(&store.subscriptions[&id]);
        if !changes.is_empty() {
            change_prices(store, &origin, &id, &changes, &proration, &base)?;
        }
        let sub = store.subscriptions.get_mut(&id).expect("subscription");
        if let Some(flag) = cancel_at_period_end {
            sub.cancel_at_period_end = flag;
            if flag {
                sub.cancel_at = Some(period_end);
                sub.canceled_at = Some(now);
                sub.cancellation_details.2 = Some("cancellation_requested".into());
            } else {
                sub.cancel_at = None;
                sub.canceled_at = None;
                sub.cancellation_details.2 = None;
            }
        }
        if let Some(at) = cancel_at {
            sub.cancel_at = Some(at);
            sub.canceled_at = Some(now);
            sub.cancellation_details.2 = Some("cancellation_requested".into());
        }
        if let Some(pm) = default_pm {
            sub.default_payment_method = (!pm.is_empty()).then(|| pm.to_string());
        }
        if let Some(d) = p.str("description")? {
            sub.description = (!d.is_empty()).then(|| d.to_string());
        }
        if feedback.is_some() {
            sub.cancellation_details.1 = feedback.clone();
        }
        if comment.is_some() {
            sub.cancellation_details.0 = comment.clone();
        }
        if let Some(m) = &metadata {
            m.apply(&mut sub.metadata);
        }
        if let Some(pause) = &pause {
            sub.pause_collection = pause.clone();
        }
        let after = store.subscription_json(&store.subscriptions[&id]);
        let previous = previous_attributes(&before, &after);
        if !previous.is_empty() {
            store.emit(
                &origin,
                "customer.subscription.updated",
                after.clone(),
                Some(Value::Object(previous)),
            );
        }
        let mut v = after;
        store.expand(&mut v, &expand, View::Secret)?;
        ok(v)
    })
}

pub async fn cancel(
    State(app): State<App>,
    Extension(ctx): Extension<Ctx>,
    Extension(p): Extension<Params>,
    Path(id): Path<String>,
) -> ApiResult {
    ctx.require_secret()?;
    p.check_allowed(&[
        "invoice_now",
        "prorate",
        "cancellation_details.comment",
        "cancellation_details.feedback",
        "expand.#",
    ])?;
    p.bool("invoice_now")?;
    p.bool("prorate")?;
    let feedback = p
        .one_of("cancellation_details.feedback", FEEDBACK)?
        .map(str::to_string);
    let comment = p
        .nonempty("cancellation_details.comment")?
        .map(str::to_string);
    let expand = p.expand()?;
    let origin = ctx.origin();
    app.run(|store| {
        let sub = get(store, &id)?;
        if sub.status == "canceled" || sub.status == "incomplete_expired" {
            return Err(ApiError::no_such("subscription", &id, "id"));
        }
        let now = store.now();
        let sub = store.subscriptions.get_mut(&id).expect("subscription");
        sub.canceled_at = Some(now);
        sub.cancellation_details.0 = comment.clone();
        sub.cancellation_details.1 = feedback.clone();
        end_now(store, &origin, &id, "cancellation_requested");
        let mut v = store.subscription_json(&store.subscriptions[&id]);
        store.expand(&mut v, &expand, View::Secret)?;
        ok(v)
    })
}

pub async fn list(
    State(app): State<App>,
    Extension(ctx): Extension<Ctx>,
    Extension(p): Extension<Params>,
) -> ApiResult {
    ctx.require_secret()?;
    p.check_allowed(&[
        "customer",
        "price",
        "status",
        "limit",
        "starting_after",
        "ending_before",
        "expand.#",
    ])?;
    let customer = p.str("customer")?;
    let price = p.str("price")?;
    let status = p.one_of(
        "status",
        &[
            "active",
            "all",
            "canceled",
            "ended",
            "incomplete",
            "incomplete_expired",
            "past_due",
            "paused",
            "trialing",
            "unpaid",
        ],
    )?;
    let store = app.store.lock().expect("store lock");
    let mut items: Vec<&Subscription> = store
        .subscriptions
        .values()
        .filter(|s| customer.is_none_or(|c| s.customer == c))
        .filter(|s| price.is_none_or(|pr| s.items.iter().any(|i| i.price == pr)))
        .filter(|s| match status {
            None => s.status != "canceled" && s.status != "incomplete_expired",
            Some("all") => true,
            Some("ended") => s.status == "canceled" || s.status == "incomplete_expired",
            Some(x) => s.status == x,
        })
        .collect();
    items.sort_by_key(|s| std::cmp::Reverse(s.seq));
    let data = items.iter().map(|s| store.subscription_json(s)).collect();
    let mut v = list_page(
        "/v1/subscriptions",
        data,
        p.int("limit")?,
        p.str("starting_after")?,
        p.str("ending_before")?,
    )?;
    store.expand(&mut v, &p.expand()?, View::Secret)?;
    ok(v)
}

pub async fn retrieve_invoice(
    State(app): State<App>,
    Extension(ctx): Extension<Ctx>,
    Extension(p): Extension<Params>,
    Path(id): Path<String>,
) -> ApiResult {
    ctx.require_secret()?;
    p.check_allowed(&["expand.#"])?;
    let store = app.store.lock().expect("store lock");
    let inv = store
        .invoices
        .get(&id)
        .ok_or_else(|| ApiError::no_such("invoice", &id, "invoice"))?;
    let mut v = store.invoice_json(inv);
    store.expand(&mut v, &p.expand()?, View::Secret)?;
    ok(v)
}

pub async fn list_invoices(
    State(app): State<App>,
    Extension(ctx): Extension<Ctx>,
    Extension(p): Extension<Params>,
) -> ApiResult {
    ctx.require_secret()?;
    p.check_allowed(&[
        "customer",
        "subscription",
        "status",
        "limit",
        "starting_after",
        "ending_before",
        "expand.#",
    ])?;
    let customer = p.str("customer")?;
    let subscription = p.str("subscription")?;
    let status = p.one_of(
        "status",
        &["draft", "open", "paid", "uncollectible", "void"],
    )?;
    let store = app.store.lock().expect("store lock");
    let mut items: Vec<&Invoice> = store
        .invoices
        .values()
        .filter(|i| customer.is_none_or(|c| i.customer == c))
        .filter(|i| subscription.is_none_or(|s| i.subscription.as_deref() == Some(s)))
        .filter(|i| status.is_none_or(|s| i.status == s))
        .collect();
    items.sort_by_key(|i| std::cmp::Reverse(i.seq));
    let data = items.iter().map(|i| store.invoice_json(i)).collect();
    let mut v = list_page(
        "/v1/invoices",
        data,
        p.int("limit")?,
        p.str("starting_after")?,
        p.str("ending_before")?,
    )?;
    store.expand(&mut v, &p.expand()?, View::Secret)?;
    ok(v)
}
