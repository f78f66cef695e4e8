//! The fault knobs: forced errors, connection resets, lost responses, latency, processing,
//! disputes, and redirects.

use super::{start, SK};
use axum::http::StatusCode;
use paygate_tests::emulator::{eventually, s};
use serde_json::json;
use std::time::{Duration, Instant};

#[tokio::test]
async fn forced_500_and_429_answers() {
    let emu = start().await;
    emu.faults(json!({"fail_next": 1, "status": 500})).await;
    let r = emu.post("/v1/customers", &[("email", "a@b.c")]).await;
    assert_eq!(r.status, StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(r.error()["type"], "api_error");
    assert!(r.headers.get("request-id").is_some());
    let r = emu.post("/v1/customers", &[("email", "a@b.c")]).await;
    assert_eq!(r.status, StatusCode::OK, "only the next call fails");

    emu.faults(json!({"fail_next": 2, "status": 429, "retry_after": 2}))
        .await;
    for _ in 0..2 {
        let r = emu.get("/v1/customers").await;
        assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(r.error()["code"], "rate_limit");
        assert_eq!(r.headers["retry-after"], "2");
    }
    assert_eq!(emu.get("/v1/customers").await.status, StatusCode::OK);

    emu.faults(json!({"fail_next": 1, "status": 503, "should_retry": true}))
        .await;
    let r = emu.get("/v1/customers").await;
    assert_eq!(r.status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(r.headers["stripe-should-retry"], "true");

    // A forced failure happens before execution: nothing is created or saved.
    emu.faults(json!({"fail_next": 1, "status": 500})).await;
    let r = emu
        .post_key(
            "/v1/payment_intents",
            "fault-key",
            &[
                ("amount", "1000"),
                ("currency", "usd"),
                ("payment_method", "pm_card_visa"),
                ("confirm", "true"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(emu.emulator.charges_count(), 0);
    let r = emu
        .post_key(
            "/v1/payment_intents",
            "fault-key",
            &[
                ("amount", "1000"),
                ("currency", "usd"),
                ("payment_method", "pm_card_visa"),
                ("confirm", "true"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(emu.emulator.charges_count(), 1);

    let bad = emu
        .send(
            emu.http
                .post(format!("{}/_emulator/faults", emu.base))
                .bearer_auth(SK)
                .json(&json!({"fail_next": 1, "status": 404})),
        )
        .await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    let no_key = emu
        .send(
            emu.http
                .post(format!("{}/_emulator/faults", emu.base))
                .json(&json!({"latency_ms": 1})),
        )
        .await;
    assert_eq!(no_key.status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn connection_resets_and_lost_responses() {
    let emu = start().await;
    let params = [
        ("amount", "1000"),
        ("currency", "usd"),
        ("payment_method", "pm_card_visa"),
        ("confirm", "true"),
    ];
    // Reset: the connection drops before anything happens.
    emu.faults(json!({"reset_next": 1})).await;
    let err = emu
        .post_req("/v1/payment_intents", SK, &params)
        .header("idempotency-key", "reset-key")
        .send()
        .await;
    assert!(err.is_err(), "the client sees a connection error");
    assert_eq!(emu.emulator.charges_count(), 0);

    // Lost response: the charge is made and the result saved, then the connection drops.
    emu.faults(json!({"lose_response_next": 1})).await;
    let err = emu
        .post_req("/v1/payment_intents", SK, &params)
        .header("idempotency-key", "lost-key")
        .send()
        .await;
    assert!(err.is_err(), "the client sees a connection error");
    assert_eq!(emu.emulator.charges_count(), 1);
    let retry = emu
        .post_key("/v1/payment_intents", "lost-key", &params)
        .await;
    assert_eq!(retry.status, StatusCode::OK);
    assert_eq!(retry.headers["idempotent-replayed"], "true");
    assert_eq!(retry.body["status"], "succeeded");
    assert_eq!(emu.emulator.charges_count(), 1, "exactly one charge");
    let pi = emu.emulator.payment_intent(s(&retry.body["id"])).unwrap();
    assert_eq!(pi["amount_received"], 1000);

    // Latency is added to every call.
    emu.faults(json!({"latency_ms": 400})).await;
    let t = Instant::now();
    emu.get("/v1/customers").await;
    assert!(t.elapsed() >= Duration::from_millis(400));
    emu.send(
        emu.http
            .delete(format!("{}/_emulator/faults", emu.base))
            .bearer_auth(SK),
    )
    .await;
    let t = Instant::now();
    emu.get("/v1/customers").await;
    assert!(t.elapsed() < Duration::from_millis(400));

    let state = emu
        .send(
            emu.http
                .get(format!("{}/_emulator/state", emu.base))
                .bearer_auth(SK),
        )
        .await;
    assert_eq!(state.body["charges"]["succeeded"], 1);
    assert_eq!(state.body["payment_intents"], 1);
    assert_eq!(state.body["faults"]["latency_ms"], 0);
}

#[tokio::test]
async fn processing_knob_and_disputes() {
    let emu = start().await;
    emu.faults(json!({"processing_next": 1})).await;
    let pi = emu.paid("1000", "pm_card_visa").await;
    assert_eq!(pi["status"], "processing");
    let id = s(&pi["id"]).to_string();
    eventually("processing to settle", Duration::from_secs(10), || async {
        emu.emulator.payment_intent(&id).unwrap()["status"] == "succeeded"
    })
    .await;
    let r = emu
        .send(
            emu.http
                .post(format!("{}/_emulator/disputes", emu.base))
                .bearer_auth(SK)
                .json(&json!({"payment_intent": id, "reason": "product_not_received"})),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.body["object"], "dispute");
    assert_eq!(r.body["amount"], 1000);
    let ev = emu.get("/v1/events?type=charge.dispute.created").await;
    assert_eq!(
        ev.body["data"][0]["data"]["object"]["reason"],
        "product_not_received"
    );
    let refund = emu.post("/v1/refunds", &[("payment_intent", &id)]).await;
    assert_eq!(refund.error()["code"], "charge_disputed");
    let scripted = emu.paid("1000", "pm_card_createDispute").await;
    let charge = emu
        .get(&format!("/v1/charges/{}", s(&scripted["latest_charge"])))
        .await;
    assert_eq!(charge.body["disputed"], true);
}

/// A PaymentIntent can be canceled "in rare cases, processing" (docs.stripe.com/api/
/// payment_intents/cancel; Stripe's refusal lists `processing` among the cancellable statuses):
/// canceled before it settles, it stays canceled and its pending charge fails.
#[tokio::test]
async fn a_processing_payment_intent_can_be_canceled() {
    let emu = start().await;
    emu.faults(json!({"processing_next": 1})).await;
    let pi = emu.paid("1000", "pm_card_visa").await;
    assert_eq!(pi["status"], "processing");
    let id = s(&pi["id"]).to_string();
    let canceled = emu
        .post(&format!("/v1/payment_intents/{id}/cancel"), &[])
        .await;
    assert_eq!(canceled.status, StatusCode::OK, "{}", canceled.body);
    assert_eq!(canceled.body["status"], "canceled");
    // Past the moment it would have settled: still canceled, its charge failed.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let after = emu.emulator.payment_intent(&id).unwrap();
    assert_eq!(after["status"], "canceled");
    let charge = emu
        .get(&format!("/v1/charges/{}", s(&after["latest_charge"])))
        .await;
    assert_eq!(charge.body["status"], "failed");
}

/// `redirect_next`: the next challenge is handed out as `redirect_to_url` even to Stripe.js
/// (`use_stripe_sdk`), as for a redirect-based payment method; the one after that is not.
#[tokio::test]
async fn redirect_knob_sends_the_next_challenge_through_return_url() {
    let emu = start().await;
    emu.faults(json!({"redirect_next": 1})).await;
    let mut kinds = Vec::new();
    for _ in 0..2 {
        let pi = emu.intent("1000", &[]).await;
        let r = emu
            .post_pk(
                &format!("/v1/payment_intents/{}/confirm", s(&pi["id"])),
                &[
                    ("payment_method", "pm_card_authenticationRequired"),
                    ("client_secret", s(&pi["client_secret"])),
                    ("use_stripe_sdk", "true"),
                    ("return_url", "https://shop.example/back"),
                ],
            )
            .await;
        assert_eq!(r.body["status"], "requires_action", "{}", r.body);
        kinds.push(s(&r.body["next_action"]["type"]).to_string());
    }
    assert_eq!(kinds, ["redirect_to_url", "use_stripe_sdk"]);
    let state = emu
        .send(
            emu.http
                .get(format!("{}/_emulator/state", emu.base))
                .bearer_auth(SK),
        )
        .await;
    assert_eq!(state.body["faults"]["redirect_next"], 0);
}
