//! Refunds: partial, full, concurrent, pending, and failing.

use super::start;
use axum::http::StatusCode;
use paygate_tests::emulator::{eventually, s};
use serde_json::{json, Value};
use std::sync::Arc;
use std::time::Duration;

#[tokio::test]
async fn refunds_never_exceed_what_is_left() {
    let emu = start().await;
    let pi = emu.paid("1000", "pm_card_visa").await;
    let id = s(&pi["id"]);
    let partial = emu
        .post(
            "/v1/refunds",
            &[
                ("payment_intent", id),
                ("amount", "300"),
                ("reason", "requested_by_customer"),
                ("metadata[ticket]", "T-1"),
            ],
        )
        .await;
    assert_eq!(partial.status, StatusCode::OK);
    assert_eq!(partial.body["object"], "refund");
    assert_eq!(partial.body["status"], "succeeded");
    assert_eq!(partial.body["amount"], 300);
    assert_eq!(partial.body["metadata"]["ticket"], "T-1");
    let over = emu
        .post("/v1/refunds", &[("payment_intent", id), ("amount", "800")])
        .await;
    assert_eq!(over.status, StatusCode::BAD_REQUEST);
    assert_eq!(over.error()["code"], "amount_too_large");
    assert_eq!(
        over.error()["message"],
        "Refund amount ($8.00) is greater than unrefunded amount on charge ($7.00)"
    );
    let bad_reason = emu
        .post(
            "/v1/refunds",
            &[("payment_intent", id), ("reason", "because")],
        )
        .await;
    assert_eq!(bad_reason.status, StatusCode::BAD_REQUEST);
    let rest = emu
        .post("/v1/refunds", &[("charge", s(&pi["latest_charge"]))])
        .await;
    assert_eq!(rest.body["amount"], 700);
    let nothing = emu.post("/v1/refunds", &[("payment_intent", id)]).await;
    assert_eq!(nothing.status, StatusCode::BAD_REQUEST);
    assert_eq!(nothing.error()["code"], "charge_already_refunded");
    let list = emu.get(&format!("/v1/refunds?payment_intent={id}")).await;
    assert_eq!(list.body["data"].as_array().unwrap().len(), 2);
    assert_eq!(list.body["data"][0]["id"], rest.body["id"], "newest first");
    let charge = emu
        .get(&format!("/v1/charges/{}", s(&pi["latest_charge"])))
        .await;
    assert_eq!(charge.body["amount_refunded"], 1000);
    assert_eq!(charge.body["refunded"], true);
    let one = emu
        .get(&format!("/v1/refunds/{}", s(&partial.body["id"])))
        .await;
    assert_eq!(one.body["amount"], 300);

    // Not captured yet: nothing to refund.
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
    let r = emu
        .post("/v1/refunds", &[("payment_intent", s(&held["id"]))])
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn concurrent_partial_refunds_cannot_exceed_the_charge() {
    let emu = Arc::new(start().await);
    let pi = emu.paid("1000", "pm_card_visa").await;
    let id = s(&pi["id"]).to_string();
    let mut tasks = Vec::new();
    for _ in 0..5 {
        let emu = emu.clone();
        let id = id.clone();
        tasks.push(tokio::spawn(async move {
            emu.post("/v1/refunds", &[("payment_intent", &id), ("amount", "300")])
                .await
                .status
        }));
    }
    let mut ok = 0;
    for t in tasks {
        if t.await.unwrap() == StatusCode::OK {
            ok += 1;
        }
    }
    assert_eq!(ok, 3);
}

#[tokio::test]
async fn pending_and_failing_refunds_change_later_with_events() {
    let emu = start().await;
    let pending_pi = emu.paid("1000", "pm_card_pendingRefund").await;
    let r = emu
        .post("/v1/refunds", &[("payment_intent", s(&pending_pi["id"]))])
        .await;
    assert_eq!(r.body["status"], "pending");
    // A pending refund counts against what is left.
    let more = emu
        .post(
            "/v1/refunds",
            &[("payment_intent", s(&pending_pi["id"])), ("amount", "1")],
        )
        .await;
    assert_eq!(more.error()["code"], "charge_already_refunded");
    let pending_id = s(&r.body["id"]).to_string();
    eventually(
        "the pending refund to succeed",
        Duration::from_secs(10),
        || async {
            emu.get(&format!("/v1/refunds/{pending_id}")).await.body["status"] == "succeeded"
        },
    )
    .await;

    let fail_pi = emu.paid("1000", "pm_card_refundFail").await;
    let r = emu
        .post("/v1/refunds", &[("payment_intent", s(&fail_pi["id"]))])
        .await;
    assert_eq!(r.body["status"], "succeeded");
    let fail_id = s(&r.body["id"]).to_string();
    eventually("the refund to fail", Duration::from_secs(10), || async {
        emu.get(&format!("/v1/refunds/{fail_id}")).await.body["status"] == "failed"
    })
    .await;
    let failed = emu.get(&format!("/v1/refunds/{fail_id}")).await;
    assert!(failed.body["failure_reason"].is_string());
    // The money is back on the charge: it can be refunded again.
    let charge = emu
        .get(&format!("/v1/charges/{}", s(&fail_pi["latest_charge"])))
        .await;
    assert_eq!(charge.body["amount_refunded"], 0);
    // At 2024-06-20 a card refund's changes are `charge.refund.updated` (the Refund); the
    // `refund.*` events only came for cash-balance refunds (refund.failed did not exist).
    let updated = emu.get("/v1/events?type=charge.refund.updated").await;
    let updated = updated.body["data"].as_array().unwrap();
    assert_eq!(updated.len(), 2, "the pending one settled, this one failed");
    assert_eq!(updated[0]["data"]["object"]["id"], fail_id.as_str());
    assert_eq!(updated[0]["data"]["object"]["status"], "failed");
    assert_eq!(updated[0]["request"]["id"], Value::Null);
    assert_eq!(
        updated[0]["data"]["previous_attributes"],
        json!({ "status": "succeeded", "failure_reason": null })
    );
    assert_eq!(
        updated[1]["data"]["previous_attributes"],
        json!({ "status": "pending" }),
        "the earlier one: it had been pending"
    );
    for kind in ["refund.created", "refund.updated", "refund.failed"] {
        let none = emu.get(&format!("/v1/events?type={kind}")).await;
        assert_eq!(none.body["data"], json!([]), "{kind}");
    }
    let refunded = emu.get("/v1/events?type=charge.refunded").await;
    let charge = &refunded.body["data"][0]["data"]["object"];
    assert_eq!(charge["object"], "charge");
    assert!(
        charge.get("refunds").is_none(),
        "not embedded since 2022-11-15"
    );
}
