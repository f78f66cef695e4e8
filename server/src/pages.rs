//! HTML pages: the checkout widget, the admin console, and the sandbox demo landing page. The
//! widget and console are Trunk builds under `PAYGATE_ASSETS_DIR` (`dist/widget`,
//! `dist/console`); their `index.html` is served here with a per-response CSP nonce.

use crate::checkout;
use crate::config::Mode;
use crate::error::ApiError;
use crate::http::security;
use crate::state::AppState;
use axum::extract::{Path, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use shared::api::CreateCheckoutSession;
use tower_http::services::ServeDir;

/// Trunk writes this into the inline bootstrap script when built with a nonce; the server
/// replaces it with the response's nonce.
pub const NONCE_PLACEHOLDER: &str = "{{__TRUNK NONCE__}}";

pub fn router(state: &AppState) -> Router<AppState> {
    let assets = &state.config.assets_dir;
    Router::new()
        .route("/checkout/{id}", get(checkout_page))
        .route("/admin", get(console_page))
        .route("/", get(home))
        .route("/demo/checkout", post(demo_checkout))
        .nest_service("/assets/widget", ServeDir::new(assets.join("widget")))
        .nest_service("/assets/console", ServeDir::new(assets.join("console")))
}

async fn render_bundle(
    state: &AppState,
    bundle: &str,
    csp: impl FnOnce(&str) -> String,
) -> Response {
    let path = state.config.assets_dir.join(bundle).join("index.html");
    let Ok(html) = tokio::fs::read_to_string(&path).await else {
        tracing::error!(path = %path.display(), "front-end bundle missing: run scripts/build-frontend.sh");
        return (
            StatusCode::SERVICE_UNAVAILABLE,
            Html("<!doctype html><title>paygate</title><p>The page's assets are not built. Run <code>scripts/build-frontend.sh</code>.</p>"),
        )
            .into_response();
    };
    let nonce = security::nonce();
    let html = html.replace(NONCE_PLACEHOLDER, &nonce);
    let mut res = Html(html).into_response();
    let headers = res.headers_mut();
    if let Ok(v) = HeaderValue::from_str(&csp(&nonce)) {
        headers.insert(header::CONTENT_SECURITY_POLICY, v);
    }
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("same-origin"),
    );
    headers.insert(
        "x-content-type-options",
        HeaderValue::from_static("nosniff"),
    );
    res
}

async fn checkout_page(State(state): State<AppState>, Path(_id): Path<String>) -> Response {
    // The widget itself asks for the session and shows "not valid" / "expired"; the page is
    // the same for every id so it reveals nothing.
    let config = state.config.clone();
    render_bundle(&state, "widget", |n| security::checkout_csp(&config, n)).await
}

async fn console_page(State(state): State<AppState>) -> Response {
    render_bundle(&state, "console", security::own_page_csp).await
}

async fn home(State(state): State<AppState>) -> Response {
    if state.config.mode != Mode::Sandbox {
        return Html("<!doctype html><title>paygate</title><p>paygate is running.</p>")
            .into_response();
    }
    let name = html_escape(&state.config.merchant_name);
    let mut res = Html(format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width\">\
         <title>{name} — paygate sandbox</title></head><body><main>\
         <h1>{name}</h1><p>paygate is running in <strong>sandbox mode</strong>. Open a demo checkout:</p>\
         <form method=\"post\" action=\"/demo/checkout\"><button name=\"preset\" value=\"usd\">T-shirt, $19.99</button> \
         <button name=\"preset\" value=\"jpy\">Tea, ¥1,000</button> \
         <button name=\"preset\" value=\"kwd\">Dates, KWD 1.230</button></form>\
         <p><a href=\"/admin\">Admin console</a> · <a href=\"/openapi.json\">OpenAPI</a> · <a href=\"/healthz\">Health</a></p>\
         </main></body></html>"
    ))
    .into_response();
    res.headers_mut().insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'none'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
        ),
    );
    res
}

#[derive(serde::Deserialize)]
struct DemoForm {
    preset: String,
}

/// Sandbox only: opens a checkout session on the merchant's behalf, as a merchant back end
/// would with its secret key, and sends the browser to it.
async fn demo_checkout(
    State(state): State<AppState>,
    Form(form): Form<DemoForm>,
) -> Result<Redirect, ApiError> {
    if state.config.mode != Mode::Sandbox {
        return Err(ApiError::not_found("page"));
    }
    let (amount, currency, description) = match form.preset.as_str() {
        "usd" => ("19.99", "USD", "Organic cotton T-shirt"),
        "jpy" => ("1000", "JPY", "Sencha green tea"),
        "kwd" => ("1.230", "KWD", "Medjool dates"),
        _ => return Err(ApiError::invalid("preset", "Unknown demo preset.")),
    };
    let body = CreateCheckoutSession {
        amount: Some(amount.into()),
        currency: currency.into(),
        line_items: Vec::new(),
        description: Some(description.into()),
        customer_email: None,
        metadata: Default::default(),
        success_url: None,
        cancel_url: None,
        providers: None,
        capture_mode: Default::default(),
        expires_in: None,
    };
    let session = checkout::service::create(&state, body).await?;
    Ok(Redirect::to(&format!("/checkout/{}", session.id)))
}

fn html_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#39;")
}
