//! Orders v2 (developer.paypal.com/docs/api/orders/v2; `checkout_orders_v2.json`): create, get, capture,
//! authorize.
//!
//! Create checks the request the way PayPal does, schema first (400 `INVALID_REQUEST`:
//! `MALFORMED_REQUEST_JSON`, `MISSING_REQUIRED_PARAMETER`, `INVALID_PARAMETER_SYNTAX`,
//! `INVALID_PARAMETER_VALUE`, `INVALID_STRING_LENGTH`, `INVALID_ARRAY_MIN_ITEMS`/`MAX_ITEMS`,
//! `NOT_SUPPORTED` for payment sources other than `paypal`), then business rules (422
//! `UNPROCESSABLE_ENTITY`: `INVALID_CURRENCY_CODE`, `DECIMAL_PRECISION`, `MAX_VALUE_EXCEEDED`,
//! `CANNOT_BE_ZERO_OR_NEGATIVE`, `CANNOT_BE_NEGATIVE`, `MULTI_CURRENCY_ORDER`,
//! `AMOUNT_MISMATCH`, `ITEM_TOTAL_REQUIRED`, `ITEM_TOTAL_MISMATCH`, `TAX_TOTAL_REQUIRED`,
//! `TAX_TOTAL_MISMATCH`, `REFERENCE_ID_REQUIRED`, `DUPLICATE_REFERENCE_ID`,
//! `UNSUPPORTED_INTENT`). Field pointers follow PayPal's form:
//! `/purchase_units/@reference_id=='default'/amount/value`.
//!
//! Status after create: `PAYER_ACTION_REQUIRED` with a `payer-action` link when the request
//! has `payment_source.paypal`, else `CREATED` with an `approve` link, as PayPal's create
//! answers; both links open the emulator's approval page.

use super::error::{Api, ApiError, ApiResult};
use super::http::{json_body, render, Ctx};
use super::idempotency::Produced;
use super::money::{self, Amount, Sign};
use super::store::{
    Authorization, Capture, Experience, Funding, Intent, Order, OrderView, Store, Unit,
    AUTHORIZATION_VALIDITY_MS,
};
use super::util::resource_id;
use super::App;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Extension;
use bytes::Bytes;
use serde_json::{Map, Value};

const API: Api = Api::Orders;

const BREAKDOWN_ADD: [&str; 5] = [
    "item_total",
    "tax_total",
    "shipping",
    "handling",
    "insurance",
];
const BREAKDOWN_SUB: [&str; 2] = ["shipping_discount", "discount"];

/// An order request that passed validation.
pub struct NewOrder {
    pub intent: Intent,
    pub units: Vec<Unit>,
    pub experience: Experience,
    pub paypal_source: bool,
}

fn unit_pointer(u: &Value) -> String {
    let reference = u
        .get("reference_id")
        .and_then(Value::as_str)
        .unwrap_or("default");
    format!("/purchase_units/@reference_id=='{reference}'")
}

/// An optional string field of `obj`, `min..=max` characters.
fn opt_string<'a>(
    obj: &'a Map<String, Value>,
    key: &str,
    prefix: &str,
    min: usize,
    max: usize,
) -> Result<Option<&'a str>, ApiError> {
    let field = format!("{prefix}/{key}");
    match obj.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => {
            let n = s.chars().count();
            if n < min || n > max {
                Err(ApiError::length(API, &field, Some(s)))
            } else {
                Ok(Some(s))
            }
        }
        Some(other) => Err(ApiError::syntax(API, &field, Some(&other.to_string()))),
    }
}

fn opt_enum<'a>(
    obj: &'a Map<String, Value>,
    key: &str,
    prefix: &str,
    allowed: &[&str],
) -> Result<Option<&'a str>, ApiError> {
    let field = format!("{prefix}/{key}");
    match opt_string(obj, key, prefix, 1, 255)? {
        None => Ok(None),
        Some(s) if allowed.contains(&s) => Ok(Some(s)),
        Some(s) => Err(ApiError::bad_value(API, &field, Some(s))),
    }
}

