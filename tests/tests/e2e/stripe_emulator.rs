//! The Stripe emulator of sandbox mode, exercised over real HTTP as paygate's Stripe client
//! and the Stripe.js stand-in use it: key checks, form encoding, idempotency, PaymentIntents
//! with every test card, 3-D Secure, capture, cancel, refunds, subscriptions, amounts, events,
//! signed webhooks with retries, and every fault knob. Expected values come from
//! docs.stripe.com/api, not from the emulator's code.

use axum::http::{HeaderMap, StatusCode};
use hmac::{Hmac, Mac};
use paygate_sandbox::stripe::{StripeEmulator, StripeEmulatorConfig};
use paygate_sandbox::Clock;
use serde_json::{json, Value};
use sha2::Sha256;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const SK: &str = "sk_test_emulator_tests_0123456789";
const PK: &str = "pk_test_emulator_tests_0123456789";
const WHSEC: &str = "whsec_emulator_tests_secret";

struct Emu {
    base: String,
    emulator: StripeEmulator,
    clock: Clock,
    http: reqwest::Client,
}

struct Reply {
    status: StatusCode,
    headers: HeaderMap,
    body: Value,
}

impl Reply {
    fn error(&self) -> &Value {
        &self.body["error"]
    }
}

async fn start_with(webhook_url: Option<String>) -> Emu {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let base = format!("http://{addr}/stripe");
    let clock = Clock::default();
    let emulator = StripeEmulator::new(StripeEmulatorConfig {
        secret_key: SK.into(),
        publishable_key: PK.into(),
        webhook_secret: WHSEC.into(),
        webhook_url,
        public_base: base.clone(),
        clock: clock.clone(),
    });
    let app = axum::Router::new().nest("/stripe", emulator.router());
    tokio::spawn(async move {
        axum::serve(listener, app).await.unwrap();
    });
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    Emu {
        base,
        emulator,
        clock,
        http,
    }
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

    async fn get(&self, path: &str) -> Reply {
        self.send(
            self.http
                .get(format!("{}{path}", self.base))
                .bearer_auth(SK),
        )
        .await
    }

    async fn delete(&self, path: &str) -> Reply {
        self.send(
            self.http
                .delete(format!("{}{path}", self.base))
                .bearer_auth(SK),
        )
        .await
    }

    async fn faults(&self, knobs: Value) {
        let r = self
            .send(
                self.http
                    .post(format!("{}/_emulator/faults", self.base))
                    .bearer_auth(SK)
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

/// Polls `f` until it returns true (at most 10 s).
async fn eventually<F, Fut>(what: &str, mut f: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = Instant::now() + Duration::from_secs(10);
    while Instant::now() < deadline {
        if f().await {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("timed out waiting for {what}");
}

fn s(v: &Value) -> &str {
    v.as_str().unwrap_or_else(|| panic!("not a string: {v}"))
}

// ---- transport, keys, encoding ------------------------------------------------------------------

#[tokio::test]
async fn keys_are_checked_with_stripes_401_body() {
    let emu = start().await;
    let none = emu
        .send(emu.http.get(format!("{}/v1/customers", emu.base)))
        .await;
    assert_eq!(none.status, StatusCode::UNAUTHORIZED);
    assert_eq!(none.error()["type"], "invalid_request_error");
    assert!(s(&none.error()["message"]).starts_with("You did not provide an API key."));
    assert!(none.headers["request-id"]
        .to_str()
        .unwrap()
        .starts_with("req_"));

    let wrong = emu
        .send(
            emu.http
                .get(format!("{}/v1/customers", emu.base))
                .bearer_auth("sk_test_wrong_key_abcdefgh1234"),
        )
        .await;
    assert_eq!(wrong.status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        s(&wrong.error()["message"]),
        format!("Invalid API Key provided: sk_test_{}1234", "*".repeat(18))
    );

    // HTTP Basic with the key as user name, as `curl -u sk_test_...:` sends it.
    let basic = emu
        .send(
            emu.http
                .get(format!("{}/v1/customers", emu.base))
                .basic_auth(SK, Some("")),
        )
        .await;
    assert_eq!(basic.status, StatusCode::OK);
    assert_eq!(basic.body["object"], "list");
    assert_eq!(basic.body["url"], "/v1/customers");

    // The publishable key only opens what Stripe.js uses.
    let pk = emu.post_pk("/v1/customers", &[("email", "a@b.c")]).await;
    assert_eq!(pk.status, StatusCode::UNAUTHORIZED);
    assert!(s(&pk.error()["message"]).contains("publishable API key"));
    let pk = emu
        .post_pk(
            "/v1/payment_intents",
            &[("amount", "100"), ("currency", "usd")],
        )
        .await;
    assert_eq!(pk.status, StatusCode::UNAUTHORIZED);

    let unknown = emu.get("/v1/nothing_here").await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND);
    assert!(s(&unknown.error()["message"])
        .starts_with("Unrecognized request URL (GET: /v1/nothing_here)"));
}

#[tokio::test]
async fn form_bodies_nest_and_unknown_parameters_are_refused() {
    let emu = start().await;
    let c = emu
        .post(
            "/v1/customers",
            &[
                ("email", "x@example.com"),
                ("metadata[order_id]", "42"),
                ("metadata[note]", "hello world & more"),
            ],
        )
        .await;
    assert_eq!(c.status, StatusCode::OK);
    assert_eq!(c.body["object"], "customer");
    assert_eq!(
        c.body["metadata"],
        json!({"order_id": "42", "note": "hello world & more"})
    );
    assert!(s(&c.body["id"]).starts_with("cus_"));

    // Unsetting one key, then all keys.
    let id = s(&c.body["id"]).to_string();
    let u = emu
        .post(&format!("/v1/customers/{id}"), &[("metadata[note]", "")])
        .await;
    assert_eq!(u.body["metadata"], json!({"order_id": "42"}));
    let u = emu
        .post(&format!("/v1/customers/{id}"), &[("metadata", "")])
        .await;
    assert_eq!(u.body["metadata"], json!({}));

    for list_form in ["payment_method_types[]", "payment_method_types[0]"] {
        let pi = emu
            .intent("1000", &[(list_form, "card"), ("expand[]", "customer")])
            .await;
        assert_eq!(pi.body_types(), vec!["card"]);
    }

    let unknown = emu
        .post(
            "/v1/payment_intents",
            &[("amuont", "1000"), ("amount", "1000"), ("currency", "usd")],
        )
        .await;
    assert_eq!(unknown.status, StatusCode::BAD_REQUEST);
    assert_eq!(unknown.error()["type"], "invalid_request_error");
    assert_eq!(unknown.error()["code"], "parameter_unknown");
    assert_eq!(unknown.error()["param"], "amuont");
    assert_eq!(
        unknown.error()["message"],
        "Received unknown parameter: amuont"
    );

    let nested = emu
        .post(
            "/v1/payment_intents",
            &[
                ("amount", "1000"),
                ("currency", "usd"),
                ("automatic_payment_methods[enabledd]", "true"),
            ],
        )
        .await;
    assert_eq!(
        nested.error()["param"],
        "automatic_payment_methods[enabledd]"
    );

    let missing = emu
        .post("/v1/payment_intents", &[("currency", "usd")])
        .await;
    assert_eq!(missing.status, StatusCode::BAD_REQUEST);
    assert_eq!(missing.error()["code"], "parameter_missing");
    assert_eq!(missing.error()["param"], "amount");

    let bad_int = emu
        .post(
            "/v1/payment_intents",
            &[("amount", "ten"), ("currency", "usd")],
        )
        .await;
    assert_eq!(bad_int.error()["code"], "parameter_invalid_integer");
    assert_eq!(bad_int.error()["message"], "Invalid integer: ten");

    let bad_enum = emu
        .post(
            "/v1/payment_intents",
            &[
                ("amount", "1000"),
                ("currency", "usd"),
                ("capture_method", "later"),
            ],
        )
        .await;
    assert_eq!(bad_enum.status, StatusCode::BAD_REQUEST);
    assert_eq!(bad_enum.error()["param"], "capture_method");

    let none = emu.get("/v1/payment_intents/pi_doesnotexist").await;
    assert_eq!(none.status, StatusCode::NOT_FOUND);
    assert_eq!(none.error()["code"], "resource_missing");
    assert_eq!(
        none.error()["message"],
        "No such payment_intent: 'pi_doesnotexist'"
    );
}

trait Types {
    fn body_types(&self) -> Vec<&str>;
}
impl Types for Value {
    fn body_types(&self) -> Vec<&str> {
        self["payment_method_types"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_str().unwrap())
            .collect()
    }
}

// ---- idempotency --------------------------------------------------------------------------------

#[tokio::test]
async fn idempotent_requests_replay_and_refuse_misuse() {
    let emu = start().await;
    let params = [
        ("amount", "2000"),
        ("currency", "usd"),
        ("payment_method", "pm_card_visa"),
        ("confirm", "true"),
    ];
    let first = emu.post_key("/v1/payment_intents", "key-1", &params).await;
    assert_eq!(first.status, StatusCode::OK);
    assert!(first.headers.get("idempotent-replayed").is_none());
    let second = emu.post_key("/v1/payment_intents", "key-1", &params).await;
    assert_eq!(second.status, StatusCode::OK);
    assert_eq!(second.body, first.body);
    assert_eq!(second.headers["idempotent-replayed"], "true");
    assert_eq!(
        second.headers["original-request"],
        first.headers["request-id"]
    );
    assert_ne!(second.headers["request-id"], first.headers["request-id"]);
    assert_eq!(emu.emulator.charges_count(), 1);

    // Same key, other parameters.
    let other = emu
        .post_key(
            "/v1/payment_intents",
            "key-1",
            &[("amount", "2001"), ("currency", "usd")],
        )
        .await;
    assert_eq!(other.status, StatusCode::BAD_REQUEST);
    assert_eq!(other.error()["type"], "idempotency_error");
    assert_eq!(
        other.error()["message"],
        "Keys for idempotent requests can only be used with the same parameters they were first used with. Try using a key other than 'key-1' if you meant to execute a different request."
    );

    // Same key, other endpoint.
    let endpoint = emu
        .post_key("/v1/customers", "key-1", &[("email", "a@b.c")])
        .await;
    assert_eq!(endpoint.status, StatusCode::BAD_REQUEST);
    assert_eq!(endpoint.error()["type"], "idempotency_error");
    assert!(s(&endpoint.error()["message"]).contains("same endpoint"));

    // Errors after execution began are saved and replayed (a decline)...
    let decline = [
        ("amount", "2000"),
        ("currency", "usd"),
        ("payment_method", "pm_card_visa_chargeDeclined"),
        ("confirm", "true"),
    ];
    let d1 = emu.post_key("/v1/payment_intents", "key-2", &decline).await;
    assert_eq!(d1.status, StatusCode::PAYMENT_REQUIRED);
    let d2 = emu.post_key("/v1/payment_intents", "key-2", &decline).await;
    assert_eq!(d2.status, StatusCode::PAYMENT_REQUIRED);
    assert_eq!(d2.headers["idempotent-replayed"], "true");
    assert_eq!(d1.body, d2.body);

    // ...but parameter validation failures are not: fixing the request with the same key runs.
    let bad = emu
        .post_key("/v1/customers", "key-3", &[("emial", "a@b.c")])
        .await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    let good = emu
        .post_key("/v1/customers", "key-3", &[("email", "a@b.c")])
        .await;
    assert_eq!(good.status, StatusCode::OK);
    assert!(good.headers.get("idempotent-replayed").is_none());

    // Keys longer than 255 characters are refused.
    let long = "k".repeat(256);
    let r = emu.post_key("/v1/customers", &long, &[]).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);

    // Keys are pruned after 24 hours: the same key then makes a new object.
    emu.clock.advance(Duration::from_secs(24 * 3600 + 1));
    let again = emu.post_key("/v1/payment_intents", "key-1", &params).await;
    assert_eq!(again.status, StatusCode::OK);
    assert_ne!(again.body["id"], first.body["id"]);
    assert_eq!(emu.emulator.charges_count(), 2);
}

#[tokio::test]
async fn a_concurrent_request_with_the_same_key_gets_409() {
    let emu = Arc::new(start().await);
    emu.faults(json!({"latency_ms": 1500})).await;
    let a = {
        let emu = emu.clone();
        tokio::spawn(async move {
            emu.post_key("/v1/customers", "busy-key", &[("email", "a@b.c")])
                .await
        })
    };
    tokio::time::sleep(Duration::from_millis(300)).await;
    let b = emu
        .post_key("/v1/customers", "busy-key", &[("email", "a@b.c")])
        .await;
    assert_eq!(b.status, StatusCode::CONFLICT);
    assert_eq!(b.error()["code"], "idempotency_key_in_use");
    let a = a.await.unwrap();
    assert_eq!(a.status, StatusCode::OK);
    emu.faults(json!({"latency_ms": 0})).await;
    let c = emu
        .post_key("/v1/customers", "busy-key", &[("email", "a@b.c")])
        .await;
    assert_eq!(c.body["id"], a.body["id"]);
    assert_eq!(c.headers["idempotent-replayed"], "true");
}

// ---- PaymentIntents and test cards ------------------------------------------------------------------

#[tokio::test]
async fn declines_answer_402_card_errors_and_the_intent_can_succeed_later() {
    let emu = start().await;
    let cases = [
        (
            "pm_card_visa_chargeDeclined",
            "card_declined",
            "generic_decline",
        ),
        (
            "pm_card_visa_chargeDeclinedInsufficientFunds",
            "card_declined",
            "insufficient_funds",
        ),
        (
            "pm_card_visa_chargeDeclinedLostCard",
            "card_declined",
            "lost_card",
        ),
        (
            "pm_card_visa_chargeDeclinedStolenCard",
            "card_declined",
            "stolen_card",
        ),
        (
            "pm_card_chargeDeclinedExpiredCard",
            "expired_card",
            "expired_card",
        ),
        (
            "pm_card_chargeDeclinedIncorrectCvc",
            "incorrect_cvc",
            "incorrect_cvc",
        ),
        (
            "pm_card_chargeDeclinedProcessingError",
            "processing_error",
            "processing_error",
        ),
        (
            "pm_card_chargeCustomerFail",
            "card_declined",
            "generic_decline",
        ),
    ];
    for (pm, code, decline_code) in cases {
        let pi = emu.intent("1500", &[]).await;
        assert_eq!(pi["status"], "requires_payment_method");
        let id = s(&pi["id"]);
        let r = emu
            .post(
                &format!("/v1/payment_intents/{id}/confirm"),
                &[("payment_method", pm)],
            )
            .await;
        assert_eq!(r.status, StatusCode::PAYMENT_REQUIRED, "{pm}");
        let e = r.error();
        assert_eq!(e["type"], "card_error", "{pm}");
        assert_eq!(e["code"], code, "{pm}");
        assert_eq!(e["decline_code"], decline_code, "{pm}");
        assert!(s(&e["charge"]).starts_with("ch_"));
        assert_eq!(e["payment_intent"]["id"], id);
        assert_eq!(e["payment_intent"]["status"], "requires_payment_method");
        assert_eq!(
            e["payment_intent"]["last_payment_error"]["decline_code"],
            decline_code
        );
        assert_eq!(e["payment_intent"]["payment_method"], Value::Null);
        // The same PaymentIntent then succeeds with another card.
        let ok = emu
            .post(
                &format!("/v1/payment_intents/{id}/confirm"),
                &[("payment_method", "pm_card_visa")],
            )
            .await;
        assert_eq!(ok.status, StatusCode::OK);
        assert_eq!(ok.body["status"], "succeeded");
        assert_eq!(ok.body["amount_received"], 1500);
        assert_eq!(ok.body["last_payment_error"], Value::Null);
        assert!(s(&ok.body["latest_charge"]).starts_with("ch_"));
    }
    assert_eq!(emu.emulator.charges_count(), cases.len());
}

#[tokio::test]
async fn test_card_numbers_behave_as_documented() {
    let emu = start().await;
    let cases = [
        ("4242424242424242", None),
        (
            "4000000000000002",
            Some(("card_declined", "generic_decline")),
        ),
        (
            "4000000000009995",
            Some(("card_declined", "insufficient_funds")),
        ),
        ("4000000000000069", Some(("expired_card", "expired_card"))),
        ("4000000000000127", Some(("incorrect_cvc", "incorrect_cvc"))),
        (
            "4000000000000341",
            Some(("card_declined", "generic_decline")),
        ),
    ];
    for (number, outcome) in cases {
        let pm = emu.card(number).await;
        assert_eq!(pm.status, StatusCode::OK, "{number}: {}", pm.body);
        assert_eq!(pm.body["card"]["last4"], &number[12..]);
        assert_eq!(pm.body["card"]["brand"], "visa");
        let text = pm.body.to_string();
        assert!(!text.contains(number), "the number is not stored");
        let pi = emu.intent("1000", &[]).await;
        let r = emu
            .post(
                &format!("/v1/payment_intents/{}/confirm", s(&pi["id"])),
                &[("payment_method", s(&pm.body["id"]))],
            )
            .await;
        match outcome {
            None => assert_eq!(r.body["status"], "succeeded"),
            Some((code, decline)) => {
                assert_eq!(r.status, StatusCode::PAYMENT_REQUIRED, "{number}");
                assert_eq!(r.error()["code"], code, "{number}");
                assert_eq!(r.error()["decline_code"], decline, "{number}");
            }
        }
    }
    // A number failing the Luhn check is refused when the PaymentMethod is created.
    let bad = emu.card("4242424242424241").await;
    assert_eq!(bad.status, StatusCode::PAYMENT_REQUIRED);
    assert_eq!(bad.error()["type"], "card_error");
    assert_eq!(bad.error()["code"], "incorrect_number");
    // The raw bodies show what the emulator saw, and no object repeats it.
    let bodies = emu.emulator.received_request_bodies();
    assert!(bodies
        .iter()
        .any(|b| b.contains("card%5Bnumber%5D=4000000000009995")));
    let all = emu.get("/v1/events?limit=100").await.body.to_string();
    assert!(!all.contains("4000000000009995"));
    // Expired and malformed inputs.
    let past = emu
        .post_pk(
            "/v1/payment_methods",
            &[
                ("type", "card"),
                ("card[number]", "4242424242424242"),
                ("card[exp_month]", "1"),
                ("card[exp_year]", "2001"),
            ],
        )
        .await;
    assert_eq!(past.error()["code"], "invalid_expiry_year");
    let cvc = emu
        .post_pk(
            "/v1/payment_methods",
            &[
                ("type", "card"),
                ("card[number]", "4242424242424242"),
                ("card[exp_month]", "1"),
                ("card[exp_year]", "2034"),
                ("card[cvc]", "12"),
            ],
        )
        .await;
    assert_eq!(cvc.error()["code"], "invalid_cvc");
}

#[tokio::test]
async fn a_payment_method_used_without_a_customer_cannot_be_reused() {
    let emu = start().await;
    let pm = emu.card("4242424242424242").await.body;
    let pm_id = s(&pm["id"]);
    emu.paid("1000", pm_id).await;
    let r = emu
        .post(
            "/v1/payment_intents",
            &[
                ("amount", "1000"),
                ("currency", "usd"),
                ("payment_method", pm_id),
                ("confirm", "true"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert!(s(&r.error()["message"]).contains("may not be used again"));
}

#[tokio::test]
async fn three_d_secure_redirect_flow_completes_and_returns() {
    let emu = start().await;
    let pm = emu.card("4000002500003155").await.body;
    let pi = emu
        .post(
            "/v1/payment_intents",
            &[
                ("amount", "4200"),
                ("currency", "eur"),
                ("payment_method", s(&pm["id"])),
                ("confirm", "true"),
                ("return_url", "https://shop.example/return?order=7"),
            ],
        )
        .await;
    assert_eq!(pi.status, StatusCode::OK);
    assert_eq!(pi.body["status"], "requires_action");
    let action = &pi.body["next_action"];
    assert_eq!(action["type"], "redirect_to_url");
    assert_eq!(
        action["redirect_to_url"]["return_url"],
        "https://shop.example/return?order=7"
    );
    let url = s(&action["redirect_to_url"]["url"]).to_string();
    assert!(url.starts_with(&format!("{}/3ds/{}", emu.base, s(&pi.body["id"]))));
    let events = emu
        .get("/v1/events?type=payment_intent.requires_action")
        .await;
    assert_eq!(events.body["data"].as_array().unwrap().len(), 1);

    let page = emu.http.get(&url).send().await.unwrap();
    assert_eq!(page.status(), 200);
    let csp = page.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_string();
    assert!(!csp.contains("unsafe-inline"), "{csp}");
    assert!(csp.contains("form-action 'self'"), "{csp}");
    assert!(csp.contains("https://shop.example"), "{csp}");
    let html = page.text().await.unwrap();
    assert!(html.contains("Complete authentication"));
    assert!(html.contains("Fail authentication"));
    assert!(!html.contains("<script>"), "no inline script");

    // Without the client secret nothing moves.
    let id = s(&pi.body["id"]).to_string();
    let forged = emu
        .http
        .post(format!("{}/3ds/{id}/complete", emu.base))
        .header("content-type", "application/x-www-form-urlencoded")
        .body("client_secret=pi_wrong_secret_x")
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status(), 404);
    assert_eq!(
        emu.emulator.payment_intent(&id).unwrap()["status"],
        "requires_action"
    );

    let secret = s(&pi.body["client_secret"]).to_string();
    assert!(secret.starts_with(&format!("{id}_secret_")));
    let done = emu
        .http
        .post(format!("{}/3ds/{id}/complete", emu.base))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(form(&[("client_secret", &secret)]))
        .send()
        .await
        .unwrap();
    assert_eq!(done.status(), 303);
    let location = done.headers()["location"].to_str().unwrap();
    assert!(location.starts_with("https://shop.example/return?order=7&payment_intent="));
    assert!(location.contains("redirect_status=succeeded"));
    let after = emu.emulator.payment_intent(&id).unwrap();
    assert_eq!(after["status"], "succeeded");
    assert_eq!(after["next_action"], Value::Null);
    let charge = emu
        .get(&format!("/v1/charges/{}", s(&after["latest_charge"])))
        .await;
    assert_eq!(
        charge.body["payment_method_details"]["card"]["three_d_secure"]["result"],
        "authenticated"
    );
}

#[tokio::test]
async fn three_d_secure_can_fail_and_cards_can_decline_after_it() {
    let emu = start().await;
    // Stripe.js flow (use_stripe_sdk), failed challenge.
    let pi = emu.intent("1000", &[]).await;
    let id = s(&pi["id"]).to_string();
    let secret = s(&pi["client_secret"]).to_string();
    let r = emu
        .post_pk(
            &format!("/v1/payment_intents/{id}/confirm"),
            &[
                ("payment_method", "pm_card_authenticationRequired"),
                ("client_secret", &secret),
                ("use_stripe_sdk", "true"),
                ("return_url", "https://shop.example/back"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.body["status"], "requires_action");
    assert_eq!(r.body["next_action"]["type"], "use_stripe_sdk");
    assert!(
        r.body.get("metadata").is_none(),
        "publishable view is reduced"
    );
    let fail = emu
        .http
        .post(format!("{}/3ds/{id}/fail", emu.base))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(form(&[
            ("client_secret", &secret),
            ("origin", "https://shop.example"),
        ]))
        .send()
        .await
        .unwrap();
    assert_eq!(fail.status(), 200, "no redirect in the Stripe.js flow");
    let html = fail.text().await.unwrap();
    assert!(html.contains("data-origin=\"https://shop.example\""));
    assert!(html.contains("/js/3ds.js"));
    let after = emu.emulator.payment_intent(&id).unwrap();
    assert_eq!(after["status"], "requires_payment_method");
    assert_eq!(
        after["last_payment_error"]["code"],
        "payment_intent_authentication_failure"
    );

    // Authenticates, then declines for insufficient funds.
    let pi = emu
        .intent(
            "1000",
            &[(
                "payment_method",
                "pm_card_authenticationRequiredChargeDeclinedInsufficientFunds",
            )],
        )
        .await;
    assert_eq!(pi["status"], "requires_confirmation");
    let id = s(&pi["id"]).to_string();
    let r = emu
        .post(&format!("/v1/payment_intents/{id}/confirm"), &[])
        .await;
    assert_eq!(r.body["status"], "requires_action");
    let done = emu
        .http
        .post(format!("{}/3ds/{id}/complete", emu.base))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(form(&[("client_secret", s(&pi["client_secret"]))]))
        .send()
        .await
        .unwrap();
    assert_eq!(done.status(), 200);
    let after = emu.emulator.payment_intent(&id).unwrap();
    assert_eq!(after["status"], "requires_payment_method");
    assert_eq!(
        after["last_payment_error"]["decline_code"],
        "insufficient_funds"
    );

    // Manual capture after 3-D Secure.
    let pi = emu
        .intent(
            "1000",
            &[
                ("capture_method", "manual"),
                ("payment_method", "pm_card_threeDSecure2Required"),
                ("confirm", "true"),
            ],
        )
        .await;
    let id = s(&pi["id"]).to_string();
    emu.http
        .post(format!("{}/3ds/{id}/complete", emu.base))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(form(&[("client_secret", s(&pi["client_secret"]))]))
        .send()
        .await
        .unwrap();
    assert_eq!(
        emu.emulator.payment_intent(&id).unwrap()["status"],
        "requires_capture"
    );

    // Off-session payments with a card that needs authentication are declined.
    let off = emu
        .post(
            "/v1/payment_intents",
            &[
                ("amount", "1000"),
                ("currency", "usd"),
                ("payment_method", "pm_card_authenticationRequiredOnSetup"),
                ("confirm", "true"),
                ("off_session", "true"),
            ],
        )
        .await;
    assert_eq!(off.status, StatusCode::PAYMENT_REQUIRED);
    assert_eq!(off.error()["decline_code"], "authentication_required");
}

#[tokio::test]
async fn manual_capture_full_and_partial() {
    let emu = start().await;
    let pi = emu
        .intent(
            "1000",
            &[
                ("capture_method", "manual"),
                ("payment_method", "pm_card_visa"),
                ("confirm", "true"),
            ],
        )
        .await;
    assert_eq!(pi["status"], "requires_capture");
    assert_eq!(pi["amount_capturable"], 1000);
    assert_eq!(pi["amount_received"], 0);
    let id = s(&pi["id"]);
    let over = emu
        .post(
            &format!("/v1/payment_intents/{id}/capture"),
            &[("amount_to_capture", "1001")],
        )
        .await;
    assert_eq!(over.status, StatusCode::BAD_REQUEST);
    assert_eq!(over.error()["code"], "amount_too_large");
    let partial = emu
        .post(
            &format!("/v1/payment_intents/{id}/capture"),
            &[("amount_to_capture", "600")],
        )
        .await;
    assert_eq!(partial.status, StatusCode::OK);
    assert_eq!(partial.body["status"], "succeeded");
    assert_eq!(partial.body["amount_received"], 600);
    assert_eq!(partial.body["amount_capturable"], 0);
    let charge = emu
        .get(&format!(
            "/v1/charges/{}",
            s(&partial.body["latest_charge"])
        ))
        .await;
    assert_eq!(charge.body["captured"], true);
    assert_eq!(charge.body["amount_captured"], 600);
    let again = emu
        .post(&format!("/v1/payment_intents/{id}/capture"), &[])
        .await;
    assert_eq!(again.status, StatusCode::BAD_REQUEST);
    assert_eq!(again.error()["code"], "payment_intent_unexpected_state");
    assert_eq!(again.error()["payment_intent"]["status"], "succeeded");
    // Only the captured amount can be refunded.
    let too_much = emu
        .post("/v1/refunds", &[("payment_intent", id), ("amount", "700")])
        .await;
    assert_eq!(too_much.error()["code"], "amount_too_large");

    let full = emu
        .intent(
            "2500",
            &[
                ("capture_method", "manual"),
                ("payment_method", "pm_card_mastercard"),
                ("confirm", "true"),
            ],
        )
        .await;
    let captured = emu
        .post(
            &format!("/v1/payment_intents/{}/capture", s(&full["id"])),
            &[],
        )
        .await;
    assert_eq!(captured.body["amount_received"], 2500);
    let types: Vec<String> = emu.get("/v1/events?limit=100").await.body["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| s(&e["type"]).to_string())
        .collect();
    assert!(types.contains(&"payment_intent.amount_capturable_updated".to_string()));
    assert!(types.contains(&"charge.captured".to_string()));
}

#[tokio::test]
async fn cancel_is_allowed_only_where_stripe_allows_it() {
    let emu = start().await;
    let pi = emu.intent("1000", &[]).await;
    let bad_reason = emu
        .post(
            &format!("/v1/payment_intents/{}/cancel", s(&pi["id"])),
            &[("cancellation_reason", "bored")],
        )
        .await;
    assert_eq!(bad_reason.status, StatusCode::BAD_REQUEST);
    assert_eq!(bad_reason.error()["param"], "cancellation_reason");
    let canceled = emu
        .post(
            &format!("/v1/payment_intents/{}/cancel", s(&pi["id"])),
            &[("cancellation_reason", "requested_by_customer")],
        )
        .await;
    assert_eq!(canceled.body["status"], "canceled");
    assert_eq!(
        canceled.body["cancellation_reason"],
        "requested_by_customer"
    );
    assert!(canceled.body["canceled_at"].is_i64());
    let confirm_canceled = emu
        .post(
            &format!("/v1/payment_intents/{}/confirm", s(&pi["id"])),
            &[("payment_method", "pm_card_visa")],
        )
        .await;
    assert_eq!(
        confirm_canceled.error()["code"],
        "payment_intent_unexpected_state"
    );

    let held = emu
        .intent(
            "1000",
            &[
                ("capture_method", "manual"),
                ("payment_method", "pm_card_visa"),
                ("confirm", "true"),
            ],
        )
        .await;
    let released = emu
        .post(
            &format!("/v1/payment_intents/{}/cancel", s(&held["id"])),
            &[],
        )
        .await;
    assert_eq!(released.body["status"], "canceled");
    assert_eq!(released.body["amount_capturable"], 0);
    let charge = emu
        .get(&format!("/v1/charges/{}", s(&held["latest_charge"])))
        .await;
    assert_eq!(charge.body["captured"], false);
    assert_eq!(charge.body["refunded"], true);

    let paid = emu.paid("1000", "pm_card_visa").await;
    let refused = emu
        .post(
            &format!("/v1/payment_intents/{}/cancel", s(&paid["id"])),
            &[],
        )
        .await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST);
    assert_eq!(refused.error()["code"], "payment_intent_unexpected_state");
    assert!(s(&refused.error()["message"]).contains("status of succeeded"));
}

#[tokio::test]
async fn publishable_key_reaches_only_what_stripe_js_needs() {
    let emu = start().await;
    let pi = emu.intent("1000", &[("metadata[order]", "9")]).await;
    let id = s(&pi["id"]);
    let secret = s(&pi["client_secret"]);
    let without = emu
        .send(
            emu.http
                .get(format!("{}/v1/payment_intents/{id}", emu.base))
                .bearer_auth(PK),
        )
        .await;
    assert_eq!(without.status, StatusCode::BAD_REQUEST);
    let wrong = emu
        .send(
            emu.http
                .get(format!(
                    "{}/v1/payment_intents/{id}?client_secret={id}_secret_nope",
                    emu.base
                ))
                .bearer_auth(PK),
        )
        .await;
    assert_eq!(wrong.status, StatusCode::BAD_REQUEST);
    let with = emu
        .send(
            emu.http
                .get(format!("{}/v1/payment_intents/{id}", emu.base))
                .query(&[("client_secret", secret)])
                .bearer_auth(PK),
        )
        .await;
    assert_eq!(with.status, StatusCode::OK);
    assert_eq!(with.body["status"], "requires_payment_method");
    assert!(with.body.get("metadata").is_none());
    assert!(with.body.get("customer").is_none());
    let list = emu
        .send(
            emu.http
                .get(format!("{}/v1/payment_intents", emu.base))
                .bearer_auth(PK),
        )
        .await;
    assert_eq!(list.status, StatusCode::UNAUTHORIZED);
    let confirm = emu
        .post_pk(
            &format!("/v1/payment_intents/{id}/confirm"),
            &[
                ("payment_method", "pm_card_visa"),
                ("client_secret", secret),
            ],
        )
        .await;
    assert_eq!(confirm.body["status"], "succeeded");
    // CORS for Stripe.js on merchant pages.
    let preflight = emu
        .http
        .request(
            reqwest::Method::OPTIONS,
            format!("{}/v1/payment_methods", emu.base),
        )
        .header("origin", "https://shop.example")
        .header("access-control-request-method", "POST")
        .header(
            "access-control-request-headers",
            "authorization,content-type",
        )
        .send()
        .await
        .unwrap();
    assert!(preflight.status().is_success());
    assert_eq!(preflight.headers()["access-control-allow-origin"], "*");
}

// ---- refunds ------------------------------------------------------------------------------------------

#[tokio::test]
async fn refunds_never_exceed_what_is_left() {
    let emu = start().await;
    let pi = emu.paid("1000", "pm_card_visa").await;
    let id = s(&pi["id"]);
    let partial = emu
        .post(
            "/v1/refunds",
            &[
                ("payment_intent", id),
                ("amount", "300"),
                ("reason", "requested_by_customer"),
                ("metadata[ticket]", "T-1"),
            ],
        )
        .await;
    assert_eq!(partial.status, StatusCode::OK);
    assert_eq!(partial.body["object"], "refund");
    assert_eq!(partial.body["status"], "succeeded");
    assert_eq!(partial.body["amount"], 300);
    assert_eq!(partial.body["metadata"]["ticket"], "T-1");
    let over = emu
        .post("/v1/refunds", &[("payment_intent", id), ("amount", "800")])
        .await;
    assert_eq!(over.status, StatusCode::BAD_REQUEST);
    assert_eq!(over.error()["code"], "amount_too_large");
    assert_eq!(
        over.error()["message"],
        "Refund amount ($8.00) is greater than unrefunded amount on charge ($7.00)"
    );
    let bad_reason = emu
        .post(
            "/v1/refunds",
            &[("payment_intent", id), ("reason", "because")],
        )
        .await;
    assert_eq!(bad_reason.status, StatusCode::BAD_REQUEST);
    let rest = emu
        .post("/v1/refunds", &[("charge", s(&pi["latest_charge"]))])
        .await;
    assert_eq!(rest.body["amount"], 700);
    let nothing = emu.post("/v1/refunds", &[("payment_intent", id)]).await;
    assert_eq!(nothing.status, StatusCode::BAD_REQUEST);
    assert_eq!(nothing.error()["code"], "charge_already_refunded");
    let list = emu.get(&format!("/v1/refunds?payment_intent={id}")).await;
    assert_eq!(list.body["data"].as_array().unwrap().len(), 2);
    assert_eq!(list.body["data"][0]["id"], rest.body["id"], "newest first");
    let charge = emu
        .get(&format!("/v1/charges/{}", s(&pi["latest_charge"])))
        .await;
    assert_eq!(charge.body["amount_refunded"], 1000);
    assert_eq!(charge.body["refunded"], true);
    let one = emu
        .get(&format!("/v1/refunds/{}", s(&partial.body["id"])))
        .await;
    assert_eq!(one.body["amount"], 300);

    // Not captured yet: nothing to refund.
    let held = emu
        .intent(
            "1000",
            &[
                ("capture_method", "manual"),
                ("payment_method", "pm_card_visa"),
                ("confirm", "true"),
            ],
        )
        .await;
    let r = emu
        .post("/v1/refunds", &[("payment_intent", s(&held["id"]))])
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn concurrent_partial_refunds_cannot_exceed_the_charge() {
    let emu = Arc::new(start().await);
    let pi = emu.paid("1000", "pm_card_visa").await;
    let id = s(&pi["id"]).to_string();
    let mut tasks = Vec::new();
    for _ in 0..5 {
        let emu = emu.clone();
        let id = id.clone();
        tasks.push(tokio::spawn(async move {
            emu.post("/v1/refunds", &[("payment_intent", &id), ("amount", "300")])
                .await
                .status
        }));
    }
    let mut ok = 0;
    for t in tasks {
        if t.await.unwrap() == StatusCode::OK {
            ok += 1;
        }
    }
    assert_eq!(ok, 3);
}

#[tokio::test]
async fn pending_and_failing_refunds_change_later_with_events() {
    let emu = start().await;
    let pending_pi = emu.paid("1000", "pm_card_pendingRefund").await;
    let r = emu
        .post("/v1/refunds", &[("payment_intent", s(&pending_pi["id"]))])
        .await;
    assert_eq!(r.body["status"], "pending");
    // A pending refund counts against what is left.
    let more = emu
        .post(
            "/v1/refunds",
            &[("payment_intent", s(&pending_pi["id"])), ("amount", "1")],
        )
        .await;
    assert_eq!(more.error()["code"], "charge_already_refunded");
    let pending_id = s(&r.body["id"]).to_string();
    eventually("the pending refund to succeed", || async {
        emu.get(&format!("/v1/refunds/{pending_id}")).await.body["status"] == "succeeded"
    })
    .await;

    let fail_pi = emu.paid("1000", "pm_card_refundFail").await;
    let r = emu
        .post("/v1/refunds", &[("payment_intent", s(&fail_pi["id"]))])
        .await;
    assert_eq!(r.body["status"], "succeeded");
    let fail_id = s(&r.body["id"]).to_string();
    eventually("the refund to fail", || async {
        emu.get(&format!("/v1/refunds/{fail_id}")).await.body["status"] == "failed"
    })
    .await;
    let failed = emu.get(&format!("/v1/refunds/{fail_id}")).await;
    assert!(failed.body["failure_reason"].is_string());
    // The money is back on the charge: it can be refunded again.
    let charge = emu
        .get(&format!("/v1/charges/{}", s(&fail_pi["latest_charge"])))
        .await;
    assert_eq!(charge.body["amount_refunded"], 0);
    let events = emu.get("/v1/events?type=refund.failed").await;
    assert_eq!(
        events.body["data"][0]["data"]["object"]["id"],
        fail_id.as_str()
    );
    let updated = emu.get("/v1/events?type=refund.updated").await;
    assert_eq!(updated.body["data"].as_array().unwrap().len(), 2);
    assert_eq!(updated.body["data"][0]["request"]["id"], Value::Null);
}

// ---- amounts --------------------------------------------------------------------------------------------

#[tokio::test]
async fn amounts_follow_stripes_currency_rules() {
    let emu = start().await;
    let jpy = emu
        .post(
            "/v1/payment_intents",
            &[("amount", "1000"), ("currency", "jpy")],
        )
        .await;
    assert_eq!(jpy.status, StatusCode::OK);
    assert_eq!(jpy.body["amount"], 1000);
    assert_eq!(jpy.body["currency"], "jpy");
    let usd = emu
        .post(
            "/v1/payment_intents",
            &[("amount", "50"), ("currency", "USD")],
        )
        .await;
    assert_eq!(usd.body["currency"], "usd");
    let kwd_ok = emu
        .post(
            "/v1/payment_intents",
            &[("amount", "1230"), ("currency", "kwd")],
        )
        .await;
    assert_eq!(kwd_ok.status, StatusCode::OK);
    let kwd_bad = emu
        .post(
            "/v1/payment_intents",
            &[("amount", "1234"), ("currency", "kwd")],
        )
        .await;
    assert_eq!(kwd_bad.status, StatusCode::BAD_REQUEST);
    assert_eq!(kwd_bad.error()["param"], "amount");
    let small = emu
        .post(
            "/v1/payment_intents",
            &[("amount", "49"), ("currency", "usd")],
        )
        .await;
    assert_eq!(small.status, StatusCode::BAD_REQUEST);
    assert_eq!(small.error()["code"], "amount_too_small");
    assert_eq!(
        small.error()["message"],
        "Amount must be at least $0.50 usd"
    );
    let jpy_small = emu
        .post(
            "/v1/payment_intents",
            &[("amount", "49"), ("currency", "jpy")],
        )
        .await;
    assert_eq!(jpy_small.error()["code"], "amount_too_small");
    let large = emu
        .post(
            "/v1/payment_intents",
            &[("amount", "100000000"), ("currency", "usd")],
        )
        .await;
    assert_eq!(large.error()["code"], "amount_too_large");
    let max = emu
        .post(
            "/v1/payment_intents",
            &[("amount", "99999999"), ("currency", "usd")],
        )
        .await;
    assert_eq!(max.status, StatusCode::OK);
    let currency = emu
        .post(
            "/v1/payment_intents",
            &[("amount", "1000"), ("currency", "xyz")],
        )
        .await;
    assert_eq!(currency.error()["param"], "currency");
    let isk = emu
        .post(
            "/v1/payment_intents",
            &[("amount", "550"), ("currency", "isk")],
        )
        .await;
    assert_eq!(isk.status, StatusCode::BAD_REQUEST);
    let isk_ok = emu
        .post(
            "/v1/payment_intents",
            &[("amount", "500"), ("currency", "isk")],
        )
        .await;
    assert_eq!(isk_ok.status, StatusCode::OK);
}

// ---- customers, payment methods, catalogue ---------------------------------------------------------------

#[tokio::test]
async fn customers_hold_payment_methods_and_a_default() {
    let emu = start().await;
    let (customer, default) = emu.customer_with_card("pm_card_visa").await;
    assert!(default.starts_with("pm_") && default != "pm_card_visa");
    let pms = emu
        .get(&format!(
            "/v1/customers/{customer}/payment_methods?type=card"
        ))
        .await;
    assert_eq!(pms.body["data"].as_array().unwrap().len(), 1);
    assert_eq!(pms.body["data"][0]["customer"], customer.as_str());

    let declined = emu
        .post(
            "/v1/payment_methods/pm_card_visa_chargeDeclined/attach",
            &[("customer", &customer)],
        )
        .await;
    assert_eq!(declined.status, StatusCode::PAYMENT_REQUIRED);
    assert_eq!(declined.error()["decline_code"], "generic_decline");
    let attachable = emu
        .post(
            "/v1/payment_methods/pm_card_chargeCustomerFail/attach",
            &[("customer", &customer)],
        )
        .await;
    assert_eq!(attachable.status, StatusCode::OK);
    let new_pm = s(&attachable.body["id"]).to_string();
    let upd = emu
        .post(
            &format!("/v1/customers/{customer}"),
            &[("invoice_settings[default_payment_method]", &new_pm)],
        )
        .await;
    assert_eq!(
        upd.body["invoice_settings"]["default_payment_method"],
        new_pm.as_str()
    );
    let foreign = emu
        .post(
            &format!("/v1/customers/{customer}"),
            &[("invoice_settings[default_payment_method]", "pm_nobodys")],
        )
        .await;
    assert_eq!(foreign.status, StatusCode::BAD_REQUEST);
    let detached = emu
        .post(&format!("/v1/payment_methods/{new_pm}/detach"), &[])
        .await;
    assert_eq!(detached.body["customer"], Value::Null);
    let c = emu.get(&format!("/v1/customers/{customer}")).await;
    assert_eq!(
        c.body["invoice_settings"]["default_payment_method"],
        Value::Null
    );
    let gone = emu.delete(&format!("/v1/customers/{customer}")).await;
    assert_eq!(
        gone.body,
        json!({"id": customer, "object": "customer", "deleted": true})
    );
    let again = emu.get(&format!("/v1/customers/{customer}")).await;
    assert_eq!(again.body["deleted"], true);
    let kinds: Vec<String> = emu.get("/v1/events?type=customer.*").await.body["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| s(&e["type"]).to_string())
        .collect();
    assert_eq!(
        kinds,
        ["customer.deleted", "customer.updated", "customer.created"]
    );
}

#[tokio::test]
async fn demo_prices_exist_and_prices_can_be_created() {
    let emu = start().await;
    let monthly = emu.get("/v1/prices/price_paygate_pro_monthly").await;
    assert_eq!(monthly.body["unit_amount"], 999);
    assert_eq!(monthly.body["currency"], "usd");
    assert_eq!(monthly.body["recurring"]["interval"], "month");
    assert_eq!(monthly.body["product"], "prod_paygate_pro");
    let yearly = emu.get("/v1/prices/price_paygate_pro_yearly").await;
    assert_eq!(yearly.body["unit_amount"], 9900);
    let product = emu.get("/v1/products/prod_paygate_pro").await;
    assert_eq!(product.body["name"], "paygate Pro");

    let p = emu.post("/v1/products", &[("name", "Gold")]).await;
    let price = emu
        .post(
            "/v1/prices",
            &[
                ("product", s(&p.body["id"])),
                ("unit_amount", "1500"),
                ("currency", "eur"),
                ("recurring[interval]", "week"),
                ("lookup_key", "gold_weekly"),
            ],
        )
        .await;
    assert_eq!(price.status, StatusCode::OK, "{}", price.body);
    assert_eq!(price.body["type"], "recurring");
    let found = emu.get("/v1/prices?lookup_keys[]=gold_weekly").await;
    assert_eq!(found.body["data"][0]["id"], price.body["id"]);
    let dup = emu
        .post(
            "/v1/prices",
            &[
                ("product", s(&p.body["id"])),
                ("unit_amount", "1"),
                ("currency", "eur"),
                ("lookup_key", "gold_weekly"),
            ],
        )
        .await;
    assert_eq!(dup.status, StatusCode::BAD_REQUEST);
}

// ---- subscriptions ------------------------------------------------------------------------------------

#[tokio::test]
async fn subscriptions_allow_incomplete_charge_the_default_card() {
    let emu = start().await;
    let (customer, _) = emu.customer_with_card("pm_card_visa").await;
    let sub = emu
        .post(
            "/v1/subscriptions",
            &[
                ("customer", &customer),
                ("items[0][price]", "price_paygate_pro_monthly"),
                ("expand[]", "latest_invoice.payment_intent"),
            ],
        )
        .await;
    assert_eq!(sub.status, StatusCode::OK, "{}", sub.body);
    assert_eq!(sub.body["object"], "subscription");
    assert_eq!(sub.body["status"], "active");
    let start_t = sub.body["current_period_start"].as_i64().unwrap();
    let end_t = sub.body["current_period_end"].as_i64().unwrap();
    assert!((28 * 86_400..=31 * 86_400).contains(&(end_t - start_t)));
    let invoice = &sub.body["latest_invoice"];
    assert_eq!(invoice["object"], "invoice");
    assert_eq!(invoice["status"], "paid");
    assert_eq!(invoice["amount_due"], 999);
    assert_eq!(invoice["amount_paid"], 999);
    assert_eq!(invoice["payment_intent"]["status"], "succeeded");
    assert_eq!(
        sub.body["items"]["data"][0]["price"]["id"],
        "price_paygate_pro_monthly"
    );

    // Cancel at period end: still active, flagged.
    let id = s(&sub.body["id"]).to_string();
    let flagged = emu
        .post(
            &format!("/v1/subscriptions/{id}"),
            &[("cancel_at_period_end", "true")],
        )
        .await;
    assert_eq!(flagged.body["status"], "active");
    assert_eq!(flagged.body["cancel_at_period_end"], true);
    assert_eq!(flagged.body["cancel_at"], end_t);
    // When the period ends (by the emulator's clock) it ends.
    emu.clock
        .advance(Duration::from_secs((end_t - start_t + 10) as u64));
    let ended = emu.get(&format!("/v1/subscriptions/{id}")).await;
    assert_eq!(ended.body["status"], "canceled");
    let deleted = emu
        .get("/v1/events?type=customer.subscription.deleted")
        .await;
    assert_eq!(deleted.body["data"][0]["data"]["object"]["id"], id.as_str());

    // A declining default card leaves the subscription incomplete.
    let (customer2, _) = emu.customer_with_card("pm_card_chargeCustomerFail").await;
    let sub2 = emu
        .post(
            "/v1/subscriptions",
            &[
                ("customer", &customer2),
                ("items[0][price]", "price_paygate_pro_yearly"),
                ("expand[]", "latest_invoice.payment_intent"),
            ],
        )
        .await;
    assert_eq!(sub2.status, StatusCode::OK);
    assert_eq!(sub2.body["status"], "incomplete");
    assert_eq!(sub2.body["latest_invoice"]["status"], "open");
    assert_eq!(
        sub2.body["latest_invoice"]["payment_intent"]["status"],
        "requires_payment_method"
    );
    // error_if_incomplete answers 402 instead.
    let sub3 = emu
        .post(
            "/v1/subscriptions",
            &[
                ("customer", &customer2),
                ("items[0][price]", "price_paygate_pro_yearly"),
                ("payment_behavior", "error_if_incomplete"),
            ],
        )
        .await;
    assert_eq!(sub3.status, StatusCode::PAYMENT_REQUIRED);
    assert_eq!(sub3.error()["type"], "card_error");
    // Without any payment method allow_incomplete is refused.
    let bare = emu.post("/v1/customers", &[("email", "n@o.pe")]).await;
    let sub4 = emu
        .post(
            "/v1/subscriptions",
            &[
                ("customer", s(&bare.body["id"])),
                ("items[0][price]", "price_paygate_pro_monthly"),
            ],
        )
        .await;
    assert_eq!(sub4.status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn subscriptions_default_incomplete_wait_for_the_customer() {
    let emu = start().await;
    let c = emu
        .post("/v1/customers", &[("email", "s@example.com")])
        .await;
    let customer = s(&c.body["id"]).to_string();
    let sub = emu
        .post(
            "/v1/subscriptions",
            &[
                ("customer", &customer),
                ("items[0][price]", "price_paygate_pro_monthly"),
                ("payment_behavior", "default_incomplete"),
                (
                    "payment_settings[save_default_payment_method]",
                    "on_subscription",
                ),
                ("expand[]", "latest_invoice.payment_intent"),
            ],
        )
        .await;
    assert_eq!(sub.status, StatusCode::OK, "{}", sub.body);
    assert_eq!(sub.body["status"], "incomplete");
    let invoice = &sub.body["latest_invoice"];
    assert_eq!(invoice["status"], "open");
    let pi = &invoice["payment_intent"];
    assert_eq!(pi["status"], "requires_payment_method");
    assert_eq!(pi["amount"], 999);
    let secret = s(&pi["client_secret"]).to_string();
    let pi_id = s(&pi["id"]).to_string();
    // The customer pays in the browser (publishable key + client secret).
    let confirm = emu
        .post_pk(
            &format!("/v1/payment_intents/{pi_id}/confirm"),
            &[
                ("payment_method", "pm_card_visa"),
                ("client_secret", &secret),
            ],
        )
        .await;
    assert_eq!(confirm.body["status"], "succeeded");
    let id = s(&sub.body["id"]);
    let after = emu
        .get(&format!("/v1/subscriptions/{id}?expand[]=latest_invoice"))
        .await;
    assert_eq!(after.body["status"], "active");
    assert_eq!(after.body["latest_invoice"]["status"], "paid");
    assert!(s(&after.body["default_payment_method"]).starts_with("pm_"));
    let types: Vec<String> = emu.get("/v1/events?limit=100").await.body["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| s(&e["type"]).to_string())
        .collect();
    for t in [
        "customer.subscription.created",
        "customer.subscription.updated",
        "invoice.created",
        "invoice.finalized",
        "invoice.paid",
        "invoice.payment_succeeded",
    ] {
        assert!(types.contains(&t.to_string()), "{t} in {types:?}");
    }

    // Cancel immediately.
    let canceled = emu.delete(&format!("/v1/subscriptions/{id}")).await;
    assert_eq!(canceled.body["status"], "canceled");
    assert!(canceled.body["ended_at"].is_i64());

    // A trial needs no payment now.
    let trial = emu
        .post(
            "/v1/subscriptions",
            &[
                ("customer", &customer),
                ("items[0][price]", "price_paygate_pro_monthly"),
                ("trial_period_days", "14"),
                ("expand[]", "latest_invoice"),
            ],
        )
        .await;
    assert_eq!(trial.body["status"], "trialing");
    assert_eq!(trial.body["latest_invoice"]["amount_due"], 0);
    assert_eq!(
        trial.body["trial_end"].as_i64().unwrap() - trial.body["trial_start"].as_i64().unwrap(),
        14 * 86_400
    );

    // An unpaid first invoice expires after 23 hours.
    let unpaid = emu
        .post(
            "/v1/subscriptions",
            &[
                ("customer", &customer),
                ("items[0][price]", "price_paygate_pro_monthly"),
                ("payment_behavior", "default_incomplete"),
            ],
        )
        .await;
    emu.clock.advance(Duration::from_secs(23 * 3600 + 5));
    let expired = emu
        .get(&format!("/v1/subscriptions/{}", s(&unpaid.body["id"])))
        .await;
    assert_eq!(expired.body["status"], "incomplete_expired");
}

// ---- events and webhooks ------------------------------------------------------------------------------

#[tokio::test]
async fn events_are_listed_newest_first_with_their_request() {
    let emu = start().await;
    let pi = emu
        .send(
            emu.post_req(
                "/v1/payment_intents",
                SK,
                &[
                    ("amount", "1000"),
                    ("currency", "usd"),
                    ("payment_method", "pm_card_visa"),
                    ("confirm", "true"),
                ],
            )
            .header("idempotency-key", "evt-key"),
        )
        .await;
    let all = emu.get("/v1/events").await;
    let data = all.body["data"].as_array().unwrap();
    let types: Vec<&str> = data.iter().map(|e| s(&e["type"])).collect();
    assert_eq!(
        types,
        [
            "payment_intent.succeeded",
            "charge.succeeded",
            "payment_intent.created"
        ]
    );
    let e = &data[0];
    assert!(s(&e["id"]).starts_with("evt_"));
    assert_eq!(e["object"], "event");
    assert_eq!(e["livemode"], false);
    assert!(e["api_version"].is_string());
    assert!(e["created"].is_i64());
    assert_eq!(e["pending_webhooks"], 0);
    assert_eq!(e["data"]["object"]["id"], pi.body["id"]);
    assert_eq!(e["data"]["object"]["status"], "succeeded");
    assert_eq!(e["request"]["idempotency_key"], "evt-key");
    assert_eq!(
        e["request"]["id"],
        pi.headers["request-id"].to_str().unwrap()
    );
    let page = emu
        .get(&format!(
            "/v1/events?limit=1&starting_after={}",
            s(&data[0]["id"])
        ))
        .await;
    assert_eq!(page.body["has_more"], true);
    assert_eq!(page.body["data"][0]["id"], data[1]["id"]);
    let one = emu.get(&format!("/v1/events/{}", s(&data[2]["id"]))).await;
    assert_eq!(one.body["type"], "payment_intent.created");
    let filtered = emu.get("/v1/events?type=charge.succeeded").await;
    assert_eq!(filtered.body["data"].as_array().unwrap().len(), 1);
}

/// What a receiver saw.
#[derive(Clone, Default)]
struct Receiver {
    hits: Arc<Mutex<Vec<(String, String)>>>,
    fail_first: Arc<Mutex<usize>>,
}

async fn receiver(fail_first: usize) -> (String, Receiver) {
    let state = Receiver {
        hits: Arc::default(),
        fail_first: Arc::new(Mutex::new(fail_first)),
    };
    let st = state.clone();
    let app = axum::Router::new().route(
        "/webhooks/stripe",
        axum::routing::post(move |headers: HeaderMap, body: String| {
            let st = st.clone();
            async move {
                let sig = headers
                    .get("stripe-signature")
                    .map(|v| v.to_str().unwrap().to_string())
                    .unwrap_or_default();
                st.hits.lock().unwrap().push((sig, body));
                let mut left = st.fail_first.lock().unwrap();
                if *left > 0 {
                    *left -= 1;
                    StatusCode::INTERNAL_SERVER_ERROR
                } else {
                    StatusCode::OK
                }
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/webhooks/stripe", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (url, state)
}

/// Stripe's scheme (docs.stripe.com/webhooks#verify-manually), written here independently of the emulator.
fn expected_v1(secret: &str, t: &str, body: &str) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(format!("{t}.{body}").as_bytes());
    hex::encode(mac.finalize().into_bytes())
}

fn parse_signature(header: &str) -> (String, Vec<String>, usize) {
    let mut t = String::new();
    let mut v1 = Vec::new();
    let mut v0 = 0;
    for part in header.split(',') {
        let (k, v) = part.split_once('=').unwrap();
        match k {
            "t" => t = v.to_string(),
            "v1" => v1.push(v.to_string()),
            "v0" => v0 += 1,
            _ => {}
        }
    }
    (t, v1, v0)
}

#[test]
fn signature_vector_computed_independently() {
    // python3 -c 'import hmac,hashlib;print(hmac.new(b"whsec_test", b"1700000000.{\"id\":1}", hashlib.sha256).hexdigest())'
    let expected = "2f441ba4b3b2d50d28a9ab9d9fd8880376ecd1eb5d0435401553f5d8d0a5dcf8";
    assert_eq!(
        expected_v1("whsec_test", "1700000000", "{\"id\":1}"),
        expected
    );
    assert_eq!(
        paygate_sandbox::stripe::sign_webhook_payload("whsec_test", 1_700_000_000, "{\"id\":1}"),
        expected
    );
}

#[tokio::test]
async fn webhooks_are_signed_and_retried_after_a_500() {
    let (url, rx) = receiver(1).await;
    let emu = start_with(Some(url)).await;
    let sender = emu.emulator.spawn_webhook_sender();
    let c = emu
        .post("/v1/customers", &[("email", "hook@example.com")])
        .await;
    assert_eq!(c.status, StatusCode::OK);
    eventually("a retried delivery", || async {
        rx.hits.lock().unwrap().len() >= 2
    })
    .await;
    let hits = rx.hits.lock().unwrap().clone();
    let (sig1, body1) = &hits[0];
    let (sig2, body2) = &hits[1];
    assert_eq!(body1, body2, "the same event is re-sent");
    let event: Value = serde_json::from_str(body1).unwrap();
    assert_eq!(event["type"], "customer.created");
    assert_eq!(event["data"]["object"]["id"], c.body["id"]);
    for sig in [sig1, sig2] {
        let (t, v1, v0) = parse_signature(sig);
        assert_eq!(v1.len(), 1);
        assert_eq!(v0, 1, "test mode also sends a fake v0");
        assert_eq!(v1[0], expected_v1(WHSEC, &t, body1));
        assert_ne!(v1[0], expected_v1("whsec_other", &t, body1));
        let age = emu.clock.now_secs() - t.parse::<i64>().unwrap();
        assert!((0..60).contains(&age));
    }
    let (t1, _, _) = parse_signature(sig1);
    let (t2, _, _) = parse_signature(sig2);
    assert!(
        t2.parse::<i64>().unwrap() > t1.parse::<i64>().unwrap(),
        "a new timestamp per attempt"
    );
    let id = s(&event["id"]).to_string();
    eventually("pending_webhooks to drop to 0", || async {
        emu.get(&format!("/v1/events/{id}")).await.body["pending_webhooks"] == 0
    })
    .await;
    let attempts = emu.emulator.delivery_attempts();
    assert_eq!(attempts[0].status, Some(500));
    assert!(!attempts[0].delivered);
    assert!(attempts[1].delivered);
    sender.abort();
}

// ---- fault knobs -------------------------------------------------------------------------------------

#[tokio::test]
async fn forced_500_and_429_answers() {
    let emu = start().await;
    emu.faults(json!({"fail_next": 1, "status": 500})).await;
    let r = emu.post("/v1/customers", &[("email", "a@b.c")]).await;
    assert_eq!(r.status, StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(r.error()["type"], "api_error");
    assert!(r.headers.get("request-id").is_some());
    let r = emu.post("/v1/customers", &[("email", "a@b.c")]).await;
    assert_eq!(r.status, StatusCode::OK, "only the next call fails");

    emu.faults(json!({"fail_next": 2, "status": 429, "retry_after": 2}))
        .await;
    for _ in 0..2 {
        let r = emu.get("/v1/customers").await;
        assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(r.error()["code"], "rate_limit");
        assert_eq!(r.headers["retry-after"], "2");
    }
    assert_eq!(emu.get("/v1/customers").await.status, StatusCode::OK);

    emu.faults(json!({"fail_next": 1, "status": 503, "should_retry": true}))
        .await;
    let r = emu.get("/v1/customers").await;
    assert_eq!(r.status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(r.headers["stripe-should-retry"], "true");

    // A forced failure happens before execution: nothing is created or saved.
    emu.faults(json!({"fail_next": 1, "status": 500})).await;
    let r = emu
        .post_key(
            "/v1/payment_intents",
            "fault-key",
            &[
                ("amount", "1000"),
                ("currency", "usd"),
                ("payment_method", "pm_card_visa"),
                ("confirm", "true"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(emu.emulator.charges_count(), 0);
    let r = emu
        .post_key(
            "/v1/payment_intents",
            "fault-key",
            &[
                ("amount", "1000"),
                ("currency", "usd"),
                ("payment_method", "pm_card_visa"),
                ("confirm", "true"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(emu.emulator.charges_count(), 1);

    let bad = emu
        .send(
            emu.http
                .post(format!("{}/_emulator/faults", emu.base))
                .bearer_auth(SK)
                .json(&json!({"fail_next": 1, "status": 404})),
        )
        .await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    let no_key = emu
        .send(
            emu.http
                .post(format!("{}/_emulator/faults", emu.base))
                .json(&json!({"latency_ms": 1})),
        )
        .await;
    assert_eq!(no_key.status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn connection_resets_and_lost_responses() {
    let emu = start().await;
    let params = [
        ("amount", "1000"),
        ("currency", "usd"),
        ("payment_method", "pm_card_visa"),
        ("confirm", "true"),
    ];
    // Reset: the connection drops before anything happens.
    emu.faults(json!({"reset_next": 1})).await;
    let err = emu
        .post_req("/v1/payment_intents", SK, &params)
        .header("idempotency-key", "reset-key")
        .send()
        .await;
    assert!(err.is_err(), "the client sees a connection error");
    assert_eq!(emu.emulator.charges_count(), 0);

    // Lost response: the charge is made and the result saved, then the connection drops.
    emu.faults(json!({"lose_response_next": 1})).await;
    let err = emu
        .post_req("/v1/payment_intents", SK, &params)
        .header("idempotency-key", "lost-key")
        .send()
        .await;
    assert!(err.is_err(), "the client sees a connection error");
    assert_eq!(emu.emulator.charges_count(), 1);
    let retry = emu
        .post_key("/v1/payment_intents", "lost-key", &params)
        .await;
    assert_eq!(retry.status, StatusCode::OK);
    assert_eq!(retry.headers["idempotent-replayed"], "true");
    assert_eq!(retry.body["status"], "succeeded");
    assert_eq!(emu.emulator.charges_count(), 1, "exactly one charge");
    let pi = emu.emulator.payment_intent(s(&retry.body["id"])).unwrap();
    assert_eq!(pi["amount_received"], 1000);

    // Latency is added to every call.
    emu.faults(json!({"latency_ms": 400})).await;
    let t = Instant::now();
    emu.get("/v1/customers").await;
    assert!(t.elapsed() >= Duration::from_millis(400));
    emu.send(
        emu.http
            .delete(format!("{}/_emulator/faults", emu.base))
            .bearer_auth(SK),
    )
    .await;
    let t = Instant::now();
    emu.get("/v1/customers").await;
    assert!(t.elapsed() < Duration::from_millis(400));

    let state = emu
        .send(
            emu.http
                .get(format!("{}/_emulator/state", emu.base))
                .bearer_auth(SK),
        )
        .await;
    assert_eq!(state.body["charges"]["succeeded"], 1);
    assert_eq!(state.body["payment_intents"], 1);
    assert_eq!(state.body["faults"]["latency_ms"], 0);
}

#[tokio::test]
async fn processing_knob_and_disputes() {
    let emu = start().await;
    emu.faults(json!({"processing_next": 1})).await;
    let pi = emu.paid("1000", "pm_card_visa").await;
    assert_eq!(pi["status"], "processing");
    let id = s(&pi["id"]).to_string();
    eventually("processing to settle", || async {
        emu.emulator.payment_intent(&id).unwrap()["status"] == "succeeded"
    })
    .await;
    let r = emu
        .send(
            emu.http
                .post(format!("{}/_emulator/disputes", emu.base))
                .bearer_auth(SK)
                .json(&json!({"payment_intent": id, "reason": "product_not_received"})),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.body["object"], "dispute");
    assert_eq!(r.body["amount"], 1000);
    let ev = emu.get("/v1/events?type=charge.dispute.created").await;
    assert_eq!(
        ev.body["data"][0]["data"]["object"]["reason"],
        "product_not_received"
    );
    let refund = emu.post("/v1/refunds", &[("payment_intent", &id)]).await;
    assert_eq!(refund.error()["code"], "charge_disputed");
    let scripted = emu.paid("1000", "pm_card_createDispute").await;
    let charge = emu
        .get(&format!("/v1/charges/{}", s(&scripted["latest_charge"])))
        .await;
    assert_eq!(charge.body["disputed"], true);
}

/// `redirect_next`: the next challenge is handed out as `redirect_to_url` even to Stripe.js
/// (`use_stripe_sdk`), as for a redirect-based payment method; the one after that is not.
#[tokio::test]
async fn redirect_knob_sends_the_next_challenge_through_return_url() {
    let emu = start().await;
    emu.faults(json!({"redirect_next": 1})).await;
    let mut kinds = Vec::new();
    for _ in 0..2 {
        let pi = emu.intent("1000", &[]).await;
        let r = emu
            .post_pk(
                &format!("/v1/payment_intents/{}/confirm", s(&pi["id"])),
                &[
                    ("payment_method", "pm_card_authenticationRequired"),
                    ("client_secret", s(&pi["client_secret"])),
                    ("use_stripe_sdk", "true"),
                    ("return_url", "https://shop.example/back"),
                ],
            )
            .await;
        assert_eq!(r.body["status"], "requires_action", "{}", r.body);
        kinds.push(s(&r.body["next_action"]["type"]).to_string());
    }
    assert_eq!(kinds, ["redirect_to_url", "use_stripe_sdk"]);
    let state = emu
        .send(
            emu.http
                .get(format!("{}/_emulator/state", emu.base))
                .bearer_auth(SK),
        )
        .await;
    assert_eq!(state.body["faults"]["redirect_next"], 0);
}

// ---- browser assets -----------------------------------------------------------------------------------

#[tokio::test]
async fn stripe_js_stand_in_and_card_frame_are_served_safely() {
    let emu = start().await;
    let js = emu
        .http
        .get(format!("{}/js/v3/", emu.base))
        .send()
        .await
        .unwrap();
    assert_eq!(js.status(), 200);
    assert!(js.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("application/javascript"));
    let text = js.text().await.unwrap();
    for name in [
        "confirmPayment",
        "retrievePaymentIntent",
        "elements",
        "mount",
        "postMessage",
    ] {
        assert!(text.contains(name), "{name}");
    }
    assert!(
        text.contains(&format!("\"{}\"", emu.base)),
        "the base URL is written in"
    );
    assert!(!text.contains("__PAYGATE_STRIPE_BASE__"));

    let frame = emu
        .http
        .get(format!("{}/js/elements-inner-card.html", emu.base))
        .send()
        .await
        .unwrap();
    let csp = frame.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_string();
    assert!(csp.contains("frame-ancestors *"));
    assert!(csp.contains("script-src 'self'"));
    assert!(!csp.contains("unsafe"));
    let html = frame.text().await.unwrap();
    let scripts: Vec<&str> = html.split("<script").skip(1).collect();
    assert!(!scripts.is_empty());
    assert!(
        scripts.iter().all(|s| s.trim_start().starts_with("src=")),
        "no inline script"
    );
    assert!(!html.contains("style=\""), "no inline styles");
    for asset in [
        "elements-inner-card.js",
        "elements-inner-card.css",
        "3ds.js",
        "3ds.css",
    ] {
        let r = emu
            .http
            .get(format!("{}/js/{asset}", emu.base))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200, "{asset}");
    }
}

// ---- the Stripe.js stand-in in a real browser ----------------------------------------------------

/// A merchant page (on `localhost`, another origin than the emulator's `127.0.0.1`) with a strict
/// CSP that allows only the emulator's origin, using the stand-in as a widget would.
const MERCHANT_JS: &str = r#"
(function () {
  'use strict';
  window.cspViolations = [];
  document.addEventListener('securitypolicyviolation', function (e) {
    window.cspViolations.push(e.violatedDirective + ' ' + e.blockedURI);
  });
  var d = document.body.dataset;
  var stripe = Stripe(d.pk);
  var elements = stripe.elements({ clientSecret: d.cs, appearance: { variables: { colorPrimary: '#ff0000', borderRadius: '9px' } } });
  var element = elements.create('payment', { layout: 'tabs' });
  window.changes = [];
  element.on('change', function (e) { window.changes.push(e); });
  element.on('ready', function () { document.getElementById('ready').textContent = 'ready'; });
  element.mount('#payment-element');
  document.getElementById('pay').addEventListener('click', async function () {
    var r = await stripe.confirmPayment({ elements: elements, confirmParams: { return_url: location.href }, redirect: 'if_required' });
    var again = await stripe.retrievePaymentIntent(d.cs);
    document.getElementById('out').textContent = r.error
      ? 'error ' + r.error.type + ' ' + (r.error.code || '') + ' ' + (r.error.decline_code || '') + ' ' + (r.error.payment_intent ? r.error.payment_intent.status : '')
      : 'ok ' + r.paymentIntent.status + ' ' + again.paymentIntent.status;
  });
})();
"#;

async fn merchant_site(emulator_base: String, seen: Arc<Mutex<Vec<String>>>) -> u16 {
    use axum::extract::{Query, Request};
    use axum::response::IntoResponse;
    use std::collections::HashMap;
    let origin = emulator_base.trim_end_matches("/stripe").to_string();
    let base = emulator_base.clone();
    let app = axum::Router::new()
        .route(
            "/",
            axum::routing::get(move |Query(q): Query<HashMap<String, String>>| {
                let origin = origin.clone();
                let base = base.clone();
                async move {
                    let html = format!(
                        "<!doctype html><html><head><meta charset=\"utf-8\"><title>shop</title>\
                         <script src=\"{base}/js/v3/\"></script></head>\
                         <body data-pk=\"{}\" data-cs=\"{}\"><div id=\"payment-element\"></div>\
                         <button id=\"pay\">Pay</button><p id=\"ready\"></p><p id=\"out\"></p>\
                         <script src=\"/merchant.js\"></script></body></html>",
                        q["pk"], q["cs"]
                    );
                    let csp = format!(
                        "default-src 'none'; script-src 'self' {origin}; connect-src 'self' {origin}; \
                         frame-src {origin}; style-src 'self'; img-src 'self'"
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
        .layer(axum::middleware::from_fn(
            move |req: Request, next: axum::middleware::Next| {
                let seen = seen.clone();
                async move {
                    seen.lock().unwrap().push(req.uri().to_string());
                    next.run(req).await
                }
            },
        ));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    port
}

async fn pay_in_browser(
    browser: &paygate_tests::browser::Browser,
    emu: &Emu,
    port: u16,
    number: &str,
) -> (String, String) {
    use fantoccini::Locator;
    let pi = emu.intent("1000", &[]).await;
    let cs = s(&pi["client_secret"]).to_string();
    let url = format!("http://localhost:{port}/?pk={PK}&cs={cs}");
    let c = &browser.client;
    c.goto(&url).await.unwrap();
    browser.wait_text("#ready", |t| t == "ready").await;
    let frame = c
        .find(Locator::Css("#payment-element iframe"))
        .await
        .unwrap();
    frame.enter_frame().await.unwrap();
    c.find(Locator::Id("number"))
        .await
        .unwrap()
        .send_keys(number)
        .await
        .unwrap();
    c.find(Locator::Id("expiry"))
        .await
        .unwrap()
        .send_keys("1234")
        .await
        .unwrap();
    c.find(Locator::Id("cvc"))
        .await
        .unwrap()
        .send_keys("123")
        .await
        .unwrap();
    // appearance.variables style the frame's fields.
    let color = c
        .execute(
            "return getComputedStyle(document.querySelector('.tab')).borderTopColor + ' ' + getComputedStyle(document.getElementById('number')).borderTopLeftRadius",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(color, json!("rgb(255, 0, 0) 9px"));
    c.enter_parent_frame().await.unwrap();
    let complete = c
        .execute(
            "return window.changes.length > 0 && window.changes[window.changes.length - 1].complete",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(complete, json!(true));
    c.find(Locator::Id("pay"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    (s(&pi["id"]).to_string(), cs)
}

#[tokio::test]
async fn the_stand_in_pays_from_a_cross_origin_page_in_chromium() {
    let Some(browser) = paygate_tests::browser::start().await else {
        return;
    };
    let emu = start().await;
    let seen = Arc::new(Mutex::new(Vec::new()));
    let port = merchant_site(emu.base.clone(), seen.clone()).await;

    // A plain card.
    let (id, _) = pay_in_browser(&browser, &emu, port, "4242424242424242").await;
    let out = browser.wait_text("#out", |t| !t.is_empty()).await;
    assert_eq!(out, "ok succeeded succeeded");
    assert_eq!(
        emu.emulator.payment_intent(&id).unwrap()["status"],
        "succeeded"
    );

    // A declined card: the error has Stripe's shape.
    let (id, _) = pay_in_browser(&browser, &emu, port, "4000000000009995").await;
    let out = browser.wait_text("#out", |t| !t.is_empty()).await;
    assert_eq!(
        out,
        "error card_error card_declined insufficient_funds requires_payment_method"
    );
    assert_eq!(
        emu.emulator.payment_intent(&id).unwrap()["status"],
        "requires_payment_method"
    );

    // 3-D Secure: the challenge opens as a modal frame over the page.
    use fantoccini::Locator;
    let (id, _) = pay_in_browser(&browser, &emu, port, "4000002500003155").await;
    let c = &browser.client;
    let mut modal = None;
    for _ in 0..100 {
        if let Ok(f) = c.find(Locator::Css(".__PaygateStripe3DS iframe")).await {
            modal = Some(f);
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    modal
        .expect("the challenge modal")
        .enter_frame()
        .await
        .unwrap();
    c.find(Locator::Id("complete"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    c.enter_parent_frame().await.unwrap();
    let out = browser.wait_text("#out", |t| !t.is_empty()).await;
    assert_eq!(out, "ok succeeded succeeded");
    assert_eq!(
        emu.emulator.payment_intent(&id).unwrap()["status"],
        "succeeded"
    );
    assert!(
        !browser.exists(".__PaygateStripe3DS").await,
        "the modal is gone"
    );

    let violations = c
        .execute("return window.cspViolations", vec![])
        .await
        .unwrap();
    assert_eq!(violations, json!([]));
    // Card data went to the emulator only, never to the merchant's site.
    let bodies = emu.emulator.received_request_bodies();
    assert!(bodies.iter().any(|b| b.contains("4242424242424242")));
    let merchant_saw = seen.lock().unwrap().join("\n");
    assert!(!merchant_saw.contains("4242"), "{merchant_saw}");
    browser.close().await;
}
