//! Payment links in a real headless Chromium (paygate in sandbox mode, the Stripe emulator over
//! HTTP): a customer opens a link, is refused an amount outside its bounds, chooses one within
//! them, lands in the widget and pays by card; an admin makes a link in the console, finds its
//! payments in the history filtered by the link, and deactivates it. Any CSP violation fails the
//! test (`Browser::close`).

use paygate_tests::admin::{create_admin, PASSWORD};
use paygate_tests::app::json_with_status;
use paygate_tests::{browser, spawn_app, AppOptions, TestDb};
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_customer_pays_through_a_payment_link() {
    let Some(browser) = browser::start().await else {
        return;
    };
    let db = TestDb::sqlite().await;
    let app = spawn_app(&db, AppOptions::default()).await;
    let link = json_with_status(
        app.post(
            "/v1/payment_links",
            &json!({
                "currency": "USD", "description": "Tip jar",
                "custom_amount": { "minimum": "1.00", "maximum": "100.00", "preset": "5.00" }
            }),
        )
        .await,
        201,
    )
    .await;
    let id = link["id"].as_str().unwrap();
    browser
        .client
        .goto(link["url"].as_str().unwrap())
        .await
        .unwrap();
    let amount = browser.wait_for("#pay-amount").await;
    assert_eq!(amount.prop("value").await.unwrap().as_deref(), Some("5.00"));

    // Too much: the page says why and keeps what was typed.
    amount.clear().await.unwrap();
    amount.send_keys("150").await.unwrap();
    browser
        .wait_for("#pay-continue")
        .await
        .click()
        .await
        .unwrap();
    let error = browser.wait_text("#pay-error", |t| !t.is_empty()).await;
    assert!(
        error.contains("$1.00") && error.contains("$100.00"),
        "{error}"
    );
    let amount = browser.wait_for("#pay-amount").await;
    assert_eq!(amount.prop("value").await.unwrap().as_deref(), Some("150"));

    amount.clear().await.unwrap();
    amount.send_keys("12.50").await.unwrap();
    browser
        .wait_for("#pay-continue")
        .await
        .click()
        .await
        .unwrap();
    // The widget, for a session of exactly that amount.
    browser
        .wait_for("#pg-method-card")
        .await
        .click()
        .await
        .unwrap();
    browser.fill_card_and_pay("4242424242424242").await;
    let receipt = browser
        .wait_text("#pg-receipt", |t| t.contains("$12.50"))
        .await;
    assert!(receipt.contains("pay_"), "{receipt}");

    let now = json_with_status(app.get(&format!("/v1/payment_links/{id}")).await, 200).await;
    assert_eq!(now["completed_sessions"], 1);
    let sessions = app
        .count(&format!(
            "SELECT COUNT(*) FROM checkout_sessions WHERE payment_link_id = '{id}' \
             AND status = 'complete' AND amount_minor = 1250"
        ))
        .await;
    assert_eq!(sessions, 1);
    browser.close().await;
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_admin_makes_a_link_follows_its_payments_and_deactivates_it() {
    let Some(browser) = browser::start().await else {
        return;
    };
    let db = TestDb::sqlite().await;
    let app = spawn_app(&db, AppOptions::default()).await;
    create_admin(&app, "ops@shop.example").await;
    browser
        .client
        .goto(&format!("{}/admin/links", app.url))
        .await
        .unwrap();
    for (field, text) in [
        ("#pc-email", "ops@shop.example"),
        ("#pc-password", PASSWORD),
    ] {
        browser.wait_for(field).await.send_keys(text).await.unwrap();
    }
    browser
        .wait_for("#pc-signin-submit")
        .await
        .click()
        .await
        .unwrap();
    browser
        .wait_text("#pc-no-links", |t| t.contains("No payment links"))
        .await;

    // A bad amount: the server's reason, and nothing made.
    browser
        .wait_for("#pc-link-amount")
        .await
        .send_keys("1.234")
        .await
        .unwrap();
    browser
        .wait_for("#pc-link-description")
        .await
        .send_keys("Poster")
        .await
        .unwrap();
    browser
        .wait_for("#pc-link-create")
        .await
        .click()
        .await
        .unwrap();
    browser.wait_text("#pc-link-error", |t| !t.is_empty()).await;
    assert_eq!(
        browser
            .wait_for("#pc-link-amount")
            .await
            .attr("aria-invalid")
            .await
            .unwrap()
            .as_deref(),
        Some("true")
    );
    let amount = browser.wait_for("#pc-link-amount").await;
    amount.clear().await.unwrap();
    amount.send_keys("18.00").await.unwrap();
    browser
        .wait_for("#pc-link-limit")
        .await
        .send_keys("5")
        .await
        .unwrap();
    browser
        .wait_for("#pc-link-create")
        .await
        .click()
        .await
        .unwrap();
    let status = browser
        .wait_text("#pc-links-status", |t| t.starts_with("Created"))
        .await;
    let row = browser.wait_for("#pc-links tbody tr[data-id]").await;
    let id = row.attr("data-id").await.unwrap().unwrap();
    assert!(status.contains(&id), "{status}");
    let paid = browser
        .wait_text("#pc-links .pc-link-paid", |t| !t.is_empty())
        .await;
    assert_eq!(paid, "0 of 5");

    // A customer pays through it (as the widget does); the console's link finds that payment.
    let res = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
        .post(format!("{}/pay/{id}", app.url))
        .form(&Vec::<(&str, &str)>::new())
        .send()
        .await
        .unwrap();
    let sid = res.headers()["location"]
        .to_str()
        .unwrap()
        .trim_start_matches("/checkout/")
        .to_string();
    let payment = app.pay_by_card(&sid).await;
    app.card_checkout(&json!({ "amount": "3.00", "currency": "USD" }))
        .await;
    browser.client.refresh().await.unwrap();
    browser
        .wait_text("#pc-links .pc-link-paid", |t| t == "1 of 5")
        .await;
    browser
        .wait_for(".pc-link-payments")
        .await
        .click()
        .await
        .unwrap();
    browser
        .wait_text("#pc-link-filter", |t| t.contains(&id))
        .await;
    browser
        .wait_js(
            "only the link's payment",
            &format!(
                "var rows = document.querySelectorAll('#pc-history-table tbody tr[data-id]'); \
                 return rows.length === 1 && rows[0].dataset.id === '{payment}'"
            ),
        )
        .await;
    let url = browser.client.current_url().await.unwrap();
    assert!(
        url.as_str().ends_with(&format!("/admin?payment_link={id}")),
        "{url}"
    );

    // Back to the links; deactivate.
    browser
        .wait_for("#pc-nav-links")
        .await
        .click()
        .await
        .unwrap();
    browser
        .wait_for(".pc-link-toggle")
        .await
        .click()
        .await
        .unwrap();
    browser
        .wait_text("#pc-links .pc-badge", |t| t == "Deactivated")
        .await;
    let now = json_with_status(app.get(&format!("/v1/payment_links/{id}")).await, 200).await;
    assert_eq!(now["active"], false);
    browser.close().await;
    app.stop().await;
}
