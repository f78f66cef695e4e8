//! The approval page and captures: approve then capture, cancel, declined instruments, processor
//! declines, and pending sources.

use super::{assert_error_shape, order_body, start};
use axum::http::StatusCode;
use paygate_tests::emulator::s;
use serde_json::json;

#[tokio::test]
async fn approval_page_then_capture_completes_once() {
    let emu = start().await;
    let order = emu
        .create(&order_body(
            "CAPTURE",
            "USD",
            "100.00",
            Some("https://shop.example/return"),
        ))
        .await;
    let id = s(&order["id"]).to_string();

    // Capturing before approval.
    let r = emu
        .post(&format!("/v2/checkout/orders/{id}/capture"), &json!({}))
        .await;
    assert_error_shape(
        &r,
        StatusCode::UNPROCESSABLE_ENTITY,
        "UNPROCESSABLE_ENTITY",
        "ORDER_NOT_APPROVED",
    );

    // The approval page: the test buyer, the funding sources, a strict CSP.
    let page = emu
        .http
        .get(format!("{}/checkoutnow?token={id}", emu.base))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status().as_u16(), 200);
    let csp = page.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_string();
    let html = page.text().await.unwrap();
    assert!(
        csp.contains("default-src 'none'") && csp.contains("script-src"),
        "{csp}"
    );
    assert!(!csp.contains("unsafe-inline"), "{csp}");
    assert!(
        csp.contains("https://shop.example"),
        "form-action allows the return URL: {csp}"
    );
    assert!(
        !html.contains("<script>") && !html.contains("style="),
        "{html}"
    );
    assert!(html.contains(paygate_sandbox::paypal::BUYER_EMAIL));
    assert!(html.contains("100.00 USD") && html.contains("Test Shop"));
    for button in [
        "pay-balance",
        "pay-instrument-declined",
        "pay-echeck",
        "pay-processor-declined",
        "cancel",
    ] {
        assert!(html.contains(&format!("id=\"{button}\"")), "{button}");
    }

    // Approving redirects to return_url?token=...&PayerID=...
    let r = emu.approve(&id, "balance").await;
    assert_eq!(r.status().as_u16(), 303);
    assert_eq!(
        r.headers()["location"].to_str().unwrap(),
        format!(
            "https://shop.example/return?token={id}&PayerID={}",
            paygate_sandbox::paypal::BUYER_PAYER_ID
        )
    );
    let got = emu.get(&format!("/v2/checkout/orders/{id}")).await.body;
    assert_eq!(got["status"], "APPROVED");
    assert_eq!(
        got["payer"]["payer_id"],
        paygate_sandbox::paypal::BUYER_PAYER_ID
    );
    assert_eq!(
        got["payment_source"]["paypal"]["email_address"],
        paygate_sandbox::paypal::BUYER_EMAIL
    );

    // Minimal capture answer: the captures are there (what PayPal's own sample reads).
    let r = emu
        .post(&format!("/v2/checkout/orders/{id}/capture"), &json!({}))
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    assert_eq!(r.body["status"], "COMPLETED");
    assert!(r.body["purchase_units"][0].get("amount").is_none());
    let capture = &r.body["purchase_units"][0]["payments"]["captures"][0];
    assert_eq!(capture["status"], "COMPLETED");
    assert_eq!(
        capture["amount"],
        json!({"currency_code": "USD", "value": "100.00"})
    );
    assert_eq!(capture["final_capture"], true);
    assert_eq!(capture["seller_protection"]["status"], "ELIGIBLE");
    // PayPal's sample: 100.00 gross, 3.98 fee, 96.02 net.
    assert_eq!(
        capture["seller_receivable_breakdown"]["paypal_fee"]["value"],
        "3.98"
    );
    assert_eq!(
        capture["seller_receivable_breakdown"]["net_amount"]["value"],
        "96.02"
    );
    let capture_id = s(&capture["id"]).to_string();
    let rels: Vec<&str> = capture["links"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| s(&l["rel"]))
        .collect();
    assert_eq!(rels, ["self", "refund", "up"]);
    assert_eq!(emu.emulator.captures_count(), 1);

    // Only one capture per order.
    let r = emu
        .post(&format!("/v2/checkout/orders/{id}/capture"), &json!({}))
        .await;
    assert_error_shape(
        &r,
        StatusCode::UNPROCESSABLE_ENTITY,
        "UNPROCESSABLE_ENTITY",
        "ORDER_ALREADY_CAPTURED",
    );
    assert_eq!(emu.emulator.captures_count(), 1);

    // The capture through the Payments API.
    let r = emu
        .get(&format!("/v2/payments/captures/{capture_id}"))
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(
        r.body["supplementary_data"]["related_ids"]["order_id"],
        id.as_str()
    );
    assert_eq!(
        r.body["invoice_id"],
        order["purchase_units"][0]["invoice_id"]
    );
    // An approved order cannot be approved again once completed.
    let r = emu.approve(&id, "balance").await;
    assert_eq!(r.status().as_u16(), 200);
    assert!(r.text().await.unwrap().contains("already completed"));
}

