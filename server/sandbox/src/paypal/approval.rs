//! The buyer approval page, what an order's `approve` / `payer-action` link opens
//! (`GET /checkoutnow?token={order_id}`, PayPal's own path). A test buyer is signed in; they
//! approve with one of four funding sources (see [`Funding`]) or cancel. No API key: the order
//! id is the capability, as the token in PayPal's link is.
//!
//! - Approving (`POST /checkoutnow/{id}/approve`, form `funding`) moves the order to
//!   `APPROVED` (with `payer` and `payment_source.paypal`), sends `CHECKOUT.ORDER.APPROVED`, and
//!   redirects (303) to `return_url?token={id}&PayerID={payer_id}`. An approved order can be
//!   approved again (the buyer restarts after `INSTRUMENT_DECLINED`): the new funding source
//!   replaces the old one.
//! - Cancelling (`POST /checkoutnow/{id}/cancel`) changes nothing and redirects to
//!   `cancel_url?token={id}`.
//! - Opened by the JS SDK stand-in (`&popup=1`), the page instead tells its opener (the
//!   stand-in's button frame, on the emulator's origin) by `postMessage` with the emulator's
//!   origin as explicit target, and stays open showing "Processing" until the SDK closes it
//!   (after `onApprove` settles) or navigates it back here (`actions.restart()`), as PayPal's
//!   own window does.
//!
//! Pages carry a strict CSP: scripts and styles from the emulator's origin only, nothing
//! inline; forms may post to the emulator and redirect to the order's return and cancel URLs.

use super::store::{Funding, Order, Store, APPROVAL_WINDOW_MS, BUYER_EMAIL, BUYER_PAYER_ID};
use super::App;
use crate::common::pages::{self, escape, see_other};
use crate::common::util::origin_of;
use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use std::collections::HashMap;

fn base(app: &App) -> String {
    app.config.public_base.trim_end_matches('/').to_string()
}

/// An HTML page with the emulator's CSP; `form_targets` are the extra origins forms (and their
/// redirects) may go to.
fn page(
    app: &App,
    status: StatusCode,
    lang: &str,
    title: &str,
    body: &str,
    form_targets: &[String],
) -> Response {
    let b = escape(&base(app));
    let html = format!(
        "<!doctype html>\n<html lang=\"{}\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">\
         <title>{}</title><link rel=\"stylesheet\" href=\"{b}/assets/checkout.css\"></head>\
         {body}</html>",
        escape(lang),
        escape(title)
    );
    let own = origin_of(&app.config.public_base).unwrap_or_else(|| "'self'".into());
    let csp = format!(
        "default-src 'none'; script-src {own}; style-src {own}; img-src {own} data:; \
         form-action {own} {}; base-uri 'none'; frame-ancestors 'none'",
        form_targets.join(" ")
    );
    let mut response = pages::page(status, html, csp.trim());
    // Never framed, unlike Stripe's challenge page: PayPal opens it as a page or a popup.
    response
        .headers_mut()
        .insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    response
}

/// A page that ends the visit: in a popup it reports `outcome` to the opener.
fn outcome_page(
    app: &App,
    status: StatusCode,
    popup: bool,
    outcome: &str,
    order_id: &str,
    heading: &str,
    text: &str,
) -> Response {
    let payer = if outcome == "approve" {
        BUYER_PAYER_ID
    } else {
        ""
    };
    let body = format!(
        "<body data-popup=\"{}\" data-outcome=\"{}\" data-order=\"{}\" data-payer=\"{}\" data-message=\"{}\">\
         <main class=\"card\"><p class=\"brand\"><b>Pay</b><i>Pal</i> <span class=\"badge\">SANDBOX</span></p>\
         <h1 id=\"result\">{}</h1><p id=\"result-hint\">{}</p></main>\
         <script src=\"{}/assets/checkout-popup.js\"></script></body>",
        if popup { "1" } else { "0" },
        escape(outcome),
        escape(order_id),
        escape(payer),
        escape(text),
        escape(heading),
        escape(text),
        escape(&base(app)),
    );
    page(app, status, "en", "PayPal Checkout", &body, &[])
}

fn money_text(o: &Order) -> String {
    let currency = o.units[0].amount.currency;
    let total: i64 = o.units.iter().map(|u| u.amount.units).sum();
    let a = o.units[0].amount.with_units(total);
    format!("{} {}", a.value(), currency.code())
}

