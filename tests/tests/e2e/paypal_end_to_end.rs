//! paygate's PayPal client against the sandbox PayPal emulator over real HTTP: orders through the
//! merchant and widget APIs, approval on the emulator's buyer page, capture, authorization,
//! refunds, declines, token expiry, faults, and webhooks verified with the emulator's
//! certificate. The client code is the one that talks to api-m.paypal.com.

use paygate::inbox::store::state_of;
use paygate_tests::app::{eventually, json_with_status};
use paygate_tests::webhooks_in::processed;
use paygate_tests::{on_both_databases, spawn_app, AppOptions, TestApp, TestDb};
use serde_json::{json, Value};
use shared::api::ProviderName;
use std::time::Duration;

on_both_databases!(
    approve_capture_and_refund,
    decline_at_capture_then_another_funding_source,
    a_pending_refund_settles_completed_or_failed,
    a_paypal_dispute_is_followed_through_its_stages,
    a_paypal_dispute_is_answered_or_accepted_through_paygate
);

fn base(app: &TestApp) -> String {
    app.state.config.paypal.api_base.clone()
}

async fn approve(app: &TestApp, order: &str, funding: &str) {
    let res = app
        .client
        .post(format!("{}/checkoutnow/{order}/approve", base(app)))
        .form(&[("funding", funding)])
        .send()
        .await
        .unwrap();
    assert!(
        res.status().is_redirection() || res.status().is_success(),
        "approval: {}",
        res.status()
    );
}

async fn faults(app: &TestApp, body: Value) {
    knob(app, "/_emulator/faults", body).await;
}

/// A POST to one of the emulator's test knobs (`/_emulator/...`).
async fn knob(app: &TestApp, path: &str, body: Value) {
    let res = app
        .client
        .post(format!("{}{path}", base(app)))
        .basic_auth(
            paygate::config::EMULATOR_PAYPAL_CLIENT_ID,
            Some(paygate::config::EMULATOR_PAYPAL_CLIENT_SECRET),
        )
        .json(&body)
        .send()
        .await
        .unwrap();
    assert!(
        res.status().is_success(),
        "{path}: {}",
        res.text().await.unwrap()
    );
}

async fn order(app: &TestApp, amount: &str, currency: &str, manual: bool) -> Value {
    json_with_status(
        app.post(
            "/v1/payments",
            &json!({ "provider": "paypal", "amount": amount, "currency": currency,
                     "capture_mode": if manual { "manual" } else { "automatic" },
                     "return_url": "https://shop.example/back" }),
        )
        .await,
        201,
    )
    .await
}

async fn approve_capture_and_refund(db: TestDb) {
    let app = spawn_app(&db, AppOptions::default()).await;
    let paypal = app.paypal.clone().unwrap();
    let p = order(&app, "19.99", "USD", false).await;
    let id = p["id"].as_str().unwrap();
    let order_id = p["provider_reference"].as_str().unwrap();
    assert_eq!(p["status"], "requires_action");
    assert_eq!(p["next_action"]["type"], "redirect_to_url");
    assert!(p["next_action"]["url"].as_str().unwrap().contains(order_id));
    let at_paypal = paypal.order(order_id).unwrap();
    assert_eq!(at_paypal["purchase_units"][0]["amount"]["value"], "19.99");
    assert_eq!(at_paypal["purchase_units"][0]["reference_id"], id);
    assert_eq!(at_paypal["intent"], "CAPTURE");

    approve(&app, order_id, "balance").await;
    let captured = json_with_status(
        app.post(&format!("/v1/payments/{id}/capture"), &json!({}))
            .await,
        200,
    )
    .await;
    assert_eq!(captured["status"], "succeeded");
    assert_eq!(captured["captured_minor"], 1999);
    assert_eq!(paypal.captures_count(), 1);

    let r = json_with_status(
        app.post("/v1/refunds", &json!({ "payment": id, "amount": "5.00" }))
            .await,
        201,
    )
    .await;
    assert_eq!(r["status"], "succeeded");
    let e = json_with_status(
        app.post("/v1/refunds", &json!({ "payment": id, "amount": "15.00" }))
            .await,
        400,
    )
    .await;
    assert_eq!(e["code"], "refund_exceeds_remaining");
    let rest = json_with_status(
        app.post("/v1/refunds", &json!({ "payment": id })).await,
        201,
    )
    .await;
    assert_eq!(rest["amount_minor"], 1499);
    let after = json_with_status(app.get(&format!("/v1/payments/{id}")).await, 200).await;
    assert_eq!(after["refunded_minor"], 1999);
    app.stop().await;
}

