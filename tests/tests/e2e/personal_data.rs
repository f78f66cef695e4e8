//! Personal data at rest, on both databases: nothing a customer or a provider tells paygate
//! about a person is stored readable (customer columns, stored idempotent answers, provider
//! webhook bodies), found by scanning every column of every table; and `paygate keys
//! rotate-data-key` moves every encrypted value to a new data key while paygate serves, after
//! which the new key alone reads everything and the old key alone is refused at start-up.

use paygate::config::{Config, EMULATOR_STRIPE_WEBHOOK_SECRET};
use paygate::db::{Backend, Db};
use paygate::inbox::store::state_of;
use paygate::key_rotation::{self, Report};
use paygate::startup::{Application, Options};
use paygate_tests::admin::{create_admin, AdminClient};
use paygate_tests::app::json_with_status;
use paygate_tests::webhooks_in::{processed, stripe_signature};
use paygate_tests::{on_both_databases, spawn_app, AppOptions, TestApp, TestDb};
use rand::Rng;
use serde_json::{json, Value};
use shared::api::ProviderName;
use sqlx::Row;
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

on_both_databases!(
    no_personal_data_is_stored_readable,
    a_data_key_rotation_moves_every_value_while_serving,
);

/// `pii<random hex>`: a marker no table holds by chance.
fn marker() -> String {
    format!(
        "pii{:012x}",
        rand::thread_rng().gen::<u64>() & 0xffff_ffff_ffff
    )
}

fn random_key() -> String {
    let key: [u8; 32] = rand::thread_rng().gen();
    hex::encode(key)
}

/// Every column of every table (as the database lists them) whose text contains `needle`,
/// ignoring case, as `table.column`.
async fn columns_containing(db: &Db, needle: &str) -> Vec<String> {
    let columns: Vec<(String, String)> = match db.backend {
        Backend::Sqlite => {
            let tables: Vec<String> = sqlx::query_scalar(
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'",
            )
            .fetch_all(&db.pool)
            .await
            .unwrap();
            let mut all = Vec::new();
            for table in tables {
                let names: Vec<String> =
                    sqlx::query_scalar(&format!("SELECT name FROM pragma_table_info('{table}')"))
                        .fetch_all(&db.pool)
                        .await
                        .unwrap();
                all.extend(names.into_iter().map(|c| (table.clone(), c)));
            }
            all
        }
        Backend::Postgres => sqlx::query(
            "SELECT table_name::text AS t, column_name::text AS c FROM information_schema.columns \
             WHERE table_schema = current_schema()",
        )
        .fetch_all(&db.pool)
        .await
        .unwrap()
        .iter()
        .map(|r| (r.get("t"), r.get("c")))
        .collect(),
    };
    assert!(columns.len() > 50, "the scan saw the schema: {columns:?}");
    let like = match db.backend {
        Backend::Sqlite => "LIKE",
        Backend::Postgres => "ILIKE",
    };
    let mut found = Vec::new();
    for (table, column) in columns {
        let n: i64 = sqlx::query_scalar(&format!(
            "SELECT COUNT(*) FROM \"{table}\" WHERE CAST(\"{column}\" AS TEXT) {like} $1"
        ))
        .bind(format!("%{needle}%"))
        .fetch_one(&db.pool)
        .await
        .unwrap();
        if n > 0 {
            found.push(format!("{table}.{column}"));
        }
    }
    found
}

/// Delivers a signed Stripe event about the PaymentIntent `pi` carrying a receipt email and a
/// shipping name, as Stripe's `payment_intent.*` events do, and waits until it is processed.
async fn deliver_event_with(app: &TestApp, event_id: &str, pi: &str, email: &str, name: &str) {
    let body = json!({
        "id": event_id, "object": "event", "type": "payment_intent.processing",
        "api_version": "2024-06-20", "livemode": false,
        "data": { "object": {
            "id": pi, "object": "payment_intent", "status": "processing", "amount": 1200,
            "amount_received": 0, "currency": "usd", "receipt_email": email,
            "shipping": { "name": name, "address": { "line1": "1 Market St", "city": "San Francisco",
                          "postal_code": "94105", "country": "US" } }
        } }
    })
    .to_string();
    let res = app
        .client
        .post(format!("{}/webhooks/stripe", app.url))
        .header(
            "Stripe-Signature",
            stripe_signature(
                EMULATOR_STRIPE_WEBHOOK_SECRET,
                app.state.clock.now_secs(),
                &body,
            ),
        )
        .body(body)
        .send()
        .await
        .unwrap();
    json_with_status(res, 200).await;
    processed(app, ProviderName::Stripe, event_id).await;
}