fn opt_object<'a>(
    obj: &'a Map<String, Value>,
    key: &str,
    prefix: &str,
) -> Result<Option<&'a Map<String, Value>>, ApiError> {
    match obj.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Object(o)) => Ok(Some(o)),
        Some(other) => Err(ApiError::syntax(
            API,
            &format!("{prefix}/{key}"),
            Some(&other.to_string()),
        )),
    }
}

/// BCP 47 as the spec's `language` pattern:
/// `^[a-z]{2}(?:-[A-Z][a-z]{3})?(?:-(?:[A-Z]{2}|[0-9]{3}))?$`.
fn locale_ok(s: &str) -> bool {
    let mut parts = s.split('-');
    let Some(lang) = parts.next() else {
        return false;
    };
    if lang.len() != 2 || !lang.bytes().all(|b| b.is_ascii_lowercase()) {
        return false;
    }
    let rest: Vec<&str> = parts.collect();
    let script = |p: &str| {
        p.len() == 4
            && p.as_bytes()[0].is_ascii_uppercase()
            && p[1..].bytes().all(|b| b.is_ascii_lowercase())
    };
    let region = |p: &str| {
        (p.len() == 2 && p.bytes().all(|b| b.is_ascii_uppercase()))
            || (p.len() == 3 && p.bytes().all(|b| b.is_ascii_digit()))
    };
    match rest.as_slice() {
        [] => true,
        [a] => script(a) || region(a),
        [a, b] => script(a) && region(b),
        _ => false,
    }
}

fn url_ok(s: &str) -> bool {
    url::Url::parse(s).is_ok_and(|u| matches!(u.scheme(), "http" | "https"))
}

/// `payment_source.paypal.experience_context` or the legacy `application_context`.
fn experience(
    ctx: &Map<String, Value>,
    prefix: &str,
    legacy: bool,
    into: &mut Experience,
) -> Result<(), ApiError> {
    if let Some(b) = opt_string(ctx, "brand_name", prefix, 1, 127)? {
        into.brand_name = Some(b.to_string());
    }
    if let Some(l) = opt_string(ctx, "locale", prefix, 2, 10)? {
        if !locale_ok(l) {
            return Err(ApiError::syntax(API, &format!("{prefix}/locale"), Some(l)));
        }
        into.locale = Some(l.to_string());
    }
    if let Some(s) = opt_enum(
        ctx,
        "shipping_preference",
        prefix,
        &["GET_FROM_FILE", "NO_SHIPPING", "SET_PROVIDED_ADDRESS"],
    )? {
        into.shipping_preference = Some(s.to_string());
    }
    let landing: &[&str] = if legacy {
        &["LOGIN", "BILLING", "NO_PREFERENCE"]
    } else {
        &["LOGIN", "GUEST_CHECKOUT", "NO_PREFERENCE"]
    };
    opt_enum(ctx, "landing_page", prefix, landing)?;
    if let Some(a) = opt_enum(ctx, "user_action", prefix, &["CONTINUE", "PAY_NOW"])? {
        into.user_action = Some(a.to_string());
    }
    if !legacy {
        opt_enum(
            ctx,
            "payment_method_preference",
            prefix,
            &["UNRESTRICTED", "IMMEDIATE_PAYMENT_REQUIRED"],
        )?;
    }
    for key in ["return_url", "cancel_url"] {
        if let Some(u) = opt_string(ctx, key, prefix, 1, 4000)? {
            if !url_ok(u) {
                return Err(ApiError::syntax(API, &format!("{prefix}/{key}"), Some(u)));
            }
            if key == "return_url" {
                into.return_url = Some(u.to_string());
            } else {
                into.cancel_url = Some(u.to_string());
            }
        }
    }
    Ok(())
}

