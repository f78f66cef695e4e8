//! The events paygate emits: one envelope (`id`, `type`, `created`, `api_version`,
//! `data.object` with the full public object), every type listed by `GET /v1/event_types`, and
//! `payment.failed` for a decline that leaves the payment open. Against the Stripe emulator over
//! real HTTP, on SQLite and PostgreSQL.

use paygate_tests::app::json_with_status;
use paygate_tests::{on_both_databases, spawn_app, AppOptions, TestApp, TestDb};
use serde_json::{json, Value};
use shared::api::EVENTS_API_VERSION;
use std::collections::BTreeSet;
use std::time::Duration;

on_both_databases!(
    a_checkout_emits_the_full_objects_in_one_envelope,
    a_decline_that_leaves_the_payment_open_emits_payment_failed,
    every_event_emitted_is_a_listed_type
);

async fn events_of(app: &TestApp, object: &str) -> Vec<Value> {
    let page = json_with_status(
        app.get(&format!("/v1/events?object_id={object}")).await,
        200,
    )
    .await;
    let mut events = page["data"].as_array().unwrap().clone();
    events.reverse(); // oldest first
    events
}

fn types(events: &[Value]) -> Vec<&str> {
    events.iter().map(|e| e["type"].as_str().unwrap()).collect()
}

