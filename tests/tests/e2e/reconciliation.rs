//! Reconciliation: a payment whose webhook was lost, or whose creation answer never came back,
//! is settled by re-reading the provider, and what follows from it (a paid checkout session
//! completed, never expired) happens as on every other path. On SQLite and PostgreSQL.

use paygate::checkout::expiry;
use paygate::payments::timeline::{self, TimelineEntry};
use paygate::payments::{repo, Cause, PaymentRecord};
use paygate::reconcile::reconcile_once;
use paygate_tests::app::json_with_status;
use paygate_tests::{on_both_databases, spawn_app, AppOptions, TestApp, TestDb, TestProvider};
use serde_json::{json, Value};
use shared::api::{CaptureMode, PaymentStatus, ProviderName};
use shared::{Currency, Money};
use std::sync::Arc;
use std::time::Duration;

on_both_databases!(
    a_lost_webhook_is_made_up_for,
    a_lost_creation_answer_is_recovered_without_a_second_object,
    a_paid_session_whose_browser_and_webhook_were_lost_is_completed_by_reconciliation,
    a_manual_capture_session_keeps_its_authorisation_when_only_reconciliation_saw_it,
    a_session_paid_just_before_its_deadline_is_completed_not_expired,
    an_interrupted_give_back_is_finished_by_reconciliation
);

async fn a_lost_webhook_is_made_up_for(db: TestDb) {
    let provider = Arc::new(TestProvider::new(ProviderName::Paypal));
    let app = spawn_app(
        &db,
        AppOptions {
            providers: vec![provider.clone()],
            ..AppOptions::default()
        },
    )
    .await;
    let p = json_with_status(
        app.post(
            "/v1/payments",
            &json!({ "provider": "paypal", "amount": "9.00", "currency": "EUR" }),
        )
        .await,
        201,
    )
    .await;
    let id = p["id"].as_str().unwrap();
    // The provider moves on; its webhook never arrives.
    provider
        .set_state(
            p["provider_reference"].as_str().unwrap(),
            PaymentStatus::Succeeded,
            Some(900),
        )
        .unwrap();
    assert_eq!(
        reconcile_once(&app.state).await.unwrap(),
        0,
        "not idle long enough yet"
    );
    app.state.clock.advance(Duration::from_secs(16 * 60));
    assert_eq!(reconcile_once(&app.state).await.unwrap(), 1);
    let after = json_with_status(app.get(&format!("/v1/payments/{id}")).await, 200).await;
    assert_eq!(after["status"], "succeeded");
    assert_eq!(after["captured_minor"], 900);
    let last = paygate::payments::timeline::list(&app.state.db, id)
        .await
        .unwrap()
        .pop()
        .unwrap();
    assert_eq!(last.cause, "reconciliation");
    // Terminal now: not looked at again.
    app.state.clock.advance(Duration::from_secs(16 * 60));
    assert_eq!(reconcile_once(&app.state).await.unwrap(), 0);
    app.stop().await;
}

async fn a_lost_creation_answer_is_recovered_without_a_second_object(db: TestDb) {
    let provider = Arc::new(TestProvider::new(ProviderName::Paypal));
    let app = spawn_app(
        &db,
        AppOptions {
            providers: vec![provider.clone()],
            ..AppOptions::default()
        },
    )
    .await;
    // The row was written, then the process died before the provider's answer was recorded.
    let now = app.state.clock.now_ms();
    let record = stored(
        Money::from_minor(700, Currency::from_code("USD").unwrap()),
        PaymentStatus::RequiresPaymentMethod,
        None,
        None,
        now,
    );
    let mut tx = app.state.db.begin_write().await.unwrap();
    repo::insert(&mut tx, &record, Cause::Api).await.unwrap();
    tx.commit().await.unwrap();
    // ...after the provider had created its object (the answer was lost on the way back).
    use paygate::providers::{CreateRequest, PaymentProvider};
    let made = provider
        .create_payment(&CreateRequest {
            payment_id: record.id.clone(),
            money: record.money,
            capture_mode: CaptureMode::Automatic,
            description: None,
            metadata: Default::default(),
            return_url: None,
            stripe_customer: None,
            setup_future_usage: false,
            off_session_payment_method: None,
            idempotency_key: format!("{}-create", record.id),
        })
        .await
        .unwrap();
    app.state.clock.advance(Duration::from_secs(16 * 60));
    reconcile_once(&app.state).await.unwrap();
    reconcile_once(&app.state).await.unwrap();
    let after = repo::get(&app.state.db, &record.id).await.unwrap().unwrap();
    assert_eq!(after.provider_reference, Some(made.reference));
    assert_eq!(
        provider.objects(),
        1,
        "the creation was replayed with the same key, not repeated"
    );
    app.stop().await;
}

