//! The admin console's API on SQLite and PostgreSQL: every route needs a session, every state
//! change the CSRF token; sign-in is rate-limited per account and per address; the history's
//! filters, search, pagination and totals agree with an oracle computed from the seeded rows;
//! the CSV export is complete and injection-safe; console refunds go through the merchant
//! API's path exactly once; the audit log records it all.

use paygate_tests::admin::{create_admin, sign_in_from, sign_in_raw, AdminClient, PASSWORD};
use paygate_tests::app::json_with_status;
use paygate_tests::seed::{self, Seeded, DAY_MS};
use paygate_tests::{on_both_databases, spawn_app, AppOptions, TestApp, TestDb, TestProvider};
use reqwest::Method;
use serde_json::{json, Value};
use shared::api::{PaymentStatus, ProviderName};
use shared::Currency;
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

on_both_databases!(
    every_admin_route_needs_a_session_and_state_changes_need_csrf,
    sign_in_sessions_sign_out_and_disabled_admins,
    sign_in_is_rate_limited_per_account_and_per_address,
    guesses_slow_an_account_down_but_never_lock_its_admin_out,
    history_filters_search_and_totals_match_the_seeded_rows,
    pagination_is_stable_while_new_payments_arrive,
    csv_export_has_every_filtered_row_and_neutralises_formulas,
    daily_stats_match_the_seeded_rows,
    console_refunds_go_through_the_refund_path_once_and_are_audited,
    the_daily_rollup_stays_exact_through_every_write_path,
);

const ADMIN: &str = "ops@shop.example";

async fn signed_in(db: &TestDb) -> (TestApp, AdminClient) {
    let app = spawn_app(db, AppOptions::default()).await;
    create_admin(&app, ADMIN).await;
    let admin = AdminClient::sign_in(&app, ADMIN, PASSWORD).await;
    (app, admin)
}

async fn problem(res: reqwest::Response, status: u16) -> Value {
    assert_eq!(
        res.headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok()),
        Some("application/problem+json")
    );
    json_with_status(res, status).await
}

async fn every_admin_route_needs_a_session_and_state_changes_need_csrf(db: TestDb) {
    let (app, admin) = signed_in(&db).await;
    let routes = [
        (Method::GET, "/admin/api/session"),
        (Method::DELETE, "/admin/api/session"),
        (Method::GET, "/admin/api/payments"),
        (Method::GET, "/admin/api/payments/export.csv"),
        (
            Method::GET,
            "/admin/api/payments/pay_000000000000000000000000",
        ),
        (
            Method::POST,
            "/admin/api/payments/pay_000000000000000000000000/refunds",
        ),
        (Method::GET, "/admin/api/stats/daily"),
        (Method::GET, "/admin/api/audit"),
    ];
    for (method, path) in &routes {
        // No cookie at all, then a forged one.
        for cookie in [None, Some("paygate_admin=forged-token")] {
            let mut req = app
                .client
                .request(method.clone(), format!("{}{path}", app.url));
            if let Some(c) = cookie {
                req = req.header("cookie", c);
            }
            let e = problem(req.json(&json!({})).send().await.unwrap(), 401).await;
            assert_eq!(e["code"], "unauthorized", "{method} {path}");
        }
    }
    // Signed in, but a state change without the CSRF token, or with a wrong one: 403, and the
    // session is still there afterwards (sign-out did not happen).
    for token in [None, Some("wrong")] {
        let mut req = app
            .client
            .delete(format!("{}/admin/api/session", app.url))
            .header("cookie", &admin.cookie);
        if let Some(t) = token {
            req = req.header("x-csrf-token", t);
        }
        let e = problem(req.send().await.unwrap(), 403).await;
        assert_eq!(e["code"], "csrf_token_invalid");
    }
    // The right token from another origin: refused too.
    let e = problem(
        admin
            .request(Method::DELETE, "/admin/api/session")
            .header("origin", "http://evil.example")
            .send()
            .await
            .unwrap(),
        403,
    )
    .await;
    assert_eq!(e["code"], "cross_origin_refused");
    assert_eq!(admin.get_json("/admin/api/session").await["email"], ADMIN);
    // Admin answers are never cached.
    let res = admin.get("/admin/api/payments").await;
    assert_eq!(res.headers()["cache-control"], "no-store");
    // An unknown admin API route is a JSON 404, not the console page.
    let e = problem(admin.get("/admin/api/nothing-here").await, 404).await;
    assert_eq!(e["code"], "not_found");
    app.stop().await;
}

