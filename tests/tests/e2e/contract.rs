//! Contract mode: the provider scenarios paygate relies on, run against any Stripe- or
//! PayPal-compatible API named in the environment, so the suite is not only checked against
//! paygate's own emulators (which share paygate's understanding of the providers):
//!
//! ```text
//! PAYGATE_CONTRACT_STRIPE_API_BASE=https://api.stripe.com \
//! PAYGATE_CONTRACT_STRIPE_SECRET_KEY=sk_test_... PAYGATE_CONTRACT_STRIPE_PUBLISHABLE_KEY=pk_test_... \
//! PAYGATE_CONTRACT_PAYPAL_CLIENT_ID=... PAYGATE_CONTRACT_PAYPAL_CLIENT_SECRET=... \
//!   cargo test -p paygate-tests --test e2e contract
//! ```
//!
//! (`PAYGATE_CONTRACT_PAYPAL_API_BASE` defaults to PayPal's sandbox.) Without them each
//! contract test says it was skipped. The same scenarios run in every build against the
//! emulators served on their own and configured exactly as an outside API would be (keys and
//! base URL through the same variables), so the scenarios and the configuration path are known
//! to work. Only what paygate can drive by itself is covered: webhooks cannot reach this machine
//! from a real provider, and a PayPal approval needs a buyer in a browser.

use paygate_sandbox::paypal::{PaypalEmulator, PaypalEmulatorConfig};
use paygate_sandbox::stripe::{StripeEmulator, StripeEmulatorConfig};
use paygate_sandbox::Clock;
use paygate_tests::app::json_with_status;
use paygate_tests::emulator::serve_emulator;
use paygate_tests::{spawn_app, AppOptions, TestApp, TestDb};
use serde_json::{json, Value};

/// A Stripe-compatible API and its test keys.
struct StripeTarget {
    api_base: String,
    secret_key: String,
    publishable_key: String,
}

impl StripeTarget {
    fn from_env() -> Option<StripeTarget> {
        Some(StripeTarget {
            api_base: std::env::var("PAYGATE_CONTRACT_STRIPE_API_BASE").ok()?,
            secret_key: std::env::var("PAYGATE_CONTRACT_STRIPE_SECRET_KEY").ok()?,
            publishable_key: std::env::var("PAYGATE_CONTRACT_STRIPE_PUBLISHABLE_KEY")
                .unwrap_or_else(|_| "pk_test_contract".into()),
        })
    }

    /// paygate in sandbox mode with these keys: the emulator is off and every Stripe call goes
    /// to `api_base`.
    async fn app(&self, db: &TestDb) -> TestApp {
        spawn_app(
            db,
            AppOptions {
                vars: vec![
                    ("PAYGATE_PROVIDERS", "stripe".into()),
                    ("STRIPE_API_BASE", self.api_base.clone()),
                    ("STRIPE_SECRET_KEY", self.secret_key.clone()),
                    ("STRIPE_PUBLISHABLE_KEY", self.publishable_key.clone()),
                    // Nothing is delivered to this machine by an outside API.
                    ("STRIPE_WEBHOOK_SECRET", "whsec_contract_unused".into()),
                ],
                ..AppOptions::default()
            },
        )
        .await
    }
}

/// A PayPal-compatible API and its REST app's credentials.
struct PaypalTarget {
    api_base: String,
    client_id: String,
    client_secret: String,
}

impl PaypalTarget {
    fn from_env() -> Option<PaypalTarget> {
        Some(PaypalTarget {
            api_base: std::env::var("PAYGATE_CONTRACT_PAYPAL_API_BASE")
                .unwrap_or_else(|_| "https://api-m.sandbox.paypal.com".into()),
            client_id: std::env::var("PAYGATE_CONTRACT_PAYPAL_CLIENT_ID").ok()?,
            client_secret: std::env::var("PAYGATE_CONTRACT_PAYPAL_CLIENT_SECRET").ok()?,
        })
    }

    async fn app(&self, db: &TestDb) -> TestApp {
        spawn_app(
            db,
            AppOptions {
                vars: vec![
                    ("PAYGATE_PROVIDERS", "paypal".into()),
                    ("PAYPAL_API_BASE", self.api_base.clone()),
                    ("PAYPAL_CLIENT_ID", self.client_id.clone()),
                    ("PAYPAL_CLIENT_SECRET", self.client_secret.clone()),
                    ("PAYPAL_WEBHOOK_ID", "CONTRACTUNUSED".into()),
                ],
                ..AppOptions::default()
            },
        )
        .await
    }
}

