//! Capture, cancel, confirm and refunds through the provider abstraction (a test provider),
//! on SQLite and PostgreSQL: state rules, partial amounts, and refunds that can never exceed
//! what is left, even when two arrive at once.

use futures::future::join_all;
use paygate::providers::RefundStatus;
use paygate_tests::app::json_with_status;
use paygate_tests::{on_both_databases, spawn_app, AppOptions, TestApp, TestDb, TestProvider};
use serde_json::{json, Value};
use shared::api::{PaymentStatus, ProviderName};
use std::sync::Arc;
use std::time::Duration;

on_both_databases!(
    manual_capture_partial_then_refunds_up_to_the_captured_amount,
    concurrent_partial_refunds_cannot_exceed_what_is_left,
    pending_refunds_count_and_settle_by_webhook,
    cancel_and_state_rules,
);

async fn create(app: &TestApp, amount: &str, manual: bool) -> Value {
    json_with_status(
        app.post(
            "/v1/payments",
            &json!({ "provider": "paypal", "amount": amount, "currency": "USD", "capture_mode": if manual { "manual" } else { "automatic" } }),
        )
        .await,
        201,
    )
    .await
}

fn provider(status: PaymentStatus) -> Arc<TestProvider> {
    let p = Arc::new(TestProvider::new(ProviderName::Paypal).with_delay(Duration::from_millis(50)));
    *p.initial_status.lock().unwrap() = status;
    p
}

async fn manual_capture_partial_then_refunds_up_to_the_captured_amount(db: TestDb) {
    let p = provider(PaymentStatus::RequiresCapture);
    let app = spawn_app(
        &db,
        AppOptions {
            providers: vec![p.clone()],
            ..AppOptions::default()
        },
    )
    .await;
    let pay = create(&app, "50.00", true).await;
    let id = pay["id"].as_str().unwrap();
    // Refund before capture: refused.
    let e = json_with_status(
        app.post("/v1/refunds", &json!({ "payment": id })).await,
        409,
    )
    .await;
    assert_eq!(e["code"], "payment_not_refundable");
    let e = json_with_status(
        app.post(
            &format!("/v1/payments/{id}/capture"),
            &json!({ "amount": "50.01" }),
        )
        .await,
        400,
    )
    .await;
    assert_eq!(e["param"], "amount");
    let captured = json_with_status(
        app.post(
            &format!("/v1/payments/{id}/capture"),
            &json!({ "amount": "30.00" }),
        )
        .await,
        200,
    )
    .await;
    assert_eq!(captured["status"], "succeeded");
    assert_eq!(captured["captured_minor"], 3000);
    // Capturing twice: the state forbids it.
    let e = json_with_status(
        app.post(&format!("/v1/payments/{id}/capture"), &json!({}))
            .await,
        409,
    )
    .await;
    assert_eq!(e["code"], "invalid_state");

    let r1 = json_with_status(
        app.post(
            "/v1/refunds",
            &json!({ "payment": id, "amount": "10.00", "reason": "requested_by_customer" }),
        )
        .await,
        201,
    )
    .await;
    assert_eq!(r1["status"], "succeeded");
    assert_eq!(r1["amount_minor"], 1000);
    let e = json_with_status(
        app.post("/v1/refunds", &json!({ "payment": id, "amount": "20.01" }))
            .await,
        400,
    )
    .await;
    assert_eq!(e["code"], "refund_exceeds_remaining");
    // Without an amount: everything left.
    let r2 = json_with_status(
        app.post("/v1/refunds", &json!({ "payment": id })).await,
        201,
    )
    .await;
    assert_eq!(r2["amount_minor"], 2000);
    let e = json_with_status(
        app.post("/v1/refunds", &json!({ "payment": id, "amount": "0.01" }))
            .await,
        409,
    )
    .await;
    assert_eq!(e["code"], "payment_fully_refunded");
    let payment = json_with_status(app.get(&format!("/v1/payments/{id}")).await, 200).await;
    assert_eq!(payment["refunded_minor"], 3000);
    assert_eq!(
        p.refund_calls(),
        2,
        "refused refunds never reach the provider"
    );
    let got = json_with_status(
        app.get(&format!("/v1/refunds/{}", r1["id"].as_str().unwrap()))
            .await,
        200,
    )
    .await;
    assert_eq!(got, r1);
    for (body, param) in [
        (json!({ "payment": id, "amount": "1.001" }), "amount"),
        (json!({ "payment": "pay_nope" }), "payment"),
        (json!({ "payment": id, "reason": "because" }), "reason"),
    ] {
        let res = app.post("/v1/refunds", &body).await;
        assert!(res.status() == 400 || res.status() == 404, "{body}");
        let e: Value = res.json().await.unwrap();
        assert_eq!(e["param"], param, "{body} -> {e}");
    }
    app.stop().await;
}

async fn concurrent_partial_refunds_cannot_exceed_what_is_left(db: TestDb) {
    let p = provider(PaymentStatus::Succeeded);
    let app = spawn_app(
        &db,
        AppOptions {
            providers: vec![p.clone()],
            ..AppOptions::default()
        },
    )
    .await;
    let pay = create(&app, "10.00", false).await;
    let id = pay["id"].as_str().unwrap().to_string();
    // Mark it captured as the provider reports it.
    sqlx::query("UPDATE payments SET captured_minor = amount_minor WHERE id = $1")
        .bind(&id)
        .execute(&app.state.db.pool)
        .await
        .unwrap();
    let answers = join_all((0..8).map(|_| async {
        app.post("/v1/refunds", &json!({ "payment": id, "amount": "3.00" }))
            .await
            .status()
            .as_u16()
    }))
    .await;
    let ok = answers.iter().filter(|s| **s == 201).count();
    assert_eq!(
        ok, 3,
        "3 × 3.00 fit in 10.00, a fourth does not: {answers:?}"
    );
    assert!(
        answers.iter().all(|s| *s == 201 || *s == 400),
        "{answers:?}"
    );
    let payment = json_with_status(app.get(&format!("/v1/payments/{id}")).await, 200).await;
    assert_eq!(payment["refunded_minor"], 900);
    assert_eq!(
        app.count("SELECT COUNT(*) FROM refunds WHERE status = 'succeeded'")
            .await,
        3
    );
    app.stop().await;
}

