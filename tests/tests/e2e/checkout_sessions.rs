//! `POST/GET /v1/checkout/sessions` and `GET /checkout/api/sessions/{id}` over real HTTP, on
//! SQLite and PostgreSQL.

use paygate_tests::app::json_with_status;
use paygate_tests::{on_both_databases, spawn_app, AppOptions, TestDb};
use serde_json::json;
use std::time::Duration;

on_both_databases!(
    amounts_keep_each_currency_exponent,
    line_items_are_summed_by_the_server,
    amounts_no_provider_can_take_are_refused_with_the_reason,
    bad_input_gets_the_envelope_and_changes_nothing,
    unknown_and_expired_sessions,
    customer_email_is_encrypted_at_rest,
    widget_view_reveals_no_secret,
    merchant_api_requires_a_valid_key,
);

async fn amounts_keep_each_currency_exponent(db: TestDb) {
    let app = spawn_app(&db, AppOptions::default()).await;
    for (amount, currency, minor, text) in [
        ("1000", "JPY", 1000, "1000"),
        ("1.230", "KWD", 1230, "1.230"),
        ("0.29", "USD", 29, "0.29"),
        ("19.99", "usd", 1999, "19.99"),
    ] {
        let s = app
            .create_session(
                &json!({ "amount": amount, "currency": currency, "description": "Tea" }),
            )
            .await;
        assert_eq!(s["amount_minor"], minor, "{s}");
        assert_eq!(s["amount"], text);
        assert_eq!(s["currency"], currency.to_uppercase());
        assert_eq!(s["status"], "open");
        let id = s["id"].as_str().unwrap();
        assert!(id.starts_with("cs_") && id.len() >= 27, "{id}");
        assert_eq!(s["url"], format!("{}/checkout/{id}", app.url));
        let fetched =
            json_with_status(app.get(&format!("/v1/checkout/sessions/{id}")).await, 200).await;
        assert_eq!(fetched["amount_minor"], minor);
    }
    app.stop().await;
}

async fn line_items_are_summed_by_the_server(db: TestDb) {
    let app = spawn_app(&db, AppOptions::default()).await;
    let s = app
        .create_session(&json!({
            "currency": "USD",
            "line_items": [
                { "name": "Mug", "unit_amount": "8.10", "quantity": 3 },
                { "name": "Tea", "unit_amount": "0.29", "quantity": 7 }
            ]
        }))
        .await;
    // 3 × 8.10 + 7 × 0.29 = 24.30 + 2.03 = 26.33
    assert_eq!(s["amount_minor"], 2633);
    assert_eq!(s["amount"], "26.33");
    assert_eq!(s["line_items"][0]["total"]["amount_minor"], 2430);
    assert_eq!(s["line_items"][1]["total"]["amount"], "2.03");

    let both = app
        .post("/v1/checkout/sessions", &json!({ "amount": "1.00", "currency": "USD", "line_items": [{ "name": "x", "unit_amount": "1.00", "quantity": 1 }] }))
        .await;
    let e = json_with_status(both, 400).await;
    assert_eq!(e["param"], "amount");
    let zero_qty = app
        .post("/v1/checkout/sessions", &json!({ "currency": "USD", "line_items": [{ "name": "x", "unit_amount": "1.00", "quantity": 0 }] }))
        .await;
    assert_eq!(
        json_with_status(zero_qty, 400).await["param"],
        "line_items[0][quantity]"
    );
    let overflow = app
        .post("/v1/checkout/sessions", &json!({ "currency": "USD", "line_items": [{ "name": "x", "unit_amount": "92233720368547758.07", "quantity": 2 }] }))
        .await;
    assert_eq!(
        json_with_status(overflow, 400).await["code"],
        "invalid_request"
    );
    app.stop().await;
}

