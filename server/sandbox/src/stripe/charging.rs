//! The charge engine behind PaymentIntent confirmation, 3-D Secure completion and invoice payment:
//! one attempt of a PaymentMethod against a PaymentIntent, with the card's test behaviour
//! (docs.stripe.com/api, docs.stripe.com/testing), the Charge it leaves, and the events it emits.
//! Also the amount rules of §10 and the read-only Charge and Dispute endpoints.

use super::cards::{Decline, AUTHENTICATION_REQUIRED};
use super::error::{ok, ApiError, ApiResult};
use super::form::Params;
use super::http::Ctx;
use super::store::{list_page, Charge, Dispute, FollowUp, Origin, Store, View};
use super::App;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Extension;
use serde_json::{json, Value};
use shared::providers::stripe as rules;
use shared::providers::ProviderAmountError;
use shared::Currency;

/// Checks an `amount` in `currency` as Stripe does (§10): a currency Stripe charges in, at most
/// eight digits, at least the minimum charge, and three-decimal amounts ending in 0. Returns
/// the lower-case currency.
pub fn check_amount(amount: i64, currency: &str, param: &str) -> Result<String, ApiError> {
    let lower = currency.to_ascii_lowercase();
    let invalid_currency = || {
        ApiError::invalid_param(
            "currency",
            format!(
                "Invalid currency: {lower}. Stripe currently supports these currencies: {}",
                supported_currencies()
            ),
        )
    };
    let c = Currency::from_code(&lower.to_ascii_uppercase()).map_err(|_| invalid_currency())?;
    if rules::maximum_charge(c).is_none() {
        return Err(invalid_currency());
    }
    if amount < 0 {
        return Err(ApiError::invalid_param(
            param,
            "This value must be greater than or equal to 1.".to_string(),
        )
        .with_code("parameter_invalid_integer"));
    }
    if amount > rules::MAX_AMOUNT {
        let max = rules::maximum_charge(c)
            .map(|m| m.display())
            .unwrap_or_default();
        return Err(
            ApiError::invalid(format!("Amount must be no more than {max}"))
                .with_code("amount_too_large")
                .with_param(param)
                .not_saved(),
        );
    }
    // Read with the emulator's own table (`units`), not the client's.
    if super::units::unit(&lower).step == 10 && amount % 10 != 0 {
        return Err(ApiError::invalid_param(
            param,
            format!(
                "Invalid amount: {lower} amounts must be sent with the least significant digit 0 (round to the nearest ten: 5.124 {} is sent as 5120 or 5130).",
                c.code()
            ),
        ));
    }
    let money = super::units::decode(amount, c).map_err(|_| {
        ApiError::invalid_param(
            param,
            format!(
                "Invalid amount: {lower} amounts are sent as two-decimal values whose decimals are always 00."
            ),
        )
    })?;
    match rules::check_chargeable(money) {
        Ok(_) => Ok(lower),
        Err(ProviderAmountError::BelowMinimum { minimum, .. }) => Err(ApiError::invalid(format!(
            "Amount must be at least {} {lower}",
            minimum.display()
        ))
        .with_code("amount_too_small")
        .with_param(param)
        .not_saved()),
        Err(ProviderAmountError::AboveMaximum { maximum, .. }) => Err(ApiError::invalid(format!(
            "Amount must be no more than {}",
            maximum.display()
        ))
        .with_code("amount_too_large")
        .with_param(param)
        .not_saved()),
        Err(ProviderAmountError::UnsupportedCurrency { .. }) => Err(invalid_currency()),
        Err(e) => Err(ApiError::invalid_param(
            param,
            format!("Invalid amount: {e}"),
        )),
    }
}

/// The minimum after conversion into the account's settlement currency (`settlement`), for an
/// `amount` that [`check_amount`] accepted.
pub fn check_settlement_minimum(
    amount: i64,
    currency: &str,
    settlement: Option<Currency>,
) -> Result<(), ApiError> {
    let Some(settlement) = settlement else {
        return Ok(());
    };
    let Ok(c) = Currency::from_code(&currency.to_ascii_uppercase()) else {
        return Ok(());
    };
    let Ok(money) = super::units::decode(amount, c) else {
        return Ok(());
    };
    match super::settlement::below_minimum(money, settlement) {
        None => Ok(()),
        Some(message) => Err(ApiError::invalid(message)
            .with_code("amount_too_small")
            .with_param("amount")
            .not_saved()),
    }
}

