//! PaymentIntents with the test cards and test PaymentMethods: declines, card numbers, reuse,
//! manual capture, and cancel.

use super::start;
use axum::http::StatusCode;
use paygate_tests::emulator::s;
use serde_json::Value;

#[tokio::test]
async fn declines_answer_402_card_errors_and_the_intent_can_succeed_later() {
    let emu = start().await;
    let cases = [
        (
            "pm_card_visa_chargeDeclined",
            "card_declined",
            "generic_decline",
        ),
        (
            "pm_card_visa_chargeDeclinedInsufficientFunds",
            "card_declined",
            "insufficient_funds",
        ),
        (
            "pm_card_visa_chargeDeclinedLostCard",
            "card_declined",
            "lost_card",
        ),
        (
            "pm_card_visa_chargeDeclinedStolenCard",
            "card_declined",
            "stolen_card",
        ),
        (
            "pm_card_chargeDeclinedExpiredCard",
            "expired_card",
            "expired_card",
        ),
        (
            "pm_card_chargeDeclinedIncorrectCvc",
            "incorrect_cvc",
            "incorrect_cvc",
        ),
        (
            "pm_card_chargeDeclinedProcessingError",
            "processing_error",
            "processing_error",
        ),
        (
            "pm_card_chargeCustomerFail",
            "card_declined",
            "generic_decline",
        ),
    ];
    for (pm, code, decline_code) in cases {
        let pi = emu.intent("1500", &[]).await;
        assert_eq!(pi["status"], "requires_payment_method");
        let id = s(&pi["id"]);
        let r = emu
            .post(
                &format!("/v1/payment_intents/{id}/confirm"),
                &[("payment_method", pm)],
            )
            .await;
        assert_eq!(r.status, StatusCode::PAYMENT_REQUIRED, "{pm}");
        let e = r.error();
        assert_eq!(e["type"], "card_error", "{pm}");
        assert_eq!(e["code"], code, "{pm}");
        assert_eq!(e["decline_code"], decline_code, "{pm}");
        assert!(s(&e["charge"]).starts_with("ch_"));
        assert_eq!(e["payment_intent"]["id"], id);
        assert_eq!(e["payment_intent"]["status"], "requires_payment_method");
        assert_eq!(
            e["payment_intent"]["last_payment_error"]["decline_code"],
            decline_code
        );
        assert_eq!(e["payment_intent"]["payment_method"], Value::Null);
        // The same PaymentIntent then succeeds with another card.
        let ok = emu
            .post(
                &format!("/v1/payment_intents/{id}/confirm"),
                &[("payment_method", "pm_card_visa")],
            )
            .await;
        assert_eq!(ok.status, StatusCode::OK);
        assert_eq!(ok.body["status"], "succeeded");
        assert_eq!(ok.body["amount_received"], 1500);
        assert_eq!(ok.body["last_payment_error"], Value::Null);
        assert!(s(&ok.body["latest_charge"]).starts_with("ch_"));
    }
    assert_eq!(emu.emulator.charges_count(), cases.len());
}