async fn amounts_no_provider_can_take_are_refused_with_the_reason(db: TestDb) {
    let app = spawn_app(&db, AppOptions::default()).await;
    // Stripe needs the last KWD digit to be 0 and PayPal has no KWD.
    let e = json_with_status(
        app.post(
            "/v1/checkout/sessions",
            &json!({ "amount": "1.234", "currency": "KWD" }),
        )
        .await,
        400,
    )
    .await;
    assert_eq!(e["code"], "amount_not_supported");
    let detail = e["detail"].as_str().unwrap();
    assert!(detail.contains("KWD"), "{detail}");
    assert!(
        detail.contains("Stripe") && detail.contains("PayPal"),
        "{detail}"
    );

    // 0.10 USD is below Stripe's minimum but PayPal can take it: only PayPal is offered.
    let s = app
        .create_session(&json!({ "amount": "0.10", "currency": "USD" }))
        .await;
    assert_eq!(s["providers"], json!(["paypal"]));
    // Stripe only: refused.
    let e = json_with_status(
        app.post(
            "/v1/checkout/sessions",
            &json!({ "amount": "0.10", "currency": "USD", "providers": ["stripe"] }),
        )
        .await,
        400,
    )
    .await;
    assert_eq!(e["code"], "amount_not_supported");
    // More decimals than the currency has: an error, never rounded.
    let e = json_with_status(
        app.post(
            "/v1/checkout/sessions",
            &json!({ "amount": "1000.5", "currency": "JPY" }),
        )
        .await,
        400,
    )
    .await;
    assert_eq!(e["param"], "amount");
    assert_eq!(app.count("SELECT COUNT(*) FROM checkout_sessions").await, 1);
    app.stop().await;
}

async fn bad_input_gets_the_envelope_and_changes_nothing(db: TestDb) {
    let app = spawn_app(&db, AppOptions::default()).await;
    let unknown = json_with_status(
        app.post(
            "/v1/checkout/sessions",
            &json!({ "amount": "1.00", "currency": "USD", "amout": "2" }),
        )
        .await,
        400,
    )
    .await;
    assert_eq!(unknown["param"], "amout");
    assert!(unknown["type"]
        .as_str()
        .unwrap()
        .ends_with("/invalid_request"));

    let res = app
        .request(reqwest::Method::POST, "/v1/checkout/sessions")
        .header("content-type", "application/json")
        .body("{\"amount\": \"1.00\",")
        .send()
        .await
        .unwrap();
    assert_eq!(json_with_status(res, 400).await["code"], "malformed_json");

    let res = app
        .request(reqwest::Method::POST, "/v1/checkout/sessions")
        .body("amount=1.00")
        .send()
        .await
        .unwrap();
    assert_eq!(
        json_with_status(res, 415).await["code"],
        "unsupported_media_type"
    );

    for (body, param) in [
        (json!({ "amount": "1.00", "currency": "XYZ" }), "currency"),
        (json!({ "amount": "-1.00", "currency": "USD" }), "amount"),
        (json!({ "amount": "1e3", "currency": "USD" }), "amount"),
        (json!({ "amount": "0", "currency": "USD" }), "amount"),
        (
            json!({ "amount": "1.00", "currency": "USD", "customer_email": "not-an-email" }),
            "customer_email",
        ),
        (
            json!({ "amount": "1.00", "currency": "USD", "success_url": "javascript:alert(1)" }),
            "success_url",
        ),
        (
            json!({ "amount": "1.00", "currency": "USD", "expires_in": 5 }),
            "expires_in",
        ),
        (
            json!({ "amount": "1.00", "currency": "USD", "providers": [] }),
            "providers",
        ),
    ] {
        let e = json_with_status(app.post("/v1/checkout/sessions", &body).await, 400).await;
        assert_eq!(e["param"], param, "{body} -> {e}");
    }
    let big = "x".repeat(70 * 1024);
    let res = app
        .post(
            "/v1/checkout/sessions",
            &json!({ "amount": "1.00", "currency": "USD", "description": big }),
        )
        .await;
    assert_eq!(res.status(), 413);
    assert_eq!(app.count("SELECT COUNT(*) FROM checkout_sessions").await, 0);
    app.stop().await;
}

async fn unknown_and_expired_sessions(db: TestDb) {
    let app = spawn_app(&db, AppOptions::default()).await;
    let e = json_with_status(
        app.get("/v1/checkout/sessions/cs_doesnotexist000000000000")
            .await,
        404,
    )
    .await;
    assert_eq!(e["code"], "resource_missing");
    let w = app
        .client
        .get(format!("{}/checkout/api/sessions/cs_nope", app.url))
        .send()
        .await
        .unwrap();
    assert_eq!(json_with_status(w, 404).await["code"], "resource_missing");

    let s = app
        .create_session(&json!({ "amount": "5.00", "currency": "EUR", "expires_in": 60 }))
        .await;
    let id = s["id"].as_str().unwrap();
    app.state.clock.advance(Duration::from_secs(61));
    let fetched =
        json_with_status(app.get(&format!("/v1/checkout/sessions/{id}")).await, 200).await;
    assert_eq!(fetched["status"], "expired");
    let w = app
        .client
        .get(format!("{}/checkout/api/sessions/{id}", app.url))
        .send()
        .await
        .unwrap();
    assert_eq!(json_with_status(w, 200).await["status"], "expired");
    app.stop().await;
}

