//! Payment links over real HTTP, on SQLite and PostgreSQL: the merchant API (create, list with
//! a cursor, read, deactivate and activate, bad input refused with nothing written), the public
//! page (showing it opens nothing; each press of its button opens a fresh session that names
//! the link), customer-chosen amounts within bounds, a limit that is never exceeded however the
//! visits interleave, expiry, the payments naming their link, events, and the console's routes
//! (CSRF, audit, the history filtered by link).

use paygate_tests::admin::{create_admin, AdminClient, PASSWORD};
use paygate_tests::app::json_with_status;
use paygate_tests::{on_both_databases, spawn_app, AppOptions, TestApp, TestDb};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use std::time::Duration;

on_both_databases!(
    each_press_of_the_button_opens_a_fresh_session_that_names_the_link,
    customer_chosen_amounts_stay_within_the_bounds,
    bad_link_requests_get_the_envelope_and_write_nothing,
    a_limit_is_never_exceeded,
    concurrent_visits_take_no_more_places_than_the_limit,
    deactivated_and_expired_links_open_no_session,
    links_are_listed_newest_first_with_a_cursor,
    the_console_creates_and_deactivates_links_audited_and_lists_their_payments,
);

async fn create_link(app: &TestApp, body: &Value) -> Value {
    json_with_status(app.post("/v1/payment_links", body).await, 201).await
}

/// A client that does not follow redirects, as the test must see the 303 itself.
fn browser() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

/// Presses the page's button (with `amount` for a custom-amount link): the response.
async fn press(app: &TestApp, link: &str, amount: Option<&str>) -> reqwest::Response {
    let form: Vec<(&str, &str)> = amount.map(|a| vec![("amount", a)]).unwrap_or_default();
    browser()
        .post(format!("{}/pay/{link}", app.url))
        .form(&form)
        .send()
        .await
        .unwrap()
}

/// Presses the button and follows the 303 to the widget: the new session's id.
async fn visit(app: &TestApp, link: &str, amount: Option<&str>) -> String {
    let res = press(app, link, amount).await;
    let status = res.status();
    let location = res
        .headers()
        .get("location")
        .map(|v| v.to_str().unwrap().to_string());
    assert_eq!(
        status,
        StatusCode::SEE_OTHER,
        "{:?}",
        res.text().await.unwrap()
    );
    let location = location.expect("Location");
    let sid = location
        .strip_prefix("/checkout/")
        .expect("the widget's page");
    assert!(sid.starts_with("cs_"), "{location}");
    sid.to_string()
}

async fn page(app: &TestApp, link: &str) -> (StatusCode, String) {
    let res = browser()
        .get(format!("{}/pay/{link}", app.url))
        .send()
        .await
        .unwrap();
    let status = res.status();
    let csp = res
        .headers()
        .get("content-security-policy")
        .map(|v| v.to_str().unwrap().to_string())
        .unwrap_or_default();
    assert!(
        csp.contains("default-src 'none'") && csp.contains("form-action 'self'"),
        "{csp}"
    );
    (status, res.text().await.unwrap())
}

async fn sessions_of(app: &TestApp, link: &str) -> i64 {
    app.count(&format!(
        "SELECT COUNT(*) FROM checkout_sessions WHERE payment_link_id = '{link}'"
    ))
    .await
}

async fn get_link(app: &TestApp, link: &str) -> Value {
    json_with_status(app.get(&format!("/v1/payment_links/{link}")).await, 200).await
}

