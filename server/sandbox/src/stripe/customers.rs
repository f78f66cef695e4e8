//! Customers: create (optionally attaching a PaymentMethod and making it the default),
//! retrieve, update (`invoice_settings[default_payment_method]`), delete, list.

use super::error::{ok, ApiError, ApiResult};
use super::form::Params;
use super::http::Ctx;
use super::payment_methods::{attach_to, customer_exists, resolve};
use super::store::{list_page, Customer, Metadata, Store, View};
use super::App;
use axum::extract::{Path, State};
use axum::Extension;
use serde_json::{json, Map, Value};

const FIELDS: &[&str] = &[
    "email",
    "name",
    "phone",
    "description",
    "metadata.*",
    "payment_method",
    "invoice_settings.default_payment_method",
    "address.city",
    "address.country",
    "address.line1",
    "address.line2",
    "address.postal_code",
    "address.state",
    "preferred_locales.#",
    "expand.#",
];

/// The default PaymentMethod must be one of the customer's.
fn check_default(store: &Store, customer: &str, pm: &str) -> Result<(), ApiError> {
    match store.payment_methods.get(pm) {
        Some(p) if p.customer.as_deref() == Some(customer) => Ok(()),
        _ => Err(ApiError::invalid(format!(
            "The customer does not have a payment method with the ID {pm}. The payment method must be attached to the customer."
        ))
        .with_code("resource_missing")
        .with_param("invoice_settings[default_payment_method]")),
    }
}

fn get<'a>(store: &'a Store, id: &str) -> Result<&'a Customer, ApiError> {
    store
        .customers
        .get(id)
        .ok_or_else(|| ApiError::no_such("customer", id, "id"))
}

pub async fn create(
    State(app): State<App>,
    Extension(ctx): Extension<Ctx>,
    Extension(p): Extension<Params>,
) -> ApiResult {
    ctx.require_secret()?;
    p.check_allowed(FIELDS)?;
    let metadata = p.metadata("metadata")?;
    let email = p.nonempty("email")?.map(str::to_string);
    let name = p.nonempty("name")?.map(str::to_string);
    let phone = p.nonempty("phone")?.map(str::to_string);
    let description = p.nonempty("description")?.map(str::to_string);
    let pm = p.nonempty("payment_method")?.map(str::to_string);
    let default_pm = p
        .nonempty("invoice_settings.default_payment_method")?
        .map(str::to_string);
    let expand = p.expand()?;
    let key = app.fingerprint_key.clone();
    let origin = ctx.origin();
    app.run(|store| {
        let id = crate::ids::new_id("cus");
        // Validate the PaymentMethod before anything is created.
        let pm_id = match &pm {
            Some(x) => {
                let resolved = resolve(store, &key, x, "payment_method")?;
                let candidate = &store.payment_methods[&resolved];
                if candidate.customer.is_some() || candidate.consumed {
                    return Err(ApiError::invalid(
                        "The payment method you provided has already been attached to a customer.",
                    )
                    .with_code("payment_method_unexpected_state")
                    .with_param("payment_method"));
                }
                if !candidate.profile.attachable {
                    if let Some(d) = candidate.profile.decline {
                        return Err(super::charging::decline_error(store, &d, None, &resolved));
                    }
                }
                Some(resolved)
            }
            None => None,
        };
        // A default must be the PaymentMethod being attached (by the id given).
        if let Some(d) = &default_pm {
            if pm.as_deref() != Some(d.as_str()) && pm_id.as_deref() != Some(d.as_str()) {
                check_default(store, &id, d)?;
            }
        }
        let mut meta = Metadata::new();
        if let Some(m) = &metadata {
            m.apply(&mut meta);
        }
        let seq = store.next_seq();
        let c = Customer {
            id: id.clone(),
            seq,
            created: store.now(),
            email: email.clone(),
            name: name.clone(),
            phone: phone.clone(),
            description: description.clone(),
            metadata: meta,
            default_payment_method: None,
            deleted: false,
        };
        store.customers.insert(id.clone(), c);
        let json = store.customer_json(&store.customers[&id]);
        store.emit(&origin, "customer.created", json, None);
        if let Some(pm_id) = &pm_id {
            attach_to(store, &origin, pm_id, &id)?;
            if default_pm.is_some() {
                store
                    .customers
                    .get_mut(&id)
                    .expect("customer")
                    .default_payment_method = Some(pm_id.clone());
            }
        }
        let mut v = store.customer_json(&store.customers[&id]);
        store.expand(&mut v, &expand, View::Secret)?;
        ok(v)
    })
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
    let c = get(&store, &id)?;
    let mut v = store.customer_json(c);
    if !c.deleted {
        store.expand(&mut v, &p.expand()?, View::Secret)?;
    }
    ok(v)
}

