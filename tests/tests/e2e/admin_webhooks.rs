//! The admin console's view of the merchant webhook endpoints, on SQLite and PostgreSQL: every
//! route needs a session and the resend the CSRF token; the list never shows a signing secret;
//! the delivery log shows every attempt of a real delivery to a receiver on 127.0.0.1 (status,
//! latency, the answer's first 1 KB) with the merchant API's filters and cursor; a resend queues
//! the event again, the receiver gets it a second time and the audit log says who did it; an
//! unknown delivery, or one of another endpoint, is a 404 that writes nothing.

use paygate::merchant_webhooks::relay::RETRY_DELAYS_MS;
use paygate_tests::admin::{create_admin, AdminClient, PASSWORD};
use paygate_tests::app::{eventually, json_with_status};
use paygate_tests::emulator::{serve_local, webhook_receiver};
use paygate_tests::standard_webhooks::Delivery;
use paygate_tests::{on_both_databases, spawn_app, AppOptions, TestApp, TestDb};
use reqwest::Method;
use serde_json::{json, Value};
use std::sync::{Arc, Mutex};
use std::time::Duration;

on_both_databases!(
    webhook_routes_need_a_session_and_resend_needs_the_csrf_token,
    endpoints_are_listed_without_secrets_and_deliveries_show_every_attempt,
    a_resend_delivers_the_event_again_and_is_audited,
);

const ADMIN: &str = "ops@shop.example";
/// An id of the right shape that names nothing.
const NO_DELIVERY: &str = "whd_000000000000000000000000";
const NO_ENDPOINT: &str = "we_000000000000000000000000";

type Received = Arc<Mutex<Vec<Delivery>>>;

async fn signed_in(db: &TestDb) -> (TestApp, AdminClient) {
    let app = spawn_app(db, AppOptions::default()).await;
    create_admin(&app, ADMIN).await;
    let admin = AdminClient::sign_in(&app, ADMIN, PASSWORD).await;
    (app, admin)
}

/// A merchant endpoint made through the merchant API: its id and secret.
async fn endpoint(app: &TestApp, url: &str, events: Value) -> (String, String) {
    let created = json_with_status(
        app.post(
            "/v1/webhook_endpoints",
            &json!({ "url": url, "enabled_events": events, "description": "orders" }),
        )
        .await,
        201,
    )
    .await;
    (
        created["id"].as_str().unwrap().to_string(),
        created["secret"].as_str().unwrap().to_string(),
    )
}

async fn wait_received(received: &Received, n: usize) {
    eventually(
        &format!("{n} deliveries at the receiver"),
        Duration::from_secs(15),
        || async { received.lock().unwrap().len() >= n },
    )
    .await;
}

fn deliveries_path(we: &str) -> String {
    format!("/admin/api/webhook_endpoints/{we}/deliveries")
}

fn resend_path(we: &str, whd: &str) -> String {
    format!("/admin/api/webhook_endpoints/{we}/deliveries/{whd}/resend")
}

/// The endpoint's delivery log as the console reads it, once its newest delivery is delivered
/// after `attempts` attempts (the relay records an attempt just after the receiver answers).
async fn log_once_delivered(admin: &AdminClient, we: &str, attempts: usize) -> Value {
    let path = deliveries_path(we);
    eventually(
        "the delivery log to record the attempt",
        Duration::from_secs(15),
        || async {
            let log = admin.get_json(&path).await;
            log["data"][0]["status"] == "delivered"
                && log["data"][0]["attempts"].as_array().map(Vec::len) == Some(attempts)
        },
    )
    .await;
    admin.get_json(&path).await
}

/// The audit log's entries with this action, newest first.
async fn audited(admin: &AdminClient, action: &str) -> Vec<Value> {
    let page = admin.get_json("/admin/api/audit?limit=200").await;
    page["data"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["action"] == action)
        .cloned()
        .collect()
}

