//! Browser-facing security headers: the Content-Security-Policy of pages and CORS for the
//! widget API, both limited to what is in use.

use crate::config::{origin_of, Config};
use axum::http::{HeaderValue, Method};
use shared::api::ProviderName;
use tower_http::cors::{AllowOrigin, CorsLayer};

/// What the providers in use need in each CSP directive.
#[derive(Debug, Default, PartialEq, Eq)]
struct ProviderSources {
    script: Vec<String>,
    connect: Vec<String>,
    frame: Vec<String>,
    img: Vec<String>,
    /// The PayPal SDK inserts styles carrying the page's nonce (`data-csp-nonce`).
    style_nonce: bool,
}

impl ProviderSources {
    fn add(list: &mut Vec<String>, sources: &[&str]) {
        for s in sources {
            if !list.iter().any(|x| x == s) {
                list.push(s.to_string());
            }
        }
    }
}

/// The real providers' documented origins (Stripe: docs.stripe.com/security/guide#content-
/// security-policy; PayPal: developer.paypal.com/sdk/js/best-practices), or, for a stand-in
/// such as the sandbox emulator, the origin of its script.
fn provider_sources(config: &Config) -> ProviderSources {
    let mut out = ProviderSources::default();
    for p in &config.providers {
        match p {
            ProviderName::Stripe => {
                let origin = origin_of(&config.stripe.js_url);
                if origin == "https://js.stripe.com" {
                    let js = ["https://js.stripe.com", "https://*.js.stripe.com"];
                    ProviderSources::add(&mut out.script, &js);
                    ProviderSources::add(&mut out.connect, &["https://api.stripe.com"]);
                    ProviderSources::add(&mut out.frame, &js);
                    ProviderSources::add(&mut out.frame, &["https://hooks.stripe.com"]);
                } else {
                    for list in [&mut out.script, &mut out.connect, &mut out.frame] {
                        ProviderSources::add(list, &[origin.as_str()]);
                    }
                }
            }
            ProviderName::Paypal => {
                let origin = origin_of(&config.paypal.sdk_url);
                out.style_nonce = true;
                if origin == "https://www.paypal.com" || origin == "https://www.sandbox.paypal.com"
                {
                    let all = ["https://*.paypal.com", "https://*.paypalobjects.com"];
                    for list in [
                        &mut out.script,
                        &mut out.connect,
                        &mut out.frame,
                        &mut out.img,
                    ] {
                        ProviderSources::add(list, &all);
                    }
                } else {
                    for list in [
                        &mut out.script,
                        &mut out.connect,
                        &mut out.frame,
                        &mut out.img,
                    ] {
                        ProviderSources::add(list, &[origin.as_str()]);
                    }
                }
            }
        }
    }
    out
}

