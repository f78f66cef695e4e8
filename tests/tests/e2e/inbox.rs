//! The inbox shared by both providers: verify, store once, acknowledge, apply durably through
//! the state machine. On SQLite and PostgreSQL.

use paygate::inbox::store::state_of;
use paygate_tests::app::{eventually, json_with_status};
use paygate_tests::provider::SIGNATURE_HEADER;
use paygate_tests::webhooks_in::processed;
use paygate_tests::{on_both_databases, spawn_app, AppOptions, TestApp, TestDb, TestProvider};
use serde_json::json;
use shared::api::{PaymentStatus, ProviderName};
use std::sync::Arc;
use std::time::Duration;

on_both_databases!(
    verified_events_are_applied_once,
    unverified_events_change_nothing,
    late_events_never_move_a_payment_backwards,
    events_for_unknown_payments_are_kept_and_retried,
    an_event_that_never_applies_is_parked_listed_and_replayed,
    an_acknowledged_event_is_applied_after_a_restart,
);

async fn send(app: &TestApp, provider: &TestProvider, body: &[u8]) -> reqwest::Response {
    app.client
        .post(format!("{}/webhooks/stripe", app.url))
        .header(SIGNATURE_HEADER, provider.sign(body))
        .body(body.to_vec())
        .send()
        .await
        .unwrap()
}

async fn status_of(app: &TestApp, id: &str) -> String {
    let p = json_with_status(app.get(&format!("/v1/payments/{id}")).await, 200).await;
    p["status"].as_str().unwrap().to_string()
}

async fn verified_events_are_applied_once(db: TestDb) {
    let provider = Arc::new(TestProvider::new(ProviderName::Stripe));
    let app = spawn_app(
        &db,
        AppOptions {
            providers: vec![provider.clone()],
            ..AppOptions::default()
        },
    )
    .await;
    let (id, reference) = app.new_stripe_payment().await;
    let body = TestProvider::event("evt_1", &reference, PaymentStatus::Succeeded);
    let ack = json_with_status(send(&app, &provider, &body).await, 200).await;
    assert_eq!(ack, json!({ "received": true, "duplicate": false }));
    let state = processed(&app, ProviderName::Stripe, "evt_1").await;
    assert_eq!(state.outcome.as_deref(), Some("applied"));
    assert_eq!(state.payment_id.as_deref(), Some(id.as_str()));
    assert_eq!(status_of(&app, &id).await, "succeeded");

    // The same delivery again: acknowledged, no second effect.
    let ack = json_with_status(send(&app, &provider, &body).await, 200).await;
    assert_eq!(ack["duplicate"], true);
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(app.count("SELECT COUNT(*) FROM provider_events").await, 1);
    let succeeded_events = app
        .count(&format!(
            "SELECT COUNT(*) FROM events WHERE type = 'payment.succeeded' AND object_id = '{id}'"
        ))
        .await;
    assert_eq!(succeeded_events, 1);
    let timeline = paygate::payments::timeline::list(&app.state.db, &id)
        .await
        .unwrap();
    let last = timeline.last().unwrap();
    assert_eq!(
        (last.cause.as_str(), last.detail["event_id"].as_str()),
        ("webhook", Some("evt_1"))
    );

    // Unknown event types are stored and acknowledged, nothing applied.
    let other = json!({ "id": "evt_2", "type": "customer.created", "data": {} }).to_string();
    json_with_status(send(&app, &provider, other.as_bytes()).await, 200).await;
    assert_eq!(
        processed(&app, ProviderName::Stripe, "evt_2")
            .await
            .outcome
            .as_deref(),
        Some("ignored")
    );
    app.stop().await;
}

async fn unverified_events_change_nothing(db: TestDb) {
    let provider = Arc::new(TestProvider::new(ProviderName::Stripe));
    let app = spawn_app(
        &db,
        AppOptions {
            providers: vec![provider.clone()],
            ..AppOptions::default()
        },
    )
    .await;
    let (id, reference) = app.new_stripe_payment().await;
    let body = TestProvider::event("evt_bad", &reference, PaymentStatus::Succeeded);
    let url = format!("{}/webhooks/stripe", app.url);

    let missing = app
        .client
        .post(&url)
        .body(body.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(
        json_with_status(missing, 400).await["code"],
        "webhook_unverified"
    );
    let mut tampered = body.clone();
    let signature = provider.sign(&body);
    tampered.extend_from_slice(b" ");
    let res = app
        .client
        .post(&url)
        .header(SIGNATURE_HEADER, &signature)
        .body(tampered)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 400);
    let res = app
        .client
        .post(&url)
        .header(SIGNATURE_HEADER, "zz")
        .body(body.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 400);
    // No PayPal provider is registered in this app: the endpoint does not exist.
    let res = app
        .client
        .post(format!("{}/webhooks/paypal", app.url))
        .body(body.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 404);
    let res = app
        .client
        .post(format!("{}/webhooks/adyen", app.url))
        .body(body.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 404);

    assert_eq!(app.count("SELECT COUNT(*) FROM provider_events").await, 0);
    assert_eq!(status_of(&app, &id).await, "requires_payment_method");
    app.stop().await;
}