async fn audit_actions(admin: &AdminClient) -> Vec<(String, String)> {
    let page = admin.get_json("/admin/api/audit?limit=200").await;
    page["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["actor"].as_str().unwrap().to_string(),
                e["action"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

async fn sign_in_sessions_sign_out_and_disabled_admins(db: TestDb) {
    let app = spawn_app(&db, AppOptions::default()).await;
    create_admin(&app, ADMIN).await;
    // The stored hash is Argon2id, never the password.
    let hash: String = sqlx::query_scalar("SELECT password_hash FROM admins")
        .fetch_one(&app.state.db.pool)
        .await
        .unwrap();
    assert!(hash.starts_with("$argon2id$") && !hash.contains(PASSWORD));

    let e = problem(sign_in_raw(&app, ADMIN, "not the password").await, 401).await;
    assert_eq!(e["detail"], "Wrong email or password.");
    let e = problem(
        sign_in_raw(&app, "nobody@shop.example", PASSWORD).await,
        401,
    )
    .await;
    assert_eq!(
        e["detail"], "Wrong email or password.",
        "no account enumeration"
    );
    let e = problem(
        app.client
            .post(format!("{}/admin/api/session", app.url))
            .json(&json!({ "email": ADMIN }))
            .send()
            .await
            .unwrap(),
        400,
    )
    .await;
    assert_eq!(e["code"], "invalid_request");

    // Success: the cookie's attributes (Secure is relaxed only because the public URL is
    // plain HTTP on 127.0.0.1), and the email's case does not matter.
    let res = sign_in_raw(&app, "OPS@Shop.Example", PASSWORD).await;
    assert_eq!(res.status(), 200);
    let cookie = res.headers()["set-cookie"].to_str().unwrap().to_string();
    for attribute in [
        "HttpOnly",
        "SameSite=Strict",
        "Path=/admin",
        "Max-Age=43200",
    ] {
        assert!(cookie.contains(attribute), "{cookie}");
    }
    assert!(!cookie.contains("Secure"), "{cookie}");
    let token = cookie
        .split(';')
        .next()
        .unwrap()
        .trim_start_matches("paygate_admin=");
    let stored: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM admin_sessions WHERE token_hash = $1 OR csrf_token = $1 OR admin_id = $1")
            .bind(token)
            .fetch_one(&app.state.db.pool)
            .await
            .unwrap();
    assert_eq!(stored, 0, "the session token itself is never stored");

    let admin = AdminClient::sign_in(&app, ADMIN, PASSWORD).await;
    let me = admin.get_json("/admin/api/session").await;
    assert_eq!(me["email"], ADMIN);
    assert_eq!(me["csrf_token"], admin.csrf.as_str());

    // Sign out ends that session only.
    let res = admin
        .request(Method::DELETE, "/admin/api/session")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 204);
    assert!(res.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .contains("Max-Age=0"));
    problem(admin.get("/admin/api/session").await, 401).await;

    // Sessions expire after 30 idle minutes.
    let admin = AdminClient::sign_in(&app, ADMIN, PASSWORD).await;
    app.state.clock.advance(Duration::from_secs(29 * 60));
    admin.get_json("/admin/api/session").await;
    app.state.clock.advance(Duration::from_secs(29 * 60));
    admin.get_json("/admin/api/session").await;
    app.state.clock.advance(Duration::from_secs(31 * 60));
    problem(admin.get("/admin/api/session").await, 401).await;

    // Disabling an admin ends their sessions at once and refuses their sign-in.
    let admin = AdminClient::sign_in(&app, ADMIN, PASSWORD).await;
    create_admin(&app, "lead@shop.example").await;
    paygate::admin::accounts::disable(&app.state.db, ADMIN, app.state.clock.now_ms())
        .await
        .unwrap();
    problem(admin.get("/admin/api/session").await, 401).await;
    problem(sign_in_raw(&app, ADMIN, PASSWORD).await, 401).await;

    let lead = AdminClient::sign_in(&app, "lead@shop.example", PASSWORD).await;
    let actions = audit_actions(&lead).await;
    let expect = |actor: &str, action: &str| {
        assert!(
            actions.contains(&(actor.to_string(), action.to_string())),
            "{actor} {action} missing from {actions:?}"
        )
    };
    expect("cli", "admin_created");
    expect("cli", "admin_disabled");
    expect(ADMIN, "sign_in_failed");
    expect("nobody@shop.example", "sign_in_failed");
    expect(ADMIN, "sign_in");
    expect(ADMIN, "sign_out");
    expect("lead@shop.example", "sign_in");
    app.stop().await;
}

async fn sign_in_is_rate_limited_per_account_and_per_address(db: TestDb) {
    let app = spawn_app(&db, AppOptions::default()).await;
    create_admin(&app, ADMIN).await;
    for _ in 0..paygate::admin::MAX_PER_ACCOUNT_AND_ADDRESS {
        problem(sign_in_raw(&app, ADMIN, "guess").await, 401).await;
    }
    // Over the limit even the right password is refused, with Retry-After.
    let res = sign_in_raw(&app, ADMIN, PASSWORD).await;
    let retry: u64 = res.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(retry > 0 && retry <= 15 * 60, "{retry}");
    assert_eq!(problem(res, 429).await["code"], "rate_limited");

    // The window passes: the account may sign in again.
    app.state.clock.advance(Duration::from_millis(
        paygate::admin::WINDOW_MS as u64 + 1000,
    ));
    AdminClient::sign_in(&app, ADMIN, PASSWORD).await;
    problem(sign_in_raw(&app, ADMIN, "guess").await, 401).await;
    AdminClient::sign_in(&app, ADMIN, PASSWORD).await;

    // A successful sign-in clears the account's failures: four typos, a success, then five
    // more typos are all answered 401; only the sixth after the success is refused.
    app.state.clock.advance(Duration::from_millis(
        paygate::admin::WINDOW_MS as u64 + 1000,
    ));
    for _ in 0..paygate::admin::MAX_PER_ACCOUNT_AND_ADDRESS - 1 {
        problem(sign_in_raw(&app, ADMIN, "typo").await, 401).await;
    }
    AdminClient::sign_in(&app, ADMIN, PASSWORD).await;
    for _ in 0..paygate::admin::MAX_PER_ACCOUNT_AND_ADDRESS {
        problem(sign_in_raw(&app, ADMIN, "typo").await, 401).await;
    }
    problem(sign_in_raw(&app, ADMIN, PASSWORD).await, 429).await;

    // A burst of parallel guesses gets no more tries than the limit allows.
    app.state.clock.advance(Duration::from_millis(
        paygate::admin::WINDOW_MS as u64 + 1000,
    ));
    let burst =
        futures::future::join_all((0..12).map(|_| sign_in_raw(&app, "lead@shop.example", "guess")))
            .await;
    let statuses: Vec<u16> = burst.iter().map(|r| r.status().as_u16()).collect();
    let tried = statuses.iter().filter(|s| **s == 401).count() as i64;
    // (Refused attempts are counted while they are checked, so a burst may even get fewer.)
    assert!(
        (1..=paygate::admin::MAX_PER_ACCOUNT_AND_ADDRESS).contains(&tried),
        "{statuses:?}"
    );
    assert!(
        statuses.iter().all(|s| *s == 401 || *s == 429),
        "{statuses:?}"
    );
    app.state.clock.advance(Duration::from_millis(
        paygate::admin::WINDOW_MS as u64 + 1000,
    ));

    // One address guessing many accounts is stopped too, on an account it never tried; a
    // successful sign-in from that address half-way does not reset the address's count.
    let per_address = paygate::admin::MAX_PER_ADDRESS;
    for i in 0..per_address {
        if i == per_address / 2 {
            AdminClient::sign_in(&app, ADMIN, PASSWORD).await;
        }
        problem(
            sign_in_raw(&app, &format!("user{i}@shop.example"), "guess").await,
            401,
        )
        .await;
    }
    problem(sign_in_raw(&app, "victim@shop.example", "guess").await, 429).await;
    problem(sign_in_raw(&app, ADMIN, PASSWORD).await, 429).await;
    app.stop().await;
}

/// Guesses at the admin's password lock out the guessing address, never the admin: from
/// another address the right password still signs in. Many addresses guessing at one account
/// are slowed (an address that already failed for it waits a second more per further failure),
/// while an address that has not failed still gets its try.
async fn guesses_slow_an_account_down_but_never_lock_its_admin_out(db: TestDb) {
    let app = spawn_app(&db, AppOptions::default()).await;
    create_admin(&app, ADMIN).await;
    let attacker = [127, 0, 0, 2];
    for _ in 0..paygate::admin::MAX_PER_ACCOUNT_AND_ADDRESS {
        problem(sign_in_from(&app, attacker, ADMIN, "guess").await, 401).await;
    }
    problem(sign_in_from(&app, attacker, ADMIN, PASSWORD).await, 429).await;
    let res = sign_in_from(&app, [127, 0, 0, 3], ADMIN, PASSWORD).await;
    assert_eq!(res.status(), 200, "the admin, elsewhere, signs in");

    // Many addresses, one failure each: every one gets its try.
    app.state.clock.advance(Duration::from_millis(
        paygate::admin::WINDOW_MS as u64 + 1000,
    ));
    let addresses: Vec<[u8; 4]> = (10..23).map(|i| [127, 0, 0, i]).collect();
    for a in &addresses {
        problem(sign_in_from(&app, *a, ADMIN, "guess").await, 401).await;
    }
    let failures = addresses.len() as i64;
    assert!(failures > paygate::admin::ACCOUNT_SLOWDOWN_AFTER + 1);
    // An address that already failed for the account waits one second per failure beyond
    // the threshold (counted before its try).
    let res = sign_in_from(&app, addresses[0], ADMIN, "guess").await;
    let retry: i64 = res.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert_eq!(retry, failures - paygate::admin::ACCOUNT_SLOWDOWN_AFTER);
    problem(res, 429).await;
    // Once the wait has passed it may guess again; the next wait is a second longer.
    app.state.clock.advance(Duration::from_secs(retry as u64));
    problem(sign_in_from(&app, addresses[1], ADMIN, "guess").await, 401).await;
    let res = sign_in_from(&app, addresses[2], ADMIN, "guess").await;
    assert_eq!(
        res.headers()["retry-after"],
        (retry + 1).to_string().as_str()
    );
    problem(res, 429).await;
    // An address that has not failed still tries, and the right password signs in.
    assert_eq!(
        sign_in_from(&app, [127, 0, 0, 50], ADMIN, PASSWORD)
            .await
            .status(),
        200
    );
    // A success clears the account's count: no slowdown is left.
    problem(sign_in_from(&app, addresses[0], ADMIN, "guess").await, 401).await;
    app.stop().await;
}

// ---- history -------------------------------------------------------------------------------

const END_MS: i64 = 20_780 * DAY_MS; // 2026-11-23
const SEED_DAYS: i64 = 20;

async fn seeded(db: &TestDb, n: usize) -> (TestApp, AdminClient, Vec<Seeded>) {
    let (app, admin) = signed_in(db).await;
    let rows = seed::generate(n, 7, END_MS, SEED_DAYS, 12);
    seed::insert(&app.state.db, &app.state.cipher, &rows)
        .await
        .unwrap();
    (app, admin, rows)
}

fn day(ms: i64) -> i64 {
    ms.div_euclid(DAY_MS)
}

fn date(d: i64) -> String {
    paygate::admin::days::format(d)
}

/// The oracle: which seeded rows a query matches, newest first.
#[derive(Default, Clone)]
struct Expect {
    status: Option<PaymentStatus>,
    provider: Option<ProviderName>,
    currency: Option<Currency>,
    from: Option<i64>,
    to: Option<i64>,
    min: Option<i64>,
    max: Option<i64>,
    email: Option<String>,
    q: Option<String>,
}

impl Expect {
    fn matches(&self, r: &Seeded) -> bool {
        self.status.is_none_or(|s| r.status == s)
            && self.provider.is_none_or(|p| r.provider == p)
            && self.currency.is_none_or(|c| r.currency == c)
            && self.from.is_none_or(|d| day(r.created_at) >= d)
            && self.to.is_none_or(|d| day(r.created_at) <= d)
            && self.min.is_none_or(|m| r.amount_minor >= m)
            && self.max.is_none_or(|m| r.amount_minor <= m)
            && self
                .email
                .as_ref()
                .is_none_or(|e| r.email.as_deref() == Some(e.as_str()))
            && self.q.as_ref().is_none_or(|q| {
                [
                    Some(&r.id),
                    Some(&r.reference),
                    r.authorization.as_ref(),
                    r.capture.as_ref(),
                ]
                .contains(&Some(q))
            })
    }

    fn ids(&self, rows: &[Seeded]) -> Vec<String> {
        let mut m: Vec<&Seeded> = rows.iter().filter(|r| self.matches(r)).collect();
        m.sort_by(|a, b| (b.created_at, &b.id).cmp(&(a.created_at, &a.id)));
        m.into_iter().map(|r| r.id.clone()).collect()
    }

    fn totals(&self, rows: &[Seeded]) -> Value {
        let mut by: BTreeMap<&str, [i64; 4]> = BTreeMap::new();
        for r in rows.iter().filter(|r| self.matches(r)) {
            let t = by.entry(r.currency.code()).or_default();
            t[0] += 1;
            t[1] += r.amount_minor;
            t[2] += r.captured_minor;
            t[3] += r.refunded_minor;
        }
        Value::Array(
            by.into_iter()
                .map(|(c, t)| {
                    json!({ "currency": c, "count": t[0], "amount_minor": t[1], "captured_minor": t[2], "refunded_minor": t[3] })
                })
                .collect(),
        )
    }
}

/// Every page of a query, following cursors.
async fn all_pages(admin: &AdminClient, query: &str, limit: u32) -> (Vec<String>, Value) {
    let mut ids = Vec::new();
    let mut cursor: Option<String> = None;
    let totals = loop {
        let mut path = format!("/admin/api/payments?limit={limit}&{query}");
        if let Some(c) = &cursor {
            path += &format!("&cursor={c}");
        }
        let page = admin.get_json(&path).await;
        let data = page["data"].as_array().unwrap();
        assert!(data.len() <= limit as usize);
        ids.extend(data.iter().map(|r| r["id"].as_str().unwrap().to_string()));
        match page["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_string()),
            None => break page["totals"].clone(),
        }
    };
    (ids, totals)
}

async fn history_filters_search_and_totals_match_the_seeded_rows(db: TestDb) {
    let (app, admin, rows) = seeded(&db, 600).await;
    let mid = day(END_MS) - 10;
    let paypal_capture = rows.iter().find_map(|r| r.capture.clone()).unwrap();
    let emailed = rows
        .iter()
        .find(|r| r.email_via_session)
        .unwrap()
        .email
        .clone()
        .unwrap();
    let cases: Vec<(String, Expect)> = vec![
        (String::new(), Expect::default()),
        (
            "status=succeeded".into(),
            Expect {
                status: Some(PaymentStatus::Succeeded),
                ..Default::default()
            },
        ),
        (
            "provider=paypal&status=failed".into(),
            Expect {
                provider: Some(ProviderName::Paypal),
                status: Some(PaymentStatus::Failed),
                ..Default::default()
            },
        ),
        (
            "currency=eur".into(),
            Expect {
                currency: Some(Currency::EUR),
                ..Default::default()
            },
        ),
        (
            format!("from={}&to={}", date(mid - 3), date(mid)),
            Expect {
                from: Some(mid - 3),
                to: Some(mid),
                ..Default::default()
            },
        ),
        (
            format!("from={}", date(mid)),
            Expect {
                from: Some(mid),
                ..Default::default()
            },
        ),
        (
            "currency=USD&amount_min=100.00&amount_max=250.50".into(),
            Expect {
                currency: Some(Currency::USD),
                min: Some(10_000),
                max: Some(25_050),
                ..Default::default()
            },
        ),
        (
            "currency=JPY&amount_min=40000".into(),
            Expect {
                currency: Some(Currency::JPY),
                min: Some(40_000),
                ..Default::default()
            },
        ),
        (
            format!(
                "currency=USD&amount_min=1.00&amount_max=400&status=succeeded&provider=stripe&from={}",
                date(mid - 5)
            ),
            Expect {
                currency: Some(Currency::USD),
                min: Some(100),
                max: Some(40_000),
                status: Some(PaymentStatus::Succeeded),
                provider: Some(ProviderName::Stripe),
                from: Some(mid - 5),
                ..Default::default()
            },
        ),
        (
            format!("email={}", emailed.to_uppercase()),
            Expect {
                email: Some(emailed.clone()),
                ..Default::default()
            },
        ),
        (
            format!("email={emailed}&status=succeeded"),
            Expect {
                email: Some(emailed.clone()),
                status: Some(PaymentStatus::Succeeded),
                ..Default::default()
            },
        ),
        (
            format!("q={}", rows[17].id),
            Expect {
                q: Some(rows[17].id.clone()),
                ..Default::default()
            },
        ),
        (
            format!("q={}", rows[42].reference),
            Expect {
                q: Some(rows[42].reference.clone()),
                ..Default::default()
            },
        ),
        (
            format!("q={paypal_capture}"),
            Expect {
                q: Some(paypal_capture.clone()),
                ..Default::default()
            },
        ),
        (
            "q=pi_nothing_like_this".into(),
            Expect {
                q: Some("pi_nothing_like_this".into()),
                ..Default::default()
            },
        ),
    ];
    for (query, expect) in &cases {
        let want = expect.ids(&rows);
        let (got, totals) = all_pages(&admin, query, 97).await;
        assert_eq!(got, want, "ids for {query:?}");
        assert_eq!(totals, expect.totals(&rows), "totals for {query:?}");
    }
    // The email filter really goes through both the customer and the checkout session.
    let by_email = Expect {
        email: Some(emailed.clone()),
        ..Default::default()
    };
    let matched: Vec<&Seeded> = rows.iter().filter(|r| by_email.matches(r)).collect();
    assert!(
        matched.iter().any(|r| r.email_via_session) && matched.iter().any(|r| !r.email_via_session)
    );

    // Rows carry what the table shows, the email decrypted.
    let page = admin
        .get_json(&format!("/admin/api/payments?q={}", rows[42].reference))
        .await;
    let row = &page["data"][0];
    let r = &rows[42];
    assert_eq!(row["status"], r.status.as_str());
    assert_eq!(row["amount"]["amount_minor"], r.amount_minor);
    assert_eq!(row["amount"]["currency"], r.currency.code());
    assert_eq!(row["customer_email"].as_str(), r.email.as_deref());
    // Emails are encrypted at rest: the address itself is nowhere in the tables.
    let clear: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM customers WHERE email_ciphertext LIKE '%shop.example%'",
    )
    .fetch_one(&app.state.db.pool)
    .await
    .unwrap();
    assert_eq!(clear, 0);

    // Bad filters: a clear error naming the field.
    for (query, param) in [
        ("status=bogus", None),
        ("currency=XYZ", Some("currency")),
        ("from=2026-13-01", Some("from")),
        ("from=2026-11-20&to=2026-11-01", Some("from")),
        ("amount_min=10", Some("amount_min")),
        ("currency=USD&amount_min=1.234", Some("amount_min")),
        ("currency=USD&amount_min=5&amount_max=4", Some("amount_min")),
        // One past it would overflow when the totals look beyond the bound.
        (
            "currency=USD&amount_max=92233720368547758.07",
            Some("amount_max"),
        ),
        ("email=not-an-email", Some("email")),
        ("limit=0", Some("limit")),
        ("cursor=garbage", Some("cursor")),
        ("surprise=1", None),
    ] {
        let e = problem(
            admin.get(&format!("/admin/api/payments?{query}")).await,
            400,
        )
        .await;
        if let Some(p) = param {
            assert_eq!(e["param"], p, "{query}");
        }
    }
    // The largest bound that is not refused filters out nothing.
    let all = admin.get("/admin/api/payments?currency=USD").await;
    let all = json_with_status(all, 200).await;
    let near_max = admin
        .get("/admin/api/payments?currency=USD&amount_max=92233720368547758.06")
        .await;
    let near_max = json_with_status(near_max, 200).await;
    assert!(
        all["totals"].as_array().is_some_and(|t| !t.is_empty()),
        "{all}"
    );
    assert_eq!(near_max["totals"], all["totals"]);
    app.stop().await;
}

async fn pagination_is_stable_while_new_payments_arrive(db: TestDb) {
    let (app, admin, rows) = seeded(&db, 120).await;
    let want = Expect::default().ids(&rows);
    let mut got = Vec::new();
    let mut cursor: Option<String> = None;
    let mut round = 0;
    loop {
        let path = match &cursor {
            Some(c) => format!("/admin/api/payments?limit=25&cursor={c}"),
            None => "/admin/api/payments?limit=25".to_string(),
        };
        let page = admin.get_json(&path).await;
        got.extend(
            page["data"]
                .as_array()
                .unwrap()
                .iter()
                .map(|r| r["id"].as_str().unwrap().to_string()),
        );
        // New payments arrive between page loads (newer than everything seen).
        let newer = seed::generate(3, 100 + round, END_MS + DAY_MS, 1, 2);
        seed::insert(&app.state.db, &app.state.cipher, &newer)
            .await
            .unwrap();
        round += 1;
        match page["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_string()),
            None => break,
        }
    }
    assert_eq!(got, want, "no row skipped or repeated");
    // And the first page now starts with the newest arrivals.
    let first = admin.get_json("/admin/api/payments?limit=1").await;
    assert!(first["data"][0]["id"]
        .as_str()
        .unwrap()
        .starts_with("pay_seed01"));
    app.stop().await;
}

async fn csv_export_has_every_filtered_row_and_neutralises_formulas(db: TestDb) {
    let (app, admin, rows) = seeded(&db, 250).await;
    // A succeeded payment whose description and provider reference a spreadsheet would run
    // as formulas.
    let target = rows
        .iter()
        .find(|r| r.status == PaymentStatus::Succeeded)
        .unwrap()
        .id
        .clone();
    sqlx::query("UPDATE payments SET description = $1, provider_reference = $2 WHERE id = $3")
        .bind("=HYPERLINK(\"http://evil.example\",\"click\")")
        .bind("@SUM(1+1)")
        .bind(&target)
        .execute(&app.state.db.pool)
        .await
        .unwrap();
    let res = admin
        .get("/admin/api/payments/export.csv?status=succeeded")
        .await;
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["content-type"], "text/csv; charset=utf-8");
    assert!(res.headers()["content-disposition"]
        .to_str()
        .unwrap()
        .starts_with("attachment"));
    let text = res.text().await.unwrap();
    let mut reader = csv::Reader::from_reader(text.as_bytes());
    let header: Vec<String> = reader
        .headers()
        .unwrap()
        .iter()
        .map(str::to_string)
        .collect();
    assert_eq!(header[0], "id");
    let records: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    let want = Expect {
        status: Some(PaymentStatus::Succeeded),
        ..Default::default()
    }
    .ids(&rows);
    let got: Vec<String> = records.iter().map(|r| r[0].to_string()).collect();
    assert_eq!(got, want);
    for rec in &records {
        let seeded = rows.iter().find(|r| r.id == rec[0]).unwrap();
        assert_eq!(&rec[2], "succeeded");
        assert_eq!(&rec[5], seeded.currency.code());
        assert_eq!(
            rec[6].to_string(),
            shared::Money::from_minor(seeded.amount_minor, seeded.currency).to_decimal_string()
        );
        assert_eq!(&rec[8], seeded.email.as_deref().unwrap_or(""));
        for cell in rec.iter() {
            assert!(
                !cell.starts_with(['=', '+', '-', '@']),
                "unsafe cell {cell:?}"
            );
        }
    }
    let rec = records.iter().find(|r| r[0] == *target).unwrap();
    assert_eq!(&rec[9], "'=HYPERLINK(\"http://evil.example\",\"click\")");
    assert_eq!(&rec[4], "'@SUM(1+1)");
    // The export is audited, with its filters.
    let audit = admin.get_json("/admin/api/audit").await;
    let entry = &audit["data"][0];
    assert_eq!(entry["action"], "export");
    assert_eq!(entry["detail"]["filters"]["status"], "succeeded");
    // An email filter is audited without the address (emails are kept only encrypted).
    let email = rows.iter().find_map(|r| r.email.clone()).unwrap();
    let res = admin
        .get(&format!("/admin/api/payments/export.csv?email={email}"))
        .await;
    assert_eq!(res.status(), 200);
    res.text().await.unwrap();
    let audit = admin.get_json("/admin/api/audit").await;
    assert_eq!(audit["data"][0]["action"], "export");
    assert!(!audit.to_string().contains(&email), "{audit}");
    // Chunk boundaries (1000 rows) do not lose or repeat rows.
    let many = seed::generate(2100, 9, END_MS, 3, 5);
    seed::insert(&app.state.db, &app.state.cipher, &many)
        .await
        .unwrap();
    let text = admin
        .get("/admin/api/payments/export.csv")
        .await
        .text()
        .await
        .unwrap();
    let n = csv::Reader::from_reader(text.as_bytes()).records().count();
    assert_eq!(n, rows.len() + many.len());
    app.stop().await;
}

