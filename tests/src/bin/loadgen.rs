//! A small load generator for `paygate serve` (benchmarks, not tests): N concurrent workers send
//! one scenario's requests for a bounded time (and at most a bounded count), then it prints
//! throughput and latency percentiles. It only targets loopback addresses.
//!
//!   loadgen --url http://127.0.0.1:8080 --key sk_test_paygate_dev \
//!           --scenario create-session --concurrency 16 --seconds 10
//!
//! Scenarios: `healthz`, `widget-session` (GET the widget view of one session),
//! `create-session` (POST /v1/checkout/sessions, a new Idempotency-Key each),
//! `create-session-unkeyed` (the same without a key), `create-payment` (POST /v1/payments
//! through the Stripe emulator, a key each), `list-payments` (GET /v1/payments?limit=20), and
//! `stripe-webhook` (POST /webhooks/stripe: a new event each, signed with `--webhook-secret`,
//! by default the sandbox's), and `ceiling` (POST /rows of the `ceiling` program: one row per
//! request). `--rate N` paces the workers to N requests a second in all.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

const MAX_REQUESTS: u64 = 2_000_000;

struct Args {
    url: String,
    key: String,
    scenario: String,
    concurrency: usize,
    seconds: u64,
    /// `--rate N`: at most N requests a second in all, spread evenly over the workers (a
    /// steady, unsaturated load); unset: as fast as the server answers.
    rate: Option<u64>,
    /// The Stripe webhook signing secret paygate verifies with.
    webhook_secret: String,
}

fn parse_args() -> Args {
    let mut args = Args {
        url: "http://127.0.0.1:8080".into(),
        key: "sk_test_paygate_dev".into(),
        scenario: "healthz".into(),
        concurrency: 16,
        seconds: 10,
        rate: None,
        webhook_secret: paygate_sandbox::stripe::DEFAULT_WEBHOOK_SECRET.into(),
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let value = it.next().unwrap_or_else(|| panic!("{flag} needs a value"));
        match flag.as_str() {
            "--url" => args.url = value,
            "--key" => args.key = value,
            "--scenario" => args.scenario = value,
            "--concurrency" => args.concurrency = value.parse().expect("--concurrency N"),
            "--seconds" => args.seconds = value.parse::<u64>().expect("--seconds N").clamp(1, 300),
            "--rate" => args.rate = Some(value.parse::<u64>().expect("--rate N").max(1)),
            "--webhook-secret" => args.webhook_secret = value,
            other => panic!("unknown flag {other}"),
        }
    }
    let host = reqwest::Url::parse(&args.url)
        .expect("--url")
        .host_str()
        .unwrap_or("")
        .to_string();
    assert!(
        host == "localhost" || host.starts_with("127.") || host == "[::1]",
        "loadgen only targets loopback addresses, not {host}"
    );
    args
}

