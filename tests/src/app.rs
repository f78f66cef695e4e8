//! The real application on 127.0.0.1:0 against a test database (zero-to-production's
//! `spawn_app`), plus an HTTP client that speaks the merchant API.

use crate::db::TestDb;
use crate::evidence::{self, Received};
use paygate::clock::Clock;
use paygate::config::{Config, SANDBOX_DEV_API_KEY};
use paygate::providers::{PaymentProvider, Providers};
use paygate::startup::{Application, Options, Running};
use paygate::state::AppState;
use paygate_sandbox::paypal::PaypalEmulator;
use paygate_sandbox::stripe::StripeEmulator;
use reqwest::{Method, Response};
use serde_json::Value;
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

pub struct AppOptions {
    pub providers: Vec<Arc<dyn PaymentProvider>>,
    /// Extra configuration variables (`PAYGATE_WIDGET_RATE_LIMIT`, ...).
    pub vars: Vec<(&'static str, String)>,
    pub inbox_worker: bool,
    pub clock: Clock,
    /// Serve paygate's public address through [`evidence::record_requests`], keeping every
    /// request it receives (`TestApp::received`).
    pub record_requests: bool,
}

impl Default for AppOptions {
    fn default() -> Self {
        AppOptions {
            providers: Vec::new(),
            vars: Vec::new(),
            inbox_worker: true,
            clock: Clock::default(),
            record_requests: false,
        }
    }
}

pub struct TestApp {
    pub url: String,
    pub key: String,
    pub client: reqwest::Client,
    pub state: AppState,
    /// The Stripe emulator (sandbox mode), for assertions on what the provider saw.
    pub stripe: Option<StripeEmulator>,
    /// The PayPal emulator (sandbox mode).
    pub paypal: Option<PaypalEmulator>,
    /// Every request paygate received, with `AppOptions::record_requests`.
    pub received: Option<Received>,
    running: Option<Running>,
    front: Option<Front>,
}

/// paygate's router served on the public address through the recording middleware.
struct Front {
    stop: tokio::sync::oneshot::Sender<()>,
    server: tokio::task::JoinHandle<()>,
}

/// The workspace's built front-end (`dist/`), for tests that load pages.
pub fn assets_dir() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../dist")
}

/// The variables of a complete live-mode configuration that reaches no provider: Stripe only,
/// with live-shaped keys and its API on a closed local port; a data key made now (live mode
/// refuses any written in the source); plain HTTP allowed on this machine only.
pub fn live_mode_vars() -> Vec<(&'static str, String)> {
    use rand::Rng;
    let key: [u8; 32] = rand::thread_rng().gen();
    vec![
        ("PAYGATE_MODE", "live".into()),
        ("PAYGATE_PROVIDERS", "stripe".into()),
        ("STRIPE_SECRET_KEY", "sk_live_unused".into()),
        ("STRIPE_PUBLISHABLE_KEY", "pk_live_unused".into()),
        ("STRIPE_WEBHOOK_SECRET", "whsec_unused".into()),
        ("STRIPE_API_BASE", "http://127.0.0.1:9".into()),
        (
            "PAYGATE_DATA_KEY",
            key.iter().map(|b| format!("{b:02x}")).collect(),
        ),
        ("PAYGATE_ALLOW_HTTP_LOOPBACK", "true".into()),
    ]
}

