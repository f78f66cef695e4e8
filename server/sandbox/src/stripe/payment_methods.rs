//! PaymentMethods: the magic `pm_card_*` ids (each use makes a new `pm_...`, as at Stripe), card
//! PaymentMethods created from a number (what the Stripe.js stand-in's card frame does with
//! the publishable key), attach and detach. Only brand, last four digits, expiry and a keyed
//! fingerprint are stored: never the number or the security code.

use super::calendar::year_month;
use super::cards::{self, luhn_valid, magic_payment_method, profile_for_number};
use super::charging::decline_error;
use super::error::{ok, ApiError, ApiResult};
use super::form::Params;
use super::http::Ctx;
use super::store::{list_page, Metadata, Origin, PaymentMethod, Store, View};
use super::App;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Extension;
use hmac::{Hmac, Mac};
use serde_json::{json, Value};
use sha2::Sha256;

fn card_error(code: &str, message: &str, param: &str) -> ApiError {
    ApiError::new(StatusCode::PAYMENT_REQUIRED, "card_error", message)
        .with_code(code)
        .with_param(param)
}

fn fingerprint(key: &str, number: &str) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(key.as_bytes()).expect("any key length");
    mac.update(number.as_bytes());
    let digest = hex::encode(mac.finalize().into_bytes());
    digest.chars().take(16).collect()
}

/// Stores a card PaymentMethod for `number` (already validated).
fn insert_card(
    store: &mut Store,
    key: &str,
    number: &str,
    exp_month: i64,
    exp_year: i64,
    billing_details: Value,
    metadata: Metadata,
) -> String {
    let profile = profile_for_number(number);
    let seq = store.next_seq();
    let pm = PaymentMethod {
        id: crate::ids::new_id("pm"),
        seq,
        created: store.now(),
        brand: profile.brand,
        last4: number[number.len() - 4..].to_string(),
        exp_month,
        exp_year,
        fingerprint: fingerprint(key, number),
        profile,
        customer: None,
        billing_details,
        metadata,
        consumed: false,
        set_up: false,
    };
    let id = pm.id.clone();
    store.payment_methods.insert(id.clone(), pm);
    id
}

fn empty_billing_details() -> Value {
    json!({"address": {"city": null, "country": null, "line1": null, "line2": null,
        "postal_code": null, "state": null}, "email": null, "name": null, "phone": null})
}

/// The PaymentMethod an id names: a magic `pm_card_*` id makes a fresh one (expiring next
/// December... of the year after the clock's), an existing `pm_...` is itself.
pub fn resolve(
    store: &mut Store,
    fingerprint_key: &str,
    id: &str,
    param: &str,
) -> Result<String, ApiError> {
    if let Some(number) = magic_payment_method(id) {
        let (year, _) = year_month(store.now());
        return Ok(insert_card(
            store,
            fingerprint_key,
            number,
            12,
            year + 1,
            empty_billing_details(),
            Metadata::new(),
        ));
    }
    if store.payment_methods.contains_key(id) {
        Ok(id.to_string())
    } else {
        Err(ApiError::no_such("PaymentMethod", id, param))
    }
}

/// Whether `pm_id` may pay for something of `customer`: Stripe refuses a PaymentMethod of
/// another Customer, and one already used without a Customer.
pub fn check_usable(
    store: &Store,
    pm_id: &str,
    customer: Option<&str>,
    param: &str,
) -> Result<(), ApiError> {
    let pm = &store.payment_methods[pm_id];
    if pm.consumed {
        return Err(ApiError::invalid(
            "The provided PaymentMethod was previously used with a PaymentIntent without Customer attachment, shared with a connected account without Customer attachment, or was detached from a Customer. It may not be used again. To use a PaymentMethod multiple times, you must attach it to a Customer first.",
        )
        .with_code("payment_method_unexpected_state")
        .with_param(param));
    }
    if let Some(owner) = &pm.customer {
        if customer != Some(owner.as_str()) {
            return Err(ApiError::invalid(format!(
                "The provided PaymentMethod belongs to a different Customer ({owner}) than the one on this request. Provide that Customer's id, or a PaymentMethod of this Customer."
            ))
            .with_code("payment_method_invalid_parameter")
            .with_param(param));
        }
    }
    Ok(())
}

