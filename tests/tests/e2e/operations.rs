//! Health, readiness, metrics, OpenAPI, rate limits, the 404 envelope, start-up checks.

use paygate::config::Config;
use paygate::startup::{Application, Options};
use paygate_tests::app::json_with_status;
use paygate_tests::{spawn_app, AppOptions, TestDb};
use serde_json::json;
use std::collections::BTreeMap;

#[tokio::test]
async fn health_readiness_and_unknown_routes() {
    let db = TestDb::sqlite().await;
    let app = spawn_app(&db, AppOptions::default()).await;
    let h = json_with_status(
        app.client
            .get(format!("{}/healthz", app.url))
            .send()
            .await
            .unwrap(),
        200,
    )
    .await;
    assert_eq!(h["status"], "ok");
    let r = json_with_status(
        app.client
            .get(format!("{}/readyz", app.url))
            .send()
            .await
            .unwrap(),
        200,
    )
    .await;
    assert_eq!(r["status"], "ready");
    let e = json_with_status(
        app.client
            .get(format!("{}/nope", app.url))
            .send()
            .await
            .unwrap(),
        404,
    )
    .await;
    assert_eq!(e["code"], "not_found");
    // Readiness follows the database.
    app.state.db.pool.close().await;
    let r = json_with_status(
        app.client
            .get(format!("{}/readyz", app.url))
            .send()
            .await
            .unwrap(),
        503,
    )
    .await;
    assert_eq!(r["code"], "database_unavailable");
    app.stop().await;
}