pub async fn spawn_app(db: &TestDb, options: AppOptions) -> TestApp {
    let mut vars = BTreeMap::new();
    vars.insert("DATABASE_URL".to_string(), db.url.clone());
    vars.insert("PAYGATE_LISTEN".to_string(), "127.0.0.1:0".to_string());
    vars.insert(
        "PAYGATE_SANDBOX_LISTEN".to_string(),
        "127.0.0.1:0".to_string(),
    );
    vars.insert(
        "PAYGATE_ASSETS_DIR".to_string(),
        assets_dir().display().to_string(),
    );
    vars.insert("PAYGATE_LOG".to_string(), "warn".to_string());
    // High limits unless a test sets its own: tests fire many requests from one address.
    vars.insert("PAYGATE_MERCHANT_RATE_LIMIT".to_string(), "0".to_string());
    vars.insert("PAYGATE_WIDGET_RATE_LIMIT".to_string(), "0".to_string());
    for (k, v) in options.vars {
        vars.insert(k.to_string(), v);
    }
    // Recording: paygate's public URL is a listener of ours, serving its router behind the
    // recorder (its own listener, on another port, is then reached by nobody).
    let front_listener = if options.record_requests {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("front listener");
        let addr = listener.local_addr().expect("address");
        vars.insert("PAYGATE_PUBLIC_URL".to_string(), format!("http://{addr}"));
        Some(listener)
    } else {
        None
    };
    let config = Config::from_vars(&vars).expect("test configuration");
    // With test providers the core is tested without network; without, the configuration's
    // own providers are used (in sandbox mode: the Stripe emulator over real HTTP).
    let providers = if options.providers.is_empty() {
        None
    } else {
        Some(
            options
                .providers
                .into_iter()
                .fold(Providers::new(), |acc, p| acc.with(p)),
        )
    };
    let app = Application::build(
        config,
        Options {
            providers,
            inbox_worker: options.inbox_worker,
            inbox_poll: Duration::from_millis(50),
            clock: options.clock,
        },
    )
    .await
    .expect("application starts");
    let state = app.state().clone();
    let stripe = app.stripe_emulator();
    let paypal = app.paypal_emulator();
    let running = app.spawn();
    let mut url = format!("http://{}", running.addr);
    let mut received = None;
    let mut front = None;
    if let Some(listener) = front_listener {
        let recorded = Received::default();
        let router = paygate::app::app(state.clone()).layer(axum::middleware::from_fn_with_state(
            recorded.clone(),
            evidence::record_requests,
        ));
        url = format!("http://{}", listener.local_addr().expect("address"));
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let server = tokio::spawn(async move {
            let _ = axum::serve(
                listener,
                router.into_make_service_with_connect_info::<std::net::SocketAddr>(),
            )
            .with_graceful_shutdown(async {
                let _ = stopped.await;
            })
            .await;
        });
        received = Some(recorded);
        front = Some(Front { stop, server });
    }
    TestApp {
        url,
        key: SANDBOX_DEV_API_KEY.to_string(),
        client: reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("client"),
        state,
        stripe,
        paypal,
        received,
        running: Some(running),
        front,
    }
}

impl TestApp {
    /// Graceful stop: in-flight requests finish, workers end.
    pub async fn stop(mut self) {
        if let Some(front) = self.front.take() {
            let _ = front.stop.send(());
            let _ = front.server.await;
        }
        if let Some(r) = self.running.take() {
            r.stop().await;
        }
    }

    pub fn request(&self, method: Method, path: &str) -> reqwest::RequestBuilder {
        self.client
            .request(method, format!("{}{path}", self.url))
            .bearer_auth(&self.key)
    }

    pub async fn get(&self, path: &str) -> Response {
        self.request(Method::GET, path)
            .send()
            .await
            .expect("request")
    }

    pub async fn post(&self, path: &str, body: &Value) -> Response {
        self.request(Method::POST, path)
            .json(body)
            .send()
            .await
            .expect("request")
    }

    pub async fn post_idem(&self, path: &str, body: &Value, key: &str) -> Response {
        self.request(Method::POST, path)
            .header("Idempotency-Key", key)
            .json(body)
            .send()
            .await
            .expect("request")
    }

    /// Creates a checkout session and returns its JSON (panics unless 201).
    pub async fn create_session(&self, body: &Value) -> Value {
        let res = self.post("/v1/checkout/sessions", body).await;
        let status = res.status();
        let json: Value = res.json().await.expect("json");
        assert_eq!(status, 201, "{json}");
        json
    }

    /// A widget API call, as the checkout page in the browser makes it (no key).
    pub async fn widget_post(&self, session: &str, tail: &str) -> Response {
        self.client
            .post(format!(
                "{}/checkout/api/sessions/{session}/{tail}",
                self.url
            ))
            .send()
            .await
            .unwrap()
    }

    /// What Stripe.js does in the browser: confirm the PaymentIntent at the Stripe emulator
    /// with the publishable key and the client secret (paygate is not involved).
    pub async fn stripe_js_confirm(&self, client_secret: &str, payment_method: &str) -> Value {
        let intent = client_secret.split("_secret_").next().unwrap();
        // A SetupIntent's secret (a session that only saves a card) is confirmed as
        // `stripe.confirmSetup` does.
        let kind = if intent.starts_with("seti_") {
            "setup_intents"
        } else {
            "payment_intents"
        };
        self.client
            .post(format!(
                "{}/v1/{kind}/{intent}/confirm",
                self.state.config.stripe.api_base
            ))
            .bearer_auth(self.state.config.stripe.publishable_key.as_deref().unwrap())
            .form(&[
                ("client_secret", client_secret),
                ("payment_method", payment_method),
            ])
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    }

