//! Sessions that no longer accept payments: already paid, expired while the page was open.

use super::{messages, VISA};
use paygate_tests::shop::{event, session_body, Shop};
use serde_json::json;
use std::time::Duration;

/// The customer opens a checkout that was paid already (say, in another tab): no payment UI,
/// the merchant hears `session_complete`, and nothing more is charged.
pub async fn already_paid(shop: &Shop<'_>, sid: &str) {
    let stripe = shop.app.stripe.as_ref().expect("sandbox");
    let charges = stripe.charges_count();
    let before = shop.session(sid).await;
    shop.open(sid, json!({})).await;
    shop.wait_state("paid").await;
    assert_eq!(shop.message().await, messages::COMPLETE);
    assert!(
        !shop.browser.exists("#pg-methods").await,
        "nothing to pay with"
    );
    let events = shop.wait_events(1).await;
    let (kind, detail) = event(&events[0]);
    assert_eq!(
        (kind, detail["code"].as_str()),
        ("error", Some("session_complete"))
    );
    // A crafted call is refused as well.
    let res = shop
        .app
        .client
        .post(format!(
            "{}/checkout/api/sessions/{sid}/stripe/intent",
            shop.app.url
        ))
        .send()
        .await
        .expect("widget API");
    assert_eq!(res.status(), 409);
    let after = shop.session(sid).await;
    assert_eq!(after["status"], "complete");
    assert_eq!(after["payment"]["id"], before["payment"]["id"]);
    assert_eq!(shop.payments_of(sid).await.len(), 1);
    assert_eq!(stripe.charges_count(), charges, "no new charge");
}

/// The customer opens the checkout and chooses Card (the PaymentIntent exists), then leaves it
/// past its expiry; paygate's expiry sweep (run by the reconciliation loop every minute) cancels
/// the PaymentIntent; the customer comes back and pays: refused, told the checkout expired, the
/// merchant hears `session_expired`, nothing is charged.
pub async fn expired_while_open(shop: &Shop<'_>) {
    let stripe = shop.app.stripe.as_ref().expect("sandbox");
    let sid = shop
        .create_session(session_body("5.00", "USD", json!({ "expires_in": 60 })))
        .await;
    shop.open(&sid, json!({})).await;
    shop.choose("card").await;
    shop.fill_card(VISA).await;
    shop.browser
        .wait_js(
            "the card form ready",
            "var b = document.getElementById('pg-pay'); return !!b && !b.disabled",
        )
        .await;
    let charges = stripe.charges_count();
    shop.app.state.clock.advance(Duration::from_secs(120));
    paygate::checkout::expiry::sweep(&shop.app.state)
        .await
        .expect("expiry sweep");
    assert_eq!(shop.session(&sid).await["status"], "expired");
    shop.pay().await;
    shop.wait_state("expired").await;
    assert_eq!(shop.message().await, messages::EXPIRED);
    assert!(
        !shop.browser.exists("#pg-receipt").await,
        "no receipt for an expired checkout"
    );
    let events = shop.wait_events(1).await;
    let (kind, detail) = event(&events[0]);
    assert_eq!(
        (kind, detail["code"].as_str()),
        ("error", Some("session_expired"))
    );
    let session = shop.session(&sid).await;
    assert_eq!(session["status"], "expired", "{session}");
    assert!(session["payment"].is_null(), "{session}");
    let payments = shop.payments_of(&sid).await;
    assert_eq!(payments.len(), 1, "{payments:?}");
    assert_eq!(payments[0]["status"], "canceled", "{payments:?}");
    let pi = stripe
        .payment_intent(payments[0]["provider_reference"].as_str().unwrap())
        .expect("PaymentIntent");
    assert_eq!(pi["status"], "canceled", "{pi}");
    assert_eq!(stripe.charges_count(), charges, "nothing charged");
}
