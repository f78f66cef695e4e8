//! Browser-facing security headers: the Content-Security-Policy of pages and CORS for the
//! widget API, both limited to what is in use (DESIGN.md §6).

use crate::config::{origin_of, Config};
use axum::http::{HeaderValue, Method};
use shared::api::ProviderName;
use tower_http::cors::{AllowOrigin, CorsLayer};

/// Origins of the provider scripts and frames in use.
fn provider_origins(config: &Config) -> Vec<String> {
    let mut out = Vec::new();
    for p in &config.providers {
        let origin = match p {
            ProviderName::Stripe => origin_of(&config.stripe.js_url),
            ProviderName::Paypal => origin_of(&config.paypal.sdk_url),
        };
        if !out.contains(&origin) {
            out.push(origin);
        }
    }
    out
}

/// CSP of the checkout page: our own scripts (wasm needs `'wasm-unsafe-eval'`, never
/// `'unsafe-eval'`), the bootstrap script by nonce, the provider origins, and framing only by
/// the merchant's registered origins.
pub fn checkout_csp(config: &Config, nonce: &str) -> String {
    let providers = provider_origins(config).join(" ");
    let ancestors = config.allowed_origins.join(" ");
    format!(
        "default-src 'none'; script-src 'self' 'wasm-unsafe-eval' 'nonce-{nonce}' {providers}; \
         style-src 'self'; img-src 'self' data:; font-src 'self'; connect-src 'self' {providers}; \
         frame-src {providers}; base-uri 'none'; form-action 'self'; \
         frame-ancestors 'self' {ancestors}"
    )
}

/// CSP of paygate's own pages (console, demo): nothing from elsewhere, no framing.
pub fn own_page_csp(nonce: &str) -> String {
    format!(
        "default-src 'none'; script-src 'self' 'wasm-unsafe-eval' 'nonce-{nonce}'; style-src 'self'; \
         img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
    )
}

/// CORS of the widget API: only the merchant's registered origins (and our own).
pub fn widget_cors(config: &Config) -> CorsLayer {
    let mut origins: Vec<HeaderValue> = config
        .allowed_origins
        .iter()
        .filter_map(|o| HeaderValue::from_str(o).ok())
        .collect();
    if let Ok(own) = HeaderValue::from_str(&origin_of(&config.public_url)) {
        if !origins.contains(&own) {
            origins.push(own);
        }
    }
    CorsLayer::new()
        .allow_origin(AllowOrigin::list(origins))
        .allow_methods([Method::GET, Method::POST])
        .allow_headers([axum::http::header::CONTENT_TYPE])
}

/// A fresh random nonce per response.
pub fn nonce() -> String {
    use base64::Engine;
    use rand::RngCore;
    let mut bytes = [0u8; 18];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    base64::engine::general_purpose::STANDARD.encode(bytes)
}
