//! The customer leaves without paying through "Cancel and return to <merchant>", shown when the
//! session has a `cancel_url` (as Stripe Checkout's back link): the merchant's `onCancel` hears
//! it; a page without `onCancel` is taken to the `cancel_url`.

use paygate_tests::shop::{event, session_body, Shop};
use serde_json::json;

pub async fn cancel_back_to_the_shop(shop: &Shop<'_>) {
    let cart = shop.merchant.cart_url();
    let sid = shop
        .create_session(session_body("3.00", "USD", json!({ "cancel_url": cart })))
        .await;

    shop.open(&sid, json!({})).await;
    let link = shop
        .browser
        .wait_text("#pg-cancel", |t| !t.is_empty())
        .await;
    assert_eq!(link, "Cancel and return to Tea shop");
    shop.browser
        .wait_for("#pg-cancel")
        .await
        .click()
        .await
        .expect("cancel");
    let events = shop.wait_events(1).await;
    assert_eq!(events.len(), 1, "{events:?}");
    let (kind, detail) = event(&events[0]);
    assert_eq!(kind, "cancel");
    assert_eq!(detail["session"], sid);
    assert_eq!(detail["url"], cart);
    // The merchant's page decides: it is still there.
    shop.browser.client.enter_frame(None).await.expect("top");
    let here = shop.browser.js("return location.pathname").await;
    assert_eq!(here, "/shop");

    // Without onCancel, the loader takes the customer to the cancel_url.
    shop.open(&sid, json!({ "on_cancel": false })).await;
    shop.browser
        .wait_for("#pg-cancel")
        .await
        .click()
        .await
        .expect("cancel");
    shop.browser.client.enter_frame(None).await.expect("top");
    shop.browser.wait_for("#cart").await;
    assert_eq!(
        shop.browser
            .client
            .current_url()
            .await
            .expect("url")
            .as_str(),
        cart
    );

    // Leaving is not paying: the session stays open and nothing was started.
    assert_eq!(shop.session(&sid).await["status"], "open");
    assert!(shop.payments_of(&sid).await.is_empty());
}