async fn webhook_routes_need_a_session_and_resend_needs_the_csrf_token(db: TestDb) {
    let (app, admin) = signed_in(&db).await;
    let (url, received) = webhook_receiver("/hooks", 0, Delivery::from_request).await;
    let (we, _) = endpoint(&app, &url, json!(["checkout.*"])).await;
    app.create_session(&json!({ "amount": "3.00", "currency": "USD" }))
        .await;
    wait_received(&received, 1).await;
    let log = log_once_delivered(&admin, &we, 1).await;
    let whd = log["data"][0]["id"].as_str().unwrap().to_string();
    let resend = resend_path(&we, &whd);

    let routes = [
        (Method::GET, "/admin/api/webhook_endpoints".to_string()),
        (Method::GET, format!("/admin/api/webhook_endpoints/{we}")),
        (Method::GET, deliveries_path(&we)),
        (Method::POST, resend.clone()),
    ];
    for (method, path) in &routes {
        // No cookie, then a forged one; the right CSRF token does not stand in for a session.
        for cookie in [None, Some("paygate_admin=forged-token")] {
            let mut req = app
                .client
                .request(method.clone(), format!("{}{path}", app.url))
                .header("x-csrf-token", &admin.csrf);
            if let Some(c) = cookie {
                req = req.header("cookie", c);
            }
            let e = json_with_status(req.send().await.unwrap(), 401).await;
            assert_eq!(e["code"], "unauthorized", "{method} {path}");
        }
    }
    // Signed in, but without the CSRF token or with a wrong one: 403.
    for token in [None, Some("wrong")] {
        let mut req = app
            .client
            .post(format!("{}{resend}", app.url))
            .header("cookie", &admin.cookie);
        if let Some(t) = token {
            req = req.header("x-csrf-token", t);
        }
        let e = json_with_status(req.send().await.unwrap(), 403).await;
        assert_eq!(e["code"], "csrf_token_invalid");
    }
    // The right token from another origin: refused too.
    let e = json_with_status(
        admin
            .request(Method::POST, &resend)
            .header("origin", "http://evil.example")
            .send()
            .await
            .unwrap(),
        403,
    )
    .await;
    assert_eq!(e["code"], "cross_origin_refused");

    // None of it queued or audited anything.
    tokio::time::sleep(Duration::from_millis(800)).await;
    assert_eq!(received.lock().unwrap().len(), 1, "nothing was sent again");
    let log = admin.get_json(&deliveries_path(&we)).await;
    assert_eq!(log["data"][0]["status"], "delivered");
    assert_eq!(log["data"][0]["attempts"].as_array().unwrap().len(), 1);
    assert!(audited(&admin, "webhook_resend").await.is_empty());
    app.stop().await;
}

/// A receiver whose first answer is a 500 with a body longer than paygate keeps, and whose later
/// answers are 200 `{"received": true}`.
async fn receiver_failing_once_with_a_long_answer() -> (String, Received) {
    let seen: Received = Arc::default();
    let store = seen.clone();
    let app = axum::Router::new().route(
        "/hooks",
        axum::routing::post(move |headers: axum::http::HeaderMap, body: String| {
            let store = store.clone();
            async move {
                let mut seen = store.lock().unwrap();
                seen.push(Delivery::from_request(headers, body));
                if seen.len() == 1 {
                    (
                        axum::http::StatusCode::INTERNAL_SERVER_ERROR,
                        "x".repeat(3000),
                    )
                } else {
                    (
                        axum::http::StatusCode::OK,
                        r#"{"received": true}"#.to_string(),
                    )
                }
            }
        }),
    );
    let addr = serve_local(app).await;
    (format!("http://{addr}/hooks"), seen)
}

