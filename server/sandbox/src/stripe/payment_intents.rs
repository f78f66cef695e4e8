//! PaymentIntents (docs.stripe.com/api): create (optionally confirming), retrieve (secret
//! key, or publishable key with the client secret as Stripe.js does), update, confirm,
//! capture (full or partial), cancel and list, with the status machine
//! `requires_payment_method → requires_confirmation → requires_action → processing →
//! requires_capture → succeeded | canceled`.

use super::charging::{attempt, check_amount, Attempt, AttemptOptions};
use super::error::{ok, ApiError, ApiResult};
use super::form::Params;
use super::http::Ctx;
use super::payment_methods::{check_usable, customer_exists, resolve};
use super::store::{list_page, Metadata, Origin, PaymentIntent, Store, View};
use super::App;
use axum::extract::{Path, State};
use axum::Extension;

const CAPTURE_METHODS: &[&str] = &["automatic", "automatic_async", "manual"];
/// "You can cancel a PaymentIntent object when it's in one of these statuses:
/// requires_payment_method, requires_capture, requires_confirmation, requires_action or, in rare
/// cases, processing" (docs.stripe.com/api/payment_intents/cancel); Stripe's own refusal lists
/// the same five.
const CANCELLABLE: &[&str] = &[
    "requires_payment_method",
    "requires_capture",
    "requires_confirmation",
    "requires_action",
    "processing",
];
const CONFIRMABLE: &[&str] = &[
    "requires_payment_method",
    "requires_confirmation",
    "requires_action",
];

fn unexpected_state(store: &Store, pi: &PaymentIntent, view: View, message: String) -> ApiError {
    ApiError::invalid(message)
        .with_code("payment_intent_unexpected_state")
        .with_field("payment_intent", store.payment_intent_json(pi, view))
}

fn get<'a>(store: &'a Store, id: &str) -> Result<&'a PaymentIntent, ApiError> {
    store
        .payment_intents
        .get(id)
        .ok_or_else(|| ApiError::no_such("payment_intent", id, "intent"))
}

pub(super) fn check_url(p: &Params, name: &str) -> Result<Option<String>, ApiError> {
    match p.nonempty(name)? {
        None => Ok(None),
        Some(u) => match url::Url::parse(u) {
            Ok(parsed) if parsed.scheme() == "https" || parsed.scheme() == "http" => {
                Ok(Some(u.to_string()))
            }
            _ => Err(ApiError::invalid_param(name, "Not a valid URL".to_string())
                .with_code("url_invalid")),
        },
    }
}

/// `payment_method_types[]` and `automatic_payment_methods[enabled]` of an intent's creation
/// (PaymentIntent or SetupIntent: the same rules), checked: at most one of the two, and only
/// types this account takes.
pub(super) fn method_types(p: &Params) -> Result<(Option<Vec<String>>, Option<bool>), ApiError> {
    let types = p.strings("payment_method_types")?;
    let apm = p.bool("automatic_payment_methods.enabled")?;
    p.one_of(
        "automatic_payment_methods.allow_redirects",
        &["always", "never"],
    )?;
    if types.is_some() && apm.is_some() {
        return Err(ApiError::invalid_param(
            "automatic_payment_methods",
            "You may only specify one of these parameters: automatic_payment_methods, payment_method_types.".to_string(),
        )
        .with_code("parameters_exclusive"));
    }
    if let Some(t) = &types {
        check_types(t)?;
    }
    Ok((types, apm))
}

/// The payment method types Stripe would accept for this test account: cards only.
fn check_types(types: &[String]) -> Result<(), ApiError> {
    for t in types {
        if t != "card" {
            return Err(ApiError::invalid_param(
                "payment_method_types",
                format!("The payment method type \"{t}\" is invalid. Please ensure the provided type is activated in your dashboard (https://dashboard.stripe.com/account/payments/settings) and your account is enabled for any preview features that you are trying to use."),
            ));
        }
    }
    Ok(())
}

pub struct ConfirmOptions {
    pub payment_method: Option<String>,
    pub return_url: Option<String>,
    pub off_session: bool,
    pub use_stripe_sdk: bool,
    pub view: View,
}

