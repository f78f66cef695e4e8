//! The sandbox demo shop and the embed loader as served. The shop fulfils as merchants should:
//! an order is marked paid only when paygate's signed `checkout.session.completed` webhook
//! reaches the shop's own endpoint (registered once at start-up), never because the browser
//! said so; forged, tampered, stale and replayed deliveries change nothing. Over real HTTP, the
//! relay delivering to the test server's own public URL; on SQLite and PostgreSQL.

use paygate::merchant_webhooks::signing;
use paygate::pages::demo_shop::registration::endpoint_and_secret;
use paygate::pages::demo_shop::{ENABLED_EVENTS, ENDPOINT_DESCRIPTION};
use paygate_tests::app::{eventually, json_with_status, live_mode_vars};
use paygate_tests::{browser, on_both_databases, spawn_app, AppOptions, TestApp, TestDb};
use reqwest::Response;
use serde_json::{json, Value};
use std::time::Duration;

on_both_databases!(
    an_order_is_paid_only_when_the_signed_webhook_arrives,
    a_restart_registers_no_second_endpoint,
    an_expired_checkout_expires_its_order
);

/// `POST /demo/checkout` as the shop's page calls it: the session's and the order's ids.
async fn demo_checkout(app: &TestApp, items: Value) -> (String, String) {
    let s = json_with_status(
        app.client
            .post(format!("{}/demo/checkout", app.url))
            .json(&json!({ "items": items }))
            .send()
            .await
            .unwrap(),
        200,
    )
    .await;
    (
        s["id"].as_str().unwrap().to_string(),
        s["order"].as_str().unwrap().to_string(),
    )
}

async fn order(app: &TestApp, id: &str) -> Value {
    json_with_status(
        app.client
            .get(format!("{}/demo/orders/{id}", app.url))
            .send()
            .await
            .unwrap(),
        200,
    )
    .await
}

async fn wait_for_status(app: &TestApp, id: &str, status: &str) {
    eventually(
        &format!("order {id} {status}"),
        Duration::from_secs(20),
        || async { order(app, id).await["status"] == status },
    )
    .await;
}

/// The shop's endpoint, as the merchant API lists it: there is exactly one.
async fn shop_endpoint(app: &TestApp) -> Value {
    let list = json_with_status(app.get("/v1/webhook_endpoints").await, 200).await;
    let mine: Vec<&Value> = list["data"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["description"] == ENDPOINT_DESCRIPTION)
        .collect();
    assert_eq!(mine.len(), 1, "one demo shop endpoint: {list}");
    mine[0].clone()
}

/// The shop's signing secret (what the merchant stored when it registered).
async fn shop_secret(app: &TestApp) -> String {
    endpoint_and_secret(&app.state)
        .await
        .unwrap()
        .expect("the shop registered")
        .1
}

/// The event paygate emitted for `session` of `kind`, as `GET /v1/events` lists it.
async fn event(app: &TestApp, session: &str, kind: &str) -> Value {
    let list = json_with_status(
        app.get(&format!("/v1/events?object_id={session}&type={kind}"))
            .await,
        200,
    )
    .await;
    list["data"][0].clone()
}

/// POSTs `body` to `/demo/webhooks` with Standard Webhooks headers; `signature` as given.
async fn deliver(app: &TestApp, id: &str, timestamp: i64, signature: &str, body: &str) -> Response {
    app.client
        .post(format!("{}/demo/webhooks", app.url))
        .header("content-type", "application/json")
        .header("webhook-id", id)
        .header("webhook-timestamp", timestamp.to_string())
        .header("webhook-signature", signature)
        .body(body.to_string())
        .send()
        .await
        .unwrap()
}

/// A delivery signed with `secret` now.
async fn deliver_signed(app: &TestApp, secret: &str, id: &str, body: &str) -> Response {
    let now = app.state.clock.now_secs();
    let signature = signing::sign(secret, id, now, body.as_bytes()).unwrap();
    deliver(app, id, now, &signature, body).await
}

async fn enable(app: &TestApp, endpoint: &str, on: bool) {
    let status = if on { "enabled" } else { "disabled" };
    let e = json_with_status(
        app.post(
            &format!("/v1/webhook_endpoints/{endpoint}"),
            &json!({ "status": status }),
        )
        .await,
        200,
    )
    .await;
    assert_eq!(e["status"], status);
}

