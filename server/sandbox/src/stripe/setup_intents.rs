//! SetupIntents (docs.stripe.com/api/setup_intents): a card saved for later payments without
//! charging it. Create (optionally confirming), retrieve (secret key, or publishable key with
//! the client secret as Stripe.js does), confirm, cancel and list, with the status machine
//! `requires_payment_method → requires_confirmation → requires_action → succeeded | canceled`.
//!
//! What an attempt does, as Stripe documents it:
//! - "If present, the SetupIntent's payment method will be attached to the Customer on
//!   successful setup" (`customer`, docs.stripe.com/api/setup_intents/create), told as
//!   `payment_method.attached`; `usage` defaults to `off_session`, and a card set up for
//!   off-session use needs no more authentication off session where its test profile says so
//!   (4000002500003155, docs.stripe.com/testing "Authentication and setup").
//! - A card that asks for 3-D Secure leaves the SetupIntent in `requires_action` with a
//!   `next_action` (`use_stripe_sdk`, or `redirect_to_url` with a `return_url` and no
//!   `use_stripe_sdk`), answered on the emulator's challenge page (`threeds`).
//! - "If setup fails, the SetupIntent will transition to the requires_payment_method status"
//!   (confirm, docs.stripe.com/api/setup_intents/confirm) with `last_setup_error`; the request
//!   is answered 402 with the `card_error`, which embeds the SetupIntent (the error object's
//!   `setup_intent`, docs.stripe.com/api/errors). Cards that simulate issuer declines cannot be
//!   attached to a Customer, so they fail setup.
//! - "You can cancel a SetupIntent object when it's in one of these statuses:
//!   requires_payment_method, requires_confirmation, or requires_action"
//!   (docs.stripe.com/api/setup_intents/cancel).
//! - Events: `setup_intent.created`, `.requires_action`, `.setup_failed`, `.succeeded`,
//!   `.canceled` (docs.stripe.com/api/events/types).

use super::charging::{challenge_url, decline_error};
use super::error::{ok, ApiError, ApiResult};
use super::form::Params;
use super::http::Ctx;
use super::payment_intents::{check_url, method_types};
use super::payment_methods::{check_usable, customer_exists, resolve};
use super::store::{list_page, Metadata, Origin, Store, View};
use super::App;
use axum::extract::{Path, State};
use axum::Extension;
use serde_json::{json, Value};

#[derive(Debug, Clone)]
pub struct SetupIntent {
    pub id: String,
    pub seq: u64,
    pub created: i64,
    pub client_secret: String,
    pub customer: Option<String>,
    pub description: Option<String>,
    pub metadata: Metadata,
    pub usage: &'static str,
    pub payment_method_types: Vec<String>,
    pub automatic_payment_methods: bool,
    pub payment_method: Option<String>,
    pub status: &'static str,
    pub last_setup_error: Option<Value>,
    pub next_action: Option<Value>,
    pub cancellation_reason: Option<String>,
    pub return_url: Option<String>,
    /// The PaymentMethod waiting on a 3-D Secure challenge.
    pub authenticating: Option<String>,
    /// Whether the challenge was handed out as `redirect_to_url`.
    pub redirect_flow: bool,
    /// Whether a card was ever tried: `latest_attempt` names the last attempt, failed or not.
    pub attempted: bool,
}

const CONFIRMABLE: &[&str] = &[
    "requires_payment_method",
    "requires_confirmation",
    "requires_action",
];