/// Attaches a PaymentMethod to a Customer with Stripe's checks.
pub fn attach_to(
    store: &mut Store,
    origin: &Origin,
    pm_id: &str,
    customer: &str,
) -> Result<(), ApiError> {
    let pm = &store.payment_methods[pm_id];
    if pm.customer.as_deref() == Some(customer) {
        return Ok(());
    }
    if pm.customer.is_some() {
        return Err(ApiError::invalid(
            "The payment method you provided has already been attached to a customer.",
        )
        .with_code("payment_method_unexpected_state"));
    }
    if pm.consumed {
        return Err(ApiError::invalid(
            "This PaymentMethod was previously used without being attached to a Customer or was detached from a Customer, and may not be used again.",
        )
        .with_code("payment_method_unexpected_state"));
    }
    if !pm.profile.attachable {
        // "You can't attach cards that simulate issuer declines to a Customer object."
        if let Some(d) = pm.profile.decline {
            return Err(decline_error(store, &d, None, pm_id));
        }
    }
    let pm = store
        .payment_methods
        .get_mut(pm_id)
        .expect("payment method");
    pm.customer = Some(customer.to_string());
    let json = store.payment_method_json(&store.payment_methods[pm_id]);
    store.emit(origin, "payment_method.attached", json, None);
    Ok(())
}

pub fn customer_exists(store: &Store, id: &str, param: &str) -> Result<(), ApiError> {
    match store.customers.get(id) {
        Some(c) if !c.deleted => Ok(()),
        _ => Err(ApiError::no_such("customer", id, param)),
    }
}

const CREATE: &[&str] = &[
    "type",
    "card.number",
    "card.exp_month",
    "card.exp_year",
    "card.cvc",
    "billing_details.name",
    "billing_details.email",
    "billing_details.phone",
    "billing_details.address.city",
    "billing_details.address.country",
    "billing_details.address.line1",
    "billing_details.address.line2",
    "billing_details.address.postal_code",
    "billing_details.address.state",
    "metadata.*",
    "allow_redisplay",
    "expand.#",
];

pub async fn create(
    State(app): State<App>,
    Extension(ctx): Extension<Ctx>,
    Extension(p): Extension<Params>,
) -> ApiResult {
    p.check_allowed(CREATE)?;
    p.one_of("type", &["card"])?;
    p.required("type")?;
    let number: String = p
        .required("card.number")?
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect();
    let exp_month = p.required_int("card.exp_month")?;
    let mut exp_year = p.required_int("card.exp_year")?;
    let cvc = p.str("card.cvc")?.unwrap_or("");
    let metadata = p.metadata("metadata")?;
    if !luhn_valid(&number) {
        return Err(card_error(
            "incorrect_number",
            "Your card number is incorrect.",
            "number",
        ));
    }
    if !(1..=12).contains(&exp_month) {
        return Err(card_error(
            "invalid_expiry_month",
            "Your card's expiration month is invalid.",
            "exp_month",
        ));
    }
    if (0..100).contains(&exp_year) {
        exp_year += 2000;
    }
    let (year, month) = year_month(app.config.clock.now_secs());
    if exp_year < year || exp_year > year + 50 {
        return Err(card_error(
            "invalid_expiry_year",
            "Your card's expiration year is invalid.",
            "exp_year",
        ));
    }
    if exp_year == year && exp_month < month {
        return Err(card_error(
            "invalid_expiry_month",
            "Your card's expiration month is invalid.",
            "exp_month",
        ));
    }
    let cvc_len = if cards::brand_of(&number) == "amex" {
        4
    } else {
        3
    };
    if !cvc.is_empty() && (cvc.len() != cvc_len || !cvc.bytes().all(|b| b.is_ascii_digit())) {
        return Err(card_error(
            "invalid_cvc",
            "Your card's security code is invalid.",
            "cvc",
        ));
    }
    let mut billing = empty_billing_details();
    for field in ["name", "email", "phone"] {
        if let Some(v) = p.nonempty(&format!("billing_details.{field}"))? {
            billing[field] = json!(v);
        }
    }
    for field in ["city", "country", "line1", "line2", "postal_code", "state"] {
        if let Some(v) = p.nonempty(&format!("billing_details.address.{field}"))? {
            billing["address"][field] = json!(v);
        }
    }
    let mut meta = Metadata::new();
    if let Some(m) = metadata {
        m.apply(&mut meta);
    }
    let key = app.fingerprint_key.clone();
    let v = app.run(|store| {
        let id = insert_card(store, &key, &number, exp_month, exp_year, billing, meta);
        store.payment_method_json(&store.payment_methods[&id])
    });
    let _ = ctx;
    ok(v)
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
    let pm = store
        .payment_methods
        .get(&id)
        .ok_or_else(|| ApiError::no_such("PaymentMethod", &id, "payment_method"))?;
    let mut v = store.payment_method_json(pm);
    store.expand(&mut v, &p.expand()?, View::Secret)?;
    ok(v)
}

