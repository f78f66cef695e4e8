//! `POST /webhooks/stripe` with paygate's real Stripe verification: valid, tampered, wrong
//! secret, stale, missing header, duplicates, reversed order, and durability across a restart.
//! Signatures here are computed by the test itself (HMAC-SHA256 over "t.body").

use paygate::config::EMULATOR_STRIPE_WEBHOOK_SECRET;
use paygate_tests::app::json_with_status;
use paygate_tests::webhooks_in::{processed, stripe_signature};
use paygate_tests::{spawn_app, AppOptions, TestApp, TestDb};
use serde_json::{json, Value};
use shared::api::ProviderName;

fn pi_event(id: &str, kind: &str, pi: &str, status: &str, amount: i64) -> String {
    json!({
        "id": id, "object": "event", "type": kind, "api_version": "2024-06-20", "livemode": false,
        "data": { "object": { "id": pi, "object": "payment_intent", "status": status, "amount": amount,
                              "amount_received": if status == "succeeded" { amount } else { 0 }, "currency": "usd" } }
    })
    .to_string()
}

async fn post(app: &TestApp, body: &str, signature: Option<String>) -> reqwest::Response {
    let mut req = app
        .client
        .post(format!("{}/webhooks/stripe", app.url))
        .body(body.to_string());
    if let Some(s) = signature {
        req = req.header("Stripe-Signature", s);
    }
    req.send().await.unwrap()
}

/// A payment whose PaymentIntent these tests describe with their own events. Its reference
/// names no object the emulator knows, so paygate cannot read the current state back and
/// applies the (verified) event's snapshot — the path these tests are about; and the
/// emulator's own webhooks for the real PaymentIntent do not touch it.
async fn new_payment(app: &TestApp) -> (String, String) {
    let (id, _) = app.new_stripe_payment().await;
    let reference = format!("pi_described_{}", &id[4..]);
    sqlx::query("UPDATE payments SET provider_reference = $1 WHERE id = $2")
        .bind(&reference)
        .bind(&id)
        .execute(&app.state.db.pool)
        .await
        .unwrap();
    (id, reference)
}

