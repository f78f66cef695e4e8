//! Merchant webhook endpoints end to end: paygate delivers its events to a receiver on
//! 127.0.0.1 over real HTTP, signed so that the official Standard Webhooks verifier accepts
//! them; failures are retried on the schedule (driven by the test clock) and every attempt is
//! in the delivery log; secret rotation, disabling, deleting and resending. On SQLite and
//! PostgreSQL.

use paygate::merchant_webhooks::relay::{PER_ENDPOINT, RETRY_DELAYS_MS};
use paygate_tests::app::{eventually, json_with_status};
use paygate_tests::emulator::{serve_local, webhook_receiver};
use paygate_tests::standard_webhooks::{verify, Delivery};
use paygate_tests::{on_both_databases, spawn_app, AppOptions, TestApp, TestDb};
use serde_json::{json, Value};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

on_both_databases!(
    a_purchase_reaches_the_endpoint_signed_and_verifiable,
    a_receiver_failing_three_times_gets_the_event_four_times,
    a_rotated_secret_signs_beside_the_old_one_until_the_overlap_ends,
    endpoints_are_validated_disabled_deleted_and_events_resent,
    a_backlog_built_while_the_receiver_is_down_is_delivered_whole,
    an_endpoint_failing_for_five_days_is_disabled_and_the_others_told
);

type Received = Arc<Mutex<Vec<Delivery>>>;

async fn receiver(fail_first: usize) -> (String, Received) {
    webhook_receiver("/hooks", fail_first, Delivery::from_request).await
}

async fn endpoint(app: &TestApp, url: &str, events: Value) -> Value {
    json_with_status(
        app.post(
            "/v1/webhook_endpoints",
            &json!({ "url": url, "enabled_events": events, "description": "orders" }),
        )
        .await,
        201,
    )
    .await
}

async fn wait_for(received: &Received, what: &str, done: impl Fn(&[Delivery]) -> bool) {
    let received = received.clone();
    let done = &done;
    eventually(what, Duration::from_secs(15), || {
        let received = received.clone();
        async move { done(&received.lock().unwrap()) }
    })
    .await;
}

