//! `Idempotency-Key` on merchant POSTs, on SQLite and PostgreSQL.

use futures::future::join_all;
use paygate_tests::app::json_with_status;
use paygate_tests::{on_both_databases, spawn_app, AppOptions, TestDb, TestProvider};
use serde_json::json;
use shared::api::ProviderName;
use std::sync::Arc;
use std::time::Duration;

on_both_databases!(
    thirty_two_concurrent_requests_one_key_one_charge,
    same_key_other_body_is_422_and_validation_failures_are_not_stored,
    keys_are_scoped_and_swept_after_retention,
    a_key_held_by_a_dead_instance_is_taken_over_without_a_second_session,
    concurrent_sessions_commit_together_and_twins_get_one,
);

async fn thirty_two_concurrent_requests_one_key_one_charge(db: TestDb) {
    let provider =
        Arc::new(TestProvider::new(ProviderName::Stripe).with_delay(Duration::from_millis(300)));
    let app = spawn_app(
        &db,
        AppOptions {
            providers: vec![provider.clone()],
            ..AppOptions::default()
        },
    )
    .await;
    let body = json!({ "provider": "stripe", "amount": "25.00", "currency": "USD" });
    let answers = join_all((0..32).map(|_| async {
        let res = app
            .post_idem("/v1/payments", &body, "order-1001-attempt")
            .await;
        let status = res.status().as_u16();
        let replayed = res.headers().get("idempotent-replayed").is_some();
        let retry_after = res.headers().get("retry-after").is_some();
        (status, replayed, retry_after, res.text().await.unwrap())
    }))
    .await;

    assert_eq!(provider.create_calls(), 1, "exactly one provider call");
    assert_eq!(
        app.count("SELECT COUNT(*) FROM payments").await,
        1,
        "exactly one payment row"
    );
    let created: Vec<_> = answers.iter().filter(|a| a.0 == 201 && !a.1).collect();
    assert_eq!(created.len(), 1, "one original answer: {answers:?}");
    let original = &created[0].3;
    for (status, replayed, retry_after, body) in &answers {
        match status {
            201 if *replayed => assert_eq!(body, original, "a replay is identical"),
            201 => {}
            409 => {
                assert!(retry_after, "409 carries Retry-After");
                assert!(body.contains("idempotency_in_flight"));
            }
            other => panic!("unexpected {other}: {body}"),
        }
    }
    // A later retry is a replay of the same payment.
    let again = app
        .post_idem("/v1/payments", &body, "order-1001-attempt")
        .await;
    assert_eq!(again.headers().get("idempotent-replayed").unwrap(), "true");
    assert_eq!(&again.text().await.unwrap(), original);
    assert_eq!(provider.create_calls(), 1);
    app.stop().await;
}

