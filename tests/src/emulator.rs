//! The harness shared by the tests of the sandbox's provider emulators
//! (`tests/tests/e2e/stripe_emulator/` and `tests/tests/e2e/paypal_emulator/`): an emulator
//! served on 127.0.0.1:0 ([`serve_emulator`]), an answer read whole ([`Reply`]), a webhook
//! receiver, a merchant's page for the browser tests, and polling ([`eventually`]). What is one
//! provider's own (Stripe's keys and form bodies, PayPal's OAuth tokens, order bodies and issue
//! codes) lives in that provider's test module.

use axum::http::{HeaderMap, StatusCode};
use paygate_sandbox::Clock;
use serde_json::Value;
use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use tokio::net::TcpListener;

pub use crate::app::eventually;

/// An emulator's answer, read whole: the body as JSON, or as a JSON string when it is not JSON.
pub struct Reply {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Value,
}

impl Reply {
    /// Sends `req` (panics when no answer comes) and reads the answer.
    pub async fn send(req: reqwest::RequestBuilder) -> Reply {
        let resp = req.send().await.expect("request");
        let status = resp.status();
        let headers = resp.headers().clone();
        let text = resp.text().await.unwrap();
        let body = serde_json::from_str(&text).unwrap_or(Value::String(text));
        Reply {
            status,
            headers,
            body,
        }
    }

    /// Stripe's error object (`{"error": {...}}`).
    pub fn error(&self) -> &Value {
        &self.body["error"]
    }

    /// The issue of PayPal's first error detail (`details[0].issue`), or `""`.
    pub fn issue(&self) -> &str {
        self.body["details"][0]["issue"].as_str().unwrap_or("")
    }

    /// The `href` of the link `rel` in the body's `links` (PayPal's HATEOAS links).
    pub fn link(&self, rel: &str) -> Option<String> {
        self.body["links"]
            .as_array()?
            .iter()
            .find(|l| l["rel"] == rel)
            .and_then(|l| l["href"].as_str())
            .map(str::to_string)
    }
}

/// A JSON string's text (panics on anything else).
pub fn s(v: &Value) -> &str {
    v.as_str().unwrap_or_else(|| panic!("not a string: {v}"))
}

/// An emulator served on a free port of 127.0.0.1, with what the tests reach it by.
pub struct Served<E> {
    /// The emulator's public URL, `http://127.0.0.1:<port><prefix>`.
    pub base: String,
    pub emulator: E,
    /// The emulator's clock, for tests that move its time on.
    pub clock: Clock,
    /// A client that does not follow redirects (the tests read them).
    pub http: reqwest::Client,
}

/// Serves an emulator under `prefix` (`"/stripe"`) on a free port of 127.0.0.1: `make(base,
/// clock)` builds it with its public URL and a fresh clock, `router(&emulator)` gives its routes.
pub async fn serve_emulator<E>(
    prefix: &str,
    make: impl FnOnce(String, Clock) -> E,
    router: impl FnOnce(&E) -> axum::Router,
) -> Served<E> {
    let (listener, addr) = bind().await;
    let base = format!("http://{addr}{prefix}");
    let clock = Clock::default();
    let emulator = make(base.clone(), clock.clone());
    serve(
        listener,
        axum::Router::new().nest(prefix, router(&emulator)),
    );
    Served {
        base,
        emulator,
        clock,
        http: reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap(),
    }
}

/// A listener on a free port of 127.0.0.1, and its address.
async fn bind() -> (TcpListener, SocketAddr) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    (listener, addr)
}

/// Serves `app` on `listener` in the background.
fn serve(listener: TcpListener, app: axum::Router) {
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
}

/// Serves `app` on a free port of 127.0.0.1 in the background; its address.
pub async fn serve_local(app: axum::Router) -> SocketAddr {
    let (listener, addr) = bind().await;
    serve(listener, app);
    addr
}

/// A webhook receiver at `http://127.0.0.1:<port><path>`: keeps `record(headers, body)` of every
/// delivery and answers 500 to the first `fail_first` deliveries, 200 after. Returns its URL and
/// what it kept.
pub async fn webhook_receiver<T: Send + 'static>(
    path: &str,
    fail_first: usize,
    record: fn(HeaderMap, String) -> T,
) -> (String, Arc<Mutex<Vec<T>>>) {
    let seen: Arc<Mutex<Vec<T>>> = Arc::new(Mutex::new(Vec::new()));
    let store = seen.clone();
    let app = axum::Router::new().route(
        path,
        axum::routing::post(move |headers: HeaderMap, body: String| {
            let store = store.clone();
            async move {
                let mut seen = store.lock().unwrap();
                seen.push(record(headers, body));
                if seen.len() <= fail_first {
                    StatusCode::INTERNAL_SERVER_ERROR
                } else {
                    StatusCode::OK
                }
            }
        }),
    );
    let addr = serve_local(app).await;
    (format!("http://{addr}{path}"), seen)
}

/// A merchant's page for the browser tests, as a shop on another origin serves it: `GET /` answers
/// `page(query)` as HTML under the Content-Security-Policy `csp`, `GET /merchant.js` answers
/// `script`. Add routes and layers, then serve it with [`serve_local`].
pub fn merchant_page<F>(csp: String, script: &'static str, page: F) -> axum::Router
where
    F: Fn(HashMap<String, String>) -> String + Clone + Send + Sync + 'static,
{
    use axum::extract::Query;
    use axum::response::IntoResponse;
    axum::Router::new()
        .route(
            "/",
            axum::routing::get(move |Query(q): Query<HashMap<String, String>>| {
                let html = page(q);
                let csp = csp.clone();
                async move {
                    (
                        [
                            ("content-type", "text/html"),
                            ("content-security-policy", csp.as_str()),
                        ],
                        html,
                    )
                        .into_response()
                }
            }),
        )
        .route(
            "/merchant.js",
            axum::routing::get(move || async move {
                ([("content-type", "application/javascript")], script).into_response()
            }),
        )
}
