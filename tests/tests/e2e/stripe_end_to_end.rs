//! paygate's Stripe client against the sandbox's Stripe emulator over real HTTP: the merchant
//! API drives PaymentIntents, captures, cancels, refunds, customers and subscriptions; the
//! emulator's signed webhooks come back through the inbox. The client code is the one that
//! talks to api.stripe.com; only the base URL differs.

use paygate_tests::app::{eventually, json_with_status};
use paygate_tests::{on_both_databases, spawn_app, AppOptions, TestApp, TestDb};
use serde_json::{json, Value};
use std::time::Duration;

on_both_databases!(
    card_payment_succeeds_and_the_webhook_agrees,
    decline_then_another_card_on_the_same_payment_intent,
);

async fn stripe_app(db: &TestDb) -> TestApp {
    spawn_app(db, AppOptions::default()).await
}

async fn emulator(
    app: &TestApp,
    method: reqwest::Method,
    path: &str,
    body: Option<Value>,
) -> Value {
    let mut req = app
        .client
        .request(
            method,
            format!("{}{path}", app.state.config.stripe.api_base),
        )
        .bearer_auth(paygate::config::EMULATOR_STRIPE_SECRET_KEY);
    if let Some(b) = body {
        req = req.json(&b);
    }
    req.send().await.unwrap().json().await.unwrap()
}

async fn faults(app: &TestApp, body: Value) {
    emulator(app, reqwest::Method::POST, "/_emulator/faults", Some(body)).await;
}

async fn pay(app: &TestApp, amount: &str, currency: &str, manual: bool) -> Value {
    json_with_status(
        app.post(
            "/v1/payments",
            &json!({ "provider": "stripe", "amount": amount, "currency": currency,
                     "capture_mode": if manual { "manual" } else { "automatic" } }),
        )
        .await,
        201,
    )
    .await
}

async fn confirm(app: &TestApp, id: &str, pm: &str) -> reqwest::Response {
    app.post(
        &format!("/v1/payments/{id}/confirm"),
        &json!({ "payment_method": pm }),
    )
    .await
}

async fn payment(app: &TestApp, id: &str) -> Value {
    json_with_status(app.get(&format!("/v1/payments/{id}")).await, 200).await
}

/// A card payment confirmed with `pm_card_visa`: its id and its PaymentIntent's.
async fn card_paid(app: &TestApp, amount: &str, currency: &str) -> (String, String) {
    let p = pay(app, amount, currency, false).await;
    let id = p["id"].as_str().unwrap().to_string();
    json_with_status(confirm(app, &id, "pm_card_visa").await, 200).await;
    (id, p["provider_reference"].as_str().unwrap().to_string())
}

/// The refunds Stripe (the emulator) holds for a PaymentIntent.
/// Every PaymentIntent at the emulator.
async fn stripe_intents(app: &TestApp) -> Vec<Value> {
    let list = emulator(
        app,
        reqwest::Method::GET,
        "/v1/payment_intents?limit=100",
        None,
    )
    .await;
    list["data"].as_array().cloned().unwrap_or_default()
}

async fn stripe_refunds(app: &TestApp, pi: &str) -> Vec<Value> {
    let list = emulator(
        app,
        reqwest::Method::GET,
        &format!("/v1/refunds?payment_intent={pi}"),
        None,
    )
    .await;
    list["data"].as_array().cloned().unwrap_or_default()
}

async fn card_payment_succeeds_and_the_webhook_agrees(db: TestDb) {
    let app = stripe_app(&db).await;
    let p = pay(&app, "1000", "JPY", false).await;
    let id = p["id"].as_str().unwrap();
    let pi = p["provider_reference"].as_str().unwrap();
    assert!(pi.starts_with("pi_"), "{p}");
    assert_eq!(p["status"], "requires_payment_method");
    let stripe = app.stripe.clone().unwrap();
    let at_stripe = stripe.payment_intent(pi).unwrap();
    assert_eq!(at_stripe["amount"], 1000, "1000 JPY is sent as 1000");
    assert_eq!(at_stripe["currency"], "jpy");
    assert_eq!(at_stripe["metadata"]["paygate_payment_id"], id);

    let done = json_with_status(confirm(&app, id, "pm_card_visa").await, 200).await;
    assert_eq!(done["status"], "succeeded");
    assert_eq!(done["captured_minor"], 1000);
    // The emulator's signed payment_intent.succeeded comes back and is applied (no change).
    let db2 = app.state.db.clone();
    eventually("payment_intent.succeeded received", Duration::from_secs(15), || {
        let db2 = db2.clone();
        async move {
            sqlx::query_scalar::<_, i64>(
                "SELECT COUNT(*) FROM provider_events WHERE event_type = 'payment_intent.succeeded' AND processed_at IS NOT NULL",
            )
            .fetch_one(&db2.pool)
            .await
            .unwrap()
                == 1
        }
    })
    .await;
    assert_eq!(payment(&app, id).await["status"], "succeeded");
    app.stop().await;
}

async fn decline_then_another_card_on_the_same_payment_intent(db: TestDb) {
    let app = stripe_app(&db).await;
    let p = pay(&app, "19.99", "USD", false).await;
    let id = p["id"].as_str().unwrap();
    let e = json_with_status(
        confirm(&app, id, "pm_card_visa_chargeDeclinedInsufficientFunds").await,
        402,
    )
    .await;
    assert_eq!(e["code"], "payment_declined");
    assert_eq!(e["decline_code"], "insufficient_funds");
    let after = payment(&app, id).await;
    assert_eq!(after["status"], "requires_payment_method");
    assert_eq!(after["last_error"]["decline_code"], "insufficient_funds");
    // The decline is one timeline entry of the confirm call, carrying the error: the update
    // that set last_error, or, when the webhook had already set it, a "provider_error" entry.
    let timeline = paygate::payments::timeline::list(&app.state.db, id)
        .await
        .unwrap();
    let confirms: Vec<_> = timeline
        .iter()
        .filter(|t| t.cause == "api" && t.detail["operation"] == "confirm")
        .collect();
    assert_eq!(confirms.len(), 1, "{timeline:?}");
    assert!(
        confirms[0].detail["error"]
            .as_str()
            .is_some_and(|e| e.contains("insufficient funds")),
        "{timeline:?}"
    );
    // What Stripe said about where the error is explained and logged is kept: the error code's
    // page on the payment, the dashboard's log entry of the request on its timeline entry.
    assert_eq!(
        after["last_error"]["doc_url"], "https://stripe.com/docs/error-codes/card-declined",
        "{after}"
    );
    let reference = &confirms[0].detail["provider_error"];
    let request_id = reference["request_id"].as_str().expect("request id kept");
    assert!(request_id.starts_with("req_"), "{reference}");
    assert!(
        reference["request_log_url"]
            .as_str()
            .is_some_and(|u| u.starts_with(&format!(
                "https://dashboard.stripe.com/test/logs/{request_id}?t="
            ))),
        "{reference}"
    );
    assert_eq!(reference["doc_url"], after["last_error"]["doc_url"]);
    let ok = json_with_status(confirm(&app, id, "pm_card_visa").await, 200).await;
    assert_eq!(ok["status"], "succeeded");
    assert_eq!(
        ok["provider_reference"], p["provider_reference"],
        "same PaymentIntent"
    );
    assert!(ok.get("last_error").is_none(), "{ok}");
    app.stop().await;
}

