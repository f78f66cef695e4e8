//! The link's public page, `/pay/{id}`: what is sold (the merchant, the description, the line
//! items and the price, or a field for the amount within the link's bounds) and a button that
//! opens a fresh checkout session and sends the customer to the widget (`/checkout/{cs}`).
//!
//! Showing the page changes nothing; only pressing the button (a form `POST`) opens a session.
//! Link previews, crawlers and browsers' prefetching fetch pages with `GET`, and on a link with
//! a limit each open session holds one of its places: a session per `GET` would let a chat
//! app's preview take a place from a customer. The page is plain HTML with no script, under a
//! policy that allows only its own style sheet and its own form target.

use super::record::{LinkRecord, Price};
use super::{repo, service};
use crate::error::ApiError;
use crate::pages::{escape, static_asset};
use crate::state::AppState;
use axum::extract::rejection::FormRejection;
use axum::extract::{Path, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::Form;
use serde::Deserialize;

const CSP: &str = "default-src 'none'; style-src 'self'; img-src 'self' data:; \
    form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

#[derive(Debug, Deserialize)]
pub struct Visit {
    /// The customer's amount, for a link with a custom amount.
    #[serde(default)]
    amount: Option<String>,
}

pub async fn show(State(state): State<AppState>, Path(id): Path<String>) -> Response {
    match repo::get(&state.db, &id).await {
        Ok(Some(link)) => {
            let completed = match repo::completed_count(&state.db, &link.id).await {
                Ok(n) => n,
                Err(e) => return failure(&state, ApiError::from(e)),
            };
            match link.unavailable(state.clock.now_ms(), completed) {
                Some(reason) => message_page(
                    &state,
                    StatusCode::GONE,
                    service::unavailable_message(reason),
                ),
                None => link_page(&state, &link, StatusCode::OK, None, None),
            }
        }
        Ok(None) => not_found(&state),
        Err(e) => failure(&state, ApiError::from(e)),
    }
}

/// The button: a new session for this customer, then the widget.
pub async fn visit(
    State(state): State<AppState>,
    Path(id): Path<String>,
    form: Result<Form<Visit>, FormRejection>,
) -> Response {
    let chosen = match &form {
        Ok(Form(visit)) => visit.amount.clone(),
        Err(_) => None,
    };
    if form.is_err() {
        return message_page(
            &state,
            StatusCode::BAD_REQUEST,
            "The form could not be read. Go back and try again.",
        );
    }
    match service::open_session(&state, &id, chosen.as_deref()).await {
        Ok(session) => {
            let mut res = Redirect::to(&format!("/checkout/{}", session.id)).into_response();
            res.headers_mut()
                .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
            res
        }
        Err(e) if e.status == StatusCode::NOT_FOUND => not_found(&state),
        // The customer's amount was refused: the form again, with the reason and what was typed.
        Err(e) if e.status == StatusCode::BAD_REQUEST => match repo::get(&state.db, &id).await {
            Ok(Some(link)) => link_page(
                &state,
                &link,
                StatusCode::BAD_REQUEST,
                Some(&e.detail),
                chosen.as_deref(),
            ),
            _ => failure(&state, e),
        },
        Err(e) if e.status == StatusCode::GONE || e.status == StatusCode::CONFLICT => {
            let mut res = message_page(&state, e.status, &e.detail);
            if let Some(seconds) = e.retry_after {
                res.headers_mut()
                    .insert(header::RETRY_AFTER, HeaderValue::from(seconds));
            }
            res
        }
        Err(e) => failure(&state, e),
    }
}

pub async fn style() -> Response {
    static_asset(include_str!("pay.css"), "text/css; charset=utf-8")
}

fn link_page(
    state: &AppState,
    link: &LinkRecord,
    status: StatusCode,
    error: Option<&str>,
    typed: Option<&str>,
) -> Response {
    let mut body = String::new();
    if let Some(description) = &link.description {
        body += &format!("<p class=\"description\">{}</p>", escape(description));
    }
    if !link.line_items.is_empty() {
        body += "<table class=\"items\"><tbody>";
        for item in &link.line_items {
            body += &format!(
                "<tr><td>{}</td><td class=\"qty\">× {}</td><td class=\"num\">{}</td></tr>",
                escape(&item.name),
                item.quantity,
                escape(&item.total.money().display())
            );
        }
        body += "</tbody></table>";
    }
    let error_html = error
        .map(|e| {
            format!(
                "<p id=\"pay-error\" class=\"error\" role=\"alert\">{}</p>",
                escape(e)
            )
        })
        .unwrap_or_default();
    let field = match &link.price {
        Price::Fixed(money) => format!(
            "<p class=\"total\">Total <strong id=\"pay-total\">{}</strong></p>",
            escape(&money.display())
        ),
        Price::Custom {
            minimum,
            maximum,
            preset,
        } => {
            let value = typed
                .map(str::to_string)
                .or_else(|| preset.map(|p| p.to_decimal_string()))
                .unwrap_or_default();
            format!(
                "<label for=\"pay-amount\">Amount ({code})</label>\
                 <input id=\"pay-amount\" name=\"amount\" inputmode=\"decimal\" autocomplete=\"off\" required \
                 value=\"{value}\" aria-describedby=\"pay-bounds\"{invalid}>\
                 <p id=\"pay-bounds\" class=\"hint\">From {min} to {max}.</p>",
                code = link.currency.code(),
                value = escape(&value),
                invalid = if error.is_some() { " aria-invalid=\"true\"" } else { "" },
                min = escape(&minimum.display()),
                max = escape(&maximum.display()),
            )
        }
    };
    let form = format!(
        "<form method=\"post\" action=\"/pay/{id}\">{field}{error_html}\
         <button id=\"pay-continue\" type=\"submit\">Continue to payment</button></form>",
        id = link.id,
    );
    page(state, status, &format!("{body}{form}"))
}

fn message_page(state: &AppState, status: StatusCode, message: &str) -> Response {
    page(
        state,
        status,
        &format!(
            "<p id=\"pay-message\" class=\"message\">{}</p>",
            escape(message)
        ),
    )
}

fn not_found(state: &AppState) -> Response {
    message_page(
        state,
        StatusCode::NOT_FOUND,
        "There is no payment link at this address.",
    )
}

fn failure(state: &AppState, e: ApiError) -> Response {
    if e.status.is_server_error() {
        tracing::error!(code = e.code, "payment link page failed");
    }
    message_page(
        state,
        e.status,
        "Something went wrong on our side. Try again in a moment.",
    )
}

fn page(state: &AppState, status: StatusCode, main: &str) -> Response {
    let merchant = escape(&state.config.merchant_name);
    let mut res = (
        status,
        Html(format!(
            "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">\
             <meta name=\"viewport\" content=\"width=device-width\"><title>Pay {merchant}</title>\
             <link rel=\"stylesheet\" href=\"/assets/pay.css\"></head><body><main>\
             <h1>{merchant}</h1>{main}</main></body></html>"
        )),
    )
        .into_response();
    crate::pages::page_headers(res.headers_mut(), HeaderValue::from_static(CSP));
    res
}