async fn a_checkout_emits_the_full_objects_in_one_envelope(db: TestDb) {
    let app = spawn_app(&db, AppOptions::default()).await;
    let (sid, pid) = app
        .card_checkout(
            &json!({ "amount": "42.50", "currency": "EUR", "customer_email": "buyer@example.com",
                "metadata": { "order": "1001" } }),
        )
        .await;

    let session_events = events_of(&app, &sid).await;
    assert_eq!(
        types(&session_events),
        ["checkout.session.created", "checkout.session.completed"]
    );
    for e in &session_events {
        assert!(e["id"].as_str().unwrap().starts_with("evt_"), "{e}");
        assert_eq!(e["api_version"], EVENTS_API_VERSION);
        assert!(
            e["created"].as_i64().unwrap() > 1_700_000_000,
            "seconds: {e}"
        );
        assert_eq!(e["data"]["object"]["id"], sid.as_str());
        assert_eq!(e["data"]["object"]["amount"], "42.50");
        assert_eq!(e["data"]["object"]["metadata"]["order"], "1001");
        // Personal data stays encrypted at rest: the events table is not.
        assert!(e["data"]["object"]["customer_email"].is_null(), "{e}");
    }
    let completed = &session_events[1]["data"]["object"];
    assert_eq!(completed["status"], "complete");
    assert_eq!(completed["payment"]["id"], pid.as_str());
    assert_eq!(completed["payment"]["status"], "succeeded");
    // The merchant API still shows the email to the merchant.
    let session =
        json_with_status(app.get(&format!("/v1/checkout/sessions/{sid}")).await, 200).await;
    assert_eq!(session["customer_email"], "buyer@example.com");

    let payment_events = events_of(&app, &pid).await;
    let kinds = types(&payment_events);
    assert_eq!(kinds.first(), Some(&"payment.created"));
    assert!(kinds.contains(&"payment.succeeded"), "{kinds:?}");
    let succeeded = payment_events
        .iter()
        .find(|e| e["type"] == "payment.succeeded")
        .unwrap();
    assert_eq!(succeeded["data"]["object"]["id"], pid.as_str());
    assert_eq!(succeeded["data"]["object"]["amount_minor"], 4250);
    assert_eq!(
        succeeded["data"]["object"]["checkout_session"],
        sid.as_str()
    );
    // Event ids are unique.
    let ids: BTreeSet<_> = session_events
        .iter()
        .chain(&payment_events)
        .map(|e| e["id"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(ids.len(), session_events.len() + payment_events.len());
    app.stop().await;
}

async fn a_decline_that_leaves_the_payment_open_emits_payment_failed(db: TestDb) {
    let app = spawn_app(&db, AppOptions::default()).await;
    let p = json_with_status(
        app.post(
            "/v1/payments",
            &json!({ "provider": "stripe", "amount": "9.00", "currency": "USD" }),
        )
        .await,
        201,
    )
    .await;
    let id = p["id"].as_str().unwrap();
    let declined = app
        .post(
            &format!("/v1/payments/{id}/confirm"),
            &json!({ "payment_method": "pm_card_visa_chargeDeclined" }),
        )
        .await;
    assert_eq!(declined.status(), 402);
    let after = json_with_status(app.get(&format!("/v1/payments/{id}")).await, 200).await;
    assert_eq!(after["status"], "requires_payment_method", "still open");

    let events = events_of(&app, id).await;
    let failed: Vec<_> = events
        .iter()
        .filter(|e| e["type"] == "payment.failed")
        .collect();
    assert_eq!(failed.len(), 1, "{:?}", types(&events));
    let object = &failed[0]["data"]["object"];
    assert_eq!(object["status"], "requires_payment_method");
    assert_eq!(object["last_error"]["code"], "card_declined");

    // Another card pays it.
    json_with_status(
        app.post(
            &format!("/v1/payments/{id}/confirm"),
            &json!({ "payment_method": "pm_card_visa" }),
        )
        .await,
        200,
    )
    .await;
    let events = events_of(&app, id).await;
    let kinds = types(&events);
    let failed_at = kinds.iter().position(|k| *k == "payment.failed").unwrap();
    let succeeded_at = kinds.iter().position(|k| *k == "payment.succeeded");
    assert!(succeeded_at > Some(failed_at), "{kinds:?}");
    app.stop().await;
}

/// Flows that reach every kind of object, then: every event type recorded is one
/// `GET /v1/event_types` lists, with the object kind it names.
async fn every_event_emitted_is_a_listed_type(db: TestDb) {
    let app = spawn_app(&db, AppOptions::default()).await;
    let listed = json_with_status(app.get("/v1/event_types").await, 200).await;
    let catalog: Vec<(String, String)> = listed["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| {
            assert!(!t["description"].as_str().unwrap().is_empty(), "{t}");
            (
                t["type"].as_str().unwrap().to_string(),
                t["object"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    for required in [
        "checkout.session.completed",
        "checkout.session.expired",
        "payment.succeeded",
        "payment.failed",
        "payment.requires_capture",
        "payment.canceled",
        "refund.succeeded",
        "refund.failed",
        "payment.dispute_opened",
        "subscription.created",
        "subscription.updated",
        "customer.created",
    ] {
        assert!(
            catalog.iter().any(|(t, _)| t == required),
            "{required} is not listed"
        );
    }

    // A paid checkout, refunded in part; a manual-capture payment voided; a declined attempt;
    // a session that expires; a customer with a subscription, canceled.
    let (_, pid) = app
        .card_checkout(&json!({ "amount": "20.00", "currency": "USD" }))
        .await;
    json_with_status(
        app.post("/v1/refunds", &json!({ "payment": pid, "amount": "5.00" }))
            .await,
        201,
    )
    .await;
    let manual = json_with_status(
        app.post(
            "/v1/payments",
            &json!({ "provider": "stripe", "amount": "8.00", "currency": "USD", "capture_mode": "manual" }),
        )
        .await,
        201,
    )
    .await;
    let mid = manual["id"].as_str().unwrap();
    for pm in ["pm_card_visa_chargeDeclined", "pm_card_visa"] {
        app.post(
            &format!("/v1/payments/{mid}/confirm"),
            &json!({ "payment_method": pm }),
        )
        .await;
    }
    json_with_status(
        app.post(&format!("/v1/payments/{mid}/cancel"), &json!({}))
            .await,
        200,
    )
    .await;
    app.create_session(&json!({ "amount": "1.00", "currency": "USD", "expires_in": 60 }))
        .await;
    app.state.clock.advance(Duration::from_secs(61));
    paygate::checkout::expiry::sweep(&app.state).await.unwrap();
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
    json_with_status(
        app.request(
            reqwest::Method::DELETE,
            &format!("/v1/subscriptions/{}", s["id"].as_str().unwrap()),
        )
        .send()
        .await
        .unwrap(),
        200,
    )
    .await;
    // A payment link, switched off.
    let link = json_with_status(
        app.post(
            "/v1/payment_links",
            &json!({ "amount": "4.00", "currency": "USD" }),
        )
        .await,
        201,
    )
    .await;
    json_with_status(
        app.post(
            &format!("/v1/payment_links/{}", link["id"].as_str().unwrap()),
            &json!({ "active": false }),
        )
        .await,
        200,
    )
    .await;
    let page = json_with_status(app.get("/v1/events?limit=100").await, 200).await;
    let emitted = page["data"].as_array().unwrap();
    let mut seen = BTreeSet::new();
    for e in emitted {
        let kind = e["type"].as_str().unwrap();
        let Some((_, object)) = catalog.iter().find(|(t, _)| t == kind) else {
            panic!("{kind} was emitted but is not listed: {e}");
        };
        let id = e["data"]["object"]["id"].as_str().unwrap();
        let prefix = match object.as_str() {
            "payment" => "pay_",
            "refund" => "re_",
            "checkout.session" => "cs_",
            "subscription" => "sub_",
            "customer" => "cus_",
            "payment_link" => "plink_",
            "payment_method" => "pm_",
            other => panic!("unknown object kind {other}"),
        };
        assert!(id.starts_with(prefix), "{kind} carries {id}");
        seen.insert(kind.to_string());
    }
    for expected in [
        "checkout.session.created",
        "checkout.session.completed",
        "checkout.session.expired",
        "payment.created",
        "payment.succeeded",
        "payment.failed",
        "payment.requires_capture",
        "payment.canceled",
        "refund.created",
        "refund.succeeded",
        "customer.created",
        "subscription.created",
        "subscription.updated",
        "payment_link.created",
        "payment_link.updated",
        "payment_method.attached",
    ] {
        assert!(
            seen.contains(expected),
            "{expected} not emitted; saw {seen:?}"
        );
    }
    app.stop().await;
}