async fn endpoints_are_listed_without_secrets_and_deliveries_show_every_attempt(db: TestDb) {
    let (app, admin) = signed_in(&db).await;
    let (url, received) = receiver_failing_once_with_a_long_answer().await;
    let (we, secret) = endpoint(&app, &url, json!(["checkout.*"])).await;
    let (other, other_secret) = endpoint(
        &app,
        "https://erp.example/hooks",
        json!(["payment.succeeded"]),
    )
    .await;
    json_with_status(
        app.post(
            &format!("/v1/webhook_endpoints/{other}"),
            &json!({ "status": "disabled" }),
        )
        .await,
        200,
    )
    .await;

    // The list: every endpoint the merchant API has (in sandbox mode the demo shop registers
    // its own), in the same order, and no secret anywhere in the answer.
    let res = admin.get("/admin/api/webhook_endpoints").await;
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["cache-control"], "no-store");
    let text = res.text().await.unwrap();
    for absent in [
        secret.as_str(),
        other_secret.as_str(),
        "whsec_",
        "\"secret\"",
    ] {
        assert!(!text.contains(absent), "{absent} in {text}");
    }
    let list: Value = serde_json::from_str(&text).unwrap();
    let merchant = json_with_status(app.get("/v1/webhook_endpoints").await, 200).await;
    let ids_of = |list: &Value| -> Vec<Value> {
        list["data"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["id"].clone())
            .collect()
    };
    assert_eq!(ids_of(&list), ids_of(&merchant));
    assert_eq!(list["has_more"], false);
    let shown = |id: &str| -> Value {
        list["data"]
            .as_array()
            .unwrap()
            .iter()
            .find(|e| e["id"] == id)
            .cloned()
            .unwrap_or_else(|| panic!("{id} not in {list}"))
    };
    let (mine, theirs) = (shown(&we), shown(&other));
    assert_eq!(mine["url"], url.as_str());
    assert_eq!(mine["status"], "enabled");
    assert_eq!(mine["enabled_events"], json!(["checkout.*"]));
    assert_eq!(mine["description"], "orders");
    assert_eq!(theirs["url"], "https://erp.example/hooks");
    assert_eq!(theirs["status"], "disabled");
    assert_eq!(theirs["enabled_events"], json!(["payment.succeeded"]));
    let one = admin
        .get(&format!("/admin/api/webhook_endpoints/{we}"))
        .await
        .text()
        .await
        .unwrap();
    assert!(!one.contains("secret") && !one.contains(&secret), "{one}");
    assert_eq!(serde_json::from_str::<Value>(&one).unwrap()["url"], url);
    for path in [
        format!("/admin/api/webhook_endpoints/{NO_ENDPOINT}"),
        deliveries_path(NO_ENDPOINT),
        deliveries_path("nope"),
    ] {
        let e = json_with_status(admin.get(&path).await, 404).await;
        assert_eq!(e["code"], "resource_missing", "{path}");
    }

    // A real delivery: the first attempt is refused, the retry (due on paygate's clock)
    // accepted.
    let session = app
        .create_session(&json!({ "amount": "12.00", "currency": "USD" }))
        .await;
    wait_received(&received, 1).await;
    app.state.clock.advance(Duration::from_millis(
        RETRY_DELAYS_MS[0] as u64 * 11 / 10 + 1000,
    ));
    wait_received(&received, 2).await;
    let log = log_once_delivered(&admin, &we, 2).await;
    let delivery = &log["data"][0];
    let event = received.lock().unwrap()[0].id.clone();
    assert_eq!(delivery["event"], event.as_str());
    assert_eq!(delivery["endpoint"], we.as_str());
    assert_eq!(delivery["event_type"], "checkout.session.created");
    assert!(delivery.get("next_attempt_at").is_none(), "{delivery}");
    let body: Value = serde_json::from_str(&received.lock().unwrap()[0].body).unwrap();
    assert_eq!(body["data"]["object"]["id"], session["id"]);
    let attempts = delivery["attempts"].as_array().unwrap();
    assert_eq!(attempts[0]["http_status"], 500);
    assert_eq!(
        attempts[0]["response_body"],
        "x".repeat(1024),
        "the answer's first 1 KB"
    );
    assert_eq!(attempts[1]["http_status"], 200);
    assert_eq!(attempts[1]["response_body"], r#"{"received": true}"#);
    for attempt in attempts {
        assert!(attempt["latency_ms"].as_i64().unwrap() >= 0, "{attempt}");
        assert!(attempt.get("error").is_none(), "{attempt}");
    }
    assert!(
        attempts[1]["at"].as_i64().unwrap()
            > attempts[0]["at"].as_i64().unwrap() + RETRY_DELAYS_MS[0],
        "the retry came after its delay: {attempts:?}"
    );

    // A second event, then the merchant API's filters and cursor, as the console asks for them.
    app.create_session(&json!({ "amount": "5.00", "currency": "USD" }))
        .await;
    wait_received(&received, 3).await;
    let newest = received.lock().unwrap()[2].id.clone();
    eventually(
        "both deliveries delivered",
        Duration::from_secs(15),
        || async {
            let log = admin
                .get_json(&format!("{}?status=delivered", deliveries_path(&we)))
                .await;
            log["data"].as_array().unwrap().len() == 2
        },
    )
    .await;
    let ids = |log: &Value| -> Vec<String> {
        log["data"]
            .as_array()
            .unwrap()
            .iter()
            .map(|d| d["event"].as_str().unwrap().to_string())
            .collect()
    };
    let path = deliveries_path(&we);
    let all = admin.get_json(&path).await;
    assert_eq!(ids(&all), [newest.clone(), event.clone()], "newest first");
    for (query, expected) in [
        ("status=failed", vec![]),
        ("status=pending", vec![]),
        (
            "event_type=checkout.session.created",
            vec![newest.clone(), event.clone()],
        ),
        ("event_type=payment.succeeded", vec![]),
    ] {
        let log = admin.get_json(&format!("{path}?{query}")).await;
        assert_eq!(ids(&log), expected, "{query}");
    }
    let first = admin.get_json(&format!("{path}?limit=1")).await;
    assert_eq!(ids(&first), [newest]);
    assert_eq!(first["has_more"], true);
    let cursor = first["next_cursor"].as_str().unwrap();
    // The cursor is `<created ms>:<id>`: nothing in it needs escaping in a query.
    let second = admin
        .get_json(&format!("{path}?limit=1&starting_after={cursor}"))
        .await;
    assert_eq!(ids(&second), [event]);
    assert_eq!(second["has_more"], false);
    assert!(second.get("next_cursor").is_none());
    for (query, param) in [
        ("status=lost", "status"),
        ("limit=0", "limit"),
        ("starting_after=nope", "starting_after"),
    ] {
        let e = json_with_status(admin.get(&format!("{path}?{query}")).await, 400).await;
        assert_eq!(e["param"], param, "{query}: {e}");
    }
    json_with_status(admin.get(&format!("{path}?secret=1")).await, 400).await;
    app.stop().await;
}

