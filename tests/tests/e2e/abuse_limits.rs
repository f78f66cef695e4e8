//! Abuse limits on the public widget API (issue 11 §3): who the client is behind a trusted
//! proxy, IPv6 counted by /64, a limit per checkout session whatever the address, and a cap on
//! the provider objects one session can make.

use paygate::checkout::widget_payments::MAX_PAYMENTS_PER_SESSION;
use paygate_tests::app::{eventually, json_with_status};
use paygate_tests::{spawn_app, AppOptions, TestApp, TestDb, TestProvider};
use serde_json::json;
use shared::api::ProviderName;
use std::sync::Arc;
use std::time::Duration;

/// `GET` of the widget's session view, as a customer behind a proxy whose `X-Forwarded-For`
/// names `client`.
async fn view_as(app: &TestApp, sid: &str, client: &str) -> u16 {
    app.client
        .get(format!("{}/checkout/api/sessions/{sid}", app.url))
        .header("x-forwarded-for", client)
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

/// A sandbox app with these settings, and a USD checkout session on it.
async fn app_and_session(vars: Vec<(&'static str, String)>) -> (TestApp, String) {
    let db = TestDb::sqlite().await;
    let app = spawn_app(
        &db,
        AppOptions {
            vars,
            ..AppOptions::default()
        },
    )
    .await;
    let s = app
        .create_session(&json!({ "amount": "9.00", "currency": "USD" }))
        .await;
    let sid = s["id"].as_str().unwrap().to_string();
    (app, sid)
}

async fn spend(app: &TestApp, sid: &str, client: &str, n: usize) {
    for i in 0..n {
        assert_eq!(
            view_as(app, sid, client).await,
            200,
            "request {i} of {client}"
        );
    }
}

/// Behind `PAYGATE_TRUSTED_PROXIES`, each customer has a bucket of its own (before, every
/// customer shared the proxy's); an IPv6 /64 is one customer; a forged header from an
/// untrusted peer changes nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn behind_a_trusted_proxy_each_customer_has_a_bucket_and_a_64_is_one_customer() {
    let (app, sid) = app_and_session(vec![
        ("PAYGATE_WIDGET_RATE_LIMIT", "3".into()),
        ("PAYGATE_TRUSTED_PROXIES", "127.0.0.0/8".into()),
    ])
    .await;
    let sid = sid.as_str();

    spend(&app, sid, "203.0.113.1", 3).await;
    assert_eq!(view_as(&app, sid, "203.0.113.1").await, 429);
    // Another customer through the same proxy is served.
    spend(&app, sid, "203.0.113.2", 3).await;
    // Whatever the client wrote left of the proxy's entry does not count.
    assert_eq!(view_as(&app, sid, "198.51.100.50, 203.0.113.1").await, 429);

    // IPv6: a whole /64 is one customer; the next /64 is another.
    spend(&app, sid, "2001:db8:1:2::1", 3).await;
    assert_eq!(view_as(&app, sid, "2001:db8:1:2::beef").await, 429);
    assert_eq!(view_as(&app, sid, "2001:db8:1:2:ffff::9").await, 429);
    assert_eq!(view_as(&app, sid, "2001:db8:1:3::1").await, 200);
    app.stop().await;

    // Without trusted proxies the header is the client's own word: ignored.
    let (app, sid) = app_and_session(vec![("PAYGATE_WIDGET_RATE_LIMIT", "3".into())]).await;
    let sid = sid.as_str();
    spend(&app, sid, "203.0.113.1", 3).await;
    assert_eq!(view_as(&app, sid, "203.0.113.2").await, 429);
    assert_eq!(view_as(&app, sid, "2001:db8:9::1").await, 429);
    app.stop().await;
}

/// Many addresses cannot make one session's routes (each of which may call the provider) run
/// without end: the session has its own bucket. Other sessions are not affected.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_session_has_a_bucket_whatever_the_address() {
    let (app, sid) = app_and_session(vec![
        ("PAYGATE_WIDGET_RATE_LIMIT", "1000".into()),
        ("PAYGATE_TRUSTED_PROXIES", "127.0.0.1".into()),
    ])
    .await;
    let sid = sid.as_str();
    let burst = paygate::http::rate_limit::SESSION_BURST as usize;
    let mut refused_at = None;
    for i in 0..burst + 5 {
        let client = format!("198.51.100.{}", i % 250);
        if view_as(&app, sid, &client).await == 429 {
            refused_at = Some(i);
            break;
        }
    }
    // The bucket refills at one a second, so a slow machine may get a request or two more.
    let refused_at = refused_at.expect("the session's bucket ran out");
    assert!(refused_at >= burst, "refused after {refused_at}");
    // Another spelling of the same id is the same session, and the same bucket.
    let spelled = sid.replacen('_', "%5F", 1);
    assert_ne!(spelled, sid);
    assert_eq!(view_as(&app, &spelled, "198.51.100.77").await, 429);
    // An id that names no session is refused without taking room in the limiter.
    assert_eq!(view_as(&app, "cs_nope", "198.51.100.78").await, 404);
    let other = app
        .create_session(&json!({ "amount": "9.00", "currency": "USD" }))
        .await;
    let other = other["id"].as_str().unwrap();
    assert_eq!(view_as(&app, other, "198.51.100.1").await, 200);
    app.stop().await;
}

