//! A merchant's web site on **another site** than paygate: served on `http://localhost:<port>`
//! while paygate runs on `127.0.0.1`. Its page includes paygate's `/embed.js` with one script
//! tag and mounts the widget with `Paygate.mount('#pay', {session, theme, onSuccess, onCancel,
//! onError})`; every callback is recorded in `window.__events` (`{kind, detail}`) for the test
//! to read. The page has a strict CSP of its own, as a careful merchant's would.
//!
//! `GET /shop?session=cs_...&options=<JSON>`: `options` may hold `theme`,
//! `"on_cancel": false` (mount without an `onCancel` callback) and `"second": "cs_..."` (a
//! second widget in `#pay2`, whose callbacks record `success2`, `error2`, `cancel2`). `GET /cart` is where a
//! `cancel_url` can lead.

use axum::extract::{Query, State};
use axum::http::header;
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use std::collections::HashMap;
use std::sync::{Arc, OnceLock};
use tokio::sync::oneshot;

#[derive(Clone, Default)]
struct Site {
    /// paygate's public URL (where embed.js is).
    paygate: Arc<OnceLock<String>>,
    /// Other origins the merchant lets into frames (the provider pages a redirect shows).
    frames: Arc<OnceLock<String>>,
}

pub struct MerchantSite {
    /// `http://localhost:<port>`: a different site from paygate's `127.0.0.1`.
    pub origin: String,
    site: Site,
    stop: Option<oneshot::Sender<()>>,
}

const MERCHANT_JS: &str = r#"(function () {
  'use strict';
  var params = new URLSearchParams(location.search);
  var options = JSON.parse(params.get('options') || '{}');
  var events = [];
  Object.defineProperty(window, '__events', { value: events });
  function record(kind) {
    return function (detail) {
      events.push({ kind: kind, detail: detail });
      document.getElementById('shop-status').textContent = 'Paygate said: ' + kind;
    };
  }
  var mount = {
    session: params.get('session'),
    theme: options.theme,
    onSuccess: record('success'),
    onError: record('error')
  };
  if (options.on_cancel !== false) mount.onCancel = record('cancel');
  window.__widget = Paygate.mount('#pay', mount);
  if (options.second) {
    // A second checkout on the same page, with callbacks of its own.
    window.__widget2 = Paygate.mount('#pay2', {
      session: options.second,
      onSuccess: record('success2'),
      onError: record('error2'),
      onCancel: record('cancel2')
    });
  }
})();
"#;

impl MerchantSite {
    pub async fn start() -> MerchantSite {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("merchant listener");
        let port = listener.local_addr().expect("address").port();
        let site = Site::default();
        let router = Router::new()
            .route("/shop", get(shop))
            .route("/cart", get(cart))
            .route(
                "/merchant.js",
                get(|| async {
                    (
                        [(header::CONTENT_TYPE, "text/javascript; charset=utf-8")],
                        MERCHANT_JS,
                    )
                }),
            )
            .with_state(site.clone());
        let (stop, stopped) = oneshot::channel::<()>();
        tokio::spawn(async move {
            let _ = axum::serve(listener, router)
                .with_graceful_shutdown(async {
                    let _ = stopped.await;
                })
                .await;
        });
        MerchantSite {
            origin: format!("http://localhost:{port}"),
            site,
            stop: Some(stop),
        }
    }

    /// Names paygate's public URL (known once paygate runs) and the provider origins the
    /// merchant's page lets into frames besides paygate.
    pub fn connect(&self, paygate_url: &str, provider_frames: &[String]) {
        let _ = self
            .site
            .paygate
            .set(paygate_url.trim_end_matches('/').to_owned());
        let _ = self.site.frames.set(provider_frames.join(" "));
    }

    /// The shop's checkout page for `session`, mounted with `options` (see the module docs).
    pub fn page(&self, session: &str, options: &serde_json::Value) -> String {
        let mut url = url::Url::parse(&format!("{}/shop", self.origin)).expect("url");
        url.query_pairs_mut()
            .append_pair("session", session)
            .append_pair("options", &options.to_string());
        url.to_string()
    }

    pub fn cart_url(&self) -> String {
        format!("{}/cart", self.origin)
    }

    pub fn stop(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

async fn shop(State(site): State<Site>, Query(_q): Query<HashMap<String, String>>) -> Response {
    let paygate = site.paygate.get().cloned().unwrap_or_default();
    let frames = site.frames.get().cloned().unwrap_or_default();
    let html = format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Tea shop — checkout</title></head>\
         <body><h1>Tea shop</h1><p id=\"shop-status\" role=\"status\"></p><div id=\"pay\"></div><div id=\"pay2\"></div>\
         <script src=\"{paygate}/embed.js\"></script><script src=\"/merchant.js\"></script></body></html>"
    );
    (
        [(
            header::CONTENT_SECURITY_POLICY,
            format!(
                "default-src 'none'; script-src 'self' {paygate}; frame-src {paygate} {frames}; \
                 style-src 'self'; img-src 'self'; base-uri 'none'; form-action 'self'"
            ),
        )],
        Html(html),
    )
        .into_response()
}

async fn cart() -> Html<&'static str> {
    Html("<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Tea shop — cart</title></head><body><h1 id=\"cart\">Your cart</h1></body></html>")
}