/// Stripe saves the result of a request that executed, a decline included, and replays it to the
/// same idempotency key for 24 hours (docs.stripe.com/api/idempotent_requests); the emulator
/// does the same. A customer who was declined, topped up and tries the same card again must
/// reach their bank again, not get Stripe's saved decline: each confirmation is its own request
/// at Stripe. A merchant's retry of one confirmation (the same `Idempotency-Key`) stays one.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn trying_the_same_card_again_is_a_new_attempt_at_stripe() {
    let db = TestDb::sqlite().await;
    // No inbox worker: its read-backs would be API calls taking the emulator's fault knobs.
    let app = spawn_app(
        &db,
        AppOptions {
            inbox_worker: false,
            ..AppOptions::default()
        },
    )
    .await;
    let p = pay(&app, "19.99", "USD", false).await;
    let (id, pi) = (
        p["id"].as_str().unwrap(),
        p["provider_reference"].as_str().unwrap(),
    );
    let failures = || {
        app.stripe
            .as_ref()
            .unwrap()
            .events()
            .iter()
            .filter(|e| {
                e["type"] == "payment_intent.payment_failed" && e["data"]["object"]["id"] == pi
            })
            .count()
    };
    let card = "pm_card_visa_chargeDeclinedInsufficientFunds";
    for attempt in 1..=2 {
        let e = json_with_status(confirm(&app, id, card).await, 402).await;
        assert_eq!(e["decline_code"], "insufficient_funds");
        assert_eq!(failures(), attempt, "attempt {attempt} executed at Stripe");
    }
    // One attempt retried by the merchant with its Idempotency-Key is one attempt at Stripe.
    // Its answers are lost (the decline and the client's three retries: paygate answers 503 and
    // releases the key), so the retry reaches paygate again, and Stripe replays the decline it
    // saved under the key derived from the merchant's.
    faults(&app, json!({ "lose_response_next": 4 })).await;
    let body = json!({ "payment_method": card });
    let lost = app
        .post_idem(&format!("/v1/payments/{id}/confirm"), &body, "confirm-once")
        .await;
    assert!(lost.status().is_server_error(), "{}", lost.status());
    assert_eq!(failures(), 3, "the decline was made at Stripe");
    let retried = app
        .post_idem(&format!("/v1/payments/{id}/confirm"), &body, "confirm-once")
        .await;
    assert_ne!(
        retried
            .headers()
            .get("idempotent-replayed")
            .map(|v| v.as_bytes()),
        Some(&b"true"[..]),
        "paygate ran the retry itself"
    );
    let e = json_with_status(retried, 402).await;
    assert_eq!(e["decline_code"], "insufficient_funds");
    assert_eq!(failures(), 3, "and Stripe answered it from the same key");
    app.stop().await;
}

/// Webhook events are rendered at the endpoint's API version, not at the version paygate's
/// requests pin (docs.stripe.com/webhooks/versioning). At 2025-03-31.basil a subscription's
/// period moved to its items and an invoice's subscription under `parent` (Stripe's changelog),
/// so reading those events as 2024-06-20 objects wrote a NULL period and dropped every invoice
/// event. The emulator's endpoint is set to basil here: paygate reads each event's object back
/// at the pinned version, counts such events on /metrics and says so in the console.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn events_of_another_api_version_are_applied_from_a_read_back() {
    let db = TestDb::sqlite().await;
    let app = stripe_app(&db).await;
    let set = emulator(
        &app,
        reqwest::Method::POST,
        "/_emulator/webhook_endpoint",
        Some(json!({ "api_version": "2025-03-31.basil" })),
    )
    .await;
    assert_eq!(set["api_version"], "2025-03-31.basil");
    let c = json_with_status(
        app.post(
            "/v1/customers",
            &json!({ "email": "ada@example.com", "payment_method": "pm_card_visa" }),
        )
        .await,
        201,
    )
    .await;
    let s = json_with_status(
        app.post(
            "/v1/subscriptions",
            &json!({ "customer": c["id"], "price": "price_paygate_pro_monthly" }),
        )
        .await,
        201,
    )
    .await;
    let sid = s["id"].as_str().unwrap();
    let period_end = s["current_period_end"].as_i64().unwrap();
    let (payment_id, _) = card_paid(&app, "12.00", "USD").await;
    // The subscription's own PaymentIntent is not a paygate payment (its events wait, then
    // park); every other event is processed.
    eventually("every webhook applied", Duration::from_secs(15), || async {
        app.count(
            "SELECT COUNT(*) FROM provider_events WHERE processed_at IS NULL \
             AND (event_type NOT LIKE 'payment_intent.%' OR payment_id IS NOT NULL)",
        )
        .await
            == 0
            && app
                .count("SELECT COUNT(*) FROM provider_events WHERE event_type = 'invoice.paid' AND processed_at IS NOT NULL")
                .await
                == 1
    })
    .await;
    let events = app.stripe.as_ref().unwrap().events();
    assert!(events
        .iter()
        .all(|e| e["api_version"] == "2025-03-31.basil"));
    assert!(
        events
            .iter()
            .any(|e| e["type"] == "customer.subscription.created"
                && e["data"]["object"].get("current_period_end").is_none()),
        "the emulator renders basil's subscriptions"
    );

    let got = json_with_status(app.get(&format!("/v1/subscriptions/{sid}")).await, 200).await;
    assert_eq!(
        got["current_period_end"], period_end,
        "not overwritten with nothing"
    );
    // The invoice event found its subscription (read as a 2024-06-20 object it has none and
    // was ignored); the subscription already knew the invoice was paid.
    let outcome: Option<String> =
        sqlx::query_scalar("SELECT outcome FROM provider_events WHERE event_type = 'invoice.paid'")
            .fetch_one(&app.state.db.pool)
            .await
            .unwrap();
    assert_eq!(outcome.as_deref(), Some("unchanged"));
    assert_eq!(payment(&app, &payment_id).await["status"], "succeeded");

    let metrics = app.metrics_text().await;
    let counted: u64 = metrics
        .lines()
        .find(|l| {
            l.starts_with("paygate_provider_events_other_api_version_total{provider=\"stripe\"}")
        })
        .and_then(|l| l.rsplit(' ').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no counter in {metrics}"));
    assert!(counted >= 3, "{counted}");

    paygate_tests::admin::create_admin(&app, "ops@shop.example").await;
    let admin = paygate_tests::admin::AdminClient::sign_in(
        &app,
        "ops@shop.example",
        paygate_tests::admin::PASSWORD,
    )
    .await;
    let detail = admin
        .get_json(&format!("/admin/api/payments/{payment_id}"))
        .await;
    let notes: Vec<&str> = detail["provider_events"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|e| e["note"].as_str())
        .collect();
    assert!(!notes.is_empty(), "{detail}");
    assert!(
        notes.iter().all(|n| n.contains("2025-03-31.basil")),
        "{notes:?}"
    );
    app.stop().await;
}

