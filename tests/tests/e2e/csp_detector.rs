//! The CSP check that ends every browser test really notices violations: in the top-level
//! page, in paygate's cross-site iframe (another renderer process) and in Stripe's frame
//! inside it, and a `frame-ancestors` refusal. Without this, a detector that stopped working
//! would make every other browser test's CSP check silently pass.

use futures::FutureExt;
use paygate_tests::merchant::MerchantSite;
use paygate_tests::shop::{session_body, Shop};
use paygate_tests::{browser, spawn_app, AppOptions, TestDb};
use serde_json::json;
use std::panic::AssertUnwindSafe;

/// An image from an origin no policy here allows.
const VIOLATE: &str = "var i = document.createElement('img'); \
     i.src = 'http://blocked.invalid/pixel.png'; document.body.appendChild(i); return true";

async fn noticed(shop: &Shop<'_>) -> bool {
    // The browser logs the violation on its own time: wait for the check to fail.
    for _ in 0..100 {
        let check = AssertUnwindSafe(shop.browser.assert_no_csp_violations());
        if check.catch_unwind().await.is_err() {
            return true;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    false
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn violations_are_noticed_in_every_frame() {
    let Some(browser) = browser::start().await else {
        return;
    };
    let merchant = MerchantSite::start().await;
    let db = TestDb::sqlite().await;
    let app = spawn_app(
        &db,
        AppOptions {
            vars: vec![("PAYGATE_ALLOWED_ORIGINS", merchant.origin.clone())],
            ..AppOptions::default()
        },
    )
    .await;
    merchant.connect(&app.url, &[]);
    let shop = Shop {
        browser: &browser,
        merchant: &merchant,
        app: &app,
    };
    let sid = shop
        .create_session(session_body("1.00", "USD", json!({})))
        .await;
    shop.open(&sid, json!({})).await;
    shop.choose("card").await;
    let frame = browser.wait_for("#pg-card iframe").await;
    frame.enter_frame().await.expect("card frame");
    browser.wait_for("#number").await;
    browser.assert_no_csp_violations().await;

    browser.js(VIOLATE).await;
    assert!(noticed(&shop).await, "a violation in Stripe's frame");
    shop.enter_widget().await;
    browser.js(VIOLATE).await;
    assert!(
        noticed(&shop).await,
        "a violation in paygate's cross-site frame"
    );
    browser.client.enter_frame(None).await.expect("top");
    browser.js(VIOLATE).await;
    assert!(noticed(&shop).await, "a violation in the merchant's page");

    // A site that is not among the allowed origins cannot frame the checkout.
    let stranger = MerchantSite::start().await;
    stranger.connect(&app.url, &[]);
    browser
        .client
        .goto(&stranger.page(&sid, &json!({})))
        .await
        .expect("stranger's page");
    assert!(noticed(&shop).await, "frame-ancestors refused the framing");

    browser.close().await;
    app.stop().await;
    merchant.stop();
    stranger.stop();
}