/// Opening PayPal again without approving reuses the order (before, every call made a new
/// payment and a new PayPal order).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unapproved_paypal_order_is_reused() {
    let db = TestDb::sqlite().await;
    let app = spawn_app(&db, AppOptions::default()).await;
    let s = app
        .create_session(&json!({ "amount": "9.00", "currency": "USD", "providers": ["paypal"] }))
        .await;
    let sid = s["id"].as_str().unwrap();
    let first = json_with_status(app.widget_post(sid, "paypal/orders").await, 200).await;
    for _ in 0..5 {
        let again = json_with_status(app.widget_post(sid, "paypal/orders").await, 200).await;
        assert_eq!(again, first);
    }
    assert_eq!(app.count("SELECT COUNT(*) FROM payments").await, 1);
    let orders = app.paypal.as_ref().unwrap().orders_count();
    assert_eq!(orders, 1, "PayPal holds one order");
    app.stop().await;
}

/// Payments that cannot be reused (declined here) are replaced only up to the session's cap,
/// even by requests sent together: then 409 and no provider call.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_session_makes_at_most_its_cap_of_provider_objects() {
    let provider = Arc::new(TestProvider::new(ProviderName::Paypal));
    let db = TestDb::sqlite().await;
    let app = spawn_app(
        &db,
        AppOptions {
            providers: vec![provider.clone()],
            ..AppOptions::default()
        },
    )
    .await;
    let s = app
        .create_session(&json!({ "amount": "9.00", "currency": "USD", "providers": ["paypal"] }))
        .await;
    let sid = s["id"].as_str().unwrap();
    // The test provider's objects start in `requires_payment_method`, as after a decline:
    // nothing to reuse, so each call starts a payment. Sent all at once: the cap holds even
    // for requests that overlap.
    // A request that overlaps a creation still under way is asked to wait instead
    // (`payment_in_progress`); it makes nothing either.
    let calls = (0..MAX_PAYMENTS_PER_SESSION + 5).map(|_| app.widget_post(sid, "paypal/orders"));
    let answers = futures::future::join_all(calls).await;
    let mut made = answers.iter().filter(|r| r.status() == 200).count() as i64;
    assert!(made <= MAX_PAYMENTS_PER_SESSION, "{made}");
    for r in answers.into_iter().filter(|r| r.status() != 200) {
        let code = json_with_status(r, 409).await["code"].clone();
        assert!(
            code == "too_many_attempts" || code == "payment_in_progress",
            "{code}"
        );
    }
    // One at a time until refused: exactly the cap was made, whatever overlapped before.
    loop {
        let r = app.widget_post(sid, "paypal/orders").await;
        if r.status() == 200 {
            made += 1;
            assert!(made <= MAX_PAYMENTS_PER_SESSION, "over the cap");
            continue;
        }
        assert_eq!(json_with_status(r, 409).await["code"], "too_many_attempts");
        break;
    }
    assert_eq!(made, MAX_PAYMENTS_PER_SESSION);
    assert_eq!(provider.create_calls() as i64, MAX_PAYMENTS_PER_SESSION);
    assert_eq!(
        app.count("SELECT COUNT(*) FROM payments").await,
        MAX_PAYMENTS_PER_SESSION
    );
    app.stop().await;
}

