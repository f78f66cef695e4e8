//! Payments v2 (developer.paypal.com/docs/api/payments/v2; `payments_payment_v2.json`): authorizations
//! (get, capture in full or in part with `final_capture`, void), captures (get, refund in full
//! or in part) and refunds (get).
//!
//! Rules: captures of an authorization add up to at most 115 % of it
//! (`MAX_CAPTURE_AMOUNT_EXCEEDED`); an authorization is `PARTIALLY_CAPTURED` until a
//! `final_capture` or its full amount, then `CAPTURED`; voiding leaves it `VOIDED` (what was
//! captured stays captured); it expires 29 days after creation (`AUTHORIZATION_EXPIRED`).
//! Without `amount`, a capture takes what is left of the authorization and a refund what is
//! left of the capture. Refunds never exceed what is left (`REFUND_AMOUNT_EXCEEDED`); nothing
//! left is `CAPTURE_FULLY_REFUNDED`; pending captures cannot be refunded (`PENDING_CAPTURE`),
//! declined ones neither (`REFUND_NOT_ALLOWED`), nor captures older than 180 days
//! (`REFUND_TIME_LIMIT_EXCEEDED`). Refunds complete at once; the refunded PayPal fee is the
//! capture's fee in proportion.

use super::error::{Api, ApiError, ApiResult};
use super::http::{json_body, json_response, render, Ctx};
use super::idempotency::Produced;
use super::money::{self, Sign};
use super::store::{Capture, Refund, Store, REFUND_WINDOW_MS};
use super::util::resource_id;
use super::App;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Extension;
use bytes::Bytes;
use serde_json::{Map, Value};

const API: Api = Api::Payments;

fn opt_string(
    obj: &Map<String, Value>,
    key: &str,
    min: usize,
    max: usize,
) -> Result<Option<String>, ApiError> {
    let field = format!("/{key}");
    match obj.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => {
            let n = s.chars().count();
            if n < min || n > max {
                Err(ApiError::length(API, &field, Some(s)))
            } else {
                Ok(Some(s.clone()))
            }
        }
        Some(other) => Err(ApiError::syntax(API, &field, Some(&other.to_string()))),
    }
}

fn unprocessable(issue: &str, description: &str) -> ApiError {
    ApiError::unprocessable(API, None, None, issue, description)
}

struct CaptureRequest {
    amount: Option<Value>,
    invoice_id: Option<String>,
    final_capture: bool,
    note_to_payer: Option<String>,
}

fn capture_request(body: &Bytes) -> Result<CaptureRequest, ApiError> {
    let v = json_body(body, API, true)?;
    let obj = v.as_object().cloned().unwrap_or_default();
    let amount = obj.get("amount").filter(|a| !a.is_null()).cloned();
    if amount.is_some() {
        money::check_schema(API, amount.as_ref(), "/amount")?;
    }
    let invoice_id = opt_string(&obj, "invoice_id", 1, 127)?;
    let note_to_payer = opt_string(&obj, "note_to_payer", 1, 255)?;
    opt_string(&obj, "soft_descriptor", 1, 22)?;
    let final_capture = match obj.get("final_capture") {
        None | Some(Value::Null) => false,
        Some(Value::Bool(b)) => *b,
        Some(other) => {
            return Err(ApiError::syntax(
                API,
                "/final_capture",
                Some(&other.to_string()),
            ))
        }
    };
    Ok(CaptureRequest {
        amount,
        invoice_id,
        final_capture,
        note_to_payer,
    })
}

struct RefundRequest {
    amount: Option<Value>,
    invoice_id: Option<String>,
    custom_id: Option<String>,
    note_to_payer: Option<String>,
}

