//! Customers, their PaymentMethods, and the default PaymentMethod.

use super::start;
use axum::http::StatusCode;
use paygate_tests::emulator::s;
use serde_json::{json, Value};

#[tokio::test]
async fn customers_hold_payment_methods_and_a_default() {
    let emu = start().await;
    let (customer, default) = emu.customer_with_card("pm_card_visa").await;
    assert!(default.starts_with("pm_") && default != "pm_card_visa");
    let pms = emu
        .get(&format!(
            "/v1/customers/{customer}/payment_methods?type=card"
        ))
        .await;
    assert_eq!(pms.body["data"].as_array().unwrap().len(), 1);
    assert_eq!(pms.body["data"][0]["customer"], customer.as_str());

    let declined = emu
        .post(
            "/v1/payment_methods/pm_card_visa_chargeDeclined/attach",
            &[("customer", &customer)],
        )
        .await;
    assert_eq!(declined.status, StatusCode::PAYMENT_REQUIRED);
    assert_eq!(declined.error()["decline_code"], "generic_decline");
    let attachable = emu
        .post(
            "/v1/payment_methods/pm_card_chargeCustomerFail/attach",
            &[("customer", &customer)],
        )
        .await;
    assert_eq!(attachable.status, StatusCode::OK);
    let new_pm = s(&attachable.body["id"]).to_string();
    let upd = emu
        .post(
            &format!("/v1/customers/{customer}"),
            &[("invoice_settings[default_payment_method]", &new_pm)],
        )
        .await;
    assert_eq!(
        upd.body["invoice_settings"]["default_payment_method"],
        new_pm.as_str()
    );
    let foreign = emu
        .post(
            &format!("/v1/customers/{customer}"),
            &[("invoice_settings[default_payment_method]", "pm_nobodys")],
        )
        .await;
    assert_eq!(foreign.status, StatusCode::BAD_REQUEST);
    let detached = emu
        .post(&format!("/v1/payment_methods/{new_pm}/detach"), &[])
        .await;
    assert_eq!(detached.body["customer"], Value::Null);
    let c = emu.get(&format!("/v1/customers/{customer}")).await;
    assert_eq!(
        c.body["invoice_settings"]["default_payment_method"],
        Value::Null
    );
    let gone = emu.delete(&format!("/v1/customers/{customer}")).await;
    assert_eq!(
        gone.body,
        json!({"id": customer, "object": "customer", "deleted": true})
    );
    let again = emu.get(&format!("/v1/customers/{customer}")).await;
    assert_eq!(again.body["deleted"], true);
    let kinds: Vec<String> = emu.get("/v1/events?type=customer.*").await.body["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| s(&e["type"]).to_string())
        .collect();
    assert_eq!(
        kinds,
        ["customer.deleted", "customer.updated", "customer.created"]
    );
}