/// The SetupIntent as the API renders it. The publishable key sees what Stripe.js's
/// `api.SetupIntent` type holds (no customer, metadata or latest attempt).
pub fn to_json(si: &SetupIntent, view: View) -> Value {
    let amp = if si.automatic_payment_methods {
        json!({"allow_redirects": "always", "enabled": true})
    } else {
        Value::Null
    };
    let mut v = json!({
        "id": si.id,
        "object": "setup_intent",
        "automatic_payment_methods": amp,
        "cancellation_reason": si.cancellation_reason,
        "client_secret": si.client_secret,
        "created": si.created,
        "description": si.description,
        "last_setup_error": si.last_setup_error,
        "livemode": false,
        "next_action": si.next_action,
        "payment_method": si.payment_method,
        "payment_method_types": si.payment_method_types,
        "status": si.status,
        "usage": si.usage,
    });
    if view == View::Secret {
        let meta: serde_json::Map<String, Value> = si
            .metadata
            .iter()
            .map(|(k, v)| (k.clone(), Value::String(v.clone())))
            .collect();
        let extra = json!({
            "application": null,
            "customer": si.customer,
            "flow_directions": null,
            "latest_attempt": si.attempted.then(|| attempt_id(&si.id)),
            "mandate": null,
            "metadata": meta,
            "on_behalf_of": null,
            "payment_method_options": {"card": {"mandate_options": null, "network": null,
                "request_three_d_secure": "automatic"}},
            "single_use_mandate": null,
        });
        if let (Value::Object(a), Value::Object(b)) = (&mut v, extra) {
            a.extend(b);
        }
    }
    v
}

/// The SetupAttempt id of a SetupIntent's attempt (`setatt_...`); also the 3-D Secure 2 source
/// Stripe.js authenticates (`threeds::source_of`).
pub fn attempt_id(seti_id: &str) -> String {
    format!("setatt_{}", seti_id.trim_start_matches("seti_"))
}

fn get<'a>(store: &'a Store, id: &str) -> Result<&'a SetupIntent, ApiError> {
    store
        .setup_intents
        .get(id)
        .ok_or_else(|| ApiError::no_such("setup_intent", id, "intent"))
}

fn unexpected_state(si: &SetupIntent, view: View, message: String) -> ApiError {
    ApiError::invalid(message)
        .with_code("setup_intent_unexpected_state")
        .with_field("setup_intent", to_json(si, view))
}

fn check_client_secret(si: &SetupIntent, given: Option<&str>) -> Result<(), ApiError> {
    match given {
        None => Err(ApiError::missing_parameter("client_secret")),
        Some(s) if s == si.client_secret => Ok(()),
        Some(_) => Err(ApiError::invalid(
            "The client_secret provided does not match the client_secret associated with the SetupIntent.",
        )
        .with_param("client_secret")),
    }
}

fn emit(store: &mut Store, origin: &Origin, kind: &str, id: &str) {
    let json = to_json(&store.setup_intents[id], View::Secret);
    store.emit(origin, kind, json, None);
}

/// How one attempt of a card against a SetupIntent is run.
pub struct SetupAttempt<'a> {
    pub authenticated: bool,
    pub use_stripe_sdk: bool,
    pub public_base: &'a str,
}

/// One attempt of `pm_id` against the SetupIntent `id` (both exist): succeeded, waiting on
/// 3-D Secure, or failed (the 402 to answer, without the SetupIntent: the caller adds it).
pub fn attempt(
    store: &mut Store,
    origin: &Origin,
    id: &str,
    pm_id: &str,
    opts: &SetupAttempt<'_>,
) -> Result<(), ApiError> {
    store
        .setup_intents
        .get_mut(id)
        .expect("setup intent")
        .attempted = true;
    let pm = &store.payment_methods[pm_id];
    let profile = pm.profile;
    let decline = if profile.attachable {
        None
    } else if opts.authenticated {
        profile.decline_after_authentication.or(profile.decline)
    } else {
        profile.decline
    };
    // On session, as the customer is while saving a card.
    let needs_authentication =
        !opts.authenticated && profile.authentication.required(false, pm.set_up);
    if decline.is_none() && needs_authentication {
        let forced = store.redirect_next > 0 && store.setup_intents[id].return_url.is_some();
        if forced {
            store.redirect_next -= 1;
        }
        let brand = pm.brand;
        let si = store.setup_intents.get_mut(id).expect("setup intent");
        let url = challenge_url(opts.public_base, &si.id, &si.client_secret);
        si.status = "requires_action";
        si.payment_method = Some(pm_id.to_string());
        si.authenticating = Some(pm_id.to_string());
        si.last_setup_error = None;
        si.redirect_flow = si.return_url.is_some() && (forced || !opts.use_stripe_sdk);
        si.next_action = Some(if si.redirect_flow {
            json!({"type": "redirect_to_url", "redirect_to_url": {"return_url": si.return_url, "url": url}})
        } else {
            json!({"type": "use_stripe_sdk",
                   "use_stripe_sdk": super::threeds::fingerprint(&si.id, brand)})
        });
        emit(store, origin, "setup_intent.requires_action", id);
        return Ok(());
    }
    if let Some(d) = decline {
        let error = decline_error(store, &d, None, pm_id);
        fail(store, origin, id, pm_id, error.body());
        return Err(error);
    }
    let (customer, off_session) = {
        let si = &store.setup_intents[id];
        (si.customer.clone(), si.usage == "off_session")
    };
    let mut attached = false;
    if let Some(pm) = store.payment_methods.get_mut(pm_id) {
        if let (Some(cus), None) = (&customer, &pm.customer) {
            pm.customer = Some(cus.clone());
            pm.consumed = false;
            attached = true;
        }
        pm.set_up |= off_session;
    }
    if attached {
        let json = store.payment_method_json(&store.payment_methods[pm_id]);
        store.emit(origin, "payment_method.attached", json, None);
    }
    let si = store.setup_intents.get_mut(id).expect("setup intent");
    si.status = "succeeded";
    si.payment_method = Some(pm_id.to_string());
    si.last_setup_error = None;
    si.next_action = None;
    si.authenticating = None;
    emit(store, origin, "setup_intent.succeeded", id);
    Ok(())
}