#[tokio::test]
async fn metrics_count_requests_by_route_template_and_status() {
    let db = TestDb::sqlite().await;
    let app = spawn_app(&db, AppOptions::default()).await;
    for _ in 0..3 {
        app.get("/v1/payments/pay_missing").await;
    }
    app.client
        .get(format!("{}/v1/payments", app.url))
        .send()
        .await
        .unwrap();
    let text = app.metrics_text().await;
    assert!(
        text.contains(
            r#"paygate_http_requests_total{method="GET",route="/v1/payments/{id}",status="404"} 3"#
        ),
        "{text}"
    );
    assert!(
        text.contains(r#"route="/v1/payments",status="401"} 1"#),
        "{text}"
    );
    assert!(
        text.contains("paygate_http_request_duration_seconds_bucket"),
        "{text}"
    );
    assert!(
        !text.contains("pay_missing"),
        "raw paths never become labels"
    );
    app.stop().await;
}

/// Any token is a valid HTTP method: invented ones are counted as `other`, so a client cannot
/// grow the label space; and with `PAYGATE_METRICS_TOKEN` set, `/metrics` answers only to it.
#[tokio::test]
async fn metrics_labels_stay_bounded_and_the_endpoint_can_require_a_token() {
    let db = TestDb::sqlite().await;
    let token = "metrics-token-0123456789";
    let app = spawn_app(
        &db,
        AppOptions {
            vars: vec![("PAYGATE_METRICS_TOKEN", token.into())],
            ..AppOptions::default()
        },
    )
    .await;
    for i in 0..50 {
        let method = reqwest::Method::from_bytes(format!("INVENTED{i}").as_bytes()).unwrap();
        app.client
            .request(method, format!("{}/healthz", app.url))
            .send()
            .await
            .unwrap();
    }
    let scrape = |auth: Option<&str>| {
        let mut req = app.client.get(format!("{}/metrics", app.url));
        if let Some(a) = auth {
            req = req.header("authorization", a);
        }
        req.send()
    };
    for auth in [None, Some("Bearer wrong-token-0123456789"), Some(token)] {
        let res = scrape(auth).await.unwrap();
        assert_eq!(res.status(), 401, "{auth:?}");
        let e = json_with_status(res, 401).await;
        assert_eq!(e["code"], "unauthorized", "{e}");
    }
    let res = scrape(Some(&format!("Bearer {token}"))).await.unwrap();
    assert_eq!(res.status(), 200);
    let text = res.text().await.unwrap();
    let other: Vec<&str> = text
        .lines()
        .filter(|l| l.starts_with(r#"paygate_http_requests_total{method="other""#))
        .collect();
    assert_eq!(
        other.len(),
        1,
        "one series for every invented method: {text}"
    );
    assert!(other[0].ends_with(" 50"), "{}", other[0]);
    assert!(!text.contains("INVENTED"), "{text}");
    app.stop().await;
}

#[tokio::test]
async fn openapi_documents_the_merchant_api() {
    let db = TestDb::sqlite().await;
    let app = spawn_app(&db, AppOptions::default()).await;
    let doc = json_with_status(
        app.client
            .get(format!("{}/openapi.json", app.url))
            .send()
            .await
            .unwrap(),
        200,
    )
    .await;
    assert!(doc["openapi"].as_str().unwrap().starts_with("3."));
    for path in [
        "/v1/checkout/sessions",
        "/v1/checkout/sessions/{id}",
        "/v1/payments",
        "/v1/payments/{id}",
        "/v1/events",
        "/v1/customers/{id}/payment_methods",
        "/v1/customers/{id}/payment_methods/{pm}",
    ] {
        assert!(doc["paths"][path].is_object(), "missing {path}");
    }
    let schemas = &doc["components"]["schemas"];
    for schema in [
        "CreatePayment",
        "Payment",
        "CheckoutSession",
        "Problem",
        "PaymentStatus",
        "SavedPaymentMethod",
        "SavePaymentMethod",
    ] {
        assert!(schemas[schema].is_object(), "missing schema {schema}");
    }
    assert_eq!(
        doc["components"]["securitySchemes"]["bearer"]["scheme"],
        "bearer"
    );
    app.stop().await;
}

#[tokio::test]
async fn rate_limits_answer_429_with_retry_after() {
    let db = TestDb::sqlite().await;
    let app = spawn_app(
        &db,
        AppOptions {
            vars: vec![
                ("PAYGATE_MERCHANT_RATE_LIMIT", "3".into()),
                ("PAYGATE_WIDGET_RATE_LIMIT", "2".into()),
            ],
            ..AppOptions::default()
        },
    )
    .await;
    let mut statuses = Vec::new();
    for _ in 0..5 {
        statuses.push(app.get("/v1/payments").await.status().as_u16());
    }
    assert_eq!(&statuses[..3], &[200, 200, 200]);
    let limited = app.get("/v1/payments").await;
    assert_eq!(limited.status(), 429);
    let retry: u64 = limited.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=2).contains(&retry), "{retry}");
    assert_eq!(json_with_status(limited, 429).await["code"], "rate_limited");

    let widget = |_: ()| {
        app.client
            .get(format!("{}/checkout/api/sessions/cs_x", app.url))
            .send()
    };
    assert_eq!(widget(()).await.unwrap().status(), 404);
    assert_eq!(widget(()).await.unwrap().status(), 404);
    assert_eq!(widget(()).await.unwrap().status(), 429);
    app.stop().await;
}

#[tokio::test]
async fn widget_api_cors_only_for_registered_origins() {
    let db = TestDb::sqlite().await;
    let app = spawn_app(
        &db,
        AppOptions {
            vars: vec![("PAYGATE_ALLOWED_ORIGINS", "https://shop.example".into())],
            ..AppOptions::default()
        },
    )
    .await;
    let s = app
        .create_session(&json!({ "amount": "1.00", "currency": "USD" }))
        .await;
    let url = format!(
        "{}/checkout/api/sessions/{}",
        app.url,
        s["id"].as_str().unwrap()
    );
    let ok = app
        .client
        .get(&url)
        .header("origin", "https://shop.example")
        .send()
        .await
        .unwrap();
    assert_eq!(
        ok.headers()["access-control-allow-origin"],
        "https://shop.example"
    );
    let evil = app
        .client
        .get(&url)
        .header("origin", "https://evil.example")
        .send()
        .await
        .unwrap();
    assert!(evil.headers().get("access-control-allow-origin").is_none());
    app.stop().await;
}

#[tokio::test]
async fn a_wrong_data_key_stops_start_up_naming_the_variable() {
    let db = TestDb::sqlite().await;
    let app = spawn_app(&db, AppOptions::default()).await;
    app.stop().await;
    let mut vars = BTreeMap::new();
    vars.insert("DATABASE_URL".to_string(), db.url.clone());
    vars.insert("PAYGATE_LISTEN".to_string(), "127.0.0.1:0".to_string());
    vars.insert(
        "PAYGATE_SANDBOX_LISTEN".to_string(),
        "127.0.0.1:0".to_string(),
    );
    vars.insert("PAYGATE_DATA_KEY".to_string(), "11".repeat(32));
    let config = Config::from_vars(&vars).unwrap();
    let err = Application::build(config, Options::default())
        .await
        .err()
        .expect("refused");
    assert!(err.to_string().contains("PAYGATE_DATA_KEY"), "{err}");
}
