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

/// A customer pays by card in the widget: the Payment Element (the sandbox's Stripe.js
/// stand-in, in its own frame on the emulator's origin) takes the card; paygate completes the
/// session only after re-reading the PaymentIntent; the card number reaches the emulator only.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_card_payment_in_the_widget() {
    let Some(browser) = browser::start().await else {
        return;
    };
    let db = TestDb::sqlite().await;
    let app = spawn_app(&db, AppOptions::default()).await;
    let s = app
        .create_session(&json!({ "amount": "19.99", "currency": "USD", "description": "T-shirt" }))
        .await;
    let sid = s["id"].as_str().unwrap();
    browser
        .client
        .goto(s["url"].as_str().unwrap())
        .await
        .unwrap();
    browser
        .wait_for("#pg-method-card")
        .await
        .click()
        .await
        .unwrap();
    let frame = browser.wait_for("#pg-card iframe").await;
    frame.enter_frame().await.unwrap();
    for (field, text) in [
        ("#number", "4242424242424242"),
        ("#expiry", "12/34"),
        ("#cvc", "123"),
    ] {
        browser.wait_for(field).await.send_keys(text).await.unwrap();
    }
    if let Ok(postal) = browser
        .client
        .find(fantoccini::Locator::Css("#postal"))
        .await
    {
        let _ = postal.send_keys("10115").await;
    }
    browser.client.enter_parent_frame().await.unwrap();
    browser.wait_for("#pg-pay").await.click().await.unwrap();
    browser.wait_for("#pg-receipt").await;
    let receipt = browser
        .wait_text("#pg-receipt", |t| t.contains("$19.99"))
        .await;
    assert!(receipt.contains("pay_"), "{receipt}");

    let session = paygate_tests::app::json_with_status(
        app.get(&format!("/v1/checkout/sessions/{sid}")).await,
        200,
    )
    .await;
    assert_eq!(session["status"], "complete");
    assert_eq!(session["payment"]["status"], "succeeded");
    assert_eq!(session["payment"]["captured_minor"], 1999);
    // The card number went to the emulator (the provider), never to paygate.
    assert!(app
        .stripe
        .as_ref()
        .unwrap()
        .received_request_bodies()
        .iter()
        .any(|b| b.contains("4242424242424242")));
    browser.close().await;
    app.stop().await;
    let dir = std::path::Path::new(db.url.trim_start_matches("sqlite://"))
        .parent()
        .unwrap()
        .to_path_buf();
    let main_db = std::fs::read(db.url.trim_start_matches("sqlite://")).expect("the database file");
    assert!(!main_db.is_empty());
    for entry in std::fs::read_dir(dir).unwrap() {
        // SQLite may remove its -wal/-shm files as the last connection closes.
        let Ok(bytes) = std::fs::read(entry.unwrap().path()) else {
            continue;
        };
        let text = String::from_utf8_lossy(&bytes);
        assert!(
            !text.contains("4242424242424242") && !text.contains("4242 4242 4242 4242"),
            "card number in paygate's database"
        );
    }
}

