//! HTML pages: the checkout widget, the admin console, and the landing page (the demo shop in
//! sandbox mode, see `demo_shop`). The widget and console are Trunk builds under
//! `PAYGATE_ASSETS_DIR` (`dist/widget`, `dist/console`); their `index.html` is served here with
//! a per-response CSP nonce.

pub mod demo_shop;

use crate::config::Mode;
use crate::http::security;
use crate::state::AppState;
use axum::extract::{Path, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use tower_http::services::ServeDir;

/// Trunk writes this into the inline bootstrap script when built with a nonce; the server
/// replaces it with the response's nonce.
pub const NONCE_PLACEHOLDER: &str = "{{__TRUNK NONCE__}}";

pub fn router(state: &AppState) -> Router<AppState> {
    let assets = &state.config.assets_dir;
    let router = Router::new()
        .route("/checkout/{id}", get(checkout_page))
        .route("/admin", get(console_page))
        // The console routes in the browser (/admin/payments/{id}, /admin/audit, ...).
        .route("/admin/{*path}", get(console_subpage))
        .route("/", get(home))
        .route("/embed.js", get(embed_js))
        .nest_service("/assets/widget", bundle_files(assets.join("widget")))
        .nest_service("/assets/console", bundle_files(assets.join("console")));
    // Live mode has no demo shop: its routes answer 404 like any unknown route.
    if state.config.mode == Mode::Sandbox {
        router.merge(demo_shop::router())
    } else {
        router
    }
}

/// A bundle's files. scripts/build-frontend.sh writes a brotli (`.br`) and a gzip (`.gz`) copy
/// beside each file: a browser gets the smallest it accepts (brotli, which browsers offer over
/// HTTPS, then gzip), else the file itself. `Vary` tells caches between paygate and the browser
/// that the answer depends on `Accept-Encoding`, so none hands brotli to a browser that did not
/// ask for it.
fn bundle_files(
    dir: std::path::PathBuf,
) -> tower_http::set_header::SetResponseHeader<ServeDir, HeaderValue> {
    tower_http::set_header::SetResponseHeader::appending(
        ServeDir::new(dir).precompressed_br().precompressed_gzip(),
        header::VARY,
        HeaderValue::from_static("accept-encoding"),
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
    page_headers(res.headers_mut(), policy);
    res
}

/// The headers of every page paygate renders: its Content-Security-Policy, never cached
/// (pages carry per-response nonces or per-visitor state), no referrer beyond the origin, no
/// content sniffing.
pub fn page_headers(headers: &mut axum::http::HeaderMap, policy: HeaderValue) {
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

async fn home(State(state): State<AppState>) -> Response {
    if state.config.mode != Mode::Sandbox {
        return Html("<!doctype html><title>paygate</title><p>paygate is running.</p>")
            .into_response();
    }
    demo_shop::page::render(&state)
}

/// The embed loader merchants include with one script tag.
async fn embed_js() -> Response {
    static_asset(
        include_str!("assets/embed.js"),
        "text/javascript; charset=utf-8",
    )
}

pub fn static_asset(body: &'static str, content_type: &'static str) -> Response {
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

/// Text into HTML (element content and quoted attribute values).
pub fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#39;")
}
