//! The page itself: the merchant, the amount, the card, and a button that starts Stripe.js's
//! confirmation (`authenticate.js`). Plain HTML with every text escaped; the script is a file of
//! paygate's own, under the checkout's Content-Security-Policy (which admits Stripe.js and its
//! challenge frames).

use super::{authorized, awaiting, Capability};
use crate::customers::payment_methods::repo as cards;
use crate::http::extract::Query;
use crate::http::security;
use crate::pages::{escape, page_headers, static_asset};
use crate::state::AppState;
use axum::extract::{Path, State};
use axum::http::{HeaderValue, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use shared::api::PaymentStatus;

pub async fn show(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Query(capability): Query<Capability>,
) -> Response {
    let payment = match authorized(&state, &id, &capability.t).await {
        Ok(payment) => payment,
        Err(e) if e.status == StatusCode::NOT_FOUND => {
            return page(
                &state,
                StatusCode::NOT_FOUND,
                "<p id=\"pg-status\">There is no payment to confirm at this address.</p>",
            )
        }
        Err(e) => {
            tracing::error!(code = e.code, "authentication page failed");
            return page(
                &state,
                e.status,
                "<p id=\"pg-status\">Something went wrong on our side. Try again in a moment.</p>",
            );
        }
    };
    let amount = escape(&payment.money.display());
    if !awaiting(&payment) {
        let text = match payment.status {
            PaymentStatus::Succeeded | PaymentStatus::RequiresCapture => {
                "This payment is complete. Nothing more is needed."
            }
            PaymentStatus::Processing => "This payment is being processed.",
            _ => "This payment can no longer be confirmed.",
        };
        return page(
            &state,
            StatusCode::OK,
            &format!("<p class=\"total\">Amount <strong>{amount}</strong></p><p id=\"pg-status\">{text}</p>"),
        );
    }
    let card = match (&payment.customer_id, &payment.payment_method_id) {
        (Some(customer), Some(pm)) => cards::get_usable(&state.db, customer, pm)
            .await
            .ok()
            .flatten()
            .map(|c| {
                format!(
                    " with your {} card ending in {}",
                    escape(&c.brand),
                    escape(&c.last4)
                )
            })
            .unwrap_or_default(),
        _ => String::new(),
    };
    let description = payment
        .description
        .as_deref()
        .map(|d| format!("<p class=\"description\">{}</p>", escape(d)))
        .unwrap_or_default();
    let body = format!(
        "{description}<p class=\"total\">Amount <strong id=\"pg-amount\">{amount}</strong></p>\
         <p>Your bank asks you to confirm this payment{card}.</p>\
         <div id=\"pg-authenticate\" data-token=\"{token}\">\
         <button id=\"pg-confirm\" type=\"button\">Confirm payment</button>\
         <p id=\"pg-status\" role=\"status\" aria-live=\"polite\"></p></div>\
         <script src=\"/assets/authenticate.js\"></script>",
        token = escape(&capability.t),
    );
    page(&state, StatusCode::OK, &body)
}

pub async fn script() -> Response {
    static_asset(
        include_str!("authenticate.js"),
        "text/javascript; charset=utf-8",
    )
}

fn page(state: &AppState, status: StatusCode, main: &str) -> Response {
    let merchant = escape(&state.config.merchant_name);
    let mut res = (
        status,
        Html(format!(
            "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">\
             <meta name=\"viewport\" content=\"width=device-width\"><title>Confirm your payment to {merchant}</title>\
             <link rel=\"stylesheet\" href=\"/assets/pay.css\"></head><body><main>\
             <h1>{merchant}</h1>{main}</main></body></html>"
        )),
    )
        .into_response();
    let policy = security::checkout_csp(&state.config, &security::nonce());
    match HeaderValue::from_str(&policy) {
        Ok(policy) => page_headers(res.headers_mut(), policy),
        Err(_) => {
            return crate::error::ApiError::internal("invalid Content-Security-Policy")
                .into_response()
        }
    }
    res
}
