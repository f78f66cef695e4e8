//! `PayPal-Request-Id`: replays of orders, captures, and refunds.

use super::{order_body, start};
use axum::http::StatusCode;
use paygate_tests::emulator::s;
use serde_json::json;
use std::time::Duration;

#[tokio::test]
async fn paypal_request_id_replays_the_latest_state() {
    let emu = start().await;
    let body = order_body("CAPTURE", "USD", "9.99", Some("https://shop.example/r"));
    let first = emu.post_id("/v2/checkout/orders", &body, "pay_req_1").await;
    assert_eq!(first.status, StatusCode::CREATED);
    let again = emu.post_id("/v2/checkout/orders", &body, "pay_req_1").await;
    assert_eq!(again.status, StatusCode::OK, "a replay is 200");
    assert_eq!(again.body["id"], first.body["id"]);
    // Another body with the same id: the first request's order (documented choice).
    let other = emu
        .post_id(
            "/v2/checkout/orders",
            &order_body("CAPTURE", "USD", "1.00", None),
            "pay_req_1",
        )
        .await;
    assert_eq!(other.body["id"], first.body["id"]);
    // Another id: another order.
    let new = emu.post_id("/v2/checkout/orders", &body, "pay_req_2").await;
    assert_ne!(new.body["id"], first.body["id"]);
    assert_eq!(emu.state().await["orders"]["PAYER_ACTION_REQUIRED"], 2);

    // The latest status of the order, with the retry's Prefer.
    let id = s(&first.body["id"]).to_string();
    emu.approve(&id, "balance").await;
    let replay = emu
        .send(
            emu.post_req("/v2/checkout/orders", &body)
                .header("paypal-request-id", "pay_req_1")
                .header("prefer", "return=representation"),
        )
        .await;
    assert_eq!(replay.status, StatusCode::OK);
    assert_eq!(replay.body["status"], "APPROVED");
    assert_eq!(replay.body["purchase_units"][0]["amount"]["value"], "9.99");

    // Captures and refunds replay too: one capture, one refund.
    let path = format!("/v2/checkout/orders/{id}/capture");
    let c1 = emu.post_id(&path, &json!({}), "cap_1").await;
    let c2 = emu.post_id(&path, &json!({}), "cap_1").await;
    assert_eq!(
        (c1.status, c2.status),
        (StatusCode::CREATED, StatusCode::OK)
    );
    assert_eq!(
        c1.body["purchase_units"][0]["payments"]["captures"][0]["id"],
        c2.body["purchase_units"][0]["payments"]["captures"][0]["id"]
    );
    assert_eq!(emu.emulator.captures_count(), 1);
    let capture = s(&c1.body["purchase_units"][0]["payments"]["captures"][0]["id"]).to_string();
    let refund_path = format!("/v2/payments/captures/{capture}/refund");
    let amount = json!({"amount": {"currency_code": "USD", "value": "1.00"}});
    let r1 = emu.post_id(&refund_path, &amount, "ref_1").await;
    let r2 = emu.post_id(&refund_path, &amount, "ref_1").await;
    assert_eq!(
        (r1.status, r2.status),
        (StatusCode::CREATED, StatusCode::OK)
    );
    assert_eq!(r1.body["id"], r2.body["id"]);
    let c = emu
        .get(&format!("/v2/payments/captures/{capture}"))
        .await
        .body;
    assert_eq!(c["status"], "PARTIALLY_REFUNDED");
    let r = emu.post_id(&refund_path, &amount, "ref_2").await;
    assert_ne!(r.body["id"], r1.body["id"]);
    // Ids are kept 6 hours on orders.
    emu.clock.advance(Duration::from_secs(6 * 3600 + 1));
    let token = emu.new_token().await;
    let later = emu
        .send(
            emu.http
                .post(emu.url("/v2/checkout/orders"))
                .bearer_auth(&token)
                .header("paypal-request-id", "pay_req_2")
                .json(&body),
        )
        .await;
    assert_eq!(later.status, StatusCode::CREATED);
    assert_ne!(later.body["id"], new.body["id"]);
}
