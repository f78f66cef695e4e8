//! The admin console in a real headless Chromium against paygate in sandbox mode (real Stripe
//! emulator over HTTP): sign-in (a wrong password, then the right one), the history with a
//! filter that lives in the URL and survives a reload, the totals, a payment's detail and
//! timeline, a partial refund in two steps that the server and the emulator both record, a
//! merchant webhook endpoint's deliveries with their attempts and a resend, the audit log, and
//! sign-out. Any CSP violation fails the test (`Browser::close`).

use paygate_tests::admin::{create_admin, PASSWORD};
use paygate_tests::app::{eventually, json_with_status};
use paygate_tests::emulator::webhook_receiver;
use paygate_tests::{browser, spawn_app, AppOptions, TestApp, TestDb};
use serde_json::{json, Value};
use std::time::Duration;

const ADMIN: &str = "ops@shop.example";

async fn card_payment(app: &TestApp, amount: &str, currency: &str, confirm: bool) -> Value {
    let p = json_with_status(
        app.post(
            "/v1/payments",
            &json!({ "provider": "stripe", "amount": amount, "currency": currency, "description": format!("Order of {amount}") }),
        )
        .await,
        201,
    )
    .await;
    if !confirm {
        return p;
    }
    let id = p["id"].as_str().unwrap();
    json_with_status(
        app.post(
            &format!("/v1/payments/{id}/confirm"),
            &json!({ "payment_method": "pm_card_visa" }),
        )
        .await,
        200,
    )
    .await
}

async fn rows(browser: &browser::Browser) -> usize {
    browser
        .client
        .find_all(fantoccini::Locator::Css(
            "#pc-history-table tbody tr[data-id]",
        ))
        .await
        .map_or(0, |r| r.len())
}

async fn wait_rows(browser: &browser::Browser, n: usize) {
    browser
        .wait_js(
            &format!("{n} history rows"),
            &format!("return document.querySelectorAll('#pc-history-table tbody tr[data-id]').length === {n}"),
        )
        .await;
}