async fn no_personal_data_is_stored_readable(db: TestDb) {
    let app = spawn_app(&db, AppOptions::default()).await;
    let (email, name) = (
        format!("{}@example.com", marker()),
        format!("Ada {}", marker()),
    );
    // The merchant creates a customer with an Idempotency-Key, and retries: the stored answer
    // is replayed, email and name included.
    let body = json!({ "email": email, "name": name });
    let created = json_with_status(app.post_idem("/v1/customers", &body, "pii-1").await, 201).await;
    assert_eq!(
        (created["email"].as_str(), created["name"].as_str()),
        (Some(&*email), Some(&*name))
    );
    let retry = app.post_idem("/v1/customers", &body, "pii-1").await;
    assert_eq!(retry.headers()["idempotent-replayed"], "true");
    assert_eq!(json_with_status(retry, 201).await, created);

    // A provider webhook about a payment, carrying a buyer's email and name.
    let (payment, pi) = app.new_stripe_payment().await;
    let (payer_email, payer_name) = (
        format!("{}@example.net", marker()),
        format!("Grace {}", marker()),
    );
    deliver_event_with(&app, "evt_pii_1", &pi, &payer_email, &payer_name).await;
    let stored = state_of(&app.state.db, ProviderName::Stripe, "evt_pii_1")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored.payment_id.as_deref(), Some(&*payment), "{stored:?}");

    // The signed-in admin still reads the event as it came.
    create_admin(&app, "ops@shop.example").await;
    let admin =
        AdminClient::sign_in(&app, "ops@shop.example", paygate_tests::admin::PASSWORD).await;
    let detail = admin
        .get_json(&format!("/admin/api/payments/{payment}"))
        .await;
    let events = detail["provider_events"].as_array().unwrap();
    let event = events
        .iter()
        .find(|e| e["event_id"] == "evt_pii_1")
        .unwrap();
    assert_eq!(
        event["payload"]["data"]["object"]["receipt_email"],
        payer_email.as_str()
    );
    assert_eq!(
        event["payload"]["data"]["object"]["shipping"]["name"],
        payer_name.as_str()
    );

    // Not one column of one table holds any of them readable...
    for needle in [&email, &name, &payer_email, &payer_name] {
        let leak = needle
            .split(['@', ' '])
            .find(|p| p.starts_with("pii"))
            .unwrap();
        assert_eq!(
            columns_containing(&app.state.db, leak).await,
            Vec::<String>::new(),
            "{needle} is stored readable ({})",
            db.backend
        );
    }
    // ...while the same scan finds what is stored readable on purpose.
    let customer_id = created["id"].as_str().unwrap();
    assert!(columns_containing(&app.state.db, customer_id)
        .await
        .contains(&"customers.id".to_string()));
    assert!(columns_containing(&app.state.db, "evt_pii_1")
        .await
        .contains(&"provider_events.event_id".to_string()));
    app.stop().await;
}

/// The configuration variables for an app on `db` with these data keys.
fn keys(current: &str, previous: Option<&str>) -> AppOptions {
    let mut vars = vec![("PAYGATE_DATA_KEY", current.to_string())];
    if let Some(previous) = previous {
        vars.push(("PAYGATE_DATA_KEYS_PREVIOUS", previous.to_string()));
    }
    AppOptions {
        vars,
        ..AppOptions::default()
    }
}

fn rotated(report: &Report, table: &str, column: &str) -> u64 {
    report
        .columns
        .iter()
        .filter(|c| c.table == table && c.column == column)
        .map(|c| c.rotated)
        .sum()
}