async fn daily_stats_match_the_seeded_rows(db: TestDb) {
    let (app, admin, rows) = seeded(&db, 400).await;
    let (from, to) = (day(END_MS) - 12, day(END_MS) - 2);
    let stats = admin
        .get_json(&format!(
            "/admin/api/stats/daily?from={}&to={}&currency=EUR",
            date(from),
            date(to)
        ))
        .await;
    assert_eq!(stats["currency"], "EUR");
    let days = stats["days"].as_array().unwrap();
    assert_eq!(
        days.len() as i64,
        to - from + 1,
        "every day, empty ones included"
    );
    for (i, d) in days.iter().enumerate() {
        let this = from + i as i64;
        assert_eq!(d["day"], date(this));
        let of_day: Vec<&Seeded> = rows
            .iter()
            .filter(|r| r.currency == Currency::EUR && day(r.created_at) == this)
            .collect();
        assert_eq!(d["count"], of_day.len() as i64);
        assert_eq!(
            d["succeeded"],
            of_day
                .iter()
                .filter(|r| r.status == PaymentStatus::Succeeded)
                .count() as i64
        );
        assert_eq!(
            d["failed"],
            of_day
                .iter()
                .filter(|r| r.status == PaymentStatus::Failed)
                .count() as i64
        );
        assert_eq!(
            d["volume_minor"],
            of_day.iter().map(|r| r.captured_minor).sum::<i64>()
        );
    }
    // Without a currency: the busiest one of the range (USD is generated most often).
    let stats = admin
        .get_json(&format!(
            "/admin/api/stats/daily?from={}&to={}",
            date(from),
            date(to)
        ))
        .await;
    assert_eq!(stats["currency"], "USD");
    // A range with no payments at all.
    let stats = admin
        .get_json("/admin/api/stats/daily?from=2001-01-01&to=2001-01-03")
        .await;
    assert_eq!(stats["currency"], Value::Null);
    assert_eq!(stats["days"].as_array().unwrap().len(), 3);
    problem(
        admin
            .get("/admin/api/stats/daily?from=2020-01-01&to=2026-01-01")
            .await,
        400,
    )
    .await;
    app.stop().await;
}

