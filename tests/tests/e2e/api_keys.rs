//! Merchant API keys across instances: a key revoked with `paygate keys revoke` is refused by
//! every instance from its next request (keys are checked against the database, not cached).

use paygate_tests::{on_both_databases, spawn_app, AppOptions, TestDb};

on_both_databases!(a_revoked_key_is_refused_at_once_by_every_instance);

async fn a_revoked_key_is_refused_at_once_by_every_instance(db: TestDb) {
    let mut first = spawn_app(&db, AppOptions::default()).await;
    let mut second = spawn_app(&db, AppOptions::default()).await;
    let (key, record) = paygate::auth::create_key(&first.state.db, "backend", false, 0)
        .await
        .unwrap();
    let (other, _) = paygate::auth::create_key(&first.state.db, "reports", false, 0)
        .await
        .unwrap();
    for app in [&mut first, &mut second] {
        app.key = key.clone();
        assert_eq!(app.get("/v1/payments").await.status(), 200);
    }

    let outcome = paygate::auth::revoke_key(&second.state.db, &record.id, 1)
        .await
        .unwrap();
    assert_eq!(outcome, paygate::auth::Revocation::Revoked);
    for app in [&mut first, &mut second] {
        let refused = app.get("/v1/payments").await;
        assert_eq!(refused.status(), 401);
        // Another key is untouched.
        app.key = other.clone();
        assert_eq!(app.get("/v1/payments").await.status(), 200);
    }
    assert_eq!(
        first
            .count("SELECT COUNT(*) FROM admin_audit WHERE action = 'api_key_revoked'")
            .await,
        1
    );
    first.stop().await;
    second.stop().await;
}