    /// A card checkout through the widget against the Stripe emulator, paid with `pm_card_visa`
    /// and reported back by the browser; the session's and the payment's ids.
    pub async fn card_checkout(&self, session: &Value) -> (String, String) {
        let s = self.create_session(session).await;
        let sid = s["id"].as_str().unwrap().to_string();
        let payment = self.pay_by_card(&sid).await;
        (sid, payment)
    }

    /// Pays the open session `sid` as the widget does (a PaymentIntent confirmed with
    /// `pm_card_visa`, reported back by the browser); the session is then complete. Returns the
    /// payment's id.
    pub async fn pay_by_card(&self, sid: &str) -> String {
        let intent = json_with_status(self.widget_post(sid, "stripe/intent").await, 200).await;
        self.stripe_js_confirm(intent["client_secret"].as_str().unwrap(), "pm_card_visa")
            .await;
        let done = json_with_status(self.widget_post(sid, "stripe/complete").await, 200).await;
        assert_eq!(done["session"], "complete", "{done}");
        intent["payment"].as_str().unwrap().to_string()
    }

    /// A Stripe payment of 12.00 USD through the merchant API (a PaymentIntent at the provider);
    /// its id and provider reference.
    pub async fn new_stripe_payment(&self) -> (String, String) {
        let p = json_with_status(
            self.post(
                "/v1/payments",
                &serde_json::json!({ "provider": "stripe", "amount": "12.00", "currency": "USD" }),
            )
            .await,
            201,
        )
        .await;
        (
            p["id"].as_str().unwrap().to_string(),
            p["provider_reference"].as_str().unwrap().to_string(),
        )
    }

    /// A request to the Stripe emulator's API with the secret key (what Stripe's own dashboard
    /// or another integration would do, without paygate).
    pub fn stripe_api(&self, method: Method, path: &str) -> reqwest::RequestBuilder {
        self.client
            .request(
                method,
                format!("{}{path}", self.state.config.stripe.api_base),
            )
            .bearer_auth(paygate::config::EMULATOR_STRIPE_SECRET_KEY)
    }

    /// `GET /checkout/api/sessions/{session}`: what the widget shows.
    pub async fn widget_session(&self, session: &str) -> Value {
        let res = self
            .client
            .get(format!("{}/checkout/api/sessions/{session}", self.url))
            .send()
            .await
            .unwrap();
        json_with_status(res, 200).await
    }

    /// A customer (`POST /v1/customers`, mirrored at Stripe), with `card` attached as its
    /// default, and so saved for it, when given; the customer's id.
    pub async fn create_customer(&self, card: Option<&str>) -> String {
        let mut body = serde_json::json!({ "email": "ada@example.com" });
        if let Some(card) = card {
            body["payment_method"] = serde_json::json!(card);
        }
        let c = json_with_status(self.post("/v1/customers", &body).await, 201).await;
        c["id"].as_str().expect("a customer id").to_string()
    }

    /// The Stripe customer mirroring paygate's `customer`.
    pub async fn stripe_customer_of(&self, customer: &str) -> String {
        let c = json_with_status(self.get(&format!("/v1/customers/{customer}")).await, 200).await;
        c["stripe_customer"]
            .as_str()
            .expect("mirrored at Stripe")
            .to_string()
    }

    /// `GET /metrics` (no token set), as text.
    pub async fn metrics_text(&self) -> String {
        self.client
            .get(format!("{}/metrics", self.url))
            .send()
            .await
            .expect("request")
            .text()
            .await
            .expect("body")
    }

    pub async fn count(&self, sql: &str) -> i64 {
        sqlx::query_scalar::<_, i64>(sql)
            .fetch_one(&self.state.db.pool)
            .await
            .expect("count query")
    }
}

/// Reads a JSON body, asserting the status first (with the body in the message).
pub async fn json_with_status(res: Response, expected: u16) -> Value {
    let status = res.status().as_u16();
    let ct = res
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    let text = res.text().await.expect("body");
    assert_eq!(status, expected, "unexpected status; body: {text}");
    if status >= 400 {
        assert_eq!(
            ct, "application/problem+json",
            "errors use the problem envelope: {text}"
        );
    }
    serde_json::from_str(&text).unwrap_or_else(|_| panic!("not JSON: {text}"))
}

/// Waits until `check` is true, polling; panics with `what` after `timeout`.
pub async fn eventually<F, Fut>(what: &str, timeout: Duration, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = tokio::time::Instant::now() + timeout;
    loop {
        if check().await {
            return;
        }
        if tokio::time::Instant::now() > deadline {
            panic!("timed out waiting for: {what}");
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}