/// Confirms `pi_id` (which exists): on a decline, the 402 with the PaymentIntent embedded.
pub fn confirm_intent(
    store: &mut Store,
    origin: &Origin,
    fingerprint_key: &str,
    public_base: &str,
    pi_id: &str,
    opts: ConfirmOptions,
) -> Result<(), ApiError> {
    let pi = &store.payment_intents[pi_id];
    if !CONFIRMABLE.contains(&pi.status) {
        return Err(unexpected_state(
            store,
            pi,
            opts.view,
            format!(
                "You cannot confirm this PaymentIntent because it has a status of {}. Only a PaymentIntent with one of the following statuses may be confirmed: requires_confirmation, requires_payment_method, requires_action.",
                pi.status
            ),
        ));
    }
    let customer = pi.customer.clone();
    let pm_id = match &opts.payment_method {
        Some(id) => resolve(store, fingerprint_key, id, "payment_method")?,
        None => match pi.payment_method.clone().or(pi.authenticating.clone()) {
            Some(id) => id,
            None => {
                let pi = &store.payment_intents[pi_id];
                return Err(unexpected_state(
                    store,
                    pi,
                    opts.view,
                    "You cannot confirm this PaymentIntent because it's missing a payment method. You can either update the PaymentIntent with a payment method and then confirm it again, or confirm it again directly with a payment method.".to_string(),
                ));
            }
        },
    };
    check_usable(store, &pm_id, customer.as_deref(), "payment_method")?;
    let pi = store
        .payment_intents
        .get_mut(pi_id)
        .expect("payment intent");
    pi.payment_method = Some(pm_id.clone());
    if opts.return_url.is_some() {
        pi.return_url = opts.return_url.clone();
    }
    let outcome = attempt(
        store,
        origin,
        pi_id,
        &pm_id,
        &AttemptOptions {
            authenticated: false,
            off_session: opts.off_session,
            use_stripe_sdk: opts.use_stripe_sdk,
            public_base,
        },
    );
    match outcome {
        Attempt::Charged | Attempt::RequiresAction => Ok(()),
        Attempt::Declined(e) => {
            let pi = &store.payment_intents[pi_id];
            Err(e.with_field("payment_intent", store.payment_intent_json(pi, opts.view)))
        }
    }
}

/// Creates a PaymentIntent; used by this endpoint and by subscription invoices.
#[allow(clippy::too_many_arguments)]
pub fn insert_intent(
    store: &mut Store,
    origin: &Origin,
    amount: i64,
    currency: &str,
    capture_method: &str,
    customer: Option<String>,
    description: Option<String>,
    metadata: Metadata,
    payment_method_types: Option<Vec<String>>,
) -> String {
    let id = crate::ids::new_id("pi");
    let secret = format!(
        "{id}_secret_{}",
        crate::ids::new_id("x").trim_start_matches("x_")
    );
    let seq = store.next_seq();
    let pi = PaymentIntent {
        id: id.clone(),
        seq,
        created: store.now(),
        amount,
        currency: currency.to_string(),
        capture_method: capture_method.to_string(),
        client_secret: secret,
        customer,
        description,
        metadata,
        automatic_payment_methods: payment_method_types.is_none(),
        payment_method_types: payment_method_types.unwrap_or_else(|| vec!["card".to_string()]),
        payment_method: None,
        status: "requires_payment_method",
        amount_capturable: 0,
        amount_received: 0,
        latest_charge: None,
        last_payment_error: None,
        next_action: None,
        return_url: None,
        receipt_email: None,
        canceled_at: None,
        cancellation_reason: None,
        setup_future_usage: None,
        statement_descriptor: None,
        statement_descriptor_suffix: None,
        invoice: None,
        authenticating: None,
        redirect_flow: false,
    };
    store.payment_intents.insert(id.clone(), pi);
    let _ = origin;
    id
}

const CREATE: &[&str] = &[
    "amount",
    "currency",
    "capture_method",
    "confirmation_method",
    "customer",
    "metadata.*",
    "description",
    "payment_method_types.#",
    "automatic_payment_methods.enabled",
    "automatic_payment_methods.allow_redirects",
    "payment_method",
    "confirm",
    "return_url",
    "receipt_email",
    "setup_future_usage",
    "off_session",
    "statement_descriptor",
    "statement_descriptor_suffix",
    "use_stripe_sdk",
    "error_on_requires_action",
    "expand.#",
];

