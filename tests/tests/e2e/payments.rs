//! `POST /v1/payments`, `GET /v1/payments[/{id}]` through a test provider: the row is written
//! before the provider call, declines keep the payment open, listing is newest-first with a
//! stable cursor. On SQLite and PostgreSQL.

use paygate_tests::app::json_with_status;
use paygate_tests::{on_both_databases, spawn_app, AppOptions, TestDb, TestProvider};
use serde_json::json;
use shared::api::{PaymentStatus, ProviderName};
use std::sync::Arc;

on_both_databases!(
    create_stores_the_row_and_the_provider_reference,
    a_decline_keeps_the_payment_open_with_last_error,
    provider_rules_are_checked_before_any_provider_call,
    list_filters_and_cursor_pagination,
    events_are_emitted_in_the_same_transaction,
);

async fn create_stores_the_row_and_the_provider_reference(db: TestDb) {
    let provider = Arc::new(TestProvider::new(ProviderName::Paypal));
    *provider.initial_status.lock().unwrap() = PaymentStatus::RequiresCapture;
    let app = spawn_app(
        &db,
        AppOptions {
            providers: vec![provider.clone()],
            ..AppOptions::default()
        },
    )
    .await;
    let p = json_with_status(
        app.post(
            "/v1/payments",
            &json!({ "provider": "paypal", "amount": "0.29", "currency": "USD", "capture_mode": "manual", "metadata": { "order": "7" } }),
        )
        .await,
        201,
    )
    .await;
    assert_eq!(p["amount_minor"], 29);
    assert_eq!(p["status"], "requires_capture");
    assert_eq!(p["capture_mode"], "manual");
    assert_eq!(p["metadata"]["order"], "7");
    let id = p["id"].as_str().unwrap();
    assert_eq!(p["provider_reference"], format!("tp_{id}_0"));
    assert_eq!(provider.create_calls(), 1);

    let got = json_with_status(app.get(&format!("/v1/payments/{id}")).await, 200).await;
    assert_eq!(got, p);
    let timeline = paygate::payments::timeline::list(&app.state.db, id)
        .await
        .unwrap();
    let kinds: Vec<_> = timeline
        .iter()
        .map(|t| (t.kind.as_str(), t.cause.as_str(), t.to_status.clone()))
        .collect();
    assert_eq!(
        kinds,
        vec![
            (
                "created",
                "api",
                Some("requires_payment_method".to_string())
            ),
            (
                "status_changed",
                "api",
                Some("requires_capture".to_string())
            ),
        ]
    );
    let e = json_with_status(app.get("/v1/payments/pay_unknown").await, 404).await;
    assert_eq!(e["code"], "resource_missing");
    app.stop().await;
}

async fn a_decline_keeps_the_payment_open_with_last_error(db: TestDb) {
    let provider = Arc::new(TestProvider::new(ProviderName::Stripe));
    *provider.decline.lock().unwrap() = Some("insufficient_funds".into());
    let app = spawn_app(
        &db,
        AppOptions {
            providers: vec![provider.clone()],
            ..AppOptions::default()
        },
    )
    .await;
    let e = json_with_status(
        app.post(
            "/v1/payments",
            &json!({ "provider": "stripe", "amount": "10.00", "currency": "EUR" }),
        )
        .await,
        402,
    )
    .await;
    assert_eq!(e["code"], "payment_declined");
    assert_eq!(e["decline_code"], "insufficient_funds");
    let list = json_with_status(app.get("/v1/payments").await, 200).await;
    let p = &list["data"][0];
    assert_eq!(p["status"], "requires_payment_method");
    assert_eq!(p["last_error"]["decline_code"], "insufficient_funds");
    app.stop().await;
}

async fn provider_rules_are_checked_before_any_provider_call(db: TestDb) {
    let stripe = Arc::new(TestProvider::new(ProviderName::Stripe));
    let paypal = Arc::new(TestProvider::new(ProviderName::Paypal));
    let app = spawn_app(
        &db,
        AppOptions {
            providers: vec![stripe.clone(), paypal.clone()],
            ..AppOptions::default()
        },
    )
    .await;
    for (body, code) in [
        (
            json!({ "provider": "stripe", "amount": "1.234", "currency": "KWD" }),
            "amount_not_supported",
        ),
        (
            json!({ "provider": "paypal", "amount": "1.50", "currency": "HUF" }),
            "amount_not_supported",
        ),
        (
            json!({ "provider": "paypal", "amount": "1.230", "currency": "KWD" }),
            "amount_not_supported",
        ),
        (
            json!({ "provider": "stripe", "amount": "0.49", "currency": "USD" }),
            "amount_not_supported",
        ),
        (
            json!({ "provider": "stripe", "amount": "19.999", "currency": "USD" }),
            "invalid_request",
        ),
        (
            json!({ "provider": "adyen", "amount": "1.00", "currency": "USD" }),
            "invalid_request",
        ),
    ] {
        let e = json_with_status(app.post("/v1/payments", &body).await, 400).await;
        assert_eq!(e["code"], code, "{body} -> {e}");
    }
    assert_eq!(stripe.create_calls() + paypal.create_calls(), 0);
    assert_eq!(app.count("SELECT COUNT(*) FROM payments").await, 0);

    // Enabled in the configuration but disabled here: a clear client error.
    let only_stripe = spawn_app(
        &db,
        AppOptions {
            providers: vec![stripe.clone()],
            vars: vec![("PAYGATE_PROVIDERS", "stripe".into())],
            ..AppOptions::default()
        },
    )
    .await;
    let e = json_with_status(
        only_stripe
            .post(
                "/v1/payments",
                &json!({ "provider": "paypal", "amount": "1.00", "currency": "USD" }),
            )
            .await,
        400,
    )
    .await;
    assert_eq!(e["code"], "provider_not_enabled");
    only_stripe.stop().await;
    app.stop().await;
}