async fn each_press_of_the_button_opens_a_fresh_session_that_names_the_link(db: TestDb) {
    let app = spawn_app(&db, AppOptions::default()).await;
    let link = create_link(
        &app,
        &json!({
            "currency": "USD",
            "line_items": [
                { "name": "Workshop <ticket>", "unit_amount": "40.00", "quantity": 2 },
                { "name": "Booklet", "unit_amount": "4.50", "quantity": 1 }
            ],
            "description": "Spring workshop",
            "metadata": { "campaign": "spring" },
            "success_url": "https://shop.example/thanks"
        }),
    )
    .await;
    let id = link["id"].as_str().unwrap();
    assert!(id.starts_with("plink_"), "{link}");
    assert_eq!(link["url"], format!("{}/pay/{id}", app.url));
    // 2 × 40.00 + 4.50, summed by the server.
    assert_eq!(link["amount"]["amount_minor"], 8450, "{link}");
    assert_eq!(link["line_items"][0]["total"]["amount"], "80.00");
    assert_eq!(link["active"], true);
    assert_eq!(link["available"], true);
    assert_eq!(link["completed_sessions"], 0);
    assert!(link.get("restrictions").is_none(), "{link}");

    // Showing the page opens nothing; it shows what is sold, escaped.
    let (status, html) = page(&app, id).await;
    assert_eq!(status, 200);
    assert!(html.contains("Workshop &lt;ticket&gt;"), "{html}");
    assert!(!html.contains("<ticket>"), "{html}");
    assert!(
        html.contains("Spring workshop") && html.contains("$84.50"),
        "{html}"
    );
    assert!(html.contains(&format!("action=\"/pay/{id}\"")), "{html}");
    assert_eq!(sessions_of(&app, id).await, 0, "a GET opens no session");

    // Each press opens its own session, priced by the server, naming the link.
    let first = visit(&app, id, None).await;
    let second = visit(&app, id, None).await;
    assert_ne!(first, second);
    assert_eq!(sessions_of(&app, id).await, 2);
    let s = json_with_status(
        app.get(&format!("/v1/checkout/sessions/{first}")).await,
        200,
    )
    .await;
    assert_eq!(s["payment_link"], id);
    assert_eq!(s["amount_minor"], 8450);
    assert_eq!(s["line_items"][1]["name"], "Booklet");
    assert_eq!(s["metadata"]["campaign"], "spring");
    assert_eq!(s["success_url"], "https://shop.example/thanks");
    // The widget shows the same session.
    let widget = json_with_status(
        app.client
            .get(format!("{}/checkout/api/sessions/{first}", app.url))
            .send()
            .await
            .unwrap(),
        200,
    )
    .await;
    assert_eq!(widget["amount_minor"], 8450);

    // Paid through the widget: the payment names the link and the link counts it.
    let payment = app.pay_by_card(&first).await;
    let p = json_with_status(app.get(&format!("/v1/payments/{payment}")).await, 200).await;
    assert_eq!(p["payment_link"], id, "{p}");
    assert_eq!(p["checkout_session"], first.as_str());
    assert_eq!(get_link(&app, id).await["completed_sessions"], 1);

    // Events: the link's creation, and sessions that carry the link.
    let events = json_with_status(app.get(&format!("/v1/events?object_id={id}")).await, 200).await;
    let kinds: Vec<&str> = events["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["type"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["payment_link.created"]);
    assert_eq!(
        events["data"][0]["data"]["object"]["amount"]["amount_minor"],
        8450
    );
    let created = json_with_status(
        app.get(&format!("/v1/events?object_id={second}")).await,
        200,
    )
    .await;
    assert_eq!(created["data"][0]["type"], "checkout.session.created");
    assert_eq!(created["data"][0]["data"]["object"]["payment_link"], id);

    // No such link: a page that says so, and no session.
    let (status, html) = page(&app, "plink_000000000000000000000000").await;
    assert_eq!(status, 404);
    assert!(html.contains("no payment link"), "{html}");
    let res = press(&app, "plink_000000000000000000000000", None).await;
    assert_eq!(res.status(), 404);
    app.stop().await;
}

async fn customer_chosen_amounts_stay_within_the_bounds(db: TestDb) {
    let app = spawn_app(&db, AppOptions::default()).await;
    let link = create_link(
        &app,
        &json!({
            "currency": "EUR",
            "custom_amount": { "minimum": "5", "maximum": "500.00", "preset": "20" },
            "description": "Donation"
        }),
    )
    .await;
    let id = link["id"].as_str().unwrap();
    assert!(link.get("amount").is_none(), "{link}");
    assert_eq!(link["custom_amount"]["minimum"]["amount_minor"], 500);
    assert_eq!(link["custom_amount"]["maximum"]["amount"], "500.00");
    assert_eq!(link["custom_amount"]["preset"]["amount_minor"], 2000);

    let (status, html) = page(&app, id).await;
    assert_eq!(status, 200);
    assert!(
        html.contains("name=\"amount\"") && html.contains("value=\"20.00\""),
        "{html}"
    );
    assert!(html.contains("€5.00") && html.contains("€500.00"), "{html}");

    // Out of bounds, malformed or missing: the form again with the reason; no session.
    for (typed, says) in [
        ("4.99", "From"),
        ("500.01", "From"),
        ("abc", ""),
        ("25.555", ""),
        ("-10", ""),
        ("", "Enter the amount"),
        ("<script>", ""),
    ] {
        let res = press(&app, id, Some(typed)).await;
        assert_eq!(res.status(), 400, "{typed:?}");
        let html = res.text().await.unwrap();
        assert!(html.contains("id=\"pay-error\""), "{typed:?}: {html}");
        assert!(html.contains(says), "{typed:?}: {html}");
        assert!(!html.contains("<script>"), "typed text is escaped: {html}");
    }
    assert_eq!(sessions_of(&app, id).await, 0);

    // Within the bounds (the edges included): a session for exactly that amount.
    for (typed, minor) in [(" 25.50 ", 2550), ("5", 500), ("500", 50000)] {
        let sid = visit(&app, id, Some(typed)).await;
        let s = json_with_status(app.get(&format!("/v1/checkout/sessions/{sid}")).await, 200).await;
        assert_eq!(s["amount_minor"], minor, "{typed:?}");
        assert_eq!(s["currency"], "EUR");
        assert_eq!(s["payment_link"], id);
    }
    app.stop().await;
}

async fn bad_link_requests_get_the_envelope_and_write_nothing(db: TestDb) {
    let app = spawn_app(&db, AppOptions::default()).await;
    let now = app.state.clock.now_secs();
    for (body, param) in [
        (json!({ "currency": "USD" }), "amount"),
        (
            json!({ "currency": "USD", "amount": "5.00", "custom_amount": { "minimum": "1", "maximum": "2" } }),
            "amount",
        ),
        (
            json!({ "currency": "USD", "amount": "5.00", "line_items": [{ "name": "x", "unit_amount": "1.00", "quantity": 1 }] }),
            "amount",
        ),
        (json!({ "currency": "USD", "amount": "0" }), "amount"),
        (json!({ "currency": "USD", "amount": "1.001" }), "amount"),
        (json!({ "currency": "XXX1", "amount": "1" }), "currency"),
        (
            json!({ "currency": "USD", "custom_amount": { "minimum": "10", "maximum": "5" } }),
            "custom_amount[maximum]",
        ),
        (
            json!({ "currency": "USD", "custom_amount": { "minimum": "0", "maximum": "5" } }),
            "custom_amount[minimum]",
        ),
        (
            json!({ "currency": "USD", "custom_amount": { "minimum": "1", "maximum": "5", "preset": "6" } }),
            "custom_amount[preset]",
        ),
        (
            json!({ "currency": "USD", "amount": "5", "restrictions": { "completed_sessions": { "limit": 0 } } }),
            "restrictions[completed_sessions][limit]",
        ),
        (
            json!({ "currency": "USD", "amount": "5", "expires_at": now - 1 }),
            "expires_at",
        ),
        (
            json!({ "currency": "USD", "amount": "5", "expires_at": now + 400 * 86_400 }),
            "expires_at",
        ),
        (
            json!({ "currency": "USD", "amount": "5", "success_url": "javascript:alert(1)" }),
            "success_url",
        ),
        (
            json!({ "currency": "USD", "amount": "5", "metadata": { "checkout_session": "x" } }),
            "metadata[checkout_session]",
        ),
    ] {
        let e = json_with_status(app.post("/v1/payment_links", &body).await, 400).await;
        assert_eq!(e["param"], param, "{body}: {e}");
    }
    // No allowed provider can take the amount (nor the bound): the session's own error.
    let e = json_with_status(
        app.post(
            "/v1/payment_links",
            &json!({ "currency": "KWD", "amount": "1.234" }),
        )
        .await,
        400,
    )
    .await;
    assert_eq!(e["code"], "amount_not_supported", "{e}");
    let e = json_with_status(
        app.post(
            "/v1/payment_links",
            &json!({ "currency": "USD", "custom_amount": { "minimum": "0.10", "maximum": "5" }, "providers": ["stripe"] }),
        )
        .await,
        400,
    )
    .await;
    assert_eq!(e["code"], "amount_not_supported", "{e}");
    assert_eq!(e["param"], "custom_amount[minimum]", "{e}");
    // Unknown fields are refused, not ignored.
    let e = json_with_status(
        app.post(
            "/v1/payment_links",
            &json!({ "currency": "USD", "amount": "5", "quantity": 3 }),
        )
        .await,
        400,
    )
    .await;
    assert_eq!(e["code"], "invalid_request", "{e}");
    assert_eq!(app.count("SELECT COUNT(*) FROM payment_links").await, 0);

    // Updates: nothing to change, an unknown link, a bad body; reads: bad id, bad query.
    let link = create_link(&app, &json!({ "currency": "USD", "amount": "5" })).await;
    let id = link["id"].as_str().unwrap();
    let e = json_with_status(
        app.post(&format!("/v1/payment_links/{id}"), &json!({}))
            .await,
        400,
    )
    .await;
    assert_eq!(e["param"], "active");
    json_with_status(
        app.post(
            &format!("/v1/payment_links/{id}"),
            &json!({ "active": "no" }),
        )
        .await,
        400,
    )
    .await;
    json_with_status(
        app.post(
            "/v1/payment_links/plink_000000000000000000000000",
            &json!({ "active": false }),
        )
        .await,
        404,
    )
    .await;
    json_with_status(app.get("/v1/payment_links/nope").await, 404).await;
    for query in [
        "limit=0",
        "limit=101",
        "starting_after=garbage",
        "active=maybe",
    ] {
        json_with_status(app.get(&format!("/v1/payment_links?{query}")).await, 400).await;
    }
    assert_eq!(get_link(&app, id).await["active"], true);
    let events = app
        .count("SELECT COUNT(*) FROM events WHERE type LIKE 'payment_link.%'")
        .await;
    assert_eq!(events, 1, "only the one link's creation");
    // Without a key: 401.
    let res = app
        .client
        .get(format!("{}/v1/payment_links", app.url))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 401);
    app.stop().await;
}