/// paygate with Stripe's emulator whose webhooks paygate rejects (another endpoint secret): the
/// webhook is lost as surely as if it never came.
async fn app_without_webhooks(db: &TestDb) -> TestApp {
    spawn_app(
        db,
        AppOptions {
            vars: vec![("STRIPE_WEBHOOK_SECRET", "whsec_not_the_emulators".into())],
            ..AppOptions::default()
        },
    )
    .await
}

/// A checkout paid by card in the browser, whose browser then never reports back.
async fn paid_and_abandoned(app: &TestApp, session: Value) -> (String, String) {
    let s = app.create_session(&session).await;
    let sid = s["id"].as_str().unwrap().to_string();
    let intent = json_with_status(app.widget_post(&sid, "stripe/intent").await, 200).await;
    let pi = app
        .stripe_js_confirm(intent["client_secret"].as_str().unwrap(), "pm_card_visa")
        .await;
    assert!(
        pi["status"] == "succeeded" || pi["status"] == "requires_capture",
        "{pi}"
    );
    (sid, intent["payment"].as_str().unwrap().to_string())
}

async fn session_of(app: &TestApp, sid: &str) -> Value {
    json_with_status(app.get(&format!("/v1/checkout/sessions/{sid}")).await, 200).await
}

fn entry<'a>(timeline: &'a [TimelineEntry], kind: &str) -> &'a TimelineEntry {
    timeline
        .iter()
        .find(|t| t.kind == kind)
        .unwrap_or_else(|| panic!("no {kind} entry in {timeline:#?}"))
}

async fn a_paid_session_whose_browser_and_webhook_were_lost_is_completed_by_reconciliation(
    db: TestDb,
) {
    let app = app_without_webhooks(&db).await;
    let (sid, pid) = paid_and_abandoned(
        &app,
        json!({ "amount": "20.00", "currency": "USD", "expires_in": 3600 }),
    )
    .await;
    assert_eq!(session_of(&app, &sid).await["status"], "open");

    app.state
        .clock
        .advance(app.state.config.reconcile_after + Duration::from_secs(1));
    reconcile_once(&app.state).await.unwrap();
    let session = session_of(&app, &sid).await;
    assert_eq!(session["status"], "complete", "{session}");
    assert_eq!(session["payment"]["id"], pid.as_str());
    assert_eq!(session["payment"]["status"], "succeeded");
    let timeline = timeline::list(&app.state.db, &pid).await.unwrap();
    assert_eq!(
        entry(&timeline, "completed_session").cause,
        "reconciliation"
    );

    // Past the session's deadline the sweep leaves the paid session alone.
    app.state.clock.advance(Duration::from_secs(2 * 3600));
    assert_eq!(expiry::sweep(&app.state).await.unwrap(), 0);
    assert_eq!(session_of(&app, &sid).await["status"], "complete");
    assert_eq!(
        app.count("SELECT COUNT(*) FROM events WHERE type = 'checkout.session.completed'")
            .await,
        1
    );
    assert_eq!(app.count("SELECT COUNT(*) FROM refunds").await, 0);
    app.stop().await;
}

