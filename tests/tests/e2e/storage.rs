//! Repository behaviour on both databases: encryption at rest, the blind index, and the state
//! machine applied to stored payments.

use paygate::customers::{repo as customers, NewCustomer};
use paygate::payments::repo::{self as payments, Outcome, Update};
use paygate::payments::{Cause, PaymentRecord};
use paygate_tests::{on_both_databases, spawn_app, AppOptions, TestDb};
use serde_json::json;
use shared::api::{CaptureMode, PaymentStatus, ProviderName};
use shared::{Currency, Money};

on_both_databases!(
    customer_personal_data_is_encrypted_and_searchable_by_email,
    stored_payments_follow_the_state_machine,
    database_constraints_guard_money_columns,
);

async fn customer_personal_data_is_encrypted_and_searchable_by_email(db: TestDb) {
    let app = spawn_app(&db, AppOptions::default()).await;
    let (state, now) = (&app.state, app.state.clock.now_ms());
    let mut tx = state.db.begin_write().await.unwrap();
    let ada = customers::insert(
        &mut tx,
        &state.cipher,
        &NewCustomer {
            email: Some("Ada.Lovelace@Example.com".into()),
            name: Some("Ada Lovelace".into()),
            ..Default::default()
        },
        now,
    )
    .await
    .unwrap();
    customers::insert(
        &mut tx,
        &state.cipher,
        &NewCustomer {
            email: Some("grace@example.com".into()),
            ..Default::default()
        },
        now,
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();

    let (email_ct, name_ct): (String, String) =
        sqlx::query_as("SELECT email_ciphertext, name_ciphertext FROM customers WHERE id = $1")
            .bind(&ada.id)
            .fetch_one(&state.db.pool)
            .await
            .unwrap();
    assert!(
        !email_ct.to_lowercase().contains("ada") && !name_ct.to_lowercase().contains("lovelace")
    );

    let found = customers::find_by_email(&state.db, &state.cipher, "  ada.lovelace@example.COM ")
        .await
        .unwrap();
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].name.as_deref(), Some("Ada Lovelace"));
    assert_eq!(found[0].email.as_deref(), Some("Ada.Lovelace@Example.com"));
    assert!(
        customers::find_by_email(&state.db, &state.cipher, "ada@example.com")
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(
        customers::get(&state.db, &state.cipher, &ada.id)
            .await
            .unwrap(),
        Some(ada)
    );
    app.stop().await;
}

fn payment(now: i64) -> PaymentRecord {
    PaymentRecord {
        id: paygate::ids::new_id("pay"),
        provider: ProviderName::Stripe,
        provider_reference: Some(format!("pi_{now}")),
        provider_authorization: None,
        provider_capture: None,
        status: PaymentStatus::RequiresPaymentMethod,
        money: Money::from_minor(1999, Currency::from_code("USD").unwrap()),
        captured_minor: 0,
        refunded_minor: 0,
        disputed_minor: 0,
        capture_mode: CaptureMode::Manual,
        description: None,
        customer_id: None,
        checkout_session_id: None,
        payment_link_id: None,
        last_error: None,
        next_action: None,
        payment_method_id: None,
        metadata: Default::default(),
        created_at: now,
        updated_at: now,
    }
}

async fn stored_payments_follow_the_state_machine(db: TestDb) {
    let app = spawn_app(&db, AppOptions::default()).await;
    let state = &app.state;
    let p = payment(state.clock.now_ms());
    let mut tx = state.db.begin_write().await.unwrap();
    payments::insert(&mut tx, &p, Cause::Api).await.unwrap();
    tx.commit().await.unwrap();

    let step = |to: PaymentStatus, captured: Option<i64>| Update {
        status: Some(to),
        captured_minor: captured,
        ..Update::default()
    };
    let mut current = p.clone();
    for (to, captured, expected) in [
        (
            PaymentStatus::RequiresAction,
            None,
            Outcome::Transitioned {
                from: PaymentStatus::RequiresPaymentMethod,
                to: PaymentStatus::RequiresAction,
            },
        ),
        (
            PaymentStatus::RequiresCapture,
            None,
            Outcome::Transitioned {
                from: PaymentStatus::RequiresAction,
                to: PaymentStatus::RequiresCapture,
            },
        ),
        (PaymentStatus::RequiresCapture, None, Outcome::Unchanged),
        (
            PaymentStatus::RequiresPaymentMethod,
            None,
            Outcome::Refused {
                from: PaymentStatus::RequiresCapture,
                to: PaymentStatus::RequiresPaymentMethod,
            },
        ),
        (
            PaymentStatus::Succeeded,
            Some(1500),
            Outcome::Transitioned {
                from: PaymentStatus::RequiresCapture,
                to: PaymentStatus::Succeeded,
            },
        ),
        (
            PaymentStatus::Canceled,
            None,
            Outcome::Refused {
                from: PaymentStatus::Succeeded,
                to: PaymentStatus::Canceled,
            },
        ),
        (PaymentStatus::Succeeded, Some(1000), Outcome::Unchanged),
    ] {
        let mut tx = state.db.begin_write().await.unwrap();
        let locked = payments::get_locked(&state.db, &mut tx, &p.id)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(locked, current);
        let (outcome, next) = payments::apply_update(
            &mut tx,
            &locked,
            step(to, captured),
            Cause::Webhook,
            json!({}),
            state.clock.now_ms(),
        )
        .await
        .unwrap();
        tx.commit().await.unwrap();
        assert_eq!(outcome, expected, "-> {to}");
        current = next;
    }
    let stored = payments::get(&state.db, &p.id).await.unwrap().unwrap();
    assert_eq!(stored.status, PaymentStatus::Succeeded);
    assert_eq!(stored.captured_minor, 1500, "captured totals never go down");
    let kinds: Vec<String> = paygate::payments::timeline::list(&state.db, &p.id)
        .await
        .unwrap()
        .into_iter()
        .map(|t| t.kind)
        .collect();
    assert_eq!(
        kinds,
        [
            "created",
            "status_changed",
            "status_changed",
            "transition_refused",
            "status_changed",
            "transition_refused"
        ]
    );
    let events = app
        .count(&format!(
            "SELECT COUNT(*) FROM events WHERE object_id = '{}'",
            p.id
        ))
        .await;
    assert_eq!(events, 4, "created + three transitions");
    app.stop().await;
}