fn supported_currencies() -> String {
    Currency::all()
        .iter()
        .filter(|c| rules::maximum_charge(**c).is_some())
        .map(|c| c.code().to_ascii_lowercase())
        .collect::<Vec<_>>()
        .join(", ")
}

/// How an attempt ended.
pub enum Attempt {
    /// Charged (or authorized, or processing).
    Charged,
    /// Waiting on a 3-D Secure challenge.
    RequiresAction,
    /// Declined: the 402 `card_error` to answer (its `payment_intent` is filled by the caller).
    Declined(ApiError),
}

pub struct AttemptOptions<'a> {
    pub authenticated: bool,
    pub off_session: bool,
    pub use_stripe_sdk: bool,
    pub public_base: &'a str,
}

/// The challenge page's URL for a PaymentIntent.
pub fn challenge_url(public_base: &str, pi_id: &str, client_secret: &str) -> String {
    format!(
        "{}/3ds/{pi_id}?client_secret={}",
        public_base.trim_end_matches('/'),
        urlencode(client_secret)
    )
}

pub fn urlencode(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

fn card_details(store: &Store, pm_id: &str, authenticated: bool) -> Value {
    let Some(pm) = store.payment_methods.get(pm_id) else {
        return Value::Null;
    };
    json!({
        "amount_authorized": null,
        "brand": pm.brand,
        "checks": {"address_line1_check": null, "address_postal_code_check": null, "cvc_check": "pass"},
        "country": pm.profile.country,
        "exp_month": pm.exp_month,
        "exp_year": pm.exp_year,
        "fingerprint": pm.fingerprint,
        "funding": pm.profile.funding,
        "last4": pm.last4,
        "network": pm.brand,
        "three_d_secure": if authenticated {
            json!({"authentication_flow": "challenge", "result": "authenticated", "version": "2.2.0"})
        } else { Value::Null },
    })
}

fn new_charge(store: &mut Store, pi_id: &str, pm_id: &str, authenticated: bool) -> Charge {
    let seq = store.next_seq();
    let now = store.now();
    let pi = &store.payment_intents[pi_id];
    let refund_mode = store
        .payment_methods
        .get(pm_id)
        .map_or(super::cards::RefundMode::Normal, |pm| pm.profile.refund);
    Charge {
        id: crate::ids::new_id("ch"),
        seq,
        created: now,
        amount: pi.amount,
        amount_captured: 0,
        currency: pi.currency.clone(),
        captured: false,
        status: "succeeded",
        payment_intent: pi.id.clone(),
        payment_method: pm_id.to_string(),
        customer: pi.customer.clone(),
        description: pi.description.clone(),
        metadata: pi.metadata.clone(),
        receipt_email: pi.receipt_email.clone(),
        failure: None,
        outcome: Value::Null,
        card: card_details(store, pm_id, authenticated),
        refund_mode,
        disputed: false,
        released: false,
        invoice: pi.invoice.clone(),
    }
}

/// The `card_error` of a decline, as the API answers it and as `last_payment_error` holds it.
pub fn decline_error(store: &Store, d: &Decline, charge: Option<&str>, pm_id: &str) -> ApiError {
    let mut e = ApiError::new(StatusCode::PAYMENT_REQUIRED, "card_error", d.message)
        .with_code(d.code)
        .with_field("decline_code", json!(d.decline_code));
    if let Some(param) = d.param {
        e = e.with_param(param);
    }
    if let Some(ch) = charge {
        e = e.with_field("charge", json!(ch));
    }
    if let Some(pm) = store.payment_methods.get(pm_id) {
        e = e.with_field("payment_method", store.payment_method_json(pm));
    }
    e
}

/// Marks a PaymentMethod used; Stripe refuses to reuse one that is not attached to a Customer.
fn consume(store: &mut Store, pm_id: &str) {
    if let Some(pm) = store.payment_methods.get_mut(pm_id) {
        if pm.customer.is_none() {
            pm.consumed = true;
        }
    }
}

/// One attempt of `pm_id` against the PaymentIntent `pi_id` (which must exist).
pub fn attempt(
    store: &mut Store,
    origin: &Origin,
    pi_id: &str,
    pm_id: &str,
    opts: &AttemptOptions<'_>,
) -> Attempt {
    let profile = store.payment_methods[pm_id].profile;
    let mut decline = if opts.authenticated {
        profile.decline_after_authentication.or(profile.decline)
    } else {
        profile.decline
    };
    let set_up = store.payment_methods[pm_id].set_up;
    if profile.authentication.required(opts.off_session, set_up) && !opts.authenticated {
        if opts.off_session {
            decline = Some(AUTHENTICATION_REQUIRED);
        } else {
            require_action(store, origin, pi_id, pm_id, opts);
            return Attempt::RequiresAction;
        }
    }
    let mut charge = new_charge(store, pi_id, pm_id, opts.authenticated);
    consume(store, pm_id);
    if let Some(d) = decline {
        charge.status = "failed";
        charge.failure = Some((d.code.to_string(), d.message.to_string()));
        charge.outcome = json!({"network_status": "declined_by_network", "reason": d.decline_code,
            "risk_level": "normal", "risk_score": 30,
            "seller_message": "The bank did not return any further details with this decline.",
            "type": "issuer_declined"});
        let charge_id = charge.id.clone();
        store.charges.insert(charge_id.clone(), charge);
        let charge_json = store.charge_json(&store.charges[&charge_id]);
        store.emit(origin, "charge.failed", charge_json, None);
        let error = decline_error(store, &d, Some(&charge_id), pm_id);
        let pi = store
            .payment_intents
            .get_mut(pi_id)
            .expect("payment intent");
        pi.status = "requires_payment_method";
        pi.payment_method = None;
        pi.last_payment_error = Some(error.body());
        pi.latest_charge = Some(charge_id);
        pi.next_action = None;
        pi.authenticating = None;
        let invoice = pi.invoice.clone();
        let pi_json = store.payment_intent_json(&store.payment_intents[pi_id], View::Secret);
        store.emit(origin, "payment_intent.payment_failed", pi_json, None);
        if let Some(inv) = invoice {
            super::subscriptions::invoice_payment_failed(store, origin, &inv);
        }
        return Attempt::Declined(error);
    }

    let manual = store.payment_intents[pi_id].capture_method == "manual";
    let processing = !manual && store.processing_next > 0;
    if processing {
        store.processing_next -= 1;
    }
    charge.outcome = json!({"network_status": "approved_by_network", "reason": null,
        "risk_level": "normal", "risk_score": 20, "seller_message": "Payment complete.",
        "type": "authorized"});
    if processing {
        charge.status = "pending";
    } else if !manual {
        charge.captured = true;
        charge.amount_captured = charge.amount;
    }
    let charge_id = charge.id.clone();
    store.charges.insert(charge_id.clone(), charge);
    if !processing {
        let charge_json = store.charge_json(&store.charges[&charge_id]);
        store.emit(origin, "charge.succeeded", charge_json, None);
    } else {
        let charge_json = store.charge_json(&store.charges[&charge_id]);
        store.emit(origin, "charge.pending", charge_json, None);
    }

    // A PaymentIntent set up for future use leaves its PaymentMethod on the Customer.
    let (customer, sfu, off_session_use) = {
        let pi = &store.payment_intents[pi_id];
        (
            pi.customer.clone(),
            pi.setup_future_usage.is_some(),
            pi.setup_future_usage.as_deref() == Some("off_session"),
        )
    };
    // "Providing this parameter will attach the payment method to the PaymentIntent's
    // Customer, if present, after the PaymentIntent is confirmed" (`setup_future_usage`,
    // docs.stripe.com/api/payment_intents/create); an attachment is told as
    // `payment_method.attached` ("Occurs whenever a new payment method is attached to a
    // customer", docs.stripe.com/api/events/types).
    if let (Some(cus), true) = (customer, sfu) {
        let mut attached = false;
        if let Some(pm) = store.payment_methods.get_mut(pm_id) {
            if pm.customer.is_none() {
                pm.customer = Some(cus);
                pm.consumed = false;
                attached = true;
            }
            // Set up for future off-session payments (4000002500003155 then needs no more
            // authentication off session).
            pm.set_up |= off_session_use;
        }
        if attached {
            let json = store.payment_method_json(&store.payment_methods[pm_id]);
            store.emit(origin, "payment_method.attached", json, None);
        }
    }

    let pi = store
        .payment_intents
        .get_mut(pi_id)
        .expect("payment intent");
    pi.last_payment_error = None;
    pi.next_action = None;
    pi.authenticating = None;
    pi.latest_charge = Some(charge_id.clone());
    pi.payment_method = Some(pm_id.to_string());
    if processing {
        pi.status = "processing";
        let json = store.payment_intent_json(&store.payment_intents[pi_id], View::Secret);
        store.emit(origin, "payment_intent.processing", json, None);
        store
            .follow_ups
            .push(FollowUp::FinishProcessing(pi_id.to_string()));
    } else if manual {
        pi.status = "requires_capture";
        pi.amount_capturable = pi.amount;
        let json = store.payment_intent_json(&store.payment_intents[pi_id], View::Secret);
        store.emit(
            origin,
            "payment_intent.amount_capturable_updated",
            json,
            None,
        );
    } else {
        pi.status = "succeeded";
        pi.amount_received = pi.amount;
        let invoice = pi.invoice.clone();
        let json = store.payment_intent_json(&store.payment_intents[pi_id], View::Secret);
        store.emit(origin, "payment_intent.succeeded", json, None);
        if let Some(inv) = invoice {
            super::subscriptions::invoice_paid(store, origin, &inv, &charge_id, pm_id);
        }
        dispute_if_scripted(store, origin, &charge_id);
    }
    Attempt::Charged
}

fn require_action(
    store: &mut Store,
    origin: &Origin,
    pi_id: &str,
    pm_id: &str,
    opts: &AttemptOptions<'_>,
) {
    let forced = store.redirect_next > 0 && store.payment_intents[pi_id].return_url.is_some();
    if forced {
        store.redirect_next -= 1;
    }
    let pi = &store.payment_intents[pi_id];
    let url = challenge_url(opts.public_base, &pi.id, &pi.client_secret);
    let brand = store
        .payment_methods
        .get(pm_id)
        .map_or("visa", |pm| pm.brand);
    let pi = store
        .payment_intents
        .get_mut(pi_id)
        .expect("payment intent");
    pi.status = "requires_action";
    pi.payment_method = Some(pm_id.to_string());
    pi.authenticating = Some(pm_id.to_string());
    pi.redirect_flow = pi.return_url.is_some() && (forced || !opts.use_stripe_sdk);
    pi.next_action = Some(if pi.redirect_flow {
        json!({"type": "redirect_to_url", "redirect_to_url": {"return_url": pi.return_url, "url": url}})
    } else {
        json!({"type": "use_stripe_sdk",
               "use_stripe_sdk": super::threeds::fingerprint(&pi.id, brand)})
    });
    let invoice = pi.invoice.clone();
    let json = store.payment_intent_json(&store.payment_intents[pi_id], View::Secret);
    store.emit(origin, "payment_intent.requires_action", json, None);
    if let Some(inv) = invoice {
        super::subscriptions::invoice_action_required(store, origin, &inv);
    }
}

/// The customer failed (or abandoned) the 3-D Secure challenge.
pub fn authentication_failed(store: &mut Store, origin: &Origin, pi_id: &str) {
    let Some(pi) = store.payment_intents.get(pi_id) else {
        return;
    };
    let pm_id = pi.authenticating.clone().unwrap_or_default();
    let pm_json = store
        .payment_methods
        .get(&pm_id)
        .map(|pm| store.payment_method_json(pm));
    consume(store, &pm_id);
    let mut error = ApiError::invalid(
        "The provided PaymentMethod has failed authentication. You can provide payment_method_data or a new PaymentMethod to attempt to fulfill this PaymentIntent again.",
    )
    .with_code("payment_intent_authentication_failure");
    if let Some(pm) = pm_json {
        error = error.with_field("payment_method", pm);
    }
    let pi = store
        .payment_intents
        .get_mut(pi_id)
        .expect("payment intent");
    pi.status = "requires_payment_method";
    pi.payment_method = None;
    pi.next_action = None;
    pi.authenticating = None;
    pi.last_payment_error = Some(error.body());
    let invoice = pi.invoice.clone();
    let json = store.payment_intent_json(&store.payment_intents[pi_id], View::Secret);
    store.emit(origin, "payment_intent.payment_failed", json, None);
    if let Some(inv) = invoice {
        super::subscriptions::invoice_payment_failed(store, origin, &inv);
    }
}

/// A processing payment settles (follow-up of the `processing_next` knob).
pub fn finish_processing(store: &mut Store, pi_id: &str) {
    let origin = Origin::default();
    let Some(pi) = store.payment_intents.get_mut(pi_id) else {
        return;
    };
    if pi.status != "processing" {
        return;
    }
    pi.status = "succeeded";
    pi.amount_received = pi.amount;
    let charge_id = pi.latest_charge.clone().unwrap_or_default();
    let pm_id = pi.payment_method.clone().unwrap_or_default();
    let invoice = pi.invoice.clone();
    if let Some(ch) = store.charges.get_mut(&charge_id) {
        ch.status = "succeeded";
        ch.captured = true;
        ch.amount_captured = ch.amount;
    }
    if let Some(ch) = store.charges.get(&charge_id) {
        let json = store.charge_json(ch);
        store.emit(&origin, "charge.succeeded", json, None);
    }
    let json = store.payment_intent_json(&store.payment_intents[pi_id], View::Secret);
    store.emit(&origin, "payment_intent.succeeded", json, None);
    if let Some(inv) = invoice {
        super::subscriptions::invoice_paid(store, &origin, &inv, &charge_id, &pm_id);
    }
    dispute_if_scripted(store, &origin, &charge_id);
}

/// Cards like 4000000000000259 are disputed as soon as they are charged.
pub fn dispute_if_scripted(store: &mut Store, origin: &Origin, charge_id: &str) {
    let scripted = store
        .charges
        .get(charge_id)
        .and_then(|c| store.payment_methods.get(&c.payment_method))
        .and_then(|pm| pm.profile.dispute);
    if let Some(d) = scripted {
        create_dispute(store, origin, charge_id, d.reason, None, d.inquiry);
    }
}

/// Opens a dispute on a captured charge (`charge.dispute.created`, then
/// `charge.dispute.funds_withdrawn` unless it is an inquiry). The merchant has seven days to
/// respond (`evidence_details.due_by`).
pub fn create_dispute(
    store: &mut Store,
    origin: &Origin,
    charge_id: &str,
    reason: &str,
    amount: Option<i64>,
    inquiry: bool,
) -> Option<String> {
    let now = store.now();
    let ch = store.charges.get_mut(charge_id)?;
    ch.disputed = true;
    let amount = amount.unwrap_or(ch.amount_captured);
    let (currency, pi) = (ch.currency.clone(), ch.payment_intent.clone());
    let d = Dispute {
        id: crate::ids::new_id("du"),
        created: now,
        amount,
        currency,
        charge: charge_id.to_string(),
        payment_intent: pi,
        reason: reason.to_string(),
        status: if inquiry {
            "warning_needs_response"
        } else {
            "needs_response"
        },
        due_by: now + 7 * 86_400,
        evidence: Default::default(),
        submission_count: 0,
        metadata: Default::default(),
    };
    let id = d.id.clone();
    let json = store.dispute_json(&d);
    store.disputes.insert(id.clone(), d);
    store.emit(origin, "charge.dispute.created", json.clone(), None);
    if !inquiry {
        store.emit(origin, "charge.dispute.funds_withdrawn", json, None);
    }
    Some(id)
}

pub async fn retrieve_charge(
    State(app): State<App>,
    Extension(ctx): Extension<Ctx>,
    Extension(p): Extension<Params>,
    Path(id): Path<String>,
) -> ApiResult {
    ctx.require_secret()?;
    p.check_allowed(&["expand.#"])?;
    let store = app.store.lock().expect("store lock");
    let ch = store
        .charges
        .get(&id)
        .ok_or_else(|| ApiError::no_such("charge", &id, "id"))?;
    let mut v = store.charge_json(ch);
    store.expand(&mut v, &p.expand()?, View::Secret)?;
    ok(v)
}

pub async fn list_charges(
    State(app): State<App>,
    Extension(ctx): Extension<Ctx>,
    Extension(p): Extension<Params>,
) -> ApiResult {
    ctx.require_secret()?;
    p.check_allowed(&[
        "payment_intent",
        "customer",
        "limit",
        "starting_after",
        "ending_before",
        "expand.#",
    ])?;
    let store = app.store.lock().expect("store lock");
    let pi = p.str("payment_intent")?;
    let customer = p.str("customer")?;
    let mut items: Vec<&Charge> = store
        .charges
        .values()
        .filter(|c| pi.is_none_or(|x| c.payment_intent == x))
        .filter(|c| customer.is_none_or(|x| c.customer.as_deref() == Some(x)))
        .collect();
    items.sort_by_key(|c| std::cmp::Reverse(c.seq));
    let data = items.iter().map(|c| store.charge_json(c)).collect();
    let mut v = list_page(
        "/v1/charges",
        data,
        p.int("limit")?,
        p.str("starting_after")?,
        p.str("ending_before")?,
    )?;
    store.expand(&mut v, &p.expand()?, View::Secret)?;
    ok(v)
}

pub async fn retrieve_dispute(
    State(app): State<App>,
    Extension(ctx): Extension<Ctx>,
    Extension(p): Extension<Params>,
    Path(id): Path<String>,
) -> ApiResult {
    ctx.require_secret()?;
    p.check_allowed(&["expand.#"])?;
    let store = app.store.lock().expect("store lock");
    let d = store
        .disputes
        .get(&id)
        .ok_or_else(|| ApiError::no_such("dispute", &id, "dispute"))?;
    ok(store.dispute_json(d))
}