fn refund_request(body: &Bytes) -> Result<RefundRequest, ApiError> {
    let v = json_body(body, API, true)?;
    let obj = v.as_object().cloned().unwrap_or_default();
    let amount = obj.get("amount").filter(|a| !a.is_null()).cloned();
    if amount.is_some() {
        money::check_schema(API, amount.as_ref(), "/amount")?;
    }
    Ok(RefundRequest {
        amount,
        invoice_id: opt_string(&obj, "invoice_id", 1, 127)?,
        custom_id: opt_string(&obj, "custom_id", 1, 127)?,
        note_to_payer: opt_string(&obj, "note_to_payer", 1, 255)?,
    })
}

pub fn capture_authorization(
    store: &mut Store,
    id: &str,
    req: CaptureRequestRef<'_>,
) -> Result<String, ApiError> {
    let now = store.now();
    let a = store
        .authorizations
        .get(id)
        .ok_or_else(|| ApiError::not_found(API))?;
    match a.status {
        "VOIDED" => {
            return Err(unprocessable(
                "AUTHORIZATION_VOIDED",
                "A voided authorization cannot be captured or reauthorized. ",
            ))
        }
        "CAPTURED" => {
            return Err(unprocessable(
                "AUTHORIZATION_ALREADY_CAPTURED",
                "Authorization has previously been captured.",
            ))
        }
        "DENIED" => {
            return Err(unprocessable(
                "AUTHORIZATION_DENIED",
                "An denied authorization cannot be captured.",
            ))
        }
        _ => {}
    }
    if now >= a.expires_ms {
        return Err(unprocessable(
            "AUTHORIZATION_EXPIRED",
            "An expired authorization cannot be captured.",
        ));
    }
    let amount = match req.amount {
        Some(v) => {
            let m = money::parse(API, v, "/amount", Sign::Positive)?;
            if m.currency != a.amount.currency {
                return Err(ApiError::unprocessable(
                    API,
                    Some("/amount/currency_code"),
                    Some(m.currency.code()),
                    "AUTH_CAPTURE_CURRENCY_MISMATCH",
                    "Currency of capture must be the same as currency of authorization.",
                ));
            }
            m
        }
        None => {
            let left = a.amount.units - a.captured;
            if left <= 0 {
                return Err(unprocessable(
                    "AUTHORIZATION_ALREADY_CAPTURED",
                    "Authorization has previously been captured.",
                ));
            }
            a.amount.with_units(left)
        }
    };
    // The default overage limit: all captures together up to 115 % of the authorization.
    if (a.captured + amount.units).saturating_mul(100) > a.amount.units.saturating_mul(115) {
        return Err(unprocessable(
            "MAX_CAPTURE_AMOUNT_EXCEEDED",
            "Capture amount exceeds allowable limit. Please contact customer service or your account manager to request the change to your overage limit. The default overage limit is 115%, which allows the sum of all captures to be up to 115% of the order amount. The ability to over capture is subjected to regulatory approvals.",
        ));
    }
    let (status, reason, fee) = Store::capture_outcome(a.funding, amount);
    let order_id = a.order_id.clone();
    let custom_id = a.custom_id.clone();
    let invoice_id = req.invoice_id.cloned().or_else(|| a.invoice_id.clone());
    let cid = resource_id();
    let captured = a.captured + amount.units;
    let full = req.final_capture || captured >= a.amount.units;
    store.captures.insert(
        cid.clone(),
        Capture {
            id: cid.clone(),
            order_id,
            authorization_id: Some(id.to_string()),
            amount,
            status,
            reason,
            final_capture: full,
            invoice_id,
            custom_id,
            note_to_payer: req.note_to_payer.cloned(),
            fee,
            refunded: 0,
            refunds: Vec::new(),
            created_ms: now,
            updated_ms: now,
        },
    );
    if let Some(a) = store.authorizations.get_mut(id) {
        a.captured = captured;
        a.captures.push(cid.clone());
        a.status = if full {
            "CAPTURED"
        } else {
            "PARTIALLY_CAPTURED"
        };
        a.updated_ms = now;
    }
    store.emit_capture(Store::capture_event(status), &cid);
    Ok(cid)
}

