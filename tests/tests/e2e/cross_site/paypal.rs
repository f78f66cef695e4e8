//! PayPal through the JS SDK stand-in's buttons (their frame on the emulator's origin) and the
//! approval window they open.

use super::{messages, VISA};
use paygate_tests::shop::{event, session_body, Shop};
use serde_json::{json, Value};

/// The emulator's view of the order behind a paygate payment.
fn order(shop: &Shop<'_>, payment: &Value) -> Value {
    let id = payment["provider_reference"].as_str().expect("order id");
    shop.app
        .paypal
        .as_ref()
        .expect("sandbox")
        .order(id)
        .unwrap_or_else(|| panic!("the emulator has order {id}"))
}

/// The session is complete with one captured PayPal payment of `minor` (the receipt's and the
/// merchant's), and PayPal's order is completed.
async fn assert_paid_by_paypal(
    shop: &Shop<'_>,
    sid: &str,
    minor: i64,
    reference: &str,
    events: &[Value],
) {
    let payment = &shop
        .assert_paid(sid, "paypal", minor, reference, events)
        .await;
    let order = order(shop, payment);
    assert_eq!(order["status"], "COMPLETED", "{order}");
    let captures = order["purchase_units"][0]["payments"]["captures"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert_eq!(captures.len(), 1, "{order}");
    assert_eq!(captures[0]["status"], "COMPLETED", "{order}");
}

pub async fn approve_and_capture(shop: &Shop<'_>) {
    let sid = shop
        .create_session(session_body("12.00", "EUR", json!({})))
        .await;
    shop.open(&sid, json!({})).await;
    shop.choose("paypal").await;
    let main = shop.open_paypal().await;
    let amount = shop.browser.wait_text("#amount", |t| !t.is_empty()).await;
    assert_eq!(amount, "12.00 EUR", "PayPal shows the session's amount");
    shop.paypal_choose("#pay-balance").await;
    shop.back_to(main).await;
    let (amount, reference) = shop.receipt().await;
    assert_eq!(amount, "€12.00");
    shop.wait_popup_closed().await;
    let events = shop.wait_events(1).await;
    assert_eq!(events.len(), 1, "{events:?}");
    assert_paid_by_paypal(shop, &sid, 1200, &reference, &events).await;
}

/// Closing PayPal's window with "Cancel" is not a cancel of the checkout: the widget offers the
/// methods again and tells the merchant nothing; the customer pays by card.
pub async fn cancel_then_card(shop: &Shop<'_>) {
    let sid = shop
        .create_session(session_body("9.00", "EUR", json!({})))
        .await;
    shop.open(&sid, json!({})).await;
    shop.choose("paypal").await;
    let main = shop.open_paypal().await;
    shop.paypal_choose("#cancel").await;
    shop.wait_popup_closed().await;
    shop.back_to(main).await;
    shop.browser
        .wait_text("#pg-message", |t| t == messages::PAYPAL_CANCELLED)
        .await;
    shop.wait_state("ready").await;
    assert!(
        shop.events().await.is_empty(),
        "no event for a closed PayPal window"
    );
    let paypal_payments = shop.payments_of(&sid).await;
    assert_eq!(paypal_payments.len(), 1, "{paypal_payments:?}");
    assert_unapproved(&order(shop, &paypal_payments[0]));

    shop.choose("card").await;
    shop.fill_card(VISA).await;
    shop.pay().await;
    let (amount, reference) = shop.receipt().await;
    assert_eq!(amount, "€9.00");
    let events = shop.wait_events(1).await;
    assert_eq!(events.len(), 1, "{events:?}");
    assert_eq!(event(&events[0]).0, "success");
    let session = shop.session(&sid).await;
    assert_eq!(session["status"], "complete");
    assert_eq!(session["payment"]["id"], reference);
    assert_eq!(session["payment"]["provider"], "stripe");
    assert_eq!(session["payment"]["captured_minor"], 900);
    let paypal = shop
        .payment(paypal_payments[0]["id"].as_str().unwrap())
        .await;
    assert_eq!(paypal["captured_minor"], 0, "{paypal}");
    assert_unapproved(&order(shop, &paypal));
}

/// An order the buyer never approved (PayPal: `CREATED`, or `PAYER_ACTION_REQUIRED` when it
/// was created with a PayPal payment source), with nothing captured.
fn assert_unapproved(order: &Value) {
    let status = order["status"].as_str().unwrap_or_default();
    assert!(
        status == "CREATED" || status == "PAYER_ACTION_REQUIRED",
        "never approved: {order}"
    );
    assert!(
        order["purchase_units"][0]["payments"]["captures"].is_null(),
        "nothing captured: {order}"
    );
}

/// The funding source is declined at capture (INSTRUMENT_DECLINED): the widget says so, the
/// merchant hears `payment_declined`, PayPal's window goes back to the choice
/// (`actions.restart()`), and the customer pays with another source on the same order.
pub async fn decline_then_restart(shop: &Shop<'_>) {
    let sid = shop
        .create_session(session_body("15.00", "EUR", json!({})))
        .await;
    shop.open(&sid, json!({})).await;
    shop.choose("paypal").await;
    let main = shop.open_paypal().await;
    shop.paypal_choose("#pay-instrument-declined").await;
    // The same window is back at the choice, saying why.
    shop.browser.wait_for("#again").await;
    shop.back_to(main.clone()).await;
    shop.wait_state("declined").await;
    assert_eq!(shop.message().await, messages::PAYPAL_DECLINED);
    let events = shop.wait_events(1).await;
    let (kind, detail) = event(&events[0]);
    assert_eq!(
        (kind, detail["code"].as_str()),
        ("error", Some("payment_declined"))
    );
    assert_eq!(shop.session(&sid).await["status"], "open");

    let windows = shop.browser.client.windows().await.expect("windows");
    let popup = windows
        .into_iter()
        .find(|w| *w != main)
        .expect("PayPal's window is open");
    shop.browser
        .client
        .switch_to_window(popup)
        .await
        .expect("PayPal's window");
    shop.paypal_choose("#pay-balance").await;
    shop.back_to(main).await;
    let (amount, reference) = shop.receipt().await;
    assert_eq!(amount, "€15.00");
    shop.wait_popup_closed().await;
    let events = shop.wait_events(2).await;
    assert_eq!(events.len(), 2, "{events:?}");
    assert_paid_by_paypal(shop, &sid, 1500, &reference, &events).await;
    assert_eq!(
        shop.payments_of(&sid).await.len(),
        1,
        "one order, approved twice"
    );
}