/// The attempt failed: back to `requires_payment_method` with the error, and the card, never
/// attached, cannot be used again.
fn fail(store: &mut Store, origin: &Origin, id: &str, pm_id: &str, error: Value) {
    if let Some(pm) = store.payment_methods.get_mut(pm_id) {
        if pm.customer.is_none() {
            pm.consumed = true;
        }
    }
    let si = store.setup_intents.get_mut(id).expect("setup intent");
    si.status = "requires_payment_method";
    si.payment_method = None;
    si.next_action = None;
    si.authenticating = None;
    si.last_setup_error = Some(error);
    emit(store, origin, "setup_intent.setup_failed", id);
}

/// The customer finished the challenge page: the attempt runs on (`complete`), or fails with
/// `setup_intent_authentication_failure`. Returns the SetupIntent's status.
pub fn finish_challenge(
    store: &mut Store,
    origin: &Origin,
    id: &str,
    complete: bool,
    public_base: &str,
) -> &'static str {
    let Some(si) = store.setup_intents.get(id) else {
        return "requires_payment_method";
    };
    if si.status != "requires_action" {
        return si.status;
    }
    let pm_id = si.authenticating.clone().unwrap_or_default();
    if complete && store.payment_methods.contains_key(&pm_id) {
        let _ = attempt(
            store,
            origin,
            id,
            &pm_id,
            &SetupAttempt {
                authenticated: true,
                use_stripe_sdk: false,
                public_base,
            },
        );
    } else {
        let mut error = ApiError::invalid(
            "The latest attempt to set up the payment method has failed because authentication failed.",
        )
        .with_code("setup_intent_authentication_failure");
        if let Some(pm) = store.payment_methods.get(&pm_id) {
            error = error.with_field("payment_method", store.payment_method_json(pm));
        }
        fail(store, origin, id, &pm_id, error.body());
    }
    store.setup_intents[id].status
}

/// Confirms `id` (which exists) with `payment_method` or the one it holds.
fn confirm_intent(
    store: &mut Store,
    origin: &Origin,
    fingerprint_key: &str,
    id: &str,
    payment_method: Option<&str>,
    opts: &SetupAttempt<'_>,
    view: View,
) -> Result<(), ApiError> {
    let si = &store.setup_intents[id];
    if !CONFIRMABLE.contains(&si.status) {
        return Err(unexpected_state(
            si,
            view,
            format!(
                "You cannot confirm this SetupIntent because it has a status of {}. Only a SetupIntent with one of the following statuses may be confirmed: requires_confirmation, requires_payment_method, requires_action.",
                si.status
            ),
        ));
    }
    let customer = si.customer.clone();
    let pm_id = match payment_method {
        Some(pm) => resolve(store, fingerprint_key, pm, "payment_method")?,
        None => match si.payment_method.clone() {
            Some(pm) => pm,
            None => {
                return Err(unexpected_state(
                    si,
                    view,
                    "You cannot confirm this SetupIntent because it's missing a payment method. Update the SetupIntent with a payment method and then confirm it again, or confirm it again directly with a payment method.".to_string(),
                ))
            }
        },
    };
    check_usable(store, &pm_id, customer.as_deref(), "payment_method")?;
    attempt(store, origin, id, &pm_id, opts)
        .map_err(|e| e.with_field("setup_intent", to_json(&store.setup_intents[id], view)))
}