async fn decline_at_capture_then_another_funding_source(db: TestDb) {
    let app = spawn_app(&db, AppOptions::default()).await;
    let p = order(&app, "1000", "JPY", false).await;
    let id = p["id"].as_str().unwrap();
    let order_id = p["provider_reference"].as_str().unwrap();
    assert_eq!(
        app.paypal.as_ref().unwrap().order(order_id).unwrap()["purchase_units"][0]["amount"]
            ["value"],
        "1000",
        "1000 JPY is sent as \"1000\""
    );
    // Declined twice: each time the buyer picks another source for the same order
    // (actions.restart()), and each capture is a new request at PayPal, which answers a
    // repeated PayPal-Request-Id with the first refusal (the emulator does too).
    // Each round waits for the approval's webhook to be applied before capturing: applied
    // after the decline, it would (rightly) record the order approved again.
    for _round in 0..2 {
        approve(&app, order_id, "instrument_declined").await;
        let app_ref = &app;
        eventually("approval seen", Duration::from_secs(10), || async move {
            let p = json_with_status(app_ref.get(&format!("/v1/payments/{id}")).await, 200).await;
            p["status"] == "requires_confirmation"
        })
        .await;
        let e = json_with_status(
            app.post(&format!("/v1/payments/{id}/capture"), &json!({}))
                .await,
            402,
        )
        .await;
        assert_eq!(e["code"], "payment_declined");
        assert!(
            e["detail"].as_str().unwrap().contains("funding source"),
            "{e}"
        );
        let after = json_with_status(app.get(&format!("/v1/payments/{id}")).await, 200).await;
        assert_eq!(after["status"], "requires_payment_method");
        // PayPal's page about the refusal (its `information_link`) is kept on the payment.
        assert_eq!(
            after["last_error"]["doc_url"],
            "https://developer.paypal.com/docs/api/orders/v2/#error-INSTRUMENT_DECLINED",
            "{after}"
        );
    }
    approve(&app, order_id, "balance").await;
    // The approval comes back by webhook (CHECKOUT.ORDER.APPROVED) or on the next read.
    let app_ref = &app;
    let id2 = id.to_string();
    eventually("approval recorded", Duration::from_secs(10), || {
        let id2 = id2.clone();
        async move {
            json_with_status(app_ref.get(&format!("/v1/payments/{id2}")).await, 200).await["status"]
                == "requires_confirmation"
        }
    })
    .await;
    let ok = json_with_status(
        app.post(&format!("/v1/payments/{id}/capture"), &json!({}))
            .await,
        200,
    )
    .await;
    assert_eq!(ok["status"], "succeeded");
    assert_eq!(ok["captured_minor"], 1000);
    app.stop().await;
}