async fn console_refunds_go_through_the_refund_path_once_and_are_audited(db: TestDb) {
    let provider = Arc::new(TestProvider::new(ProviderName::Paypal));
    *provider.initial_status.lock().unwrap() = PaymentStatus::Succeeded;
    let app = spawn_app(
        &db,
        AppOptions {
            providers: vec![provider.clone()],
            ..AppOptions::default()
        },
    )
    .await;
    create_admin(&app, ADMIN).await;
    let admin = AdminClient::sign_in(&app, ADMIN, PASSWORD).await;
    let pay = json_with_status(
        app.post(
            "/v1/payments",
            &json!({ "provider": "paypal", "amount": "80.00", "currency": "EUR", "description": "Order 7" }),
        )
        .await,
        201,
    )
    .await;
    let id = pay["id"].as_str().unwrap();
    assert_eq!(pay["status"], "succeeded");

    let detail = admin.get_json(&format!("/admin/api/payments/{id}")).await;
    assert_eq!(detail["payment"]["id"], id);
    assert_eq!(detail["refundable"]["amount"], "80.00");
    assert!(!detail["timeline"].as_array().unwrap().is_empty());

    let body = json!({ "amount": "30.00", "reason": "requested_by_customer", "note": "damaged in transit" });
    // No idempotency key, no CSRF token: refused, nothing refunded.
    let e = problem(
        admin
            .request(Method::POST, &format!("/admin/api/payments/{id}/refunds"))
            .json(&body)
            .send()
            .await
            .unwrap(),
        400,
    )
    .await;
    assert_eq!(e["param"], "Idempotency-Key");
    let e = problem(
        app.client
            .post(format!("{}/admin/api/payments/{id}/refunds", app.url))
            .header("cookie", &admin.cookie)
            .header("idempotency-key", "k1")
            .json(&body)
            .send()
            .await
            .unwrap(),
        403,
    )
    .await;
    assert_eq!(e["code"], "csrf_token_invalid");
    assert_eq!(provider.refund_calls(), 0);

    // Confirmed twice with the same key (a double click): one refund.
    let first = json_with_status(admin.refund(id, &body, "confirm-1").await, 201).await;
    let again = json_with_status(admin.refund(id, &body, "confirm-1").await, 201).await;
    assert_eq!(first["id"], again["id"]);
    assert_eq!(first["amount"], "30.00");
    assert_eq!(provider.refund_calls(), 1);

    // More than what is left: refused by the same rules as the merchant API.
    let e = problem(
        admin
            .refund(
                id,
                &json!({ "amount": "60.00", "reason": "duplicate" }),
                "confirm-2",
            )
            .await,
        400,
    )
    .await;
    assert_eq!(e["code"], "refund_exceeds_remaining");
    assert_eq!(provider.refund_calls(), 1);
    // The rest, with no amount.
    let rest = json_with_status(
        admin
            .refund(id, &json!({ "reason": "duplicate" }), "confirm-3")
            .await,
        201,
    )
    .await;
    assert_eq!(rest["amount"], "50.00");

    let detail = admin.get_json(&format!("/admin/api/payments/{id}")).await;
    assert_eq!(detail["refundable"]["amount_minor"], 0);
    assert_eq!(detail["refunds"].as_array().unwrap().len(), 2);
    let admin_entries: Vec<&Value> = detail["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|t| t["cause"] == "admin")
        .collect();
    assert!(admin_entries.len() >= 2, "{:?}", detail["timeline"]);
    // The merchant API sees the same refunds.
    let via_api = json_with_status(
        app.get(&format!("/v1/refunds/{}", first["id"].as_str().unwrap()))
            .await,
        200,
    )
    .await;
    assert_eq!(via_api["status"], first["status"]);

    let audit = admin.get_json("/admin/api/audit").await;
    let refunds: Vec<&Value> = audit["data"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["action"] == "refund")
        .collect();
    assert_eq!(refunds.len(), 2);
    assert_eq!(refunds[1]["target"], id);
    assert_eq!(refunds[1]["actor"], ADMIN);
    assert_eq!(refunds[1]["detail"]["note"], "damaged in transit");
    assert_eq!(refunds[1]["detail"]["amount"], "30.00");

    // The rollup behind totals followed every change exactly.
    let page = admin.get_json("/admin/api/payments").await;
    assert_eq!(
        page["totals"],
        json!([{ "currency": "EUR", "count": 1, "amount_minor": 8000, "captured_minor": 8000, "refunded_minor": 8000 }])
    );
    problem(admin.get("/admin/api/payments/pay_nope").await, 404).await;
    app.stop().await;
}

/// One rollup bucket: day, currency, provider, status, count, amount, captured, refunded.
type Bucket = (i64, String, String, String, i64, i64, i64, i64);

/// The rollup behind totals and the chart equals a GROUP BY over the payments themselves.
async fn assert_rollup_exact(app: &TestApp, after: &str) {
    let rollup: Vec<Bucket> = sqlx::query_as(
        "SELECT day, currency, provider, status, count, amount_minor, captured_minor, refunded_minor \
         FROM payment_daily_totals WHERE count <> 0 ORDER BY day, currency, provider, status",
    )
    .fetch_all(&app.state.db.pool)
    .await
    .unwrap();
    let direct: Vec<Bucket> = sqlx::query_as(
        "SELECT created_at / 86400000 AS day, currency, provider, status, CAST(COUNT(*) AS BIGINT), \
         CAST(SUM(amount_minor) AS BIGINT), CAST(SUM(captured_minor) AS BIGINT), CAST(SUM(refunded_minor) AS BIGINT) \
         FROM payments GROUP BY created_at / 86400000, currency, provider, status \
         ORDER BY day, currency, provider, status",
    )
    .fetch_all(&app.state.db.pool)
    .await
    .unwrap();
    assert_eq!(rollup, direct, "rollup drifted after {after}");
    assert!(!direct.is_empty());
}

async fn the_daily_rollup_stays_exact_through_every_write_path(db: TestDb) {
    let provider = Arc::new(TestProvider::new(ProviderName::Paypal));
    *provider.initial_status.lock().unwrap() = PaymentStatus::RequiresCapture;
    let app = spawn_app(
        &db,
        AppOptions {
            providers: vec![provider.clone()],
            ..AppOptions::default()
        },
    )
    .await;
    let create = |amount: &str| {
        let body = json!({ "provider": "paypal", "amount": amount, "currency": "USD", "capture_mode": "manual" });
        let app = &app;
        async move { app.post("/v1/payments", &body).await }
    };
    let p1 = json_with_status(create("50.00").await, 201).await;
    let p1 = p1["id"].as_str().unwrap().to_string();
    assert_rollup_exact(&app, "create").await;
    json_with_status(
        app.post(
            &format!("/v1/payments/{p1}/capture"),
            &json!({ "amount": "30.00" }),
        )
        .await,
        200,
    )
    .await;
    assert_rollup_exact(&app, "partial capture").await;
    let p2 = json_with_status(create("20.00").await, 201).await;
    json_with_status(
        app.post(
            &format!("/v1/payments/{}/cancel", p2["id"].as_str().unwrap()),
            &json!({}),
        )
        .await,
        200,
    )
    .await;
    assert_rollup_exact(&app, "cancel").await;
    *provider.decline.lock().unwrap() = Some("insufficient_funds".into());
    assert_eq!(create("5.00").await.status(), 402);
    *provider.decline.lock().unwrap() = None;
    assert_rollup_exact(&app, "a declined creation").await;
    json_with_status(
        app.post("/v1/refunds", &json!({ "payment": p1, "amount": "10.00" }))
            .await,
        201,
    )
    .await;
    assert_rollup_exact(&app, "a refund").await;
    // A payment written on another day (reconciliation finds it later) lands in its own day.
    app.state.clock.advance(Duration::from_secs(2 * 86_400));
    json_with_status(create("7.00").await, 201).await;
    assert_rollup_exact(&app, "a payment two days later").await;
    let page = {
        create_admin(&app, ADMIN).await;
        AdminClient::sign_in(&app, ADMIN, PASSWORD)
            .await
            .get_json("/admin/api/payments")
            .await
    };
    assert_eq!(
        page["totals"],
        json!([{ "currency": "USD", "count": 4, "amount_minor": 8200, "captured_minor": 3000, "refunded_minor": 1000 }])
    );
    app.stop().await;
}
