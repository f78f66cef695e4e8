//! Subscriptions: `allow_incomplete`, `default_incomplete`, trials, cancellation, and expiry.

use super::start;
use axum::http::StatusCode;
use paygate_tests::emulator::s;
use std::time::Duration;

#[tokio::test]
async fn subscriptions_allow_incomplete_charge_the_default_card() {
    let emu = start().await;
    let (customer, _) = emu.customer_with_card("pm_card_visa").await;
    let sub = emu
        .post(
            "/v1/subscriptions",
            &[
                ("customer", &customer),
                ("items[0][price]", "price_paygate_pro_monthly"),
                ("expand[]", "latest_invoice.payment_intent"),
            ],
        )
        .await;
    assert_eq!(sub.status, StatusCode::OK, "{}", sub.body);
    assert_eq!(sub.body["object"], "subscription");
    assert_eq!(sub.body["status"], "active");
    let start_t = sub.body["current_period_start"].as_i64().unwrap();
    let end_t = sub.body["current_period_end"].as_i64().unwrap();
    assert!((28 * 86_400..=31 * 86_400).contains(&(end_t - start_t)));
    let invoice = &sub.body["latest_invoice"];
    assert_eq!(invoice["object"], "invoice");
    assert_eq!(invoice["status"], "paid");
    assert_eq!(invoice["amount_due"], 999);
    assert_eq!(invoice["amount_paid"], 999);
    assert_eq!(invoice["payment_intent"]["status"], "succeeded");
    assert_eq!(
        sub.body["items"]["data"][0]["price"]["id"],
        "price_paygate_pro_monthly"
    );

    // Cancel at period end: still active, flagged.
    let id = s(&sub.body["id"]).to_string();
    let flagged = emu
        .post(
            &format!("/v1/subscriptions/{id}"),
            &[("cancel_at_period_end", "true")],
        )
        .await;
    assert_eq!(flagged.body["status"], "active");
    assert_eq!(flagged.body["cancel_at_period_end"], true);
    assert_eq!(flagged.body["cancel_at"], end_t);
    // When the period ends (by the emulator's clock) it ends.
    emu.clock
        .advance(Duration::from_secs((end_t - start_t + 10) as u64));
    let ended = emu.get(&format!("/v1/subscriptions/{id}")).await;
    assert_eq!(ended.body["status"], "canceled");
    let deleted = emu
        .get("/v1/events?type=customer.subscription.deleted")
        .await;
    assert_eq!(deleted.body["data"][0]["data"]["object"]["id"], id.as_str());

    // A declining default card leaves the subscription incomplete.
    let (customer2, _) = emu.customer_with_card("pm_card_chargeCustomerFail").await;
    let sub2 = emu
        .post(
            "/v1/subscriptions",
            &[
                ("customer", &customer2),
                ("items[0][price]", "price_paygate_pro_yearly"),
                ("expand[]", "latest_invoice.payment_intent"),
            ],
        )
        .await;
    assert_eq!(sub2.status, StatusCode::OK);
    assert_eq!(sub2.body["status"], "incomplete");
    assert_eq!(sub2.body["latest_invoice"]["status"], "open");
    assert_eq!(
        sub2.body["latest_invoice"]["payment_intent"]["status"],
        "requires_payment_method"
    );
    // error_if_incomplete answers 402 instead.
    let sub3 = emu
        .post(
            "/v1/subscriptions",
            &[
                ("customer", &customer2),
                ("items[0][price]", "price_paygate_pro_yearly"),
                ("payment_behavior", "error_if_incomplete"),
            ],
        )
        .await;
    assert_eq!(sub3.status, StatusCode::PAYMENT_REQUIRED);
    assert_eq!(sub3.error()["type"], "card_error");
    // Without any payment method allow_incomplete is refused.
    let bare = emu.post("/v1/customers", &[("email", "n@o.pe")]).await;
    let sub4 = emu
        .post(
            "/v1/subscriptions",
            &[
                ("customer", s(&bare.body["id"])),
                ("items[0][price]", "price_paygate_pro_monthly"),
            ],
        )
        .await;
    assert_eq!(sub4.status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn subscriptions_default_incomplete_wait_for_the_customer() {
    let emu = start().await;
    let c = emu
        .post("/v1/customers", &[("email", "s@example.com")])
        .await;
    let customer = s(&c.body["id"]).to_string();
    let sub = emu
        .post(
            "/v1/subscriptions",
            &[
                ("customer", &customer),
                ("items[0][price]", "price_paygate_pro_monthly"),
                ("payment_behavior", "default_incomplete"),
                (
                    "payment_settings[save_default_payment_method]",
                    "on_subscription",
                ),
                ("expand[]", "latest_invoice.payment_intent"),
            ],
        )
        .await;
    assert_eq!(sub.status, StatusCode::OK, "{}", sub.body);
    assert_eq!(sub.body["status"], "incomplete");
    let invoice = &sub.body["latest_invoice"];
    assert_eq!(invoice["status"], "open");
    let pi = &invoice["payment_intent"];
    assert_eq!(pi["status"], "requires_payment_method");
    assert_eq!(pi["amount"], 999);
    let secret = s(&pi["client_secret"]).to_string();
    let pi_id = s(&pi["id"]).to_string();
    // The customer pays in the browser (publishable key + client secret).
    let confirm = emu
        .post_pk(
            &format!("/v1/payment_intents/{pi_id}/confirm"),
            &[
                ("payment_method", "pm_card_visa"),
                ("client_secret", &secret),
            ],
        )
        .await;
    assert_eq!(confirm.body["status"], "succeeded");
    let id = s(&sub.body["id"]);
    let after = emu
        .get(&format!("/v1/subscriptions/{id}?expand[]=latest_invoice"))
        .await;
    assert_eq!(after.body["status"], "active");
    assert_eq!(after.body["latest_invoice"]["status"], "paid");
    assert!(s(&after.body["default_payment_method"]).starts_with("pm_"));
    let types: Vec<String> = emu.get("/v1/events?limit=100").await.body["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| s(&e["type"]).to_string())
        .collect();
    for t in [
        "customer.subscription.created",
        "customer.subscription.updated",
        "invoice.created",
        "invoice.finalized",
        "invoice.paid",
        "invoice.payment_succeeded",
    ] {
        assert!(types.contains(&t.to_string()), "{t} in {types:?}");
    }

    // Cancel immediately.
    let canceled = emu.delete(&format!("/v1/subscriptions/{id}")).await;
    assert_eq!(canceled.body["status"], "canceled");
    assert!(canceled.body["ended_at"].is_i64());

    // A trial needs no payment now.
    let trial = emu
        .post(
            "/v1/subscriptions",
            &[
                ("customer", &customer),
                ("items[0][price]", "price_paygate_pro_monthly"),
                ("trial_period_days", "14"),
                ("expand[]", "latest_invoice"),
            ],
        )
        .await;
    assert_eq!(trial.body["status"], "trialing");
    assert_eq!(trial.body["latest_invoice"]["amount_due"], 0);
    assert_eq!(
        trial.body["trial_end"].as_i64().unwrap() - trial.body["trial_start"].as_i64().unwrap(),
        14 * 86_400
    );

    // An unpaid first invoice expires after 23 hours.
    let unpaid = emu
        .post(
            "/v1/subscriptions",
            &[
                ("customer", &customer),
                ("items[0][price]", "price_paygate_pro_monthly"),
                ("payment_behavior", "default_incomplete"),
            ],
        )
        .await;
    emu.clock.advance(Duration::from_secs(23 * 3600 + 5));
    let expired = emu
        .get(&format!("/v1/subscriptions/{}", s(&unpaid.body["id"])))
        .await;
    assert_eq!(expired.body["status"], "incomplete_expired");
}
