//! The fault knobs: forced errors, connection resets, lost responses, latency, and expired tokens.

use super::{order_body, start, CLIENT_ID, CLIENT_SECRET};
use axum::http::StatusCode;
use paygate_tests::emulator::s;
use serde_json::json;
use std::time::{Duration, Instant};

#[tokio::test]
async fn fault_knobs_fail_reset_lose_and_expire() {
    let emu = start().await;
    let body = order_body("CAPTURE", "USD", "3.00", None);

    // Knobs need credentials.
    let r = emu
        .send(
            emu.http
                .post(emu.url("/_emulator/faults"))
                .json(&json!({"fail_next": 1, "status": 500})),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    let r = emu
        .send(
            emu.http
                .post(emu.url("/_emulator/faults"))
                .basic_auth(CLIENT_ID, Some(CLIENT_SECRET))
                .json(&json!({"fail_next": 1, "status": 502})),
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);

    // 500 with PayPal's body (no details), then normal service.
    emu.faults(json!({"fail_next": 1, "status": 500})).await;
    let r = emu.post("/v2/checkout/orders", &body).await;
    assert_eq!(r.status, StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(r.body["name"], "INTERNAL_SERVER_ERROR");
    assert_eq!(r.body["message"], "An internal server error occurred.");
    assert_eq!(s(&r.body["debug_id"]).len(), 13);
    assert!(r.body.get("details").is_none());
    assert_eq!(emu.state().await["orders"], json!({}));
    assert_eq!(
        emu.post("/v2/checkout/orders", &body).await.status,
        StatusCode::CREATED
    );

    // 429 with Retry-After; 503.
    emu.faults(json!({"fail_next": 1, "status": 429, "retry_after": 3}))
        .await;
    let r = emu.post("/v2/checkout/orders", &body).await;
    assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(r.body["name"], "RATE_LIMIT_REACHED");
    assert_eq!(r.headers["retry-after"], "3");
    emu.faults(json!({"fail_next": 1, "status": 503})).await;
    let r = emu.get("/v2/payments/captures/X").await;
    assert_eq!(r.status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(r.body["name"], "SERVICE_UNAVAILABLE");

    // Reset: the connection drops before anything runs.
    let before = emu.state().await["orders"]["CREATED"].as_u64().unwrap();
    emu.faults(json!({"reset_next": 1})).await;
    assert!(emu
        .post_req("/v2/checkout/orders", &body)
        .send()
        .await
        .is_err());
    assert_eq!(
        emu.state().await["orders"]["CREATED"].as_u64().unwrap(),
        before
    );

    // Lost response: the capture is made and its PayPal-Request-Id kept, the answer dropped;
    // the retry with the same id gets the capture, and there is exactly one.
    let id = emu.approved("50.00", "balance").await;
    let path = format!("/v2/checkout/orders/{id}/capture");
    emu.faults(json!({"lose_response_next": 1})).await;
    assert!(emu
        .post_req(&path, &json!({}))
        .header("paypal-request-id", "lost-1")
        .send()
        .await
        .is_err());
    assert_eq!(emu.emulator.captures_count(), 1);
    assert_eq!(emu.emulator.order(&id).unwrap()["status"], "COMPLETED");
    let r = emu.post_id(&path, &json!({}), "lost-1").await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(
        r.body["purchase_units"][0]["payments"]["captures"][0]["status"],
        "COMPLETED"
    );
    assert_eq!(emu.emulator.captures_count(), 1);

    // Latency.
    emu.faults(json!({"latency_ms": 300})).await;
    let t = Instant::now();
    emu.get(&format!("/v2/checkout/orders/{id}")).await;
    assert!(t.elapsed() >= Duration::from_millis(300));
    let r = emu
        .send(
            emu.http
                .delete(emu.url("/_emulator/faults"))
                .bearer_auth(&emu.token),
        )
        .await;
    assert_eq!(r.body["latency_ms"], 0);

    // Expired tokens: the next call is 401; a new token works.
    emu.faults(json!({"expire_tokens": true})).await;
    let r = emu.get(&format!("/v2/checkout/orders/{id}")).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    assert_eq!(r.body["name"], "AUTHENTICATION_FAILURE");
    let fresh = emu.new_token().await;
    assert_ne!(fresh, emu.token);
    let r = emu
        .send(
            emu.http
                .get(emu.url(&format!("/v2/checkout/orders/{id}")))
                .bearer_auth(&fresh),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK);
    // Faults count token requests too.
    let emu2 = start().await;
    emu2.faults(json!({"fail_next": 1, "status": 503})).await;
    let r = emu2
        .token_request(CLIENT_ID, CLIENT_SECRET, "grant_type=client_credentials")
        .await;
    assert_eq!(r.status, StatusCode::SERVICE_UNAVAILABLE);
}