async fn a_limit_is_never_exceeded(db: TestDb) {
    let app = spawn_app(&db, AppOptions::default()).await;
    let link = create_link(
        &app,
        &json!({
            "currency": "USD", "amount": "15.00",
            "restrictions": { "completed_sessions": { "limit": 2 } }
        }),
    )
    .await;
    let id = link["id"].as_str().unwrap();
    assert_eq!(link["restrictions"]["completed_sessions"]["limit"], 2);
    assert_eq!(link["restrictions"]["completed_sessions"]["count"], 0);

    let a = visit(&app, id, None).await;
    let b = visit(&app, id, None).await;
    let s = json_with_status(app.get(&format!("/v1/checkout/sessions/{a}")).await, 200).await;
    // A limited link's session holds its place for 30 minutes.
    assert_eq!(
        s["expires_at"].as_i64().unwrap() - s["created"].as_i64().unwrap(),
        30 * 60
    );
    // Both places are held by open sessions: come back later.
    let busy = press(&app, id, None).await;
    assert_eq!(busy.status(), 409);
    assert_eq!(busy.headers()["retry-after"], "60");
    assert!(busy.text().await.unwrap().contains("Try again"));

    app.pay_by_card(&a).await;
    assert_eq!(press(&app, id, None).await.status(), 409, "b still holds");
    let now = get_link(&app, id).await;
    assert_eq!(now["restrictions"]["completed_sessions"]["count"], 1);
    assert_eq!(now["available"], true);

    // b is abandoned: once it expires its place is free again.
    app.state.clock.advance(Duration::from_secs(31 * 60));
    let c = visit(&app, id, None).await;
    assert_ne!(c, b);
    app.pay_by_card(&c).await;

    let full = get_link(&app, id).await;
    assert_eq!(full["restrictions"]["completed_sessions"]["count"], 2);
    assert_eq!(full["available"], false);
    assert_eq!(full["unavailable_reason"], "limit_reached");
    assert_eq!(full["active"], true, "the merchant's switch is untouched");
    let (status, html) = page(&app, id).await;
    assert_eq!(status, 410);
    assert!(html.contains("reached its limit"), "{html}");
    assert_eq!(press(&app, id, None).await.status(), 410);
    assert_eq!(
        app.count(&format!(
            "SELECT COUNT(*) FROM checkout_sessions WHERE payment_link_id = '{id}' AND status = 'complete'"
        ))
        .await,
        2
    );
    assert_eq!(sessions_of(&app, id).await, 3);
    app.stop().await;
}

