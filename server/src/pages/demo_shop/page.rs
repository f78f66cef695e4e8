//! The shop's page (`/` in sandbox mode) and its script and style sheet. No inline script or
//! style: the page's CSP allows only its own origin.

use super::catalog::PRODUCTS;
use crate::pages::static_asset;
use crate::state::AppState;
use axum::http::{header, HeaderValue};
use axum::response::{Html, IntoResponse, Response};

pub fn render(state: &AppState) -> Response {
    let name = html_escape(&state.config.merchant_name);
    let products: String = PRODUCTS
        .iter()
        .map(|p| {
            let money = shared::Money::parse(p.price, shared::Currency::USD)
                .expect("demo prices are valid");
            format!(
                "<li data-sku=\"{sku}\" data-name=\"{t}\" data-minor=\"{m}\"><h3>{t}</h3><p>{d}</p>\
                 <button type=\"button\">Add to cart</button></li>",
                sku = p.sku,
                t = html_escape(p.name),
                m = money.minor(),
                d = html_escape(&money.display()),
            )
        })
        .collect();
    let mut res = Html(format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width\">\
         <title>{name} — paygate sandbox</title><link rel=\"stylesheet\" href=\"/demo/shop.css\"></head><body><main>\
         <h1>{name}</h1><p class=\"note\">paygate is running in <strong>sandbox mode</strong>: pay with the card \
         4242 4242 4242 4242 (any future date, any CVC) or the PayPal stand-in. No real money moves. \
         The shop marks an order paid when paygate's signed webhook says so, not when the browser does.</p>\
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

pub async fn shop_js() -> Response {
    static_asset(
        include_str!("assets/shop.js"),
        "text/javascript; charset=utf-8",
    )
}

pub async fn shop_css() -> Response {
    static_asset(include_str!("assets/shop.css"), "text/css; charset=utf-8")
}

fn html_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#39;")
}
