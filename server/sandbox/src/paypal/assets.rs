//! The browser side of the emulator: the PayPal JS SDK stand-in (`/sdk/js`), the button frame
//! it renders (`/sdk/buttons.html` with its script and style sheet), and the approval page's
//! assets. Every script is a separate file (no inline script anywhere); the button frame has a
//! strict Content-Security-Policy that still lets any merchant page embed it.
//!
//! `GET /sdk/js?client-id=...&currency=...&intent=capture|authorize[&components=buttons]`
//! checks its query as PayPal's SDK server does: an unknown `client-id`, an unsupported
//! `currency` or an `intent` other than `capture`/`authorize` get HTTP 400 with a script that
//! throws `SDK Validation error: ...` (browsers then fire the script's `error` event). Other
//! parameters of the real SDK (`commit`, `vault`, `locale`, ...) are accepted and ignored.
//!
//! Funding sources: "The payment buttons component automatically shows all eligible buttons"
//! (developer.paypal.com/sdk/js/reference), so a page that disables nothing gets more than the
//! PayPal button. The stand-in shows PayPal, Pay Later (for the currencies of the Pay Later
//! countries) and "Debit or Credit Card"; Venmo never ("Venmo is not supported in the sandbox",
//! developer.paypal.com/docs/checkout/standard/customize/standalone-buttons/).
//! `disable-funding` removes sources and `enable-funding` adds eligible ones, with the values of
//! developer.paypal.com/sdk/js/configuration/; other values are refused as the SDK server
//! refuses them.
//!
//! The headers of scripts, style sheets and the frame are the common ones (`common::pages`).

use super::App;
use crate::common::pages::{asset, frame, CSS, JS};
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde_json::json;
use std::collections::HashMap;

const SDK_JS: &str = include_str!("js/paypal-sdk.js");
const BUTTONS_HTML: &str = include_str!("js/buttons.html");
const BUTTONS_JS: &str = include_str!("js/buttons.js");
const BUTTONS_CSS: &str = include_str!("js/buttons.css");
const CHECKOUT_CSS: &str = include_str!("js/checkout.css");
const CHECKOUT_POPUP_JS: &str = include_str!("js/checkout-popup.js");

/// The button frame's policy.
const BUTTONS_CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; \
     connect-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'none'; \
     frame-ancestors *";

fn ok(content_type: &'static str, body: &str) -> Response {
    asset(StatusCode::OK, content_type, body.to_string())
}

fn sdk_error(message: &str) -> Response {
    let text = format!("SDK Validation error: '{message}'");
    let literal = serde_json::Value::from(text).to_string();
    asset(
        StatusCode::BAD_REQUEST,
        JS,
        format!("/* paygate sandbox PayPal SDK stand-in */\nthrow new Error({literal});\n"),
    )
}

/// `GET /sdk/js`: the SDK stand-in, with its validated configuration written in.
pub async fn sdk_js(State(app): State<App>, Query(q): Query<HashMap<String, String>>) -> Response {
    let Some(client_id) = q.get("client-id").filter(|c| !c.is_empty()) else {
        return sdk_error("Expected client-id to be passed");
    };
    if *client_id != app.config.client_id {
        return sdk_error(&format!("Invalid query value for client-id: {client_id}"));
    }
    let currency = q.get("currency").cloned().unwrap_or_else(|| "USD".into());
    let supported = currency.bytes().all(|b| b.is_ascii_uppercase())
        && shared::Currency::from_code(&currency)
            .is_ok_and(shared::providers::paypal::is_supported);
    if !supported {
        return sdk_error(&format!("Invalid query value for currency: {currency}"));
    }
    let intent = q
        .get("intent")
        .cloned()
        .unwrap_or_else(|| "capture".into())
        .to_ascii_lowercase();
    if intent != "capture" && intent != "authorize" {
        return sdk_error(&format!("Invalid query value for intent: {intent}"));
    }
    let components: Vec<String> = q
        .get("components")
        .map(|c| c.split(',').map(|s| s.trim().to_string()).collect())
        .unwrap_or_else(|| vec!["buttons".into()]);
    if let Some(bad) = components
        .iter()
        .find(|c| !matches!(c.as_str(), "buttons" | "funding-eligibility"))
    {
        return sdk_error(&format!(
            "Invalid query value for components: {bad} (the paygate sandbox stand-in provides buttons and funding-eligibility)"
        ));
    }
    // `enable-funding` is checked, but adds nothing: every source the sandbox buyer is eligible
    // for is shown anyway (PayPal Credit and Venmo are not offered here).
    let disabled = funding_list(&q, "disable-funding");
    for (name, values) in [
        ("disable-funding", &disabled),
        ("enable-funding", &funding_list(&q, "enable-funding")),
    ] {
        if let Some(bad) = values
            .iter()
            .find(|v| !FUNDING_VALUES.contains(&v.as_str()))
        {
            return sdk_error(&format!("Invalid query value for {name}: {bad}"));
        }
    }
    let funding = funding_sources(&currency, &disabled);
    let config = json!({
        "base": app.config.public_base.trim_end_matches('/'),
        "clientId": client_id,
        "currency": currency,
        "intent": intent,
        "components": components,
        "funding": funding,
    });
    asset(
        StatusCode::OK,
        JS,
        SDK_JS.replace("\"__PAYGATE_PAYPAL_CONFIG__\"", &config.to_string()),
    )
}

/// A comma-separated query parameter's values.
fn funding_list(q: &HashMap<String, String>, name: &str) -> Vec<String> {
    q.get(name)
        .map(|v| {
            v.split(',')
                .map(|s| s.trim().to_string())
                .filter(|s| !s.is_empty())
                .collect()
        })
        .unwrap_or_default()
}

/// The values `disable-funding` and `enable-funding` take (developer.paypal.com/sdk/js/
/// configuration/).
const FUNDING_VALUES: &[&str] = &[
    "card",
    "credit",
    "paylater",
    "bancontact",
    "blik",
    "eps",
    "giropay",
    "ideal",
    "mercadopago",
    "mybank",
    "p24",
    "sepa",
    "sofort",
    "venmo",
];

/// Pay Later's currencies: "Pay Later (US, UK), Pay in 4 (AU), 4X PayPal (France), Später
/// Bezahlen (Germany)" (the same page).
const PAY_LATER_CURRENCIES: &[&str] = &["USD", "GBP", "AUD", "EUR"];

/// The buttons shown, in the SDK's order: PayPal always; Pay Later where its currency allows;
/// the card button; minus what the page disabled.
fn funding_sources(currency: &str, disabled: &[String]) -> Vec<&'static str> {
    let mut sources = vec!["paypal"];
    if PAY_LATER_CURRENCIES.contains(&currency) {
        sources.push("paylater");
    }
    sources.push("card");
    sources.retain(|s| *s == "paypal" || !disabled.iter().any(|d| d == s));
    sources
}

/// The button frame: embeddable by any page, strict otherwise.
pub async fn buttons_html() -> Response {
    frame(BUTTONS_HTML.to_string(), BUTTONS_CSP)
}

pub async fn buttons_js() -> Response {
    ok(JS, BUTTONS_JS)
}

pub async fn buttons_css() -> Response {
    ok(CSS, BUTTONS_CSS)
}

pub async fn checkout_css() -> Response {
    ok(CSS, CHECKOUT_CSS)
}

pub async fn checkout_popup_js() -> Response {
    ok(JS, CHECKOUT_POPUP_JS)
}

#[cfg(test)]
mod tests {
    #[test]
    fn button_frame_policy() {
        assert_eq!(
            super::BUTTONS_CSP,
            "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors *"
        );
    }
}