async fn concurrent_visits_take_no_more_places_than_the_limit(db: TestDb) {
    let app = spawn_app(
        &db,
        AppOptions {
            vars: vec![("PAYGATE_WIDGET_RATE_LIMIT", "1000".into())],
            ..AppOptions::default()
        },
    )
    .await;
    let link = create_link(
        &app,
        &json!({
            "currency": "USD", "amount": "9.00",
            "restrictions": { "completed_sessions": { "limit": 3 } }
        }),
    )
    .await;
    let id = link["id"].as_str().unwrap().to_string();
    let visits = (0..12).map(|_| {
        let url = format!("{}/pay/{id}", app.url);
        async move {
            browser()
                .post(url)
                .form(&Vec::<(&str, &str)>::new())
                .send()
                .await
                .unwrap()
                .status()
        }
    });
    let statuses = futures::future::join_all(visits).await;
    let opened = statuses
        .iter()
        .filter(|s| **s == StatusCode::SEE_OTHER)
        .count();
    let busy = statuses
        .iter()
        .filter(|s| **s == StatusCode::CONFLICT)
        .count();
    assert_eq!((opened, busy), (3, 9), "{statuses:?}");
    assert_eq!(sessions_of(&app, &id).await, 3);
    app.stop().await;
}

async fn deactivated_and_expired_links_open_no_session(db: TestDb) {
    let app = spawn_app(&db, AppOptions::default()).await;
    let expires = app.state.clock.now_secs() + 3600;
    let link = create_link(
        &app,
        &json!({ "currency": "GBP", "amount": "3.20", "expires_at": expires }),
    )
    .await;
    let id = link["id"].as_str().unwrap();
    assert_eq!(link["expires_at"], expires);
    let open = visit(&app, id, None).await;

    let off = json_with_status(
        app.post(
            &format!("/v1/payment_links/{id}"),
            &json!({ "active": false }),
        )
        .await,
        200,
    )
    .await;
    assert_eq!(off["active"], false);
    assert_eq!(off["unavailable_reason"], "inactive");
    let (status, html) = page(&app, id).await;
    assert_eq!(status, 410);
    assert!(html.contains("no longer active"), "{html}");
    assert_eq!(press(&app, id, None).await.status(), 410);
    assert_eq!(sessions_of(&app, id).await, 1);
    // A session opened before the link was switched off can still be paid.
    app.pay_by_card(&open).await;
    // Switching it off again changes nothing and records no event.
    json_with_status(
        app.post(
            &format!("/v1/payment_links/{id}"),
            &json!({ "active": false }),
        )
        .await,
        200,
    )
    .await;
    let updates = json_with_status(
        app.get(&format!(
            "/v1/events?object_id={id}&type=payment_link.updated"
        ))
        .await,
        200,
    )
    .await;
    assert_eq!(updates["data"].as_array().unwrap().len(), 1, "{updates}");
    assert_eq!(updates["data"][0]["data"]["object"]["active"], false);

    let on = json_with_status(
        app.post(
            &format!("/v1/payment_links/{id}"),
            &json!({ "active": true }),
        )
        .await,
        200,
    )
    .await;
    assert_eq!(on["available"], true);
    assert_eq!(on["completed_sessions"], 1);
    assert_eq!(page(&app, id).await.0, 200);

    // Past its expiry: the page says so and opens nothing.
    app.state.clock.advance(Duration::from_secs(3601));
    let expired = get_link(&app, id).await;
    assert_eq!(expired["available"], false);
    assert_eq!(expired["unavailable_reason"], "expired");
    let (status, html) = page(&app, id).await;
    assert_eq!(status, 410);
    assert!(html.contains("expired"), "{html}");
    assert_eq!(press(&app, id, None).await.status(), 410);
    assert_eq!(sessions_of(&app, id).await, 1);
    app.stop().await;
}