/// A PayPal refund can be `PENDING` (`status_details.reason` `ECHECK`: the merchant's balance
/// does not cover it) and later `COMPLETED`, `FAILED` or `CANCELLED` (payments_payment_v2.json
/// `refund_status`). PayPal lists only `PAYMENT.CAPTURE.*` events for Payments v2, so nothing
/// may announce a pending refund that failed: paygate reads pending refunds back when they have
/// been quiet past the reconciliation deadline. Until then a pending refund keeps its amount.
async fn a_pending_refund_settles_completed_or_failed(db: TestDb) {
    let app = spawn_app(&db, AppOptions::default()).await;
    let p = order(&app, "30.00", "USD", false).await;
    let id = p["id"].as_str().unwrap().to_string();
    approve(&app, p["provider_reference"].as_str().unwrap(), "balance").await;
    let captured = json_with_status(
        app.post(&format!("/v1/payments/{id}/capture"), &json!({}))
            .await,
        200,
    )
    .await;
    assert_eq!(captured["status"], "succeeded");

    knob(&app, "/_emulator/refunds/pending", json!({ "next": 2 })).await;
    let refund = |amount: &'static str| {
        let (app, id) = (&app, id.clone());
        async move {
            app.post("/v1/refunds", &json!({ "payment": id, "amount": amount }))
                .await
        }
    };
    let completes = json_with_status(refund("10.00").await, 201).await;
    let fails = json_with_status(refund("5.00").await, 201).await;
    for r in [&completes, &fails] {
        assert_eq!(r["status"], "pending", "{r}");
    }
    // Pending refunds keep their amount: 15.00 is all that is left.
    let e = json_with_status(refund("15.01").await, 400).await;
    assert_eq!(e["code"], "refund_exceeds_remaining", "{e}");

    let reference = |r: &Value| r["provider_reference"].as_str().unwrap().to_string();
    knob(
        &app,
        &format!("/_emulator/refunds/{}/complete", reference(&completes)),
        json!({}),
    )
    .await;
    let app_ref = &app;
    let completed_id = completes["id"].as_str().unwrap().to_string();
    eventually(
        "the completed refund recorded",
        Duration::from_secs(15),
        || {
            let completed_id = completed_id.clone();
            async move {
                json_with_status(
                    app_ref.get(&format!("/v1/refunds/{completed_id}")).await,
                    200,
                )
                .await["status"]
                    == "succeeded"
            }
        },
    )
    .await;

    // The other fails at PayPal and no event says so: reconciliation reads it back.
    knob(
        &app,
        &format!("/_emulator/refunds/{}/fail", reference(&fails)),
        json!({}),
    )
    .await;
    let fails_id = fails["id"].as_str().unwrap();
    paygate::reconcile::reconcile_once(&app.state)
        .await
        .unwrap();
    assert_eq!(
        json_with_status(app.get(&format!("/v1/refunds/{fails_id}")).await, 200).await["status"],
        "pending",
        "not yet past the deadline"
    );
    app.state.clock.advance(Duration::from_secs(16 * 60));
    paygate::reconcile::reconcile_once(&app.state)
        .await
        .unwrap();
    let failed = json_with_status(app.get(&format!("/v1/refunds/{fails_id}")).await, 200).await;
    assert_eq!(failed["status"], "failed", "{failed}");
    let after = json_with_status(app.get(&format!("/v1/payments/{id}")).await, 200).await;
    assert_eq!(after["refunded_minor"], 1000);
    // Its amount is refundable again.
    json_with_status(refund("20.00").await, 201).await;
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn amounts_paypal_cannot_take_are_refused_before_any_call() {
    let db = TestDb::sqlite().await;
    let app = spawn_app(&db, AppOptions::default()).await;
    let before = app.paypal.as_ref().unwrap().received_request_bodies().len();
    for (amount, currency) in [("1.50", "HUF"), ("1.230", "KWD"), ("10.5", "JPY")] {
        let e = json_with_status(
            app.post(
                "/v1/payments",
                &json!({ "provider": "paypal", "amount": amount, "currency": currency }),
            )
            .await,
            400,
        )
        .await;
        assert!(
            e["code"] == "amount_not_supported" || e["code"] == "invalid_request",
            "{amount} {currency}: {e}"
        );
    }
    assert_eq!(
        app.paypal.as_ref().unwrap().received_request_bodies().len(),
        before
    );
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn authorize_capture_part_and_void() {
    let db = TestDb::sqlite().await;
    let app = spawn_app(&db, AppOptions::default()).await;
    let paypal = app.paypal.clone().unwrap();
    // Partial capture of an authorization.
    let p = order(&app, "10.00", "EUR", true).await;
    let id = p["id"].as_str().unwrap();
    assert_eq!(
        paypal
            .order(p["provider_reference"].as_str().unwrap())
            .unwrap()["intent"],
        "AUTHORIZE"
    );
    approve(&app, p["provider_reference"].as_str().unwrap(), "balance").await;
    let c = json_with_status(
        app.post(
            &format!("/v1/payments/{id}/capture"),
            &json!({ "amount": "6.00" }),
        )
        .await,
        200,
    )
    .await;
    assert_eq!(c["status"], "succeeded");
    assert_eq!(c["captured_minor"], 600);

    // Authorised through the widget (manual-capture session), then voided by the merchant.
    let s = app.create_session(&json!({ "amount": "7.00", "currency": "EUR", "capture_mode": "manual", "providers": ["paypal"] })).await;
    let sid = s["id"].as_str().unwrap();
    let o = json_with_status(
        app.client
            .post(format!(
                "{}/checkout/api/sessions/{sid}/paypal/orders",
                app.url
            ))
            .send()
            .await
            .unwrap(),
        200,
    )
    .await;
    let oid = o["order_id"].as_str().unwrap();
    approve(&app, oid, "balance").await;
    let outcome = json_with_status(
        app.client
            .post(format!(
                "{}/checkout/api/sessions/{sid}/paypal/orders/{oid}/capture",
                app.url
            ))
            .send()
            .await
            .unwrap(),
        200,
    )
    .await;
    assert_eq!(outcome["payment_status"], "requires_capture");
    assert_eq!(
        outcome["session"], "complete",
        "an authorisation pays a manual-capture session"
    );
    let pid = outcome["payment"].as_str().unwrap();
    let v = json_with_status(
        app.post(&format!("/v1/payments/{pid}/cancel"), &json!({}))
            .await,
        200,
    )
    .await;
    assert_eq!(v["status"], "canceled");
    let at_paypal = paypal.order(oid).unwrap();
    assert_eq!(
        at_paypal["purchase_units"][0]["payments"]["authorizations"][0]["status"],
        "VOIDED"
    );
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn expired_tokens_faults_and_lost_responses() {
    let db = TestDb::sqlite().await;
    let app = spawn_app(&db, AppOptions::default()).await;
    let paypal = app.paypal.clone().unwrap();
    let first = order(&app, "3.00", "USD", false).await;
    let tokens = paypal.tokens_issued();
    order(&app, "3.00", "USD", false).await;
    assert_eq!(paypal.tokens_issued(), tokens, "the token is cached");
    faults(&app, json!({ "expire_tokens": true })).await;
    order(&app, "3.00", "USD", false).await;
    assert_eq!(
        paypal.tokens_issued(),
        tokens + 1,
        "a 401 fetches a new token once"
    );

    faults(&app, json!({ "fail_next": 2, "status": 500 })).await;
    order(&app, "4.00", "USD", false).await;
    faults(&app, json!({ "fail_next": 1, "status": 429 })).await;
    order(&app, "4.00", "USD", false).await;

    // The capture is made but its answer is lost: the retry replays it, one capture only.
    let id = first["id"].as_str().unwrap();
    approve(
        &app,
        first["provider_reference"].as_str().unwrap(),
        "balance",
    )
    .await;
    let before = paypal.captures_count();
    faults(&app, json!({ "lose_response_next": 1 })).await;
    let c = json_with_status(
        app.post(&format!("/v1/payments/{id}/capture"), &json!({}))
            .await,
        200,
    )
    .await;
    assert_eq!(c["status"], "succeeded");
    assert_eq!(paypal.captures_count(), before + 1, "exactly one capture");
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn webhooks_are_verified_with_the_certificate() {
    let db = TestDb::sqlite().await;
    let app = spawn_app(&db, AppOptions::default()).await;
    let p = order(&app, "12.00", "USD", false).await;
    let order_id = p["provider_reference"].as_str().unwrap().to_string();
    approve(&app, &order_id, "balance").await;
    // The emulator's CHECKOUT.ORDER.APPROVED arrives signed, is verified offline and applied.
    let db2 = app.state.db.clone();
    eventually("approval webhook applied", Duration::from_secs(15), || {
        let db2 = db2.clone();
        async move {
            sqlx::query_scalar::<_, i64>(
                "SELECT COUNT(*) FROM provider_events WHERE provider = 'paypal' AND event_type = 'CHECKOUT.ORDER.APPROVED' AND processed_at IS NOT NULL",
            )
            .fetch_one(&db2.pool)
            .await
            .unwrap()
                >= 1
        }
    })
    .await;
    assert_eq!(
        json_with_status(
            app.get(&format!("/v1/payments/{}", p["id"].as_str().unwrap()))
                .await,
            200
        )
        .await["status"],
        "requires_confirmation"
    );

    // Forged deliveries: a certificate from elsewhere, over plain HTTP, or a bad signature.
    assert!(app
        .paypal
        .as_ref()
        .unwrap()
        .delivery_attempts()
        .iter()
        .any(|a| a.status == Some(200)));
    // Sent now, so that only the certificate or the signature is at fault.
    let now = transmission_time(&app);
    let headers = |cert: &str| {
        let mut h = reqwest::header::HeaderMap::new();
        h.insert(
            "paypal-transmission-id",
            "11111111-2222-3333-4444-555555555555".parse().unwrap(),
        );
        h.insert("paypal-transmission-time", now.parse().unwrap());
        h.insert("paypal-transmission-sig", "c2lnbmF0dXJl".parse().unwrap());
        h.insert("paypal-cert-url", cert.parse().unwrap());
        h.insert("paypal-auth-algo", "SHA256withRSA".parse().unwrap());
        h
    };
    let body = json!({ "id": "WH-FORGED", "event_type": "PAYMENT.CAPTURE.COMPLETED", "resource": { "id": "X", "status": "COMPLETED" } }).to_string();
    for cert in [
        "https://evil.example/cert.pem",
        "http://api.paypal.com/cert",
        &app.paypal.as_ref().unwrap().certificate_url(),
    ] {
        let res = app
            .client
            .post(format!("{}/webhooks/paypal", app.url))
            .headers(headers(cert))
            .body(body.clone())
            .send()
            .await
            .unwrap();
        let e = json_with_status(res, 400).await;
        assert_eq!(e["code"], "webhook_unverified", "{cert}");
        // The reason is for paygate's log, not for whoever sent it.
        assert_eq!(e["detail"], "The webhook could not be verified.", "{e}");
    }
    assert_eq!(
        app.count("SELECT COUNT(*) FROM provider_events WHERE event_id = 'WH-FORGED'")
            .await,
        0
    );
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn online_verification_through_the_api() {
    let db = TestDb::sqlite().await;
    let app = spawn_app(
        &db,
        AppOptions {
            vars: vec![("PAYPAL_WEBHOOK_VERIFY", "online".into())],
            ..AppOptions::default()
        },
    )
    .await;
    let p = order(&app, "12.00", "USD", false).await;
    approve(&app, p["provider_reference"].as_str().unwrap(), "balance").await;
    let db2 = app.state.db.clone();
    eventually(
        "approval webhook verified online",
        Duration::from_secs(15),
        || {
            let db2 = db2.clone();
            async move {
                sqlx::query_scalar::<_, i64>(
                    "SELECT COUNT(*) FROM provider_events WHERE provider = 'paypal'",
                )
                .fetch_one(&db2.pool)
                .await
                .unwrap()
                    >= 1
            }
        },
    )
    .await;
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unapproved_order_can_be_canceled() {
    let db = TestDb::sqlite().await;
    let app = spawn_app(&db, AppOptions::default()).await;
    let p = order(&app, "2.00", "USD", false).await;
    let id = p["id"].as_str().unwrap();
    let c = json_with_status(
        app.post(&format!("/v1/payments/{id}/cancel"), &json!({}))
            .await,
        200,
    )
    .await;
    assert_eq!(c["status"], "canceled");
    // The buyer approving afterwards changes nothing: paygate never captures it.
    approve(&app, p["provider_reference"].as_str().unwrap(), "balance").await;
    let e = json_with_status(
        app.post(&format!("/v1/payments/{id}/capture"), &json!({}))
            .await,
        409,
    )
    .await;
    assert_eq!(e["code"], "invalid_state");
    assert_eq!(app.paypal.as_ref().unwrap().captures_count(), 0);
    app.stop().await;
}

/// Now on paygate's clock, as PayPal writes `PAYPAL-TRANSMISSION-TIME` (paygate refuses one more
/// than 5 minutes off).
fn transmission_time(app: &TestApp) -> String {
    time::OffsetDateTime::from_unix_timestamp(app.state.clock.now_secs())
        .unwrap()
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap()
}

/// A delivery signed with the sandbox's PayPal test key, as the emulator signs its own.
async fn deliver(app: &TestApp, body: &str, transmission: &str) -> reqwest::Response {
    let time = &transmission_time(app);
    let sig = paygate_sandbox::paypal::sign_webhook(
        transmission,
        time,
        paygate::config::EMULATOR_PAYPAL_WEBHOOK_ID,
        body.as_bytes(),
    );
    app.client
        .post(format!("{}/webhooks/paypal", app.url))
        .header("paypal-transmission-id", transmission)
        .header("paypal-transmission-time", time)
        .header("paypal-transmission-sig", sig)
        .header(
            "paypal-cert-url",
            app.paypal.as_ref().unwrap().certificate_url(),
        )
        .header("paypal-auth-algo", "SHA256withRSA")
        .body(body.to_string())
        .send()
        .await
        .unwrap()
}

fn capture_completed(event_id: &str, order_id: &str, capture_id: &str) -> String {
    json!({ "id": event_id, "event_type": "PAYMENT.CAPTURE.COMPLETED", "resource_type": "capture",
            "resource": { "id": capture_id, "status": "COMPLETED", "amount": { "currency_code": "USD", "value": "12.00" },
                          "supplementary_data": { "related_ids": { "order_id": order_id } } } })
    .to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn duplicate_and_out_of_order_webhooks_and_a_restart() {
    let db = TestDb::sqlite().await;
    let app = spawn_app(
        &db,
        AppOptions {
            inbox_worker: false,
            ..AppOptions::default()
        },
    )
    .await;
    let p = order(&app, "12.00", "USD", false).await;
    let (id, order_id) = (
        p["id"].as_str().unwrap().to_string(),
        p["provider_reference"].as_str().unwrap().to_string(),
    );
    // Acknowledged while the worker is stopped, then paygate stops.
    let completed = capture_completed("WH-TEST-COMPLETED", &order_id, "CAPTURE1");
    let ack = json_with_status(deliver(&app, &completed, "t-1").await, 200).await;
    assert_eq!(ack["duplicate"], false);
    let again = json_with_status(deliver(&app, &completed, "t-2").await, 200).await;
    assert_eq!(
        again["duplicate"], true,
        "the same event id twice is one event"
    );
    app.stop().await;

    // After the restart the stored event is picked up; but this paygate's PayPal (a new
    // emulator) does not know the order, so it cannot confirm the capture: the event waits and
    // is tried again, and the payment is not moved on the event's word alone.
    let app = spawn_app(&db, AppOptions::default()).await;
    let db_handle = app.state.db.clone();
    eventually("the event tried", Duration::from_secs(10), || {
        let db = db_handle.clone();
        async move {
            state_of(&db, ProviderName::Paypal, "WH-TEST-COMPLETED")
                .await
                .unwrap()
                .is_some_and(|s| s.attempts >= 1)
        }
    })
    .await;
    let waiting = state_of(&app.state.db, ProviderName::Paypal, "WH-TEST-COMPLETED")
        .await
        .unwrap()
        .unwrap();
    assert!(!waiting.processed, "{waiting:?}");
    assert!(
        waiting
            .last_error
            .as_deref()
            .is_some_and(|e| e.contains("could not read")),
        "{waiting:?}"
    );
    let after = json_with_status(app.get(&format!("/v1/payments/{id}")).await, 200).await;
    assert_ne!(after["status"], "succeeded");
    assert_eq!(after["captured_minor"], 0);

    // An order this PayPal knows, captured: the capture's event confirms it, and an older
    // approval event arriving late does not move it back.
    let p = order(&app, "12.00", "USD", false).await;
    let (id, order_id) = (
        p["id"].as_str().unwrap().to_string(),
        p["provider_reference"].as_str().unwrap().to_string(),
    );
    approve(&app, &order_id, "balance").await;
    let captured = json_with_status(
        app.post(&format!("/v1/payments/{id}/capture"), &json!({}))
            .await,
        200,
    )
    .await;
    assert_eq!(captured["status"], "succeeded");
    let capture_id = captured["provider_capture"].as_str().unwrap_or("CAPTURE2");
    let completed = capture_completed("WH-TEST-COMPLETED-2", &order_id, capture_id);
    json_with_status(deliver(&app, &completed, "t-5").await, 200).await;
    let confirmed = processed(
        &app,
        shared::api::ProviderName::Paypal,
        "WH-TEST-COMPLETED-2",
    )
    .await;
    assert!(
        confirmed.processed && confirmed.last_error.is_none(),
        "{confirmed:?}"
    );
    let approved = json!({ "id": "WH-TEST-APPROVED", "event_type": "CHECKOUT.ORDER.APPROVED", "resource_type": "checkout-order",
        "resource": { "id": order_id, "status": "APPROVED", "intent": "CAPTURE" } }).to_string();
    json_with_status(deliver(&app, &approved, "t-3").await, 200).await;
    let late = processed(&app, shared::api::ProviderName::Paypal, "WH-TEST-APPROVED").await;
    assert!(
        matches!(
            late.outcome.as_deref(),
            Some("refused_transition" | "unchanged")
        ),
        "{late:?}"
    );
    let after = json_with_status(app.get(&format!("/v1/payments/{id}")).await, 200).await;
    assert_eq!(after["status"], "succeeded");
    assert_eq!(after["captured_minor"], 1200);
    // A tampered body fails the signature.
    let tampered = completed.replace("12.00", "1.00");
    let time = transmission_time(&app);
    let res = app
        .client
        .post(format!("{}/webhooks/paypal", app.url))
        .header("paypal-transmission-id", "t-4")
        .header("paypal-transmission-time", &time)
        .header(
            "paypal-transmission-sig",
            paygate_sandbox::paypal::sign_webhook(
                "t-4",
                &time,
                paygate::config::EMULATOR_PAYPAL_WEBHOOK_ID,
                completed.as_bytes(),
            ),
        )
        .header(
            "paypal-cert-url",
            app.paypal.as_ref().unwrap().certificate_url(),
        )
        .header("paypal-auth-algo", "SHA256withRSA")
        .body(tampered)
        .send()
        .await
        .unwrap();
    assert_eq!(
        json_with_status(res, 400).await["code"],
        "webhook_unverified"
    );
    app.stop().await;
}

/// A USD payment of `amount` approved and captured at the emulator: paygate's id and PayPal's
/// capture id.
async fn captured(app: &TestApp, amount: &str) -> (String, String) {
    let p = order(app, amount, "USD", false).await;
    let id = p["id"].as_str().unwrap().to_string();
    approve(app, p["provider_reference"].as_str().unwrap(), "balance").await;
    json_with_status(
        app.post(&format!("/v1/payments/{id}/capture"), &json!({}))
            .await,
        200,
    )
    .await;
    let capture: String = sqlx::query_scalar("SELECT provider_capture FROM payments WHERE id = $1")
        .bind(&id)
        .fetch_one(&app.state.db.pool)
        .await
        .unwrap();
    (id, capture)
}

/// A refund made in PayPal itself (not through paygate) arrives by webhook and is recorded, so
/// the payment's refunded total stays true and paygate never refunds more than what is left.
/// paygate's own refunds (their `invoice_id` is paygate's refund id) are not recorded twice.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refund_made_in_paypal_is_recorded_once() {
    let db = TestDb::sqlite().await;
    let app = spawn_app(&db, AppOptions::default()).await;
    let (id, capture) = captured(&app, "20.00").await;
    let id = id.as_str();

    // The merchant refunds 5.00 in PayPal's own interface (the REST call it makes).
    let token: Value = app
        .client
        .post(format!("{}/v1/oauth2/token", base(&app)))
        .basic_auth(
            paygate::config::EMULATOR_PAYPAL_CLIENT_ID,
            Some(paygate::config::EMULATOR_PAYPAL_CLIENT_SECRET),
        )
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let res = app
        .client
        .post(format!(
            "{}/v2/payments/captures/{capture}/refund",
            base(&app)
        ))
        .bearer_auth(token["access_token"].as_str().unwrap())
        .json(&json!({ "amount": { "value": "5.00", "currency_code": "USD" } }))
        .send()
        .await
        .unwrap();
    assert!(res.status().is_success(), "{}", res.text().await.unwrap());

    eventually(
        "the PayPal refund recorded",
        Duration::from_secs(10),
        || async {
            json_with_status(app.get(&format!("/v1/payments/{id}")).await, 200).await
                ["refunded_minor"]
                == 500
        },
    )
    .await;
    let (source, status, amount): (String, String, i64) =
        sqlx::query_as("SELECT metadata, status, amount_minor FROM refunds WHERE payment_id = $1")
            .bind(id)
            .fetch_one(&app.state.db.pool)
            .await
            .unwrap();
    assert!(source.contains("\"source\":\"provider\""), "{source}");
    assert_eq!((status.as_str(), amount), ("succeeded", 500));

    // What is left is 15.00: more is refused, exactly that succeeds.
    let e = json_with_status(
        app.post("/v1/refunds", &json!({ "payment": id, "amount": "15.01" }))
            .await,
        400,
    )
    .await;
    assert_eq!(e["code"], "refund_exceeds_remaining");
    let rest = json_with_status(
        app.post("/v1/refunds", &json!({ "payment": id })).await,
        201,
    )
    .await;
    assert_eq!(rest["amount_minor"], 1500);
    // Once every webhook is applied: two refunds, not three.
    eventually("every webhook applied", Duration::from_secs(10), || async {
        app.count("SELECT COUNT(*) FROM provider_events WHERE processed_at IS NULL")
            .await
            == 0
            && app.count("SELECT COUNT(*) FROM provider_events").await >= 3
    })
    .await;
    assert_eq!(app.count("SELECT COUNT(*) FROM refunds").await, 2);
    let after = json_with_status(app.get(&format!("/v1/payments/{id}")).await, 200).await;
    assert_eq!(after["refunded_minor"], 2000);
    app.stop().await;
}

/// A refund event is applied only as PayPal reads the refund back: one PayPal does not know
/// (however well signed) is retried, never recorded, and the payment's refundable amount is
/// untouched. Before, the event's body alone recorded a refund of the whole capture.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refund_event_paypal_cannot_confirm_is_never_applied() {
    let db = TestDb::sqlite().await;
    let app = spawn_app(&db, AppOptions::default()).await;
    let (id, capture) = captured(&app, "20.00").await;
    let id = id.as_str();
    let body = json!({
        "id": "WH-FORGED-REFUND", "event_version": "1.0", "event_type": "PAYMENT.CAPTURE.REFUNDED",
        "resource_type": "refund",
        "resource": {
            "id": "9XX00000FORGED", "status": "COMPLETED",
            "amount": { "currency_code": "USD", "value": "20.00" },
            "links": [{ "href": format!("{}/v2/payments/captures/{capture}", base(&app)), "rel": "up", "method": "GET" }]
        }
    })
    .to_string();
    let res = deliver(&app, &body, "tx-forged-refund").await;
    assert_eq!(res.status(), 200, "the signature is good: stored");
    let db2 = app.state.db.clone();
    eventually("an attempt", Duration::from_secs(10), || {
        let db2 = db2.clone();
        async move {
            paygate::inbox::store::state_of(
                &db2,
                shared::api::ProviderName::Paypal,
                "WH-FORGED-REFUND",
            )
            .await
            .unwrap()
            .is_some_and(|s| s.attempts >= 1)
        }
    })
    .await;
    let state = paygate::inbox::store::state_of(
        &app.state.db,
        shared::api::ProviderName::Paypal,
        "WH-FORGED-REFUND",
    )
    .await
    .unwrap()
    .unwrap();
    assert!(!state.processed, "retried later, not applied");
    assert!(
        state
            .last_error
            .as_deref()
            .unwrap_or_default()
            .contains("could not read refund"),
        "{state:?}"
    );
    assert_eq!(app.count("SELECT COUNT(*) FROM refunds").await, 0);
    let payment = json_with_status(app.get(&format!("/v1/payments/{id}")).await, 200).await;
    assert_eq!(payment["refunded_minor"], 0);
    // The whole capture can still be refunded, once.
    let refund = json_with_status(
        app.post("/v1/refunds", &json!({ "payment": id })).await,
        201,
    )
    .await;
    assert_eq!(refund["amount_minor"], 2000);
    app.stop().await;
}

/// A buyer opens a PayPal case about `capture` (an inquiry, or straight to a claim) at the
/// emulator: the case as PayPal shows it.
async fn open_case(app: &TestApp, capture: &str, inquiry: bool) -> Value {
    let res = app
        .client
        .post(format!("{}/_emulator/disputes", base(app)))
        .basic_auth(
            paygate::config::EMULATOR_PAYPAL_CLIENT_ID,
            Some(paygate::config::EMULATOR_PAYPAL_CLIENT_SECRET),
        )
        .json(&json!({ "capture_id": capture, "inquiry": inquiry }))
        .send()
        .await
        .unwrap();
    assert!(res.status().is_success(), "{}", res.status());
    res.json().await.unwrap()
}

/// A PayPal case from inquiry to PayPal's decision (developer.paypal.com/docs/disputes): each
/// `CUSTOMER.DISPUTE.*` event is applied from the dispute read back from PayPal; the payment
/// holds the amount once the case is a claim; answers are refused with a pointer to PayPal.
async fn a_paypal_dispute_is_followed_through_its_stages(db: TestDb) {
    let app = spawn_app(&db, AppOptions::default()).await;
    let (id, capture) = captured(&app, "30.00").await;
    let opened = open_case(&app, &capture, true).await;
    let case = opened["dispute_id"].as_str().unwrap().to_string();
    let path = format!("/v1/disputes?payment={id}");
    let status_is = |want: &'static str| {
        let (app, path) = (&app, path.clone());
        async move {
            let list = json_with_status(app.get(&path).await, 200).await;
            list["data"][0]["status"] == want
        }
    };
    eventually("the inquiry recorded", Duration::from_secs(15), || {
        status_is("warning_needs_response")
    })
    .await;
    let list = json_with_status(app.get(&path).await, 200).await;
    let d = list["data"][0].clone();
    let dsp = d["id"].as_str().unwrap().to_string();
    assert_eq!(d["provider"], "paypal");
    assert_eq!(d["provider_reference"], case.as_str());
    assert_eq!(d["amount_minor"], 3000);
    assert_eq!(d["reason"], "merchandise_or_service_not_received");
    let due = d["evidence_due_by"].as_i64().unwrap();
    let now = app.state.clock.now_secs();
    assert!(
        (now + 19 * 86_400..=now + 20 * 86_400 + 60).contains(&due),
        "{d}"
    );
    let pay = json_with_status(app.get(&format!("/v1/payments/{id}")).await, 200).await;
    assert_eq!(pay["disputed_minor"], 0, "an inquiry holds nothing");
    // PayPal has no staging.
    let e = json_with_status(
        app.post(
            &format!("/v1/disputes/{dsp}"),
            &json!({ "evidence": { "uncategorized_text": "Delivered" }, "submit": false }),
        )
        .await,
        400,
    )
    .await;
    assert_eq!(e["param"], "submit");

    knob(
        &app,
        &format!("/_emulator/disputes/{case}/escalate"),
        json!({}),
    )
    .await;
    eventually("the claim recorded", Duration::from_secs(15), || {
        status_is("under_review")
    })
    .await;
    let pay = json_with_status(app.get(&format!("/v1/payments/{id}")).await, 200).await;
    assert_eq!(pay["disputed_minor"], 3000);

    knob(
        &app,
        &format!("/_emulator/disputes/{case}/resolve"),
        json!({ "outcome": "RESOLVED_SELLER_FAVOUR" }),
    )
    .await;
    eventually("the decision recorded", Duration::from_secs(15), || {
        status_is("won")
    })
    .await;
    let pay = json_with_status(app.get(&format!("/v1/payments/{id}")).await, 200).await;
    assert_eq!(pay["disputed_minor"], 0);
    let events = json_with_status(app.get(&format!("/v1/events?object_id={dsp}")).await, 200).await;
    let kinds: Vec<&str> = events["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["type"].as_str().unwrap())
        .collect();
    assert_eq!(
        kinds,
        ["dispute.closed", "dispute.updated", "dispute.created"]
    );
    app.stop().await;
}

/// Answering PayPal cases through paygate: evidence goes to PayPal's provide-evidence (a
/// multipart call with a JSON part) and the case is reviewed; accepting the claim makes PayPal
/// refund the customer, which paygate records, and the case is lost without counting twice.
async fn a_paypal_dispute_is_answered_or_accepted_through_paygate(db: TestDb) {
    let app = spawn_app(&db, AppOptions::default()).await;
    let mut cases = Vec::new();
    for amount in ["12.00", "18.00"] {
        let (id, capture) = captured(&app, amount).await;
        let opened = open_case(&app, &capture, false).await;
        let path = format!("/v1/disputes?payment={id}");
        eventually("the claim recorded", Duration::from_secs(15), || {
            let (app, path) = (&app, path.clone());
            async move {
                let list = json_with_status(app.get(&path).await, 200).await;
                list["data"][0]["status"] == "needs_response"
            }
        })
        .await;
        let list = json_with_status(app.get(&path).await, 200).await;
        cases.push((
            id,
            list["data"][0]["id"].as_str().unwrap().to_string(),
            opened["dispute_id"].as_str().unwrap().to_string(),
        ));
    }
    let (answered_pay, answered, answered_case) = &cases[0];
    let too_long = "x".repeat(2001);
    json_with_status(
        app.post(
            &format!("/v1/disputes/{answered}"),
            &json!({ "evidence": { "uncategorized_text": too_long } }),
        )
        .await,
        400,
    )
    .await;
    let d = json_with_status(
        app.post(
            &format!("/v1/disputes/{answered}"),
            &json!({ "evidence": { "shipping_tracking_number": "1Z999", "uncategorized_text": "Delivered on the 3rd" } }),
        )
        .await,
        200,
    )
    .await;
    assert_eq!(d["status"], "under_review", "{d}");
    assert_eq!(d["needs_response"], false);
    let pay = json_with_status(app.get(&format!("/v1/payments/{answered_pay}")).await, 200).await;
    assert_eq!(pay["disputed_minor"], 1200);
    knob(
        &app,
        &format!("/_emulator/disputes/{answered_case}/resolve"),
        json!({ "outcome": "RESOLVED_SELLER_FAVOUR" }),
    )
    .await;
    eventually("the case won", Duration::from_secs(15), || async {
        json_with_status(app.get(&format!("/v1/disputes/{answered}")).await, 200).await["status"]
            == "won"
    })
    .await;

    let (accepted_pay, accepted, _) = &cases[1];
    let d = json_with_status(
        app.post(&format!("/v1/disputes/{accepted}/close"), &json!({}))
            .await,
        200,
    )
    .await;
    assert_eq!(d["status"], "lost");
    eventually(
        "PayPal's refund recorded",
        Duration::from_secs(15),
        || async {
            let pay =
                json_with_status(app.get(&format!("/v1/payments/{accepted_pay}")).await, 200).await;
            pay["refunded_minor"] == 1800
        },
    )
    .await;
    let pay = json_with_status(app.get(&format!("/v1/payments/{accepted_pay}")).await, 200).await;
    assert_eq!(
        pay["disputed_minor"], 0,
        "the refund already returns the money"
    );
    app.stop().await;
}