async fn resend(app: &TestApp, event: &str, endpoint: &str) {
    json_with_status(
        app.post(
            &format!("/v1/events/{event}/resend"),
            &json!({ "endpoint": endpoint }),
        )
        .await,
        202,
    )
    .await;
}

/// The attempts paygate made to deliver `event` to `endpoint` (its delivery log).
async fn attempts(app: &TestApp, endpoint: &str, event: &str) -> Vec<Value> {
    let log = json_with_status(
        app.get(&format!("/v1/webhook_endpoints/{endpoint}/deliveries"))
            .await,
        200,
    )
    .await;
    log["data"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["event"] == event)
        .map(|d| d["attempts"].as_array().unwrap().clone())
        .unwrap_or_default()
}

async fn an_order_is_paid_only_when_the_signed_webhook_arrives(db: TestDb) {
    let app = spawn_app(&db, AppOptions::default()).await;
    let endpoint = shop_endpoint(&app).await;
    assert_eq!(endpoint["url"], format!("{}/demo/webhooks", app.url));
    assert_eq!(endpoint["enabled_events"], json!(ENABLED_EVENTS));
    assert_eq!(endpoint["status"], "enabled");
    assert!(endpoint.get("secret").is_none(), "{endpoint}");
    let we = endpoint["id"].as_str().unwrap().to_string();

    // Hold the shop's deliveries back: the customer pays, the browser reports success, and
    // the order still waits for paygate's word.
    enable(&app, &we, false).await;
    let (sid, oid) = demo_checkout(&app, json!([{ "sku": "tee", "quantity": 2 }])).await;
    let placed = order(&app, &oid).await;
    assert_eq!(placed["status"], "awaiting_payment", "{placed}");
    assert_eq!(placed["amount_minor"], 3998);
    assert_eq!(placed["checkout_session"], sid.as_str());
    app.pay_by_card(&sid).await;
    let session =
        json_with_status(app.get(&format!("/v1/checkout/sessions/{sid}")).await, 200).await;
    assert_eq!(session["status"], "complete");
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(order(&app, &oid).await["status"], "awaiting_payment");

    // Deliveries the shop must refuse (400, nothing recorded): another secret, a tampered
    // body, a stale timestamp, no signature.
    let completed = event(&app, &sid, "checkout.session.completed").await;
    let evt = completed["id"].as_str().unwrap().to_string();
    let body = completed.to_string();
    let secret = shop_secret(&app).await;
    let forged = deliver_signed(&app, &signing::new_secret(), &evt, &body).await;
    let problem = json_with_status(forged, 400).await;
    assert_eq!(problem["code"], "webhook_unverified");
    let now = app.state.clock.now_secs();
    let signature = signing::sign(&secret, &evt, now, body.as_bytes()).unwrap();
    let tampered = body.replace("\"amount_minor\":3998", "\"amount_minor\":1");
    assert_ne!(tampered, body);
    json_with_status(deliver(&app, &evt, now, &signature, &tampered).await, 400).await;
    let stale = now - 600;
    let old = signing::sign(&secret, &evt, stale, body.as_bytes()).unwrap();
    json_with_status(deliver(&app, &evt, stale, &old, &body).await, 400).await;
    json_with_status(deliver(&app, &evt, now, "", &body).await, 400).await;
    assert_eq!(order(&app, &oid).await["status"], "awaiting_payment");
    assert_eq!(
        app.count("SELECT COUNT(*) FROM demo_webhook_receipts")
            .await,
        0
    );

    // paygate's relay delivers the signed event to the shop: now it is paid.
    enable(&app, &we, true).await;
    resend(&app, &evt, &we).await;
    wait_for_status(&app, &oid, "paid").await;
    let paid = order(&app, &oid).await;

    // Replays are harmless: paygate's redelivery (same webhook-id) is acknowledged as a
    // duplicate; a later signed `expired` for the same session does not undo the payment.
    resend(&app, &evt, &we).await;
    eventually("the redelivery logged", Duration::from_secs(20), || async {
        attempts(&app, &we, &evt).await.len() == 2
    })
    .await;
    let log = attempts(&app, &we, &evt).await;
    assert_eq!(log[0]["http_status"], 200, "{log:?}");
    assert!(
        log[0]["response_body"]
            .as_str()
            .unwrap()
            .contains("\"paid\""),
        "{log:?}"
    );
    assert_eq!(log[1]["http_status"], 200, "{log:?}");
    assert!(
        log[1]["response_body"]
            .as_str()
            .unwrap()
            .contains("\"duplicate\":true"),
        "{log:?}"
    );
    let again = json_with_status(deliver_signed(&app, &secret, &evt, &body).await, 200).await;
    assert_eq!(again["duplicate"], true);
    let expired = body.replace("checkout.session.completed", "checkout.session.expired");
    let late = json_with_status(
        deliver_signed(&app, &secret, "evt_late_expiry", &expired).await,
        200,
    )
    .await;
    assert!(late.get("status").is_none(), "{late}");
    assert_eq!(order(&app, &oid).await, paid, "nothing changed");

    // A genuine, signed event for less than the order's total does not pay it.
    let (sid2, oid2) = demo_checkout(&app, json!([{ "sku": "mug", "quantity": 1 }])).await;
    let short = json!({
        "id": "evt_short", "type": "checkout.session.completed", "created": now,
        "api_version": "2026-12-01",
        "data": { "object": { "id": sid2, "amount_minor": 1, "currency": "USD", "status": "complete" } }
    })
    .to_string();
    let ignored = json_with_status(
        deliver_signed(&app, &secret, "evt_short", &short).await,
        200,
    )
    .await;
    assert!(
        ignored["ignored"].as_str().unwrap().contains("amount"),
        "{ignored}"
    );
    assert_eq!(order(&app, &oid2).await["status"], "awaiting_payment");
    app.stop().await;
}