async fn a_manual_capture_session_keeps_its_authorisation_when_only_reconciliation_saw_it(
    db: TestDb,
) {
    let app = app_without_webhooks(&db).await;
    let (sid, pid) = paid_and_abandoned(
        &app,
        json!({ "amount": "30.00", "currency": "EUR", "expires_in": 3600, "capture_mode": "manual" }),
    )
    .await;
    app.state
        .clock
        .advance(app.state.config.reconcile_after + Duration::from_secs(1));
    reconcile_once(&app.state).await.unwrap();
    assert_eq!(session_of(&app, &sid).await["status"], "complete");

    app.state.clock.advance(Duration::from_secs(2 * 3600));
    assert_eq!(expiry::sweep(&app.state).await.unwrap(), 0);
    let payment = json_with_status(app.get(&format!("/v1/payments/{pid}")).await, 200).await;
    assert_eq!(payment["status"], "requires_capture");
    let pi = app
        .stripe
        .as_ref()
        .unwrap()
        .payment_intent(payment["provider_reference"].as_str().unwrap())
        .unwrap();
    assert_eq!(
        pi["status"], "requires_capture",
        "the authorisation survives at Stripe"
    );
    // And the merchant can still capture it.
    let captured = json_with_status(
        app.post(&format!("/v1/payments/{pid}/capture"), &json!({}))
            .await,
        200,
    )
    .await;
    assert_eq!(captured["status"], "succeeded");
    app.stop().await;
}

/// The deadline passes before reconciliation's: the expiry sweep asks Stripe first, finds the
/// payment made in time, and completes the session instead of expiring it.
async fn a_session_paid_just_before_its_deadline_is_completed_not_expired(db: TestDb) {
    let app = app_without_webhooks(&db).await;
    let (sid, pid) = paid_and_abandoned(
        &app,
        json!({ "amount": "5.00", "currency": "USD", "expires_in": 60 }),
    )
    .await;
    app.state.clock.advance(Duration::from_secs(61));
    assert_eq!(expiry::sweep(&app.state).await.unwrap(), 0);
    let session = session_of(&app, &sid).await;
    assert_eq!(session["status"], "complete", "{session}");
    let timeline = timeline::list(&app.state.db, &pid).await.unwrap();
    assert_eq!(entry(&timeline, "completed_session").cause, "expiry");
    assert_eq!(app.count("SELECT COUNT(*) FROM refunds").await, 0);
    app.stop().await;
}

/// Who changed a payment is on its timeline: the widget created and completed one, the
/// merchant API another, a webhook completed a third.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_timeline_names_the_actor_of_each_change() {
    let db = TestDb::sqlite().await;
    let app = spawn_app(&db, AppOptions::default()).await;

    let s = app
        .create_session(&json!({ "amount": "7.00", "currency": "USD" }))
        .await;
    let sid = s["id"].as_str().unwrap();
    let intent = json_with_status(app.widget_post(sid, "stripe/intent").await, 200).await;
    app.stripe_js_confirm(intent["client_secret"].as_str().unwrap(), "pm_card_visa")
        .await;
    json_with_status(app.widget_post(sid, "stripe/complete").await, 200).await;
    let by_widget = timeline::list(&app.state.db, intent["payment"].as_str().unwrap())
        .await
        .unwrap();
    assert_eq!(entry(&by_widget, "created").cause, "widget");
    // The browser's report or the webhook, whichever came first, completed the session.
    let completed = entry(&by_widget, "completed_session").cause.clone();
    assert!(
        completed == "widget" || completed == "webhook",
        "{completed}"
    );

    let p = json_with_status(
        app.post(
            "/v1/payments",
            &json!({ "provider": "stripe", "amount": "3.00", "currency": "USD" }),
        )
        .await,
        201,
    )
    .await;
    let by_api = timeline::list(&app.state.db, p["id"].as_str().unwrap())
        .await
        .unwrap();
    assert_eq!(entry(&by_api, "created").cause, "api");

    let s = app
        .create_session(&json!({ "amount": "9.00", "currency": "USD" }))
        .await;
    let sid = s["id"].as_str().unwrap().to_string();
    let intent = json_with_status(app.widget_post(&sid, "stripe/intent").await, 200).await;
    app.stripe_js_confirm(intent["client_secret"].as_str().unwrap(), "pm_card_visa")
        .await;
    let app_ref = &app;
    paygate_tests::app::eventually(
        "session completed by webhook",
        Duration::from_secs(15),
        || {
            let sid = sid.clone();
            async move { session_of(app_ref, &sid).await["status"] == "complete" }
        },
    )
    .await;
    let by_webhook = timeline::list(&app.state.db, intent["payment"].as_str().unwrap())
        .await
        .unwrap();
    assert_eq!(entry(&by_webhook, "completed_session").cause, "webhook");
    app.stop().await;
}

