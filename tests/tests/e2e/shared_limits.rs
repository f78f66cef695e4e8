//! Rate limits across instances (`REDIS_URL`, the machine's Redis at 127.0.0.1:6379): two
//! instances on one database enforce one merchant limit between them, where without Redis each
//! gives the full limit; Redis going away leaves paygate serving on its local limits, saying so
//! in `/readyz` and `/metrics`, and the shared limits come back with Redis. Skipped loudly when
//! Redis does not answer, unless `PAYGATE_REQUIRE_REDIS=1` (set by `.ci/run`).

use paygate_tests::app::json_with_status;
use paygate_tests::relay::Relay;
use paygate_tests::{spawn_app, AppOptions, TestApp, TestDb};
use std::time::{Duration, Instant};

const REDIS_ADDR: &str = "127.0.0.1:6379";

async fn redis_available() -> bool {
    if tokio::net::TcpStream::connect(REDIS_ADDR).await.is_ok() {
        return true;
    }
    if std::env::var("PAYGATE_REQUIRE_REDIS").is_ok_and(|v| v == "1") {
        panic!("Redis is required (PAYGATE_REQUIRE_REDIS=1) but {REDIS_ADDR} does not answer");
    }
    eprintln!("\n!!! SKIPPED: Redis does not answer at {REDIS_ADDR}. Set PAYGATE_REQUIRE_REDIS=1 to make this a failure.\n");
    false
}

/// An instance with a merchant limit of 5 a second, sharing it through `redis` if given.
async fn instance(db: &TestDb, redis: Option<String>) -> TestApp {
    let mut vars = vec![("PAYGATE_MERCHANT_RATE_LIMIT", "5".to_string())];
    if let Some(url) = redis {
        vars.push(("REDIS_URL", url));
    }
    spawn_app(
        db,
        AppOptions {
            vars,
            ..AppOptions::default()
        },
    )
    .await
}

/// A merchant key of its own, so that no other test (or run) shares its Redis bucket.
async fn fresh_key(app: &TestApp) -> String {
    let (key, _) =
        paygate::auth::create_key(&app.state.db, "limits", false, app.state.clock.now_ms())
            .await
            .unwrap();
    key
}

async fn readiness(app: &TestApp) -> String {
    let ready = json_with_status(app.get("/readyz").await, 200).await;
    ready["rate_limits"].as_str().unwrap().to_string()
}

async fn wait_for_readiness(app: &TestApp, want: &str) {
    let deadline = Instant::now() + Duration::from_secs(15);
    while readiness(app).await != want {
        assert!(
            Instant::now() < deadline,
            "rate limits never became {want:?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// `n` requests with `key`, alternating between the instances; how many were let through
/// (the others must be 429 with Retry-After).
async fn allowed(apps: &[&TestApp], key: &str, n: usize) -> usize {
    let mut ok = 0;
    for i in 0..n {
        let app = apps[i % apps.len()];
        let res = app
            .client
            .get(format!("{}/v1/payments", app.url))
            .bearer_auth(key)
            .send()
            .await
            .unwrap();
        match res.status().as_u16() {
            200 => ok += 1,
            429 => assert!(res.headers().contains_key("retry-after")),
            other => panic!("unexpected {other}"),
        }
    }
    ok
}

fn metric(text: &str, name: &str) -> i64 {
    text.lines()
        .find(|l| l.starts_with(name) && !l.starts_with('#'))
        .and_then(|l| l.rsplit(' ').next())
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("{name} not in /metrics"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_instances_share_one_limit_through_redis() {
    if !redis_available().await {
        return;
    }
    let db = TestDb::sqlite().await;
    let url = format!("redis://{REDIS_ADDR}");
    let (a, b) = (
        instance(&db, Some(url.clone())).await,
        instance(&db, Some(url)).await,
    );
    wait_for_readiness(&a, "shared (Redis)").await;
    wait_for_readiness(&b, "shared (Redis)").await;
    let key = fresh_key(&a).await;
    let through = allowed(&[&a, &b], &key, 12).await;
    // A burst of 5, plus one refill if the twelve requests took longer than 200 ms.
    assert!(
        (5..=6).contains(&through),
        "{through} of 12 let through by two instances sharing a limit of 5"
    );
    assert_eq!(
        metric(&a.metrics_text().await, "paygate_rate_limit_redis_up"),
        1
    );

    // Without Redis, each instance has its own limit: twice as much gets through.
    let (c, d) = (instance(&db, None).await, instance(&db, None).await);
    assert_eq!(readiness(&c).await, "per instance");
    let key = fresh_key(&c).await;
    let through = allowed(&[&c, &d], &key, 12).await;
    assert!(
        (10..=12).contains(&through),
        "{through} of 12 let through by two instances limiting on their own"
    );
    for app in [a, b, c, d] {
        app.stop().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_redis_paygate_limits_locally_says_so_and_recovers() {
    if !redis_available().await {
        return;
    }
    let db = TestDb::sqlite().await;
    // Redis unreachable from the start: paygate starts and serves all the same.
    let relay = Relay::to(REDIS_ADDR, false).await;
    let app = instance(&db, Some(format!("redis://{}", relay.addr))).await;
    assert_eq!(readiness(&app).await, "per instance: Redis unreachable");
    let key = fresh_key(&app).await;
    let through = allowed(&[&app], &key, 8).await;
    assert!(
        (5..=6).contains(&through),
        "the local limit of 5 holds meanwhile: {through}"
    );
    let metrics = app.metrics_text().await;
    assert_eq!(metric(&metrics, "paygate_rate_limit_redis_up"), 0);
    assert!(metric(&metrics, "paygate_rate_limit_local_fallbacks") >= 8);

    // Redis comes back: the shared limits are in force again.
    relay.restore();
    wait_for_readiness(&app, "shared (Redis)").await;
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let key = fresh_key(&app).await;
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        // The first checks after the outage may still be decided locally for a second.
        let before = metric(
            &app.metrics_text().await,
            "paygate_rate_limit_local_fallbacks",
        );
        let through = allowed(&[&app], &key, 1).await;
        let after = metric(
            &app.metrics_text().await,
            "paygate_rate_limit_local_fallbacks",
        );
        if after == before {
            assert_eq!(through, 1);
            break;
        }
        assert!(Instant::now() < deadline, "checks never went back to Redis");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }

    // Redis goes away while serving: requests are still answered, on local limits.
    relay.sever();
    let key = fresh_key(&app).await;
    let through = allowed(&[&app], &key, 8).await;
    assert!((5..=6).contains(&through), "local limits: {through}");
    wait_for_readiness(&app, "per instance: Redis unreachable").await;
    assert_eq!(
        metric(&app.metrics_text().await, "paygate_rate_limit_redis_up"),
        0
    );
    app.stop().await;
}