pub async fn attach(
    State(app): State<App>,
    Extension(ctx): Extension<Ctx>,
    Extension(p): Extension<Params>,
    Path(id): Path<String>,
) -> ApiResult {
    ctx.require_secret()?;
    p.check_allowed(&["customer", "expand.#"])?;
    let customer = p.required("customer")?.to_string();
    let key = app.fingerprint_key.clone();
    app.run(|store| {
        customer_exists(store, &customer, "customer")?;
        let pm_id = resolve(store, &key, &id, "payment_method")?;
        attach_to(store, &ctx.origin(), &pm_id, &customer)?;
        let mut v = store.payment_method_json(&store.payment_methods[&pm_id]);
        store.expand(&mut v, &p.expand()?, View::Secret)?;
        ok(v)
    })
}

pub async fn detach(
    State(app): State<App>,
    Extension(ctx): Extension<Ctx>,
    Extension(p): Extension<Params>,
    Path(id): Path<String>,
) -> ApiResult {
    ctx.require_secret()?;
    p.check_allowed(&["expand.#"])?;
    app.run(|store| {
        let pm = store
            .payment_methods
            .get_mut(&id)
            .ok_or_else(|| ApiError::no_such("PaymentMethod", &id, "payment_method"))?;
        let Some(customer) = pm.customer.take() else {
            return Err(ApiError::invalid(
                "The payment method you provided is not attached to a customer so detachment is impossible.",
            )
            .with_code("payment_method_unexpected_state"));
        };
        pm.consumed = true;
        if let Some(c) = store.customers.get_mut(&customer) {
            if c.default_payment_method.as_deref() == Some(id.as_str()) {
                c.default_payment_method = None;
            }
        }
        let json = store.payment_method_json(&store.payment_methods[&id]);
        store.emit(&ctx.origin(), "payment_method.detached", json.clone(), None);
        ok(json)
    })
}

fn list_of(store: &Store, customer: &str, p: &Params, url: &str) -> ApiResult {
    customer_exists(store, customer, "customer")?;
    let mut items: Vec<&PaymentMethod> = store
        .payment_methods
        .values()
        .filter(|pm| pm.customer.as_deref() == Some(customer))
        .collect();
    items.sort_by_key(|pm| std::cmp::Reverse(pm.seq));
    let data = items
        .iter()
        .map(|pm| store.payment_method_json(pm))
        .collect();
    let mut v = list_page(
        url,
        data,
        p.int("limit")?,
        p.str("starting_after")?,
        p.str("ending_before")?,
    )?;
    store.expand(&mut v, &p.expand()?, View::Secret)?;
    ok(v)
}

pub async fn list(
    State(app): State<App>,
    Extension(ctx): Extension<Ctx>,
    Extension(p): Extension<Params>,
) -> ApiResult {
    ctx.require_secret()?;
    p.check_allowed(&[
        "customer",
        "type",
        "limit",
        "starting_after",
        "ending_before",
        "expand.#",
    ])?;
    p.one_of("type", &["card"])?;
    let customer = p.required("customer")?;
    let store = app.store.lock().expect("store lock");
    list_of(&store, customer, &p, "/v1/payment_methods")
}

pub async fn list_for_customer(
    State(app): State<App>,
    Extension(ctx): Extension<Ctx>,
    Extension(p): Extension<Params>,
    Path(customer): Path<String>,
) -> ApiResult {
    ctx.require_secret()?;
    p.check_allowed(&[
        "type",
        "limit",
        "starting_after",
        "ending_before",
        "expand.#",
    ])?;
    p.one_of("type", &["card"])?;
    let store = app.store.lock().expect("store lock");
    list_of(
        &store,
        &customer,
        &p,
        &format!("/v1/customers/{customer}/payment_methods"),
    )
}