/// The schema checks of one purchase unit (400s).
fn unit_schema(u: &Value, index: usize) -> Result<(), ApiError> {
    let Some(obj) = u.as_object() else {
        return Err(ApiError::syntax(
            API,
            &format!("/purchase_units/{index}"),
            None,
        ));
    };
    let p = unit_pointer(u);
    opt_string(obj, "reference_id", &p, 1, 256)?;
    money::check_schema(API, obj.get("amount"), &format!("{p}/amount"))?;
    if let Some(amount) = obj.get("amount").and_then(Value::as_object) {
        if let Some(b) = opt_object(amount, "breakdown", &format!("{p}/amount"))? {
            for key in BREAKDOWN_ADD.iter().chain(BREAKDOWN_SUB.iter()) {
                if let Some(m) = b.get(*key) {
                    money::check_schema(API, Some(m), &format!("{p}/amount/breakdown/{key}"))?;
                }
            }
        }
    }
    opt_string(obj, "custom_id", &p, 1, 127)?;
    opt_string(obj, "invoice_id", &p, 1, 127)?;
    opt_string(obj, "description", &p, 1, 127)?;
    opt_string(obj, "soft_descriptor", &p, 1, 22)?;
    opt_object(obj, "payee", &p)?;
    opt_object(obj, "shipping", &p)?;
    match obj.get("items") {
        None | Some(Value::Null) => {}
        Some(Value::Array(items)) => {
            for (i, item) in items.iter().enumerate() {
                let ip = format!("{p}/items/{i}");
                let Some(io) = item.as_object() else {
                    return Err(ApiError::syntax(API, &ip, None));
                };
                if io.get("name").is_none() {
                    return Err(ApiError::missing(API, &format!("{ip}/name")));
                }
                opt_string(io, "name", &ip, 1, 127)?;
                money::check_schema(API, io.get("unit_amount"), &format!("{ip}/unit_amount"))?;
                if let Some(t) = io.get("tax") {
                    money::check_schema(API, Some(t), &format!("{ip}/tax"))?;
                }
                match io.get("quantity") {
                    None | Some(Value::Null) => {
                        return Err(ApiError::missing(API, &format!("{ip}/quantity")))
                    }
                    Some(Value::String(q)) => {
                        let ok = !q.is_empty()
                            && q.len() <= 10
                            && q.bytes().all(|b| b.is_ascii_digit())
                            && !q.starts_with('0');
                        if !ok {
                            return Err(ApiError::syntax(API, &format!("{ip}/quantity"), Some(q)));
                        }
                    }
                    Some(other) => {
                        return Err(ApiError::syntax(
                            API,
                            &format!("{ip}/quantity"),
                            Some(&other.to_string()),
                        ))
                    }
                }
                opt_string(io, "sku", &ip, 0, 127)?;
                opt_enum(
                    io,
                    "category",
                    &ip,
                    &["DIGITAL_GOODS", "PHYSICAL_GOODS", "DONATION"],
                )?;
            }
        }
        Some(other) => {
            return Err(ApiError::syntax(
                API,
                &format!("{p}/items"),
                Some(&other.to_string()),
            ))
        }
    }
    Ok(())
}

fn mismatch(issue: &str, field: &str, description: &str) -> ApiError {
    ApiError::unprocessable(API, Some(field), None, issue, description)
}

