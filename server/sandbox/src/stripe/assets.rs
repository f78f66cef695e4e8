//! The browser side of the emulator: the Stripe.js stand-in (`/js/v3/`), the card frame it
//! mounts (`/js/elements-inner-card.html` with its script and style sheet), and the 3-D Secure
//! page's assets. Every script is a separate file (no inline script anywhere), and the frame
//! is served with a strict Content-Security-Policy that still lets any merchant page embed it
//! (headers: `common::pages`).

use super::App;
use crate::common::pages::{asset, frame, CSS, JS};
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;

const STRIPE_JS: &str = include_str!("js/stripe-v3.js");
const INNER_CARD_HTML: &str = include_str!("js/elements-inner-card.html");
const INNER_CARD_JS: &str = include_str!("js/elements-inner-card.js");
const INNER_CARD_CSS: &str = include_str!("js/elements-inner-card.css");
const THREE_DS_CSS: &str = include_str!("js/3ds.css");
const THREE_DS_JS: &str = include_str!("js/3ds.js");

/// The card frame's policy (it loads its own fonts, unlike PayPal's button frame).
const INNER_CARD_CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; \
     connect-src 'self'; img-src 'self' data:; font-src 'self'; base-uri 'none'; \
     form-action 'none'; frame-ancestors *";

fn ok(content_type: &'static str, body: &str) -> Response {
    asset(StatusCode::OK, content_type, body.to_string())
}

/// `Stripe(...)`: the emulator's own base URL is written into the script (the script also
/// derives it from its own `src` when it can).
pub async fn stripe_js(State(app): State<App>) -> Response {
    let base = serde_json::Value::from(app.config.public_base.trim_end_matches('/')).to_string();
    ok(JS, &STRIPE_JS.replace("\"__PAYGATE_STRIPE_BASE__\"", &base))
}

pub async fn inner_card_html() -> Response {
    frame(INNER_CARD_HTML.to_string(), INNER_CARD_CSP)
}

pub async fn inner_card_js() -> Response {
    ok(JS, INNER_CARD_JS)
}

pub async fn inner_card_css() -> Response {
    ok(CSS, INNER_CARD_CSS)
}

pub async fn three_ds_css() -> Response {
    ok(CSS, THREE_DS_CSS)
}

pub async fn three_ds_js() -> Response {
    ok(JS, THREE_DS_JS)
}

#[cfg(test)]
mod tests {
    #[test]
    fn card_frame_policy() {
        assert_eq!(
            super::INNER_CARD_CSP,
            "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; font-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors *"
        );
    }
}
