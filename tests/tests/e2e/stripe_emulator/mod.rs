//! The Stripe emulator of sandbox mode, exercised over real HTTP as paygate's Stripe client
//! and the Stripe.js stand-in use it: key checks, form encoding, idempotency, PaymentIntents
//! with every test card, 3-D Secure, capture, cancel, refunds, subscriptions, amounts, events,
//! signed webhooks with retries, and every fault knob. Expected values come from
//! docs.stripe.com/api, not from the emulator's code.

mod amounts;
mod customers;
mod faults;
mod idempotency;
mod payment_intents;
mod prices;
mod refunds;
mod stripe_js;
mod subscriptions;
mod three_d_secure;
mod transport;
mod webhooks;

use axum::http::StatusCode;
use paygate_sandbox::stripe::{StripeEmulator, StripeEmulatorConfig};
use paygate_tests::emulator::{serve_emulator, Reply, Served};
use serde_json::Value;
use std::ops::Deref;

const SK: &str = "sk_test_emulator_tests_0123456789";
const PK: &str = "pk_test_emulator_tests_0123456789";
const WHSEC: &str = "whsec_emulator_tests_secret";

/// The Stripe emulator served on 127.0.0.1 (`emu.base`, `emu.emulator`, `emu.clock`,
/// `emu.http`).
struct Emu(Served<StripeEmulator>);

impl Deref for Emu {
    type Target = Served<StripeEmulator>;

    fn deref(&self) -> &Served<StripeEmulator> {
        &self.0
    }
}

async fn start_with(webhook_url: Option<String>) -> Emu {
    let make = |public_base, clock| {
        StripeEmulator::new(StripeEmulatorConfig {
            secret_key: SK.into(),
            publishable_key: PK.into(),
            webhook_secret: WHSEC.into(),
            webhook_url,
            public_base,
            clock,
        })
    };
    Emu(serve_emulator("/stripe", make, StripeEmulator::router).await)
}

async fn start() -> Emu {
    start_with(None).await
}

/// `application/x-www-form-urlencoded`, brackets escaped as `%5B`/`%5D` like most encoders.
fn form(pairs: &[(&str, &str)]) -> String {
    fn enc(s: &str) -> String {
        s.bytes()
            .map(|b| match b {
                b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                    (b as char).to_string()
                }
                b' ' => "+".to_string(),
                _ => format!("%{b:02X}"),
            })
            .collect()
    }
    pairs
        .iter()
        .map(|(k, v)| format!("{}={}", enc(k), enc(v)))
        .collect::<Vec<_>>()
        .join("&")
}

impl Emu {
    async fn send(&self, req: reqwest::RequestBuilder) -> Reply {
        Reply::send(req).await
    }

    fn post_req(&self, path: &str, key: &str, pairs: &[(&str, &str)]) -> reqwest::RequestBuilder {
        self.http
            .post(format!("{}{path}", self.base))
            .bearer_auth(key)
            .header("content-type", "application/x-www-form-urlencoded")
            .body(form(pairs))
    }

    async fn post(&self, path: &str, pairs: &[(&str, &str)]) -> Reply {
        self.send(self.post_req(path, SK, pairs)).await
    }

    async fn post_key(&self, path: &str, idem: &str, pairs: &[(&str, &str)]) -> Reply {
        self.send(
            self.post_req(path, SK, pairs)
                .header("idempotency-key", idem),
        )
        .await
    }

    async fn post_pk(&self, path: &str, pairs: &[(&str, &str)]) -> Reply {
        self.send(self.post_req(path, PK, pairs)).await
    }

    /// `method` `path` with the secret key.
    fn request(&self, method: reqwest::Method, path: &str) -> reqwest::RequestBuilder {
        self.http
            .request(method, format!("{}{path}", self.base))
            .bearer_auth(SK)
    }

    async fn get(&self, path: &str) -> Reply {
        self.send(self.request(reqwest::Method::GET, path)).await
    }

    async fn delete(&self, path: &str) -> Reply {
        self.send(self.request(reqwest::Method::DELETE, path)).await
    }

    async fn faults(&self, knobs: Value) {
        let r = self
            .send(
                self.request(reqwest::Method::POST, "/_emulator/faults")
                    .json(&knobs),
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    }

    /// A confirmed PaymentIntent of `amount` USD paid with `pm`.
    async fn paid(&self, amount: &str, pm: &str) -> Value {
        let r = self
            .post(
                "/v1/payment_intents",
                &[
                    ("amount", amount),
                    ("currency", "usd"),
                    ("payment_method", pm),
                    ("confirm", "true"),
                ],
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        r.body
    }

    async fn intent(&self, amount: &str, extra: &[(&str, &str)]) -> Value {
        let mut pairs = vec![("amount", amount), ("currency", "usd")];
        pairs.extend_from_slice(extra);
        let r = self.post("/v1/payment_intents", &pairs).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        r.body
    }

    async fn customer_with_card(&self, pm: &str) -> (String, String) {
        let r = self
            .post(
                "/v1/customers",
                &[
                    ("email", "buyer@example.com"),
                    ("payment_method", pm),
                    ("invoice_settings[default_payment_method]", pm),
                ],
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        let customer = r.body["id"].as_str().unwrap().to_string();
        let default = r.body["invoice_settings"]["default_payment_method"]
            .as_str()
            .unwrap()
            .to_string();
        (customer, default)
    }

    async fn card(&self, number: &str) -> Reply {
        self.post_pk(
            "/v1/payment_methods",
            &[
                ("type", "card"),
                ("card[number]", number),
                ("card[exp_month]", "12"),
                ("card[exp_year]", "2034"),
                ("card[cvc]", "123"),
            ],
        )
        .await
    }
}