/// The business checks of one purchase unit (422s); returns it with its values normalised.
fn unit_business(u: &Value) -> Result<Unit, ApiError> {
    let p = unit_pointer(u);
    let obj = u.as_object().cloned().unwrap_or_default();
    let amount = money::parse(API, &obj["amount"], &format!("{p}/amount"), Sign::Positive)?;
    let multi = |field: String| {
        mismatch(
            "MULTI_CURRENCY_ORDER",
            &field,
            "Multiple differing values of currency_code are not supported. Entire Order request must have the same currency_code.",
        )
    };
    let same = |a: &Amount, field: String| -> Result<(), ApiError> {
        if a.currency == amount.currency {
            Ok(())
        } else {
            Err(multi(field))
        }
    };

    let mut breakdown_json = None;
    let mut breakdown: Vec<(&str, Amount)> = Vec::new();
    if let Some(b) = obj["amount"].get("breakdown").and_then(Value::as_object) {
        let mut normalised = Map::new();
        for key in BREAKDOWN_ADD.iter().chain(BREAKDOWN_SUB.iter()) {
            if let Some(m) = b.get(*key) {
                let field = format!("{p}/amount/breakdown/{key}");
                let a = money::parse(API, m, &field, Sign::NonNegative)?;
                same(&a, format!("{field}/currency_code"))?;
                normalised.insert((*key).to_string(), a.json());
                breakdown.push((key, a));
            }
        }
        let total: i64 = breakdown
            .iter()
            .map(|(k, a)| {
                if BREAKDOWN_SUB.contains(k) {
                    -a.units
                } else {
                    a.units
                }
            })
            .sum();
        if total != amount.units {
            return Err(mismatch(
                "AMOUNT_MISMATCH",
                &format!("{p}/amount/value"),
                "Should equal item_total + tax_total + shipping + handling + insurance - shipping_discount - discount.",
            ));
        }
        breakdown_json = Some(Value::Object(normalised));
    }
    let part = |k: &str| {
        breakdown
            .iter()
            .find(|(n, _)| *n == k)
            .map(|(_, a)| a.units)
    };

    let mut items_json = None;
    if let Some(items) = obj.get("items").and_then(Value::as_array) {
        let mut item_total = 0i64;
        let mut tax_total = 0i64;
        let mut any_tax = false;
        let mut normalised = Vec::new();
        for (i, item) in items.iter().enumerate() {
            let ip = format!("{p}/items/{i}");
            let quantity: i64 = item["quantity"]
                .as_str()
                .and_then(|q| q.parse().ok())
                .unwrap_or(1);
            let unit_amount = money::parse(
                API,
                &item["unit_amount"],
                &format!("{ip}/unit_amount"),
                Sign::NonNegative,
            )?;
            same(&unit_amount, format!("{ip}/unit_amount/currency_code"))?;
            item_total = item_total.saturating_add(unit_amount.units.saturating_mul(quantity));
            let mut n = item.clone();
            n["unit_amount"] = unit_amount.json();
            if let Some(t) = item.get("tax") {
                let tax = money::parse(API, t, &format!("{ip}/tax"), Sign::NonNegative)?;
                same(&tax, format!("{ip}/tax/currency_code"))?;
                tax_total = tax_total.saturating_add(tax.units.saturating_mul(quantity));
                any_tax = true;
                n["tax"] = tax.json();
            }
            normalised.push(n);
        }
        if !items.is_empty() {
            match part("item_total") {
                None => {
                    return Err(mismatch(
                        "ITEM_TOTAL_REQUIRED",
                        &format!("{p}/amount/breakdown/item_total"),
                        "If item details are specified (items.unit_amount and items.quantity) corresponding amount.breakdown.item_total is required.",
                    ))
                }
                Some(t) if t != item_total => {
                    return Err(mismatch(
                        "ITEM_TOTAL_MISMATCH",
                        &format!("{p}/amount/breakdown/item_total"),
                        "Should equal sum of (unit_amount * quantity) across all items for a given purchase_unit.",
                    ))
                }
                Some(_) => {}
            }
            if any_tax {
                match part("tax_total") {
                    None => {
                        return Err(mismatch(
                            "TAX_TOTAL_REQUIRED",
                            &format!("{p}/amount/breakdown/tax_total"),
                            "If item details are specified (items.tax_total and items.quantity) corresponding amount.breakdown.tax_total is required.",
                        ))
                    }
                    Some(t) if t != tax_total => {
                        return Err(mismatch(
                            "TAX_TOTAL_MISMATCH",
                            &format!("{p}/amount/breakdown/tax_total"),
                            "Should equal sum of (tax * quantity) across all items for a given purchase_unit.",
                        ))
                    }
                    Some(_) => {}
                }
            }
        }
        items_json = Some(Value::Array(normalised));
    }

    let text = |k: &str| obj.get(k).and_then(Value::as_str).map(str::to_string);
    Ok(Unit {
        reference_id: text("reference_id").unwrap_or_else(|| "default".into()),
        amount,
        breakdown: breakdown_json,
        description: text("description"),
        custom_id: text("custom_id"),
        invoice_id: text("invoice_id"),
        soft_descriptor: text("soft_descriptor"),
        items: items_json,
        shipping: obj.get("shipping").filter(|s| s.is_object()).cloned(),
        captures: Vec::new(),
        authorizations: Vec::new(),
    })
}

