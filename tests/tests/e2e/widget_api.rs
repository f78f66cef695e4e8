//! The widget's payment routes over real HTTP, with paygate's Stripe client talking to the
//! sandbox Stripe emulator; the "browser" steps (Stripe.js confirming with the publishable key)
//! are made against the emulator the way Stripe.js makes them. Plus the one-payment-per-session
//! rule and session expiry.

use paygate::payments::service::{self, NewPayment};
use paygate::payments::{lifecycle, Cause};
use paygate_tests::app::json_with_status;
use paygate_tests::{on_both_databases, spawn_app, AppOptions, TestDb, TestProvider};
use serde_json::json;
use shared::api::{CheckoutSessionStatus, PaymentStatus, ProviderName};
use shared::{Currency, Money};
use std::sync::Arc;
use std::time::Duration;

on_both_databases!(
    a_card_payment_completes_the_session_once,
    a_second_successful_payment_is_refunded
);

async fn a_card_payment_completes_the_session_once(db: TestDb) {
    let app = spawn_app(&db, AppOptions::default()).await;
    let s = app.create_session(&json!({ "amount": "25.00", "currency": "EUR", "success_url": "https://shop.example/thanks" })).await;
    let sid = s["id"].as_str().unwrap();

    let intent = json_with_status(app.widget_post(sid, "stripe/intent").await, 200).await;
    let again = json_with_status(app.widget_post(sid, "stripe/intent").await, 200).await;
    assert_eq!(intent, again, "the open PaymentIntent is reused");
    let secret = intent["client_secret"].as_str().unwrap();
    let pi = app
        .stripe
        .as_ref()
        .unwrap()
        .payment_intent(secret.split("_secret_").next().unwrap())
        .unwrap();
    assert_eq!(pi["amount"], 2500, "the amount comes from the session");

    // Before the customer paid: nothing completes, whatever the browser says.
    let early = json_with_status(app.widget_post(sid, "stripe/complete").await, 200).await;
    assert_eq!(early["session"], "open");
    assert_eq!(early["payment_status"], "requires_payment_method");

    // A declined card: the session stays open with a message for the customer.
    let declined = app
        .stripe_js_confirm(secret, "pm_card_visa_chargeDeclined")
        .await;
    assert_eq!(declined["error"]["code"], "card_declined");
    let after = json_with_status(app.widget_post(sid, "stripe/complete").await, 200).await;
    assert_eq!(after["session"], "open");
    assert!(
        after["message"]
            .as_str()
            .unwrap()
            .to_lowercase()
            .contains("declined"),
        "{after}"
    );

    // Another card on the same PaymentIntent succeeds.
    let ok = app.stripe_js_confirm(secret, "pm_card_visa").await;
    assert_eq!(ok["status"], "succeeded");
    let done = json_with_status(app.widget_post(sid, "stripe/complete").await, 200).await;
    assert_eq!(done["session"], "complete");
    assert_eq!(done["payment_status"], "succeeded");
    assert_eq!(done["payment"], intent["payment"]);

    let merchant_view =
        json_with_status(app.get(&format!("/v1/checkout/sessions/{sid}")).await, 200).await;
    assert_eq!(merchant_view["status"], "complete");
    assert_eq!(merchant_view["payment"]["id"], intent["payment"]);
    assert_eq!(merchant_view["payment"]["captured_minor"], 2500);
    let e = json_with_status(app.widget_post(sid, "stripe/intent").await, 409).await;
    assert_eq!(e["code"], "session_complete");
    let e = json_with_status(app.widget_post(sid, "paypal/orders").await, 409).await;
    assert_eq!(e["code"], "session_complete");
    app.stop().await;
}