#[tokio::test]
async fn test_card_numbers_behave_as_documented() {
    let emu = start().await;
    let cases = [
        ("4242424242424242", None),
        (
            "4000000000000002",
            Some(("card_declined", "generic_decline")),
        ),
        (
            "4000000000009995",
            Some(("card_declined", "insufficient_funds")),
        ),
        ("4000000000000069", Some(("expired_card", "expired_card"))),
        ("4000000000000127", Some(("incorrect_cvc", "incorrect_cvc"))),
        (
            "4000000000000341",
            Some(("card_declined", "generic_decline")),
        ),
    ];
    for (number, outcome) in cases {
        let pm = emu.card(number).await;
        assert_eq!(pm.status, StatusCode::OK, "{number}: {}", pm.body);
        assert_eq!(pm.body["card"]["last4"], &number[12..]);
        assert_eq!(pm.body["card"]["brand"], "visa");
        let text = pm.body.to_string();
        assert!(!text.contains(number), "the number is not stored");
        let pi = emu.intent("1000", &[]).await;
        let r = emu
            .post(
                &format!("/v1/payment_intents/{}/confirm", s(&pi["id"])),
                &[("payment_method", s(&pm.body["id"]))],
            )
            .await;
        match outcome {
            None => assert_eq!(r.body["status"], "succeeded"),
            Some((code, decline)) => {
                assert_eq!(r.status, StatusCode::PAYMENT_REQUIRED, "{number}");
                assert_eq!(r.error()["code"], code, "{number}");
                assert_eq!(r.error()["decline_code"], decline, "{number}");
            }
        }
    }
    // A number failing the Luhn check is refused when the PaymentMethod is created.
    let bad = emu.card("4242424242424241").await;
    assert_eq!(bad.status, StatusCode::PAYMENT_REQUIRED);
    assert_eq!(bad.error()["type"], "card_error");
    assert_eq!(bad.error()["code"], "incorrect_number");
    // The raw bodies show what the emulator saw, and no object repeats it.
    let bodies = emu.emulator.received_request_bodies();
    assert!(bodies
        .iter()
        .any(|b| b.contains("card%5Bnumber%5D=4000000000009995")));
    let all = emu.get("/v1/events?limit=100").await.body.to_string();
    assert!(!all.contains("4000000000009995"));
    // Expired and malformed inputs.
    let past = emu
        .post_pk(
            "/v1/payment_methods",
            &[
                ("type", "card"),
                ("card[number]", "4242424242424242"),
                ("card[exp_month]", "1"),
                ("card[exp_year]", "2001"),
            ],
        )
        .await;
    assert_eq!(past.error()["code"], "invalid_expiry_year");
    let cvc = emu
        .post_pk(
            "/v1/payment_methods",
            &[
                ("type", "card"),
                ("card[number]", "4242424242424242"),
                ("card[exp_month]", "1"),
                ("card[exp_year]", "2034"),
                ("card[cvc]", "12"),
            ],
        )
        .await;
    assert_eq!(cvc.error()["code"], "invalid_cvc");
}

