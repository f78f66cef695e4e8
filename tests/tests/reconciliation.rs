//! Reconciliation: a payment whose webhook was lost, or whose creation answer never came back,
//! is settled by re-reading the provider. On SQLite and PostgreSQL.

use paygate::payments::{repo, Cause, PaymentRecord};
use paygate::reconcile::reconcile_once;
use paygate_tests::app::json_with_status;
use paygate_tests::{on_both_databases, spawn_app, AppOptions, TestDb, TestProvider};
use serde_json::json;
use shared::api::{CaptureMode, PaymentStatus, ProviderName};
use shared::{Currency, Money};
use std::sync::Arc;
use std::time::Duration;

on_both_databases!(
    a_lost_webhook_is_made_up_for,
    a_lost_creation_answer_is_recovered_without_a_second_object
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
    let record = PaymentRecord {
        id: paygate::ids::new_id("pay"),
        provider: ProviderName::Paypal,
        provider_reference: None,
        provider_authorization: None,
        provider_capture: None,
        status: PaymentStatus::RequiresPaymentMethod,
        money: Money::from_minor(700, Currency::from_code("USD").unwrap()),
        captured_minor: 0,
        refunded_minor: 0,
        capture_mode: CaptureMode::Automatic,
        description: None,
        customer_id: None,
        checkout_session_id: None,
        last_error: None,
        next_action: None,
        metadata: Default::default(),
        created_at: now,
        updated_at: now,
    };
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