async fn a_restart_registers_no_second_endpoint(db: TestDb) {
    let first = spawn_app(&db, AppOptions::default()).await;
    let registered = shop_endpoint(&first).await;
    let secret = shop_secret(&first).await;
    first.stop().await;

    // Same database, another port: the same endpoint, its URL brought up to date.
    let second = spawn_app(&db, AppOptions::default()).await;
    let endpoint = shop_endpoint(&second).await;
    assert_eq!(endpoint["id"], registered["id"]);
    assert_eq!(endpoint["url"], format!("{}/demo/webhooks", second.url));
    assert_eq!(
        second.count("SELECT COUNT(*) FROM webhook_endpoints").await,
        1
    );
    assert_eq!(shop_secret(&second).await, secret);

    // The normal path, with the secret kept across the restart: pay, and the relay's signed
    // delivery marks the order paid.
    let (sid, oid) = demo_checkout(
        &second,
        json!([{ "sku": "mug", "quantity": 3 }, { "sku": "tea", "quantity": 7 }]),
    )
    .await;
    second.pay_by_card(&sid).await;
    wait_for_status(&second, &oid, "paid").await;

    // Deleted through the API: the next start registers a new one, still only one.
    let gone = second
        .request(
            reqwest::Method::DELETE,
            &format!("/v1/webhook_endpoints/{}", endpoint["id"].as_str().unwrap()),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(gone.status(), 204);
    second.stop().await;
    let third = spawn_app(&db, AppOptions::default()).await;
    let renewed = shop_endpoint(&third).await;
    assert_ne!(renewed["id"], registered["id"]);
    assert_ne!(shop_secret(&third).await, secret);
    assert_eq!(
        third.count("SELECT COUNT(*) FROM webhook_endpoints").await,
        1
    );
    third.stop().await;
}

async fn an_expired_checkout_expires_its_order(db: TestDb) {
    let app = spawn_app(&db, AppOptions::default()).await;
    let (_, oid) = demo_checkout(&app, json!([{ "sku": "tea", "quantity": 1 }])).await;
    app.state.clock.advance(Duration::from_secs(3601));
    // The background loop may sweep it first; either way it expires once.
    paygate::checkout::expiry::sweep(&app.state).await.unwrap();
    wait_for_status(&app, &oid, "expired").await;
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_shop_prices_the_cart_on_the_server() {
    let db = TestDb::sqlite().await;
    let app = spawn_app(&db, AppOptions::default()).await;
    let (id, oid) = demo_checkout(
        &app,
        json!([{ "sku": "mug", "quantity": 3 }, { "sku": "tea", "quantity": 7 }]),
    )
    .await;
    let session =
        json_with_status(app.get(&format!("/v1/checkout/sessions/{id}")).await, 200).await;
    assert_eq!(session["amount_minor"], 2633, "3 × 8.10 + 7 × 0.29");
    assert_eq!(session["metadata"]["demo_order"], oid.as_str());
    let o = order(&app, &oid).await;
    assert_eq!(o["amount_minor"], 2633);
    assert_eq!(o["amount"], "26.33");
    assert_eq!(o["status"], "awaiting_payment");
    assert_eq!(
        o["items"][0],
        json!({ "sku": "mug", "name": "Stoneware mug", "unit_amount": "8.10", "quantity": 3 })
    );
    for missing in ["ord_nope", "ord_000000000000000000000000"] {
        let res = app
            .client
            .get(format!("{}/demo/orders/{missing}", app.url))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 404, "{missing}");
    }
    for bad in [
        json!({ "items": [{ "sku": "yacht", "quantity": 1 }] }),
        json!({ "items": [{ "sku": "tea", "quantity": 1, "price": "0.01" }] }),
    ] {
        let res = app
            .client
            .post(format!("{}/demo/checkout", app.url))
            .json(&bad)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 400, "{bad}");
    }
    assert_eq!(app.count("SELECT COUNT(*) FROM demo_orders").await, 1);
    let page = app.client.get(&app.url).send().await.unwrap();
    let csp = page.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_string();
    assert!(
        csp.contains("script-src 'self'") && !csp.contains("unsafe-inline"),
        "{csp}"
    );
    let html = page.text().await.unwrap();
    assert!(html.contains("4242 4242 4242 4242"));
    assert_eq!(
        html.matches("<script").count(),
        html.matches("<script src=").count(),
        "no inline scripts"
    );
    let js = app
        .client
        .get(format!("{}/embed.js", app.url))
        .send()
        .await
        .unwrap();
    assert!(js.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/javascript"));
    let body = js.text().await.unwrap();
    assert!(
        body.contains("Paygate") && body.len() < 8 * 1024,
        "a small loader"
    );
    app.stop().await;
}

/// Live mode has no demo shop: no endpoint is registered and every `/demo/*` route is 404.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn live_mode_has_no_demo_shop() {
    let db = TestDb::sqlite().await;
    let app = spawn_app(
        &db,
        AppOptions {
            vars: live_mode_vars(),
            ..AppOptions::default()
        },
    )
    .await;
    assert_eq!(app.count("SELECT COUNT(*) FROM webhook_endpoints").await, 0);
    assert_eq!(
        app.count("SELECT COUNT(*) FROM settings WHERE key LIKE 'demo_shop%'")
            .await,
        0
    );
    let client = &app.client;
    for res in [
        client
            .post(format!("{}/demo/checkout", app.url))
            .json(&json!({ "items": [{ "sku": "mug", "quantity": 1 }] })),
        client.get(format!(
            "{}/demo/orders/ord_000000000000000000000000",
            app.url
        )),
        client.post(format!("{}/demo/webhooks", app.url)).body("{}"),
        client.get(format!("{}/demo/shop.js", app.url)),
    ] {
        let res = res.send().await.unwrap();
        assert_eq!(res.status(), 404, "{}", res.url());
    }
    let home = client
        .get(&app.url)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        home.contains("paygate is running") && !home.contains("shop.js"),
        "{home}"
    );
    app.stop().await;
}