async fn late_events_never_move_a_payment_backwards(db: TestDb) {
    let provider = Arc::new(TestProvider::new(ProviderName::Stripe));
    let app = spawn_app(
        &db,
        AppOptions {
            providers: vec![provider.clone()],
            ..AppOptions::default()
        },
    )
    .await;
    let (id, reference) = app.new_stripe_payment().await;
    // Delivered in reverse order: succeeded first, then the older processing event.
    let succeeded = TestProvider::event("evt_b", &reference, PaymentStatus::Succeeded);
    let processing = TestProvider::event("evt_a", &reference, PaymentStatus::Processing);
    json_with_status(send(&app, &provider, &succeeded).await, 200).await;
    processed(&app, ProviderName::Stripe, "evt_b").await;
    json_with_status(send(&app, &provider, &processing).await, 200).await;
    let late = processed(&app, ProviderName::Stripe, "evt_a").await;
    assert_eq!(late.outcome.as_deref(), Some("refused_transition"));
    assert_eq!(status_of(&app, &id).await, "succeeded");
    // A canceled payment is never resurrected either.
    let (id2, reference2) = app.new_stripe_payment().await;
    json_with_status(
        send(
            &app,
            &provider,
            &TestProvider::event("evt_c", &reference2, PaymentStatus::Canceled),
        )
        .await,
        200,
    )
    .await;
    processed(&app, ProviderName::Stripe, "evt_c").await;
    json_with_status(
        send(
            &app,
            &provider,
            &TestProvider::event("evt_d", &reference2, PaymentStatus::Succeeded),
        )
        .await,
        200,
    )
    .await;
    processed(&app, ProviderName::Stripe, "evt_d").await;
    assert_eq!(status_of(&app, &id2).await, "canceled");
    let refused = paygate::payments::timeline::list(&app.state.db, &id2)
        .await
        .unwrap();
    assert!(refused
        .iter()
        .any(|t| t.kind == "transition_refused" && t.to_status.as_deref() == Some("succeeded")));
    app.stop().await;
}

async fn events_for_unknown_payments_are_kept_and_retried(db: TestDb) {
    let provider = Arc::new(TestProvider::new(ProviderName::Stripe));
    let app = spawn_app(
        &db,
        AppOptions {
            providers: vec![provider.clone()],
            ..AppOptions::default()
        },
    )
    .await;
    // The webhook outruns our own record of the reference.
    let (id, _) = app.new_stripe_payment().await;
    let early_reference = "tp_not_yet_recorded";
    let body = TestProvider::event("evt_early", early_reference, PaymentStatus::Succeeded);
    json_with_status(send(&app, &provider, &body).await, 200).await;
    let db2 = app.state.db.clone();
    eventually("first attempt recorded", Duration::from_secs(10), || {
        let db2 = db2.clone();
        async move {
            state_of(&db2, ProviderName::Stripe, "evt_early")
                .await
                .unwrap()
                .is_some_and(|s| s.attempts >= 1)
        }
    })
    .await;
    let s = state_of(&app.state.db, ProviderName::Stripe, "evt_early")
        .await
        .unwrap()
        .unwrap();
    assert!(!s.processed);
    assert!(s.last_error.unwrap().contains("no payment"));
    // Now the reference exists; after the backoff the event applies.
    sqlx::query("UPDATE payments SET provider_reference = $1 WHERE id = $2")
        .bind(early_reference)
        .bind(&id)
        .execute(&app.state.db.pool)
        .await
        .unwrap();
    app.state.clock.advance(Duration::from_secs(120));
    let s = processed(&app, ProviderName::Stripe, "evt_early").await;
    assert_eq!(s.outcome.as_deref(), Some("applied"));
    assert_eq!(status_of(&app, &id).await, "succeeded");
    app.stop().await;
}

async fn an_acknowledged_event_is_applied_after_a_restart(db: TestDb) {
    let provider = Arc::new(TestProvider::new(ProviderName::Stripe));
    let stopped_worker = AppOptions {
        providers: vec![provider.clone()],
        inbox_worker: false,
        ..AppOptions::default()
    };
    let app = spawn_app(&db, stopped_worker).await;
    let (id, reference) = app.new_stripe_payment().await;
    let body = TestProvider::event("evt_crash", &reference, PaymentStatus::Succeeded);
    json_with_status(send(&app, &provider, &body).await, 200).await;
    app.stop().await;

    let restarted = spawn_app(
        &db,
        AppOptions {
            providers: vec![provider.clone()],
            ..AppOptions::default()
        },
    )
    .await;
    let s = processed(&restarted, ProviderName::Stripe, "evt_crash").await;
    assert_eq!(s.outcome.as_deref(), Some("applied"));
    assert_eq!(status_of(&restarted, &id).await, "succeeded");
    restarted.stop().await;
}