fn types(deliveries: &[Delivery]) -> Vec<String> {
    deliveries
        .iter()
        .map(|d| {
            serde_json::from_str::<Value>(&d.body).unwrap()["type"]
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect()
}

async fn a_purchase_reaches_the_endpoint_signed_and_verifiable(db: TestDb) {
    let app = spawn_app(&db, AppOptions::default()).await;
    let (url, received) = receiver(0).await;
    let created = endpoint(&app, &url, json!(["checkout.*", "payment.succeeded"])).await;
    let secret = created["secret"].as_str().unwrap().to_string();
    assert!(secret.starts_with("whsec_"), "{created}");
    let id = created["id"].as_str().unwrap();
    let read = json_with_status(app.get(&format!("/v1/webhook_endpoints/{id}")).await, 200).await;
    assert!(
        read.get("secret").is_none(),
        "the secret is shown once: {read}"
    );

    let (sid, pid) = app
        .card_checkout(&json!({ "amount": "12.00", "currency": "USD" }))
        .await;
    wait_for(&received, "the purchase's events", |d| {
        types(d).contains(&"checkout.session.completed".to_string())
            && types(d).contains(&"payment.succeeded".to_string())
    })
    .await;
    let deliveries = received.lock().unwrap().clone();
    let kinds = types(&deliveries);
    // Only the enabled types: no payment.created, no refund events.
    assert!(
        kinds
            .iter()
            .all(|k| k.starts_with("checkout.") || k == "payment.succeeded"),
        "{kinds:?}"
    );
    for d in &deliveries {
        let body: Value = serde_json::from_str(&d.body).unwrap();
        assert_eq!(
            d.id,
            body["id"].as_str().unwrap(),
            "webhook-id is the event id"
        );
        assert!([
            "checkout.session.created",
            "checkout.session.completed",
            "payment.succeeded"
        ]
        .contains(&body["type"].as_str().unwrap()));
        let object_id = body["data"]["object"]["id"].as_str().unwrap();
        assert!(object_id == sid || object_id == pid, "{body}");
        // The same envelope as GET /v1/events.
        let listed = json_with_status(
            app.get(&format!("/v1/events?object_id={object_id}")).await,
            200,
        )
        .await;
        assert!(listed["data"].as_array().unwrap().contains(&body), "{body}");
    }

    // The official verifier accepts every delivery, and refuses a tampered body or another key.
    if let Some(ok) = verify(&secret, &deliveries) {
        assert!(ok.iter().all(|v| *v), "{ok:?}");
        let mut tampered = deliveries[0].clone();
        tampered.body = tampered.body.replace("12.00", "1.00");
        assert_ne!(tampered.body, deliveries[0].body);
        let other = paygate::merchant_webhooks::signing::new_secret();
        assert_eq!(verify(&secret, &[tampered]), Some(vec![false]));
        assert_eq!(verify(&other, &deliveries[..1]), Some(vec![false]));
    }
    app.stop().await;
}

async fn a_receiver_failing_three_times_gets_the_event_four_times(db: TestDb) {
    let app = spawn_app(&db, AppOptions::default()).await;
    let (url, received) = receiver(3).await;
    let we = endpoint(&app, &url, json!(["payment.created"])).await;
    let we = we["id"].as_str().unwrap().to_string();
    let p = json_with_status(
        app.post(
            "/v1/payments",
            &json!({ "provider": "stripe", "amount": "4.00", "currency": "USD" }),
        )
        .await,
        201,
    )
    .await;
    let mut expected = 1;
    wait_for(&received, "the first attempt", |d| d.len() == 1).await;
    // Each retry is due after its delay (plus at most 10% of jitter), on paygate's clock.
    for delay_ms in &RETRY_DELAYS_MS[..3] {
        let not_yet = Duration::from_millis((*delay_ms as u64) / 2);
        app.state.clock.advance(not_yet);
        tokio::time::sleep(Duration::from_millis(600)).await;
        assert_eq!(
            received.lock().unwrap().len(),
            expected,
            "not before its time"
        );
        app.state
            .clock
            .advance(Duration::from_millis((*delay_ms as u64) * 7 / 10 + 1000));
        expected += 1;
        let n = expected;
        wait_for(&received, "the next attempt", move |d| d.len() == n).await;
    }
    assert_eq!(expected, 4);
    let deliveries = received.lock().unwrap().clone();
    assert!(
        deliveries.iter().all(|d| d.id == deliveries[0].id),
        "one event, four times"
    );
    let body: Value = serde_json::from_str(&deliveries[0].body).unwrap();
    assert_eq!(body["data"]["object"]["id"], p["id"]);

    // The receiver has answered; the relay records the attempt just after.
    let log_url = format!("/v1/webhook_endpoints/{we}/deliveries");
    eventually(
        "the log to say delivered",
        Duration::from_secs(15),
        || async {
            let log = json_with_status(app.get(&log_url).await, 200).await;
            log["data"][0]["status"] == "delivered"
        },
    )
    .await;
    let log = json_with_status(app.get(&log_url).await, 200).await;
    let delivery = &log["data"][0];
    assert_eq!(log["data"].as_array().unwrap().len(), 1, "{log}");
    assert_eq!(delivery["status"], "delivered");
    assert_eq!(delivery["event_type"], "payment.created");
    let statuses: Vec<_> = delivery["attempts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["http_status"].as_u64().unwrap())
        .collect();
    assert_eq!(statuses, [500, 500, 500, 200]);
    // Delivered is done: nothing more arrives.
    app.state.clock.advance(Duration::from_secs(24 * 3600));
    tokio::time::sleep(Duration::from_millis(800)).await;
    assert_eq!(received.lock().unwrap().len(), 4);
    let failed = json_with_status(
        app.get(&format!(
            "/v1/webhook_endpoints/{we}/deliveries?status=failed"
        ))
        .await,
        200,
    )
    .await;
    assert_eq!(failed["data"].as_array().unwrap().len(), 0);
    app.stop().await;
}

async fn a_rotated_secret_signs_beside_the_old_one_until_the_overlap_ends(db: TestDb) {
    let app = spawn_app(&db, AppOptions::default()).await;
    let (url, received) = receiver(0).await;
    let created = endpoint(&app, &url, json!(["payment.created"])).await;
    let (we, old) = (
        created["id"].as_str().unwrap().to_string(),
        created["secret"].as_str().unwrap().to_string(),
    );
    let rotated = json_with_status(
        app.post(
            &format!("/v1/webhook_endpoints/{we}/rotate_secret"),
            &json!({}),
        )
        .await,
        200,
    )
    .await;
    let new = rotated["secret"].as_str().unwrap().to_string();
    assert_ne!(new, old);
    let body = json!({ "provider": "stripe", "amount": "2.00", "currency": "USD" });
    let pay = || app.post("/v1/payments", &body);
    pay().await;
    wait_for(&received, "a delivery during the overlap", |d| d.len() == 1).await;
    let during = received.lock().unwrap()[0].clone();
    assert_eq!(
        during.signature.split(' ').count(),
        2,
        "{}",
        during.signature
    );
    let during = std::slice::from_ref(&during);
    if verify(&old, during).is_some() {
        assert_eq!(verify(&old, during), Some(vec![true]));
        assert_eq!(verify(&new, during), Some(vec![true]));
    }
    // The day of overlap has passed (without moving the clock, which the verifier checks
    // timestamps against): only the new secret signs.
    sqlx::query("UPDATE webhook_endpoints SET previous_secret_expires_at = 0")
        .execute(&app.state.db.pool)
        .await
        .unwrap();
    pay().await;
    wait_for(&received, "a delivery after the overlap", |d| d.len() == 2).await;
    let after = received.lock().unwrap()[1].clone();
    assert_eq!(after.signature.split(' ').count(), 1, "{}", after.signature);
    let after = std::slice::from_ref(&after);
    if verify(&old, after).is_some() {
        assert_eq!(verify(&old, after), Some(vec![false]));
        assert_eq!(verify(&new, after), Some(vec![true]));
    }
    app.stop().await;
}

async fn endpoints_are_validated_disabled_deleted_and_events_resent(db: TestDb) {
    let app = spawn_app(&db, AppOptions::default()).await;
    for (body, param) in [
        (
            json!({ "url": "ftp://shop.example/x", "enabled_events": ["*"] }),
            "url",
        ),
        (
            json!({ "url": "https://shop.example/x", "enabled_events": [] }),
            "enabled_events",
        ),
        (
            json!({ "url": "https://shop.example/x", "enabled_events": ["payment.paid"] }),
            "enabled_events",
        ),
        (
            json!({ "url": "https://shop.example/x", "enabled_events": ["nothing.*"] }),
            "enabled_events",
        ),
    ] {
        let e = json_with_status(app.post("/v1/webhook_endpoints", &body).await, 400).await;
        assert_eq!(e["param"], param, "{body}: {e}");
    }
    // Only the sandbox demo shop's own endpoint (registered at start-up) is there.
    assert_eq!(app.count("SELECT COUNT(*) FROM webhook_endpoints").await, 1);

    let (url, received) = receiver(0).await;
    let we = endpoint(&app, &url, json!(["*"])).await;
    let we = we["id"].as_str().unwrap().to_string();
    let list = json_with_status(app.get("/v1/webhook_endpoints").await, 200).await;
    let listed = list["data"].as_array().unwrap();
    assert!(listed.iter().any(|e| e["id"] == we.as_str()), "{list}");
    assert!(listed.iter().all(|e| e.get("secret").is_none()), "{list}");

    // Disabled: events made meanwhile are not delivered to it.
    let off = json_with_status(
        app.post(
            &format!("/v1/webhook_endpoints/{we}"),
            &json!({ "status": "disabled" }),
        )
        .await,
        200,
    )
    .await;
    assert_eq!(off["status"], "disabled");
    let s = app
        .create_session(&json!({ "amount": "3.00", "currency": "USD" }))
        .await;
    tokio::time::sleep(Duration::from_millis(800)).await;
    assert_eq!(received.lock().unwrap().len(), 0);

    // Resend that event to it: it arrives.
    let events = json_with_status(
        app.get(&format!(
            "/v1/events?object_id={}",
            s["id"].as_str().unwrap()
        ))
        .await,
        200,
    )
    .await;
    let event = events["data"][0]["id"].as_str().unwrap().to_string();
    json_with_status(
        app.post(
            &format!("/v1/webhook_endpoints/{we}"),
            &json!({ "status": "enabled" }),
        )
        .await,
        200,
    )
    .await;
    json_with_status(
        app.post(
            &format!("/v1/events/{event}/resend"),
            &json!({ "endpoint": we }),
        )
        .await,
        202,
    )
    .await;
    wait_for(&received, "the resent event", |d| d.len() == 1).await;
    assert_eq!(received.lock().unwrap()[0].id, event);
    let e = json_with_status(
        app.post("/v1/events/evt_nope/resend", &json!({ "endpoint": we }))
            .await,
        404,
    )
    .await;
    assert_eq!(e["code"], "resource_missing");

    let gone = app
        .request(
            reqwest::Method::DELETE,
            &format!("/v1/webhook_endpoints/{we}"),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(gone.status(), 204);
    json_with_status(app.get(&format!("/v1/webhook_endpoints/{we}")).await, 404).await;
    assert_eq!(
        app.count(&format!(
            "SELECT COUNT(*) FROM webhook_deliveries WHERE endpoint_id = '{we}'"
        ))
        .await,
        0
    );
    app.stop().await;
}

/// Appends `n` events as the payment code does (each in its own transaction).
async fn emit(app: &TestApp, n: usize) -> Vec<String> {
    let mut ids = Vec::with_capacity(n);
    for i in 0..n {
        let mut tx = app.state.db.begin_write().await.unwrap();
        let object = json!({ "id": format!("pay_bulk{i}"), "status": "succeeded" });
        ids.push(
            paygate::events::record(
                &mut tx,
                "payment.succeeded",
                &format!("pay_bulk{i}"),
                &object,
                app.state.clock.now_ms(),
            )
            .await
            .unwrap(),
        );
        tx.commit().await.unwrap();
    }
    ids
}

/// A receiver that answers 503 while `down` is set and 200 after; it keeps every delivery with
/// whether it was accepted.
/// A receiver that refuses everything while `down`; it keeps each delivery with the time on
/// `clock` (paygate's test clock, which the test moves) at which it arrived.
async fn receiver_with_outage(
    clock: paygate::clock::Clock,
) -> (String, Arc<Mutex<Vec<(Delivery, bool)>>>, Arc<AtomicBool>) {
    let seen: Arc<Mutex<Vec<(Delivery, bool)>>> = Arc::default();
    let down = Arc::new(AtomicBool::new(true));
    let (store, is_down) = (seen.clone(), down.clone());
    let app = axum::Router::new().route(
        "/hooks",
        axum::routing::post(move |headers: axum::http::HeaderMap, body: String| {
            let (store, is_down, clock) = (store.clone(), is_down.clone(), clock.clone());
            async move {
                let accepted = !is_down.load(Ordering::SeqCst);
                let delivery = Delivery {
                    received_at: Some(clock.now_ms() / 1000),
                    ..Delivery::from_request(headers, body)
                };
                store.lock().unwrap().push((delivery, accepted));
                if accepted {
                    axum::http::StatusCode::OK
                } else {
                    axum::http::StatusCode::SERVICE_UNAVAILABLE
                }
            }
        }),
    );
    let addr = serve_local(app).await;
    (format!("http://{addr}/hooks"), seen, down)
}

/// 1,000 events while the receiver is down, then it recovers: as the retry schedule comes due
/// every event arrives, accepted exactly once, each verified by the official library.
async fn a_backlog_built_while_the_receiver_is_down_is_delivered_whole(db: TestDb) {
    const N: usize = 1000;
    let app = spawn_app(&db, AppOptions::default()).await;
    let (url, received, down) = receiver_with_outage(app.state.clock.clone()).await;
    let created = endpoint(&app, &url, json!(["payment.succeeded"])).await;
    let secret = created["secret"].as_str().unwrap().to_string();
    let ids = emit(&app, N).await;
    let distinct = |accepted_only: bool| {
        let received = received.lock().unwrap();
        let mut ids: Vec<String> = received
            .iter()
            .filter(|(_, ok)| *ok || !accepted_only)
            .map(|(d, _)| d.id.clone())
            .collect();
        ids.sort();
        ids.dedup();
        ids.len()
    };
    eventually(
        "a first, refused attempt of every event",
        Duration::from_secs(60),
        || async { distinct(false) == N },
    )
    .await;
    assert_eq!(distinct(true), 0);

    // The receiver is back. Each retry comes due on paygate's clock, which the test moves on
    // step by step through the schedule (a slow first round means some events are already on
    // their second or third delay).
    down.store(false, Ordering::SeqCst);
    for delay_ms in RETRY_DELAYS_MS {
        if distinct(true) == N {
            break;
        }
        // Only between sends: a jump past the lease (60 s) of a delivery still in flight would
        // hand it to the next pass as well, a double send no real clock can cause.
        eventually("no delivery in flight", Duration::from_secs(60), || async {
            app.count("SELECT COUNT(*) FROM webhook_deliveries WHERE locked_until IS NOT NULL")
                .await
                == 0
        })
        .await;
        app.state
            .clock
            .advance(Duration::from_millis(delay_ms as u64 * 11 / 10 + 1000));
        let _ = tokio::time::timeout(
            Duration::from_secs(30),
            eventually(
                "every event accepted",
                Duration::from_secs(3600),
                || async { distinct(true) == N },
            ),
        )
        .await;
    }
    assert_eq!(distinct(true), N, "every event delivered, none missing");

    let received = received.lock().unwrap().clone();
    let accepted: Vec<Delivery> = received
        .into_iter()
        .filter(|(_, ok)| *ok)
        .map(|(d, _)| d)
        .collect();
    assert_eq!(accepted.len(), N, "each event accepted once, never again");
    let mut got: Vec<&str> = accepted.iter().map(|d| d.id.as_str()).collect();
    got.sort();
    let mut want: Vec<&str> = ids.iter().map(String::as_str).collect();
    want.sort();
    assert_eq!(got, want);
    if let Some(ok) = verify(&secret, &accepted) {
        assert!(ok.iter().all(|v| *v), "every delivery verifies");
    }
    app.stop().await;
}

/// Two paygate instances on one PostgreSQL database, one receiver: each event is delivered by
/// one of them, once.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_instances_deliver_each_event_once() {
    let Some(db) = TestDb::postgres().await else {
        return;
    };
    let first = spawn_app(&db, AppOptions::default()).await;
    let second = spawn_app(&db, AppOptions::default()).await;
    let (url, received) = receiver(0).await;
    endpoint(&first, &url, json!(["*"])).await;
    let ids = emit(&first, 200).await;
    wait_for(&received, "every event", |d| d.len() >= 200).await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let deliveries = received.lock().unwrap().clone();
    let mut got: Vec<&str> = deliveries.iter().map(|d| d.id.as_str()).collect();
    got.sort();
    let mut want: Vec<&str> = ids.iter().map(String::as_str).collect();
    want.sort();
    assert_eq!(got, want, "each event exactly once");
    assert_eq!(
        first.count("SELECT COUNT(*) FROM webhook_attempts").await,
        200
    );
    second.stop().await;
    first.stop().await;
}

async fn endpoint_state(app: &TestApp, id: &str) -> Value {
    json_with_status(app.get(&format!("/v1/webhook_endpoints/{id}")).await, 200).await
}

/// An endpoint that fails every attempt for 5 days (on paygate's clock) is disabled, says why,
/// and the endpoints that listen for it receive `webhook_endpoint.disabled`; one that failed
/// once and then answered is left alone; enabling it again starts afresh.
async fn an_endpoint_failing_for_five_days_is_disabled_and_the_others_told(db: TestDb) {
    let app = spawn_app(&db, AppOptions::default()).await;
    let (broken_url, broken) = receiver(usize::MAX).await;
    let (flaky_url, flaky) = receiver(1).await;
    let (watcher_url, watcher) = receiver(0).await;
    let id = |v: Value| v["id"].as_str().unwrap().to_string();
    let broken_we = id(endpoint(&app, &broken_url, json!(["payment.created"])).await);
    let flaky_we = id(endpoint(&app, &flaky_url, json!(["payment.created"])).await);
    endpoint(&app, &watcher_url, json!(["webhook_endpoint.*"])).await;
    let body = json!({ "provider": "stripe", "amount": "3.00", "currency": "USD" });
    json_with_status(app.post("/v1/payments", &body).await, 201).await;
    wait_for(&broken, "the first failed attempt", |d| d.len() == 1).await;
    wait_for(&flaky, "the first failed attempt", |d| d.len() == 1).await;
    let first_failure = app.state.clock.now_ms() / 1000;
    eventually("the failure recorded", Duration::from_secs(15), || async {
        endpoint_state(&app, &broken_we).await["failing_since"].is_i64()
    })
    .await;

    // The 5 s retry: the flaky receiver answers now, the broken one does not.
    app.state.clock.advance(Duration::from_millis(
        RETRY_DELAYS_MS[0] as u64 * 11 / 10 + 1000,
    ));
    wait_for(&flaky, "the retry", |d| d.len() == 2).await;
    wait_for(&broken, "the retry", |d| d.len() == 2).await;
    eventually(
        "the flaky endpoint healthy again",
        Duration::from_secs(15),
        || async {
            endpoint_state(&app, &flaky_we)
                .await
                .get("failing_since")
                .is_none()
        },
    )
    .await;
    let state = endpoint_state(&app, &broken_we).await;
    assert_eq!(
        state["status"], "enabled",
        "failing, not for 5 days yet: {state}"
    );
    let since = state["failing_since"].as_i64().unwrap();
    assert!(
        (since - first_failure).abs() <= 2,
        "{since} vs {first_failure}"
    );
    assert!(state.get("disabled_reason").is_none(), "{state}");
    assert!(watcher.lock().unwrap().is_empty(), "nothing disabled yet");

    // Five days later the next retry fails too: the endpoint is disabled.
    app.state
        .clock
        .advance(Duration::from_secs(5 * 24 * 3600 + 60));
    eventually("the endpoint disabled", Duration::from_secs(20), || async {
        endpoint_state(&app, &broken_we).await["status"] == "disabled"
    })
    .await;
    let state = endpoint_state(&app, &broken_we).await;
    assert_eq!(state["disabled_reason"], "failing", "{state}");
    assert_eq!(endpoint_state(&app, &flaky_we).await["status"], "enabled");
    wait_for(&watcher, "the disabled event", |d| !d.is_empty()).await;
    let told: Vec<Value> = watcher
        .lock()
        .unwrap()
        .iter()
        .map(|d| serde_json::from_str(&d.body).unwrap())
        .collect();
    assert_eq!(told.len(), 1, "{told:?}");
    assert_eq!(told[0]["type"], "webhook_endpoint.disabled");
    let object = &told[0]["data"]["object"];
    assert_eq!(object["id"], broken_we.as_str());
    assert_eq!(object["status"], "disabled");
    assert_eq!(object["disabled_reason"], "failing");
    assert!(object.get("secret").is_none(), "never the secret: {object}");
    assert_eq!(
        broken
            .lock()
            .unwrap()
            .iter()
            .filter(|d| d.body.contains("webhook_endpoint.disabled"))
            .count(),
        0,
        "not told to itself"
    );

    // Enabled again by the merchant: no reason, and the count starts afresh.
    let enabled = json_with_status(
        app.post(
            &format!("/v1/webhook_endpoints/{broken_we}"),
            &json!({ "status": "enabled" }),
        )
        .await,
        200,
    )
    .await;
    assert_eq!(enabled["status"], "enabled");
    assert!(enabled.get("disabled_reason").is_none(), "{enabled}");
    assert!(enabled.get("failing_since").is_none(), "{enabled}");
    app.stop().await;
}

/// A receiver that takes requests and never answers in time: it holds at most
/// `PER_ENDPOINT` of paygate's senders, and every event reaches another endpoint before the
/// first of its attempts has even timed out (paygate waits 10 s).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_receiver_that_never_answers_holds_up_no_other_endpoint() {
    // More than the silent receiver's share, so its limit is what stops it taking more.
    const EVENTS: usize = 2 * PER_ENDPOINT + 16;
    let db = TestDb::sqlite().await;
    let app = spawn_app(&db, AppOptions::default()).await;
    let held = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let counter = held.clone();
    let hanging = axum::Router::new().route(
        "/hooks",
        axum::routing::post(move || {
            let counter = counter.clone();
            async move {
                counter.fetch_add(1, Ordering::SeqCst);
                tokio::time::sleep(Duration::from_secs(60)).await;
                axum::http::StatusCode::OK
            }
        }),
    );
    let addr = serve_local(hanging).await;
    let slow = endpoint(
        &app,
        &format!("http://{addr}/hooks"),
        json!(["payment.created"]),
    )
    .await;
    let slow = slow["id"].as_str().unwrap().to_string();
    let (url, received) = receiver(0).await;
    endpoint(&app, &url, json!(["payment.created"])).await;
    let body = json!({ "provider": "stripe", "amount": "2.00", "currency": "USD" });
    for _ in 0..EVENTS {
        json_with_status(app.post("/v1/payments", &body).await, 201).await;
    }
    wait_for(&received, "every event at the answering endpoint", |d| {
        d.len() == EVENTS
    })
    .await;
    let log = json_with_status(
        app.get(&format!(
            "/v1/webhook_endpoints/{slow}/deliveries?limit=100"
        ))
        .await,
        200,
    )
    .await;
    let recorded: usize = log["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["attempts"].as_array().unwrap().len())
        .sum();
    assert_eq!(
        recorded, 0,
        "no attempt at the silent receiver has ended yet: {log}"
    );
    let in_flight = held.load(Ordering::SeqCst);
    assert!(
        (1..=PER_ENDPOINT).contains(&in_flight),
        "{in_flight} requests held by the silent receiver"
    );
    app.stop().await;
}