/// Stripe saves the answer of a request that began executing under its idempotency key and
/// replays it for 24 hours, "including 500 errors" (docs.stripe.com/api/idempotent_requests),
/// marked `Idempotent-Replayed: true`. Asking again with such a key cannot help, so paygate
/// looks the PaymentIntent up by its own id in the metadata, and if there is none asks with the
/// next key of a fixed sequence (`providers::saved_failures`):
/// - the emulator's `fail_after_execution_next`: the PaymentIntent was made, then the 500 saved:
///   found by the lookup;
/// - `fail_saved_next`: the 500 saved before anything was made: made once with the next key,
///   by the request itself and by reconciliation for a payment nobody retried.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_creation_answered_with_a_saved_500_is_found_or_made_with_the_next_key() {
    let db = TestDb::sqlite().await;
    let app = stripe_app(&db).await;
    let body = json!({ "provider": "stripe", "amount": "12.00", "currency": "USD" });

    faults(&app, json!({ "fail_after_execution_next": 1 })).await;
    let found =
        json_with_status(app.post_idem("/v1/payments", &body, "made-once").await, 201).await;
    let made = stripe_intents(&app).await;
    assert_eq!(made.len(), 1, "Stripe made the PaymentIntent");
    assert_eq!(found["provider_reference"], made[0]["id"]);
    assert_eq!(found["status"], "requires_payment_method");
    let retry =
        json_with_status(app.post_idem("/v1/payments", &body, "made-once").await, 201).await;
    assert_eq!(retry["provider_reference"], made[0]["id"]);
    assert_eq!(stripe_intents(&app).await.len(), 1, "and only that one");

    // Nothing made before the 500 was saved: the next key makes it, once.
    faults(&app, json!({ "fail_saved_next": 1 })).await;
    let next = json_with_status(app.post_idem("/v1/payments", &body, "saved-500").await, 201).await;
    let made = stripe_intents(&app).await;
    assert_eq!(made.len(), 2, "one more PaymentIntent");
    assert_eq!(next["provider_reference"], made[0]["id"], "the newest one");
    assert_eq!(
        made[0]["metadata"]["paygate_payment_id"], next["id"],
        "{}",
        made[0]
    );
    let retry =
        json_with_status(app.post_idem("/v1/payments", &body, "saved-500").await, 201).await;
    assert_eq!(retry["provider_reference"], next["provider_reference"]);
    assert_eq!(stripe_intents(&app).await.len(), 2, "no third");

    // Nobody retries this one: its creation never got an answer (Stripe failing before it ran),
    // and when reconciliation asks again, the key fails with a saved 500.
    faults(&app, json!({ "fail_next": 20, "status": 500 })).await;
    let lost = app.post("/v1/payments", &body).await;
    assert!(lost.status().is_server_error(), "{}", lost.status());
    faults(
        &app,
        json!({ "fail_next": 0, "status": 500, "fail_saved_next": 1 }),
    )
    .await;
    let id: String = sqlx::query_scalar("SELECT id FROM payments WHERE provider_reference IS NULL")
        .fetch_one(&app.state.db.pool)
        .await
        .unwrap();
    assert_eq!(stripe_intents(&app).await.len(), 2);
    app.state.clock.advance(Duration::from_secs(16 * 60));
    paygate::reconcile::reconcile_once(&app.state)
        .await
        .unwrap();
    let made = stripe_intents(&app).await;
    assert_eq!(made.len(), 3, "made once, with the next key");
    let recovered = payment(&app, &id).await;
    assert_eq!(recovered["provider_reference"], made[0]["id"]);
    app.stop().await;
}