#[tokio::test]
async fn cancel_returns_to_the_cancel_url_and_changes_nothing() {
    let emu = start().await;
    let order = emu
        .create(&order_body(
            "CAPTURE",
            "EUR",
            "5.00",
            Some("https://shop.example/back"),
        ))
        .await;
    let id = s(&order["id"]);
    let r = emu
        .http
        .post(emu.url(&format!("/checkoutnow/{id}/cancel")))
        .header("content-type", "application/x-www-form-urlencoded")
        .body("popup=0")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 303);
    assert_eq!(
        r.headers()["location"].to_str().unwrap(),
        format!("https://shop.example/back?cancelled=1&token={id}")
    );
    assert_eq!(
        emu.emulator.order(id).unwrap()["status"],
        "PAYER_ACTION_REQUIRED"
    );
}

#[tokio::test]
async fn a_declined_instrument_is_restarted_with_another_source() {
    let emu = start().await;
    let id = emu.approved("25.00", "instrument_declined").await;
    let path = format!("/v2/checkout/orders/{id}/capture");
    let r = emu.post_id(&path, &json!({}), "capture-1").await;
    assert_error_shape(
        &r,
        StatusCode::UNPROCESSABLE_ENTITY,
        "UNPROCESSABLE_ENTITY",
        "INSTRUMENT_DECLINED",
    );
    assert_eq!(
        r.link("redirect").as_deref(),
        Some(format!("{}/checkoutnow?token={id}", emu.base).as_str())
    );
    assert_eq!(emu.emulator.captures_count(), 0);
    // Capturing again without a new approval declines again.
    let r = emu.post(&path, &json!({})).await;
    assert_eq!(r.issue(), "INSTRUMENT_DECLINED");

    // The buyer goes back (actions.restart()) and picks PayPal balance.
    let page = emu
        .http
        .get(format!("{}/checkoutnow?token={id}", emu.base))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("id=\"again\""), "{page}");
    assert_eq!(emu.approve(&id, "balance").await.status().as_u16(), 303);
    // The same PayPal-Request-Id gets "the latest status of the previous request": the
    // refusal, although the buyer approved again (see `paypal::idempotency`).
    let r = emu.post_id(&path, &json!({}), "capture-1").await;
    assert_eq!(r.issue(), "INSTRUMENT_DECLINED", "{}", r.body);
    assert_eq!(emu.emulator.captures_count(), 0);
    // A new attempt has a new id and runs.
    let r = emu.post_id(&path, &json!({}), "capture-2").await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    assert_eq!(
        r.body["purchase_units"][0]["payments"]["captures"][0]["status"],
        "COMPLETED"
    );
    assert_eq!(emu.emulator.captures_count(), 1);
}

#[tokio::test]
async fn processor_declines_and_pending_sources() {
    let emu = start().await;
    // The processor declines: a DECLINED capture in a COMPLETED order (check the capture).
    let id = emu.approved("12.00", "processor_declined").await;
    let r = emu
        .post_full(&format!("/v2/checkout/orders/{id}/capture"), &json!({}))
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    assert_eq!(r.body["status"], "COMPLETED");
    let declined = &r.body["purchase_units"][0]["payments"]["captures"][0];
    assert_eq!(declined["status"], "DECLINED");
    assert!(declined.get("seller_receivable_breakdown").is_none());
    let r = emu
        .post(
            &format!("/v2/payments/captures/{}/refund", s(&declined["id"])),
            &json!({}),
        )
        .await;
    assert_error_shape(
        &r,
        StatusCode::UNPROCESSABLE_ENTITY,
        "UNPROCESSABLE_ENTITY",
        "REFUND_NOT_ALLOWED",
    );

    // eCheck: the capture stays PENDING with a reason, and cannot be refunded yet.
    let id = emu.approved("40.00", "echeck").await;
    let r = emu
        .post(&format!("/v2/checkout/orders/{id}/capture"), &json!({}))
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let pending = &r.body["purchase_units"][0]["payments"]["captures"][0];
    assert_eq!(pending["status"], "PENDING");
    assert_eq!(pending["status_details"]["reason"], "ECHECK");
    assert!(pending.get("seller_receivable_breakdown").is_none());
    let pending_id = s(&pending["id"]).to_string();
    let r = emu
        .post(
            &format!("/v2/payments/captures/{pending_id}/refund"),
            &json!({}),
        )
        .await;
    assert_eq!(r.issue(), "PENDING_CAPTURE");
    assert_eq!(emu.emulator.captures_count(), 0);
    // It clears (a knob stands in for the days eChecks take).
    let r = emu
        .knob(&format!("/_emulator/captures/{pending_id}/complete"))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.body["status"], "COMPLETED");
    assert_eq!(emu.emulator.captures_count(), 1);
    let r = emu
        .knob(&format!("/_emulator/captures/{pending_id}/complete"))
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
}