fn skipped(what: &str, variables: &str) {
    eprintln!(
        "\n!!! SKIPPED: the {what} contract run needs {variables}; the same scenarios ran against the emulator.\n"
    );
}

async fn create(app: &TestApp, body: Value) -> Value {
    json_with_status(app.post("/v1/payments", &body).await, 201).await
}

async fn confirm(app: &TestApp, id: &str, payment_method: &str) -> reqwest::Response {
    app.post(
        &format!("/v1/payments/{id}/confirm"),
        &json!({ "payment_method": payment_method }),
    )
    .await
}

fn id_of(v: &Value) -> String {
    v["id"].as_str().expect("an id").to_string()
}

/// What paygate needs of Stripe, through paygate's merchant API, with Stripe's documented test
/// payment methods (docs.stripe.com/testing).
async fn stripe_scenarios(app: &TestApp) {
    // A card payment, refunded in two parts; nothing is left for a third.
    let p = create(
        app,
        json!({ "provider": "stripe", "amount": "12.00", "currency": "USD" }),
    )
    .await;
    assert_eq!(p["status"], "requires_payment_method", "{p}");
    let id = id_of(&p);
    let paid = json_with_status(confirm(app, &id, "pm_card_visa").await, 200).await;
    assert_eq!(paid["status"], "succeeded", "{paid}");
    assert_eq!(paid["captured_minor"], 1200);
    for amount in [json!("5.00"), Value::Null] {
        let mut body = json!({ "payment": id });
        if !amount.is_null() {
            body["amount"] = amount;
        }
        let r = json_with_status(app.post("/v1/refunds", &body).await, 201).await;
        assert!(
            r["status"] == "succeeded" || r["status"] == "pending",
            "{r}"
        );
    }
    let e = json_with_status(
        app.post("/v1/refunds", &json!({ "payment": id, "amount": "0.01" }))
            .await,
        409,
    )
    .await;
    assert_eq!(e["code"], "payment_fully_refunded");

    // A decline, the same card again (a new attempt, not Stripe's saved answer), another card.
    let p = create(
        app,
        json!({ "provider": "stripe", "amount": "19.99", "currency": "USD" }),
    )
    .await;
    let id = id_of(&p);
    for _ in 0..2 {
        let e = json_with_status(
            confirm(app, &id, "pm_card_visa_chargeDeclinedInsufficientFunds").await,
            402,
        )
        .await;
        assert_eq!(e["decline_code"], "insufficient_funds", "{e}");
    }
    let ok = json_with_status(confirm(app, &id, "pm_card_visa").await, 200).await;
    assert_eq!(ok["status"], "succeeded");

    // 3-D Secure: the customer has to act.
    let p = create(
        app,
        json!({ "provider": "stripe", "amount": "10.00", "currency": "EUR" }),
    )
    .await;
    let action = json_with_status(
        confirm(app, &id_of(&p), "pm_card_threeDSecure2Required").await,
        200,
    )
    .await;
    assert_eq!(action["status"], "requires_action", "{action}");

    // Manual capture of a part.
    let p = create(
        app,
        json!({ "provider": "stripe", "amount": "30.00", "currency": "USD", "capture_mode": "manual" }),
    )
    .await;
    let id = id_of(&p);
    let held = json_with_status(confirm(app, &id, "pm_card_visa").await, 200).await;
    assert_eq!(held["status"], "requires_capture");
    let captured = json_with_status(
        app.post(
            &format!("/v1/payments/{id}/capture"),
            &json!({ "amount": "20.00" }),
        )
        .await,
        200,
    )
    .await;
    assert_eq!(captured["status"], "succeeded");
    assert_eq!(captured["captured_minor"], 2000);

    // A zero-decimal currency: 1000 JPY is `amount=1000`.
    let p = create(
        app,
        json!({ "provider": "stripe", "amount": "1000", "currency": "JPY" }),
    )
    .await;
    let paid = json_with_status(confirm(app, &id_of(&p), "pm_card_visa").await, 200).await;
    assert_eq!(paid["captured_minor"], 1000);

    // Under Stripe's minimum: refused by paygate, before any call.
    let e = json_with_status(
        app.post(
            "/v1/payments",
            &json!({ "provider": "stripe", "amount": "0.49", "currency": "USD" }),
        )
        .await,
        400,
    )
    .await;
    assert_eq!(e["param"], "amount", "{e}");
}