/// `stripe/complete` on a payment that already succeeded answers from the record: no call to
/// Stripe and no new timeline row, however often it is asked.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn completing_a_paid_session_again_costs_no_provider_call() {
    let db = TestDb::sqlite().await;
    let app = spawn_app(&db, AppOptions::default()).await;
    let s = app
        .create_session(&json!({ "amount": "25.00", "currency": "EUR" }))
        .await;
    let sid = s["id"].as_str().unwrap();
    let intent = json_with_status(app.widget_post(sid, "stripe/intent").await, 200).await;
    let secret = intent["client_secret"].as_str().unwrap();
    let ok = app.stripe_js_confirm(secret, "pm_card_visa").await;
    assert_eq!(ok["status"], "succeeded");
    let done = json_with_status(app.widget_post(sid, "stripe/complete").await, 200).await;
    assert_eq!(done["session"], "complete");
    let stripe = app.stripe.as_ref().unwrap();
    // Stripe's webhooks about the payment are applied first (the inbox reads the intent back).
    eventually(
        "every Stripe event applied",
        Duration::from_secs(15),
        || async {
            let stored = app
                .count("SELECT COUNT(*) FROM provider_events WHERE processed_at IS NOT NULL")
                .await;
            stored == stripe.events().len() as i64
        },
    )
    .await;
    let reads = stripe.api_requests();
    let rows = app.count("SELECT COUNT(*) FROM payment_timeline").await;
    for _ in 0..10 {
        let again = json_with_status(app.widget_post(sid, "stripe/complete").await, 200).await;
        assert_eq!(again, done);
    }
    assert_eq!(stripe.api_requests(), reads, "no call to Stripe");
    assert_eq!(
        app.count("SELECT COUNT(*) FROM payment_timeline").await,
        rows
    );
    app.stop().await;
}

/// Whether the server has closed `stream` (or answered, which it does only before closing);
/// waits at most `wait` for a sign.
async fn server_closed(stream: &mut tokio::net::TcpStream, wait: Duration) -> bool {
    use tokio::io::AsyncReadExt;
    let mut buf = [0u8; 1024];
    matches!(
        tokio::time::timeout(wait, stream.read(&mut buf)).await,
        Ok(Ok(0)) | Ok(Err(_))
    )
}

/// A client sending its request head one byte a second is cut off once the header timeout
/// passes (before, axum's serve had no timer and such a client held its connection for as long
/// as it liked); so is a keep-alive connection left idle. Whole requests are served as usual.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_sending_a_header_byte_a_second_is_cut_off() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let db = TestDb::sqlite().await;
    let app = spawn_app(
        &db,
        AppOptions {
            vars: vec![("PAYGATE_HEADER_TIMEOUT_SECS", "2".into())],
            ..AppOptions::default()
        },
    )
    .await;
    let addr = app.url.trim_start_matches("http://").to_string();
    let head = b"GET /healthz HTTP/1.1\r\nHost: paygate\r\nX-Slow: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n\r\n";

    let mut slow = tokio::net::TcpStream::connect(&addr).await.unwrap();
    let mut sent = 0;
    let mut cut_off = false;
    for byte in head {
        if slow.write_all(&[*byte]).await.is_err() {
            cut_off = true;
            break;
        }
        sent += 1;
        if server_closed(&mut slow, Duration::from_secs(1)).await {
            cut_off = true;
            break;
        }
    }
    assert!(cut_off, "the server waited for all {sent} bytes");
    assert!(sent < head.len());

    // A keep-alive connection: one request served, then idle until cut off.
    let mut idle = tokio::net::TcpStream::connect(&addr).await.unwrap();
    idle.write_all(head).await.unwrap();
    let mut answer = vec![0u8; 4096];
    let n = idle.read(&mut answer).await.unwrap();
    let answer = String::from_utf8_lossy(&answer[..n]).to_string();
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    assert!(
        server_closed(&mut idle, Duration::from_secs(60)).await,
        "an idle keep-alive connection is closed"
    );

    // Ordinary clients are unaffected.
    let res = app
        .client
        .get(format!("{}/healthz", app.url))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    app.stop().await;
}