async fn a_resend_delivers_the_event_again_and_is_audited(db: TestDb) {
    let (app, admin) = signed_in(&db).await;
    let (url, received) = webhook_receiver("/hooks", 0, Delivery::from_request).await;
    let (we, _) = endpoint(&app, &url, json!(["checkout.*"])).await;
    // Another endpoint, for a delivery asked for under the wrong endpoint.
    let (other, _) = endpoint(&app, &url, json!(["payment.succeeded"])).await;
    app.create_session(&json!({ "amount": "7.00", "currency": "USD" }))
        .await;
    wait_received(&received, 1).await;
    let log = log_once_delivered(&admin, &we, 1).await;
    let whd = log["data"][0]["id"].as_str().unwrap().to_string();
    let event = log["data"][0]["event"].as_str().unwrap().to_string();

    // An unknown delivery, an unknown endpoint, this delivery under another endpoint: 404 in
    // the error envelope, nothing queued, nothing audited.
    for path in [
        resend_path(&we, NO_DELIVERY),
        resend_path(&we, "nope"),
        resend_path(NO_ENDPOINT, &whd),
        resend_path(&other, &whd),
    ] {
        let e = json_with_status(
            admin.request(Method::POST, &path).send().await.unwrap(),
            404,
        )
        .await;
        assert_eq!(e["code"], "resource_missing", "{path}");
    }
    tokio::time::sleep(Duration::from_millis(800)).await;
    assert_eq!(received.lock().unwrap().len(), 1);
    assert_eq!(
        app.count(&format!(
            "SELECT COUNT(*) FROM webhook_deliveries WHERE endpoint_id = '{other}'"
        ))
        .await,
        0,
        "no delivery was made for the other endpoint"
    );
    assert!(audited(&admin, "webhook_resend").await.is_empty());

    // The resend: accepted, the same event arrives again, and the log shows both attempts.
    let answer = json_with_status(
        admin
            .request(Method::POST, &resend_path(&we, &whd))
            .send()
            .await
            .unwrap(),
        202,
    )
    .await;
    assert_eq!(
        answer,
        json!({ "delivery": whd, "event": event, "endpoint": we })
    );
    wait_received(&received, 2).await;
    let both = received.lock().unwrap().clone();
    assert_eq!(both[1].id, event, "webhook-id is the event's id");
    assert_eq!(both[1].body, both[0].body, "the same event");
    let log = log_once_delivered(&admin, &we, 2).await;
    assert_eq!(
        log["data"].as_array().unwrap().len(),
        1,
        "the same delivery"
    );
    assert_eq!(log["data"][0]["id"], whd.as_str());

    // The audit log says who resent what, from where.
    let entries = audited(&admin, "webhook_resend").await;
    assert_eq!(entries.len(), 1, "{entries:?}");
    let entry = &entries[0];
    assert_eq!(entry["actor"], ADMIN);
    assert_eq!(entry["target"], event.as_str());
    assert_eq!(
        entry["detail"],
        json!({ "endpoint": we, "delivery": whd, "event_type": "checkout.session.created" })
    );
    assert_eq!(entry["ip"], "127.0.0.1");
    app.stop().await;
}