/// Types the email and `password` into the sign-in form and submits it.
async fn submit_sign_in(browser: &browser::Browser, password: &str) {
    for (field, text) in [("#pc-email", ADMIN), ("#pc-password", password)] {
        let field = browser.wait_for(field).await;
        field.clear().await.unwrap();
        field.send_keys(text).await.unwrap();
    }
    browser
        .wait_for("#pc-signin-submit")
        .await
        .click()
        .await
        .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn admin_signs_in_filters_refunds_and_signs_out() {
    let Some(browser) = browser::start().await else {
        return;
    };
    let db = TestDb::sqlite().await;
    let app = spawn_app(&db, AppOptions::default()).await;
    create_admin(&app, ADMIN).await;
    // A merchant endpoint for the payments' successes, made before them.
    let (hooks, received) = webhook_receiver("/hooks", 0, |headers, _| {
        headers["webhook-id"]
            .to_str()
            .unwrap_or_default()
            .to_string()
    })
    .await;
    let endpoint = json_with_status(
        app.post(
            "/v1/webhook_endpoints",
            &json!({ "url": hooks, "enabled_events": ["payment.succeeded"] }),
        )
        .await,
        201,
    )
    .await;
    let endpoint = endpoint["id"].as_str().unwrap().to_string();
    let paid = card_payment(&app, "25.00", "USD", true).await;
    assert_eq!(paid["status"], "succeeded");
    card_payment(&app, "9.99", "USD", false).await;
    card_payment(&app, "12.00", "EUR", true).await;
    let paid_id = paid["id"].as_str().unwrap().to_string();

    // Sign-in: a wrong password is refused with a message, the right one opens the history.
    browser
        .client
        .goto(&format!("{}/admin", app.url))
        .await
        .unwrap();
    submit_sign_in(&browser, "not it").await;
    let error = browser
        .wait_text("#pc-signin-error", |t| !t.is_empty())
        .await;
    assert!(error.contains("Wrong email or password"), "{error}");
    submit_sign_in(&browser, PASSWORD).await;
    wait_rows(&browser, 3).await;
    // Newest first.
    let first = browser
        .wait_for("#pc-history-table tbody tr[data-id]")
        .await
        .attr("data-id")
        .await
        .unwrap();
    assert_ne!(first.as_deref(), Some(paid_id.as_str()));
    let usd = browser
        .wait_text("#pc-totals li[data-currency=USD] .pc-total-amount", |t| {
            !t.is_empty()
        })
        .await;
    assert_eq!(usd, "$34.99");

    // A filter: the table, the totals and the URL follow; a reload keeps it.
    browser
        .wait_for("#pc-f-status")
        .await
        .select_by_value("succeeded")
        .await
        .unwrap();
    wait_rows(&browser, 2).await;
    let url = browser.client.current_url().await.unwrap();
    assert!(
        url.query().unwrap_or_default().contains("status=succeeded"),
        "{url}"
    );
    browser
        .wait_text("#pc-totals li[data-currency=USD] .pc-total-amount", |t| {
            t == "$25.00"
        })
        .await;
    browser.client.refresh().await.unwrap();
    wait_rows(&browser, 2).await;
    let selected = browser
        .js("return document.querySelector('#pc-f-status').value")
        .await;
    assert_eq!(selected, "succeeded");
    assert_eq!(rows(&browser).await, 2);

    // The detail of the USD payment, its timeline and references.
    browser
        .wait_for(&format!("#pc-history-table tr[data-id={paid_id}] a"))
        .await
        .click()
        .await
        .unwrap();
    assert_eq!(
        browser.wait_text("#pc-amount", |t| !t.is_empty()).await,
        "$25.00"
    );
    browser.wait_for("#pc-timeline li[data-cause=api]").await;
    let references = browser.wait_text("#pc-references", |t| !t.is_empty()).await;
    assert!(references.contains(paid["provider_reference"].as_str().unwrap()));
    assert!(browser
        .client
        .current_url()
        .await
        .unwrap()
        .path()
        .ends_with(&format!("/admin/payments/{paid_id}")));

    // A partial refund, reviewed then confirmed.
    browser
        .wait_for("#pc-refund-amount")
        .await
        .send_keys("10.00")
        .await
        .unwrap();
    browser
        .wait_for("#pc-refund-reason")
        .await
        .select_by_value("requested_by_customer")
        .await
        .unwrap();
    browser
        .wait_for("#pc-refund-note")
        .await
        .send_keys("scratched mug")
        .await
        .unwrap();
    browser
        .wait_for("#pc-refund-review")
        .await
        .click()
        .await
        .unwrap();
    let question = browser
        .wait_text("#pc-refund-question", |t| !t.is_empty())
        .await;
    assert!(
        question.contains("$10.00") && question.contains("$25.00"),
        "{question}"
    );
    // Nothing is refunded before the confirmation.
    let before = json_with_status(app.get(&format!("/v1/payments/{paid_id}")).await, 200).await;
    assert_eq!(before["refunded_minor"], 0);
    browser
        .wait_for("#pc-refund-confirm")
        .await
        .click()
        .await
        .unwrap();
    browser
        .wait_text("#pc-refund-status", |t| !t.is_empty())
        .await;
    browser.wait_text("#pc-refunded", |t| t == "$10.00").await;
    browser.wait_text("#pc-refundable", |t| t == "$15.00").await;
    browser.wait_for("#pc-timeline li[data-cause=admin]").await;

    // The server and the provider agree: one refund of 10.00.
    let after = json_with_status(app.get(&format!("/v1/payments/{paid_id}")).await, 200).await;
    assert_eq!(after["refunded_minor"], 1000);
    let stripe_refunds: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM refunds WHERE payment_id = $1 AND status = 'succeeded' AND amount_minor = 1000",
    )
    .bind(&paid_id)
    .fetch_one(&app.state.db.pool)
    .await
    .unwrap();
    assert_eq!(stripe_refunds, 1);
    let reference: String =
        sqlx::query_scalar("SELECT provider_reference FROM refunds WHERE payment_id = $1")
            .bind(&paid_id)
            .fetch_one(&app.state.db.pool)
            .await
            .unwrap();
    let at_stripe = app
        .client
        .get(format!(
            "{}/v1/refunds/{reference}",
            app.stripe.as_ref().unwrap().config().public_base
        ))
        .bearer_auth(paygate::config::EMULATOR_STRIPE_SECRET_KEY)
        .send()
        .await
        .unwrap();
    let at_stripe: Value = at_stripe.json().await.unwrap();
    assert_eq!(at_stripe["amount"], 1000);
    assert_eq!(at_stripe["status"], "succeeded");

    // The webhook endpoint's deliveries, once both successes were delivered: a delivery opens
    // to its attempt, and "Resend" (with the session's CSRF token) sends the event again.
    let log = format!("/v1/webhook_endpoints/{endpoint}/deliveries?status=delivered");
    eventually("both deliveries", Duration::from_secs(15), || async {
        let log = json_with_status(app.get(&log).await, 200).await;
        log["data"].as_array().unwrap().len() == 2
    })
    .await;
    browser
        .wait_for("#pc-nav-webhooks")
        .await
        .click()
        .await
        .unwrap();
    browser
        .wait_for(&format!("#pc-endpoints tr[data-id={endpoint}] a"))
        .await
        .click()
        .await
        .unwrap();
    let delivery = "#pc-deliveries tbody.pc-delivery[data-status=delivered]";
    browser.wait_for(delivery).await;
    browser
        .wait_for(&format!("{delivery} .pc-attempts-toggle"))
        .await
        .click()
        .await
        .unwrap();
    browser
        .wait_text(&format!("{delivery} .pc-attempt-result"), |t| {
            t == "HTTP 200"
        })
        .await;
    let event = browser
        .wait_text(&format!("{delivery} .pc-delivery-event"), |t| {
            t.starts_with("evt_")
        })
        .await;
    browser
        .wait_for(&format!("{delivery} .pc-resend"))
        .await
        .click()
        .await
        .unwrap();
    let said = browser
        .wait_text("#pc-resend-status", |t| !t.is_empty())
        .await;
    assert!(said.contains(&event), "{said}");
    eventually("the event again", Duration::from_secs(15), || async {
        received
            .lock()
            .unwrap()
            .iter()
            .filter(|id| **id == event)
            .count()
            == 2
    })
    .await;

    // The audit log shows the refund, the resend and the sign-in; then sign out.
    browser
        .wait_for("#pc-nav-audit")
        .await
        .click()
        .await
        .unwrap();
    browser
        .wait_for("#pc-audit-table tr[data-action=refund]")
        .await;
    browser
        .wait_for("#pc-audit-table tr[data-action=webhook_resend]")
        .await;
    browser
        .wait_for("#pc-audit-table tr[data-action=sign_in_failed]")
        .await;
    browser
        .wait_for("#pc-sign-out")
        .await
        .click()
        .await
        .unwrap();
    browser.wait_for("#pc-email").await;
    let sessions: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM admin_sessions")
        .fetch_one(&app.state.db.pool)
        .await
        .unwrap();
    assert_eq!(sessions, 0);

    browser.close().await;
    app.stop().await;
}

