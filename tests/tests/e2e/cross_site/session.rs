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

/// Two checkouts on one page work independently: paying the first completes only its session,
/// only its callbacks fire, and the second widget stays ready to pay.
pub async fn two_widgets_on_one_page(shop: &Shop<'_>) {
    let first = shop
        .create_session(session_body("5.00", "USD", json!({})))
        .await;
    let second = shop
        .create_session(session_body("6.00", "USD", json!({})))
        .await;
    shop.open(&first, json!({ "second": second })).await;
    shop.choose("card").await;
    shop.fill_card(VISA).await;
    shop.pay().await;
    let (amount, _) = shop.receipt().await;
    assert_eq!(amount, "$5.00");
    let events = shop.wait_events(1).await;
    assert_eq!(events.len(), 1, "{events:?}");
    let (kind, detail) = event(&events[0]);
    assert_eq!(
        (kind, detail["session"].as_str()),
        ("success", Some(first.as_str()))
    );
    assert_eq!(shop.session(&first).await["status"], "complete");
    assert_eq!(shop.session(&second).await["status"], "open");
    assert!(shop.payments_of(&second).await.is_empty());

    // The second widget, in its own frame, still offers its own amount.
    shop.browser.client.enter_frame(None).await.expect("top");
    let frame = shop.browser.wait_for("#pay2 iframe").await;
    frame.enter_frame().await.expect("second widget frame");
    shop.browser
        .wait_js(
            "the second widget ready",
            "var c = document.getElementById('pg-checkout'); \
             return !!c && c.dataset.state !== 'loading' && c.dataset.state !== 'succeeded'",
        )
        .await;
    assert_eq!(
        shop.browser
            .wait_text("#pg-amount", |t| !t.is_empty())
            .await,
        "$6.00"
    );
    assert!(shop.browser.exists("#pg-methods").await);
    shop.enter_widget().await;
}