/// The same for a refund: Stripe made it and saved a 500 under its key (found by paygate's id in
/// its metadata), or saved the 500 before making anything (made with the next key). (The inbox
/// is off, so no webhook can settle them first.)
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refund_answered_with_a_saved_500_is_found_or_made_with_the_next_key() {
    let db = TestDb::sqlite().await;
    let app = spawn_app(
        &db,
        AppOptions {
            inbox_worker: false,
            ..AppOptions::default()
        },
    )
    .await;
    let (id, pi) = card_paid(&app, "25.00", "EUR").await;
    faults(&app, json!({ "fail_after_execution_next": 1 })).await;
    let body = json!({ "payment": id, "amount": "10.00" });
    let found = json_with_status(
        app.post_idem("/v1/refunds", &body, "refund-once").await,
        201,
    )
    .await;
    assert_eq!(found["status"], "succeeded", "{found}");
    assert_eq!(
        stripe_refunds(&app, &pi).await.len(),
        1,
        "Stripe made it once"
    );
    let retry = json_with_status(
        app.post_idem("/v1/refunds", &body, "refund-once").await,
        201,
    )
    .await;
    assert_eq!(retry["id"], found["id"]);
    assert_eq!(
        stripe_refunds(&app, &pi).await.len(),
        1,
        "and only that one"
    );

    faults(&app, json!({ "fail_saved_next": 1 })).await;
    let body = json!({ "payment": id, "amount": "5.00" });
    let next = json_with_status(
        app.post_idem("/v1/refunds", &body, "refund-saved-500")
            .await,
        201,
    )
    .await;
    assert_eq!(next["status"], "succeeded", "{next}");
    assert_eq!(stripe_refunds(&app, &pi).await.len(), 2, "one more refund");
    assert_eq!(payment(&app, &id).await["refunded_minor"], 1500);
    app.stop().await;
}

/// "Charges requiring conversion into your account's default settlement currency must meet the
/// equivalent minimum of the settlement currency" (docs.stripe.com/currencies). paygate knows
/// only the charge currency's own minimum, so it lets 60 JPY through (JPY's minimum is 50) and
/// Stripe refuses it on a USD account (about $0.40 < $0.50) with `amount_too_small`: the
/// merchant gets that reason on `amount`, and the payment ends failed instead of waiting open
/// for a creation that can never succeed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_charge_under_the_settlement_minimum_after_conversion_is_refused() {
    let db = TestDb::sqlite().await;
    let app = stripe_app(&db).await;
    let set = emulator(
        &app,
        reqwest::Method::POST,
        "/_emulator/account",
        Some(json!({ "settlement_currency": "usd" })),
    )
    .await;
    assert_eq!(set["settlement_currency"], "usd");
    let e = json_with_status(
        app.post(
            "/v1/payments",
            &json!({ "provider": "stripe", "amount": "60", "currency": "JPY" }),
        )
        .await,
        400,
    )
    .await;
    assert_eq!(e["param"], "amount", "{e}");
    assert!(
        e["detail"]
            .as_str()
            .unwrap()
            .starts_with("Amount must convert to at least 50 cents."),
        "{e}"
    );
    let (status, last_error): (String, String) =
        sqlx::query_as("SELECT status, last_error FROM payments")
            .fetch_one(&app.state.db.pool)
            .await
            .unwrap();
    assert_eq!(status, "failed");
    assert!(last_error.contains("convert"), "{last_error}");
    assert!(
        stripe_intents(&app).await.is_empty(),
        "nothing made at Stripe"
    );
    let ok = json_with_status(
        app.post(
            "/v1/payments",
            &json!({ "provider": "stripe", "amount": "100", "currency": "JPY" }),
        )
        .await,
        201,
    )
    .await;
    assert_eq!(ok["status"], "requires_payment_method");
    app.stop().await;
}