const CREATE: &[&str] = &[
    "customer",
    "description",
    "metadata.*",
    "usage",
    "payment_method_types.#",
    "automatic_payment_methods.enabled",
    "automatic_payment_methods.allow_redirects",
    "payment_method",
    "confirm",
    "return_url",
    "use_stripe_sdk",
    "expand.#",
];

pub async fn create(
    State(app): State<App>,
    Extension(ctx): Extension<Ctx>,
    Extension(p): Extension<Params>,
) -> ApiResult {
    ctx.require_secret()?;
    p.check_allowed(CREATE)?;
    let usage = p
        .one_of("usage", &["off_session", "on_session"])?
        .map_or("off_session", |u| {
            if u == "on_session" {
                "on_session"
            } else {
                "off_session"
            }
        });
    let (types, apm) = method_types(&p)?;
    let confirm = p.bool("confirm")?.unwrap_or(false);
    let return_url = check_url(&p, "return_url")?;
    if return_url.is_some() && !confirm {
        return Err(ApiError::invalid_param(
            "return_url",
            "You can only specify a `return_url` when `confirm` is set to `true`.".to_string(),
        ));
    }
    let use_stripe_sdk = p.bool("use_stripe_sdk")?.unwrap_or(false);
    let metadata = p.metadata("metadata")?;
    let customer = p.nonempty("customer")?.map(str::to_string);
    let description = p.nonempty("description")?.map(str::to_string);
    let pm_param = p.nonempty("payment_method")?.map(str::to_string);
    let expand = p.expand()?;
    let key = app.fingerprint_key.clone();
    let base = app.config.public_base.clone();
    let origin = ctx.origin();
    app.run(|store| {
        if let Some(c) = &customer {
            customer_exists(store, c, "customer")?;
        }
        let pm = match &pm_param {
            Some(id) => {
                let pm = resolve(store, &key, id, "payment_method")?;
                check_usable(store, &pm, customer.as_deref(), "payment_method")?;
                Some(pm)
            }
            None => None,
        };
        let mut meta = Metadata::new();
        if let Some(m) = &metadata {
            m.apply(&mut meta);
        }
        let id = crate::ids::new_id("seti");
        let secret = format!(
            "{id}_secret_{}",
            crate::ids::new_id("x").trim_start_matches("x_")
        );
        let seq = store.next_seq();
        let si = SetupIntent {
            id: id.clone(),
            seq,
            created: store.now(),
            client_secret: secret,
            customer: customer.clone(),
            description: description.clone(),
            metadata: meta,
            usage,
            // `automatic_payment_methods[enabled]=false` without types: cards, not automatic.
            automatic_payment_methods: types.is_none() && apm != Some(false),
            payment_method_types: types.clone().unwrap_or_else(|| vec!["card".to_string()]),
            status: if pm.is_some() {
                "requires_confirmation"
            } else {
                "requires_payment_method"
            },
            payment_method: pm,
            last_setup_error: None,
            next_action: None,
            cancellation_reason: None,
            return_url: return_url.clone(),
            authenticating: None,
            redirect_flow: false,
            attempted: false,
        };
        store.setup_intents.insert(id.clone(), si);
        emit(store, &origin, "setup_intent.created", &id);
        if confirm {
            confirm_intent(
                store,
                &origin,
                &key,
                &id,
                None,
                &SetupAttempt {
                    authenticated: false,
                    use_stripe_sdk,
                    public_base: &base,
                },
                View::Secret,
            )?;
        }
        let mut v = to_json(&store.setup_intents[&id], View::Secret);
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
    p.check_allowed(&["client_secret", "expand.#"])?;
    let store = app.store.lock().expect("store lock");
    let si = get(&store, &id)?;
    if ctx.key == View::Publishable {
        check_client_secret(si, p.str("client_secret")?)?;
    }
    let mut v = to_json(si, ctx.key);
    store.expand(&mut v, &p.expand()?, ctx.key)?;
    ok(v)
}

const CONFIRM: &[&str] = &[
    "payment_method",
    "return_url",
    "client_secret",
    "use_stripe_sdk",
    "expand.#",
];

pub async fn confirm(
    State(app): State<App>,
    Extension(ctx): Extension<Ctx>,
    Extension(p): Extension<Params>,
    Path(id): Path<String>,
) -> ApiResult {
    p.check_allowed(CONFIRM)?;
    let pm = p.nonempty("payment_method")?.map(str::to_string);
    let return_url = check_url(&p, "return_url")?;
    let use_stripe_sdk = p.bool("use_stripe_sdk")?.unwrap_or(false);
    let client_secret = p.str("client_secret")?.map(str::to_string);
    let expand = p.expand()?;
    let key = app.fingerprint_key.clone();
    let base = app.config.public_base.clone();
    let origin = ctx.origin();
    app.run(|store| {
        let si = get(store, &id)?;
        if ctx.key == View::Publishable || client_secret.is_some() {
            check_client_secret(si, client_secret.as_deref())?;
        }
        if return_url.is_some() && CONFIRMABLE.contains(&si.status) {
            store
                .setup_intents
                .get_mut(&id)
                .expect("setup intent")
                .return_url = return_url.clone();
        }
        confirm_intent(
            store,
            &origin,
            &key,
            &id,
            pm.as_deref(),
            &SetupAttempt {
                authenticated: false,
                use_stripe_sdk,
                public_base: &base,
            },
            ctx.key,
        )?;
        let mut v = to_json(&store.setup_intents[&id], ctx.key);
        store.expand(&mut v, &expand, ctx.key)?;
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
    p.check_allowed(&["cancellation_reason", "expand.#"])?;
    let reason = p
        .one_of(
            "cancellation_reason",
            &["abandoned", "requested_by_customer", "duplicate"],
        )?
        .map(str::to_string);
    let expand = p.expand()?;
    let origin = ctx.origin();
    app.run(|store| {
        let si = get(store, &id)?;
        if !CONFIRMABLE.contains(&si.status) {
            return Err(unexpected_state(
                si,
                View::Secret,
                format!(
                    "You cannot cancel this SetupIntent because it has a status of {}. Only a SetupIntent with one of the following statuses may be canceled: requires_payment_method, requires_confirmation, requires_action.",
                    si.status
                ),
            ));
        }
        let si = store.setup_intents.get_mut(&id).expect("setup intent");
        si.status = "canceled";
        si.cancellation_reason = reason.clone();
        si.next_action = None;
        si.authenticating = None;
        emit(store, &origin, "setup_intent.canceled", &id);
        let mut v = to_json(&store.setup_intents[&id], View::Secret);
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
        "payment_method",
        "limit",
        "starting_after",
        "ending_before",
        "expand.#",
    ])?;
    let customer = p.str("customer")?;
    let payment_method = p.str("payment_method")?;
    let store = app.store.lock().expect("store lock");
    let mut items: Vec<&SetupIntent> = store
        .setup_intents
        .values()
        .filter(|si| customer.is_none_or(|c| si.customer.as_deref() == Some(c)))
        .filter(|si| payment_method.is_none_or(|pm| si.payment_method.as_deref() == Some(pm)))
        .collect();
    items.sort_by_key(|si| std::cmp::Reverse(si.seq));
    let data = items.iter().map(|si| to_json(si, View::Secret)).collect();
    let mut v = list_page(
        "/v1/setup_intents",
        data,
        p.int("limit")?,
        p.str("starting_after")?,
        p.str("ending_before")?,
    )?;
    store.expand(&mut v, &p.expand()?, View::Secret)?;
    ok(v)
}