/// The parts of a capture request the store needs.
pub struct CaptureRequestRef<'a> {
    pub amount: Option<&'a Value>,
    pub invoice_id: Option<&'a String>,
    pub final_capture: bool,
    pub note_to_payer: Option<&'a String>,
}

pub fn void_authorization(store: &mut Store, id: &str) -> Result<(), ApiError> {
    let now = store.now();
    let status = store
        .authorizations
        .get(id)
        .ok_or_else(|| ApiError::not_found(API))?
        .status;
    match status {
        "VOIDED" => Err(unprocessable(
            "PREVIOUSLY_VOIDED",
            "Authorization has been previously voided and hence cannot be voided again.",
        )),
        "CAPTURED" => Err(unprocessable(
            "PREVIOUSLY_CAPTURED",
            "Authorization has been previously captured and hence cannot be voided.",
        )),
        "CREATED" | "PARTIALLY_CAPTURED" => {
            if let Some(a) = store.authorizations.get_mut(id) {
                a.status = "VOIDED";
                a.updated_ms = now;
            }
            store.emit_authorization("PAYMENT.AUTHORIZATION.VOIDED", id);
            Ok(())
        }
        _ => Err(unprocessable(
            "CANNOT_BE_VOIDED",
            "This authorization cannot be voided.",
        )),
    }
}

pub fn refund_capture(
    store: &mut Store,
    id: &str,
    amount: Option<&Value>,
    note_to_payer: Option<String>,
    invoice_id: Option<String>,
    custom_id: Option<String>,
) -> Result<String, ApiError> {
    let now = store.now();
    let c = store
        .captures
        .get(id)
        .ok_or_else(|| ApiError::not_found(API))?;
    match c.status {
        "PENDING" => {
            return Err(unprocessable(
                "PENDING_CAPTURE",
                "Cannot initiate a refund as the capture is pending. Capture is typically pending when the payer has funded the transaction using e-check/bank funded.",
            ))
        }
        "REFUNDED" => {
            return Err(unprocessable(
                "CAPTURE_FULLY_REFUNDED",
                "The capture has already been fully refunded",
            ))
        }
        "COMPLETED" | "PARTIALLY_REFUNDED" => {}
        _ => return Err(unprocessable("REFUND_NOT_ALLOWED", "Capture cannot be refunded.")),
    }
    if now - c.created_ms > REFUND_WINDOW_MS {
        return Err(unprocessable(
            "REFUND_TIME_LIMIT_EXCEEDED",
            "You are over the time limit to perform a refund on this capture",
        ));
    }
    let left = c.amount.units - c.refunded;
    let refund_amount = match amount {
        Some(v) => {
            let m = money::parse(API, v, "/amount", Sign::Positive)?;
            if m.currency != c.amount.currency {
                return Err(ApiError::unprocessable(
                    API,
                    Some("/amount/currency_code"),
                    Some(m.currency.code()),
                    "REFUND_CAPTURE_CURRENCY_MISMATCH",
                    "Refund must be in the same currency as the capture",
                ));
            }
            if m.units > left {
                return Err(ApiError::unprocessable(
                    API,
                    Some("/amount/value"),
                    Some(&m.value()),
                    "REFUND_AMOUNT_EXCEEDED",
                    "The refund amount must be less than or equal to the capture amount that has not yet been refunded.",
                ));
            }
            m
        }
        None => c.amount.with_units(left),
    };
    let fee = if c.amount.units > 0 {
        c.fee * refund_amount.units / c.amount.units
    } else {
        0
    };
    let total = c.refunded + refund_amount.units;
    let rid = resource_id();
    // A refund the merchant's balance does not cover is `PENDING` (`ECHECK`) until it settles.
    let pending = store.pending_refunds_next > 0;
    let refund = Refund {
        id: rid.clone(),
        capture_id: id.to_string(),
        amount: refund_amount,
        status: if pending { "PENDING" } else { "COMPLETED" },
        reason: pending.then_some("ECHECK"),
        fee,
        total_refunded: total,
        note_to_payer,
        invoice_id: invoice_id.or_else(|| c.invoice_id.clone()),
        custom_id: custom_id.or_else(|| c.custom_id.clone()),
        created_ms: now,
        updated_ms: now,
    };
    store.refunds.insert(rid.clone(), refund);
    if pending {
        store.pending_refunds_next -= 1;
    }
    if let Some(c) = store.captures.get_mut(id) {
        c.refunded = total;
        c.refunds.push(rid.clone());
        c.status = if total >= c.amount.units {
            "REFUNDED"
        } else {
            "PARTIALLY_REFUNDED"
        };
        c.updated_ms = now;
    }
    // A pending refund sends nothing yet: PayPal documents no event for it
    // (docs.paypal.ai/reference/webhook-events/payments-v2 lists only PAYMENT.CAPTURE.*), and
    // paygate must not depend on one (see `Store::settle_refund`).
    if !pending {
        store.emit_refund("PAYMENT.CAPTURE.REFUNDED", &rid);
    }
    Ok(rid)
}

