//! The admin history benchmark (not a test): seeds a database with a million payments
//! (`seed.rs`: four currencies, both providers, every status, emails through customers and
//! checkout sessions, 90 days), starts paygate on it, signs in as an admin and times filtered
//! history pages and the chart over real HTTP, sequentially, printing p50/p95/max per query.
//!
//!   cargo run --release -p paygate-tests --bin history_bench -- --backend sqlite --rows 1000000
//!   cargo run --release -p paygate-tests --bin history_bench -- --backend postgres
//!
//! (`scripts/bench.sh history` runs both.) PostgreSQL is the local server of the test helpers
//! (127.0.0.1:5432, a fresh database per run).

use paygate_tests::admin::{create_admin, AdminClient};
use paygate_tests::seed::{self, DAY_MS};
use paygate_tests::{spawn_app, AppOptions};
use std::time::{Duration, Instant};

const ITERATIONS: usize = 30;
const DAYS: i64 = 90;

fn ms(d: Duration) -> String {
    format!("{:.1}", d.as_micros() as f64 / 1000.0)
}

#[tokio::main]
async fn main() {
    let args = paygate_tests::bench::args("--rows", 1_000_000);
    let db = paygate_tests::bench::database(&args.backend).await;
    let app = spawn_app(&db, AppOptions::default()).await;
    let now = app.state.clock.now_ms();
    let end = (now / DAY_MS + 1) * DAY_MS;

    let started = Instant::now();
    let mut emails_seeded = 0;
    // Seeded in slices so memory stays flat and progress shows.
    let slice = 100_000.min(args.count.max(1));
    let mut probe = None;
    for (k, start) in (0..args.count).step_by(slice).enumerate() {
        let n = slice.min(args.count - start);
        let window_end =
            end - (DAYS * DAY_MS) * (args.count - start - n) as i64 / args.count as i64;
        let window_days = ((DAYS * n as i64) / args.count as i64).max(1);
        let rows = seed::generate(n, k as u64 + 1, window_end, window_days, 5_000);
        if start <= args.count / 2 && args.count / 2 < start + n {
            probe = rows.get(args.count / 2 - start).cloned();
        }
        seed::insert(&app.state.db, &app.state.cipher, &rows)
            .await
            .expect("seeding");
        emails_seeded += n;
        eprintln!("seeded {emails_seeded} rows ({:.0?})", started.elapsed());
    }
    let seeding = started.elapsed();
    if args.backend == "postgres" {
        // What autovacuum does on its own shortly after a bulk load: planner statistics and the
        // visibility map (for index-only scans). SQLite needs nothing (see docs/BENCHMARKS.md).
        sqlx::query("VACUUM ANALYZE")
            .execute(&app.state.db.pool)
            .await
            .expect("VACUUM ANALYZE");
    }
    let probe = probe.expect("at least one row");

    create_admin(&app, "bench@shop.example").await;
    let admin =
        AdminClient::sign_in(&app, "bench@shop.example", paygate_tests::admin::PASSWORD).await;
    let today = paygate::admin::days::format(now / DAY_MS);
    let week_ago = paygate::admin::days::format(now / DAY_MS - 7);
    let month_ago = paygate::admin::days::format(now / DAY_MS - 29);
    let two_months_ago = paygate::admin::days::format(now / DAY_MS - 60);
    // Half-way down the history.
    let deep_cursor = format!("{}.{}", probe.created_at, probe.id);
    let queries: Vec<(&str, String)> = vec![
        ("newest page, no filter", "/admin/api/payments".into()),
        (
            "status=succeeded",
            "/admin/api/payments?status=succeeded".into(),
        ),
        (
            "status=processing (2%)",
            "/admin/api/payments?status=processing".into(),
        ),
        (
            "provider=paypal & currency=EUR",
            "/admin/api/payments?provider=paypal&currency=EUR".into(),
        ),
        (
            "last 7 days",
            format!("/admin/api/payments?from={week_ago}&to={today}"),
        ),
        (
            "USD amount 100.00..200.00",
            "/admin/api/payments?currency=USD&amount_min=100&amount_max=200".into(),
        ),
        (
            "USD from 1.00, succeeded, last 60 days",
            format!("/admin/api/payments?currency=USD&amount_min=1&status=succeeded&from={two_months_ago}"),
        ),
        (
            "one exact amount (USD 123.45)",
            "/admin/api/payments?currency=USD&amount_min=123.45&amount_max=123.45".into(),
        ),
        (
            "customer email",
            format!(
                "/admin/api/payments?email={}",
                probe.email.clone().unwrap_or_else(|| seed::email(1))
            ),
        ),
        (
            "search provider reference",
            format!("/admin/api/payments?q={}", probe.reference),
        ),
        (
            "page deep in history (cursor)",
            format!("/admin/api/payments?cursor={deep_cursor}"),
        ),
        (
            "chart, 30 days",
            format!("/admin/api/stats/daily?from={month_ago}&to={today}"),
        ),
    ];

    println!(
        "history benchmark: {} backend, {} payments seeded in {:.1?}; {ITERATIONS} sequential requests per query (page of 50 + totals)",
        args.backend, args.count, seeding
    );
    println!("| query | p50 ms | p95 ms | max ms | rows |");
    println!("|---|---|---|---|---|");
    for (name, path) in &queries {
        let mut times = Vec::with_capacity(ITERATIONS);
        let mut rows = 0;
        for _ in 0..ITERATIONS {
            let t = Instant::now();
            let res = admin.get(path).await;
            assert_eq!(res.status(), 200, "{path}");
            let body: serde_json::Value = res.json().await.expect("json");
            times.push(t.elapsed());
            rows = body["data"]
                .as_array()
                .or(body["days"].as_array())
                .map_or(0, Vec::len);
        }
        times.sort();
        println!(
            "| {name} | {} | {} | {} | {rows} |",
            ms(times[ITERATIONS / 2]),
            ms(times[ITERATIONS * 95 / 100]),
            ms(times[ITERATIONS - 1])
        );
    }
    app.stop().await;
}
