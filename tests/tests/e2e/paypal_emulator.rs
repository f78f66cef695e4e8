//! The PayPal emulator of sandbox mode, exercised over real HTTP as paygate's PayPal client, the
//! JS SDK stand-in and a webhook receiver use it: OAuth tokens, Orders v2 with PayPal's
//! validation and issue codes, the approval page and its funding sources, captures,
//! authorizations, refunds, `PayPal-Request-Id`, every fault knob, signed webhooks checked
//! independently of the emulator's code, verify-webhook-signature, and the SDK stand-in's popup
//! flow in Chromium. Expected values come from PayPal's REST docs and PayPal's specs, not
//! from the emulator's code.

use axum::http::{HeaderMap, StatusCode};
use paygate_sandbox::paypal::{PaypalEmulator, PaypalEmulatorConfig};
use paygate_sandbox::Clock;
use serde_json::{json, Value};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const CLIENT_ID: &str = "emulator-tests-client";
const CLIENT_SECRET: &str = "emulator-tests-secret";
const WEBHOOK_ID: &str = "8PT597110X687430LTESTS";

struct Emu {
    base: String,
    emulator: PaypalEmulator,
    clock: Clock,
    http: reqwest::Client,
    token: String,
}

struct Reply {
    status: StatusCode,
    headers: HeaderMap,
    body: Value,
}

impl Reply {
    fn issue(&self) -> &str {
        self.body["details"][0]["issue"].as_str().unwrap_or("")
    }

    fn link(&self, rel: &str) -> Option<String> {
        self.body["links"]
            .as_array()?
            .iter()
            .find(|l| l["rel"] == rel)
            .and_then(|l| l["href"].as_str())
            .map(str::to_string)
    }
}

async fn start_with(webhook_url: Option<String>, token_ttl: Duration) -> Emu {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let base = format!("http://{addr}/paypal");
    let clock = Clock::default();
    let emulator = PaypalEmulator::new(PaypalEmulatorConfig {
        client_id: CLIENT_ID.into(),
        client_secret: CLIENT_SECRET.into(),
        webhook_id: WEBHOOK_ID.into(),
        webhook_url,
        public_base: base.clone(),
        token_ttl,
        clock: clock.clone(),
    });
    let app = axum::Router::new().nest("/paypal", emulator.router());
    tokio::spawn(async move {
        axum::serve(listener, app).await.unwrap();
    });
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let mut emu = Emu {
        base,
        emulator,
        clock,
        http,
        token: String::new(),
    };
    emu.token = emu.new_token().await;
    emu
}

async fn start() -> Emu {
    start_with(None, Duration::from_secs(32_400)).await
}

fn s(v: &Value) -> &str {
    v.as_str().unwrap_or_else(|| panic!("not a string: {v}"))
}

/// An order request for `value` `currency`; with `payment_source.paypal.experience_context`
/// when `return_url` is given.
fn order_body(intent: &str, currency: &str, value: &str, return_url: Option<&str>) -> Value {
    let mut body = json!({
        "intent": intent,
        "purchase_units": [{
            "reference_id": "pay_123",
            "custom_id": "cs_abc",
            "invoice_id": format!("inv-{}", rand::random::<u64>()),
            "amount": {"currency_code": currency, "value": value}
        }]
    });
    if let Some(url) = return_url {
        body["payment_source"] = json!({"paypal": {"experience_context": {
            "brand_name": "Test Shop",
            "locale": "en-US",
            "shipping_preference": "NO_SHIPPING",
            "user_action": "PAY_NOW",
            "return_url": url,
            "cancel_url": format!("{url}?cancelled=1"),
        }}});
    }
    body
}

impl Emu {
    async fn send(&self, req: reqwest::RequestBuilder) -> Reply {
        let resp = req.send().await.expect("request");
        let status = StatusCode::from_u16(resp.status().as_u16()).unwrap();
        let mut headers = HeaderMap::new();
        for (k, v) in resp.headers() {
            headers.insert(
                axum::http::HeaderName::from_bytes(k.as_str().as_bytes()).unwrap(),
                axum::http::HeaderValue::from_bytes(v.as_bytes()).unwrap(),
            );
        }
        let text = resp.text().await.unwrap();
        let body = serde_json::from_str(&text).unwrap_or(Value::String(text));
        Reply {
            status,
            headers,
            body,
        }
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    async fn token_request(&self, id: &str, secret: &str, form: &str) -> Reply {
        self.send(
            self.http
                .post(self.url("/v1/oauth2/token"))
                .basic_auth(id, Some(secret))
                .header("content-type", "application/x-www-form-urlencoded")
                .body(form.to_string()),
        )
        .await
    }

    async fn new_token(&self) -> String {
        let r = self
            .token_request(CLIENT_ID, CLIENT_SECRET, "grant_type=client_credentials")
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        s(&r.body["access_token"]).to_string()
    }

    fn post_req(&self, path: &str, body: &Value) -> reqwest::RequestBuilder {
        self.http
            .post(self.url(path))
            .bearer_auth(&self.token)
            .json(body)
    }

    async fn post(&self, path: &str, body: &Value) -> Reply {
        self.send(self.post_req(path, body)).await
    }

    async fn post_full(&self, path: &str, body: &Value) -> Reply {
        self.send(
            self.post_req(path, body)
                .header("prefer", "return=representation"),
        )
        .await
    }

    async fn post_id(&self, path: &str, body: &Value, request_id: &str) -> Reply {
        self.send(
            self.post_req(path, body)
                .header("paypal-request-id", request_id),
        )
        .await
    }

    async fn get(&self, path: &str) -> Reply {
        self.send(self.http.get(self.url(path)).bearer_auth(&self.token))
            .await
    }

    async fn faults(&self, knobs: Value) {
        let r = self
            .send(
                self.http
                    .post(self.url("/_emulator/faults"))
                    .bearer_auth(&self.token)
                    .json(&knobs),
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    }

    async fn knob(&self, path: &str) -> Reply {
        self.send(self.http.post(self.url(path)).bearer_auth(&self.token))
            .await
    }

    async fn create(&self, body: &Value) -> Value {
        let r = self.post_full("/v2/checkout/orders", body).await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
        r.body
    }

    /// Posts the approval page's form: `funding` is one of the page's buttons.
    async fn approve(&self, order_id: &str, funding: &str) -> reqwest::Response {
        self.http
            .post(self.url(&format!("/checkoutnow/{order_id}/approve")))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(format!("funding={funding}&popup=0"))
            .send()
            .await
            .unwrap()
    }

    /// A `CAPTURE` order of `value` USD approved with `funding`.
    async fn approved(&self, value: &str, funding: &str) -> String {
        let order = self
            .create(&order_body(
                "CAPTURE",
                "USD",
                value,
                Some("https://shop.example/return"),
            ))
            .await;
        let id = s(&order["id"]).to_string();
        let r = self.approve(&id, funding).await;
        assert_eq!(r.status().as_u16(), 303);
        id
    }

    /// A completed capture of `value` USD: its id.
    async fn captured(&self, value: &str) -> String {
        let id = self.approved(value, "balance").await;
        let r = self
            .post_full(&format!("/v2/checkout/orders/{id}/capture"), &json!({}))
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
        s(&r.body["purchase_units"][0]["payments"]["captures"][0]["id"]).to_string()
    }

    async fn state(&self) -> Value {
        self.get("/_emulator/state").await.body
    }
}

fn assert_error_shape(r: &Reply, status: StatusCode, name: &str, issue: &str) {
    assert_eq!(r.status, status, "{}", r.body);
    assert_eq!(r.body["name"], name, "{}", r.body);
    assert_eq!(r.issue(), issue, "{}", r.body);
    assert!(r.body["message"].as_str().is_some_and(|m| !m.is_empty()));
    let debug = s(&r.body["debug_id"]);
    assert_eq!(debug.len(), 13, "{debug}");
    assert!(debug.bytes().all(|b| b.is_ascii_hexdigit()));
    assert_eq!(r.headers["paypal-debug-id"], debug);
    let detail = &r.body["details"][0];
    assert!(detail["description"]
        .as_str()
        .is_some_and(|d| !d.is_empty()));
    assert!(
        r.body["links"]
            .as_array()
            .is_some_and(|l| l.iter().any(|l| l["rel"] == "information_link")),
        "{}",
        r.body
    );
}

// ---- OAuth --------------------------------------------------------------------------------------

#[tokio::test]
async fn tokens_are_issued_reused_refused_and_expire() {
    let emu = start_with(None, Duration::from_secs(600)).await;
    assert_eq!(emu.emulator.tokens_issued(), 1);

    let r = emu
        .token_request(CLIENT_ID, CLIENT_SECRET, "grant_type=client_credentials")
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.body["token_type"], "Bearer");
    assert!(s(&r.body["scope"]).contains("https://uri.paypal.com/services/payments/refund"));
    assert!(s(&r.body["app_id"]).starts_with("APP-"));
    assert!(s(&r.body["nonce"]).len() > 20);
    // PayPal hands back the still-valid token, with what is left of its life.
    assert_eq!(s(&r.body["access_token"]), emu.token);
    assert!(r.body["expires_in"].as_i64().unwrap() <= 600);
    emu.clock.advance(Duration::from_secs(100));
    let r = emu
        .token_request(CLIENT_ID, CLIENT_SECRET, "grant_type=client_credentials")
        .await;
    let left = r.body["expires_in"].as_i64().unwrap();
    assert!((495..=500).contains(&left), "{left}");
    assert_eq!(emu.emulator.tokens_issued(), 3);

    // Wrong credentials, and no credentials: OAuth's error shape.
    for r in [
        emu.token_request(CLIENT_ID, "wrong", "grant_type=client_credentials")
            .await,
        emu.send(
            emu.http
                .post(emu.url("/v1/oauth2/token"))
                .body("grant_type=client_credentials"),
        )
        .await,
    ] {
        assert_eq!(r.status, StatusCode::UNAUTHORIZED);
        assert_eq!(
            r.body,
            json!({"error": "invalid_client", "error_description": "Client Authentication failed"})
        );
    }
    let r = emu.token_request(CLIENT_ID, CLIENT_SECRET, "").await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(r.body["error"], "unsupported_grant_type");
    assert_eq!(emu.emulator.tokens_issued(), 3);

    // API calls need a known token.
    let no_token = emu
        .send(
            emu.http
                .post(emu.url("/v2/checkout/orders"))
                .json(&order_body("CAPTURE", "USD", "1.00", None)),
        )
        .await;
    let bad_token = emu
        .send(
            emu.http
                .get(emu.url("/v2/checkout/orders/5O190127TN364715T"))
                .bearer_auth("A21AAnot-a-token"),
        )
        .await;
    for r in [&no_token, &bad_token] {
        assert_eq!(r.status, StatusCode::UNAUTHORIZED);
        assert_eq!(r.body["name"], "AUTHENTICATION_FAILURE");
        assert_eq!(
            r.body["message"],
            "Authentication failed due to missing authorization header, or invalid authentication credentials."
        );
        assert_eq!(s(&r.body["debug_id"]).len(), 13);
        assert!(r.body["links"][0]["href"].as_str().is_some());
    }

    // The token expires with the emulator's clock.
    let order = emu
        .create(&order_body("CAPTURE", "USD", "1.00", None))
        .await;
    emu.clock.advance(Duration::from_secs(501));
    let r = emu
        .get(&format!("/v2/checkout/orders/{}", s(&order["id"])))
        .await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    assert_eq!(r.body["name"], "AUTHENTICATION_FAILURE");
    // The v1 APIs answer in OAuth's shape.
    let r = emu
        .post("/v1/notifications/verify-webhook-signature", &json!({}))
        .await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        r.body,
        json!({"error": "invalid_token", "error_description": "Access Token not found in cache"})
    );
    let fresh = emu.new_token().await;
    assert_ne!(fresh, emu.token);
    let r = emu
        .send(
            emu.http
                .get(emu.url(&format!("/v2/checkout/orders/{}", s(&order["id"]))))
                .bearer_auth(&fresh),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK);
}

