//! Where merchant webhooks may go (the SSRF guard): with local destinations not allowed (live
//! mode's default; `PAYGATE_WEBHOOK_ALLOW_LOCAL=false` here, in sandbox mode, so the test needs
//! no live keys) an endpoint on a loopback, private or link-local address, or on a name that
//! resolves to one, is refused at registration and again at delivery; redirects are never
//! followed, whatever the setting.

use paygate_tests::app::{eventually, json_with_status};
use paygate_tests::emulator::{serve_local, webhook_receiver};
use paygate_tests::standard_webhooks::Delivery;
use paygate_tests::{spawn_app, AppOptions, TestApp, TestDb};
use serde_json::{json, Value};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

async fn guarded_app(db: &TestDb) -> TestApp {
    spawn_app(
        db,
        AppOptions {
            vars: vec![("PAYGATE_WEBHOOK_ALLOW_LOCAL", "false".to_string())],
            ..Default::default()
        },
    )
    .await
}

async fn register(app: &TestApp, url: &str) -> reqwest::Response {
    app.post(
        "/v1/webhook_endpoints",
        &json!({ "url": url, "enabled_events": ["*"] }),
    )
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn local_and_private_destinations_are_refused_when_not_allowed() {
    let db = TestDb::sqlite().await;
    let app = guarded_app(&db).await;
    for url in [
        "http://127.0.0.1:9/hooks",
        "http://10.0.0.1/hooks",
        "http://192.168.1.20/hooks",
        "http://169.254.169.254/latest/meta-data/",
        "http://[::1]:9/hooks",
        // A name, resolved by paygate: localhost is loopback.
        "http://localhost:9/hooks",
    ] {
        let e = json_with_status(register(&app, url).await, 400).await;
        assert_eq!(e["param"], "url", "{url}: {e}");
        let message = e["detail"].as_str().unwrap();
        assert!(
            message.contains("loopback, link-local or private address"),
            "{url}: {message}"
        );
    }
    // Nothing was stored (the sandbox demo shop's own endpoint, on this machine, is refused
    // too: the setting applies to paygate's own registrations as well).
    assert_eq!(app.count("SELECT COUNT(*) FROM webhook_endpoints").await, 0);
    app.stop().await;
}

/// An endpoint stored while local destinations were allowed (as a name could point elsewhere
/// when it was registered): once they are not, no delivery reaches it, and the log says why.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_guard_is_checked_again_at_every_delivery() {
    let db = TestDb::sqlite().await;
    let (url, received) = webhook_receiver("/hooks", 0, Delivery::from_request).await;
    let open = spawn_app(&db, AppOptions::default()).await;
    let we = json_with_status(register(&open, &url).await, 201).await;
    let we = we["id"].as_str().unwrap().to_string();
    open.stop().await;

    let app = guarded_app(&db).await;
    let body = json!({ "provider": "stripe", "amount": "1.00", "currency": "USD" });
    json_with_status(app.post("/v1/payments", &body).await, 201).await;
    let log_url = format!("/v1/webhook_endpoints/{we}/deliveries");
    eventually("an attempt refused", Duration::from_secs(15), || async {
        let log = json_with_status(app.get(&log_url).await, 200).await;
        log["data"][0]["attempts"]
            .as_array()
            .is_some_and(|a| !a.is_empty())
    })
    .await;
    let log = json_with_status(app.get(&log_url).await, 200).await;
    let attempt = &log["data"][0]["attempts"][0];
    assert!(attempt["http_status"].is_null(), "{attempt}");
    assert!(
        attempt["error"]
            .as_str()
            .unwrap()
            .contains("loopback, link-local or private address"),
        "{attempt}"
    );
    assert_eq!(
        log["data"][0]["status"], "pending",
        "retried later, not lost"
    );
    assert!(
        received.lock().unwrap().is_empty(),
        "the receiver was never called"
    );
    app.stop().await;
}

/// A receiver that redirects: paygate records the 3xx as a failed attempt and never calls the
/// redirect's target.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redirects_are_not_followed() {
    let db = TestDb::sqlite().await;
    let app = spawn_app(&db, AppOptions::default()).await;
    let (target, reached) = webhook_receiver("/elsewhere", 0, Delivery::from_request).await;
    let redirected = Arc::new(AtomicUsize::new(0));
    let count = redirected.clone();
    let redirector = axum::Router::new().route(
        "/hooks",
        axum::routing::post(move || {
            let (count, target) = (count.clone(), target.clone());
            async move {
                count.fetch_add(1, Ordering::SeqCst);
                (
                    axum::http::StatusCode::TEMPORARY_REDIRECT,
                    [(axum::http::header::LOCATION, target)],
                    "moved",
                )
            }
        }),
    );
    let addr = serve_local(redirector).await;
    let we = json_with_status(register(&app, &format!("http://{addr}/hooks")).await, 201).await;
    let we = we["id"].as_str().unwrap().to_string();
    let body = json!({ "provider": "stripe", "amount": "1.00", "currency": "USD" });
    json_with_status(app.post("/v1/payments", &body).await, 201).await;
    let log_url = format!("/v1/webhook_endpoints/{we}/deliveries");
    let attempts = |log: &Value| {
        log["data"][0]["attempts"]
            .as_array()
            .cloned()
            .unwrap_or_default()
    };
    eventually("the redirect recorded", Duration::from_secs(15), || async {
        !attempts(&json_with_status(app.get(&log_url).await, 200).await).is_empty()
    })
    .await;
    let log = json_with_status(app.get(&log_url).await, 200).await;
    let attempt = &attempts(&log)[0];
    assert_eq!(attempt["http_status"], 307, "{attempt}");
    assert_eq!(attempt["response_body"], "moved");
    assert_eq!(
        log["data"][0]["status"], "pending",
        "a redirect is retried like a failure"
    );
    assert!(redirected.load(Ordering::SeqCst) >= 1);
    assert!(
        reached.lock().unwrap().is_empty(),
        "the redirect's target was never called"
    );
    app.stop().await;
}