/// At 360 px wide the console's pages do not scroll sideways (the history table scrolls inside
/// its own region).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_console_fits_a_360_px_screen() {
    let Some(browser) = browser::start().await else {
        return;
    };
    browser.client.set_window_size(360, 800).await.unwrap();
    let db = TestDb::sqlite().await;
    let app = spawn_app(&db, AppOptions::default()).await;
    create_admin(&app, ADMIN).await;
    let paid = card_payment(&app, "25.00", "USD", true).await;
    card_payment(&app, "999999.99", "EUR", false).await;
    browser
        .client
        .goto(&format!("{}/admin", app.url))
        .await
        .unwrap();
    browser.wait_for("#pc-email").await;
    browser.assert_no_sideways_scroll("sign-in").await;
    submit_sign_in(&browser, PASSWORD).await;
    wait_rows(&browser, 2).await;
    browser.assert_no_sideways_scroll("history").await;
    browser
        .client
        .goto(&format!(
            "{}/admin/payments/{}",
            app.url,
            paid["id"].as_str().unwrap()
        ))
        .await
        .unwrap();
    browser.wait_for("#pc-timeline").await;
    browser.assert_no_sideways_scroll("payment detail").await;
    json_with_status(
        app.post(
            "/v1/payment_links",
            &json!({ "currency": "USD", "custom_amount": { "minimum": "1", "maximum": "999999.99" },
                "description": "A long description of what this link sells, to wrap" }),
        )
        .await,
        201,
    )
    .await;
    for (path, ready, what) in [
        (
            "/admin/links",
            "#pc-links tbody tr[data-id]",
            "payment links",
        ),
        (
            "/admin/subscriptions",
            "#pc-no-subscriptions",
            "subscriptions",
        ),
    ] {
        browser
            .client
            .goto(&format!("{}{path}", app.url))
            .await
            .unwrap();
        browser.wait_for(ready).await;
        browser.assert_no_sideways_scroll(what).await;
    }
    browser.close().await;
    app.stop().await;
}