/// The shop in Chromium: the widget's success only makes the page wait ("confirming"); the
/// order is shown paid once paygate's signed webhook reached the shop.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_shop_page_confirms_the_payment_from_the_signed_webhook() {
    let Some(browser) = browser::start().await else {
        return;
    };
    let db = TestDb::sqlite().await;
    let app = spawn_app(&db, AppOptions::default()).await;
    let we = shop_endpoint(&app).await["id"]
        .as_str()
        .unwrap()
        .to_string();
    enable(&app, &we, false).await;

    browser.client.goto(&app.url).await.expect("the shop");
    browser
        .wait_for("[data-sku=mug] button")
        .await
        .click()
        .await
        .expect("add to cart");
    browser
        .wait_js(
            "Pay enabled",
            "var b = document.getElementById('pay'); return !!b && !b.disabled",
        )
        .await;
    browser.wait_for("#pay").await.click().await.expect("pay");
    let frame = browser.wait_for("#checkout iframe").await;
    frame.enter_frame().await.expect("widget frame");
    browser
        .wait_for("#pg-method-card")
        .await
        .click()
        .await
        .expect("card");
    let card = browser.wait_for("#pg-card iframe").await;
    card.enter_frame().await.expect("card frame");
    for (field, text) in [
        ("#number", "4242424242424242"),
        ("#expiry", "12/34"),
        ("#cvc", "123"),
    ] {
        browser
            .wait_for(field)
            .await
            .send_keys(text)
            .await
            .expect("type");
    }
    browser.client.enter_parent_frame().await.expect("widget");
    browser
        .wait_js(
            "the widget's Pay enabled",
            "var b = document.getElementById('pg-pay'); return !!b && !b.disabled",
        )
        .await;
    browser
        .wait_for("#pg-pay")
        .await
        .click()
        .await
        .expect("pay");
    browser
        .wait_js(
            "the receipt",
            "var c = document.getElementById('pg-checkout'); return !!c && c.dataset.state === 'succeeded'",
        )
        .await;

    // The page heard onSuccess, but the shop has not heard from paygate.
    browser.client.enter_frame(None).await.expect("top");
    browser
        .wait_text("#shop-status", |t| t == "Payment received — confirming…")
        .await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(
        browser.wait_text("#shop-status", |t| !t.is_empty()).await,
        "Payment received — confirming…"
    );

    // paygate delivers the signed event: the page shows the order paid.
    let sid = browser
        .js("return document.querySelector('#checkout iframe').src")
        .await;
    let sid = sid.as_str().unwrap().to_string();
    let sid = sid
        .split(['/', '?', '&', '='])
        .find(|part| part.starts_with("cs_"))
        .expect("the session in the frame's URL")
        .to_string();
    enable(&app, &we, true).await;
    let completed = event(&app, &sid, "checkout.session.completed").await;
    resend(&app, completed["id"].as_str().unwrap(), &we).await;
    let text = browser
        .wait_text("#shop-status", |t| t.starts_with("Thank you!"))
        .await;
    assert!(
        text.starts_with("Thank you! Order ord_")
            && text.ends_with("is paid (confirmed by paygate's signed webhook)."),
        "{text}"
    );
    browser.close().await;
    app.stop().await;
}