async fn links_are_listed_newest_first_with_a_cursor(db: TestDb) {
    let app = spawn_app(&db, AppOptions::default()).await;
    let mut made = Vec::new();
    for amount in ["1.00", "2.00", "3.00"] {
        let link = create_link(&app, &json!({ "currency": "USD", "amount": amount })).await;
        made.push(link["id"].as_str().unwrap().to_string());
        app.state.clock.advance(Duration::from_millis(5));
    }
    json_with_status(
        app.post(
            &format!("/v1/payment_links/{}", made[1]),
            &json!({ "active": false }),
        )
        .await,
        200,
    )
    .await;
    let mut seen = Vec::new();
    let mut path = "/v1/payment_links?limit=2".to_string();
    loop {
        let page = json_with_status(app.get(&path).await, 200).await;
        for link in page["data"].as_array().unwrap() {
            seen.push(link["id"].as_str().unwrap().to_string());
        }
        match page["next_cursor"].as_str() {
            Some(cursor) => {
                assert_eq!(page["has_more"], true);
                path = format!("/v1/payment_links?limit=2&starting_after={cursor}");
            }
            None => break,
        }
    }
    let newest_first: Vec<String> = made.iter().rev().cloned().collect();
    assert_eq!(seen, newest_first);
    let inactive = json_with_status(app.get("/v1/payment_links?active=false").await, 200).await;
    assert_eq!(inactive["data"].as_array().unwrap().len(), 1);
    assert_eq!(inactive["data"][0]["id"], made[1].as_str());
    let active = json_with_status(app.get("/v1/payment_links?active=true").await, 200).await;
    assert_eq!(active["data"].as_array().unwrap().len(), 2);

    // A creation retried with its Idempotency-Key makes one link, answered the same.
    let body = json!({ "currency": "USD", "amount": "4.00" });
    let first = app.post_idem("/v1/payment_links", &body, "link-1").await;
    let first = json_with_status(first, 201).await;
    let again = app.post_idem("/v1/payment_links", &body, "link-1").await;
    assert_eq!(again.headers()["idempotent-replayed"], "true");
    assert_eq!(json_with_status(again, 201).await["id"], first["id"]);
    assert_eq!(app.count("SELECT COUNT(*) FROM payment_links").await, 4);
    app.stop().await;
}