async fn database_constraints_guard_money_columns(db: TestDb) {
    let app = spawn_app(&db, AppOptions::default()).await;
    let state = &app.state;
    let mut bad = payment(state.clock.now_ms());
    bad.money = Money::from_minor(0, Currency::from_code("USD").unwrap());
    let mut tx = state.db.begin_write().await.unwrap();
    assert!(
        payments::insert(&mut tx, &bad, Cause::Api).await.is_err(),
        "zero amount refused"
    );
    tx.rollback().await.unwrap();
    let good = payment(state.clock.now_ms());
    let mut tx = state.db.begin_write().await.unwrap();
    payments::insert(&mut tx, &good, Cause::Api).await.unwrap();
    tx.commit().await.unwrap();
    let over = sqlx::query("UPDATE payments SET captured_minor = amount_minor + 1 WHERE id = $1")
        .bind(&good.id)
        .execute(&state.db.pool)
        .await;
    assert!(over.is_err(), "captured never exceeds the amount");
    let dup = payment(state.clock.now_ms());
    let mut dup = PaymentRecord {
        provider_reference: good.provider_reference.clone(),
        ..dup
    };
    dup.id = paygate::ids::new_id("pay");
    let mut tx = state.db.begin_write().await.unwrap();
    let err = payments::insert(&mut tx, &dup, Cause::Api)
        .await
        .unwrap_err();
    assert!(
        paygate::db::is_unique_violation(&err),
        "one payment per provider object: {err}"
    );
    // Ended before the app stops: an open write transaction holds SQLite's write lock (and the
    // process's write turn), which the background jobs finishing their work would wait for.
    tx.rollback().await.unwrap();
    app.stop().await;
}

/// paygate no longer has sqlx ping every pooled connection before use, only those idle for a
/// second or more (`db::PING_IF_IDLE_FOR`). The pool must still never hand out a connection
/// that PostgreSQL dropped (a restart, `pg_terminate_backend`): every query after the drop
/// runs on a live connection.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connections_the_server_dropped_are_replaced_before_use() {
    let Some(db) = TestDb::postgres().await else {
        return;
    };
    let app = spawn_app(&db, AppOptions::default()).await;
    let pool = &app.state.db.pool;
    // Twelve connections held at once, so the pool keeps twelve.
    let mut held = Vec::new();
    for _ in 0..12 {
        held.push(pool.acquire().await.unwrap());
    }
    drop(held);

    let mut admin = <sqlx::AnyConnection as sqlx::Connection>::connect(&db.url)
        .await
        .unwrap();
    let dropped: Vec<(bool,)> = sqlx::query_as(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
         WHERE datname = current_database() AND pid <> pg_backend_pid()",
    )
    .fetch_all(&mut admin)
    .await
    .unwrap();
    assert!(dropped.len() >= 12, "{} connections dropped", dropped.len());
    tokio::time::sleep(std::time::Duration::from_millis(1_500)).await;

    // Every connection the pool hands out works, although each one it had was dropped.
    let mut again = Vec::new();
    for _ in 0..12 {
        again.push(pool.acquire().await.unwrap());
    }
    for conn in &mut again {
        let one: i32 = sqlx::query_scalar("SELECT 1")
            .fetch_one(&mut **conn)
            .await
            .expect("a connection the server dropped was handed out");
        assert_eq!(one, 1);
    }
    drop(again);
    // And the API answers as before.
    let res = app
        .post(
            "/v1/checkout/sessions",
            &json!({ "amount": "12.00", "currency": "USD" }),
        )
        .await;
    assert_eq!(res.status(), 201);
    app.stop().await;
}