pub async fn create(
    State(app): State<App>,
    Extension(ctx): Extension<Ctx>,
    Extension(p): Extension<Params>,
) -> ApiResult {
    ctx.require_secret()?;
    p.check_allowed(CREATE)?;
    let amount = p.required_int("amount")?;
    let currency = check_amount(amount, p.required("currency")?, "amount")?;
    let settlement = app.store.lock().expect("store lock").settlement_currency;
    super::charging::check_settlement_minimum(amount, &currency, settlement)?;
    let capture_method = p
        .one_of("capture_method", CAPTURE_METHODS)?
        .unwrap_or("automatic_async")
        .to_string();
    p.one_of("confirmation_method", &["automatic"])?;
    let (types, _) = method_types(&p)?;
    let confirm = p.bool("confirm")?.unwrap_or(false);
    let off_session = p.bool("off_session")?;
    if off_session.is_some() && !confirm {
        return Err(ApiError::invalid_param(
            "off_session",
            "You can only use `off_session` when `confirm` is set to `true`.".to_string(),
        ));
    }
    let return_url = check_url(&p, "return_url")?;
    if return_url.is_some() && !confirm {
        return Err(ApiError::invalid_param(
            "return_url",
            "You can only specify a `return_url` when `confirm` is set to `true`.".to_string(),
        ));
    }
    let use_stripe_sdk = p.bool("use_stripe_sdk")?.unwrap_or(false);
    p.bool("error_on_requires_action")?;
    let sfu = p.one_of("setup_future_usage", &["on_session", "off_session"])?;
    let metadata = p.metadata("metadata")?;
    let customer = p.nonempty("customer")?.map(str::to_string);
    let description = p.nonempty("description")?.map(str::to_string);
    let receipt_email = p.nonempty("receipt_email")?.map(str::to_string);
    let statement_descriptor = p.nonempty("statement_descriptor")?.map(str::to_string);
    let statement_descriptor_suffix = p
        .nonempty("statement_descriptor_suffix")?
        .map(str::to_string);
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
        let id = insert_intent(
            store,
            &origin,
            amount,
            &currency,
            &capture_method,
            customer.clone(),
            description.clone(),
            meta,
            types.clone(),
        );
        {
            let pi = store.payment_intents.get_mut(&id).expect("payment intent");
            pi.receipt_email = receipt_email.clone();
            pi.setup_future_usage = sfu.map(str::to_string);
            pi.statement_descriptor = statement_descriptor.clone();
            pi.statement_descriptor_suffix = statement_descriptor_suffix.clone();
            if let Some(pm) = &pm {
                pi.payment_method = Some(pm.clone());
                pi.status = "requires_confirmation";
            }
        }
        let json = store.payment_intent_json(&store.payment_intents[&id], View::Secret);
        store.emit(&origin, "payment_intent.created", json, None);
        if confirm {
            confirm_intent(
                store,
                &origin,
                &key,
                &base,
                &id,
                ConfirmOptions {
                    payment_method: None,
                    return_url: return_url.clone(),
                    off_session: off_session.unwrap_or(false),
                    use_stripe_sdk,
                    view: View::Secret,
                },
            )?;
        }
        let mut v = store.payment_intent_json(&store.payment_intents[&id], View::Secret);
        store.expand(&mut v, &expand, View::Secret)?;
        ok(v)
    })
}

/// A publishable-key caller proves possession of the client secret.
fn check_client_secret(pi: &PaymentIntent, given: Option<&str>) -> Result<(), ApiError> {
    match given {
        None => Err(ApiError::missing_parameter("client_secret")),
        Some(s) if s == pi.client_secret => Ok(()),
        Some(_) => Err(ApiError::invalid(
            "The client_secret provided does not match the client_secret associated with the PaymentIntent.",
        )
        .with_param("client_secret")),
    }
}

pub async fn retrieve(
    State(app): State<App>,
    Extension(ctx): Extension<Ctx>,
    Extension(p): Extension<Params>,
    Path(id): Path<String>,
) -> ApiResult {
    p.check_allowed(&["client_secret", "expand.#"])?;
    let store = app.store.lock().expect("store lock");
    let pi = get(&store, &id)?;
    if ctx.key == View::Publishable {
        check_client_secret(pi, p.str("client_secret")?)?;
    }
    let mut v = store.payment_intent_json(pi, ctx.key);
    store.expand(&mut v, &p.expand()?, ctx.key)?;
    ok(v)
}