pub async fn update(
    State(app): State<App>,
    Extension(ctx): Extension<Ctx>,
    Extension(p): Extension<Params>,
    Path(id): Path<String>,
) -> ApiResult {
    ctx.require_secret()?;
    p.check_allowed(FIELDS)?;
    let metadata = p.metadata("metadata")?;
    let expand = p.expand()?;
    let key = app.fingerprint_key.clone();
    let origin = ctx.origin();
    app.run(|store| {
        customer_exists(store, &id, "id")?;
        if let Some(x) = p.nonempty("payment_method")? {
            let pm = resolve(store, &key, x, "payment_method")?;
            attach_to(store, &origin, &pm, &id)?;
        }
        let default_pm = p.str("invoice_settings.default_payment_method")?;
        if let Some(d) = default_pm.filter(|d| !d.is_empty()) {
            check_default(store, &id, d)?;
        }
        let before = store.customer_json(&store.customers[&id]);
        let c = store.customers.get_mut(&id).expect("customer");
        for (field, slot) in [
            ("email", &mut c.email),
            ("name", &mut c.name),
            ("phone", &mut c.phone),
            ("description", &mut c.description),
        ] {
            if let Some(v) = p.str(field)? {
                *slot = (!v.is_empty()).then(|| v.to_string());
            }
        }
        if let Some(d) = default_pm {
            c.default_payment_method = (!d.is_empty()).then(|| d.to_string());
        }
        if let Some(m) = &metadata {
            m.apply(&mut c.metadata);
        }
        let after = store.customer_json(&store.customers[&id]);
        let previous = previous_attributes(&before, &after);
        if !previous.is_empty() {
            store.emit(
                &origin,
                "customer.updated",
                after.clone(),
                Some(Value::Object(previous)),
            );
        }
        let mut v = after;
        store.expand(&mut v, &expand, View::Secret)?;
        ok(v)
    })
}

/// The top-level fields that changed, with their old values (`data.previous_attributes`).
pub fn previous_attributes(before: &Value, after: &Value) -> Map<String, Value> {
    let mut out = Map::new();
    if let (Value::Object(b), Value::Object(a)) = (before, after) {
        for (k, old) in b {
            if a.get(k) != Some(old) {
                out.insert(k.clone(), old.clone());
            }
        }
    }
    out
}

pub async fn remove(
    State(app): State<App>,
    Extension(ctx): Extension<Ctx>,
    Path(id): Path<String>,
) -> ApiResult {
    ctx.require_secret()?;
    let origin = ctx.origin();
    app.run(|store| {
        customer_exists(store, &id, "id")?;
        let snapshot = store.customer_json(&store.customers[&id]);
        // Stripe cancels the customer's subscriptions and detaches its PaymentMethods.
        let subs: Vec<String> = store
            .subscriptions
            .values()
            .filter(|s| {
                s.customer == id && s.status != "canceled" && s.status != "incomplete_expired"
            })
            .map(|s| s.id.clone())
            .collect();
        for sub in subs {
            super::subscriptions::end_now(store, &origin, &sub, "cancellation_requested");
        }
        for pm in store.payment_methods.values_mut() {
            if pm.customer.as_deref() == Some(id.as_str()) {
                pm.customer = None;
                pm.consumed = true;
            }
        }
        let c = store.customers.get_mut(&id).expect("customer");
        c.deleted = true;
        store.emit(&origin, "customer.deleted", snapshot, None);
        ok(json!({"id": id, "object": "customer", "deleted": true}))
    })
}

pub async fn list(
    State(app): State<App>,
    Extension(ctx): Extension<Ctx>,
    Extension(p): Extension<Params>,
) -> ApiResult {
    ctx.require_secret()?;
    p.check_allowed(&[
        "email",
        "limit",
        "starting_after",
        "ending_before",
        "expand.#",
    ])?;
    let email = p.str("email")?;
    let store = app.store.lock().expect("store lock");
    let mut items: Vec<&Customer> = store
        .customers
        .values()
        .filter(|c| !c.deleted)
        .filter(|c| email.is_none_or(|e| c.email.as_deref() == Some(e)))
        .collect();
    items.sort_by_key(|c| std::cmp::Reverse(c.seq));
    let data = items.iter().map(|c| store.customer_json(c)).collect();
    let mut v = list_page(
        "/v1/customers",
        data,
        p.int("limit")?,
        p.str("starting_after")?,
        p.str("ending_before")?,
    )?;
    store.expand(&mut v, &p.expand()?, View::Secret)?;
    ok(v)
}
