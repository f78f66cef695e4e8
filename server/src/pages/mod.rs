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
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
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
        // The console routes in the browser (/admin/payments/{id}, /admin/audit, ...).
        .route("/admin/{*path}", get(console_subpage))
        .route("/", get(home))
        .route("/demo/checkout", post(demo_checkout))
        .route("/demo/shop.js", get(shop_js))
        .route("/demo/shop.css", get(shop_css))
        .route("/embed.js", get(embed_js))
        // scripts/build-frontend.sh writes a .gz beside each file; browsers get that one.
        .nest_service(
            "/assets/widget",
            ServeDir::new(assets.join("widget")).precompressed_gzip(),
        )
        .nest_service(
            "/assets/console",
            ServeDir::new(assets.join("console")).precompressed_gzip(),
        )
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
    // Never serve a page without its policy (a configuration value that cannot be a header
    // would otherwise drop frame-ancestors and every other protection).
    let Ok(policy) = HeaderValue::from_str(&csp(&nonce)) else {
        tracing::error!("the page's Content-Security-Policy is not a valid header value");
        return crate::error::ApiError::internal("invalid Content-Security-Policy").into_response();
    };
    let mut res = Html(html).into_response();
    let headers = res.headers_mut();
    headers.insert(header::CONTENT_SECURITY_POLICY, policy);
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

async fn console_subpage(
    State(state): State<AppState>,
    axum::extract::Path(path): axum::extract::Path<String>,
) -> Response {
    if path == "api" || path.starts_with("api/") {
        // An unknown admin API route answers like any unknown route, not with the page.
        return crate::error::ApiError::new(StatusCode::NOT_FOUND, "not_found", "No such route.")
            .into_response();
    }
    console_page(State(state)).await
}

/// The demo shop's catalogue: prices are the server's, never the browser's.
const DEMO_PRODUCTS: &[(&str, &str, &str)] = &[
    ("tee", "Organic cotton T-shirt", "19.99"),
    ("mug", "Stoneware mug", "8.10"),
    ("tea", "Sencha green tea, 100 g", "0.29"),
];

async fn home(State(state): State<AppState>) -> Response {
    if state.config.mode != Mode::Sandbox {
        return Html("<!doctype html><title>paygate</title><p>paygate is running.</p>")
            .into_response();
    }
    let name = html_escape(&state.config.merchant_name);
    let products: String = DEMO_PRODUCTS
        .iter()
        .map(|(sku, title, price)| {
            let money =
                shared::Money::parse(price, shared::Currency::USD).expect("demo prices are valid");
            format!(
                "<li data-sku=\"{sku}\" data-name=\"{t}\" data-minor=\"{m}\"><h3>{t}</h3><p>{d}</p>\
                 <button type=\"button\">Add to cart</button></li>",
                t = html_escape(title),
                m = money.minor(),
                d = html_escape(&money.display()),
            )
        })
        .collect();
    let mut res = Html(format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width\">\
         <title>{name} — paygate sandbox</title><link rel=\"stylesheet\" href=\"/demo/shop.css\"></head><body><main>\
         <h1>{name}</h1><p class=\"note\">paygate is running in <strong>sandbox mode</strong>: pay with the card \
         4242 4242 4242 4242 (any future date, any CVC) or the PayPal stand-in. No real money moves.</p>\
         <ul class=\"products\">{products}</ul>\
         <section class=\"cart\" aria-labelledby=\"cart-title\"><h2 id=\"cart-title\">Cart</h2><ul id=\"cart-lines\"></ul>\
         <p id=\"cart-total\"></p><button id=\"pay\" type=\"button\" disabled>Pay</button>\
         <p id=\"shop-status\" role=\"status\" aria-live=\"polite\"></p></section>\
         <div id=\"checkout\"></div>\
         <p class=\"note\"><a href=\"/admin\">Admin console</a> · <a href=\"/openapi.json\">OpenAPI</a> · <a href=\"/healthz\">Health</a></p>\
         </main><script src=\"/embed.js\"></script><script src=\"/demo/shop.js\"></script></body></html>"
    ))
    .into_response();
    res.headers_mut().insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; frame-src 'self'; \
             img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
        ),
    );
    res
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct DemoCart {
    items: Vec<DemoItem>,
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct DemoItem {
    sku: String,
    quantity: i64,
}

/// Sandbox only: opens a checkout session for the cart on the merchant's behalf, as a merchant
/// back end would with its secret key. The browser sends SKUs and quantities, never prices.
async fn demo_checkout(
    State(state): State<AppState>,
    crate::http::extract::Json(cart): crate::http::extract::Json<DemoCart>,
) -> Result<axum::Json<serde_json::Value>, ApiError> {
    if state.config.mode != Mode::Sandbox {
        return Err(ApiError::not_found("page"));
    }
    let mut line_items = Vec::new();
    for item in &cart.items {
        let (_, title, price) = DEMO_PRODUCTS
            .iter()
            .find(|(sku, _, _)| *sku == item.sku)
            .ok_or_else(|| {
                ApiError::invalid("items", format!("Unknown product {:?}.", item.sku))
            })?;
        line_items.push(shared::api::LineItemRequest {
            name: (*title).to_string(),
            unit_amount: (*price).to_string(),
            quantity: item.quantity,
        });
    }
    let body = CreateCheckoutSession {
        amount: None,
        currency: "USD".into(),
        line_items,
        description: Some(format!("{} demo order", state.config.merchant_name)),
        customer_email: None,
        metadata: Default::default(),
        success_url: None,
        cancel_url: None,
        providers: None,
        capture_mode: Default::default(),
        expires_in: Some(3600),
    };
    let session = checkout::service::create(&state, body).await?;
    Ok(axum::Json(serde_json::json!({ "id": session.id })))
}

/// The embed loader merchants include with one script tag.
async fn embed_js() -> Response {
    static_asset(
        include_str!("assets/embed.js"),
        "text/javascript; charset=utf-8",
    )
}

async fn shop_js() -> Response {
    static_asset(
        include_str!("assets/shop.js"),
        "text/javascript; charset=utf-8",
    )
}

async fn shop_css() -> Response {
    static_asset(include_str!("assets/shop.css"), "text/css; charset=utf-8")
}

fn static_asset(body: &'static str, content_type: &'static str) -> Response {
    let mut res = body.into_response();
    let h = res.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=300"),
    );
    h.insert(
        "x-content-type-options",
        HeaderValue::from_static("nosniff"),
    );
    // Merchant pages on other origins load the loader.
    h.insert(
        header::ACCESS_CONTROL_ALLOW_ORIGIN,
        HeaderValue::from_static("*"),
    );
    res
}

fn html_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#39;")
}