const CONFIRM: &[&str] = &[
    "payment_method",
    "return_url",
    "off_session",
    "client_secret",
    "use_stripe_sdk",
    "receipt_email",
    "setup_future_usage",
    "capture_method",
    "error_on_requires_action",
    "expand.#",
];
/// What Stripe.js may send with the publishable key.
const CONFIRM_PUBLISHABLE: &[&str] = &[
    "payment_method",
    "return_url",
    "client_secret",
    "use_stripe_sdk",
    "receipt_email",
    "setup_future_usage",
    "expand.#",
];

pub async fn confirm(
    State(app): State<App>,
    Extension(ctx): Extension<Ctx>,
    Extension(p): Extension<Params>,
    Path(id): Path<String>,
) -> ApiResult {
    p.check_allowed(if ctx.key == View::Secret {
        CONFIRM
    } else {
        CONFIRM_PUBLISHABLE
    })?;
    let pm = p.nonempty("payment_method")?.map(str::to_string);
    let return_url = check_url(&p, "return_url")?;
    let off_session = p.bool("off_session")?.unwrap_or(false);
    let use_stripe_sdk = p.bool("use_stripe_sdk")?.unwrap_or(false);
    let capture_method = p
        .one_of("capture_method", CAPTURE_METHODS)?
        .map(str::to_string);
    let sfu = p
        .one_of("setup_future_usage", &["on_session", "off_session"])?
        .map(str::to_string);
    let receipt_email = p.nonempty("receipt_email")?.map(str::to_string);
    p.bool("error_on_requires_action")?;
    let client_secret = p.str("client_secret")?.map(str::to_string);
    let expand = p.expand()?;
    let key = app.fingerprint_key.clone();
    let base = app.config.public_base.clone();
    let origin = ctx.origin();
    app.run(|store| {
        let pi = get(store, &id)?;
        if ctx.key == View::Publishable || client_secret.is_some() {
            check_client_secret(pi, client_secret.as_deref())?;
        }
        {
            let pi = store.payment_intents.get_mut(&id).expect("payment intent");
            if CONFIRMABLE.contains(&pi.status) {
                if let Some(c) = &capture_method {
                    pi.capture_method = c.clone();
                }
                if sfu.is_some() {
                    pi.setup_future_usage = sfu.clone();
                }
                if receipt_email.is_some() {
                    pi.receipt_email = receipt_email.clone();
                }
            }
        }
        confirm_intent(
            store,
            &origin,
            &key,
            &base,
            &id,
            ConfirmOptions {
                payment_method: pm.clone(),
                return_url: return_url.clone(),
                off_session,
                use_stripe_sdk,
                view: ctx.key,
            },
        )?;
        let mut v = store.payment_intent_json(&store.payment_intents[&id], ctx.key);
        store.expand(&mut v, &expand, ctx.key)?;
        ok(v)
    })
}

const UPDATE: &[&str] = &[
    "amount",
    "currency",
    "customer",
    "description",
    "metadata.*",
    "payment_method",
    "payment_method_types.#",
    "receipt_email",
    "setup_future_usage",
    "capture_method",
    "statement_descriptor",
    "statement_descriptor_suffix",
    "expand.#",
];