#[tokio::main]
async fn main() {
    let args = Arc::new(parse_args());
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(args.concurrency)
        .build()
        .unwrap();

    // One session for the widget scenario.
    let session_id = if args.scenario == "widget-session" {
        let res: serde_json::Value = client
            .post(format!("{}/v1/checkout/sessions", args.url))
            .bearer_auth(&args.key)
            .json(&serde_json::json!({ "amount": "19.99", "currency": "USD" }))
            .send()
            .await
            .expect("create a session")
            .json()
            .await
            .unwrap();
        res["id"].as_str().expect("session id").to_string()
    } else {
        String::new()
    };
    let session_id = Arc::new(session_id);

    let stop = Arc::new(AtomicBool::new(false));
    let sent = Arc::new(AtomicU64::new(0));
    let started = Instant::now();
    let mut workers = Vec::new();
    for w in 0..args.concurrency {
        let (client, args, stop, sent, session_id) = (
            client.clone(),
            args.clone(),
            stop.clone(),
            sent.clone(),
            session_id.clone(),
        );
        workers.push(tokio::spawn(async move {
            let mut latencies_us = Vec::new();
            let mut errors = 0u64;
            let mut n = 0u64;
            // With a rate, worker w sends at start + (w + k * workers) / rate.
            let pace = args
                .rate
                .map(|r| Duration::from_secs_f64(args.concurrency as f64 / r as f64));
            let offset = args
                .rate
                .map(|r| Duration::from_secs_f64(w as f64 / r as f64))
                .unwrap_or_default();
            while !stop.load(Ordering::Relaxed) && sent.fetch_add(1, Ordering::Relaxed) < MAX_REQUESTS {
                if let Some(pace) = pace {
                    let due = started + offset + pace * n as u32;
                    tokio::time::sleep_until(tokio::time::Instant::from_std(due)).await;
                    if stop.load(Ordering::Relaxed) {
                        break;
                    }
                }
                n += 1;
                let request = match args.scenario.as_str() {
                    "healthz" => client.get(format!("{}/healthz", args.url)),
                    "widget-session" => client.get(format!("{}/checkout/api/sessions/{session_id}", args.url)),
                    "list-payments" => client.get(format!("{}/v1/payments?limit=20", args.url)).bearer_auth(&args.key),
                    "create-session" => client
                        .post(format!("{}/v1/checkout/sessions", args.url))
                        .bearer_auth(&args.key)
                        .header("Idempotency-Key", format!("loadgen-{w}-{n}-{}", std::process::id()))
                        .json(&serde_json::json!({ "amount": "19.99", "currency": "USD", "description": "load" })),
                    "create-session-unkeyed" => client
                        .post(format!("{}/v1/checkout/sessions", args.url))
                        .bearer_auth(&args.key)
                        .json(&serde_json::json!({ "amount": "19.99", "currency": "USD", "description": "load" })),
                    "create-payment" => client
                        .post(format!("{}/v1/payments", args.url))
                        .bearer_auth(&args.key)
                        .header("Idempotency-Key", format!("loadgen-pay-{w}-{n}-{}", std::process::id()))
                        .json(&serde_json::json!({ "provider": "stripe", "amount": "19.99", "currency": "USD" })),
                    "stripe-webhook" => {
                        let body = stripe_event(&format!("evt_load_{}_{w}_{n}", std::process::id()));
                        let t = std::time::SystemTime::now()
                            .duration_since(std::time::UNIX_EPOCH)
                            .unwrap()
                            .as_secs() as i64;
                        client
                            .post(format!("{}/webhooks/stripe", args.url))
                            .header("content-type", "application/json")
                            .header(
                                "stripe-signature",
                                paygate_tests::webhooks_in::stripe_signature(&args.webhook_secret, t, &body),
                            )
                            .body(body)
                    }
                    "ceiling" => client
                        .post(format!("{}/rows", args.url))
                        .json(&serde_json::json!({ "amount": "19.99", "currency": "USD", "description": "load" })),
                    other => panic!("unknown scenario {other}"),
                };
                let t = Instant::now();
                match request.send().await {
                    Ok(res) if res.status().is_success() => {
                        let _ = res.bytes().await;
                        latencies_us.push(t.elapsed().as_micros() as u64);
                    }
                    _ => errors += 1,
                }
            }
            (latencies_us, errors)
        }));
    }
    tokio::time::sleep(Duration::from_secs(args.seconds)).await;
    stop.store(true, Ordering::Relaxed);
    let mut all = Vec::new();
    let mut errors = 0;
    for w in workers {
        let (l, e) = w.await.unwrap();
        all.extend(l);
        errors += e;
    }
    let elapsed_ms = started.elapsed().as_millis().max(1) as u64;
    all.sort_unstable();
    let pct = |p: usize| {
        all.get((all.len() * p / 100).min(all.len().saturating_sub(1)))
            .copied()
            .unwrap_or(0)
    };
    let us = |v: u64| format!("{}.{:03} ms", v / 1000, v % 1000);
    println!(
        "scenario={} concurrency={} seconds={} ok={} errors={} throughput={} req/s p50={} p90={} p99={} max={}",
        args.scenario,
        args.concurrency,
        args.seconds,
        all.len(),
        errors,
        all.len() as u64 * 1000 / elapsed_ms,
        us(pct(50)),
        us(pct(90)),
        us(pct(99)),
        us(all.last().copied().unwrap_or(0)),
    );
}

/// A Stripe event paygate verifies, stores and acknowledges, of a type it has nothing to do with
/// (so the inbox worker only marks it): the ingest path alone.
fn stripe_event(id: &str) -> String {
    serde_json::json!({
        "id": id,
        "object": "event",
        "api_version": "2024-06-20",
        "created": 1_765_000_000,
        "livemode": false,
        "pending_webhooks": 1,
        "request": { "id": null, "idempotency_key": null },
        "type": "balance.available",
        "data": { "object": { "object": "balance", "available": [{ "amount": 1999, "currency": "usd" }] } }
    })
    .to_string()
}