/// CSP of the checkout page: our own scripts (wasm needs `'wasm-unsafe-eval'`, never
/// `'unsafe-eval'`), the bootstrap script by nonce, what the providers in use need, and framing
/// only by the merchant's registered origins (and paygate itself in sandbox mode, where its demo
/// shop embeds the widget).
pub fn checkout_csp(config: &Config, nonce: &str) -> String {
    let p = provider_sources(config);
    let join = |list: &[String]| list.iter().map(|s| format!(" {s}")).collect::<String>();
    let style_nonce = if p.style_nonce {
        format!(" 'nonce-{nonce}'")
    } else {
        String::new()
    };
    let own = if config.mode == crate::config::Mode::Sandbox {
        " 'self'"
    } else {
        ""
    };
    let ancestors = config.allowed_origins.join(" ");
    format!(
        "default-src 'none'; script-src 'self' 'wasm-unsafe-eval' 'nonce-{nonce}'{script}; \
         style-src 'self'{style_nonce}; img-src 'self' data:{img}; font-src 'self'; \
         connect-src 'self'{connect}; frame-src{frame}; base-uri 'none'; form-action 'self'; \
         object-src 'none'; frame-ancestors{own} {ancestors}",
        script = join(&p.script),
        img = join(&p.img),
        connect = join(&p.connect),
        frame = if p.frame.is_empty() {
            " 'none'".to_string()
        } else {
            join(&p.frame)
        },
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

/// The widget API changes state on POSTs the browser may send cross-site without a preflight
/// (no body, no custom header); CORS would only hide the answer. So a request whose `Origin` is
/// neither paygate's nor a registered merchant's is refused before it does anything. (Requests
/// without `Origin` are not from a browser page: servers and tools, which hold no more power
/// than the session id already gives.)
pub async fn widget_origin_guard(
    axum::extract::State(state): axum::extract::State<crate::state::AppState>,
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    use axum::response::IntoResponse;
    if let Some(origin) = request.headers().get(axum::http::header::ORIGIN) {
        let origin = origin.to_str().unwrap_or_default();
        let allowed = origin == origin_of(&state.config.public_url)
            || state.config.allowed_origins.iter().any(|o| o == origin);
        if !allowed {
            return crate::error::ApiError::new(
                axum::http::StatusCode::FORBIDDEN,
                "origin_not_allowed",
                "This site may not use this checkout.",
            )
            .into_response();
        }
    }
    next.run(request).await
}

/// A fresh random nonce per response.
pub fn nonce() -> String {
    use base64::Engine;
    use rand::RngCore;
    let mut bytes = [0u8; 18];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    fn config(vars: &[(&str, &str)]) -> Config {
        let mut map: BTreeMap<String, String> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        map.entry("PAYGATE_ALLOWED_ORIGINS".into())
            .or_insert_with(|| "https://shop.example".into());
        Config::from_vars(&map).expect("config")
    }

    fn directive<'a>(csp: &'a str, name: &str) -> &'a str {
        csp.split(';')
            .map(str::trim)
            .find(|d| d.starts_with(name))
            .unwrap_or_else(|| panic!("{name} missing from {csp}"))
    }

    #[test]
    fn real_providers_get_their_documented_origins_and_nothing_broader() {
        let live = config(&[
            ("PAYGATE_MODE", "live"),
            ("PAYGATE_PUBLIC_URL", "https://pay.shop.example"),
            ("PAYGATE_DATA_KEY", &crate::config::random_data_key()),
            ("DATABASE_URL", "sqlite://x.db"),
            ("STRIPE_SECRET_KEY", "sk_live_x"),
            ("STRIPE_PUBLISHABLE_KEY", "pk_live_x"),
            ("STRIPE_WEBHOOK_SECRET", "whsec_x"),
            ("PAYPAL_CLIENT_ID", "id"),
            ("PAYPAL_CLIENT_SECRET", "secret"),
            ("PAYPAL_WEBHOOK_ID", "WH"),
        ]);
        let csp = checkout_csp(&live, "N0NCE");
        assert!(directive(&csp, "script-src").contains("'wasm-unsafe-eval'"));
        assert!(
            !csp.contains("'unsafe-eval'") && !csp.contains("'unsafe-inline'"),
            "{csp}"
        );
        assert!(directive(&csp, "connect-src").contains("https://api.stripe.com"));
        let frame = directive(&csp, "frame-src");
        assert!(
            frame.contains("https://hooks.stripe.com") && frame.contains("https://*.paypal.com")
        );
        assert!(directive(&csp, "style-src").contains("'nonce-N0NCE'"));
        assert!(directive(&csp, "img-src").contains("https://*.paypalobjects.com"));
        assert_eq!(
            directive(&csp, "frame-ancestors"),
            "frame-ancestors https://shop.example"
        );
        assert!(!csp.contains(" * ") && !csp.contains("https:;"), "{csp}");
    }

    #[test]
    #[cfg(feature = "sandbox")]
    fn the_sandbox_allows_its_stand_ins_and_its_own_demo_shop() {
        let sandbox = config(&[]);
        let csp = checkout_csp(&sandbox, "N");
        let sandbox_origin = origin_of(&sandbox.stripe.js_url);
        assert!(
            directive(&csp, "frame-src").contains(&sandbox_origin),
            "{csp}"
        );
        assert!(
            directive(&csp, "frame-ancestors").contains("'self'"),
            "{csp}"
        );
        assert!(!csp.contains("stripe.com"), "{csp}");
    }
}