/// Validates an order request (`order_request` in the spec).
pub fn validate_create(body: &Bytes) -> Result<NewOrder, ApiError> {
    let v = json_body(body, API, false)?;
    let obj = v.as_object().cloned().unwrap_or_default();

    // ---- schema (400) ----
    let intent = match obj.get("intent") {
        None | Some(Value::Null) => return Err(ApiError::missing(API, "/intent")),
        Some(Value::String(s)) => match s.as_str() {
            "CAPTURE" => Intent::Capture,
            "AUTHORIZE" => Intent::Authorize,
            _ => return Err(ApiError::bad_value(API, "/intent", Some(s))),
        },
        Some(other) => return Err(ApiError::syntax(API, "/intent", Some(&other.to_string()))),
    };
    let units = match obj.get("purchase_units") {
        None | Some(Value::Null) => return Err(ApiError::missing(API, "/purchase_units")),
        Some(Value::Array(a)) => a,
        Some(other) => {
            return Err(ApiError::syntax(
                API,
                "/purchase_units",
                Some(&other.to_string()),
            ))
        }
    };
    if units.is_empty() {
        return Err(ApiError::invalid(
            API,
            "/purchase_units",
            None,
            "INVALID_ARRAY_MIN_ITEMS",
            "The number of items in an array parameter is too small.",
        ));
    }
    if units.len() > 10 {
        return Err(ApiError::invalid(
            API,
            "/purchase_units",
            None,
            "INVALID_ARRAY_MAX_ITEMS",
            "The number of items in an array parameter is too large.",
        ));
    }
    for (i, u) in units.iter().enumerate() {
        unit_schema(u, i)?;
    }
    let mut exp = Experience::default();
    let mut paypal_source = false;
    if let Some(ps) = opt_object(&obj, "payment_source", "")? {
        for (key, source) in ps {
            if key != "paypal" {
                return Err(ApiError::invalid(
                    API,
                    &format!("/payment_source/{key}"),
                    None,
                    "NOT_SUPPORTED",
                    "This field is not currently supported.",
                ));
            }
            let Some(paypal) = source.as_object() else {
                return Err(ApiError::syntax(API, "/payment_source/paypal", None));
            };
            paypal_source = true;
            if let Some(ctx) = opt_object(paypal, "experience_context", "/payment_source/paypal")? {
                experience(
                    ctx,
                    "/payment_source/paypal/experience_context",
                    false,
                    &mut exp,
                )?;
            }
        }
    }
    if let Some(ctx) = opt_object(&obj, "application_context", "")? {
        experience(ctx, "/application_context", true, &mut exp)?;
    }

    // ---- business rules (422) ----
    let mut parsed = Vec::with_capacity(units.len());
    for u in units {
        parsed.push(unit_business(u)?);
    }
    if let Some(first) = parsed.first() {
        for (u, raw) in parsed.iter().zip(units) {
            if u.amount.currency != first.amount.currency {
                return Err(mismatch(
                    "MULTI_CURRENCY_ORDER",
                    &format!("{}/amount/currency_code", unit_pointer(raw)),
                    "Multiple differing values of currency_code are not supported. Entire Order request must have the same currency_code.",
                ));
            }
        }
    }
    if parsed.len() > 1 {
        let mut seen = std::collections::HashSet::new();
        for raw in units {
            let Some(r) = raw.get("reference_id").and_then(Value::as_str) else {
                return Err(mismatch(
                    "REFERENCE_ID_REQUIRED",
                    "/purchase_units",
                    "'reference_id' is required for each 'purchase_unit' if multiple 'purchase_unit' are provided.",
                ));
            };
            if !seen.insert(r) {
                return Err(mismatch(
                    "DUPLICATE_REFERENCE_ID",
                    &format!("/purchase_units/@reference_id=='{r}'/reference_id"),
                    "`reference_id` must be unique if multiple `purchase_unit` are provided.",
                ));
            }
        }
        if intent == Intent::Authorize {
            return Err(mismatch(
                "UNSUPPORTED_INTENT",
                "/intent",
                "`intent=AUTHORIZE` is not supported for multiple purchase units. Only `intent=CAPTURE` is supported.",
            ));
        }
    }
    Ok(NewOrder {
        intent,
        units: parsed,
        experience: exp,
        paypal_source,
    })
}