async fn same_key_other_body_is_422_and_validation_failures_are_not_stored(db: TestDb) {
    let provider = Arc::new(TestProvider::new(ProviderName::Stripe));
    let app = spawn_app(
        &db,
        AppOptions {
            providers: vec![provider.clone()],
            ..AppOptions::default()
        },
    )
    .await;
    let first = json!({ "provider": "stripe", "amount": "5.00", "currency": "USD" });
    json_with_status(app.post_idem("/v1/payments", &first, "k-1").await, 201).await;
    let other = json!({ "provider": "stripe", "amount": "6.00", "currency": "USD" });
    let e = json_with_status(app.post_idem("/v1/payments", &other, "k-1").await, 422).await;
    assert_eq!(e["code"], "idempotency_key_reused");
    // Same JSON with other formatting and key order is the same request.
    let reordered = app
        .request(reqwest::Method::POST, "/v1/payments")
        .header("Idempotency-Key", "k-1")
        .header("content-type", "application/json")
        .body(r#"{ "currency": "USD",  "amount": "5.00", "provider": "stripe" }"#)
        .send()
        .await
        .unwrap();
    assert_eq!(reordered.status(), 201);
    assert_eq!(
        reordered.headers().get("idempotent-replayed").unwrap(),
        "true"
    );

    // A validation failure is not stored: fixing the body and retrying with the key works.
    let bad = json!({ "provider": "stripe", "amount": "5.001", "currency": "USD" });
    json_with_status(app.post_idem("/v1/payments", &bad, "k-2").await, 400).await;
    let fixed = json!({ "provider": "stripe", "amount": "5.01", "currency": "USD" });
    let p = json_with_status(app.post_idem("/v1/payments", &fixed, "k-2").await, 201).await;
    assert_eq!(p["amount_minor"], 501);
    assert_eq!(provider.create_calls(), 2);

    for key in ["", "has space", &"k".repeat(256)] {
        let res = app
            .request(reqwest::Method::POST, "/v1/payments")
            .header("Idempotency-Key", key)
            .json(&fixed)
            .send()
            .await
            .unwrap();
        assert_eq!(json_with_status(res, 400).await["param"], "Idempotency-Key");
    }
    assert_eq!(app.count("SELECT COUNT(*) FROM payments").await, 2);
    app.stop().await;
}

async fn keys_are_scoped_and_swept_after_retention(db: TestDb) {
    let provider = Arc::new(TestProvider::new(ProviderName::Stripe));
    let app = spawn_app(
        &db,
        AppOptions {
            providers: vec![provider.clone()],
            ..AppOptions::default()
        },
    )
    .await;
    let body = json!({ "amount": "5.00", "currency": "USD" });
    // The same key on another route is another request: 422, not a replay of the wrong thing.
    json_with_status(
        app.post_idem("/v1/checkout/sessions", &body, "shared-key")
            .await,
        201,
    )
    .await;
    let pay = json!({ "provider": "stripe", "amount": "5.00", "currency": "USD" });
    json_with_status(app.post_idem("/v1/payments", &pay, "shared-key").await, 422).await;

    // Kept for 24 hours, then swept; after that the key is free again.
    app.state.clock.advance(Duration::from_secs(23 * 3600));
    assert_eq!(
        paygate::http::idempotency::sweep(&app.state.db, app.state.clock.now_ms())
            .await
            .unwrap(),
        0
    );
    app.state.clock.advance(Duration::from_secs(2 * 3600));
    assert_eq!(
        paygate::http::idempotency::sweep(&app.state.db, app.state.clock.now_ms())
            .await
            .unwrap(),
        1
    );
    json_with_status(app.post_idem("/v1/payments", &pay, "shared-key").await, 201).await;
    app.stop().await;
}

/// An instance killed after writing a session but before storing its answer leaves the key in
/// flight under its name. While that instance beats, a retry waits (409); once its heartbeat
/// is stale the retry takes the key over (long before the lock's two minutes) and finds the
/// session the dead request made, under the id derived from the key: one session, not two.
async fn a_key_held_by_a_dead_instance_is_taken_over_without_a_second_session(db: TestDb) {
    let app = spawn_app(&db, AppOptions::default()).await;
    let body = json!({ "amount": "7.00", "currency": "USD" });
    let first = json_with_status(
        app.post_idem("/v1/checkout/sessions", &body, "order-crash")
            .await,
        201,
    )
    .await;
    let now = app.state.clock.now_ms();
    sqlx::query("INSERT INTO instances (id, started_at, heartbeat_at) VALUES ('dead0001', $1, $1)")
        .bind(now)
        .execute(&app.state.db.pool)
        .await
        .unwrap();
    // As the killed instance left it: the session written, the answer never stored.
    sqlx::query(
        "UPDATE idempotency_keys SET state = 'in_flight', response_status = NULL, \
         response_body = NULL, locked_at = $1, locked_by = 'dead0001' WHERE idempotency_key = 'order-crash'",
    )
    .bind(now)
    .execute(&app.state.db.pool)
    .await
    .unwrap();
    let waiting = json_with_status(
        app.post_idem("/v1/checkout/sessions", &body, "order-crash")
            .await,
        409,
    )
    .await;
    assert_eq!(waiting["code"], "idempotency_in_flight");

    app.state.clock.advance(Duration::from_millis(
        paygate::instances::STALE_AFTER_MS as u64 + 1000,
    ));
    let retried = json_with_status(
        app.post_idem("/v1/checkout/sessions", &body, "order-crash")
            .await,
        201,
    )
    .await;
    assert_eq!(
        retried["id"], first["id"],
        "the dead request's session, not a new one"
    );
    assert_eq!(app.count("SELECT COUNT(*) FROM checkout_sessions").await, 1);
    // Answered now, and replayed from then on.
    let replayed = json_with_status(
        app.post_idem("/v1/checkout/sessions", &body, "order-crash")
            .await,
        201,
    )
    .await;
    assert_eq!(replayed["id"], first["id"]);
    app.stop().await;
}

/// Forty-eight session creations at once: thirty-two with keys of their own, eight sharing one
/// key, eight without a key. Concurrent writes are committed together: on SQLite in one
/// transaction with a savepoint each, where the shared key's losers fail alone; on PostgreSQL
/// as one statement, which the twins' conflict fails as a whole, and which is then sent again
/// write by write. Either way the losers are answered with the winner's session and every other
/// request gets its own session, stored once with its event.
async fn concurrent_sessions_commit_together_and_twins_get_one(db: TestDb) {
    let app = spawn_app(&db, AppOptions::default()).await;
    let body = json!({ "amount": "3.00", "currency": "EUR" });
    let requests = (0..48).map(|i| {
        let key = match i {
            0..32 => Some(format!("group-{i}")),
            32..40 => Some("group-twin".to_string()),
            _ => None,
        };
        let (app, body) = (&app, &body);
        async move {
            let res = match &key {
                Some(key) => app.post_idem("/v1/checkout/sessions", body, key).await,
                None => app.post("/v1/checkout/sessions", body).await,
            };
            (key, json_with_status(res, 201).await)
        }
    });
    let answers = join_all(requests).await;
    let twins: std::collections::HashSet<String> = answers
        .iter()
        .filter(|(k, _)| k.as_deref() == Some("group-twin"))
        .map(|(_, s)| s["id"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(twins.len(), 1, "one session for the shared key");
    let all: std::collections::HashSet<String> = answers
        .iter()
        .map(|(_, s)| s["id"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(all.len(), 41);
    assert_eq!(
        app.count("SELECT COUNT(*) FROM checkout_sessions").await,
        41
    );
    assert_eq!(
        app.count("SELECT COUNT(*) FROM events WHERE type = 'checkout.session.created'")
            .await,
        41,
        "one event per session"
    );
    assert_eq!(
        app.count("SELECT COUNT(*) FROM idempotency_keys WHERE state = 'done'")
            .await,
        33
    );
    app.stop().await;
}
