//! Refunds of captures: partial, full, and never more than captured.

use super::{assert_error_shape, start};
use axum::http::StatusCode;
use paygate_tests::emulator::s;
use serde_json::json;

#[tokio::test]
async fn refunds_in_part_in_full_and_never_more() {
    let emu = start().await;
    let capture = emu.captured("100.00").await;
    let path = format!("/v2/payments/captures/{capture}/refund");

    let r = emu
        .post_full(
            &path,
            &json!({"amount": {"currency_code": "USD", "value": "30.00"}, "note_to_payer": "Sorry",
                    "invoice_id": "refund-inv-1"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    assert_eq!(r.body["status"], "COMPLETED");
    assert_eq!(r.body["amount"]["value"], "30.00");
    assert_eq!(r.body["note_to_payer"], "Sorry");
    assert_eq!(r.body["invoice_id"], "refund-inv-1");
    assert_eq!(
        r.body["seller_payable_breakdown"]["total_refunded_amount"]["value"],
        "30.00"
    );
    assert_eq!(
        r.link("up").as_deref(),
        Some(format!("{}/v2/payments/captures/{capture}", emu.base).as_str())
    );
    let first = s(&r.body["id"]).to_string();
    let c = emu
        .get(&format!("/v2/payments/captures/{capture}"))
        .await
        .body;
    assert_eq!(c["status"], "PARTIALLY_REFUNDED");
    // The order shows the refund under `payments.refunds`, as PayPal's does.
    let order_id = s(&c["supplementary_data"]["related_ids"]["order_id"]).to_string();
    let o = emu
        .get(&format!("/v2/checkout/orders/{order_id}"))
        .await
        .body;
    assert_eq!(
        o["purchase_units"][0]["payments"]["refunds"][0]["id"],
        first.as_str(),
        "{o}"
    );

    for (body, issue) in [
        (
            json!({"amount": {"currency_code": "USD", "value": "70.01"}}),
            "REFUND_AMOUNT_EXCEEDED",
        ),
        (
            json!({"amount": {"currency_code": "EUR", "value": "1.00"}}),
            "REFUND_CAPTURE_CURRENCY_MISMATCH",
        ),
        (
            json!({"amount": {"currency_code": "USD", "value": "1.001"}}),
            "DECIMAL_PRECISION",
        ),
        (
            json!({"amount": {"currency_code": "USD", "value": "0"}}),
            "CANNOT_BE_ZERO_OR_NEGATIVE",
        ),
    ] {
        let r = emu.post(&path, &body).await;
        assert_error_shape(
            &r,
            StatusCode::UNPROCESSABLE_ENTITY,
            "UNPROCESSABLE_ENTITY",
            issue,
        );
    }
    let r = emu.post(&path, &json!({"note_to_payer": ""})).await;
    assert_error_shape(
        &r,
        StatusCode::BAD_REQUEST,
        "INVALID_REQUEST",
        "INVALID_STRING_LENGTH",
    );

    // An empty body refunds what is left (minimal answer).
    let r = emu
        .send(
            emu.http
                .post(emu.url(&path))
                .bearer_auth(&emu.token)
                .header("content-type", "application/json"),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    assert_eq!(r.body["status"], "COMPLETED");
    assert!(r.body.get("amount").is_none(), "minimal: {}", r.body);
    let second = s(&r.body["id"]).to_string();
    let refund = emu.get(&format!("/v2/payments/refunds/{second}")).await;
    assert_eq!(refund.status, StatusCode::OK);
    assert_eq!(refund.body["amount"]["value"], "70.00");
    assert_eq!(
        refund.body["seller_payable_breakdown"]["total_refunded_amount"]["value"],
        "100.00"
    );
    let c = emu
        .get(&format!("/v2/payments/captures/{capture}"))
        .await
        .body;
    assert_eq!(c["status"], "REFUNDED");
    let r = emu.post(&path, &json!({})).await;
    assert_error_shape(
        &r,
        StatusCode::UNPROCESSABLE_ENTITY,
        "UNPROCESSABLE_ENTITY",
        "CAPTURE_FULLY_REFUNDED",
    );
    assert_eq!(
        emu.get(&format!("/v2/payments/refunds/{first}"))
            .await
            .status,
        StatusCode::OK
    );
    let r = emu.get("/v2/payments/refunds/0000000000000000X").await;
    assert_error_shape(
        &r,
        StatusCode::NOT_FOUND,
        "RESOURCE_NOT_FOUND",
        "INVALID_RESOURCE_ID",
    );
}