async fn a_data_key_rotation_moves_every_value_while_serving(db: TestDb) {
    let (old_key, new_key) = (random_key(), random_key());

    // Before: every kind of encrypted value, written under the old key.
    let app = spawn_app(&db, keys(&old_key, None)).await;
    let ada = json!({ "email": "ada@example.com", "name": "Ada Lovelace" });
    let grace = json!({ "email": "grace@example.com", "name": "Grace Hopper" });
    let ada_created =
        json_with_status(app.post_idem("/v1/customers", &ada, "rot-1").await, 201).await;
    let grace_created =
        json_with_status(app.post_idem("/v1/customers", &grace, "rot-2").await, 201).await;
    let session = app
        .create_session(
            &json!({ "amount": "5.00", "currency": "USD", "customer_email": "buyer@example.com" }),
        )
        .await;
    let endpoint = json_with_status(
        app.post(
            "/v1/webhook_endpoints",
            &json!({ "url": "http://127.0.0.1:9/hooks", "enabled_events": ["payment.created"] }),
        )
        .await,
        201,
    )
    .await;
    let endpoint_id = endpoint["id"].as_str().unwrap().to_string();
    let old_secret = endpoint["secret"].as_str().unwrap().to_string();
    let new_secret = json_with_status(
        app.post(
            &format!("/v1/webhook_endpoints/{endpoint_id}/rotate_secret"),
            &json!({}),
        )
        .await,
        200,
    )
    .await["secret"]
        .as_str()
        .unwrap()
        .to_string();
    let (_, pi) = app.new_stripe_payment().await;
    deliver_event_with(&app, "evt_rot_1", &pi, "payer1@example.net", "Payer One").await;
    deliver_event_with(&app, "evt_rot_2", &pi, "payer2@example.net", "Payer Two").await;
    // And values as versions before these columns were encrypted left them: in plaintext.
    let cipher = app.state.cipher.clone();
    for (table, column, context, key_column, key) in [
        (
            "provider_events",
            "payload",
            paygate::inbox::store::PAYLOAD_CONTEXT,
            "event_id",
            "evt_rot_2",
        ),
        (
            "idempotency_keys",
            "response_body",
            paygate::http::idempotency::RESPONSE_CONTEXT,
            "idempotency_key",
            "rot-2",
        ),
    ] {
        let stored: String = sqlx::query_scalar(&format!(
            "SELECT {column} FROM {table} WHERE {key_column} = $1"
        ))
        .bind(key)
        .fetch_one(&app.state.db.pool)
        .await
        .unwrap();
        let plain = cipher.decrypt(&stored, context).unwrap();
        sqlx::query(&format!(
            "UPDATE {table} SET {column} = $1 WHERE {key_column} = $2"
        ))
        .bind(plain)
        .bind(key)
        .execute(&app.state.db.pool)
        .await
        .unwrap();
    }
    let demo_shop_registered = app
        .count("SELECT COUNT(*) FROM settings WHERE key = 'demo_shop.webhook_endpoint'")
        .await;
    app.stop().await;

    // During: the new key encrypts, the old one still decrypts; merchants keep creating
    // customers while the rotation runs in small batches.
    let app = spawn_app(&db, keys(&new_key, Some(&old_key))).await;
    let read = json_with_status(
        app.get(&format!(
            "/v1/customers/{}",
            ada_created["id"].as_str().unwrap()
        ))
        .await,
        200,
    )
    .await;
    assert_eq!(read["email"], "ada@example.com");
    let found = paygate::customers::repo::find_by_email(
        &app.state.db,
        &app.state.cipher,
        "ADA@example.com",
    )
    .await
    .unwrap();
    assert_eq!(found.len(), 1, "found through the old key's index");
    let replay = app.post_idem("/v1/customers", &grace, "rot-2").await;
    assert_eq!(
        json_with_status(replay, 201).await,
        grace_created,
        "a plaintext answer still replays"
    );

    let stop = Arc::new(AtomicBool::new(false));
    let writer = {
        let (client, url, key, stop) = (
            app.client.clone(),
            app.url.clone(),
            app.key.clone(),
            stop.clone(),
        );
        tokio::spawn(async move {
            let mut made = Vec::new();
            while !stop.load(Ordering::SeqCst) || made.len() < 3 {
                let n = made.len();
                let res = client
                    .post(format!("{url}/v1/customers"))
                    .bearer_auth(&key)
                    .json(&json!({ "email": format!("during{n}@example.com"), "name": format!("During {n}") }))
                    .send()
                    .await
                    .unwrap();
                assert_eq!(res.status(), 201);
                let body: Value = res.json().await.unwrap();
                made.push(body["id"].as_str().unwrap().to_string());
            }
            made
        })
    };
    let options = key_rotation::Options {
        batch_size: 2,
        dry_run: false,
    };
    let report = key_rotation::rotate(&app.state.db, &app.state.cipher, options)
        .await
        .unwrap();
    stop.store(true, Ordering::SeqCst);
    let during = writer.await.unwrap();
    assert_eq!(report.failed(), 0, "{report:?}");
    assert_eq!(report.left_changing, 0, "{report:?}");
    for (table, column, at_least) in [
        ("customers", "email_ciphertext", 2),
        ("customers", "name_ciphertext", 2),
        ("checkout_sessions", "customer_email_ciphertext", 1),
        ("webhook_endpoints", "secret_ciphertext", 1),
        ("webhook_endpoints", "previous_secret_ciphertext", 1),
        ("provider_events", "payload", 2),
        ("idempotency_keys", "response_body", 2),
        ("settings", "value", 1 + demo_shop_registered as u64),
    ] {
        assert!(
            rotated(&report, table, column) >= at_least,
            "{table}.{column}: {report:?}"
        );
    }
    app.stop().await;

    // After: the new key alone reads everything, including what was written meanwhile.
    let app = spawn_app(&db, keys(&new_key, None)).await;
    let left = key_rotation::rotate(
        &app.state.db,
        &app.state.cipher,
        key_rotation::Options {
            batch_size: 100,
            dry_run: true,
        },
    )
    .await
    .unwrap();
    assert!(
        left.complete(true),
        "nothing left under the old key: {left:?}"
    );
    for (i, id) in during.iter().enumerate() {
        let c = json_with_status(app.get(&format!("/v1/customers/{id}")).await, 200).await;
        assert_eq!(c["email"], format!("during{i}@example.com"));
    }
    for (body, key, created) in [
        (&ada, "rot-1", &ada_created),
        (&grace, "rot-2", &grace_created),
    ] {
        let replay = app.post_idem("/v1/customers", body, key).await;
        assert_eq!(replay.headers()["idempotent-replayed"], "true");
        assert_eq!(&json_with_status(replay, 201).await, created);
    }
    let found = paygate::customers::repo::find_by_email(
        &app.state.db,
        &app.state.cipher,
        "grace@EXAMPLE.com",
    )
    .await
    .unwrap();
    assert_eq!(found.len(), 1, "re-indexed under the new key");
    let s = json_with_status(
        app.get(&format!(
            "/v1/checkout/sessions/{}",
            session["id"].as_str().unwrap()
        ))
        .await,
        200,
    )
    .await;
    assert_eq!(s["customer_email"], "buyer@example.com");
    let index: String =
        sqlx::query_scalar("SELECT customer_email_index FROM checkout_sessions WHERE id = $1")
            .bind(session["id"].as_str().unwrap())
            .fetch_one(&app.state.db.pool)
            .await
            .unwrap();
    assert_eq!(index, app.state.cipher.email_index("buyer@example.com"));
    let record = paygate::merchant_webhooks::repo::get(&app.state.db, &endpoint_id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        paygate::merchant_webhooks::relay::signing_secrets(&app.state, &record),
        vec![new_secret, old_secret],
        "both signing secrets decrypt"
    );
    // Every stored provider event (the emulator's own deliveries too) reads back.
    let events: Vec<(i64, String)> =
        sqlx::query_as("SELECT id, event_id FROM provider_events ORDER BY id")
            .fetch_all(&app.state.db.pool)
            .await
            .unwrap();
    let mut ours = Vec::new();
    for (id, event_id) in &events {
        let event = paygate::inbox::store::load(&app.state.db, &app.state.cipher, *id)
            .await
            .unwrap();
        let payload = event.payload.expect("decrypts with the new key alone");
        if event_id.starts_with("evt_rot_") {
            ours.push((event_id.clone(), payload));
        }
    }
    assert_eq!(ours.len(), 2);
    for ((event_id, payload), email) in ours
        .iter()
        .zip(["payer1@example.net", "payer2@example.net"])
    {
        assert!(payload.contains(email), "{event_id}: {payload}");
    }
    app.stop().await;

    // And the old key alone is refused at start-up, naming the key the data is under.
    let mut vars = BTreeMap::new();
    for (k, v) in [
        ("DATABASE_URL", db.url.clone()),
        ("PAYGATE_LISTEN", "127.0.0.1:0".into()),
        ("PAYGATE_SANDBOX_LISTEN", "127.0.0.1:0".into()),
        ("PAYGATE_DATA_KEY", old_key.clone()),
    ] {
        vars.insert(k.to_string(), v);
    }
    let config = Config::from_vars(&vars).unwrap();
    let new_id = paygate::crypto::DataKey::from_hex(&new_key).unwrap().id();
    let refused = match Application::build(config, Options::default()).await {
        Ok(_) => panic!("the old key alone must be refused"),
        Err(e) => format!("{e:#}"),
    };
    assert!(
        refused.contains("PAYGATE_DATA_KEY") && refused.contains(&new_id),
        "{refused}"
    );
}