/// A payment row as paygate writes it, for states a test reaches by interrupting paygate.
fn stored(
    money: Money,
    status: PaymentStatus,
    provider_reference: Option<String>,
    checkout_session_id: Option<String>,
    now: i64,
) -> PaymentRecord {
    let captured = if status == PaymentStatus::Succeeded {
        money.minor()
    } else {
        0
    };
    PaymentRecord {
        id: paygate::ids::new_id("pay"),
        provider: ProviderName::Paypal,
        provider_reference,
        provider_authorization: None,
        provider_capture: None,
        status,
        money,
        captured_minor: captured,
        refunded_minor: 0,
        disputed_minor: 0,
        capture_mode: CaptureMode::Automatic,
        description: None,
        customer_id: None,
        checkout_session_id,
        payment_link_id: None,
        last_error: None,
        next_action: None,
        payment_method_id: None,
        metadata: Default::default(),
        created_at: now,
        updated_at: now,
    }
}

/// Two payments paid one session; the second's success was recorded, then paygate died before
/// giving it back. Reconciliation finds it and refunds it, once.
async fn an_interrupted_give_back_is_finished_by_reconciliation(db: TestDb) {
    use paygate::payments::service::{self, NewPayment};
    use paygate::providers::{CreateRequest, PaymentProvider};
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
        .create_session(&json!({ "amount": "6.00", "currency": "USD", "providers": ["paypal"] }))
        .await;
    let sid = s["id"].as_str().unwrap().to_string();
    let money = Money::from_minor(600, Currency::from_code("USD").unwrap());
    let first = service::create(
        &app.state,
        NewPayment {
            provider: ProviderName::Paypal,
            money,
            capture_mode: CaptureMode::Automatic,
            description: None,
            customer: None,
            metadata: Default::default(),
            return_url: None,
            checkout_session: Some(sid.clone()),
            payment_link: None,
            payment_method: None,
            cause: Cause::Widget,
            id: None,
        },
    )
    .await
    .unwrap()
    .payment;
    assert_eq!(
        session_of(&app, &sid).await["payment"]["id"],
        first.id.as_str()
    );

    let now = app.state.clock.now_ms();
    let second = stored(
        money,
        PaymentStatus::Succeeded,
        None,
        Some(sid.clone()),
        now,
    );
    let made = provider
        .create_payment(&CreateRequest {
            payment_id: second.id.clone(),
            money,
            capture_mode: CaptureMode::Automatic,
            description: None,
            metadata: Default::default(),
            return_url: None,
            stripe_customer: None,
            setup_future_usage: false,
            off_session_payment_method: None,
            idempotency_key: format!("{}-create", second.id),
        })
        .await
        .unwrap();
    let second = PaymentRecord {
        provider_reference: Some(made.reference),
        ..second
    };
    let mut tx = app.state.db.begin_write().await.unwrap();
    repo::insert(&mut tx, &second, Cause::Widget).await.unwrap();
    tx.commit().await.unwrap();
    assert_eq!(provider.refund_calls(), 0);

    reconcile_once(&app.state).await.unwrap();
    assert_eq!(provider.refund_calls(), 1);
    let after = json_with_status(app.get(&format!("/v1/payments/{}", second.id)).await, 200).await;
    assert_eq!(after["refunded_minor"], 600);
    let timeline = timeline::list(&app.state.db, &second.id).await.unwrap();
    assert_eq!(
        entry(&timeline, "duplicate_for_session").cause,
        "reconciliation"
    );
    // Done is done: the next passes give nothing back again.
    reconcile_once(&app.state).await.unwrap();
    app.state.clock.advance(Duration::from_secs(3600));
    reconcile_once(&app.state).await.unwrap();
    assert_eq!(provider.refund_calls(), 1);
    let first_after =
        json_with_status(app.get(&format!("/v1/payments/{}", first.id)).await, 200).await;
    assert_eq!(
        first_after["refunded_minor"], 0,
        "the payment that completed the session is kept"
    );
    app.stop().await;
}
