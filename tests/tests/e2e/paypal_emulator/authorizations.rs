//! Authorizations: partial captures, voids, and their errors.

use super::{assert_error_shape, order_body, start};
use axum::http::StatusCode;
use paygate_tests::emulator::s;
use serde_json::json;

#[tokio::test]
async fn authorize_capture_in_part_and_void_the_rest() {
    let emu = start().await;
    let order = emu
        .create(&order_body(
            "AUTHORIZE",
            "USD",
            "100.00",
            Some("https://shop.example/r"),
        ))
        .await;
    let id = s(&order["id"]).to_string();
    assert_eq!(emu.approve(&id, "balance").await.status().as_u16(), 303);
    let r = emu
        .post(&format!("/v2/checkout/orders/{id}/capture"), &json!({}))
        .await;
    assert_error_shape(
        &r,
        StatusCode::UNPROCESSABLE_ENTITY,
        "UNPROCESSABLE_ENTITY",
        "ACTION_DOES_NOT_MATCH_INTENT",
    );
    let r = emu
        .post_full(&format!("/v2/checkout/orders/{id}/authorize"), &json!({}))
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    assert_eq!(r.body["status"], "COMPLETED");
    let auth = &r.body["purchase_units"][0]["payments"]["authorizations"][0];
    assert_eq!(auth["status"], "CREATED");
    assert!(s(&auth["expiration_time"]).ends_with('Z'));
    let auth_id = s(&auth["id"]).to_string();
    let r = emu
        .post(&format!("/v2/checkout/orders/{id}/authorize"), &json!({}))
        .await;
    assert_eq!(r.issue(), "ORDER_ALREADY_AUTHORIZED");

    // A partial capture (minimal answer: id, status, links).
    let r = emu
        .post(
            &format!("/v2/payments/authorizations/{auth_id}/capture"),
            &json!({"amount": {"currency_code": "USD", "value": "30.00"}, "final_capture": false,
                    "note_to_payer": "First part", "invoice_id": "inv-part-1"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    assert_eq!(r.body["status"], "COMPLETED");
    assert!(r.body.get("amount").is_none(), "minimal: {}", r.body);
    let part = s(&r.body["id"]).to_string();
    let c = emu.get(&format!("/v2/payments/captures/{part}")).await.body;
    assert_eq!(c["amount"]["value"], "30.00");
    assert_eq!(c["final_capture"], false);
    assert_eq!(
        c["supplementary_data"]["related_ids"]["authorization_id"],
        auth_id.as_str()
    );
    let a = emu
        .get(&format!("/v2/payments/authorizations/{auth_id}"))
        .await;
    assert_eq!(a.status, StatusCode::OK);
    assert_eq!(a.body["status"], "PARTIALLY_CAPTURED");
    assert_eq!(
        a.body["supplementary_data"]["related_ids"]["order_id"],
        id.as_str()
    );
    // The order shows the capture of its authorization, as PayPal's does.
    let o = emu.get(&format!("/v2/checkout/orders/{id}")).await.body;
    let payments = &o["purchase_units"][0]["payments"];
    assert_eq!(payments["authorizations"][0]["id"], auth_id.as_str());
    assert_eq!(payments["captures"][0]["id"], part.as_str(), "{o}");

    // Currency and decimals are checked (Payments v2: DECIMALS_NOT_SUPPORTED for 0-dp).
    let r = emu
        .post(
            &format!("/v2/payments/authorizations/{auth_id}/capture"),
            &json!({"amount": {"currency_code": "EUR", "value": "1.00"}}),
        )
        .await;
    assert_eq!(r.issue(), "AUTH_CAPTURE_CURRENCY_MISMATCH");
    let r = emu
        .post(
            &format!("/v2/payments/authorizations/{auth_id}/capture"),
            &json!({"amount": {"currency_code": "USD", "value": "90.00"}}),
        )
        .await;
    assert_eq!(r.issue(), "MAX_CAPTURE_AMOUNT_EXCEEDED");

    // Void the rest: 204 by default.
    let r = emu
        .post(
            &format!("/v2/payments/authorizations/{auth_id}/void"),
            &json!({}),
        )
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
    let a = emu
        .get(&format!("/v2/payments/authorizations/{auth_id}"))
        .await;
    assert_eq!(a.body["status"], "VOIDED");
    let r = emu
        .post(
            &format!("/v2/payments/authorizations/{auth_id}/void"),
            &json!({}),
        )
        .await;
    assert_eq!(r.issue(), "PREVIOUSLY_VOIDED");
    let r = emu
        .post(
            &format!("/v2/payments/authorizations/{auth_id}/capture"),
            &json!({}),
        )
        .await;
    assert_error_shape(
        &r,
        StatusCode::UNPROCESSABLE_ENTITY,
        "UNPROCESSABLE_ENTITY",
        "AUTHORIZATION_VOIDED",
    );
    // What was captured stays captured.
    assert_eq!(emu.emulator.captures_count(), 1);

    // A JPY authorization captured in full without amount; then void is refused.
    let order = emu
        .create(&order_body(
            "AUTHORIZE",
            "JPY",
            "5000",
            Some("https://shop.example/r"),
        ))
        .await;
    let id = s(&order["id"]).to_string();
    emu.approve(&id, "balance").await;
    let r = emu
        .post_full(&format!("/v2/checkout/orders/{id}/authorize"), &json!({}))
        .await;
    let auth_id =
        s(&r.body["purchase_units"][0]["payments"]["authorizations"][0]["id"]).to_string();
    let r = emu
        .post(
            &format!("/v2/payments/authorizations/{auth_id}/capture"),
            &json!({"amount": {"currency_code": "JPY", "value": "100.5"}}),
        )
        .await;
    assert_error_shape(
        &r,
        StatusCode::UNPROCESSABLE_ENTITY,
        "UNPROCESSABLE_ENTITY",
        "DECIMALS_NOT_SUPPORTED",
    );
    let r = emu
        .post_full(
            &format!("/v2/payments/authorizations/{auth_id}/capture"),
            &json!({}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    assert_eq!(
        r.body["amount"],
        json!({"currency_code": "JPY", "value": "5000"})
    );
    assert_eq!(r.body["final_capture"], true);
    let a = emu
        .get(&format!("/v2/payments/authorizations/{auth_id}"))
        .await;
    assert_eq!(a.body["status"], "CAPTURED");
    let r = emu
        .post(
            &format!("/v2/payments/authorizations/{auth_id}/void"),
            &json!({}),
        )
        .await;
    assert_eq!(r.issue(), "PREVIOUSLY_CAPTURED");
    let r = emu
        .post(
            &format!("/v2/payments/authorizations/{auth_id}/capture"),
            &json!({}),
        )
        .await;
    assert_eq!(r.issue(), "AUTHORIZATION_ALREADY_CAPTURED");

    // Void with return=representation answers 200 with the authorization.
    let order = emu
        .create(&order_body(
            "AUTHORIZE",
            "USD",
            "7.00",
            Some("https://shop.example/r"),
        ))
        .await;
    let id = s(&order["id"]).to_string();
    emu.approve(&id, "balance").await;
    let r = emu
        .post_full(&format!("/v2/checkout/orders/{id}/authorize"), &json!({}))
        .await;
    let auth_id =
        s(&r.body["purchase_units"][0]["payments"]["authorizations"][0]["id"]).to_string();
    let r = emu
        .post_full(
            &format!("/v2/payments/authorizations/{auth_id}/void"),
            &json!({}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.body["status"], "VOIDED");
    assert_eq!(emu.emulator.captures_count(), 2);
}