/// Stripe takes at most 50 metadata keys (docs.stripe.com/metadata) and paygate adds
/// `paygate_payment_id`: 50 merchant keys were accepted by paygate and then refused by Stripe
/// (the emulator enforces the limit). Now 49 is paygate's limit, checked before any call, and
/// paygate's own key cannot be supplied (or overwritten) by the merchant.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metadata_leaves_room_for_paygates_own_key() {
    let db = TestDb::sqlite().await;
    let app = stripe_app(&db).await;
    let keys = |n: usize| -> serde_json::Map<String, Value> {
        (0..n).map(|i| (format!("k{i}"), json!("v"))).collect()
    };
    let body = |metadata: serde_json::Map<String, Value>| json!({ "provider": "stripe", "amount": "5.00", "currency": "USD", "metadata": metadata });
    let calls = app.stripe.as_ref().unwrap().api_requests();
    let e = json_with_status(app.post("/v1/payments", &body(keys(50))).await, 400).await;
    assert_eq!(e["param"], "metadata", "{e}");
    let mut forged = keys(1);
    forged.insert("paygate_payment_id".into(), json!("pay_someone_else"));
    let e = json_with_status(app.post("/v1/payments", &body(forged)).await, 400).await;
    assert_eq!(e["param"], "metadata[paygate_payment_id]", "{e}");
    assert_eq!(
        app.stripe.as_ref().unwrap().api_requests(),
        calls,
        "refused before any call to Stripe"
    );
    let p = json_with_status(app.post("/v1/payments", &body(keys(49))).await, 201).await;
    let pi = app
        .stripe
        .as_ref()
        .unwrap()
        .payment_intent(p["provider_reference"].as_str().unwrap())
        .unwrap();
    let at_stripe = pi["metadata"].as_object().unwrap();
    assert_eq!(
        at_stripe.len(),
        50,
        "49 of the merchant's and paygate's own"
    );
    assert_eq!(at_stripe["paygate_payment_id"], p["id"]);
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn manual_capture_partial_refunds_and_over_refund() {
    let db = TestDb::sqlite().await;
    let app = stripe_app(&db).await;
    let p = pay(&app, "10.00", "USD", true).await;
    let id = p["id"].as_str().unwrap();
    let held = json_with_status(confirm(&app, id, "pm_card_visa").await, 200).await;
    assert_eq!(held["status"], "requires_capture");
    let captured = json_with_status(
        app.post(
            &format!("/v1/payments/{id}/capture"),
            &json!({ "amount": "6.00" }),
        )
        .await,
        200,
    )
    .await;
    assert_eq!(captured["status"], "succeeded");
    assert_eq!(captured["captured_minor"], 600);

    // 0.29 USD goes to Stripe as 29, never 28.
    let r1 = json_with_status(
        app.post("/v1/refunds", &json!({ "payment": id, "amount": "0.29" }))
            .await,
        201,
    )
    .await;
    assert_eq!(r1["status"], "succeeded");
    let refunds = emulator(
        &app,
        reqwest::Method::GET,
        &format!(
            "/v1/refunds?payment_intent={}",
            p["provider_reference"].as_str().unwrap()
        ),
        None,
    )
    .await;
    assert_eq!(refunds["data"][0]["amount"], 29);
    let e = json_with_status(
        app.post("/v1/refunds", &json!({ "payment": id, "amount": "5.72" }))
            .await,
        400,
    )
    .await;
    assert_eq!(e["code"], "refund_exceeds_remaining");
    let r2 = json_with_status(
        app.post("/v1/refunds", &json!({ "payment": id })).await,
        201,
    )
    .await;
    assert_eq!(r2["amount_minor"], 571);
    let after = payment(&app, id).await;
    assert_eq!(after["refunded_minor"], 600);
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cancel_releases_an_authorisation() {
    let db = TestDb::sqlite().await;
    let app = stripe_app(&db).await;
    let p = pay(&app, "1.230", "KWD", true).await;
    let id = p["id"].as_str().unwrap();
    let pi = p["provider_reference"].as_str().unwrap();
    assert_eq!(
        app.stripe.as_ref().unwrap().payment_intent(pi).unwrap()["amount"],
        1230,
        "1.230 KWD is sent as 1230"
    );
    json_with_status(confirm(&app, id, "pm_card_visa").await, 200).await;
    let c = json_with_status(
        app.post(&format!("/v1/payments/{id}/cancel"), &json!({}))
            .await,
        200,
    )
    .await;
    assert_eq!(c["status"], "canceled");
    assert_eq!(
        app.stripe.as_ref().unwrap().payment_intent(pi).unwrap()["status"],
        "canceled"
    );
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn amounts_stripe_cannot_take_are_refused_before_any_call() {
    let db = TestDb::sqlite().await;
    let app = stripe_app(&db).await;
    let before = app.stripe.as_ref().unwrap().received_request_bodies().len();
    let e = json_with_status(
        app.post(
            "/v1/payments",
            &json!({ "provider": "stripe", "amount": "1.234", "currency": "KWD" }),
        )
        .await,
        400,
    )
    .await;
    assert_eq!(e["code"], "amount_not_supported");
    assert_eq!(
        app.stripe.as_ref().unwrap().received_request_bodies().len(),
        before
    );
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pending_refund_settles_through_the_webhook() {
    let db = TestDb::sqlite().await;
    let app = stripe_app(&db).await;
    let p = pay(&app, "20.00", "EUR", false).await;
    let id = p["id"].as_str().unwrap().to_string();
    json_with_status(confirm(&app, &id, "pm_card_pendingRefund").await, 200).await;
    let r = json_with_status(
        app.post("/v1/refunds", &json!({ "payment": id, "amount": "5.00" }))
            .await,
        201,
    )
    .await;
    assert_eq!(r["status"], "pending");
    assert_eq!(payment(&app, &id).await["refunded_minor"], 0);
    let rid = r["id"].as_str().unwrap().to_string();
    let app_ref = &app;
    eventually("refund settled by webhook", Duration::from_secs(20), || {
        let rid = rid.clone();
        async move {
            json_with_status(app_ref.get(&format!("/v1/refunds/{rid}")).await, 200).await["status"]
                == "succeeded"
        }
    })
    .await;
    assert_eq!(payment(&app, &id).await["refunded_minor"], 500);
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn server_errors_and_lost_responses_are_retried_with_one_charge() {
    let db = TestDb::sqlite().await;
    let app = stripe_app(&db).await;
    let stripe = app.stripe.clone().unwrap();

    // Two 500s, then success: the client retries with the same Idempotency-Key.
    let p = pay(&app, "15.00", "USD", false).await;
    let id = p["id"].as_str().unwrap();
    faults(&app, json!({ "fail_next": 2, "status": 500 })).await;
    let ok = json_with_status(confirm(&app, id, "pm_card_visa").await, 200).await;
    assert_eq!(ok["status"], "succeeded");

    // The charge is made but the answer is lost: the retry replays it, no second charge.
    let before = stripe.charges_count();
    let p2 = pay(&app, "16.00", "USD", false).await;
    let id2 = p2["id"].as_str().unwrap();
    faults(&app, json!({ "lose_response_next": 1 })).await;
    let ok = json_with_status(confirm(&app, id2, "pm_card_visa").await, 200).await;
    assert_eq!(ok["status"], "succeeded");
    assert_eq!(stripe.charges_count(), before + 1, "exactly one charge");

    // 429 then success.
    let p3 = pay(&app, "17.00", "USD", false).await;
    faults(
        &app,
        json!({ "fail_next": 1, "status": 429, "retry_after": 1 }),
    )
    .await;
    let ok = json_with_status(
        confirm(&app, p3["id"].as_str().unwrap(), "pm_card_visa").await,
        200,
    )
    .await;
    assert_eq!(ok["status"], "succeeded");

    // Connection resets on creation: retried, one PaymentIntent at Stripe.
    let pis_before = emulator(
        &app,
        reqwest::Method::GET,
        "/v1/payment_intents?limit=100",
        None,
    )
    .await["data"]
        .as_array()
        .unwrap()
        .len();
    faults(&app, json!({ "reset_next": 1 })).await;
    pay(&app, "18.00", "USD", false).await;
    let pis_after = emulator(
        &app,
        reqwest::Method::GET,
        "/v1/payment_intents?limit=100",
        None,
    )
    .await["data"]
        .as_array()
        .unwrap()
        .len();
    assert_eq!(pis_after, pis_before + 1);

    // Failing for longer than the retries: 503, and the payment stays open for reconciliation.
    let p4 = pay(&app, "19.00", "USD", false).await;
    faults(&app, json!({ "fail_next": 10, "status": 503 })).await;
    let e = json_with_status(
        confirm(&app, p4["id"].as_str().unwrap(), "pm_card_visa").await,
        503,
    )
    .await;
    assert_eq!(e["code"], "provider_unavailable");
    emulator(&app, reqwest::Method::DELETE, "/_emulator/faults", None).await;
    assert_eq!(
        payment(&app, p4["id"].as_str().unwrap()).await["status"],
        "requires_payment_method"
    );
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn customers_and_subscriptions_both_ways() {
    let db = TestDb::sqlite().await;
    let app = stripe_app(&db).await;
    let c = json_with_status(
        app.post(
            "/v1/customers",
            &json!({ "email": "ada@example.com", "name": "Ada", "payment_method": "pm_card_visa" }),
        )
        .await,
        201,
    )
    .await;
    assert!(c["stripe_customer"].as_str().unwrap().starts_with("cus_"));
    let default_pm = c["default_payment_method"].as_str().unwrap();
    assert!(
        default_pm.starts_with("pm_") && default_pm != "pm_card_visa",
        "Stripe's own id for the attached card: {default_pm}"
    );
    let got = json_with_status(
        app.get(&format!("/v1/customers/{}", c["id"].as_str().unwrap()))
            .await,
        200,
    )
    .await;
    assert_eq!(got["email"], "ada@example.com");

    let s = json_with_status(
        app.post(
            "/v1/subscriptions",
            &json!({ "customer": c["id"], "price": "price_paygate_pro_monthly" }),
        )
        .await,
        201,
    )
    .await;
    assert_eq!(s["status"], "active", "{s}");
    assert!(s["current_period_end"].as_i64().unwrap() > app.state.clock.now_secs());
    let sid = s["id"].as_str().unwrap();
    let at_end = json_with_status(
        app.request(
            reqwest::Method::DELETE,
            &format!("/v1/subscriptions/{sid}?at_period_end=true"),
        )
        .send()
        .await
        .unwrap(),
        200,
    )
    .await;
    assert_eq!(at_end["cancel_at_period_end"], true);
    assert_eq!(at_end["status"], "active");
    let now = json_with_status(
        app.request(reqwest::Method::DELETE, &format!("/v1/subscriptions/{sid}"))
            .send()
            .await
            .unwrap(),
        200,
    )
    .await;
    assert_eq!(now["status"], "canceled");

    // default_incomplete: the customer must confirm the first invoice; the client secret says so.
    let c2 = json_with_status(
        app.post("/v1/customers", &json!({ "email": "grace@example.com" }))
            .await,
        201,
    )
    .await;
    let s2 = json_with_status(
        app.post(
            "/v1/subscriptions",
            &json!({ "customer": c2["id"], "price": "price_paygate_pro_yearly", "payment_behavior": "default_incomplete" }),
        )
        .await,
        201,
    )
    .await;
    assert_eq!(s2["status"], "incomplete");
    assert!(s2["client_secret"].as_str().unwrap().contains("_secret_"));
    // With a trial nothing is charged now.
    let s3 = json_with_status(
        app.post(
            "/v1/subscriptions",
            &json!({ "customer": c["id"], "price": "price_paygate_pro_monthly", "trial_days": 14 }),
        )
        .await,
        201,
    )
    .await;
    assert_eq!(s3["status"], "trialing");
    let e = json_with_status(
        app.post(
            "/v1/subscriptions",
            &json!({ "customer": "cus_nope", "price": "price_paygate_pro_monthly" }),
        )
        .await,
        404,
    )
    .await;
    assert_eq!(e["param"], "customer");
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_timed_out_confirmation_is_never_charged_twice() {
    let db = TestDb::sqlite().await;
    let app = spawn_app(
        &db,
        AppOptions {
            vars: vec![("PAYGATE_PROVIDER_TIMEOUT_SECS", "1".into())],
            ..AppOptions::default()
        },
    )
    .await;
    let stripe = app.stripe.clone().unwrap();
    let p = pay(&app, "21.00", "USD", false).await;
    let id = p["id"].as_str().unwrap();
    // The answer takes longer than paygate waits: the first attempt times out while Stripe
    // goes on and charges; the retry carries the same Idempotency-Key and gets that result.
    let before = stripe.charges_count();
    faults(&app, json!({ "latency_ms": 1500 })).await;
    let ok = json_with_status(confirm(&app, id, "pm_card_visa").await, 200).await;
    emulator(&app, reqwest::Method::DELETE, "/_emulator/faults", None).await;
    assert_eq!(ok["status"], "succeeded");
    assert_eq!(stripe.charges_count(), before + 1, "exactly one charge");
    // A later retry of the same confirmation is refused by state, never charged again.
    let e = json_with_status(confirm(&app, id, "pm_card_visa").await, 409).await;
    assert_eq!(e["code"], "invalid_state");
    assert_eq!(stripe.charges_count(), before + 1);
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_methods_get_the_envelope() {
    let db = TestDb::sqlite().await;
    let app = stripe_app(&db).await;
    let e = json_with_status(
        app.request(reqwest::Method::DELETE, "/v1/payments")
            .send()
            .await
            .unwrap(),
        405,
    )
    .await;
    assert_eq!(e["code"], "method_not_allowed");
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_d_secure_completed_and_failed() {
    let db = TestDb::sqlite().await;
    let app = stripe_app(&db).await;
    for (outcome, expected) in [
        ("complete", "succeeded"),
        ("fail", "requires_payment_method"),
    ] {
        let p = pay(&app, "30.00", "EUR", false).await;
        let id = p["id"].as_str().unwrap();
        let pi = p["provider_reference"].as_str().unwrap().to_string();
        let needs = json_with_status(
            confirm(&app, id, "pm_card_authenticationRequired").await,
            200,
        )
        .await;
        assert_eq!(needs["status"], "requires_action", "3-D Secure asked for");
        assert!(needs["next_action"]["type"].is_string(), "{needs}");
        // The customer answers the challenge (what the 3-D Secure page posts).
        let secret = app.stripe.as_ref().unwrap().payment_intent(&pi).unwrap()["client_secret"]
            .as_str()
            .unwrap()
            .to_string();
        let res = app
            .client
            .post(format!(
                "{}/3ds/{pi}/{outcome}",
                app.state.config.stripe.api_base
            ))
            .form(&[("client_secret", secret.as_str())])
            .send()
            .await
            .unwrap();
        assert!(
            res.status().is_success() || res.status().is_redirection(),
            "{}",
            res.status()
        );
        // The server learns the outcome from Stripe (webhook, or a re-read on the next action).
        let app_ref = &app;
        let id2 = id.to_string();
        eventually(
            "3-D Secure outcome recorded",
            Duration::from_secs(15),
            || {
                let id2 = id2.clone();
                async move { payment(app_ref, &id2).await["status"] == expected }
            },
        )
        .await;
        if outcome == "fail" {
            let failed = payment(&app, id).await;
            assert_eq!(
                failed["last_error"]["code"],
                "payment_intent_authentication_failure"
            );
        }
    }
    app.stop().await;
}

/// A refund whose outcome the caller never learnt (every answer from Stripe lost, so paygate
/// answers 5xx and releases the Idempotency-Key) is retried with the same key: the retry finds
/// the same refund and asks Stripe again with the same idempotency key, so money goes back once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refund_retried_after_an_unknown_outcome_refunds_once() {
    let db = TestDb::sqlite().await;
    let app = stripe_app(&db).await;
    let (id, pi) = card_paid(&app, "30.00", "USD").await;
    let (id, pi) = (id.as_str(), pi.as_str());
    let body = json!({ "payment": id, "amount": "10.00" });

    faults(&app, json!({ "lose_response_next": 20 })).await;
    let lost = app.post_idem("/v1/refunds", &body, "refund-once").await;
    assert!(lost.status().is_server_error(), "{}", lost.status());
    emulator(&app, reqwest::Method::DELETE, "/_emulator/faults", None).await;
    // Stripe made the refund; paygate does not know yet.
    let at_stripe = stripe_refunds(&app, pi).await;
    assert_eq!(at_stripe.len(), 1, "{at_stripe:?}");

    let again = json_with_status(
        app.post_idem("/v1/refunds", &body, "refund-once").await,
        201,
    )
    .await;
    assert_eq!(again["status"], "succeeded");
    assert_eq!(again["amount"], "10.00");
    let at_stripe = stripe_refunds(&app, pi).await;
    assert_eq!(at_stripe.len(), 1, "still one refund: {at_stripe:?}");
    assert_eq!(again["provider_reference"], at_stripe[0]["id"]);
    assert_eq!(payment(&app, id).await["refunded_minor"], 1000);
    // The replay of the stored answer, then a new request (new key): a second, real refund.
    let replay = json_with_status(
        app.post_idem("/v1/refunds", &body, "refund-once").await,
        201,
    )
    .await;
    assert_eq!(replay["id"], again["id"]);
    json_with_status(
        app.post_idem("/v1/refunds", &body, "refund-twice").await,
        201,
    )
    .await;
    assert_eq!(payment(&app, id).await["refunded_minor"], 2000);
    let refunds: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM refunds WHERE payment_id = $1")
        .bind(id)
        .fetch_one(&app.state.db.pool)
        .await
        .unwrap();
    assert_eq!(refunds, 2);
    app.stop().await;
}

/// A payment whose creation the caller never learnt (Stripe's answers lost, so paygate answers
/// 5xx and releases the Idempotency-Key) is retried with the same key: the payment's id is
/// derived from the key, so the retry finds the same payment and asks Stripe again with the
/// same idempotency key: one PaymentIntent, one payment. The same key with another amount is
/// refused and changes nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_payment_retried_after_an_unknown_outcome_is_made_once() {
    let db = TestDb::sqlite().await;
    let app = stripe_app(&db).await;
    let body = json!({ "provider": "stripe", "amount": "12.00", "currency": "EUR" });
    faults(&app, json!({ "lose_response_next": 20 })).await;
    let lost = app.post_idem("/v1/payments", &body, "order-77").await;
    assert!(lost.status().is_server_error(), "{}", lost.status());
    emulator(&app, reqwest::Method::DELETE, "/_emulator/faults", None).await;
    let at_stripe = stripe_intents(&app).await;
    assert_eq!(at_stripe.len(), 1, "Stripe made it: {at_stripe:?}");

    let again = json_with_status(app.post_idem("/v1/payments", &body, "order-77").await, 201).await;
    assert_eq!(again["provider_reference"], at_stripe[0]["id"]);
    assert_eq!(again["status"], "requires_payment_method");
    let at_stripe = stripe_intents(&app).await;
    assert_eq!(at_stripe.len(), 1, "still one PaymentIntent: {at_stripe:?}");
    assert_eq!(app.count("SELECT COUNT(*) FROM payments").await, 1);

    // Another lost answer, then the same key with another amount: nothing was stored for the
    // key, and the payment it names was asked for with other parameters: refused, no change.
    faults(&app, json!({ "lose_response_next": 20 })).await;
    let lost = app.post_idem("/v1/payments", &body, "order-78").await;
    assert!(lost.status().is_server_error(), "{}", lost.status());
    emulator(&app, reqwest::Method::DELETE, "/_emulator/faults", None).await;
    let other = json!({ "provider": "stripe", "amount": "13.00", "currency": "EUR" });
    let refused =
        json_with_status(app.post_idem("/v1/payments", &other, "order-78").await, 422).await;
    assert_eq!(refused["code"], "idempotency_key_reused");
    assert_eq!(app.count("SELECT COUNT(*) FROM payments").await, 2);
    assert_eq!(stripe_intents(&app).await.len(), 2);
    // A new key is a new payment.
    json_with_status(app.post_idem("/v1/payments", &body, "order-79").await, 201).await;
    assert_eq!(app.count("SELECT COUNT(*) FROM payments").await, 3);
    assert_eq!(stripe_intents(&app).await.len(), 3);
    app.stop().await;
}

/// A refund made in Stripe's Dashboard (a direct API call to Stripe) arrives by webhook and is
/// recorded once, in paygate's minor units; paygate's own refunds are recognised by their
/// `metadata[paygate_refund_id]` and not recorded twice.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refund_made_in_the_stripe_dashboard_is_recorded_once() {
    let db = TestDb::sqlite().await;
    let app = stripe_app(&db).await;
    let (id, pi) = card_paid(&app, "25.00", "EUR").await;
    let (id, pi) = (id.as_str(), pi.as_str());
    let res = app
        .client
        .post(format!("{}/v1/refunds", app.state.config.stripe.api_base))
        .bearer_auth(paygate::config::EMULATOR_STRIPE_SECRET_KEY)
        .form(&[("payment_intent", pi), ("amount", "700")])
        .send()
        .await
        .unwrap();
    assert!(res.status().is_success(), "{}", res.text().await.unwrap());
    eventually(
        "the Dashboard refund recorded",
        Duration::from_secs(10),
        || async { payment(&app, id).await["refunded_minor"] == 700 },
    )
    .await;
    let rest = json_with_status(
        app.post("/v1/refunds", &json!({ "payment": id })).await,
        201,
    )
    .await;
    assert_eq!(rest["amount"], "18.00");
    eventually("every webhook applied", Duration::from_secs(10), || async {
        app.count("SELECT COUNT(*) FROM provider_events WHERE processed_at IS NULL")
            .await
            == 0
            && app
                .count("SELECT COUNT(*) FROM provider_events WHERE event_type = 'charge.refunded'")
                .await
                >= 2
    })
    .await;
    assert_eq!(app.count("SELECT COUNT(*) FROM refunds").await, 2);
    assert_eq!(payment(&app, id).await["refunded_minor"], 2500);
    app.stop().await;
}

/// A refund whose answer was lost, whose webhooks never arrive (paygate has another endpoint
/// secret, so it rejects them) and that nobody retries, is settled by reconciliation: it asks
/// Stripe again with the same idempotency key and records the one refund Stripe made.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reconciliation_settles_a_refund_whose_answer_and_webhooks_were_lost() {
    let db = TestDb::sqlite().await;
    let app = spawn_app(
        &db,
        AppOptions {
            vars: vec![("STRIPE_WEBHOOK_SECRET", "whsec_not_the_emulators".into())],
            ..AppOptions::default()
        },
    )
    .await;
    let (id, pi) = card_paid(&app, "12.00", "USD").await;
    let (id, pi) = (id.as_str(), pi.as_str());
    faults(&app, json!({ "lose_response_next": 20 })).await;
    let lost = app
        .post("/v1/refunds", &json!({ "payment": id, "amount": "4.00" }))
        .await;
    assert!(lost.status().is_server_error(), "{}", lost.status());
    emulator(&app, reqwest::Method::DELETE, "/_emulator/faults", None).await;
    assert_eq!(
        app.count("SELECT COUNT(*) FROM refunds WHERE status = 'pending'")
            .await,
        1
    );
    assert_eq!(payment(&app, id).await["refunded_minor"], 0);

    // Not before the deadline...
    paygate::reconcile::reconcile_once(&app.state)
        .await
        .unwrap();
    assert_eq!(
        app.count("SELECT COUNT(*) FROM refunds WHERE status = 'pending'")
            .await,
        1
    );
    // ...then it is settled, with Stripe's refund, and Stripe still has exactly one.
    app.state
        .clock
        .advance(app.state.config.reconcile_after + Duration::from_secs(1));
    paygate::reconcile::reconcile_once(&app.state)
        .await
        .unwrap();
    assert_eq!(
        app.count("SELECT COUNT(*) FROM refunds WHERE status = 'succeeded'")
            .await,
        1
    );
    assert_eq!(payment(&app, id).await["refunded_minor"], 400);
    let at_stripe = stripe_refunds(&app, pi).await;
    assert_eq!(at_stripe.len(), 1, "{at_stripe:?}");
    app.stop().await;
}

/// The widget asks for a PaymentIntent; Stripe makes it but every answer is lost (paygate's
/// client retries with the same key and gets nothing back either), so the widget gets a 5xx and
/// the payment has no PaymentIntent on record. The widget's retry resumes that payment (found
/// at Stripe by paygate's id) instead of making a second PaymentIntent for the session, and the
/// customer pays it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_widget_payment_whose_creation_answer_was_lost_is_resumed_not_made_twice() {
    let db = TestDb::sqlite().await;
    let app = stripe_app(&db).await;
    let session = app
        .create_session(&json!({ "amount": "9.00", "currency": "USD" }))
        .await;
    let sid = session["id"].as_str().unwrap();
    faults(&app, json!({ "lose_response_next": 20 })).await;
    let lost = app.widget_post(sid, "stripe/intent").await;
    assert!(lost.status().is_server_error(), "{}", lost.status());
    emulator(&app, reqwest::Method::DELETE, "/_emulator/faults", None).await;
    let intents = || async {
        emulator(&app, reqwest::Method::GET, "/_emulator/state", None).await["payment_intents"]
            .as_i64()
            .unwrap()
    };
    assert_eq!(intents().await, 1, "Stripe made the PaymentIntent");
    assert_eq!(
        app.count("SELECT COUNT(*) FROM payments WHERE provider_reference IS NULL")
            .await,
        1
    );
    let lost_payment: String = sqlx::query_scalar("SELECT id FROM payments")
        .fetch_one(&app.state.db.pool)
        .await
        .unwrap();

    // At once, the creation could still be under way elsewhere: wait.
    let wait = json_with_status(app.widget_post(sid, "stripe/intent").await, 409).await;
    assert_eq!(wait["code"], "payment_in_progress");
    assert_eq!(intents().await, 1);
    app.state
        .clock
        .advance(app.state.config.provider_timeout * 2);
    let intent = json_with_status(app.widget_post(sid, "stripe/intent").await, 200).await;
    assert_eq!(intent["payment"], lost_payment.as_str(), "the same payment");
    assert_eq!(intents().await, 1, "no second PaymentIntent");
    app.stripe_js_confirm(intent["client_secret"].as_str().unwrap(), "pm_card_visa")
        .await;
    let done = json_with_status(app.widget_post(sid, "stripe/complete").await, 200).await;
    assert_eq!(done["session"], "complete", "{done}");
    assert_eq!(app.count("SELECT COUNT(*) FROM payments").await, 1);
    app.stop().await;
}

/// `/metrics` reports paygate's own time per payment creation, without the provider's: with
/// Stripe taking 400 ms per answer, two creations take at least 800 ms in all, and paygate's own
/// share stays well under that.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn own_time_per_payment_leaves_out_the_provider() {
    let db = TestDb::sqlite().await;
    let app = stripe_app(&db).await;
    faults(&app, json!({ "latency_ms": 400 })).await;
    let started = std::time::Instant::now();
    pay(&app, "5.00", "USD", false).await;
    pay(&app, "6.00", "USD", false).await;
    assert!(started.elapsed() >= Duration::from_millis(800));
    let metrics = app.metrics_text().await;
    let value = |name: &str| -> f64 {
        metrics
            .lines()
            .find(|l| l.starts_with(name))
            .and_then(|l| l.rsplit(' ').next())
            .and_then(|v| v.parse().ok())
            .unwrap_or_else(|| panic!("{name} missing:\n{metrics}"))
    };
    assert_eq!(value("paygate_payment_own_seconds_count"), 2.0);
    let own = value("paygate_payment_own_seconds_sum");
    assert!(own > 0.0 && own < 0.4, "paygate's own time {own} s");
    app.stop().await;
}
