//! The PayPal emulator of sandbox mode, exercised over real HTTP as paygate's PayPal client, the
//! JS SDK stand-in and a webhook receiver use it: OAuth tokens, Orders v2 with PayPal's
//! validation and issue codes, the approval page and its funding sources, captures,
//! authorizations, refunds, `PayPal-Request-Id`, every fault knob, signed webhooks checked
//! independently of the emulator's code, verify-webhook-signature, and the SDK stand-in's popup
//! flow in Chromium. Expected values come from PayPal's REST docs and PayPal's specs, not
//! from the emulator's code.

mod approval;
mod authorizations;
mod faults;
mod idempotency;
mod oauth;
mod orders;
mod refunds;
mod sdk;
mod spec_responses;
mod webhooks;

use axum::http::StatusCode;
use paygate_sandbox::paypal::{PaypalEmulator, PaypalEmulatorConfig};
use paygate_tests::emulator::{s, serve_emulator, Reply, Served};
use serde_json::{json, Value};
use std::ops::Deref;
use std::time::Duration;

const CLIENT_ID: &str = "emulator-tests-client";
const CLIENT_SECRET: &str = "emulator-tests-secret";
const WEBHOOK_ID: &str = "8PT597110X687430LTESTS";

/// The PayPal emulator served on 127.0.0.1 (`emu.base`, `emu.emulator`, `emu.clock`,
/// `emu.http`), and an access token.
struct Emu {
    served: Served<PaypalEmulator>,
    token: String,
}

impl Deref for Emu {
    type Target = Served<PaypalEmulator>;

    fn deref(&self) -> &Served<PaypalEmulator> {
        &self.served
    }
}

async fn start_with(webhook_url: Option<String>, token_ttl: Duration) -> Emu {
    let make = |public_base, clock| {
        PaypalEmulator::new(PaypalEmulatorConfig {
            client_id: CLIENT_ID.into(),
            client_secret: CLIENT_SECRET.into(),
            webhook_id: WEBHOOK_ID.into(),
            webhook_url,
            public_base,
            token_ttl,
            clock,
        })
    };
    let mut emu = Emu {
        served: serve_emulator("/paypal", make, PaypalEmulator::router).await,
        token: String::new(),
    };
    emu.token = emu.new_token().await;
    emu
}

async fn start() -> Emu {
    start_with(None, Duration::from_secs(32_400)).await
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
        Reply::send(req).await
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