/// What paygate can drive at PayPal without a buyer: an order to approve, read back, canceled.
async fn paypal_scenarios(app: &TestApp) {
    let p = create(
        app,
        json!({ "provider": "paypal", "amount": "19.99", "currency": "USD",
                "return_url": "https://shop.example/back" }),
    )
    .await;
    assert_eq!(p["status"], "requires_action", "{p}");
    assert_eq!(p["next_action"]["type"], "redirect_to_url");
    let id = id_of(&p);
    let order = p["provider_reference"].as_str().unwrap();
    assert!(
        p["next_action"]["url"].as_str().unwrap().contains(order),
        "{p}"
    );
    // Not approved yet: nothing to capture.
    let e = json_with_status(
        app.post(&format!("/v1/payments/{id}/capture"), &json!({}))
            .await,
        409,
    )
    .await;
    assert_eq!(e["code"], "invalid_state", "{e}");
    let canceled = json_with_status(
        app.post(&format!("/v1/payments/{id}/cancel"), &json!({}))
            .await,
        200,
    )
    .await;
    assert_eq!(canceled["status"], "canceled");
    // An amount PayPal cannot take in that currency: refused by paygate, before any call.
    let e = json_with_status(
        app.post(
            "/v1/payments",
            &json!({ "provider": "paypal", "amount": "1.50", "currency": "HUF",
                    "return_url": "https://shop.example/back" }),
        )
        .await,
        400,
    )
    .await;
    assert_eq!(e["param"], "amount", "{e}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stripe_contract_against_the_configured_api() {
    let Some(target) = StripeTarget::from_env() else {
        return skipped(
            "Stripe",
            "PAYGATE_CONTRACT_STRIPE_API_BASE and PAYGATE_CONTRACT_STRIPE_SECRET_KEY",
        );
    };
    let db = TestDb::sqlite().await;
    let app = target.app(&db).await;
    stripe_scenarios(&app).await;
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn paypal_contract_against_the_configured_api() {
    let Some(target) = PaypalTarget::from_env() else {
        return skipped(
            "PayPal",
            "PAYGATE_CONTRACT_PAYPAL_CLIENT_ID and PAYGATE_CONTRACT_PAYPAL_CLIENT_SECRET",
        );
    };
    let db = TestDb::sqlite().await;
    let app = target.app(&db).await;
    paypal_scenarios(&app).await;
    app.stop().await;
}

/// The Stripe scenarios against the emulator served apart from paygate, with keys of its own,
/// reached through `STRIPE_API_BASE` as any outside API is.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stripe_contract_against_a_standalone_emulator() {
    let served = serve_emulator(
        "/v1-compatible",
        |public_base, clock: Clock| {
            StripeEmulator::new(StripeEmulatorConfig {
                secret_key: "sk_test_contract_standalone".into(),
                publishable_key: "pk_test_contract_standalone".into(),
                webhook_secret: "whsec_contract_standalone".into(),
                webhook_url: None,
                public_base,
                clock,
            })
        },
        StripeEmulator::router,
    )
    .await;
    let target = StripeTarget {
        api_base: served.base.clone(),
        secret_key: "sk_test_contract_standalone".into(),
        publishable_key: "pk_test_contract_standalone".into(),
    };
    let db = TestDb::sqlite().await;
    let app = target.app(&db).await;
    assert!(
        !app.state.config.stripe.emulated,
        "paygate's own emulator is not used"
    );
    assert_eq!(app.state.config.stripe.api_base, served.base);
    stripe_scenarios(&app).await;
    assert!(
        served.emulator.api_requests() > 10,
        "the scenarios reached the standalone API"
    );
    app.stop().await;
}

/// The PayPal scenarios against the emulator served apart from paygate.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn paypal_contract_against_a_standalone_emulator() {
    let served = serve_emulator(
        "/paypal-compatible",
        |public_base, clock: Clock| {
            PaypalEmulator::new(PaypalEmulatorConfig {
                client_id: "contract-standalone-id".into(),
                client_secret: "contract-standalone-secret".into(),
                public_base,
                clock,
                ..PaypalEmulatorConfig::sandbox(String::new())
            })
        },
        PaypalEmulator::router,
    )
    .await;
    let target = PaypalTarget {
        api_base: served.base.clone(),
        client_id: "contract-standalone-id".into(),
        client_secret: "contract-standalone-secret".into(),
    };
    let db = TestDb::sqlite().await;
    let app = target.app(&db).await;
    assert!(
        !app.state.config.paypal.emulated,
        "paygate's own emulator is not used"
    );
    assert_eq!(app.state.config.paypal.api_base, served.base);
    paypal_scenarios(&app).await;
    assert!(
        served.emulator.orders_count() >= 1,
        "the scenarios reached the standalone API"
    );
    app.stop().await;
}
