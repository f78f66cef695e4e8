//! The browser side of the emulator: the Stripe.js stand-in (`/js/v3/`), the card frame it
//! mounts (`/js/elements-inner-card.html` with its script and style sheet), and the 3-D Secure
//! page's assets. Every script is a separate file (no inline script anywhere), and the frame
//! is served with a strict Content-Security-Policy that still lets any merchant page embed it.

use super::App;
use axum::extract::State;
use axum::http::{header, HeaderValue};
use axum::response::{IntoResponse, Response};

const STRIPE_JS: &str = include_str!("js/stripe-v3.js");
const INNER_CARD_HTML: &str = include_str!("js/elements-inner-card.html");
const INNER_CARD_JS: &str = include_str!("js/elements-inner-card.js");
const INNER_CARD_CSS: &str = include_str!("js/elements-inner-card.css");
const THREE_DS_CSS: &str = include_str!("js/3ds.css");
const THREE_DS_JS: &str = include_str!("js/3ds.js");

fn asset(content_type: &'static str, body: String) -> Response {
    let mut response = body.into_response();
    let h = response.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    // Scripts and styles are loaded cross-origin by merchant pages.
    h.insert(
        header::ACCESS_CONTROL_ALLOW_ORIGIN,
        HeaderValue::from_static("*"),
    );
    h.insert(
        "cross-origin-resource-policy",
        HeaderValue::from_static("cross-origin"),
    );
    response
}

/// `Stripe(...)`: the emulator's own base URL is written into the script (the script also
/// derives it from its own `src` when it can).
pub async fn stripe_js(State(app): State<App>) -> Response {
    let base = serde_json::Value::from(app.config.public_base.trim_end_matches('/')).to_string();
    asset(
        "application/javascript; charset=utf-8",
        STRIPE_JS.replace("\"__PAYGATE_STRIPE_BASE__\"", &base),
    )
}

pub async fn inner_card_html() -> Response {
    let mut response = asset("text/html; charset=utf-8", INNER_CARD_HTML.to_string());
    let h = response.headers_mut();
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; \
             img-src 'self' data:; font-src 'self'; base-uri 'none'; form-action 'none'; \
             frame-ancestors *",
        ),
    );
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    response
}

pub async fn inner_card_js() -> Response {
    asset(
        "application/javascript; charset=utf-8",
        INNER_CARD_JS.to_string(),
    )
}

pub async fn inner_card_css() -> Response {
    asset("text/css; charset=utf-8", INNER_CARD_CSS.to_string())
}

pub async fn three_ds_css() -> Response {
    asset("text/css; charset=utf-8", THREE_DS_CSS.to_string())
}

pub async fn three_ds_js() -> Response {
    asset(
        "application/javascript; charset=utf-8",
        THREE_DS_JS.to_string(),
    )
}