/// `GET /v2/payments/authorizations/{id}`.
pub async fn get_authorization(State(app): State<App>, Path(id): Path<String>) -> ApiResult {
    let store = app.store.lock().expect("store lock");
    let a = store
        .authorizations
        .get(&id)
        .ok_or_else(|| ApiError::not_found(API))?;
    Ok(json_response(
        StatusCode::OK,
        store.authorization_json(a, true),
    ))
}

/// `POST /v2/payments/authorizations/{id}/capture` → 201.
pub async fn capture(
    State(app): State<App>,
    Path(id): Path<String>,
    Extension(ctx): Extension<Ctx>,
    body: Bytes,
) -> ApiResult {
    let req = capture_request(&body)?;
    let cid = app.run(|store| {
        capture_authorization(
            store,
            &id,
            CaptureRequestRef {
                amount: req.amount.as_ref(),
                invoice_id: req.invoice_id.as_ref(),
                final_capture: req.final_capture,
                note_to_payer: req.note_to_payer.as_ref(),
            },
        )
    })?;
    Ok(render(
        &app,
        &Produced::Capture(cid),
        ctx.representation,
        false,
    ))
}

/// `POST /v2/payments/authorizations/{id}/void` → 204, or 200 with the authorization under
/// `Prefer: return=representation`.
pub async fn void(
    State(app): State<App>,
    Path(id): Path<String>,
    Extension(ctx): Extension<Ctx>,
) -> ApiResult {
    app.run(|store| void_authorization(store, &id))?;
    Ok(render(&app, &Produced::Void(id), ctx.representation, false))
}

/// `GET /v2/payments/captures/{id}`.
pub async fn get_capture(State(app): State<App>, Path(id): Path<String>) -> ApiResult {
    let store = app.store.lock().expect("store lock");
    let c = store
        .captures
        .get(&id)
        .ok_or_else(|| ApiError::not_found(API))?;
    Ok(json_response(StatusCode::OK, store.capture_json(c, true)))
}

/// `POST /v2/payments/captures/{id}/refund` → 201.
pub async fn refund(
    State(app): State<App>,
    Path(id): Path<String>,
    Extension(ctx): Extension<Ctx>,
    body: Bytes,
) -> ApiResult {
    let req = refund_request(&body)?;
    let rid = app.run(|store| {
        refund_capture(
            store,
            &id,
            req.amount.as_ref(),
            req.note_to_payer.clone(),
            req.invoice_id.clone(),
            req.custom_id.clone(),
        )
    })?;
    Ok(render(
        &app,
        &Produced::Refund(rid),
        ctx.representation,
        false,
    ))
}

/// `GET /v2/payments/refunds/{id}`.
pub async fn get_refund(State(app): State<App>, Path(id): Path<String>) -> ApiResult {
    let store = app.store.lock().expect("store lock");
    let r = store
        .refunds
        .get(&id)
        .ok_or_else(|| ApiError::not_found(API))?;
    Ok(json_response(StatusCode::OK, store.refund_json(r)))
}