// ---- orders ---------------------------------------------------------------------------------------

#[tokio::test]
async fn orders_are_created_in_both_shapes_and_read_back() {
    let emu = start().await;

    // No payment source: CREATED with an approve link; minimal by default.
    let r = emu
        .post(
            "/v2/checkout/orders",
            &order_body("CAPTURE", "USD", "10", None),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let id = s(&r.body["id"]).to_string();
    assert_eq!(id.len(), 17);
    assert!(id
        .bytes()
        .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit()));
    assert_eq!(r.body["status"], "CREATED");
    assert!(
        r.body.get("purchase_units").is_none(),
        "minimal: {}",
        r.body
    );
    assert_eq!(
        r.link("approve").as_deref(),
        Some(format!("{}/checkoutnow?token={id}", emu.base).as_str())
    );
    assert_eq!(
        r.link("self").as_deref(),
        Some(format!("{}/v2/checkout/orders/{id}", emu.base).as_str())
    );
    assert!(r.link("capture").is_some());
    assert_eq!(r.headers["paypal-debug-id"].len(), 13, "{:?}", r.headers);

    // With payment_source.paypal: PAYER_ACTION_REQUIRED with a payer-action link.
    let r = emu
        .post(
            "/v2/checkout/orders",
            &order_body(
                "CAPTURE",
                "JPY",
                "1000",
                Some("https://shop.example/return"),
            ),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    assert_eq!(r.body["status"], "PAYER_ACTION_REQUIRED");
    assert_eq!(r.body["payment_source"], json!({"paypal": {}}));
    let payer_action = r.link("payer-action").unwrap();
    assert!(payer_action.starts_with(&format!("{}/checkoutnow?token=", emu.base)));
    assert!(r.link("approve").is_none());

    // return=representation: the full order, values in PayPal's format.
    let full = emu
        .create(&order_body("AUTHORIZE", "USD", "10.5", None))
        .await;
    assert_eq!(full["intent"], "AUTHORIZE");
    let unit = &full["purchase_units"][0];
    assert_eq!(
        unit["amount"],
        json!({"currency_code": "USD", "value": "10.50"})
    );
    assert_eq!(unit["reference_id"], "pay_123");
    assert_eq!(unit["custom_id"], "cs_abc");
    assert!(s(&unit["invoice_id"]).starts_with("inv-"));
    assert_eq!(
        unit["payee"]["merchant_id"],
        paygate_sandbox::paypal::MERCHANT_ID
    );
    assert!(s(&full["create_time"]).ends_with('Z'));
    assert!(full["links"]
        .as_array()
        .unwrap()
        .iter()
        .any(|l| l["rel"] == "authorize"));

    // GET: always the full order.
    let r = emu.get(&format!("/v2/checkout/orders/{id}")).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.body["purchase_units"][0]["amount"]["value"], "10.00");
    assert_eq!(emu.emulator.order(&id).unwrap()["status"], "CREATED");
    // A lone unit without reference_id is "default".
    let r = emu
        .post_full(
            "/v2/checkout/orders",
            &json!({"intent": "CAPTURE", "purchase_units": [{"amount": {"currency_code": "HUF", "value": "150"}}]}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    assert_eq!(r.body["purchase_units"][0]["reference_id"], "default");
    assert_eq!(r.body["purchase_units"][0]["amount"]["value"], "150");

    let r = emu.get("/v2/checkout/orders/0000000000000000X").await;
    assert_error_shape(
        &r,
        StatusCode::NOT_FOUND,
        "RESOURCE_NOT_FOUND",
        "INVALID_RESOURCE_ID",
    );
}

#[tokio::test]
async fn order_requests_are_validated_with_paypal_issue_codes() {
    let emu = start().await;
    let unit = json!({"amount": {"currency_code": "USD", "value": "10.00"}});
    let field = "/purchase_units/@reference_id=='default'/amount/value";
    let cases: Vec<(Value, StatusCode, &str, &str, Option<&str>)> = vec![
        (
            json!({"purchase_units": [unit]}),
            StatusCode::BAD_REQUEST,
            "INVALID_REQUEST",
            "MISSING_REQUIRED_PARAMETER",
            Some("/intent"),
        ),
        (
            json!({"intent": "SALE", "purchase_units": [unit]}),
            StatusCode::BAD_REQUEST,
            "INVALID_REQUEST",
            "INVALID_PARAMETER_VALUE",
            Some("/intent"),
        ),
        (
            json!({"intent": "CAPTURE"}),
            StatusCode::BAD_REQUEST,
            "INVALID_REQUEST",
            "MISSING_REQUIRED_PARAMETER",
            Some("/purchase_units"),
        ),
        (
            json!({"intent": "CAPTURE", "purchase_units": [{"amount": {"currency_code": "USD", "value": "1e3"}}]}),
            StatusCode::BAD_REQUEST,
            "INVALID_REQUEST",
            "INVALID_PARAMETER_SYNTAX",
            Some(field),
        ),
        (
            json!({"intent": "CAPTURE", "purchase_units": [{"amount": {"currency_code": "USD"}}]}),
            StatusCode::BAD_REQUEST,
            "INVALID_REQUEST",
            "MISSING_REQUIRED_PARAMETER",
            Some(field),
        ),
        // JPY takes no decimals: Orders v2 answer DECIMAL_PRECISION (its create errors do not
        // declare DECIMALS_NOT_SUPPORTED).
        (
            json!({"intent": "CAPTURE", "purchase_units": [{"amount": {"currency_code": "JPY", "value": "10.50"}}]}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "UNPROCESSABLE_ENTITY",
            "DECIMAL_PRECISION",
            Some(field),
        ),
        (
            json!({"intent": "CAPTURE", "purchase_units": [{"amount": {"currency_code": "USD", "value": "10.999"}}]}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "UNPROCESSABLE_ENTITY",
            "DECIMAL_PRECISION",
            Some(field),
        ),
        // Unsupported currencies (KWD, INR since 2021).
        (
            json!({"intent": "CAPTURE", "purchase_units": [{"amount": {"currency_code": "KWD", "value": "1.000"}}]}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "UNPROCESSABLE_ENTITY",
            "INVALID_CURRENCY_CODE",
            Some("/purchase_units/@reference_id=='default'/amount/currency_code"),
        ),
        (
            json!({"intent": "CAPTURE", "purchase_units": [{"amount": {"currency_code": "INR", "value": "100.00"}}]}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "UNPROCESSABLE_ENTITY",
            "INVALID_CURRENCY_CODE",
            None,
        ),
        (
            json!({"intent": "CAPTURE", "purchase_units": [{"amount": {"currency_code": "USD", "value": "0.00"}}]}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "UNPROCESSABLE_ENTITY",
            "CANNOT_BE_ZERO_OR_NEGATIVE",
            Some(field),
        ),
        (
            json!({"intent": "CAPTURE", "purchase_units": [{"amount": {"currency_code": "USD", "value": "10.00",
                "breakdown": {"item_total": {"currency_code": "USD", "value": "9.00"}}}}]}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "UNPROCESSABLE_ENTITY",
            "AMOUNT_MISMATCH",
            None,
        ),
        (
            json!({"intent": "CAPTURE", "purchase_units": [{"amount": {"currency_code": "USD", "value": "10.00"}}],
                   "payment_source": {"paypal": {"experience_context": {"shipping_preference": "SOMEWHERE"}}}}),
            StatusCode::BAD_REQUEST,
            "INVALID_REQUEST",
            "INVALID_PARAMETER_VALUE",
            Some("/payment_source/paypal/experience_context/shipping_preference"),
        ),
        (
            json!({"intent": "CAPTURE", "purchase_units": [{"amount": {"currency_code": "USD", "value": "10.00"}}],
                   "payment_source": {"paypal": {"experience_context": {"return_url": "not a url"}}}}),
            StatusCode::BAD_REQUEST,
            "INVALID_REQUEST",
            "INVALID_PARAMETER_SYNTAX",
            Some("/payment_source/paypal/experience_context/return_url"),
        ),
        (
            json!({"intent": "CAPTURE", "purchase_units": [{"amount": {"currency_code": "USD", "value": "10.00"}, "invoice_id": ""}]}),
            StatusCode::BAD_REQUEST,
            "INVALID_REQUEST",
            "INVALID_STRING_LENGTH",
            None,
        ),
    ];
    for (body, status, name, issue, field) in cases {
        let r = emu.post("/v2/checkout/orders", &body).await;
        assert_error_shape(&r, status, name, issue);
        if let Some(f) = field {
            assert_eq!(r.body["details"][0]["field"], f, "{}", r.body);
            assert_eq!(r.body["details"][0]["location"], "body");
        }
    }
    let r = emu
        .send(
            emu.http
                .post(emu.url("/v2/checkout/orders"))
                .bearer_auth(&emu.token)
                .header("content-type", "application/json")
                .body("{not json"),
        )
        .await;
    assert_error_shape(
        &r,
        StatusCode::BAD_REQUEST,
        "INVALID_REQUEST",
        "MALFORMED_REQUEST_JSON",
    );
    // The value that failed is echoed.
    let r = emu
        .post(
            "/v2/checkout/orders",
            &json!({"intent": "CAPTURE", "purchase_units": [{"amount": {"currency_code": "JPY", "value": "10.50"}}]}),
        )
        .await;
    assert_eq!(r.body["details"][0]["value"], "10.50");
    assert!(r.body["links"][0]["href"]
        .as_str()
        .unwrap()
        .ends_with("#error-DECIMAL_PRECISION"));
    // Nothing was created by any of them.
    assert_eq!(emu.state().await["orders"], json!({}));
}

// ---- approval, capture, decline, pending ----------------------------------------------------------

#[tokio::test]
async fn approval_page_then_capture_completes_once() {
    let emu = start().await;
    let order = emu
        .create(&order_body(
            "CAPTURE",
            "USD",
            "100.00",
            Some("https://shop.example/return"),
        ))
        .await;
    let id = s(&order["id"]).to_string();

    // Capturing before approval.
    let r = emu
        .post(&format!("/v2/checkout/orders/{id}/capture"), &json!({}))
        .await;
    assert_error_shape(
        &r,
        StatusCode::UNPROCESSABLE_ENTITY,
        "UNPROCESSABLE_ENTITY",
        "ORDER_NOT_APPROVED",
    );

    // The approval page: the test buyer, the funding sources, a strict CSP.
    let page = emu
        .http
        .get(format!("{}/checkoutnow?token={id}", emu.base))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status().as_u16(), 200);
    let csp = page.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_string();
    let html = page.text().await.unwrap();
    assert!(
        csp.contains("default-src 'none'") && csp.contains("script-src"),
        "{csp}"
    );
    assert!(!csp.contains("unsafe-inline"), "{csp}");
    assert!(
        csp.contains("https://shop.example"),
        "form-action allows the return URL: {csp}"
    );
    assert!(
        !html.contains("<script>") && !html.contains("style="),
        "{html}"
    );
    assert!(html.contains(paygate_sandbox::paypal::BUYER_EMAIL));
    assert!(html.contains("100.00 USD") && html.contains("Test Shop"));
    for button in [
        "pay-balance",
        "pay-instrument-declined",
        "pay-echeck",
        "pay-processor-declined",
        "cancel",
    ] {
        assert!(html.contains(&format!("id=\"{button}\"")), "{button}");
    }

    // Approving redirects to return_url?token=...&PayerID=...
    let r = emu.approve(&id, "balance").await;
    assert_eq!(r.status().as_u16(), 303);
    assert_eq!(
        r.headers()["location"].to_str().unwrap(),
        format!(
            "https://shop.example/return?token={id}&PayerID={}",
            paygate_sandbox::paypal::BUYER_PAYER_ID
        )
    );
    let got = emu.get(&format!("/v2/checkout/orders/{id}")).await.body;
    assert_eq!(got["status"], "APPROVED");
    assert_eq!(
        got["payer"]["payer_id"],
        paygate_sandbox::paypal::BUYER_PAYER_ID
    );
    assert_eq!(
        got["payment_source"]["paypal"]["email_address"],
        paygate_sandbox::paypal::BUYER_EMAIL
    );

    // Minimal capture answer: the captures are there (what PayPal's own sample reads).
    let r = emu
        .post(&format!("/v2/checkout/orders/{id}/capture"), &json!({}))
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    assert_eq!(r.body["status"], "COMPLETED");
    assert!(r.body["purchase_units"][0].get("amount").is_none());
    let capture = &r.body["purchase_units"][0]["payments"]["captures"][0];
    assert_eq!(capture["status"], "COMPLETED");
    assert_eq!(
        capture["amount"],
        json!({"currency_code": "USD", "value": "100.00"})
    );
    assert_eq!(capture["final_capture"], true);
    assert_eq!(capture["seller_protection"]["status"], "ELIGIBLE");
    // PayPal's sample: 100.00 gross, 3.98 fee, 96.02 net.
    assert_eq!(
        capture["seller_receivable_breakdown"]["paypal_fee"]["value"],
        "3.98"
    );
    assert_eq!(
        capture["seller_receivable_breakdown"]["net_amount"]["value"],
        "96.02"
    );
    let capture_id = s(&capture["id"]).to_string();
    let rels: Vec<&str> = capture["links"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| s(&l["rel"]))
        .collect();
    assert_eq!(rels, ["self", "refund", "up"]);
    assert_eq!(emu.emulator.captures_count(), 1);

    // Only one capture per order.
    let r = emu
        .post(&format!("/v2/checkout/orders/{id}/capture"), &json!({}))
        .await;
    assert_error_shape(
        &r,
        StatusCode::UNPROCESSABLE_ENTITY,
        "UNPROCESSABLE_ENTITY",
        "ORDER_ALREADY_CAPTURED",
    );
    assert_eq!(emu.emulator.captures_count(), 1);

    // The capture through the Payments API.
    let r = emu
        .get(&format!("/v2/payments/captures/{capture_id}"))
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(
        r.body["supplementary_data"]["related_ids"]["order_id"],
        id.as_str()
    );
    assert_eq!(
        r.body["invoice_id"],
        order["purchase_units"][0]["invoice_id"]
    );
    // An approved order cannot be approved again once completed.
    let r = emu.approve(&id, "balance").await;
    assert_eq!(r.status().as_u16(), 200);
    assert!(r.text().await.unwrap().contains("already completed"));
}

#[tokio::test]
async fn cancel_returns_to_the_cancel_url_and_changes_nothing() {
    let emu = start().await;
    let order = emu
        .create(&order_body(
            "CAPTURE",
            "EUR",
            "5.00",
            Some("https://shop.example/back"),
        ))
        .await;
    let id = s(&order["id"]);
    let r = emu
        .http
        .post(emu.url(&format!("/checkoutnow/{id}/cancel")))
        .header("content-type", "application/x-www-form-urlencoded")
        .body("popup=0")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 303);
    assert_eq!(
        r.headers()["location"].to_str().unwrap(),
        format!("https://shop.example/back?cancelled=1&token={id}")
    );
    assert_eq!(
        emu.emulator.order(id).unwrap()["status"],
        "PAYER_ACTION_REQUIRED"
    );
}

#[tokio::test]
async fn a_declined_instrument_is_restarted_with_another_source() {
    let emu = start().await;
    let id = emu.approved("25.00", "instrument_declined").await;
    let path = format!("/v2/checkout/orders/{id}/capture");
    let r = emu.post_id(&path, &json!({}), "capture-1").await;
    assert_error_shape(
        &r,
        StatusCode::UNPROCESSABLE_ENTITY,
        "UNPROCESSABLE_ENTITY",
        "INSTRUMENT_DECLINED",
    );
    assert_eq!(
        r.link("redirect").as_deref(),
        Some(format!("{}/checkoutnow?token={id}", emu.base).as_str())
    );
    assert_eq!(emu.emulator.captures_count(), 0);
    // Capturing again without a new approval declines again.
    let r = emu.post(&path, &json!({})).await;
    assert_eq!(r.issue(), "INSTRUMENT_DECLINED");

    // The buyer goes back (actions.restart()) and picks PayPal balance.
    let page = emu
        .http
        .get(format!("{}/checkoutnow?token={id}", emu.base))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("id=\"again\""), "{page}");
    assert_eq!(emu.approve(&id, "balance").await.status().as_u16(), 303);
    // The same PayPal-Request-Id: the failed attempt was not kept, so it runs now.
    let r = emu.post_id(&path, &json!({}), "capture-1").await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    assert_eq!(
        r.body["purchase_units"][0]["payments"]["captures"][0]["status"],
        "COMPLETED"
    );
    assert_eq!(emu.emulator.captures_count(), 1);
}

#[tokio::test]
async fn processor_declines_and_pending_sources() {
    let emu = start().await;
    // The processor declines: a DECLINED capture in a COMPLETED order (check the capture).
    let id = emu.approved("12.00", "processor_declined").await;
    let r = emu
        .post_full(&format!("/v2/checkout/orders/{id}/capture"), &json!({}))
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    assert_eq!(r.body["status"], "COMPLETED");
    let declined = &r.body["purchase_units"][0]["payments"]["captures"][0];
    assert_eq!(declined["status"], "DECLINED");
    assert!(declined.get("seller_receivable_breakdown").is_none());
    let r = emu
        .post(
            &format!("/v2/payments/captures/{}/refund", s(&declined["id"])),
            &json!({}),
        )
        .await;
    assert_error_shape(
        &r,
        StatusCode::UNPROCESSABLE_ENTITY,
        "UNPROCESSABLE_ENTITY",
        "REFUND_NOT_ALLOWED",
    );

    // eCheck: the capture stays PENDING with a reason, and cannot be refunded yet.
    let id = emu.approved("40.00", "echeck").await;
    let r = emu
        .post(&format!("/v2/checkout/orders/{id}/capture"), &json!({}))
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let pending = &r.body["purchase_units"][0]["payments"]["captures"][0];
    assert_eq!(pending["status"], "PENDING");
    assert_eq!(pending["status_details"]["reason"], "ECHECK");
    assert!(pending.get("seller_receivable_breakdown").is_none());
    let pending_id = s(&pending["id"]).to_string();
    let r = emu
        .post(
            &format!("/v2/payments/captures/{pending_id}/refund"),
            &json!({}),
        )
        .await;
    assert_eq!(r.issue(), "PENDING_CAPTURE");
    assert_eq!(emu.emulator.captures_count(), 0);
    // It clears (a knob stands in for the days eChecks take).
    let r = emu
        .knob(&format!("/_emulator/captures/{pending_id}/complete"))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.body["status"], "COMPLETED");
    assert_eq!(emu.emulator.captures_count(), 1);
    let r = emu
        .knob(&format!("/_emulator/captures/{pending_id}/complete"))
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
}

// ---- authorizations -------------------------------------------------------------------------------

#[tokio::test]
async fn authorize_capture_in_part_and_void_the_rest() {
    let emu = start().await;
    let order = emu
        .create(&order_body(
            "AUTHORIZE",
            "USD",
            "100.00",
            Some("https://shop.example/r"),
        ))
        .await;
    let id = s(&order["id"]).to_string();
    assert_eq!(emu.approve(&id, "balance").await.status().as_u16(), 303);
    let r = emu
        .post(&format!("/v2/checkout/orders/{id}/capture"), &json!({}))
        .await;
    assert_error_shape(
        &r,
        StatusCode::UNPROCESSABLE_ENTITY,
        "UNPROCESSABLE_ENTITY",
        "ACTION_DOES_NOT_MATCH_INTENT",
    );
    let r = emu
        .post_full(&format!("/v2/checkout/orders/{id}/authorize"), &json!({}))
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    assert_eq!(r.body["status"], "COMPLETED");
    let auth = &r.body["purchase_units"][0]["payments"]["authorizations"][0];
    assert_eq!(auth["status"], "CREATED");
    assert!(s(&auth["expiration_time"]).ends_with('Z'));
    let auth_id = s(&auth["id"]).to_string();
    let r = emu
        .post(&format!("/v2/checkout/orders/{id}/authorize"), &json!({}))
        .await;
    assert_eq!(r.issue(), "ORDER_ALREADY_AUTHORIZED");

    // A partial capture (minimal answer: id, status, links).
    let r = emu
        .post(
            &format!("/v2/payments/authorizations/{auth_id}/capture"),
            &json!({"amount": {"currency_code": "USD", "value": "30.00"}, "final_capture": false,
                    "note_to_payer": "First part", "invoice_id": "inv-part-1"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    assert_eq!(r.body["status"], "COMPLETED");
    assert!(r.body.get("amount").is_none(), "minimal: {}", r.body);
    let part = s(&r.body["id"]).to_string();
    let c = emu.get(&format!("/v2/payments/captures/{part}")).await.body;
    assert_eq!(c["amount"]["value"], "30.00");
    assert_eq!(c["final_capture"], false);
    assert_eq!(
        c["supplementary_data"]["related_ids"]["authorization_id"],
        auth_id.as_str()
    );
    let a = emu
        .get(&format!("/v2/payments/authorizations/{auth_id}"))
        .await;
    assert_eq!(a.status, StatusCode::OK);
    assert_eq!(a.body["status"], "PARTIALLY_CAPTURED");
    assert_eq!(
        a.body["supplementary_data"]["related_ids"]["order_id"],
        id.as_str()
    );

    // Currency and decimals are checked (Payments v2: DECIMALS_NOT_SUPPORTED for 0-dp).
    let r = emu
        .post(
            &format!("/v2/payments/authorizations/{auth_id}/capture"),
            &json!({"amount": {"currency_code": "EUR", "value": "1.00"}}),
        )
        .await;
    assert_eq!(r.issue(), "AUTH_CAPTURE_CURRENCY_MISMATCH");
    let r = emu
        .post(
            &format!("/v2/payments/authorizations/{auth_id}/capture"),
            &json!({"amount": {"currency_code": "USD", "value": "90.00"}}),
        )
        .await;
    assert_eq!(r.issue(), "MAX_CAPTURE_AMOUNT_EXCEEDED");

    // Void the rest: 204 by default.
    let r = emu
        .post(
            &format!("/v2/payments/authorizations/{auth_id}/void"),
            &json!({}),
        )
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
    let a = emu
        .get(&format!("/v2/payments/authorizations/{auth_id}"))
        .await;
    assert_eq!(a.body["status"], "VOIDED");
    let r = emu
        .post(
            &format!("/v2/payments/authorizations/{auth_id}/void"),
            &json!({}),
        )
        .await;
    assert_eq!(r.issue(), "PREVIOUSLY_VOIDED");
    let r = emu
        .post(
            &format!("/v2/payments/authorizations/{auth_id}/capture"),
            &json!({}),
        )
        .await;
    assert_error_shape(
        &r,
        StatusCode::UNPROCESSABLE_ENTITY,
        "UNPROCESSABLE_ENTITY",
        "AUTHORIZATION_VOIDED",
    );
    // What was captured stays captured.
    assert_eq!(emu.emulator.captures_count(), 1);

    // A JPY authorization captured in full without amount; then void is refused.
    let order = emu
        .create(&order_body(
            "AUTHORIZE",
            "JPY",
            "5000",
            Some("https://shop.example/r"),
        ))
        .await;
    let id = s(&order["id"]).to_string();
    emu.approve(&id, "balance").await;
    let r = emu
        .post_full(&format!("/v2/checkout/orders/{id}/authorize"), &json!({}))
        .await;
    let auth_id =
        s(&r.body["purchase_units"][0]["payments"]["authorizations"][0]["id"]).to_string();
    let r = emu
        .post(
            &format!("/v2/payments/authorizations/{auth_id}/capture"),
            &json!({"amount": {"currency_code": "JPY", "value": "100.5"}}),
        )
        .await;
    assert_error_shape(
        &r,
        StatusCode::UNPROCESSABLE_ENTITY,
        "UNPROCESSABLE_ENTITY",
        "DECIMALS_NOT_SUPPORTED",
    );
    let r = emu
        .post_full(
            &format!("/v2/payments/authorizations/{auth_id}/capture"),
            &json!({}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    assert_eq!(
        r.body["amount"],
        json!({"currency_code": "JPY", "value": "5000"})
    );
    assert_eq!(r.body["final_capture"], true);
    let a = emu
        .get(&format!("/v2/payments/authorizations/{auth_id}"))
        .await;
    assert_eq!(a.body["status"], "CAPTURED");
    let r = emu
        .post(
            &format!("/v2/payments/authorizations/{auth_id}/void"),
            &json!({}),
        )
        .await;
    assert_eq!(r.issue(), "PREVIOUSLY_CAPTURED");
    let r = emu
        .post(
            &format!("/v2/payments/authorizations/{auth_id}/capture"),
            &json!({}),
        )
        .await;
    assert_eq!(r.issue(), "AUTHORIZATION_ALREADY_CAPTURED");

    // Void with return=representation answers 200 with the authorization.
    let order = emu
        .create(&order_body(
            "AUTHORIZE",
            "USD",
            "7.00",
            Some("https://shop.example/r"),
        ))
        .await;
    let id = s(&order["id"]).to_string();
    emu.approve(&id, "balance").await;
    let r = emu
        .post_full(&format!("/v2/checkout/orders/{id}/authorize"), &json!({}))
        .await;
    let auth_id =
        s(&r.body["purchase_units"][0]["payments"]["authorizations"][0]["id"]).to_string();
    let r = emu
        .post_full(
            &format!("/v2/payments/authorizations/{auth_id}/void"),
            &json!({}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.body["status"], "VOIDED");
    assert_eq!(emu.emulator.captures_count(), 2);
}

// ---- refunds -----------------------------------------------------------------------------------

#[tokio::test]
async fn refunds_in_part_in_full_and_never_more() {
    let emu = start().await;
    let capture = emu.captured("100.00").await;
    let path = format!("/v2/payments/captures/{capture}/refund");

    let r = emu
        .post_full(
            &path,
            &json!({"amount": {"currency_code": "USD", "value": "30.00"}, "note_to_payer": "Sorry",
                    "invoice_id": "refund-inv-1"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    assert_eq!(r.body["status"], "COMPLETED");
    assert_eq!(r.body["amount"]["value"], "30.00");
    assert_eq!(r.body["note_to_payer"], "Sorry");
    assert_eq!(r.body["invoice_id"], "refund-inv-1");
    assert_eq!(
        r.body["seller_payable_breakdown"]["total_refunded_amount"]["value"],
        "30.00"
    );
    assert_eq!(
        r.link("up").as_deref(),
        Some(format!("{}/v2/payments/captures/{capture}", emu.base).as_str())
    );
    let first = s(&r.body["id"]).to_string();
    let c = emu
        .get(&format!("/v2/payments/captures/{capture}"))
        .await
        .body;
    assert_eq!(c["status"], "PARTIALLY_REFUNDED");

    for (body, issue) in [
        (
            json!({"amount": {"currency_code": "USD", "value": "70.01"}}),
            "REFUND_AMOUNT_EXCEEDED",
        ),
        (
            json!({"amount": {"currency_code": "EUR", "value": "1.00"}}),
            "REFUND_CAPTURE_CURRENCY_MISMATCH",
        ),
        (
            json!({"amount": {"currency_code": "USD", "value": "1.001"}}),
            "DECIMAL_PRECISION",
        ),
        (
            json!({"amount": {"currency_code": "USD", "value": "0"}}),
            "CANNOT_BE_ZERO_OR_NEGATIVE",
        ),
    ] {
        let r = emu.post(&path, &body).await;
        assert_error_shape(
            &r,
            StatusCode::UNPROCESSABLE_ENTITY,
            "UNPROCESSABLE_ENTITY",
            issue,
        );
    }
    let r = emu.post(&path, &json!({"note_to_payer": ""})).await;
    assert_error_shape(
        &r,
        StatusCode::BAD_REQUEST,
        "INVALID_REQUEST",
        "INVALID_STRING_LENGTH",
    );

    // An empty body refunds what is left (minimal answer).
    let r = emu
        .send(
            emu.http
                .post(emu.url(&path))
                .bearer_auth(&emu.token)
                .header("content-type", "application/json"),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    assert_eq!(r.body["status"], "COMPLETED");
    assert!(r.body.get("amount").is_none(), "minimal: {}", r.body);
    let second = s(&r.body["id"]).to_string();
    let refund = emu.get(&format!("/v2/payments/refunds/{second}")).await;
    assert_eq!(refund.status, StatusCode::OK);
    assert_eq!(refund.body["amount"]["value"], "70.00");
    assert_eq!(
        refund.body["seller_payable_breakdown"]["total_refunded_amount"]["value"],
        "100.00"
    );
    let c = emu
        .get(&format!("/v2/payments/captures/{capture}"))
        .await
        .body;
    assert_eq!(c["status"], "REFUNDED");
    let r = emu.post(&path, &json!({})).await;
    assert_error_shape(
        &r,
        StatusCode::UNPROCESSABLE_ENTITY,
        "UNPROCESSABLE_ENTITY",
        "CAPTURE_FULLY_REFUNDED",
    );
    assert_eq!(
        emu.get(&format!("/v2/payments/refunds/{first}"))
            .await
            .status,
        StatusCode::OK
    );
    let r = emu.get("/v2/payments/refunds/0000000000000000X").await;
    assert_error_shape(
        &r,
        StatusCode::NOT_FOUND,
        "RESOURCE_NOT_FOUND",
        "INVALID_RESOURCE_ID",
    );
}

// ---- PayPal-Request-Id ------------------------------------------------------------------------

#[tokio::test]
async fn paypal_request_id_replays_the_latest_state() {
    let emu = start().await;
    let body = order_body("CAPTURE", "USD", "9.99", Some("https://shop.example/r"));
    let first = emu.post_id("/v2/checkout/orders", &body, "pay_req_1").await;
    assert_eq!(first.status, StatusCode::CREATED);
    let again = emu.post_id("/v2/checkout/orders", &body, "pay_req_1").await;
    assert_eq!(again.status, StatusCode::OK, "a replay is 200");
    assert_eq!(again.body["id"], first.body["id"]);
    // Another body with the same id: the first request's order (documented choice).
    let other = emu
        .post_id(
            "/v2/checkout/orders",
            &order_body("CAPTURE", "USD", "1.00", None),
            "pay_req_1",
        )
        .await;
    assert_eq!(other.body["id"], first.body["id"]);
    // Another id: another order.
    let new = emu.post_id("/v2/checkout/orders", &body, "pay_req_2").await;
    assert_ne!(new.body["id"], first.body["id"]);
    assert_eq!(emu.state().await["orders"]["PAYER_ACTION_REQUIRED"], 2);

    // The latest status of the order, with the retry's Prefer.
    let id = s(&first.body["id"]).to_string();
    emu.approve(&id, "balance").await;
    let replay = emu
        .send(
            emu.post_req("/v2/checkout/orders", &body)
                .header("paypal-request-id", "pay_req_1")
                .header("prefer", "return=representation"),
        )
        .await;
    assert_eq!(replay.status, StatusCode::OK);
    assert_eq!(replay.body["status"], "APPROVED");
    assert_eq!(replay.body["purchase_units"][0]["amount"]["value"], "9.99");

    // Captures and refunds replay too: one capture, one refund.
    let path = format!("/v2/checkout/orders/{id}/capture");
    let c1 = emu.post_id(&path, &json!({}), "cap_1").await;
    let c2 = emu.post_id(&path, &json!({}), "cap_1").await;
    assert_eq!(
        (c1.status, c2.status),
        (StatusCode::CREATED, StatusCode::OK)
    );
    assert_eq!(
        c1.body["purchase_units"][0]["payments"]["captures"][0]["id"],
        c2.body["purchase_units"][0]["payments"]["captures"][0]["id"]
    );
    assert_eq!(emu.emulator.captures_count(), 1);
    let capture = s(&c1.body["purchase_units"][0]["payments"]["captures"][0]["id"]).to_string();
    let refund_path = format!("/v2/payments/captures/{capture}/refund");
    let amount = json!({"amount": {"currency_code": "USD", "value": "1.00"}});
    let r1 = emu.post_id(&refund_path, &amount, "ref_1").await;
    let r2 = emu.post_id(&refund_path, &amount, "ref_1").await;
    assert_eq!(
        (r1.status, r2.status),
        (StatusCode::CREATED, StatusCode::OK)
    );
    assert_eq!(r1.body["id"], r2.body["id"]);
    let c = emu
        .get(&format!("/v2/payments/captures/{capture}"))
        .await
        .body;
    assert_eq!(c["status"], "PARTIALLY_REFUNDED");
    let r = emu.post_id(&refund_path, &amount, "ref_2").await;
    assert_ne!(r.body["id"], r1.body["id"]);
    // Ids are kept 6 hours on orders.
    emu.clock.advance(Duration::from_secs(6 * 3600 + 1));
    let token = emu.new_token().await;
    let later = emu
        .send(
            emu.http
                .post(emu.url("/v2/checkout/orders"))
                .bearer_auth(&token)
                .header("paypal-request-id", "pay_req_2")
                .json(&body),
        )
        .await;
    assert_eq!(later.status, StatusCode::CREATED);
    assert_ne!(later.body["id"], new.body["id"]);
}

// ---- fault knobs ----------------------------------------------------------------------------------

#[tokio::test]
async fn fault_knobs_fail_reset_lose_and_expire() {
    let emu = start().await;
    let body = order_body("CAPTURE", "USD", "3.00", None);

    // Knobs need credentials.
    let r = emu
        .send(
            emu.http
                .post(emu.url("/_emulator/faults"))
                .json(&json!({"fail_next": 1, "status": 500})),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    let r = emu
        .send(
            emu.http
                .post(emu.url("/_emulator/faults"))
                .basic_auth(CLIENT_ID, Some(CLIENT_SECRET))
                .json(&json!({"fail_next": 1, "status": 502})),
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);

    // 500 with PayPal's body (no details), then normal service.
    emu.faults(json!({"fail_next": 1, "status": 500})).await;
    let r = emu.post("/v2/checkout/orders", &body).await;
    assert_eq!(r.status, StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(r.body["name"], "INTERNAL_SERVER_ERROR");
    assert_eq!(r.body["message"], "An internal server error occurred.");
    assert_eq!(s(&r.body["debug_id"]).len(), 13);
    assert!(r.body.get("details").is_none());
    assert_eq!(emu.state().await["orders"], json!({}));
    assert_eq!(
        emu.post("/v2/checkout/orders", &body).await.status,
        StatusCode::CREATED
    );

    // 429 with Retry-After; 503.
    emu.faults(json!({"fail_next": 1, "status": 429, "retry_after": 3}))
        .await;
    let r = emu.post("/v2/checkout/orders", &body).await;
    assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(r.body["name"], "RATE_LIMIT_REACHED");
    assert_eq!(r.headers["retry-after"], "3");
    emu.faults(json!({"fail_next": 1, "status": 503})).await;
    let r = emu.get("/v2/payments/captures/X").await;
    assert_eq!(r.status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(r.body["name"], "SERVICE_UNAVAILABLE");

    // Reset: the connection drops before anything runs.
    let before = emu.state().await["orders"]["CREATED"].as_u64().unwrap();
    emu.faults(json!({"reset_next": 1})).await;
    assert!(emu
        .post_req("/v2/checkout/orders", &body)
        .send()
        .await
        .is_err());
    assert_eq!(
        emu.state().await["orders"]["CREATED"].as_u64().unwrap(),
        before
    );

    // Lost response: the capture is made and its PayPal-Request-Id kept, the answer dropped;
    // the retry with the same id gets the capture, and there is exactly one.
    let id = emu.approved("50.00", "balance").await;
    let path = format!("/v2/checkout/orders/{id}/capture");
    emu.faults(json!({"lose_response_next": 1})).await;
    assert!(emu
        .post_req(&path, &json!({}))
        .header("paypal-request-id", "lost-1")
        .send()
        .await
        .is_err());
    assert_eq!(emu.emulator.captures_count(), 1);
    assert_eq!(emu.emulator.order(&id).unwrap()["status"], "COMPLETED");
    let r = emu.post_id(&path, &json!({}), "lost-1").await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(
        r.body["purchase_units"][0]["payments"]["captures"][0]["status"],
        "COMPLETED"
    );
    assert_eq!(emu.emulator.captures_count(), 1);

    // Latency.
    emu.faults(json!({"latency_ms": 300})).await;
    let t = Instant::now();
    emu.get(&format!("/v2/checkout/orders/{id}")).await;
    assert!(t.elapsed() >= Duration::from_millis(300));
    let r = emu
        .send(
            emu.http
                .delete(emu.url("/_emulator/faults"))
                .bearer_auth(&emu.token),
        )
        .await;
    assert_eq!(r.body["latency_ms"], 0);

    // Expired tokens: the next call is 401; a new token works.
    emu.faults(json!({"expire_tokens": true})).await;
    let r = emu.get(&format!("/v2/checkout/orders/{id}")).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    assert_eq!(r.body["name"], "AUTHENTICATION_FAILURE");
    let fresh = emu.new_token().await;
    assert_ne!(fresh, emu.token);
    let r = emu
        .send(
            emu.http
                .get(emu.url(&format!("/v2/checkout/orders/{id}")))
                .bearer_auth(&fresh),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK);
    // Faults count token requests too.
    let emu2 = start().await;
    emu2.faults(json!({"fail_next": 1, "status": 503})).await;
    let r = emu2
        .token_request(CLIENT_ID, CLIENT_SECRET, "grant_type=client_credentials")
        .await;
    assert_eq!(r.status, StatusCode::SERVICE_UNAVAILABLE);
}

// ---- webhooks -------------------------------------------------------------------------------------

/// The body of the event in PayPal's own SDK test (`PayPal-Python-SDK`,
/// `test/unit_tests/notifications_test.py`), whose CRC-32 is above 2^31.
const PAYPAL_SDK_EVENT_BODY: &str = r#"{"id":"WH-0G2756385H040842W-5Y612302CV158622M","create_time":"2015-05-18T15:45:13Z","resource_type":"sale","event_type":"PAYMENT.SALE.COMPLETED","summary":"Payment completed for $ 20.0 USD","resource":{"id":"4EU7004268015634R","create_time":"2015-05-18T15:44:02Z","update_time":"2015-05-18T15:44:21Z","amount":{"total":"20.00","currency":"USD"},"payment_mode":"INSTANT_TRANSFER","state":"completed","protection_eligibility":"ELIGIBLE","protection_eligibility_type":"ITEM_NOT_RECEIVED_ELIGIBLE,UNAUTHORIZED_PAYMENT_ELIGIBLE","parent_payment":"PAY-86C81811X5228590KKVNARQQ","transaction_fee":{"value":"0.88","currency":"USD"},"links":[{"href":"https://api.sandbox.paypal.com/v1/payments/sale/4EU7004268015634R","rel":"self","method":"GET"},{"href":"https://api.sandbox.paypal.com/v1/payments/sale/4EU7004268015634R/refund","rel":"refund","method":"POST"},{"href":"https://api.sandbox.paypal.com/v1/payments/payment/PAY-86C81811X5228590KKVNARQQ","rel":"parent_payment","method":"GET"}]},"links":[{"href":"https://api.sandbox.paypal.com/v1/notifications/webhooks-events/WH-0G2756385H040842W-5Y612302CV158622M","rel":"self","method":"GET"},{"href":"https://api.sandbox.paypal.com/v1/notifications/webhooks-events/WH-0G2756385H040842W-5Y612302CV158622M/resend","rel":"resend","method":"POST"}]}"#;

/// CRC-32 (IEEE 802.3, reflected, as zlib), bit by bit: independent of the emulator's crate.
fn crc32_by_hand(bytes: &[u8]) -> u32 {
    let mut crc = 0xFFFF_FFFFu32;
    for &b in bytes {
        crc ^= u32::from(b);
        for _ in 0..8 {
            let mask = (crc & 1).wrapping_neg();
            crc = (crc >> 1) ^ (0xEDB8_8320 & mask);
        }
    }
    !crc
}

#[test]
fn crc32_vectors() {
    // python3 -c 'import zlib;print(zlib.crc32(b"{\"id\":\"WH-TEST\",\"event_type\":\"PAYMENT.CAPTURE.COMPLETED\"}"))'
    let body = br#"{"id":"WH-TEST","event_type":"PAYMENT.CAPTURE.COMPLETED"}"#;
    assert_eq!(crc32_by_hand(body), 3_391_999_205);
    assert_eq!(paygate_sandbox::paypal::crc32_decimal(body), "3391999205");
    // PayPal's SDK vector: above 2^31, so signed arithmetic breaks it.
    assert_eq!(PAYPAL_SDK_EVENT_BODY.len(), 1288);
    assert_eq!(
        crc32_by_hand(PAYPAL_SDK_EVENT_BODY.as_bytes()),
        2_771_810_304
    );
    assert_eq!(
        paygate_sandbox::paypal::crc32_decimal(PAYPAL_SDK_EVENT_BODY.as_bytes()),
        "2771810304"
    );
    assert_eq!(
        paygate_sandbox::paypal::signed_message(
            "dfb3be50-fd74-11e4-8bf3-77339302725b",
            "2015-05-18T15:45:13Z",
            "4JH86294D6297924G",
            PAYPAL_SDK_EVENT_BODY.as_bytes()
        ),
        "dfb3be50-fd74-11e4-8bf3-77339302725b|2015-05-18T15:45:13Z|4JH86294D6297924G|2771810304"
    );
}

#[derive(Clone, Debug)]
struct Delivery {
    headers: HeaderMap,
    body: String,
}

/// A webhook receiver on 127.0.0.1: records every delivery; answers 500 to the first
/// `fail_first` deliveries, 200 after.
async fn receiver(fail_first: usize) -> (String, Arc<Mutex<Vec<Delivery>>>) {
    let seen: Arc<Mutex<Vec<Delivery>>> = Arc::new(Mutex::new(Vec::new()));
    let store = seen.clone();
    let app = axum::Router::new().route(
        "/webhooks/paypal",
        axum::routing::post(move |headers: HeaderMap, body: String| {
            let store = store.clone();
            async move {
                let mut seen = store.lock().unwrap();
                seen.push(Delivery { headers, body });
                if seen.len() <= fail_first {
                    StatusCode::INTERNAL_SERVER_ERROR
                } else {
                    StatusCode::OK
                }
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (format!("http://{addr}/webhooks/paypal"), seen)
}

async fn wait_for(
    seen: &Arc<Mutex<Vec<Delivery>>>,
    check: impl Fn(&[Delivery]) -> bool,
) -> Vec<Delivery> {
    for _ in 0..400 {
        {
            let s = seen.lock().unwrap();
            if check(&s) {
                return s.clone();
            }
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    panic!("deliveries never matched: {:?}", seen.lock().unwrap());
}

fn event_types(deliveries: &[Delivery]) -> Vec<String> {
    deliveries
        .iter()
        .map(|d| {
            serde_json::from_str::<Value>(&d.body).unwrap()["event_type"]
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect()
}

/// Verifies a delivery as a receiver would, with the `rsa` and `x509-cert` crates, the
/// certificate fetched from `PAYPAL-CERT-URL`, and the hand-written CRC-32.
async fn verify_independently(http: &reqwest::Client, d: &Delivery, webhook_id: &str) -> bool {
    use rsa::pkcs1v15::{Signature, VerifyingKey};
    use rsa::pkcs8::DecodePublicKey;
    use rsa::signature::Verifier;
    use rsa::RsaPublicKey;
    use x509_cert::der::{DecodePem, Encode};
    use x509_cert::Certificate;
    let h = |name: &str| d.headers[name].to_str().unwrap().to_string();
    assert_eq!(h("paypal-auth-algo"), "SHA256withRSA");
    let pem = http
        .get(h("paypal-cert-url"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let cert = Certificate::from_pem(pem.as_bytes()).unwrap();
    let spki = cert
        .tbs_certificate
        .subject_public_key_info
        .to_der()
        .unwrap();
    let key = RsaPublicKey::from_public_key_der(&spki).unwrap();
    let message = format!(
        "{}|{}|{}|{}",
        h("paypal-transmission-id"),
        h("paypal-transmission-time"),
        webhook_id,
        crc32_by_hand(d.body.as_bytes())
    );
    let sig = {
        use base64_decode::decode;
        decode(&h("paypal-transmission-sig"))
    };
    let Ok(signature) = Signature::try_from(sig.as_slice()) else {
        return false;
    };
    VerifyingKey::<sha2::Sha256>::new(key)
        .verify(message.as_bytes(), &signature)
        .is_ok()
}

/// Standard base64 decoding, by hand (the tests crate has no base64 dependency).
mod base64_decode {
    pub fn decode(s: &str) -> Vec<u8> {
        let value = |c: u8| -> u32 {
            match c {
                b'A'..=b'Z' => u32::from(c - b'A'),
                b'a'..=b'z' => u32::from(c - b'a') + 26,
                b'0'..=b'9' => u32::from(c - b'0') + 52,
                b'+' => 62,
                b'/' => 63,
                _ => panic!("not base64: {c}"),
            }
        };
        let clean: Vec<u8> = s
            .bytes()
            .filter(|b| *b != b'=' && !b.is_ascii_whitespace())
            .collect();
        let mut out = Vec::with_capacity(clean.len() * 3 / 4);
        for chunk in clean.chunks(4) {
            let mut n = 0u32;
            for (i, c) in chunk.iter().enumerate() {
                n |= value(*c) << (18 - 6 * i);
            }
            out.push((n >> 16) as u8);
            if chunk.len() > 2 {
                out.push((n >> 8) as u8);
            }
            if chunk.len() > 3 {
                out.push(n as u8);
            }
        }
        out
    }
}

#[tokio::test]
async fn webhooks_are_signed_verifiable_and_verified_online() {
    let (url, seen) = receiver(0).await;
    let emu = start_with(Some(url), Duration::from_secs(32_400)).await;
    let sender = emu.emulator.spawn_webhook_sender();

    let capture = emu.captured("20.00").await;
    let r = emu
        .post(
            &format!("/v2/payments/captures/{capture}/refund"),
            &json!({"amount": {"currency_code": "USD", "value": "5.00"}}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED);
    let mut deliveries = wait_for(&seen, |d| d.len() >= 3).await;
    // Deliveries are concurrent and unordered, as PayPal's: sort them by event type.
    deliveries.sort_by_key(|d| event_types(std::slice::from_ref(d)));
    assert_eq!(
        event_types(&deliveries),
        [
            "CHECKOUT.ORDER.APPROVED",
            "PAYMENT.CAPTURE.COMPLETED",
            "PAYMENT.CAPTURE.REFUNDED"
        ]
    );
    let http = reqwest::Client::new();
    for d in &deliveries {
        assert_eq!(d.headers["content-type"], "application/json");
        assert_eq!(
            d.headers["paypal-cert-url"].to_str().unwrap(),
            format!("{}/v1/notifications/certs/CERT-paygate-sandbox", emu.base)
        );
        assert_eq!(d.headers["paypal-transmission-id"].len(), 36);
        assert!(d.headers["paypal-transmission-time"]
            .to_str()
            .unwrap()
            .ends_with('Z'));
        assert!(verify_independently(&http, d, WEBHOOK_ID).await, "{d:?}");
        // Another webhook id, or a changed body, fails.
        assert!(!verify_independently(&http, d, "OTHERWEBHOOKID").await);
        let tampered = Delivery {
            headers: d.headers.clone(),
            body: d.body.replacen("\"USD\"", "\"EUR\"", 1),
        };
        assert_ne!(tampered.body, d.body);
        assert!(!verify_independently(&http, &tampered, WEBHOOK_ID).await);

        let event: Value = serde_json::from_str(&d.body).unwrap();
        assert!(s(&event["id"]).starts_with("WH-"));
        assert_eq!(s(&event["id"]).len(), 3 + 17 + 1 + 17);
        assert_eq!(event["event_version"], "1.0");
        assert_eq!(event["resource_version"], "2.0");
        assert!(s(&event["create_time"]).ends_with('Z'));
        assert!(!s(&event["summary"]).is_empty());
        assert!(event["links"][0]["href"]
            .as_str()
            .unwrap()
            .ends_with(&format!(
                "/v1/notifications/webhooks-events/{}",
                s(&event["id"])
            )));
    }
    let completed: Value = serde_json::from_str(&deliveries[1].body).unwrap();
    assert_eq!(completed["resource_type"], "capture");
    assert_eq!(completed["resource"]["id"], capture.as_str());
    assert_eq!(completed["summary"], "Payment completed for $ 20.00 USD");
    assert!(completed["resource"]["supplementary_data"]["related_ids"]["order_id"].is_string());
    let approved: Value = serde_json::from_str(&deliveries[0].body).unwrap();
    assert_eq!(approved["resource_type"], "checkout-order");
    assert_eq!(approved["resource"]["status"], "APPROVED");
    let refunded: Value = serde_json::from_str(&deliveries[2].body).unwrap();
    assert_eq!(refunded["resource_type"], "refund");
    assert_eq!(refunded["resource"]["amount"]["value"], "5.00");

    // The served certificate is the one the emulator names.
    let pem = http
        .get(emu.emulator.certificate_url())
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(pem, emu.emulator.certificate_pem());
    assert!(pem.starts_with("-----BEGIN CERTIFICATE-----"));

    // PayPal's online verification, given the raw event.
    let d = &deliveries[1];
    let h = |name: &str| d.headers[name].to_str().unwrap().to_string();
    let verify = |event_raw: String, webhook_id: &str| {
        format!(
            r#"{{"auth_algo":{},"cert_url":{},"transmission_id":{},"transmission_sig":{},"transmission_time":{},"webhook_id":{},"webhook_event":{}}}"#,
            json!(h("paypal-auth-algo")),
            json!(h("paypal-cert-url")),
            json!(h("paypal-transmission-id")),
            json!(h("paypal-transmission-sig")),
            json!(h("paypal-transmission-time")),
            json!(webhook_id),
            event_raw
        )
    };
    let post_verify = |body: String| {
        emu.send(
            emu.http
                .post(emu.url("/v1/notifications/verify-webhook-signature"))
                .bearer_auth(&emu.token)
                .header("content-type", "application/json")
                .body(body),
        )
    };
    let r = post_verify(verify(d.body.clone(), WEBHOOK_ID)).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.body, json!({"verification_status": "SUCCESS"}));
    let r = post_verify(verify(d.body.replacen("20.00", "2000.00", 1), WEBHOOK_ID)).await;
    assert_eq!(r.body, json!({"verification_status": "FAILURE"}));
    let r = post_verify(verify(d.body.clone(), "SOMEOTHERWEBHOOK")).await;
    assert_eq!(r.body, json!({"verification_status": "FAILURE"}));
    // Re-serialised (key order and spacing changed): not the bytes that were signed.
    let reserialised =
        serde_json::to_string_pretty(&serde_json::from_str::<Value>(&d.body).unwrap()).unwrap();
    let r = post_verify(verify(reserialised, WEBHOOK_ID)).await;
    assert_eq!(r.body, json!({"verification_status": "FAILURE"}));
    let r = post_verify(r#"{"auth_algo":"SHA256withRSA"}"#.to_string()).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(r.body["name"], "VALIDATION_ERROR");
    assert_eq!(r.body["details"][0]["field"], "cert_url");

    // The events API.
    let event_id = s(&completed["id"]);
    let r = emu
        .get(&format!("/v1/notifications/webhooks-events/{event_id}"))
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.body, completed);
    let r = emu
        .post(
            &format!("/v1/notifications/webhooks-events/{event_id}/resend"),
            &json!({}),
        )
        .await;
    assert_eq!(r.status, StatusCode::ACCEPTED);
    let all = wait_for(&seen, |d| d.len() >= 4).await;
    assert_eq!(
        all[3].body, deliveries[1].body,
        "the same event, byte for byte"
    );
    assert_ne!(
        all[3].headers["paypal-transmission-id"],
        deliveries[1].headers["paypal-transmission-id"]
    );
    assert!(verify_independently(&http, &all[3], WEBHOOK_ID).await);
    sender.abort();
}

#[tokio::test]
async fn failed_deliveries_are_retried_with_new_transmissions() {
    let (url, seen) = receiver(2).await;
    let emu = start_with(Some(url), Duration::from_secs(32_400)).await;
    let sender = emu.emulator.spawn_webhook_sender();
    let started = Instant::now();
    emu.approved("1.00", "balance").await;
    let deliveries = wait_for(&seen, |d| d.len() >= 3).await;
    // Backoff: 1 s, then 2 s.
    assert!(
        started.elapsed() >= Duration::from_secs(3),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(event_types(&deliveries), ["CHECKOUT.ORDER.APPROVED"; 3]);
    let ids: std::collections::HashSet<_> = deliveries
        .iter()
        .map(|d| d.headers["paypal-transmission-id"].clone())
        .collect();
    assert_eq!(ids.len(), 3);
    let http = reqwest::Client::new();
    for d in &deliveries {
        assert!(verify_independently(&http, d, WEBHOOK_ID).await);
    }
    let attempts = emu.emulator.delivery_attempts();
    assert_eq!(
        attempts
            .iter()
            .map(|a| (a.attempt, a.delivered))
            .collect::<Vec<_>>(),
        [(1, false), (2, false), (3, true)]
    );
    assert_eq!(attempts[0].status, Some(500));
    sender.abort();
}

#[tokio::test]
async fn approvals_are_reversed_and_captures_settled_denied_or_reversed() {
    let (url, seen) = receiver(0).await;
    let emu = start_with(Some(url), Duration::from_secs(32_400)).await;
    let sender = emu.emulator.spawn_webhook_sender();

    // Not captured within 3 hours of approval: PayPal reverses the approval.
    let id = emu.approved("8.00", "balance").await;
    emu.clock.advance(Duration::from_secs(3 * 3600 + 1));
    let token = emu.new_token().await;
    let r = emu
        .send(
            emu.http
                .post(emu.url(&format!("/v2/checkout/orders/{id}/capture")))
                .bearer_auth(&token)
                .json(&json!({})),
        )
        .await;
    assert_eq!(r.issue(), "ORDER_NOT_APPROVED");
    assert_eq!(emu.emulator.order(&id).unwrap()["status"], "VOIDED");

    let emu = Emu { token, ..emu };
    // Pending capture denied; completed capture reversed.
    let pending_order = emu.approved("9.00", "echeck").await;
    let r = emu
        .post(
            &format!("/v2/checkout/orders/{pending_order}/capture"),
            &json!({}),
        )
        .await;
    let pending = s(&r.body["purchase_units"][0]["payments"]["captures"][0]["id"]).to_string();
    let r = emu
        .knob(&format!("/_emulator/captures/{pending}/deny"))
        .await;
    assert_eq!(r.body["status"], "DECLINED");
    let capture = emu.captured("11.00").await;
    let r = emu
        .knob(&format!("/_emulator/captures/{capture}/reverse"))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.body["amount"]["value"], "11.00");
    let c = emu.emulator.capture(&capture).unwrap();
    assert_eq!(c["status"], "REFUNDED");
    // Approval reversed on request.
    let approved = emu.approved("2.00", "balance").await;
    let r = emu
        .knob(&format!("/_emulator/orders/{approved}/reverse-approval"))
        .await;
    assert_eq!(r.body["status"], "VOIDED");

    let expected = [
        "CHECKOUT.PAYMENT-APPROVAL.REVERSED",
        "PAYMENT.CAPTURE.PENDING",
        "PAYMENT.CAPTURE.DENIED",
        "PAYMENT.CAPTURE.COMPLETED",
        "PAYMENT.CAPTURE.REVERSED",
    ];
    // Deliveries are unordered: wait until every expected type arrived.
    let deliveries = wait_for(&seen, |d| {
        let types = event_types(d);
        expected.iter().all(|e| types.iter().any(|t| t == e))
            && types
                .iter()
                .filter(|t| *t == "CHECKOUT.PAYMENT-APPROVAL.REVERSED")
                .count()
                == 2
    })
    .await;
    assert!(deliveries.len() >= 9, "{}", deliveries.len());
    let events = emu.emulator.events();
    let reversed = events
        .iter()
        .find(|e| e["event_type"] == "PAYMENT.CAPTURE.REVERSED")
        .unwrap();
    assert_eq!(reversed["resource_type"], "refund");
    sender.abort();
}

#[tokio::test]
async fn authorization_events_are_sent() {
    let emu = start().await;
    let order = emu
        .create(&order_body(
            "AUTHORIZE",
            "USD",
            "4.00",
            Some("https://shop.example/r"),
        ))
        .await;
    let id = s(&order["id"]).to_string();
    emu.approve(&id, "balance").await;
    let r = emu
        .post_full(&format!("/v2/checkout/orders/{id}/authorize"), &json!({}))
        .await;
    let auth = s(&r.body["purchase_units"][0]["payments"]["authorizations"][0]["id"]).to_string();
    emu.post(
        &format!("/v2/payments/authorizations/{auth}/void"),
        &json!({}),
    )
    .await;
    let types: Vec<String> = emu
        .emulator
        .events()
        .iter()
        .map(|e| s(&e["event_type"]).to_string())
        .collect();
    assert_eq!(
        types,
        [
            "CHECKOUT.ORDER.APPROVED",
            "PAYMENT.AUTHORIZATION.CREATED",
            "PAYMENT.AUTHORIZATION.VOIDED"
        ]
    );
    let voided = &emu.emulator.events()[2];
    assert_eq!(voided["resource_type"], "authorization");
    assert_eq!(voided["resource"]["status"], "VOIDED");
}

// ---- the JS SDK stand-in ----------------------------------------------------------------------

#[tokio::test]
async fn sdk_script_is_validated_and_assets_have_strict_csp() {
    let emu = start().await;
    let get = |q: String| emu.http.get(format!("{}/sdk/js?{q}", emu.base)).send();
    let r = get(format!(
        "client-id={CLIENT_ID}&currency=EUR&intent=authorize"
    ))
    .await
    .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    assert!(r.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("application/javascript"));
    let js = r.text().await.unwrap();
    assert!(
        js.contains(&format!("\"base\":\"{}\"", emu.base)),
        "{}",
        &js[..400]
    );
    assert!(js.contains("\"currency\":\"EUR\"") && js.contains("\"intent\":\"authorize\""));
    assert!(!js.contains("__PAYGATE_PAYPAL_CONFIG__"));
    for (q, message) in [
        (
            "currency=USD".to_string(),
            "Expected client-id to be passed",
        ),
        (
            "client-id=someone-else".to_string(),
            "Invalid query value for client-id: someone-else",
        ),
        (
            format!("client-id={CLIENT_ID}&currency=KWD"),
            "Invalid query value for currency: KWD",
        ),
        (
            format!("client-id={CLIENT_ID}&intent=sale"),
            "Invalid query value for intent: sale",
        ),
    ] {
        let r = get(q).await.unwrap();
        assert_eq!(r.status().as_u16(), 400);
        let text = r.text().await.unwrap();
        assert!(
            text.contains("throw new Error(")
                && text.contains("SDK Validation error")
                && text.contains(message),
            "{text}"
        );
    }
    let r = emu
        .http
        .get(format!("{}/sdk/buttons.html", emu.base))
        .send()
        .await
        .unwrap();
    let csp = r.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_string();
    assert!(
        csp.contains("script-src 'self'")
            && csp.contains("frame-ancestors *")
            && !csp.contains("unsafe"),
        "{csp}"
    );
    let html = r.text().await.unwrap();
    assert!(html.contains("<button type=\"button\" id=\"paypal-button\""));
    assert!(!html.contains("<script>") && !html.contains("style="));
    for path in [
        "/sdk/buttons.js",
        "/sdk/buttons.css",
        "/assets/checkout.css",
        "/assets/checkout-popup.js",
        "/checkoutnow/loading",
    ] {
        let r = emu
            .http
            .get(format!("{}{path}", emu.base))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status().as_u16(), 200, "{path}");
    }
    let r = emu
        .http
        .post(format!("{}/sdk/facilitator-token", emu.base))
        .body("client-id=nope")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 401);
}

/// The merchant's page script: PayPal's standard integration, capturing on its server and
/// restarting after INSTRUMENT_DECLINED.
const MERCHANT_JS: &str = r#"
(function () {
  'use strict';
  window.cspViolations = [];
  document.addEventListener('securitypolicyviolation', function (e) {
    window.cspViolations.push(e.violatedDirective + ' ' + e.blockedURI);
  });
  var out = document.getElementById('out');
  var currency = document.body.dataset.orderCurrency;
  window.approvals = 0;
  paypal.Buttons({
    style: { color: 'blue', shape: 'pill', label: 'pay', height: 40 },
    createOrder: function () {
      return fetch('/create?currency=' + currency, { method: 'POST' }).then(function (r) { return r.json(); }).then(function (b) { return b.id; });
    },
    onApprove: async function (data, actions) {
      window.approvals += 1;
      var r = await fetch('/capture/' + data.orderID, { method: 'POST' });
      var b = await r.json();
      if (b.issue === 'INSTRUMENT_DECLINED') return actions.restart();
      var order = await actions.order.get();
      out.textContent = 'approved ' + data.orderID + ' ' + data.payerID + ' ' + b.status + ' ' + order.status + ' ' + (data.facilitatorAccessToken ? 'token' : 'no-token');
    },
    onCancel: function (data) { out.textContent = 'cancel ' + data.orderID; },
    onError: function (err) { out.textContent = 'error ' + err.message; }
  }).render('#paypal-button-container').then(function () {
    document.getElementById('ready').textContent = 'ready';
  });
})();
"#;

async fn merchant_site(emu_base: String, token: String) -> u16 {
    use axum::extract::{Path, Query};
    use axum::response::IntoResponse;
    use std::collections::HashMap;
    let origin = emu_base.trim_end_matches("/paypal").to_string();
    let page_base = emu_base.clone();
    let create_base = emu_base.clone();
    let capture_base = emu_base;
    let create_token = token.clone();
    let http = reqwest::Client::new();
    let http2 = http.clone();
    let app = axum::Router::new()
        .route(
            "/",
            axum::routing::get(move |Query(q): Query<HashMap<String, String>>| {
                let origin = origin.clone();
                let base = page_base.clone();
                async move {
                    let html = format!(
                        "<!doctype html><html><head><meta charset=\"utf-8\"><title>shop</title>\
                         <script src=\"{base}/sdk/js?client-id={CLIENT_ID}&currency={}&intent=capture\"></script></head>\
                         <body data-order-currency=\"{}\"><div id=\"paypal-button-container\"></div>\
                         <p id=\"ready\"></p><p id=\"out\"></p><script src=\"/merchant.js\"></script></body></html>",
                        q["sdk"], q["order"]
                    );
                    let csp = format!(
                        "default-src 'none'; script-src 'self' {origin}; frame-src {origin}; \
                         connect-src 'self'; style-src 'self'; img-src 'self'"
                    );
                    ([("content-type", "text/html"), ("content-security-policy", csp.as_str())], html)
                        .into_response()
                }
            }),
        )
        .route(
            "/merchant.js",
            axum::routing::get(|| async {
                ([("content-type", "application/javascript")], MERCHANT_JS).into_response()
            }),
        )
        .route(
            "/create",
            axum::routing::post(move |Query(q): Query<HashMap<String, String>>| {
                let (http, base, token) = (http.clone(), create_base.clone(), create_token.clone());
                async move {
                    let currency = q["currency"].clone();
                    let value = if currency == "JPY" { "1500" } else { "15.00" };
                    let body = order_body("CAPTURE", &currency, value, None);
                    let r: Value = http
                        .post(format!("{base}/v2/checkout/orders"))
                        .bearer_auth(&token)
                        .json(&body)
                        .send()
                        .await
                        .unwrap()
                        .json()
                        .await
                        .unwrap();
                    axum::Json(json!({"id": r["id"]}))
                }
            }),
        )
        .route(
            "/capture/{id}",
            axum::routing::post(move |Path(id): Path<String>| {
                let (http, base, token) = (http2.clone(), capture_base.clone(), token.clone());
                async move {
                    let r: Value = http
                        .post(format!("{base}/v2/checkout/orders/{id}/capture"))
                        .bearer_auth(&token)
                        .json(&json!({}))
                        .send()
                        .await
                        .unwrap()
                        .json()
                        .await
                        .unwrap();
                    axum::Json(json!({
                        "status": r["purchase_units"][0]["payments"]["captures"][0]["status"],
                        "issue": r["details"][0]["issue"],
                    }))
                }
            }),
        );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    port
}

/// Clicks the PayPal button (inside its frame) on the main window.
async fn click_button(
    browser: &paygate_tests::browser::Browser,
    main: &fantoccini::wd::WindowHandle,
) {
    use fantoccini::Locator;
    let c = &browser.client;
    c.switch_to_window(main.clone()).await.unwrap();
    c.enter_parent_frame().await.ok();
    browser.wait_text("#ready", |t| t == "ready").await;
    let frame = c
        .find(Locator::Css("#paypal-button-container iframe"))
        .await
        .unwrap();
    frame.enter_frame().await.unwrap();
    c.find(Locator::Id("paypal-button"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    c.enter_parent_frame().await.unwrap();
}

/// Clicks the PayPal button and switches to the window it opens.
async fn click_and_enter_popup(
    browser: &paygate_tests::browser::Browser,
    main: &fantoccini::wd::WindowHandle,
) {
    click_button(browser, main).await;
    let c = &browser.client;
    for _ in 0..200 {
        let windows = c.windows().await.unwrap();
        if let Some(popup) = windows.into_iter().find(|w| w != main) {
            c.switch_to_window(popup).await.unwrap();
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("the PayPal window never opened");
}

/// In the PayPal window: waits for `css`, then clicks it.
async fn popup_click(browser: &paygate_tests::browser::Browser, css: &str) {
    use fantoccini::Locator;
    for _ in 0..200 {
        if let Ok(el) = browser.client.find(Locator::Css(css)).await {
            if el.click().await.is_ok() {
                return;
            }
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("{css} never appeared in the PayPal window");
}

async fn back_to(browser: &paygate_tests::browser::Browser, main: &fantoccini::wd::WindowHandle) {
    browser.client.switch_to_window(main.clone()).await.unwrap();
}

async fn popup_gone(
    browser: &paygate_tests::browser::Browser,
    main: &fantoccini::wd::WindowHandle,
) {
    for _ in 0..200 {
        let windows = browser.client.windows().await.unwrap();
        if windows.len() == 1 && &windows[0] == main {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("the PayPal window stayed open");
}

#[tokio::test]
async fn the_sdk_stand_in_runs_the_popup_flow_in_chromium() {
    let Some(browser) = paygate_tests::browser::start().await else {
        return;
    };
    let emu = start().await;
    let port = merchant_site(emu.base.clone(), emu.token.clone()).await;
    let c = &browser.client;
    c.goto(&format!("http://localhost:{port}/?sdk=USD&order=USD"))
        .await
        .unwrap();
    let main = c.window().await.unwrap();

    // Approve with PayPal balance: onApprove captures on the server and reads the order.
    click_and_enter_popup(&browser, &main).await;
    popup_click(&browser, "#pay-balance").await;
    back_to(&browser, &main).await;
    let out = browser.wait_text("#out", |t| !t.is_empty()).await;
    let parts: Vec<&str> = out.split(' ').collect();
    assert_eq!(parts[0], "approved", "{out}");
    assert_eq!(
        &parts[2..],
        ["PAYGATEBUYER1", "COMPLETED", "COMPLETED", "token"],
        "{out}"
    );
    assert_eq!(emu.emulator.order(parts[1]).unwrap()["status"], "COMPLETED");
    popup_gone(&browser, &main).await;
    assert_eq!(emu.emulator.captures_count(), 1);

    // Declined at capture: the merchant restarts, the same window shows the approval page
    // again, the buyer picks another source, and the capture completes.
    c.execute("document.getElementById('out').textContent = ''", vec![])
        .await
        .unwrap();
    click_and_enter_popup(&browser, &main).await;
    popup_click(&browser, "#pay-instrument-declined").await;
    popup_click(&browser, "#again ~ form #pay-balance").await;
    back_to(&browser, &main).await;
    let out = browser.wait_text("#out", |t| !t.is_empty()).await;
    assert!(
        out.starts_with("approved ") && out.contains(" COMPLETED COMPLETED "),
        "{out}"
    );
    let approvals = c.execute("return window.approvals", vec![]).await.unwrap();
    assert_eq!(
        approvals,
        json!(3),
        "onApprove ran twice for the restarted order"
    );
    popup_gone(&browser, &main).await;
    assert_eq!(emu.emulator.captures_count(), 2);

    // Cancel on the approval page: onCancel with the order id, the window closes.
    c.execute("document.getElementById('out').textContent = ''", vec![])
        .await
        .unwrap();
    click_and_enter_popup(&browser, &main).await;
    popup_click(&browser, "#cancel").await;
    back_to(&browser, &main).await;
    let out = browser.wait_text("#out", |t| !t.is_empty()).await;
    assert!(out.starts_with("cancel "), "{out}");
    let cancelled = out.trim_start_matches("cancel ");
    assert_eq!(emu.emulator.order(cancelled).unwrap()["status"], "CREATED");
    popup_gone(&browser, &main).await;

    let violations = c
        .execute("return window.cspViolations", vec![])
        .await
        .unwrap();
    assert_eq!(violations, json!([]));

    // The SDK URL says USD but the order is EUR: onError, as the real SDK.
    c.goto(&format!("http://localhost:{port}/?sdk=USD&order=EUR"))
        .await
        .unwrap();
    let main = c.window().await.unwrap();
    click_button(&browser, &main).await;
    let out = browser.wait_text("#out", |t| !t.is_empty()).await;
    assert!(
        out.starts_with("error Expected currency from order api call to be USD, got EUR. Please ensure you are passing currency=EUR to the sdk url."),
        "{out}"
    );
    popup_gone(&browser, &main).await;
    let violations = c
        .execute("return window.cspViolations", vec![])
        .await
        .unwrap();
    assert_eq!(violations, json!([]));
    browser.close().await;
}