#[tokio::test]
async fn a_payment_method_used_without_a_customer_cannot_be_reused() {
    let emu = start().await;
    let pm = emu.card("4242424242424242").await.body;
    let pm_id = s(&pm["id"]);
    emu.paid("1000", pm_id).await;
    let r = emu
        .post(
            "/v1/payment_intents",
            &[
                ("amount", "1000"),
                ("currency", "usd"),
                ("payment_method", pm_id),
                ("confirm", "true"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert!(s(&r.error()["message"]).contains("may not be used again"));
}

#[tokio::test]
async fn manual_capture_full_and_partial() {
    let emu = start().await;
    let pi = emu
        .intent(
            "1000",
            &[
                ("capture_method", "manual"),
                ("payment_method", "pm_card_visa"),
                ("confirm", "true"),
            ],
        )
        .await;
    assert_eq!(pi["status"], "requires_capture");
    assert_eq!(pi["amount_capturable"], 1000);
    assert_eq!(pi["amount_received"], 0);
    let id = s(&pi["id"]);
    let over = emu
        .post(
            &format!("/v1/payment_intents/{id}/capture"),
            &[("amount_to_capture", "1001")],
        )
        .await;
    assert_eq!(over.status, StatusCode::BAD_REQUEST);
    assert_eq!(over.error()["code"], "amount_too_large");
    let partial = emu
        .post(
            &format!("/v1/payment_intents/{id}/capture"),
            &[("amount_to_capture", "600")],
        )
        .await;
    assert_eq!(partial.status, StatusCode::OK);
    assert_eq!(partial.body["status"], "succeeded");
    assert_eq!(partial.body["amount_received"], 600);
    assert_eq!(partial.body["amount_capturable"], 0);
    let charge = emu
        .get(&format!(
            "/v1/charges/{}",
            s(&partial.body["latest_charge"])
        ))
        .await;
    assert_eq!(charge.body["captured"], true);
    assert_eq!(charge.body["amount_captured"], 600);
    let again = emu
        .post(&format!("/v1/payment_intents/{id}/capture"), &[])
        .await;
    assert_eq!(again.status, StatusCode::BAD_REQUEST);
    assert_eq!(again.error()["code"], "payment_intent_unexpected_state");
    assert_eq!(again.error()["payment_intent"]["status"], "succeeded");
    // Only the captured amount can be refunded.
    let too_much = emu
        .post("/v1/refunds", &[("payment_intent", id), ("amount", "700")])
        .await;
    assert_eq!(too_much.error()["code"], "amount_too_large");

    let full = emu
        .intent(
            "2500",
            &[
                ("capture_method", "manual"),
                ("payment_method", "pm_card_mastercard"),
                ("confirm", "true"),
            ],
        )
        .await;
    let captured = emu
        .post(
            &format!("/v1/payment_intents/{}/capture", s(&full["id"])),
            &[],
        )
        .await;
    assert_eq!(captured.body["amount_received"], 2500);
    let types: Vec<String> = emu.get("/v1/events?limit=100").await.body["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| s(&e["type"]).to_string())
        .collect();
    assert!(types.contains(&"payment_intent.amount_capturable_updated".to_string()));
    assert!(types.contains(&"charge.captured".to_string()));
}

#[tokio::test]
async fn cancel_is_allowed_only_where_stripe_allows_it() {
    let emu = start().await;
    let pi = emu.intent("1000", &[]).await;
    let bad_reason = emu
        .post(
            &format!("/v1/payment_intents/{}/cancel", s(&pi["id"])),
            &[("cancellation_reason", "bored")],
        )
        .await;
    assert_eq!(bad_reason.status, StatusCode::BAD_REQUEST);
    assert_eq!(bad_reason.error()["param"], "cancellation_reason");
    let canceled = emu
        .post(
            &format!("/v1/payment_intents/{}/cancel", s(&pi["id"])),
            &[("cancellation_reason", "requested_by_customer")],
        )
        .await;
    assert_eq!(canceled.body["status"], "canceled");
    assert_eq!(
        canceled.body["cancellation_reason"],
        "requested_by_customer"
    );
    assert!(canceled.body["canceled_at"].is_i64());
    let confirm_canceled = emu
        .post(
            &format!("/v1/payment_intents/{}/confirm", s(&pi["id"])),
            &[("payment_method", "pm_card_visa")],
        )
        .await;
    assert_eq!(
        confirm_canceled.error()["code"],
        "payment_intent_unexpected_state"
    );

    let held = emu
        .intent(
            "1000",
            &[
                ("capture_method", "manual"),
                ("payment_method", "pm_card_visa"),
                ("confirm", "true"),
            ],
        )
        .await;
    let released = emu
        .post(
            &format!("/v1/payment_intents/{}/cancel", s(&held["id"])),
            &[],
        )
        .await;
    assert_eq!(released.body["status"], "canceled");
    assert_eq!(released.body["amount_capturable"], 0);
    let charge = emu
        .get(&format!("/v1/charges/{}", s(&held["latest_charge"])))
        .await;
    assert_eq!(charge.body["captured"], false);
    assert_eq!(charge.body["refunded"], true);

    let paid = emu.paid("1000", "pm_card_visa").await;
    let refused = emu
        .post(
            &format!("/v1/payment_intents/{}/cancel", s(&paid["id"])),
            &[],
        )
        .await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST);
    assert_eq!(refused.error()["code"], "payment_intent_unexpected_state");
    assert!(s(&refused.error()["message"]).contains("status of succeeded"));
}