fn funding_label(f: Funding) -> &'static str {
    match f {
        Funding::Balance => "PayPal balance",
        Funding::InstrumentDeclined => "Visa •••• 0002 — declined at capture (INSTRUMENT_DECLINED)",
        Funding::Echeck => "Bank account (eCheck) — the capture stays PENDING",
        Funding::ProcessorDeclined => "Mastercard •••• 4444 — the capture comes back DECLINED",
    }
}

/// Whether the buyer may (re)approve `o` now; `Err` says why not.
fn approvable(o: &Order, now: i64) -> Result<(), &'static str> {
    match o.status {
        "APPROVED" => Ok(()),
        "CREATED" | "PAYER_ACTION_REQUIRED" if now - o.created_ms <= APPROVAL_WINDOW_MS => Ok(()),
        "CREATED" | "PAYER_ACTION_REQUIRED" => {
            Err("This order has expired: it was not approved within 3 hours.")
        }
        "COMPLETED" => Err("This order is already completed."),
        _ => Err("This order can no longer be approved."),
    }
}

fn redirect(url: &str) -> Response {
    see_other(url).unwrap_or_else(|| StatusCode::BAD_REQUEST.into_response())
}

/// `GET /checkoutnow?token={order_id}[&popup=1]`.
pub async fn approval_page(
    State(app): State<App>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let token = q.get("token").cloned().unwrap_or_default();
    let popup = q.get("popup").is_some_and(|p| p == "1");
    let store = app.store.lock().expect("store lock");
    let Some(o) = store.orders.get(&token) else {
        drop(store);
        return outcome_page(
            &app,
            StatusCode::NOT_FOUND,
            popup,
            "error",
            &token,
            "Order not found",
            "This checkout link is not valid.",
        );
    };
    if let Err(why) = approvable(o, store.now()) {
        let id = o.id.clone();
        drop(store);
        return outcome_page(
            &app,
            StatusCode::OK,
            popup,
            "error",
            &id,
            "Checkout unavailable",
            why,
        );
    }
    let brand = o
        .experience
        .brand_name
        .clone()
        .unwrap_or_else(|| "paygate sandbox merchant".into());
    let lang = o
        .experience
        .locale
        .as_deref()
        .and_then(|l| l.split('-').next())
        .unwrap_or("en")
        .to_string();
    let pay_now = o.experience.user_action.as_deref() == Some("PAY_NOW");
    let money = money_text(o);
    let description = o.units[0].description.clone().unwrap_or_default();
    let targets: Vec<String> = [&o.experience.return_url, &o.experience.cancel_url]
        .into_iter()
        .flatten()
        .filter_map(|u| origin_of(u))
        .collect();
    let again = o.status == "APPROVED";
    let id = o.id.clone();
    drop(store);

    let b = escape(&base(&app));
    let eid = escape(&id);
    let hidden = format!(
        "<input type=\"hidden\" name=\"popup\" value=\"{}\">",
        if popup { "1" } else { "0" }
    );
    let choices: String =
        Funding::ALL
            .iter()
            .map(|f| {
                format!(
                "<button type=\"submit\" name=\"funding\" value=\"{}\" id=\"pay-{}\"{}>{}</button>",
                f.id(),
                f.id().replace('_', "-"),
                if *f == Funding::Balance { " class=\"primary\"" } else { "" },
                escape(funding_label(*f))
            )
            })
            .collect();
    let body = format!(
        "<body><main class=\"card\">\
         <p class=\"brand\"><b>Pay</b><i>Pal</i> <span class=\"badge\">SANDBOX</span></p>\
         <p class=\"merchant\">{}</p><p class=\"amount\" id=\"amount\">{}</p><p class=\"description\">{}</p>\
         <p class=\"buyer\">Signed in as <b id=\"buyer\">{}</b> (paygate test buyer)</p>\
         {}\
         <form method=\"post\" action=\"{b}/checkoutnow/{eid}/approve\">{hidden}\
         <fieldset><legend>{}</legend>{choices}</fieldset></form>\
         <form method=\"post\" action=\"{b}/checkoutnow/{eid}/cancel\">{hidden}\
         <button type=\"submit\" id=\"cancel\" class=\"link\">Cancel and return to {}</button></form>\
         <p class=\"hint\">This page emulates PayPal's checkout. No money moves and no PayPal server is contacted.</p>\
         </main></body>",
        escape(&brand),
        escape(&money),
        escape(&description),
        escape(BUYER_EMAIL),
        if again {
            "<p class=\"notice\" id=\"again\">Your last payment method was declined. Choose another way to pay.</p>"
        } else {
            ""
        },
        if pay_now { "Pay Now with" } else { "Choose a way to pay, then continue" },
        escape(&brand),
    );
    page(
        &app,
        StatusCode::OK,
        &lang,
        "PayPal Checkout - paygate sandbox",
        &body,
        &targets,
    )
}