/// A customer pays with PayPal: the button (the sandbox's JS SDK stand-in, in its frame) opens
/// the approval popup synchronously in the click; after approval the server captures.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_paypal_payment_in_the_widget() {
    let Some(browser) = browser::start().await else {
        return;
    };
    let db = TestDb::sqlite().await;
    let app = spawn_app(&db, AppOptions::default()).await;
    let s = app
        .create_session(&json!({ "amount": "12.00", "currency": "EUR" }))
        .await;
    let sid = s["id"].as_str().unwrap();
    browser
        .client
        .goto(s["url"].as_str().unwrap())
        .await
        .unwrap();
    browser
        .wait_for("#pg-method-paypal")
        .await
        .click()
        .await
        .unwrap();
    let main = browser.client.window().await.unwrap();
    let frame = browser.wait_for("#pg-paypal iframe").await;
    frame.enter_frame().await.unwrap();
    let button = browser.wait_for("#paypal-button").await;
    // The widget asks for the PayPal wallet only (`disable-funding`): no Pay Later or card
    // button of PayPal's beside Stripe's card form, although EUR is a Pay Later currency.
    let shown = browser
        .client
        .execute(
            "return Array.from(document.querySelectorAll('button')).filter(function (b) { return !b.hidden; }).map(function (b) { return b.id; })",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(shown, json!(["paypal-button"]));
    button.click().await.unwrap();
    browser.client.enter_parent_frame().await.unwrap();
    // The approval page opens in a popup window.
    let mut popup = None;
    for _ in 0..200 {
        let windows = browser.client.windows().await.unwrap();
        if let Some(w) = windows.into_iter().find(|w| *w != main) {
            popup = Some(w);
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    browser
        .client
        .switch_to_window(popup.expect("approval popup"))
        .await
        .unwrap();
    browser
        .wait_for("#pay-balance")
        .await
        .click()
        .await
        .unwrap();
    browser.client.switch_to_window(main).await.unwrap();
    let receipt = browser
        .wait_text("#pg-receipt", |t| t.contains("12.00"))
        .await;
    assert!(receipt.contains("pay_"), "{receipt}");
    let session = paygate_tests::app::json_with_status(
        app.get(&format!("/v1/checkout/sessions/{sid}")).await,
        200,
    )
    .await;
    assert_eq!(session["status"], "complete");
    assert_eq!(session["payment"]["provider"], "paypal");
    assert_eq!(session["payment"]["captured_minor"], 1200);
    assert_eq!(app.paypal.as_ref().unwrap().captures_count(), 1);
    browser.close().await;
    app.stop().await;
}

/// At 360 px wide (a small phone) nothing on the checkout page scrolls sideways: with the
/// payment methods, the card form, a decline message and the receipt.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nothing_scrolls_sideways_at_360_px() {
    let Some(browser) = browser::start().await else {
        return;
    };
    browser.client.set_window_size(360, 800).await.unwrap();
    let db = TestDb::sqlite().await;
    let app = spawn_app(&db, AppOptions::default()).await;
    let s = app
        .create_session(&json!({
            "currency": "EUR",
            "description": "Organic cotton T-shirt, size L, colour forest green, gift wrapped",
            "line_items": [
                { "name": "Organic cotton T-shirt (forest green, L)", "unit_amount": "99999.99", "quantity": 2 },
                { "name": "Gift wrapping", "unit_amount": "3.50", "quantity": 1 }
            ]
        }))
        .await;
    browser
        .client
        .goto(s["url"].as_str().unwrap())
        .await
        .unwrap();
    browser.wait_for("#pg-method-card").await;
    browser.assert_no_sideways_scroll("payment methods").await;
    browser
        .wait_for("#pg-method-card")
        .await
        .click()
        .await
        .unwrap();
    browser.wait_for("#pg-card iframe").await;
    browser.assert_no_sideways_scroll("card form").await;
    browser.fill_card_and_pay("4000000000000002").await;
    browser
        .wait_js(
            "declined",
            "var c = document.getElementById('pg-checkout'); return !!c && c.dataset.state === 'declined'",
        )
        .await;
    browser.assert_no_sideways_scroll("declined").await;
    browser.fill_card_and_pay("4242424242424242").await;
    browser.wait_for("#pg-receipt").await;
    browser.assert_no_sideways_scroll("receipt").await;
    browser.close().await;
    app.stop().await;
}

/// A card form Stripe.js cannot load (here: a publishable key Stripe does not know) emits
/// `loaderror`, which the widget takes as the form's failure (without waiting for its load
/// timeout): it says that cards are unavailable and that PayPal is left.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_card_form_that_fails_to_load_is_reported() {
    let Some(browser) = browser::start().await else {
        return;
    };
    let db = TestDb::sqlite().await;
    let app = spawn_app(
        &db,
        AppOptions {
            vars: vec![("STRIPE_PUBLISHABLE_KEY", "pk_test_unknownToStripe".into())],
            ..AppOptions::default()
        },
    )
    .await;
    let s = app
        .create_session(&json!({ "amount": "19.99", "currency": "USD" }))
        .await;
    browser
        .client
        .goto(s["url"].as_str().unwrap())
        .await
        .unwrap();
    browser
        .wait_for("#pg-method-card")
        .await
        .click()
        .await
        .unwrap();
    let message = browser
        .wait_text("#pg-message", |t| t.contains("unavailable"))
        .await;
    assert_eq!(
        message,
        "Card payments are unavailable: the card form could not be loaded. Please choose another payment method."
    );
    assert!(
        !browser.exists("#pg-card iframe").await,
        "the form was taken away"
    );
    browser.close().await;
    app.stop().await;
}