pub fn insert_order(store: &mut Store, new: NewOrder) -> String {
    let now = store.now();
    let id = resource_id();
    let status = if new.paypal_source {
        "PAYER_ACTION_REQUIRED"
    } else {
        "CREATED"
    };
    store.orders.insert(
        id.clone(),
        Order {
            id: id.clone(),
            intent: new.intent,
            status,
            units: new.units,
            experience: new.experience,
            paypal_source: new.paypal_source,
            funding: None,
            created_ms: now,
            updated_ms: now,
            approved_ms: None,
        },
    );
    id
}

/// `POST /v2/checkout/orders` → 201.
pub async fn create(
    State(app): State<App>,
    Extension(ctx): Extension<Ctx>,
    body: Bytes,
) -> ApiResult {
    let new = validate_create(&body)?;
    let id = app.run(|store| insert_order(store, new));
    Ok(render(
        &app,
        &Produced::OrderCreated(id),
        ctx.representation,
        false,
    ))
}

/// `GET /v2/checkout/orders/{id}` → 200, always the full order.
pub async fn get(State(app): State<App>, Path(id): Path<String>) -> ApiResult {
    let store = app.store.lock().expect("store lock");
    let o = store
        .orders
        .get(&id)
        .ok_or_else(|| ApiError::not_found(API))?;
    Ok(super::http::json_response(
        StatusCode::OK,
        store.order_json(o, OrderView::Full),
    ))
}

/// The capture and authorize bodies: optional `{payment_source?}`; the emulator takes no
/// payment source at this step (the buyer approves on the approval page instead).
fn action_body(body: &Bytes) -> Result<(), ApiError> {
    let v = json_body(body, API, true)?;
    if v.get("payment_source").is_some_and(|p| !p.is_null()) {
        return Err(ApiError::invalid(
            API,
            "/payment_source",
            None,
            "NOT_SUPPORTED",
            "This field is not currently supported.",
        ));
    }
    Ok(())
}

fn not_approved() -> ApiError {
    ApiError::unprocessable(
        API,
        None,
        None,
        "ORDER_NOT_APPROVED",
        "Payer has not yet approved the Order for payment. Please redirect the payer to the 'rel':'approve' url returned as part of the HATEOAS links within the Create Order call or provide a valid `payment_source` in the request.",
    )
}

fn instrument_declined(store: &Store, order_id: &str) -> ApiError {
    ApiError::unprocessable(
        API,
        None,
        None,
        "INSTRUMENT_DECLINED",
        "The instrument presented  was either declined by the processor or bank, or it can't be used for this payment.",
    )
    .link(&store.approval_url(order_id), "redirect", "GET")
}

/// Captures an approved `CAPTURE` order: one capture per purchase unit.
pub fn capture_order(store: &mut Store, id: &str) -> Result<(), ApiError> {
    let now = store.now();
    let o = store
        .orders
        .get(id)
        .ok_or_else(|| ApiError::not_found(API))?;
    if o.intent != Intent::Capture {
        return Err(ApiError::unprocessable(
            API,
            None,
            None,
            "ACTION_DOES_NOT_MATCH_INTENT",
            "Order was created with an intent to 'AUTHORIZE'. Please use v2/checkout/orders/order_id/authorize to complete the transaction or alternately Create an order with an intent of 'CAPTURE'.",
        ));
    }
    let funding =
        match (o.status, o.funding) {
            ("COMPLETED", _) => return Err(ApiError::unprocessable(
                API,
                None,
                None,
                "ORDER_ALREADY_CAPTURED",
                "Order already captured.If 'intent=CAPTURE' only one capture per order is allowed.",
            )),
            ("APPROVED", Some(f)) => f,
            _ => return Err(not_approved()),
        };
    if funding == Funding::InstrumentDeclined {
        return Err(instrument_declined(store, id));
    }
    let units: Vec<(usize, Amount, Option<String>, Option<String>)> = o
        .units
        .iter()
        .enumerate()
        .map(|(i, u)| (i, u.amount, u.invoice_id.clone(), u.custom_id.clone()))
        .collect();
    let mut created = Vec::new();
    for (i, amount, invoice_id, custom_id) in units {
        let (status, reason, fee) = Store::capture_outcome(funding, amount);
        let cid = resource_id();
        store.captures.insert(
            cid.clone(),
            Capture {
                id: cid.clone(),
                order_id: id.to_string(),
                authorization_id: None,
                amount,
                status,
                reason,
                final_capture: true,
                invoice_id,
                custom_id,
                note_to_payer: None,
                fee,
                refunded: 0,
                refunds: Vec::new(),
                created_ms: now,
                updated_ms: now,
            },
        );
        if let Some(o) = store.orders.get_mut(id) {
            o.units[i].captures.push(cid.clone());
        }
        created.push((cid, status));
    }
    if let Some(o) = store.orders.get_mut(id) {
        o.status = "COMPLETED";
        o.updated_ms = now;
    }
    for (cid, status) in created {
        store.emit_capture(Store::capture_event(status), &cid);
    }
    Ok(())
}

