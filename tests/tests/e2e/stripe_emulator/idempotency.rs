//! `Idempotency-Key`: replays, misuse, concurrent use, and expiry.

use super::start;
use axum::http::StatusCode;
use paygate_tests::emulator::s;
use serde_json::json;
use std::sync::Arc;
use std::time::Duration;

#[tokio::test]
async fn idempotent_requests_replay_and_refuse_misuse() {
    let emu = start().await;
    let params = [
        ("amount", "2000"),
        ("currency", "usd"),
        ("payment_method", "pm_card_visa"),
        ("confirm", "true"),
    ];
    let first = emu.post_key("/v1/payment_intents", "key-1", &params).await;
    assert_eq!(first.status, StatusCode::OK);
    assert!(first.headers.get("idempotent-replayed").is_none());
    let second = emu.post_key("/v1/payment_intents", "key-1", &params).await;
    assert_eq!(second.status, StatusCode::OK);
    assert_eq!(second.body, first.body);
    assert_eq!(second.headers["idempotent-replayed"], "true");
    assert_eq!(
        second.headers["original-request"],
        first.headers["request-id"]
    );
    assert_ne!(second.headers["request-id"], first.headers["request-id"]);
    assert_eq!(emu.emulator.charges_count(), 1);

    // Same key, other parameters.
    let other = emu
        .post_key(
            "/v1/payment_intents",
            "key-1",
            &[("amount", "2001"), ("currency", "usd")],
        )
        .await;
    assert_eq!(other.status, StatusCode::BAD_REQUEST);
    assert_eq!(other.error()["type"], "idempotency_error");
    assert_eq!(
        other.error()["message"],
        "Keys for idempotent requests can only be used with the same parameters they were first used with. Try using a key other than 'key-1' if you meant to execute a different request."
    );

    // Same key, other endpoint.
    let endpoint = emu
        .post_key("/v1/customers", "key-1", &[("email", "a@b.c")])
        .await;
    assert_eq!(endpoint.status, StatusCode::BAD_REQUEST);
    assert_eq!(endpoint.error()["type"], "idempotency_error");
    assert!(s(&endpoint.error()["message"]).contains("same endpoint"));

    // Errors after execution began are saved and replayed (a decline)...
    let decline = [
        ("amount", "2000"),
        ("currency", "usd"),
        ("payment_method", "pm_card_visa_chargeDeclined"),
        ("confirm", "true"),
    ];
    let d1 = emu.post_key("/v1/payment_intents", "key-2", &decline).await;
    assert_eq!(d1.status, StatusCode::PAYMENT_REQUIRED);
    let d2 = emu.post_key("/v1/payment_intents", "key-2", &decline).await;
    assert_eq!(d2.status, StatusCode::PAYMENT_REQUIRED);
    assert_eq!(d2.headers["idempotent-replayed"], "true");
    assert_eq!(d1.body, d2.body);
    // Every error names its code's page and the request's log entry (docs.stripe.com/api/
    // errors); the replay's is the request that made the saved answer, its Original-Request.
    let first_id = d1.headers["request-id"].to_str().unwrap().to_string();
    assert_eq!(d2.headers["original-request"], first_id.as_str());
    assert_eq!(
        d1.error()["doc_url"],
        "https://stripe.com/docs/error-codes/card-declined"
    );
    assert!(
        s(&d1.error()["request_log_url"]).starts_with(&format!(
            "https://dashboard.stripe.com/test/logs/{first_id}?t="
        )),
        "{}",
        d1.body
    );

    // ...but parameter validation failures are not: fixing the request with the same key runs.
    let bad = emu
        .post_key("/v1/customers", "key-3", &[("emial", "a@b.c")])
        .await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    let good = emu
        .post_key("/v1/customers", "key-3", &[("email", "a@b.c")])
        .await;
    assert_eq!(good.status, StatusCode::OK);
    assert!(good.headers.get("idempotent-replayed").is_none());

    // Keys longer than 255 characters are refused.
    let long = "k".repeat(256);
    let r = emu.post_key("/v1/customers", &long, &[]).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);

    // Keys are pruned after 24 hours: the same key then makes a new object.
    emu.clock.advance(Duration::from_secs(24 * 3600 + 1));
    let again = emu.post_key("/v1/payment_intents", "key-1", &params).await;
    assert_eq!(again.status, StatusCode::OK);
    assert_ne!(again.body["id"], first.body["id"]);
    assert_eq!(emu.emulator.charges_count(), 2);
}

#[tokio::test]
async fn a_concurrent_request_with_the_same_key_gets_409() {
    let emu = Arc::new(start().await);
    emu.faults(json!({"latency_ms": 1500})).await;
    let a = {
        let emu = emu.clone();
        tokio::spawn(async move {
            emu.post_key("/v1/customers", "busy-key", &[("email", "a@b.c")])
                .await
        })
    };
    tokio::time::sleep(Duration::from_millis(300)).await;
    let b = emu
        .post_key("/v1/customers", "busy-key", &[("email", "a@b.c")])
        .await;
    assert_eq!(b.status, StatusCode::CONFLICT);
    assert_eq!(b.error()["code"], "idempotency_key_in_use");
    let a = a.await.unwrap();
    assert_eq!(a.status, StatusCode::OK);
    emu.faults(json!({"latency_ms": 0})).await;
    let c = emu
        .post_key("/v1/customers", "busy-key", &[("email", "a@b.c")])
        .await;
    assert_eq!(c.body["id"], a.body["id"]);
    assert_eq!(c.headers["idempotent-replayed"], "true");
}
