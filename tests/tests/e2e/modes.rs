//! What a live-mode server keeps of the sandbox: nothing. The development key is refused at
//! the door, and only keys made with `paygate keys create` are accepted.

use paygate::config::SANDBOX_DEV_API_KEY;
use paygate_tests::app::live_mode_vars;
use paygate_tests::{spawn_app, AppOptions, TestDb};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_live_server_answers_401_to_the_development_key_and_200_to_its_own() {
    let db = TestDb::sqlite().await;
    let mut app = spawn_app(
        &db,
        AppOptions {
            vars: live_mode_vars(),
            ..AppOptions::default()
        },
    )
    .await;
    assert_eq!(app.key, SANDBOX_DEV_API_KEY, "the harness's default key");
    let refused = app.get("/v1/payments").await;
    assert_eq!(refused.status(), 401);
    assert!(refused
        .headers()
        .get("content-type")
        .is_some_and(|v| v.to_str().unwrap().starts_with("application/problem+json")));

    let (key, _) = paygate::auth::create_key(&app.state.db, "live test", true, 0)
        .await
        .unwrap();
    assert!(key.starts_with("sk_live_"), "{key}");
    app.key = key;
    let listed = app.get("/v1/payments").await;
    assert_eq!(listed.status(), 200);
    app.stop().await;
}

/// Served over https, every answer (a page, an API error, a 404) tells browsers to use only
/// https; served over plain HTTP, none does (browsers ignore it there).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_answer_carries_strict_transport_security_when_the_public_url_is_https() {
    let db = TestDb::sqlite().await;
    let mut vars = live_mode_vars();
    vars.push(("PAYGATE_PUBLIC_URL", "https://pay.shop.example".into()));
    let https = spawn_app(
        &db,
        AppOptions {
            vars,
            ..AppOptions::default()
        },
    )
    .await;
    for path in ["/healthz", "/v1/payments", "/no-such-route", "/admin/"] {
        let res = https.get(path).await;
        assert_eq!(
            res.headers()
                .get("strict-transport-security")
                .map(|v| v.to_str().unwrap().to_string()),
            Some("max-age=63072000; includeSubDomains".to_string()),
            "{path} answered {}",
            res.status()
        );
    }
    https.stop().await;

    let db = TestDb::sqlite().await;
    let http = spawn_app(&db, AppOptions::default()).await;
    let res = http.get("/healthz").await;
    assert_eq!(res.status(), 200);
    assert!(res.headers().get("strict-transport-security").is_none());
    http.stop().await;
}
