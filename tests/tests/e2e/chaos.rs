//! Crash tests: paygate instances SIGKILLed at random moments under mixed traffic and started
//! again, then the invariants (`paygate_tests::traffic::check_invariants`) checked against the
//! emulator's own records once reconciliation has had its (short) deadline; and SIGTERM under
//! load, which must finish every request already started.
//!
//! The variants here are short (CI); `scripts/chaos.sh` runs the long ones (200 kills and more)
//! with `PAYGATE_CHAOS_KILLS` and `PAYGATE_CHAOS_EVERY_MS`, and docs/RELIABILITY.md keeps their
//! figures.

use super::cluster::{paygate_binary, settled_report};
use futures::future::join_all;
use paygate_tests::cluster::{
    count, log_tail, shared_env, Balancer, EmulatorProcess, Node, MERCHANT_KEY,
};
use paygate_tests::traffic::{sqlite_integrity, Report, Traffic};
use paygate_tests::TestDb;
use rand::Rng;
use serde_json::json;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

fn setting(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// Kills, the pause between them, and concurrent clients: short by default.
struct Plan {
    kills: u64,
    every: Duration,
    workers: u64,
}

impl Plan {
    fn from_env() -> Plan {
        Plan {
            kills: setting("PAYGATE_CHAOS_KILLS", 6),
            every: Duration::from_millis(setting("PAYGATE_CHAOS_EVERY_MS", 1500)),
            workers: setting("PAYGATE_CHAOS_WORKERS", 6),
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn three_instances_on_postgres_survive_random_kills() {
    let Some(db) = TestDb::postgres().await else {
        return;
    };
    chaos(db, 3).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn one_instance_on_sqlite_survives_being_killed_in_a_loop() {
    chaos(TestDb::sqlite().await, 1).await;
}

async fn chaos(db: TestDb, instances: usize) {
    let plan = Plan::from_env();
    let started = Instant::now();
    let dir = tempfile::tempdir().unwrap();
    let bin = &paygate_binary();
    let mut nodes: Vec<Node> = (1..=instances)
        .map(|i| Node::new(bin, dir.path(), &format!("node{i}")))
        .collect();
    let balancer = Balancer::start(nodes.iter().map(|n| n.addr).collect()).await;
    // Provider webhooks go through the balancer, to whichever instance is up.
    let emulators = Arc::new(EmulatorProcess::start(bin, dir.path(), &balancer.url).await);
    let env = shared_env(
        &db.url,
        &emulators,
        &balancer.url,
        &[
            // Reconciliation may finish what a kill interrupted within seconds.
            ("PAYGATE_RECONCILE_EVERY_SECS", "1"),
            ("PAYGATE_RECONCILE_AFTER_SECS", "3"),
            ("PAYGATE_PROVIDER_TIMEOUT_SECS", "5"),
        ],
    );
    for node in &mut nodes {
        node.configure(env.clone());
    }
    join_all(nodes.iter_mut().map(|n| n.start())).await;

    let traffic = Arc::new(Traffic::new(
        nodes.iter().map(|n| n.url.clone()).collect(),
        emulators.clone(),
        &format!("chaos{instances}"),
    ));
    let stop = Arc::new(AtomicBool::new(false));
    let flows = Arc::new(AtomicU64::new(0));
    let workers: Vec<_> = (0..plan.workers)
        .map(|_| {
            let (traffic, stop, flows) = (traffic.clone(), stop.clone(), flows.clone());
            tokio::spawn(async move {
                while !stop.load(Ordering::Relaxed) {
                    let flow = flows.fetch_add(1, Ordering::Relaxed);
                    if flow % 3 == 2 {
                        traffic.merchant_payment(flow).await;
                    } else {
                        traffic.checkout(flow).await;
                    }
                }
            })
        })
        .collect();

    // The killer: a random instance, at a random moment of each period, SIGKILLed and started
    // again at once on its port.
    let mut kills = 0;
    while kills < plan.kills {
        let pause = rand::thread_rng().gen_range(plan.every / 2..=plan.every);
        tokio::time::sleep(pause).await;
        let victim = rand::thread_rng().gen_range(0..nodes.len());
        nodes[victim].kill().await;
        kills += 1;
        if instances == 1 {
            // The only instance: clients wait through a real outage.
            tokio::time::sleep(Duration::from_millis(300)).await;
        }
        nodes[victim].start().await;
    }
    stop.store(true, Ordering::Relaxed);
    for w in workers {
        if let Err(e) = w.await {
            for node in &nodes {
                eprintln!("--- {} ---\n{}", node.name, log_tail(&node.log, 30));
            }
            std::panic::resume_unwind(e.into_panic());
        }
    }

    sqlx::any::install_default_drivers();
    let pool = sqlx::AnyPool::connect(&db.url).await.unwrap();
    let report: Report =
        settled_report(&pool, &emulators, &traffic, Duration::from_secs(120)).await;
    let flows_done = flows.load(Ordering::Relaxed);
    eprintln!(
        "chaos {}: {instances} instance(s), {kills} kills survived, {flows_done} flows, {} requests ({} sent again after a lost answer), {} sessions, {} payments, {} refunds, {} acknowledged webhooks, {} invariant checks, {} violations, {:.0} s",
        db.backend,
        traffic.requests.load(Ordering::Relaxed),
        traffic.retries.load(Ordering::Relaxed),
        report.sessions,
        report.payments,
        report.refunds,
        report.acknowledged_webhooks,
        report.checks,
        report.violations.len(),
        started.elapsed().as_secs_f64(),
    );
    if !report.violations.is_empty() {
        for node in &nodes {
            eprintln!("--- {} ---\n{}", node.name, log_tail(&node.log, 30));
        }
        eprintln!("last retries: {:#?}", traffic.retry_reasons.lock().unwrap());
    }
    assert!(
        report.violations.is_empty(),
        "invariants broken after {kills} kills: {:#?}",
        report.violations
    );
    assert!(
        report.checks > 50,
        "the check looked at something: {report:?}"
    );
    assert!(
        nodes.iter().map(|n| n.starts).sum::<u32>() as u64 == instances as u64 + kills,
        "every kill was followed by a restart"
    );
    if db.backend == "sqlite" {
        assert_eq!(sqlite_integrity(&pool).await, "ok");
    }
    pool.close().await;
    for node in &mut nodes {
        node.terminate(Duration::from_secs(30)).await;
    }
}

/// SIGTERM while requests are under way: each of twelve payment creations is at Stripe (the
/// emulator takes 1.5 s to answer) when the signal arrives. The instance stops accepting, lets
/// every one of them finish with its answer and its PaymentIntent recorded, and exits cleanly
/// well within its grace period; a request after that finds nobody listening.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sigterm_finishes_every_request_already_started() {
    let db = TestDb::sqlite().await;
    let dir = tempfile::tempdir().unwrap();
    let bin = &paygate_binary();
    let mut node = Node::new(bin, dir.path(), "node1");
    let emulators = EmulatorProcess::start(bin, dir.path(), &node.url).await;
    node.configure(shared_env(
        &db.url,
        &emulators,
        &node.url,
        &[("PAYGATE_SHUTDOWN_GRACE_SECS", "20")],
    ));
    node.start().await;
    emulators.stripe_faults(json!({ "latency_ms": 1500 })).await;

    // A connection per request, so none is an idle keep-alive connection the shutdown closes.
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(0)
        .build()
        .unwrap();
    let requests: Vec<_> = (0..12)
        .map(|i| {
            let request = client
                .post(format!("{}/v1/payments", node.url))
                .bearer_auth(MERCHANT_KEY)
                .json(&json!({ "provider": "stripe", "amount": format!("{}.00", 10 + i), "currency": "USD" }));
            tokio::spawn(async move { request.send().await })
        })
        .collect();
    sqlx::any::install_default_drivers();
    let pool = sqlx::AnyPool::connect(&db.url).await.unwrap();
    // Every request has reached paygate and is waiting for Stripe.
    let deadline = Instant::now() + Duration::from_secs(20);
    while count(
        &pool,
        "SELECT COUNT(*) FROM payments WHERE provider_reference IS NULL",
    )
    .await
        < 12
    {
        assert!(
            Instant::now() < deadline,
            "the requests never reached paygate"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }

    let signalled = Instant::now();
    let exit = node.terminate(Duration::from_secs(40)).await;
    let took = signalled.elapsed();
    for (i, request) in requests.into_iter().enumerate() {
        let res = request
            .await
            .unwrap()
            .unwrap_or_else(|e| panic!("request {i} was cut short by the shutdown: {e}"));
        assert_eq!(res.status(), 201, "request {i}");
    }
    assert!(
        exit.is_some_and(|s| s.success()),
        "paygate exited cleanly on SIGTERM: {exit:?}\n{}",
        log_tail(&node.log, 20)
    );
    assert!(took < Duration::from_secs(20), "within its grace: {took:?}");
    assert_eq!(
        count(
            &pool,
            "SELECT COUNT(*) FROM payments WHERE provider_reference IS NULL"
        )
        .await,
        0,
        "every PaymentIntent recorded before the exit"
    );
    assert_eq!(count(&pool, "SELECT COUNT(*) FROM payments").await, 12);
    assert!(
        client
            .get(format!("{}/healthz", node.url))
            .send()
            .await
            .is_err(),
        "nobody listens after the exit"
    );
    pool.close().await;
}