/// `GET /checkoutnow/loading`: what the SDK's popup shows while `createOrder` runs.
pub async fn loading_page(State(app): State<App>) -> Response {
    page(
        &app,
        StatusCode::OK,
        "en",
        "PayPal",
        "<body><main class=\"card\"><p class=\"brand\"><b>Pay</b><i>Pal</i> <span class=\"badge\">SANDBOX</span></p>\
         <p id=\"loading\" class=\"loading\">Loading…</p></main></body>",
        &[],
    )
}

fn form(body: &Bytes) -> HashMap<String, String> {
    serde_urlencoded::from_bytes(body).unwrap_or_default()
}

/// Approves `order_id` with `funding`: `Ok(return_url)`.
pub fn approve_order(
    store: &mut Store,
    order_id: &str,
    funding: Funding,
) -> Result<Option<String>, &'static str> {
    let now = store.now();
    let o = store
        .orders
        .get_mut(order_id)
        .ok_or("This checkout link is not valid.")?;
    approvable(o, now)?;
    o.status = "APPROVED";
    o.funding = Some(funding);
    o.approved_ms = Some(now);
    o.updated_ms = now;
    let return_url = o.experience.return_url.clone();
    store.emit_order(
        "CHECKOUT.ORDER.APPROVED",
        order_id,
        "An order has been approved by buyer",
    );
    Ok(return_url)
}

/// `POST /checkoutnow/{id}/approve`.
pub async fn approve(State(app): State<App>, Path(id): Path<String>, body: Bytes) -> Response {
    app.bodies.record(&body);
    let f = form(&body);
    let popup = f.get("popup").is_some_and(|p| p == "1");
    let Some(funding) = f.get("funding").and_then(|s| Funding::from_id(s)) else {
        return outcome_page(
            &app,
            StatusCode::BAD_REQUEST,
            popup,
            "error",
            &id,
            "Choose a way to pay",
            "No funding source was chosen.",
        );
    };
    match app.run(|store| approve_order(store, &id, funding)) {
        Err(why) => outcome_page(
            &app,
            StatusCode::OK,
            popup,
            "error",
            &id,
            "Checkout unavailable",
            why,
        ),
        Ok(_) if popup => outcome_page(
            &app,
            StatusCode::OK,
            true,
            "approve",
            &id,
            "Processing…",
            "Please wait while the merchant completes your payment.",
        ),
        Ok(Some(return_url)) => match url::Url::parse(&return_url) {
            Ok(mut url) => {
                url.query_pairs_mut()
                    .append_pair("token", &id)
                    .append_pair("PayerID", BUYER_PAYER_ID);
                redirect(url.as_str())
            }
            Err(_) => outcome_page(
                &app,
                StatusCode::OK,
                false,
                "approve",
                &id,
                "Approved",
                "You can close this window.",
            ),
        },
        Ok(None) => outcome_page(
            &app,
            StatusCode::OK,
            false,
            "approve",
            &id,
            "Approved",
            "You approved the payment. You can close this window.",
        ),
    }
}

/// `POST /checkoutnow/{id}/cancel`.
pub async fn cancel(State(app): State<App>, Path(id): Path<String>, body: Bytes) -> Response {
    app.bodies.record(&body);
    let popup = form(&body).get("popup").is_some_and(|p| p == "1");
    let cancel_url = {
        let store = app.store.lock().expect("store lock");
        match store.orders.get(&id) {
            Some(o) => o.experience.cancel_url.clone(),
            None => {
                drop(store);
                return outcome_page(
                    &app,
                    StatusCode::NOT_FOUND,
                    popup,
                    "error",
                    &id,
                    "Order not found",
                    "This checkout link is not valid.",
                );
            }
        }
    };
    if popup {
        return outcome_page(
            &app,
            StatusCode::OK,
            true,
            "cancel",
            &id,
            "Cancelled",
            "You cancelled the payment.",
        );
    }
    match cancel_url.and_then(|u| url::Url::parse(&u).ok()) {
        Some(mut url) => {
            url.query_pairs_mut().append_pair("token", &id);
            redirect(url.as_str())
        }
        None => outcome_page(
            &app,
            StatusCode::OK,
            false,
            "cancel",
            &id,
            "Cancelled",
            "You cancelled the payment. You can close this window.",
        ),
    }
}