/// Authorizes an approved `AUTHORIZE` order.
pub fn authorize_order(store: &mut Store, id: &str) -> Result<(), ApiError> {
    let now = store.now();
    let o = store
        .orders
        .get(id)
        .ok_or_else(|| ApiError::not_found(API))?;
    if o.intent != Intent::Authorize {
        return Err(ApiError::unprocessable(
            API,
            None,
            None,
            "ACTION_DOES_NOT_MATCH_INTENT",
            "Order was created with an intent to 'CAPTURE'. Please use v2/checkout/orders/order_id/capture to complete the transaction or alternately Create an order with an intent of 'AUTHORIZE'.",
        ));
    }
    let funding = match (o.status, o.funding) {
        ("COMPLETED", _) => {
            return Err(ApiError::unprocessable(
                API,
                None,
                None,
                "ORDER_ALREADY_AUTHORIZED",
                "Order already authorized.If 'intent=AUTHORIZE' only one authorization per order is allowed.",
            ))
        }
        ("VOIDED", _) => {
            return Err(ApiError::unprocessable(
                API,
                None,
                None,
                "ORDER_COMPLETED_OR_VOIDED",
                "Order is voided or completed and hence cannot be authorized.",
            ))
        }
        ("APPROVED", Some(f)) => f,
        _ => return Err(not_approved()),
    };
    if funding == Funding::InstrumentDeclined {
        return Err(instrument_declined(store, id));
    }
    let unit = &o.units[0];
    let (amount, invoice_id, custom_id) =
        (unit.amount, unit.invoice_id.clone(), unit.custom_id.clone());
    let status = if funding == Funding::ProcessorDeclined {
        "DENIED"
    } else {
        "CREATED"
    };
    let aid = resource_id();
    store.authorizations.insert(
        aid.clone(),
        Authorization {
            id: aid.clone(),
            order_id: id.to_string(),
            amount,
            status,
            reason: None,
            captured: 0,
            captures: Vec::new(),
            invoice_id,
            custom_id,
            funding,
            created_ms: now,
            updated_ms: now,
            expires_ms: now + AUTHORIZATION_VALIDITY_MS,
        },
    );
    if let Some(o) = store.orders.get_mut(id) {
        o.units[0].authorizations.push(aid.clone());
        o.status = "COMPLETED";
        o.updated_ms = now;
    }
    if status == "CREATED" {
        store.emit_authorization("PAYMENT.AUTHORIZATION.CREATED", &aid);
    }
    Ok(())
}

/// `POST /v2/checkout/orders/{id}/capture` → 201.
pub async fn capture(
    State(app): State<App>,
    Path(id): Path<String>,
    Extension(ctx): Extension<Ctx>,
    body: Bytes,
) -> ApiResult {
    action_body(&body)?;
    app.run(|store| capture_order(store, &id))?;
    Ok(render(
        &app,
        &Produced::OrderAction(id),
        ctx.representation,
        false,
    ))
}