/// The widget's files go out compressed to browsers that accept it (the size budget is for what
/// customers download): brotli when offered (browsers do over HTTPS), gzip otherwise, each the
/// copy the build wrote, and plain to clients that accept neither. Every answer says it varies
/// with `Accept-Encoding`, so no cache in between hands one client another's encoding.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_widget_files_are_served_compressed() {
    let dir = paygate_tests::app::assets_dir().join("widget");
    let Some(wasm) = std::fs::read_dir(&dir).ok().and_then(|entries| {
        entries
            .filter_map(Result::ok)
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .find(|name| name.ends_with(".wasm"))
    }) else {
        if std::env::var("PAYGATE_REQUIRE_BROWSER").is_ok_and(|v| v == "1") {
            panic!("no built widget in {}", dir.display());
        }
        eprintln!("\n!!! SKIPPED: no built widget (run scripts/build-frontend.sh)\n");
        return;
    };
    let db = TestDb::sqlite().await;
    let app = spawn_app(&db, AppOptions::default()).await;
    let url = format!("{}/assets/widget/{wasm}", app.url);
    let fetch = |accept: Option<&'static str>| {
        let mut request = app.client.get(&url);
        if let Some(accept) = accept {
            request = request.header("accept-encoding", accept);
        }
        async move { request.send().await.unwrap() }
    };
    let on_disk = |suffix: &str| std::fs::read(dir.join(format!("{wasm}{suffix}"))).unwrap();

    let plain = fetch(None).await;
    assert_eq!(plain.status(), 200);
    assert!(plain.headers().get("content-encoding").is_none());
    assert_eq!(plain.headers()["vary"], "accept-encoding");
    let raw = plain.bytes().await.unwrap();
    assert_eq!(raw.as_ref(), on_disk("").as_slice());

    for (accept, encoding, suffix) in [
        ("gzip", "gzip", ".gz"),
        ("br", "br", ".br"),
        ("gzip, deflate, br", "br", ".br"),
        ("br;q=0.5, gzip", "gzip", ".gz"),
    ] {
        let answer = fetch(Some(accept)).await;
        assert_eq!(answer.status(), 200, "{accept}");
        assert_eq!(answer.headers()["content-encoding"], encoding, "{accept}");
        assert_eq!(answer.headers()["content-type"], "application/wasm");
        assert_eq!(answer.headers()["vary"], "accept-encoding");
        let body = answer.bytes().await.unwrap();
        assert_eq!(body.as_ref(), on_disk(suffix).as_slice(), "{accept}");
        assert!(
            body.len() * 2 < raw.len(),
            "{} vs {}",
            body.len(),
            raw.len()
        );
    }
    // Brotli is the smaller of the two, or serving it would be pointless.
    assert!(on_disk(".br").len() < on_disk(".gz").len());
    app.stop().await;
}