/// An event about an object paygate never learns of is not retried for ever (each attempt may
/// call the provider): after `MAX_ATTEMPTS` it is parked with its reason, left alone by the
/// worker, listed in the console, and a replay from the console (CSRF token needed, audited)
/// applies it once the object exists.
async fn an_event_that_never_applies_is_parked_listed_and_replayed(db: TestDb) {
    use paygate::inbox::worker::{process_due, MAX_ATTEMPTS};
    use paygate_tests::admin::{create_admin, AdminClient, PASSWORD};
    let provider = Arc::new(TestProvider::new(ProviderName::Stripe));
    let app = spawn_app(
        &db,
        AppOptions {
            providers: vec![provider.clone()],
            inbox_worker: false,
            ..AppOptions::default()
        },
    )
    .await;
    let (id, _) = app.new_stripe_payment().await;
    let stray = "tp_never_recorded";
    let body = TestProvider::event("evt_stray", stray, PaymentStatus::Succeeded);
    json_with_status(send(&app, &provider, &body).await, 200).await;
    let state = || async {
        state_of(&app.state.db, ProviderName::Stripe, "evt_stray")
            .await
            .unwrap()
            .unwrap()
    };
    // Every attempt the backoff allows, an hour apart (the longest backoff).
    for attempt in 1..=MAX_ATTEMPTS {
        assert_eq!(
            process_due(&app.state).await.unwrap(),
            1,
            "attempt {attempt}"
        );
        assert_eq!(state().await.attempts, attempt);
        app.state.clock.advance(Duration::from_secs(3601));
    }
    let parked = state().await;
    assert!(parked.processed);
    assert_eq!(parked.outcome.as_deref(), Some("parked"));
    assert!(parked.last_error.unwrap().contains("no payment"));
    // Left alone from now on.
    app.state.clock.advance(Duration::from_secs(86_400));
    assert_eq!(process_due(&app.state).await.unwrap(), 0);
    assert_eq!(state().await.attempts, MAX_ATTEMPTS);

    create_admin(&app, "ops@example.com").await;
    let admin = AdminClient::sign_in(&app, "ops@example.com", PASSWORD).await;
    let list = admin.get_json("/admin/api/provider_events/parked").await;
    assert_eq!(list["data"].as_array().unwrap().len(), 1, "{list}");
    assert_eq!(list["data"][0]["event_id"], "evt_stray");
    assert_eq!(list["data"][0]["attempts"], MAX_ATTEMPTS);
    assert!(list["data"][0]["reason"]
        .as_str()
        .unwrap()
        .contains("no payment"));

    // The object turns up (a lost write, recovered); the replay needs the CSRF token.
    sqlx::query("UPDATE payments SET provider_reference = $1 WHERE id = $2")
        .bind(stray)
        .bind(&id)
        .execute(&app.state.db.pool)
        .await
        .unwrap();
    let replay = "/admin/api/provider_events/stripe/evt_stray/replay";
    let forged = app
        .client
        .post(format!("{}{replay}", app.url))
        .header("cookie", &admin.cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status(), 403);
    assert!(state().await.processed, "a refused replay changes nothing");
    let missing = admin
        .request(
            reqwest::Method::POST,
            "/admin/api/provider_events/stripe/evt_none/replay",
        )
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status(), 404);
    // While a worker holds the event's lease, a replay is refused (two workers must not apply
    // one event at once).
    sqlx::query("UPDATE provider_events SET locked_until = $1 WHERE event_id = 'evt_stray'")
        .bind(app.state.clock.now_ms() + 60_000)
        .execute(&app.state.db.pool)
        .await
        .unwrap();
    let busy = admin
        .request(reqwest::Method::POST, replay)
        .send()
        .await
        .unwrap();
    assert_eq!(
        json_with_status(busy, 409).await["code"],
        "event_in_progress"
    );
    sqlx::query("UPDATE provider_events SET locked_until = NULL WHERE event_id = 'evt_stray'")
        .execute(&app.state.db.pool)
        .await
        .unwrap();
    let done = admin
        .request(reqwest::Method::POST, replay)
        .send()
        .await
        .unwrap();
    let done = json_with_status(done, 202).await;
    assert_eq!(done["event_id"], "evt_stray");
    // A worker that loaded the event before the replay cannot park it over the replay.
    let row: i64 =
        sqlx::query_scalar("SELECT id FROM provider_events WHERE event_id = 'evt_stray'")
            .fetch_one(&app.state.db.pool)
            .await
            .unwrap();
    paygate::inbox::store::park(&app.state.db, row, MAX_ATTEMPTS - 1, "stale", 1)
        .await
        .unwrap();
    assert!(!state().await.processed, "the replay stands");
    assert_eq!(process_due(&app.state).await.unwrap(), 1);
    let applied = state().await;
    assert_eq!(applied.outcome.as_deref(), Some("applied"));
    assert_eq!(
        applied.attempts, 1,
        "a replay starts a fresh set of attempts"
    );
    assert_eq!(status_of(&app, &id).await, "succeeded");
    let list = admin.get_json("/admin/api/provider_events/parked").await;
    assert_eq!(list["data"].as_array().unwrap().len(), 0);
    let audit = admin.get_json("/admin/api/audit").await;
    assert!(
        audit["data"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| { e["action"] == "provider_event_replay" && e["target"] == "evt_stray" }),
        "{audit}"
    );
    app.stop().await;
}