async fn list_filters_and_cursor_pagination(db: TestDb) {
    let stripe = Arc::new(TestProvider::new(ProviderName::Stripe));
    let paypal = Arc::new(TestProvider::new(ProviderName::Paypal));
    *paypal.initial_status.lock().unwrap() = PaymentStatus::RequiresAction;
    let app = spawn_app(
        &db,
        AppOptions {
            providers: vec![stripe.clone(), paypal.clone()],
            ..AppOptions::default()
        },
    )
    .await;
    let mut ids = Vec::new();
    for i in 0..7 {
        let provider = if i % 2 == 0 { "stripe" } else { "paypal" };
        let p = json_with_status(
            app.post("/v1/payments", &json!({ "provider": provider, "amount": format!("{}.00", i + 1), "currency": "USD" })).await,
            201,
        )
        .await;
        ids.push(p["id"].as_str().unwrap().to_string());
        // Distinct creation times, so "newest first" has one right answer.
        app.state.clock.advance(std::time::Duration::from_millis(2));
    }
    // Page through 3 at a time while new payments arrive: no duplicates, no gaps.
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let path = match &cursor {
            Some(c) => format!("/v1/payments?limit=3&starting_after={c}"),
            None => "/v1/payments?limit=3".to_string(),
        };
        let page = json_with_status(app.get(&path).await, 200).await;
        for p in page["data"].as_array().unwrap() {
            seen.push(p["id"].as_str().unwrap().to_string());
        }
        if seen.len() == 3 {
            // Arrives during pagination: newest, so it must not appear on later pages.
            json_with_status(
                app.post(
                    "/v1/payments",
                    &json!({ "provider": "stripe", "amount": "9.00", "currency": "USD" }),
                )
                .await,
                201,
            )
            .await;
        }
        if page["has_more"] == false {
            assert!(page.get("next_cursor").is_none());
            break;
        }
        cursor = Some(page["next_cursor"].as_str().unwrap().to_string());
    }
    let mut expected = ids.clone();
    expected.reverse();
    assert_eq!(seen, expected, "newest first, every payment exactly once");

    let paypal_only =
        json_with_status(app.get("/v1/payments?provider=paypal&limit=100").await, 200).await;
    let data = paypal_only["data"].as_array().unwrap();
    assert_eq!(data.len(), 3);
    assert!(data
        .iter()
        .all(|p| p["provider"] == "paypal" && p["status"] == "requires_action"));
    let by_status =
        json_with_status(app.get("/v1/payments?status=requires_action").await, 200).await;
    assert_eq!(by_status["data"].as_array().unwrap().len(), 3);
    let now = app.state.clock.now_secs();
    let future = json_with_status(
        app.get(&format!("/v1/payments?created_gte={}", now + 60))
            .await,
        200,
    )
    .await;
    assert_eq!(future["data"].as_array().unwrap().len(), 0);
    let all = json_with_status(
        app.get(&format!("/v1/payments?created_lte={now}&limit=100"))
            .await,
        200,
    )
    .await;
    assert_eq!(all["data"].as_array().unwrap().len(), 8);

    for bad in [
        "limit=0",
        "limit=101",
        "status=paid",
        "starting_after=garbage",
        "colour=red",
    ] {
        let e = json_with_status(app.get(&format!("/v1/payments?{bad}")).await, 400).await;
        assert_eq!(e["code"], "invalid_request", "{bad}");
    }
    app.stop().await;
}

async fn events_are_emitted_in_the_same_transaction(db: TestDb) {
    let stripe = Arc::new(TestProvider::new(ProviderName::Stripe));
    *stripe.initial_status.lock().unwrap() = PaymentStatus::Succeeded;
    let app = spawn_app(
        &db,
        AppOptions {
            providers: vec![stripe],
            ..AppOptions::default()
        },
    )
    .await;
    let p = json_with_status(
        app.post(
            "/v1/payments",
            &json!({ "provider": "stripe", "amount": "3.00", "currency": "GBP" }),
        )
        .await,
        201,
    )
    .await;
    let id = p["id"].as_str().unwrap();
    let events = json_with_status(app.get(&format!("/v1/events?object_id={id}")).await, 200).await;
    let types: Vec<_> = events["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["type"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(types, vec!["payment.succeeded", "payment.created"]);
    assert_eq!(events["data"][0]["data"]["object"]["status"], "succeeded");
    assert_eq!(
        events["data"][0]["api_version"],
        shared::api::EVENTS_API_VERSION
    );
    let page = json_with_status(app.get("/v1/events?limit=1").await, 200).await;
    assert_eq!(page["has_more"], true);
    let next = page["next_cursor"].as_str().unwrap();
    let page2 = json_with_status(
        app.get(&format!("/v1/events?limit=1&starting_after={next}"))
            .await,
        200,
    )
    .await;
    assert_eq!(page2["data"][0]["type"], "payment.created");
    app.stop().await;
}