async fn customer_email_is_encrypted_at_rest(db: TestDb) {
    let app = spawn_app(&db, AppOptions::default()).await;
    let s = app
        .create_session(
            &json!({ "amount": "5.00", "currency": "EUR", "customer_email": "Ada@Example.com" }),
        )
        .await;
    let id = s["id"].as_str().unwrap();
    let (ct, index): (String, String) = sqlx::query_as(
        "SELECT customer_email_ciphertext, customer_email_index FROM checkout_sessions WHERE id = $1",
    )
    .bind(id)
    .fetch_one(&app.state.db.pool)
    .await
    .unwrap();
    // Not the email in any case (base64 text may hold "ada" by chance; it never holds "@").
    assert!(
        !ct.to_lowercase().contains("ada@example.com") && !ct.contains('@'),
        "{ct}"
    );
    assert_eq!(index, app.state.cipher.email_index("ada@example.com"));
    let fetched =
        json_with_status(app.get(&format!("/v1/checkout/sessions/{id}")).await, 200).await;
    assert_eq!(fetched["customer_email"], "Ada@Example.com");
    app.stop().await;
}

async fn widget_view_reveals_no_secret(db: TestDb) {
    let app = spawn_app(
        &db,
        AppOptions {
            vars: vec![
                ("STRIPE_SECRET_KEY", "sk_test_must_not_leak".into()),
                ("STRIPE_PUBLISHABLE_KEY", "pk_test_public".into()),
                ("PAYGATE_MERCHANT_NAME", "Tea House".into()),
            ],
            ..AppOptions::default()
        },
    )
    .await;
    let s = app
        .create_session(&json!({ "amount": "1000", "currency": "JPY", "description": "Sencha", "customer_email": "ada@example.com", "metadata": { "order": "42" } }))
        .await;
    let id = s["id"].as_str().unwrap();
    let res = app
        .client
        .get(format!("{}/checkout/api/sessions/{id}", app.url))
        .send()
        .await
        .unwrap();
    let text = res.text().await.unwrap();
    let w: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(w["merchant_name"], "Tea House");
    assert_eq!(w["amount"], "1000");
    assert_eq!(w["description"], "Sencha");
    assert_eq!(w["providers"][0]["public_key"], "pk_test_public");
    for secret in [
        "sk_test_must_not_leak",
        "ada@example.com",
        "order",
        "sk_test_paygate_dev",
    ] {
        assert!(!text.contains(secret), "widget view leaks {secret}: {text}");
    }
    app.stop().await;
}

async fn merchant_api_requires_a_valid_key(db: TestDb) {
    let app = spawn_app(&db, AppOptions::default()).await;
    let url = format!("{}/v1/checkout/sessions", app.url);
    let none = app
        .client
        .post(&url)
        .json(&json!({ "amount": "1.00", "currency": "USD" }))
        .send()
        .await
        .unwrap();
    assert_eq!(json_with_status(none, 401).await["code"], "unauthorized");
    let wrong = app
        .client
        .post(&url)
        .bearer_auth("sk_test_wrongwrongwrong")
        .json(&json!({ "amount": "1.00", "currency": "USD" }))
        .send()
        .await
        .unwrap();
    assert_eq!(json_with_status(wrong, 401).await["code"], "unauthorized");
    let basic = app
        .client
        .get(format!("{}/v1/payments", app.url))
        .header("authorization", "Basic abc")
        .send()
        .await
        .unwrap();
    assert_eq!(basic.status(), 401);
    // A key created with `paygate keys create` works; only its hash is stored.
    let (key, record) = paygate::auth::create_key(&app.state.db, "shop", false, 0)
        .await
        .unwrap();
    let ok = app
        .client
        .post(&url)
        .bearer_auth(&key)
        .json(&json!({ "amount": "1.00", "currency": "USD" }))
        .send()
        .await
        .unwrap();
    assert_eq!(ok.status(), 201);
    let stored: String = sqlx::query_scalar("SELECT key_hash FROM api_keys WHERE id = $1")
        .bind(&record.id)
        .fetch_one(&app.state.db.pool)
        .await
        .unwrap();
    assert_ne!(stored, key);
    assert!(!stored.contains(&key[8..]));
    assert_eq!(app.count("SELECT COUNT(*) FROM checkout_sessions").await, 1);
    app.stop().await;
}