async fn status(app: &TestApp, id: &str) -> Value {
    json_with_status(app.get(&format!("/v1/payments/{id}")).await, 200).await["status"].clone()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn signatures_are_checked_on_the_raw_body() {
    let db = TestDb::sqlite().await;
    let app = spawn_app(&db, AppOptions::default()).await;
    let (id, pi) = new_payment(&app).await;
    let now = app.state.clock.now_secs();
    let body = pi_event(
        "evt_test_1",
        "payment_intent.succeeded",
        &pi,
        "succeeded",
        1200,
    );

    for (what, sig, body) in [
        ("missing header", None, body.clone()),
        (
            "wrong secret",
            Some(stripe_signature("whsec_someone_else", now, &body)),
            body.clone(),
        ),
        (
            "stale timestamp",
            Some(stripe_signature(
                EMULATOR_STRIPE_WEBHOOK_SECRET,
                now - 301,
                &body,
            )),
            body.clone(),
        ),
        (
            "tampered body",
            Some(stripe_signature(EMULATOR_STRIPE_WEBHOOK_SECRET, now, &body)),
            body.replace("1200", "1"),
        ),
        ("malformed header", Some("v1=abc".to_string()), body.clone()),
        (
            "v0 only",
            Some(
                stripe_signature(EMULATOR_STRIPE_WEBHOOK_SECRET, now, &body).replace("v1=", "v0="),
            ),
            body.clone(),
        ),
    ] {
        let res = post(&app, &body, sig).await;
        let e = json_with_status(res, 400).await;
        assert_eq!(e["code"], "webhook_unverified", "{what}");
    }
    assert_eq!(
        app.count("SELECT COUNT(*) FROM provider_events WHERE event_id = 'evt_test_1'")
            .await,
        0,
        "nothing stored"
    );
    assert_eq!(
        status(&app, &id).await,
        "requires_payment_method",
        "nothing changed"
    );

    // Rotation: a header with two v1 values, one from an old secret.
    let rotated = format!(
        "{},v1={}",
        stripe_signature(EMULATOR_STRIPE_WEBHOOK_SECRET, now, &body),
        "00".repeat(32)
    );
    json_with_status(post(&app, &body, Some(rotated)).await, 200).await;
    assert_eq!(
        processed(&app, ProviderName::Stripe, "evt_test_1")
            .await
            .outcome
            .as_deref(),
        Some("applied")
    );
    assert_eq!(status(&app, &id).await, "succeeded");
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn duplicates_and_reversed_order_have_no_effect() {
    let db = TestDb::sqlite().await;
    let app = spawn_app(&db, AppOptions::default()).await;
    let (id, pi) = new_payment(&app).await;
    let now = app.state.clock.now_secs();
    let succeeded = pi_event("evt_b", "payment_intent.succeeded", &pi, "succeeded", 1200);
    let processing = pi_event(
        "evt_a",
        "payment_intent.processing",
        &pi,
        "processing",
        1200,
    );
    for _ in 0..2 {
        let ack = json_with_status(
            post(
                &app,
                &succeeded,
                Some(stripe_signature(
                    EMULATOR_STRIPE_WEBHOOK_SECRET,
                    now,
                    &succeeded,
                )),
            )
            .await,
            200,
        )
        .await;
        assert_eq!(ack["received"], true);
    }
    processed(&app, ProviderName::Stripe, "evt_b").await;
    json_with_status(
        post(
            &app,
            &processing,
            Some(stripe_signature(
                EMULATOR_STRIPE_WEBHOOK_SECRET,
                now,
                &processing,
            )),
        )
        .await,
        200,
    )
    .await;
    assert_eq!(
        processed(&app, ProviderName::Stripe, "evt_a")
            .await
            .outcome
            .as_deref(),
        Some("refused_transition")
    );
    assert_eq!(status(&app, &id).await, "succeeded");
    assert_eq!(
        app.count(&format!(
            "SELECT COUNT(*) FROM events WHERE object_id = '{id}' AND type = 'payment.succeeded'"
        ))
        .await,
        1
    );

    // Unknown types are stored and acknowledged.
    let other = json!({ "id": "evt_c", "object": "event", "type": "radar.early_fraud_warning.created", "data": { "object": {} } }).to_string();
    json_with_status(
        post(
            &app,
            &other,
            Some(stripe_signature(
                EMULATOR_STRIPE_WEBHOOK_SECRET,
                now,
                &other,
            )),
        )
        .await,
        200,
    )
    .await;
    assert_eq!(
        processed(&app, ProviderName::Stripe, "evt_c")
            .await
            .outcome
            .as_deref(),
        Some("ignored")
    );

    // A dispute is recorded on the payment's timeline.
    let dispute = json!({ "id": "evt_d", "object": "event", "type": "charge.dispute.created",
        "api_version": "2024-06-20", "data": { "object": { "id": "dp_1", "object": "dispute", "payment_intent": pi, "reason": "fraudulent", "amount": 1200, "currency": "usd" } } }).to_string();
    json_with_status(
        post(
            &app,
            &dispute,
            Some(stripe_signature(
                EMULATOR_STRIPE_WEBHOOK_SECRET,
                now,
                &dispute,
            )),
        )
        .await,
        200,
    )
    .await;
    processed(&app, ProviderName::Stripe, "evt_d").await;
    let timeline = paygate::payments::timeline::list(&app.state.db, &id)
        .await
        .unwrap();
    let d = timeline
        .iter()
        .find(|t| t.kind == "dispute_opened")
        .expect("dispute on the timeline");
    assert_eq!(d.detail["dispute"]["reason"], "fraudulent");
    assert_eq!(d.detail["dispute"]["amount_minor"], 1200);
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_event_acknowledged_before_a_stop_is_applied_after_the_restart() {
    let db = TestDb::sqlite().await;
    let app = spawn_app(
        &db,
        AppOptions {
            inbox_worker: false,
            ..AppOptions::default()
        },
    )
    .await;
    let (id, pi) = new_payment(&app).await;
    let now = app.state.clock.now_secs();
    let body = pi_event(
        "evt_restart",
        "payment_intent.succeeded",
        &pi,
        "succeeded",
        1200,
    );
    json_with_status(
        post(
            &app,
            &body,
            Some(stripe_signature(EMULATOR_STRIPE_WEBHOOK_SECRET, now, &body)),
        )
        .await,
        200,
    )
    .await;
    assert_eq!(status(&app, &id).await, "requires_payment_method");
    app.stop().await;

    let app = spawn_app(&db, AppOptions::default()).await;
    assert_eq!(
        processed(&app, ProviderName::Stripe, "evt_restart")
            .await
            .outcome
            .as_deref(),
        Some("applied")
    );
    assert_eq!(status(&app, &id).await, "succeeded");
    app.stop().await;
}

/// A burst of deliveries, each event twice at once (Stripe retries while the first delivery is
/// still being answered): on SQLite they share group commits, on PostgreSQL they are plain
/// concurrent inserts. Every event is stored once, exactly one of its two deliveries is told it
/// is new, and every one is acknowledged only once stored (all are there when the burst ends).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_burst_of_concurrent_deliveries_stores_each_event_once() {
    for db in [Some(TestDb::sqlite().await), TestDb::postgres().await]
        .into_iter()
        .flatten()
    {
        let app = spawn_app(
            &db,
            AppOptions {
                inbox_worker: false,
                ..AppOptions::default()
            },
        )
        .await;
        let now = app.state.clock.now_secs();
        let mut deliveries = Vec::new();
        for n in 0..30 {
            let body = pi_event(
                &format!("evt_burst_{n}"),
                "payment_intent.processing",
                &format!("pi_burst_{n}"),
                "processing",
                1000,
            );
            for _ in 0..2 {
                let (app, body) = (&app, body.clone());
                deliveries.push(async move {
                    let signature = stripe_signature(EMULATOR_STRIPE_WEBHOOK_SECRET, now, &body);
                    json_with_status(post(app, &body, Some(signature)).await, 200).await
                });
            }
        }
        let answers = futures::future::join_all(deliveries).await;
        let new = answers.iter().filter(|a| a["duplicate"] == false).count();
        assert_eq!(new, 30, "one delivery of each event is the new one");
        let stored: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM provider_events WHERE event_id LIKE 'evt_burst_%'",
        )
        .fetch_one(&app.state.db.pool)
        .await
        .unwrap();
        assert_eq!(stored, 30);
        app.stop().await;
    }
}