async fn pending_refunds_count_and_settle_by_webhook(db: TestDb) {
    let p = provider(PaymentStatus::Succeeded);
    *p.refund_status.lock().unwrap() = RefundStatus::Pending;
    let app = spawn_app(
        &db,
        AppOptions {
            providers: vec![p.clone()],
            ..AppOptions::default()
        },
    )
    .await;
    let pay = create(&app, "10.00", false).await;
    let id = pay["id"].as_str().unwrap();
    sqlx::query("UPDATE payments SET captured_minor = amount_minor WHERE id = $1")
        .bind(id)
        .execute(&app.state.db.pool)
        .await
        .unwrap();
    let r = json_with_status(
        app.post("/v1/refunds", &json!({ "payment": id, "amount": "8.00" }))
            .await,
        201,
    )
    .await;
    assert_eq!(r["status"], "pending");
    let e = json_with_status(
        app.post("/v1/refunds", &json!({ "payment": id, "amount": "2.01" }))
            .await,
        400,
    )
    .await;
    assert_eq!(
        e["code"], "refund_exceeds_remaining",
        "the pending 8.00 counts"
    );
    let payment = json_with_status(app.get(&format!("/v1/payments/{id}")).await, 200).await;
    assert_eq!(payment["refunded_minor"], 0, "pending is not refunded yet");

    // The provider settles it later: refunded_minor follows.
    let refund = paygate::refunds::repo::get(&app.state.db, r["id"].as_str().unwrap())
        .await
        .unwrap()
        .unwrap();
    let mut tx = app.state.db.begin_write().await.unwrap();
    let changed = paygate::refunds::repo::apply_status(
        &mut tx,
        &refund,
        RefundStatus::Succeeded,
        None,
        None,
        paygate::payments::Cause::Webhook,
        1,
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();
    assert!(changed);
    let payment = json_with_status(app.get(&format!("/v1/payments/{id}")).await, 200).await;
    assert_eq!(payment["refunded_minor"], 800);
    // Succeeded then failed (as Stripe's refund-failure card does): the total goes back down.
    let refund = paygate::refunds::repo::get(&app.state.db, r["id"].as_str().unwrap())
        .await
        .unwrap()
        .unwrap();
    let mut tx = app.state.db.begin_write().await.unwrap();
    paygate::refunds::repo::apply_status(
        &mut tx,
        &refund,
        RefundStatus::Failed,
        None,
        Some("expired_or_canceled_card"),
        paygate::payments::Cause::Webhook,
        2,
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();
    let payment = json_with_status(app.get(&format!("/v1/payments/{id}")).await, 200).await;
    assert_eq!(payment["refunded_minor"], 0);
    // Failed is final.
    let refund = paygate::refunds::repo::get(&app.state.db, r["id"].as_str().unwrap())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        refund.failure_reason.as_deref(),
        Some("expired_or_canceled_card")
    );
    let mut tx = app.state.db.begin_write().await.unwrap();
    assert!(!paygate::refunds::repo::apply_status(
        &mut tx,
        &refund,
        RefundStatus::Succeeded,
        None,
        None,
        paygate::payments::Cause::Webhook,
        3
    )
    .await
    .unwrap());
    tx.commit().await.unwrap();
    app.stop().await;
}

async fn cancel_and_state_rules(db: TestDb) {
    let p = provider(PaymentStatus::RequiresCapture);
    let app = spawn_app(
        &db,
        AppOptions {
            providers: vec![p.clone()],
            ..AppOptions::default()
        },
    )
    .await;
    let pay = create(&app, "5.00", true).await;
    let id = pay["id"].as_str().unwrap();
    let canceled = json_with_status(
        app.request(reqwest::Method::POST, &format!("/v1/payments/{id}/cancel"))
            .send()
            .await
            .unwrap(),
        200,
    )
    .await;
    assert_eq!(canceled["status"], "canceled");
    let e = json_with_status(
        app.post(&format!("/v1/payments/{id}/capture"), &json!({}))
            .await,
        409,
    )
    .await;
    assert_eq!(e["code"], "invalid_state");
    let e = json_with_status(
        app.request(reqwest::Method::POST, &format!("/v1/payments/{id}/cancel"))
            .send()
            .await
            .unwrap(),
        409,
    )
    .await;
    assert_eq!(e["code"], "invalid_state");
    // PayPal has no server-side confirmation with a payment method id.
    let other = create(&app, "5.00", true).await;
    let oid = other["id"].as_str().unwrap();
    let e = json_with_status(
        app.post(
            &format!("/v1/payments/{oid}/confirm"),
            &json!({ "payment_method": "pm_card_visa" }),
        )
        .await,
        409,
    )
    .await;
    assert_eq!(
        e["code"], "invalid_state",
        "requires_capture cannot be confirmed"
    );
    let e = json_with_status(
        app.post("/v1/payments/pay_missing/cancel", &json!({}))
            .await,
        404,
    )
    .await;
    assert_eq!(e["code"], "resource_missing");
    let timeline = paygate::payments::timeline::list(&app.state.db, id)
        .await
        .unwrap();
    assert_eq!(
        timeline.last().unwrap().to_status.as_deref(),
        Some("canceled")
    );
    app.stop().await;
}
