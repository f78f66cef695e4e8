//! The checkout page in a real headless Chromium: the widget (WebAssembly) fetches its session
//! and shows the merchant, the description and the amount formatted by `shared`'s Money.

use paygate_tests::{browser, spawn_app, AppOptions, TestDb};
use serde_json::json;
use std::time::Duration;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn checkout_page_shows_amounts_and_clear_messages() {
    let Some(browser) = browser::start().await else {
        return;
    };
    let db = TestDb::sqlite().await;
    let app = spawn_app(
        &db,
        AppOptions {
            vars: vec![("PAYGATE_MERCHANT_NAME", "Kyoto Tea House".into())],
            ..AppOptions::default()
        },
    )
    .await;

    let jpy = app
        .create_session(
            &json!({ "amount": "1000", "currency": "JPY", "description": "Sencha, 100 g" }),
        )
        .await;
    browser
        .client
        .goto(jpy["url"].as_str().unwrap())
        .await
        .unwrap();
    let amount = browser.wait_text("#pg-amount", |t| !t.is_empty()).await;
    assert_eq!(amount, "¥1,000");
    assert_eq!(
        browser.wait_text("#pg-merchant", |t| !t.is_empty()).await,
        "Kyoto Tea House"
    );
    assert_eq!(
        browser
            .wait_text("#pg-description", |t| !t.is_empty())
            .await,
        "Sencha, 100 g"
    );

    let kwd = app
        .create_session(&json!({ "amount": "1.230", "currency": "KWD", "description": "Dates" }))
        .await;
    browser
        .client
        .goto(kwd["url"].as_str().unwrap())
        .await
        .unwrap();
    assert_eq!(
        browser.wait_text("#pg-amount", |t| !t.is_empty()).await,
        "KWD 1.230"
    );

    browser
        .client
        .goto(&format!(
            "{}/checkout/cs_unknown000000000000000000",
            app.url
        ))
        .await
        .unwrap();
    let msg = browser.wait_text("#pg-message", |t| !t.is_empty()).await;
    assert!(msg.contains("not valid"), "{msg}");
    assert!(!browser.exists("#pg-amount").await);

    let soon = app
        .create_session(&json!({ "amount": "5.00", "currency": "EUR", "expires_in": 60 }))
        .await;
    app.state.clock.advance(Duration::from_secs(120));
    browser
        .client
        .goto(soon["url"].as_str().unwrap())
        .await
        .unwrap();
    let msg = browser.wait_text("#pg-message", |t| !t.is_empty()).await;
    assert!(msg.contains("expired"), "{msg}");
    assert!(
        !browser.exists("#pg-methods").await,
        "no payment methods on an expired session"
    );

    browser.close().await;
    app.stop().await;
}