pub async fn update(
    State(app): State<App>,
    Extension(ctx): Extension<Ctx>,
    Extension(p): Extension<Params>,
    Path(id): Path<String>,
) -> ApiResult {
    ctx.require_secret()?;
    p.check_allowed(UPDATE)?;
    let amount = p.int("amount")?;
    let currency = p.nonempty("currency")?.map(str::to_string);
    let capture_method = p
        .one_of("capture_method", CAPTURE_METHODS)?
        .map(str::to_string);
    let sfu = p
        .one_of("setup_future_usage", &["on_session", "off_session", ""])?
        .map(str::to_string);
    let types = p.strings("payment_method_types")?;
    if let Some(t) = &types {
        check_types(t)?;
    }
    let metadata = p.metadata("metadata")?;
    let expand = p.expand()?;
    let key = app.fingerprint_key.clone();
    app.run(|store| {
        let pi = get(store, &id)?;
        // After these states only descriptive fields may change.
        let frozen = !CONFIRMABLE.contains(&pi.status);
        for field in [
            "amount",
            "currency",
            "customer",
            "payment_method",
            "payment_method_types",
            "capture_method",
            "setup_future_usage",
        ] {
            if frozen && p.has(field) {
                return Err(unexpected_state(
                    store,
                    pi,
                    View::Secret,
                    format!(
                        "You cannot update this PaymentIntent's {field} because it has a status of {}. You may only update the {field} of a PaymentIntent with one of the following statuses: requires_payment_method, requires_confirmation, requires_action.",
                        pi.status
                    ),
                ));
            }
        }
        let new_amount = amount.unwrap_or(pi.amount);
        let new_currency = currency.clone().unwrap_or_else(|| pi.currency.clone());
        let new_currency = if amount.is_some() || currency.is_some() {
            check_amount(new_amount, &new_currency, "amount")?
        } else {
            new_currency
        };
        let customer = match p.str("customer")? {
            Some("") => None,
            Some(c) => {
                customer_exists(store, c, "customer")?;
                Some(c.to_string())
            }
            None => pi.customer.clone(),
        };
        let pm = match p.nonempty("payment_method")? {
            Some(x) => {
                let pm = resolve(store, &key, x, "payment_method")?;
                check_usable(store, &pm, customer.as_deref(), "payment_method")?;
                Some(pm)
            }
            None => None,
        };
        let pi = store.payment_intents.get_mut(&id).expect("payment intent");
        pi.amount = new_amount;
        pi.currency = new_currency;
        pi.customer = customer;
        if let Some(d) = p.str("description")? {
            pi.description = (!d.is_empty()).then(|| d.to_string());
        }
        if let Some(e) = p.str("receipt_email")? {
            pi.receipt_email = (!e.is_empty()).then(|| e.to_string());
        }
        if let Some(s) = p.str("statement_descriptor")? {
            pi.statement_descriptor = (!s.is_empty()).then(|| s.to_string());
        }
        if let Some(s) = p.str("statement_descriptor_suffix")? {
            pi.statement_descriptor_suffix = (!s.is_empty()).then(|| s.to_string());
        }
        if let Some(c) = &capture_method {
            pi.capture_method = c.clone();
        }
        if let Some(s) = &sfu {
            pi.setup_future_usage = (!s.is_empty()).then(|| s.clone());
        }
        if let Some(t) = &types {
            pi.payment_method_types = t.clone();
            pi.automatic_payment_methods = false;
        }
        if let Some(m) = &metadata {
            m.apply(&mut pi.metadata);
        }
        if let Some(pm) = pm {
            pi.payment_method = Some(pm);
            pi.status = "requires_confirmation";
            pi.next_action = None;
            pi.authenticating = None;
        }
        let mut v = store.payment_intent_json(&store.payment_intents[&id], View::Secret);
        store.expand(&mut v, &expand, View::Secret)?;
        ok(v)
    })
}