async fn a_second_successful_payment_is_refunded(db: TestDb) {
    let provider = Arc::new(TestProvider::new(ProviderName::Paypal));
    *provider.initial_status.lock().unwrap() = PaymentStatus::Succeeded;
    let app = spawn_app(
        &db,
        AppOptions {
            providers: vec![provider.clone()],
            ..AppOptions::default()
        },
    )
    .await;
    let s = app
        .create_session(&json!({ "amount": "8.00", "currency": "USD", "providers": ["paypal"] }))
        .await;
    let sid = s["id"].as_str().unwrap().to_string();
    let new = NewPayment {
        provider: ProviderName::Paypal,
        money: Money::from_minor(800, Currency::from_code("USD").unwrap()),
        capture_mode: Default::default(),
        description: None,
        customer: None,
        metadata: Default::default(),
        return_url: None,
        checkout_session: Some(sid.clone()),
        payment_link: None,
        payment_method: None,
        cause: Cause::Widget,
        id: None,
    };
    // Two payments for one session both succeeded (two tabs, two methods, at once): recording
    // the first completes the session, recording the second gives it back.
    let first = service::create(&app.state, new.clone())
        .await
        .unwrap()
        .payment;
    let second = service::create(&app.state, new).await.unwrap().payment;
    let session =
        json_with_status(app.get(&format!("/v1/checkout/sessions/{sid}")).await, 200).await;
    assert_eq!(
        session["payment"]["id"],
        first.id.as_str(),
        "the first one completed the session"
    );
    let refunded =
        json_with_status(app.get(&format!("/v1/payments/{}", second.id)).await, 200).await;
    assert_eq!(refunded["refunded_minor"], 800, "the second was given back");
    let timeline = paygate::payments::timeline::list(&app.state.db, &second.id)
        .await
        .unwrap();
    assert!(timeline.iter().any(|t| t.kind == "duplicate_for_session"));
    assert_eq!(provider.refund_calls(), 1);
    // Recording either again (a late webhook, reconciliation) gives nothing back twice.
    for p in [&first, &second, &second] {
        let again = lifecycle::refresh(&app.state, p, Cause::Reconciliation, "test")
            .await
            .unwrap();
        assert_eq!(again.session, Some(CheckoutSessionStatus::Complete));
    }
    assert_eq!(
        paygate::payments::lifecycle::give_back_leftovers(&app.state)
            .await
            .unwrap(),
        0,
        "nothing left to give back"
    );
    assert_eq!(provider.refund_calls(), 1);
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_expired_session_accepts_nothing_and_cancels_its_payment_intent() {
    let db = TestDb::sqlite().await;
    let app = spawn_app(&db, AppOptions::default()).await;
    let s = app
        .create_session(&json!({ "amount": "9.00", "currency": "USD", "expires_in": 60 }))
        .await;
    let sid = s["id"].as_str().unwrap();
    let intent = json_with_status(app.widget_post(sid, "stripe/intent").await, 200).await;
    app.state.clock.advance(Duration::from_secs(61));
    let e = json_with_status(app.widget_post(sid, "stripe/intent").await, 409).await;
    assert_eq!(e["code"], "session_expired");
    assert_eq!(
        paygate::checkout::expiry::sweep(&app.state).await.unwrap(),
        1
    );
    let p = json_with_status(
        app.get(&format!(
            "/v1/payments/{}",
            intent["payment"].as_str().unwrap()
        ))
        .await,
        200,
    )
    .await;
    assert_eq!(p["status"], "canceled");
    let pi = app
        .stripe
        .as_ref()
        .unwrap()
        .payment_intent(p["provider_reference"].as_str().unwrap())
        .unwrap();
    assert_eq!(pi["status"], "canceled", "canceled at Stripe too");
    assert_eq!(
        paygate::checkout::expiry::sweep(&app.state).await.unwrap(),
        0
    );
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_payment_finished_after_the_browser_left_completes_the_session_by_webhook() {
    let db = TestDb::sqlite().await;
    let app = spawn_app(&db, AppOptions::default()).await;
    let s = app
        .create_session(&json!({ "amount": "11.00", "currency": "USD" }))
        .await;
    let sid = s["id"].as_str().unwrap().to_string();
    let intent = json_with_status(app.widget_post(&sid, "stripe/intent").await, 200).await;
    app.stripe_js_confirm(intent["client_secret"].as_str().unwrap(), "pm_card_visa")
        .await;
    // The browser never calls complete: the emulator's signed webhook does the job.
    let app_ref = &app;
    paygate_tests::app::eventually(
        "session completed by webhook",
        Duration::from_secs(15),
        || {
            let sid = sid.clone();
            async move {
                json_with_status(
                    app_ref.get(&format!("/v1/checkout/sessions/{sid}")).await,
                    200,
                )
                .await["status"]
                    == "complete"
            }
        },
    )
    .await;
    app.stop().await;
}

/// The widget API's POSTs need no preflight, so CORS alone would let any site make them (and
/// only hide the answer): a request from a site that is neither paygate nor a registered
/// merchant is refused before it creates anything; the merchant's own site is served.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn widget_calls_from_unregistered_sites_are_refused_before_any_work() {
    let db = TestDb::sqlite().await;
    let app = spawn_app(
        &db,
        AppOptions {
            vars: vec![("PAYGATE_ALLOWED_ORIGINS", "https://shop.example".into())],
            ..AppOptions::default()
        },
    )
    .await;
    let session = app
        .create_session(&json!({ "amount": "9.00", "currency": "USD" }))
        .await;
    let sid = session["id"].as_str().unwrap();
    for tail in ["paypal/orders", "stripe/intent"] {
        let res = app
            .client
            .post(format!("{}/checkout/api/sessions/{sid}/{tail}", app.url))
            .header("origin", "https://evil.example")
            .send()
            .await
            .unwrap();
        let e = json_with_status(res, 403).await;
        assert_eq!(e["code"], "origin_not_allowed");
    }
    assert_eq!(app.count("SELECT COUNT(*) FROM payments").await, 0);

    let res = app
        .client
        .post(format!(
            "{}/checkout/api/sessions/{sid}/paypal/orders",
            app.url
        ))
        .header("origin", "https://shop.example")
        .send()
        .await
        .unwrap();
    assert_eq!(
        res.headers()["access-control-allow-origin"],
        "https://shop.example"
    );
    assert!(res.status().is_success(), "{}", res.status());
    assert_eq!(app.count("SELECT COUNT(*) FROM payments").await, 1);
    app.stop().await;
}
