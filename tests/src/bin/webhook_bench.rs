//! The merchant webhook delivery benchmark (not a test): paygate with one endpoint on a local
//! receiver that answers 200 at once; a backlog of events is committed in one go (as after a
//! busy hour with the relay stopped), and the relay fans it out, signs and delivers every event
//! over real HTTP. Prints the time to drain the backlog and the deliveries per second.
//!
//!   cargo run --release -p paygate-tests --bin webhook_bench -- --backend sqlite --events 100000
//!   cargo run --release -p paygate-tests --bin webhook_bench -- --backend postgres
//!
//! (`scripts/bench.sh webhooks` runs both.)

use paygate_tests::{spawn_app, AppOptions};
use serde_json::json;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Events committed per transaction while the backlog is built.
const CHUNK: usize = 5_000;

#[tokio::main]
async fn main() {
    let args = paygate_tests::bench::args("--events", 100_000);
    let db = paygate_tests::bench::database(&args.backend).await;
    let app = spawn_app(&db, AppOptions::default()).await;

    let accepted = Arc::new(AtomicU64::new(0));
    let counter = accepted.clone();
    let receiver = axum::Router::new().route(
        "/hooks",
        axum::routing::post(move || {
            let counter = counter.clone();
            async move {
                counter.fetch_add(1, Ordering::Relaxed);
                axum::http::StatusCode::OK
            }
        }),
    );
    let addr = paygate_tests::emulator::serve_local(receiver).await;
    let created = app
        .post(
            "/v1/webhook_endpoints",
            &json!({ "url": format!("http://{addr}/hooks"), "enabled_events": ["payment.succeeded"] }),
        )
        .await;
    assert_eq!(created.status(), 201, "the endpoint is registered");

    // The backlog: events as a captured payment records them, committed in chunks (the relay
    // starts on the first chunk; the clock starts before it).
    let object = json!({
        "id": "pay_bench", "object": "payment", "amount_minor": 1250, "currency": "USD",
        "status": "succeeded", "provider": "stripe", "metadata": {},
    });
    let started = Instant::now();
    let mut written = 0;
    while written < args.count {
        let mut tx = app.state.db.begin_write().await.expect("transaction");
        for _ in 0..CHUNK.min(args.count - written) {
            paygate::events::record(&mut tx, "payment.succeeded", "pay_bench", &object, 0)
                .await
                .expect("event recorded");
            written += 1;
        }
        tx.commit().await.expect("commit");
    }
    let backlog_written = started.elapsed();

    let target = args.count as u64;
    let mut last_report = Instant::now();
    while accepted.load(Ordering::Relaxed) < target {
        tokio::time::sleep(Duration::from_millis(20)).await;
        if last_report.elapsed() > Duration::from_secs(10) {
            eprintln!(
                "  {} of {target} delivered after {:.0} s",
                accepted.load(Ordering::Relaxed),
                started.elapsed().as_secs_f64()
            );
            last_report = Instant::now();
        }
    }
    let drained = started.elapsed();
    let pending = app
        .count("SELECT COUNT(*) FROM webhook_deliveries WHERE status <> 'delivered'")
        .await;
    println!(
        "webhooks {backend}: {n} events written in {w:.1} s; backlog drained in {d:.1} s: \
         {rate:.0} deliveries/s (each fanned out, signed, POSTed, its attempt recorded); \
         {pending} not marked delivered yet",
        backend = args.backend,
        n = args.count,
        w = backlog_written.as_secs_f64(),
        d = drained.as_secs_f64(),
        rate = args.count as f64 / drained.as_secs_f64(),
    );
    app.stop().await;
}