pub async fn capture(
    State(app): State<App>,
    Extension(ctx): Extension<Ctx>,
    Extension(p): Extension<Params>,
    Path(id): Path<String>,
) -> ApiResult {
    ctx.require_secret()?;
    p.check_allowed(&[
        "amount_to_capture",
        "metadata.*",
        "statement_descriptor",
        "statement_descriptor_suffix",
        "final_capture",
        "expand.#",
    ])?;
    let amount_to_capture = p.int("amount_to_capture")?;
    p.bool("final_capture")?;
    let metadata = p.metadata("metadata")?;
    let expand = p.expand()?;
    let origin = ctx.origin();
    app.run(|store| {
        let pi = get(store, &id)?;
        if pi.status != "requires_capture" {
            return Err(unexpected_state(
                store,
                pi,
                View::Secret,
                format!(
                    "This PaymentIntent could not be captured because it has a status of {}. Only a PaymentIntent with one of the following statuses may be captured: requires_capture.",
                    pi.status
                ),
            ));
        }
        let capturable = pi.amount_capturable;
        let amount = amount_to_capture.unwrap_or(capturable);
        if amount < 1 {
            return Err(ApiError::invalid_param(
                "amount_to_capture",
                "This value must be greater than or equal to 1.".to_string(),
            )
            .with_code("parameter_invalid_integer"));
        }
        if amount > capturable {
            return Err(ApiError::invalid(format!(
                "The amount to capture ({amount}) is greater than the amount capturable ({capturable}) on this PaymentIntent."
            ))
            .with_code("amount_too_large")
            .with_param("amount_to_capture")
            .with_field("payment_intent", store.payment_intent_json(pi, View::Secret)));
        }
        let charge_id = pi.latest_charge.clone().unwrap_or_default();
        if let Some(ch) = store.charges.get_mut(&charge_id) {
            ch.captured = true;
            ch.amount_captured = amount;
        }
        if let Some(ch) = store.charges.get(&charge_id) {
            let json = store.charge_json(ch);
            store.emit(&origin, "charge.captured", json, None);
        }
        let pi = store.payment_intents.get_mut(&id).expect("payment intent");
        pi.status = "succeeded";
        pi.amount_received = amount;
        pi.amount_capturable = 0;
        if let Some(m) = &metadata {
            m.apply(&mut pi.metadata);
        }
        let json = store.payment_intent_json(&store.payment_intents[&id], View::Secret);
        store.emit(&origin, "payment_intent.succeeded", json, None);
        super::charging::dispute_if_scripted(store, &origin, &charge_id);
        let mut v = store.payment_intent_json(&store.payment_intents[&id], View::Secret);
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
    p.check_allowed(&["cancellation_reason", "expand.#"])?;
    let reason = p
        .one_of(
            "cancellation_reason",
            &[
                "duplicate",
                "fraudulent",
                "requested_by_customer",
                "abandoned",
            ],
        )?
        .map(str::to_string);
    let expand = p.expand()?;
    let origin = ctx.origin();
    app.run(|store| {
        let pi = get(store, &id)?;
        if !CANCELLABLE.contains(&pi.status) {
            return Err(unexpected_state(
                store,
                pi,
                View::Secret,
                format!(
                    "You cannot cancel this PaymentIntent because it has a status of {}. Only a PaymentIntent with one of the following statuses may be canceled: requires_payment_method, requires_capture, requires_confirmation, requires_action, processing.",
                    pi.status
                ),
            ));
        }
        if pi.invoice.is_some() {
            return Err(unexpected_state(
                store,
                pi,
                View::Secret,
                "You cannot cancel this PaymentIntent because it was created by an invoice. Void the invoice (or cancel the subscription) instead.".to_string(),
            ));
        }
        // Cancelling an authorization releases the hold; cancelling while processing fails the
        // pending charge (it never settles).
        let (held, pending) = (
            (pi.status == "requires_capture")
                .then(|| pi.latest_charge.clone())
                .flatten(),
            (pi.status == "processing")
                .then(|| pi.latest_charge.clone())
                .flatten(),
        );
        if let Some(charge) = held.and_then(|ch| store.charges.get_mut(&ch)) {
            charge.released = true;
        }
        if let Some(charge_id) = pending {
            if let Some(charge) = store.charges.get_mut(&charge_id) {
                charge.status = "failed";
            }
            if let Some(charge) = store.charges.get(&charge_id) {
                let json = store.charge_json(charge);
                store.emit(&origin, "charge.failed", json, None);
            }
        }
        let now = store.now();
        let pi = store.payment_intents.get_mut(&id).expect("payment intent");
        pi.status = "canceled";
        pi.canceled_at = Some(now);
        pi.cancellation_reason = reason.clone();
        pi.amount_capturable = 0;
        pi.next_action = None;
        pi.authenticating = None;
        let json = store.payment_intent_json(&store.payment_intents[&id], View::Secret);
        store.emit(&origin, "payment_intent.canceled", json, None);
        let mut v = store.payment_intent_json(&store.payment_intents[&id], View::Secret);
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
        "limit",
        "starting_after",
        "ending_before",
        "created",
        "created.gt",
        "created.gte",
        "created.lt",
        "created.lte",
        "expand.#",
    ])?;
    let customer = p.str("customer")?;
    let created = super::events::CreatedFilter::from(&p)?;
    let store = app.store.lock().expect("store lock");
    let mut items: Vec<&PaymentIntent> = store
        .payment_intents
        .values()
        .filter(|pi| customer.is_none_or(|c| pi.customer.as_deref() == Some(c)))
        .filter(|pi| created.matches(pi.created))
        .collect();
    items.sort_by_key(|pi| std::cmp::Reverse(pi.seq));
    let data = items
        .iter()
        .map(|pi| store.payment_intent_json(pi, View::Secret))
        .collect();
    let mut v = list_page(
        "/v1/payment_intents",
        data,
        p.int("limit")?,
        p.str("starting_after")?,
        p.str("ending_before")?,
    )?;
    store.expand(&mut v, &p.expand()?, View::Secret)?;
    ok(v)
}