/// The subscriptions page: every subscription with its status and latest invoice, and the
/// filter (kept in the URL) that leaves only those whose invoice is unpaid.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn subscriptions_with_unpaid_invoices_stand_out() {
    let Some(browser) = browser::start().await else {
        return;
    };
    let db = TestDb::sqlite().await;
    let app = spawn_app(&db, AppOptions::default()).await;
    create_admin(&app, ADMIN).await;
    let mut made = Vec::new();
    for card in ["pm_card_visa", "pm_card_chargeCustomerFail"] {
        let c = json_with_status(
            app.post(
                "/v1/customers",
                &json!({ "email": "ada@example.com", "payment_method": card }),
            )
            .await,
            201,
        )
        .await;
        let s = json_with_status(
            app.post(
                "/v1/subscriptions",
                &json!({ "customer": c["id"], "price": "price_paygate_pro_monthly" }),
            )
            .await,
            201,
        )
        .await;
        made.push(s["id"].as_str().unwrap().to_string());
    }
    browser
        .client
        .goto(&format!("{}/admin/subscriptions", app.url))
        .await
        .unwrap();
    submit_sign_in(&browser, PASSWORD).await;
    browser
        .wait_js(
            "two subscriptions",
            "return document.querySelectorAll('#pc-subscriptions tbody tr[data-id]').length === 2",
        )
        .await;
    let flagged = browser
        .wait_for("#pc-subscriptions tr[data-attention]")
        .await
        .attr("data-id")
        .await
        .unwrap();
    assert_eq!(flagged.as_deref(), Some(made[1].as_str()));
    let invoice = browser
        .wait_text(
            &format!(
                "#pc-subscriptions tr[data-id='{}'] .pc-sub-invoice",
                made[1]
            ),
            |t| !t.is_empty(),
        )
        .await;
    assert_eq!(invoice, "Open: not paid");
    browser
        .wait_for("#pc-subscriptions-attention")
        .await
        .click()
        .await
        .unwrap();
    browser
        .wait_js(
            "only the unpaid one",
            &format!(
                "var rows = document.querySelectorAll('#pc-subscriptions tbody tr[data-id]'); \
                 return rows.length === 1 && rows[0].dataset.id === '{}'",
                made[1]
            ),
        )
        .await;
    let url = browser.client.current_url().await.unwrap();
    assert!(
        url.as_str()
            .ends_with("/admin/subscriptions?attention=true"),
        "{url}"
    );
    browser.close().await;
    app.stop().await;
}

/// Disputes in the console: the one awaiting a response stands out, evidence written in the
/// form goes to Stripe (whose test mode lets `winning_evidence` win), and the payment's detail
/// lists the dispute.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_admin_answers_a_dispute_with_evidence() {
    let Some(browser) = browser::start().await else {
        return;
    };
    let db = TestDb::sqlite().await;
    let app = spawn_app(&db, AppOptions::default()).await;
    create_admin(&app, ADMIN).await;
    let p = json_with_status(
        app.post(
            "/v1/payments",
            &json!({ "provider": "stripe", "amount": "64.00", "currency": "USD" }),
        )
        .await,
        201,
    )
    .await;
    let pay = p["id"].as_str().unwrap().to_string();
    json_with_status(
        app.post(
            &format!("/v1/payments/{pay}/confirm"),
            &json!({ "payment_method": "pm_card_createDispute" }),
        )
        .await,
        200,
    )
    .await;
    eventually("the dispute recorded", Duration::from_secs(10), || async {
        app.count("SELECT COUNT(*) FROM disputes").await == 1
    })
    .await;
    browser
        .client
        .goto(&format!("{}/admin/disputes?open=true", app.url))
        .await
        .unwrap();
    submit_sign_in(&browser, PASSWORD).await;
    let row = browser.wait_for("#pc-disputes tr[data-open]").await;
    let id = row.attr("data-id").await.unwrap().unwrap();
    browser
        .wait_for(".pc-dispute-respond summary")
        .await
        .click()
        .await
        .unwrap();
    browser
        .wait_for(&format!("#pc-dispute-story-{id}"))
        .await
        .send_keys("winning_evidence")
        .await
        .unwrap();
    browser
        .wait_for(".pc-dispute-submit")
        .await
        .click()
        .await
        .unwrap();
    // Answered: no longer awaiting a response, so the filtered list is empty.
    browser.wait_for("#pc-no-disputes").await;
    let d = json_with_status(app.get(&format!("/v1/disputes/{id}")).await, 200).await;
    assert_eq!(d["status"], "won");
    browser
        .client
        .goto(&format!("{}/admin/payments/{pay}", app.url))
        .await
        .unwrap();
    let status = browser
        .wait_text("#pc-payment-disputes .pc-badge", |t| !t.is_empty())
        .await;
    assert_eq!(status, "Won");
    browser.close().await;
    app.stop().await;
}