async fn the_console_creates_and_deactivates_links_audited_and_lists_their_payments(db: TestDb) {
    let app = spawn_app(&db, AppOptions::default()).await;
    create_admin(&app, "ops@shop.example").await;
    let admin = AdminClient::sign_in(&app, "ops@shop.example", PASSWORD).await;

    // Without the CSRF token: refused, nothing made.
    let res = app
        .client
        .post(format!("{}/admin/api/payment_links", app.url))
        .header("cookie", &admin.cookie)
        .json(&json!({ "currency": "USD", "amount": "7.00" }))
        .send()
        .await
        .unwrap();
    assert_eq!(
        json_with_status(res, 403).await["code"],
        "csrf_token_invalid"
    );
    // Without a session: 401.
    let res = app
        .client
        .get(format!("{}/admin/api/payment_links", app.url))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 401);
    assert_eq!(app.count("SELECT COUNT(*) FROM payment_links").await, 0);

    let res = admin
        .request(Method::POST, "/admin/api/payment_links")
        .json(&json!({ "currency": "USD", "amount": "7.00", "description": "Mug" }))
        .send()
        .await
        .unwrap();
    let link = json_with_status(res, 201).await;
    let id = link["id"].as_str().unwrap().to_string();
    let other = create_link(&app, &json!({ "currency": "USD", "amount": "7.00" })).await;
    let listed = admin.get_json("/admin/api/payment_links").await;
    assert_eq!(listed["data"].as_array().unwrap().len(), 2);
    assert_eq!(listed["data"][1]["id"], id.as_str());

    // Payments of both links (and one without a link): the history filter keeps the link's.
    let sid = visit(&app, &id, None).await;
    let mine = app.pay_by_card(&sid).await;
    let sid = visit(&app, other["id"].as_str().unwrap(), None).await;
    app.pay_by_card(&sid).await;
    app.card_checkout(&json!({ "amount": "7.00", "currency": "USD" }))
        .await;
    let history = admin
        .get_json(&format!("/admin/api/payments?payment_link={id}"))
        .await;
    let rows = history["data"].as_array().unwrap();
    assert_eq!(rows.len(), 1, "{history}");
    assert_eq!(rows[0]["id"], mine.as_str());
    assert_eq!(history["totals"][0]["count"], 1, "{history}");
    assert_eq!(history["totals"][0]["amount_minor"], 700);
    let e = json_with_status(
        admin.get("/admin/api/payments?payment_link=cs_nope").await,
        400,
    )
    .await;
    assert_eq!(e["param"], "payment_link");

    let res = admin
        .request(Method::POST, &format!("/admin/api/payment_links/{id}"))
        .json(&json!({ "active": false }))
        .send()
        .await
        .unwrap();
    assert_eq!(json_with_status(res, 200).await["active"], false);
    let audit = admin.get_json("/admin/api/audit?limit=50").await;
    let actions: Vec<(&str, &str)> = audit["data"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["action"].as_str().unwrap().starts_with("payment_link"))
        .map(|e| {
            (
                e["action"].as_str().unwrap(),
                e["target"].as_str().unwrap_or_default(),
            )
        })
        .collect();
    assert_eq!(
        actions,
        [
            ("payment_link_deactivate", id.as_str()),
            ("payment_link_create", id.as_str())
        ],
        "{audit}"
    );
    app.stop().await;
}