/// `POST /v2/checkout/orders/{id}/authorize` → 201.
pub async fn authorize(
    State(app): State<App>,
    Path(id): Path<String>,
    Extension(ctx): Extension<Ctx>,
    body: Bytes,
) -> ApiResult {
    action_body(&body)?;
    app.run(|store| authorize_order(store, &id))?;
    Ok(render(
        &app,
        &Produced::OrderAction(id),
        ctx.representation,
        false,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn issue(body: &str) -> (StatusCode, String, Option<String>) {
        let e = validate_create(&Bytes::from(body.to_string()))
            .err()
            .expect("an error");
        (
            e.status,
            e.issue().unwrap_or("").to_string(),
            e.details[0].field.clone(),
        )
    }

    #[test]
    fn locales() {
        for ok in ["en", "en-US", "zh-Hant", "zh-Hant-TW", "es-419"] {
            assert!(locale_ok(ok), "{ok}");
        }
        for bad in ["EN", "en_US", "en-us", "english", "en-US-x"] {
            assert!(!locale_ok(bad), "{bad}");
        }
    }

    #[test]
    fn validation() {
        let unit = r#"{"amount":{"currency_code":"USD","value":"10.00"}}"#;
        assert_eq!(
            issue(&format!(r#"{{"purchase_units":[{unit}]}}"#)),
            (
                StatusCode::BAD_REQUEST,
                "MISSING_REQUIRED_PARAMETER".into(),
                Some("/intent".into())
            )
        );
        assert_eq!(
            issue(&format!(r#"{{"intent":"SALE","purchase_units":[{unit}]}}"#)).1,
            "INVALID_PARAMETER_VALUE"
        );
        assert_eq!(
            issue(r#"{"intent":"CAPTURE","purchase_units":[]}"#).1,
            "INVALID_ARRAY_MIN_ITEMS"
        );
        assert_eq!(issue("not json").1, "MALFORMED_REQUEST_JSON");
        assert_eq!(
            issue(
                r#"{"intent":"CAPTURE","purchase_units":[{"amount":{"currency_code":"JPY","value":"10.50"}}]}"#
            ),
            (
                StatusCode::UNPROCESSABLE_ENTITY,
                "DECIMAL_PRECISION".into(),
                Some("/purchase_units/@reference_id=='default'/amount/value".into())
            )
        );
        assert_eq!(
            issue(r#"{"intent":"CAPTURE","purchase_units":[{"amount":{"currency_code":"USD","value":"10","breakdown":{"item_total":{"currency_code":"USD","value":"9"}}}}]}"#).1,
            "AMOUNT_MISMATCH"
        );
        assert_eq!(
            issue(r#"{"intent":"CAPTURE","purchase_units":[{"amount":{"currency_code":"USD","value":"10"},"items":[{"name":"a","quantity":"2","unit_amount":{"currency_code":"USD","value":"5"}}]}]}"#).1,
            "ITEM_TOTAL_REQUIRED"
        );
        assert_eq!(
            issue(r#"{"intent":"CAPTURE","purchase_units":[{"reference_id":"a","amount":{"currency_code":"USD","value":"10"}},{"reference_id":"b","amount":{"currency_code":"EUR","value":"10"}}]}"#).1,
            "MULTI_CURRENCY_ORDER"
        );
        assert_eq!(
            issue(r#"{"intent":"AUTHORIZE","purchase_units":[{"reference_id":"a","amount":{"currency_code":"USD","value":"10"}},{"reference_id":"b","amount":{"currency_code":"USD","value":"10"}}]}"#).1,
            "UNSUPPORTED_INTENT"
        );
        assert_eq!(
            issue(r#"{"intent":"CAPTURE","purchase_units":[{"amount":{"currency_code":"USD","value":"10"}}],"payment_source":{"card":{}}}"#).1,
            "NOT_SUPPORTED"
        );
        assert_eq!(
            issue(r#"{"intent":"CAPTURE","purchase_units":[{"amount":{"currency_code":"USD","value":"10"}}],"payment_source":{"paypal":{"experience_context":{"user_action":"BUY"}}}}"#).1,
            "INVALID_PARAMETER_VALUE"
        );
        let ok = validate_create(&Bytes::from(
            r#"{"intent":"CAPTURE","purchase_units":[{"amount":{"currency_code":"USD","value":"10","breakdown":{"item_total":{"currency_code":"USD","value":"10"}}},"items":[{"name":"a","quantity":"2","unit_amount":{"currency_code":"USD","value":"5"}}]}]}"#,
        ))
        .unwrap_or_else(|e| panic!("{:?}", e.issue()));
        assert_eq!(ok.units[0].amount.value(), "10.00");
        assert_eq!(ok.units[0].reference_id, "default");
    }
}
