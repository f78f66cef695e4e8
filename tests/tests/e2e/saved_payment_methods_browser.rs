//! Saved cards as a person meets them, in headless Chromium: a customer ticks "Save this card"
//! in the widget and, in their next checkout, finds the card (masked) and pays with it; a
//! customer whose bank wants an off-session charge authenticated does so on paygate's page,
//! through Stripe.js and the bank's 3-D Secure challenge.

use paygate_tests::app::json_with_status;
use paygate_tests::{browser, spawn_app, AppOptions, TestDb};
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_customer_saves_a_card_and_pays_with_it_next_time() {
    let Some(browser) = browser::start().await else {
        return;
    };
    let db = TestDb::sqlite().await;
    let app = spawn_app(&db, AppOptions::default()).await;
    let cus = app.create_customer(None).await;
    let first = app
        .create_session(
            &json!({ "amount": "12.00", "currency": "USD", "customer": cus,
                                 "save_payment_method": "optional", "providers": ["stripe"] }),
        )
        .await;
    browser
        .client
        .goto(first["url"].as_str().unwrap())
        .await
        .unwrap();
    // No saved card yet: the card form, and the box (unticked until the customer ticks it).
    browser.wait_for("#pg-card iframe").await;
    assert!(!browser.exists("#pg-saved-cards").await);
    let save = browser.wait_for("#pg-save-card").await;
    assert!(!save.is_selected().await.unwrap());
    save.click().await.unwrap();
    browser.fill_card_and_pay("4242424242424242").await;
    browser
        .wait_text("#pg-receipt", |t| t.contains("$12.00"))
        .await;
    let cards = json_with_status(
        app.get(&format!("/v1/customers/{cus}/payment_methods"))
            .await,
        200,
    )
    .await;
    assert_eq!(cards["data"].as_array().unwrap().len(), 1, "{cards}");
    assert_eq!(cards["data"][0]["last4"], "4242");

    // The next checkout offers the saved card, chosen already; paying needs no card details.
    let second = app
        .create_session(&json!({ "amount": "8.00", "currency": "USD", "customer": cus }))
        .await;
    browser
        .client
        .goto(second["url"].as_str().unwrap())
        .await
        .unwrap();
    // Card and PayPal are offered: the customer chooses the card.
    browser
        .wait_for("#pg-method-card")
        .await
        .click()
        .await
        .unwrap();
    let listed = browser
        .wait_text("#pg-saved-cards", |t| t.contains("4242"))
        .await;
    assert!(listed.contains("Visa •••• 4242"), "{listed}");
    assert!(browser
        .wait_for("#pg-saved-0")
        .await
        .is_selected()
        .await
        .unwrap());
    browser
        .wait_js(
            "the Pay button enabled",
            "var b = document.getElementById('pg-pay'); return !!b && !b.disabled",
        )
        .await;
    browser.wait_for("#pg-pay").await.click().await.unwrap();
    browser
        .wait_text("#pg-receipt", |t| t.contains("$8.00"))
        .await;
    let paid = json_with_status(
        app.get(&format!(
            "/v1/checkout/sessions/{}",
            second["id"].as_str().unwrap()
        ))
        .await,
        200,
    )
    .await;
    assert_eq!(paid["status"], "complete");
    let pi = app
        .stripe
        .as_ref()
        .unwrap()
        .payment_intent(paid["payment"]["provider_reference"].as_str().unwrap())
        .unwrap();
    assert_eq!(pi["payment_method"], cards["data"][0]["id"], "{pi}");
    browser.assert_no_csp_violations().await;
    browser.close().await;
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_customer_authenticates_an_off_session_charge_on_paygates_page() {
    let Some(browser) = browser::start().await else {
        return;
    };
    let db = TestDb::sqlite().await;
    let app = spawn_app(&db, AppOptions::default()).await;
    let cus = app
        .create_customer(Some("pm_card_authenticationRequired"))
        .await;
    let cards = json_with_status(
        app.get(&format!("/v1/customers/{cus}/payment_methods"))
            .await,
        200,
    )
    .await;
    let pm = cards["data"][0]["id"].as_str().unwrap();
    let open = json_with_status(
        app.post(
            "/v1/payments",
            &json!({ "provider": "stripe", "amount": "30.00", "currency": "EUR",
                     "customer": cus, "payment_method": pm, "off_session": true }),
        )
        .await,
        201,
    )
    .await;
    assert_eq!(open["status"], "requires_action", "{open}");
    let id = open["id"].as_str().unwrap();

    browser
        .client
        .goto(open["next_action"]["url"].as_str().unwrap())
        .await
        .unwrap();
    let page = browser.wait_text("main", |t| t.contains("€30.00")).await;
    assert!(page.contains("ending in 3184"), "{page}");
    browser.wait_for("#pg-confirm").await.click().await.unwrap();
    // Stripe.js opens the bank's challenge over the page; the customer completes it.
    let frame = browser.wait_for(".__PaygateStripe3DS iframe").await;
    frame.enter_frame().await.unwrap();
    browser.wait_for("#complete").await.click().await.unwrap();
    browser.client.enter_parent_frame().await.unwrap();
    browser
        .wait_text("#pg-status", |t| t.contains("Payment confirmed"))
        .await;
    let payment = json_with_status(app.get(&format!("/v1/payments/{id}")).await, 200).await;
    assert_eq!(payment["status"], "succeeded", "{payment}");
    assert_eq!(payment["captured_minor"], 3000);
    browser.assert_no_csp_violations().await;
    browser.close().await;
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_customer_saves_a_card_in_a_setup_session_with_the_banks_challenge() {
    let Some(browser) = browser::start().await else {
        return;
    };
    let db = TestDb::sqlite().await;
    let app = spawn_app(&db, AppOptions::default()).await;
    let cus = app.create_customer(None).await;
    let s = app
        .create_session(&json!({ "mode": "setup", "currency": "USD", "customer": cus }))
        .await;
    browser
        .client
        .goto(s["url"].as_str().unwrap())
        .await
        .unwrap();
    // Nothing to pay: the widget says so, and its button saves the card.
    let total = browser.wait_text("#pg-amount", |t| !t.is_empty()).await;
    assert_eq!(total, "No charge today");
    browser.wait_for("#pg-card iframe").await;
    let button = browser.wait_text("#pg-pay", |t| !t.is_empty()).await;
    assert_eq!(button, "Save card");
    // 4000 0025 0000 3155: the bank wants 3-D Secure to set the card up.
    browser.fill_card_and_pay("4000002500003155").await;
    let frame = browser.wait_for(".__PaygateStripe3DS iframe").await;
    frame.enter_frame().await.unwrap();
    let asks = browser
        .wait_text("main", |t| t.contains("saved for later payments"))
        .await;
    assert!(!asks.contains("$"), "{asks}");
    browser.wait_for("#complete").await.click().await.unwrap();
    browser.client.enter_parent_frame().await.unwrap();
    browser
        .wait_text("#pg-message", |t| t.contains("Card saved"))
        .await;

    let done = json_with_status(
        app.get(&format!(
            "/v1/checkout/sessions/{}",
            s["id"].as_str().unwrap()
        ))
        .await,
        200,
    )
    .await;
    assert_eq!(done["status"], "complete", "{done}");
    let cards = json_with_status(
        app.get(&format!("/v1/customers/{cus}/payment_methods"))
            .await,
        200,
    )
    .await;
    assert_eq!(cards["data"].as_array().unwrap().len(), 1, "{cards}");
    assert_eq!(cards["data"][0]["last4"], "3155");
    assert_eq!(cards["data"][0]["id"], done["payment_method"]);
    assert_eq!(app.stripe.as_ref().unwrap().charges_count(), 0);
    browser.assert_no_csp_violations().await;
    browser.close().await;
    app.stop().await;
}

/// A bank's page that the customer is sent to (`redirect_to_url`, which the emulator's
/// `redirect_next` knob hands out as Stripe does for redirect-based methods) returns to the
/// widget with `setup_intent` and `redirect_status`; the widget then asks paygate, which reads
/// the SetupIntent, instead of showing the card form again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_setup_session_picks_up_the_customer_back_from_the_banks_page() {
    let Some(browser) = browser::start().await else {
        return;
    };
    let db = TestDb::sqlite().await;
    let app = spawn_app(&db, AppOptions::default()).await;
    let cus = app.create_customer(None).await;
    let knob = app
        .stripe_api(reqwest::Method::POST, "/_emulator/faults")
        .json(&json!({ "redirect_next": 1 }))
        .send()
        .await
        .unwrap();
    assert_eq!(knob.status(), 200);
    let s = app
        .create_session(&json!({ "mode": "setup", "currency": "USD", "customer": cus }))
        .await;
    browser
        .client
        .goto(s["url"].as_str().unwrap())
        .await
        .unwrap();
    browser.fill_card_and_pay("4000002500003155").await;
    // The page itself goes to the bank's page.
    browser
        .wait_text("main", |t| t.contains("saved for later payments"))
        .await;
    browser.wait_for("#complete").await.click().await.unwrap();
    browser
        .wait_text("#pg-message", |t| t.contains("Card saved"))
        .await;
    let search = browser.js("return location.search").await;
    let search = search.as_str().unwrap_or_default().to_string();
    assert!(
        search.contains("setup_intent=seti_") && search.contains("redirect_status=succeeded"),
        "back on the widget from the bank's page: {search}"
    );
    let done = json_with_status(
        app.get(&format!(
            "/v1/checkout/sessions/{}",
            s["id"].as_str().unwrap()
        ))
        .await,
        200,
    )
    .await;
    assert_eq!(done["status"], "complete", "{done}");
    browser.assert_no_csp_violations().await;
    browser.close().await;
    app.stop().await;
}
