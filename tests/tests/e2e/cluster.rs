//! Several paygate instances on one PostgreSQL database, as separate processes sharing one
//! emulator process and a balancer: mixed traffic spread over all of them (sessions created on
//! one, paid through the widget API on another, reported on a third; provider webhooks to yet
//! another; captures and refunds on each), then every effect is checked to have happened once.

use futures::future::join_all;
use paygate_tests::cluster::{count, shared_env, Balancer, EmulatorProcess, Node};
use paygate_tests::emulator::webhook_receiver;
use paygate_tests::standard_webhooks::Delivery;
use paygate_tests::traffic::{check_invariants, Report, Traffic};
use paygate_tests::TestDb;
use reqwest::Method;
use serde_json::json;
use std::collections::HashSet;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// The tests' own build of paygate, or `PAYGATE_NODE_BIN` (scripts/chaos.sh runs a copy, so a
/// build in the tree meanwhile does not change the binary the harness restarts).
pub fn paygate_binary() -> PathBuf {
    std::env::var_os("PAYGATE_NODE_BIN")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_BIN_EXE_paygate-node")))
}

/// Polls the invariants until none is broken or `limit` passes (webhooks and deliveries still
/// in flight settle meanwhile); the last report.
pub async fn settled_report(
    pool: &sqlx::AnyPool,
    emulators: &EmulatorProcess,
    traffic: &Traffic,
    limit: Duration,
) -> Report {
    let deadline = Instant::now() + limit;
    loop {
        let report = {
            let ledger = std::mem::take(&mut *traffic.ledger.lock().unwrap());
            let report = check_invariants(pool, emulators, &ledger).await;
            *traffic.ledger.lock().unwrap() = ledger;
            report
        };
        if report.violations.is_empty() || Instant::now() > deadline {
            return report;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn three_instances_on_one_postgres_do_every_effect_once() {
    let Some(db) = TestDb::postgres().await else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let bin = &paygate_binary();
    let mut nodes: Vec<Node> = (1..=3)
        .map(|i| Node::new(bin, dir.path(), &format!("node{i}")))
        .collect();
    let balancer = Balancer::start(nodes.iter().map(|n| n.addr).collect()).await;
    // Stripe's webhooks all reach the third instance; payments are created on every one.
    let emulators = Arc::new(EmulatorProcess::start(bin, dir.path(), &nodes[2].url).await);
    let env = shared_env(
        &db.url,
        &emulators,
        &balancer.url,
        &[("PAYGATE_RECONCILE_EVERY_SECS", "1")],
    );
    for node in &mut nodes {
        node.configure(env.clone());
    }
    // All three start at once: their migrations and the demo shop's registration race on one
    // database.
    join_all(nodes.iter_mut().map(|n| n.start())).await;

    sqlx::any::install_default_drivers();
    let pool = sqlx::AnyPool::connect(&db.url).await.unwrap();
    let endpoints: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM webhook_endpoints")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(
        endpoints, 1,
        "three instances registered the demo shop's endpoint once"
    );

    let traffic = Traffic::new(
        nodes.iter().map(|n| n.url.clone()).collect(),
        emulators.clone(),
        "three",
    );
    let (hook_url, received) = webhook_receiver("/hooks", 0, Delivery::from_request).await;
    let endpoint = traffic
        .call(
            0,
            Method::POST,
            "/v1/webhook_endpoints",
            Some(&json!({ "url": hook_url, "enabled_events": ["*"] })),
            None,
            true,
        )
        .await;
    assert_eq!(endpoint.status, 201, "{}", endpoint.body);
    let endpoint_id = endpoint.body["id"].as_str().unwrap().to_string();

    join_all((0..24u64).map(|flow| {
        let traffic = &traffic;
        async move {
            if flow % 3 == 2 {
                traffic.merchant_payment(flow).await
            } else {
                traffic.checkout(flow).await
            }
        }
    }))
    .await;

    let report = settled_report(&pool, &emulators, &traffic, Duration::from_secs(60)).await;
    assert!(
        report.violations.is_empty(),
        "invariants broken: {:#?}",
        report.violations
    );
    assert_eq!(report.sessions, 16);
    assert_eq!(report.payments, 24, "16 checkouts and 8 merchant payments");
    assert_eq!(report.payment_intents, 24);
    assert_eq!(report.refunds, 16, "two refunds per merchant payment");
    assert!(
        report.acknowledged_webhooks >= 24,
        "Stripe's webhooks reached the third instance: {report:?}"
    );

    // Every state change recorded as one event.
    let twice: Vec<(String, String, i64)> = sqlx::query_as(
        "SELECT type, object_id, COUNT(*) FROM events GROUP BY type, object_id HAVING COUNT(*) > 1 \
         AND type IN ('payment.succeeded', 'payment.requires_capture', 'checkout.session.completed', 'refund.succeeded')",
    )
    .fetch_all(&pool)
    .await
    .unwrap();
    assert!(twice.is_empty(), "events recorded twice: {twice:?}");
    assert_eq!(
        count(
            &pool,
            "SELECT COUNT(*) FROM events WHERE type = 'payment.succeeded'"
        )
        .await,
        24
    );
    assert_eq!(
        count(
            &pool,
            "SELECT COUNT(*) FROM events WHERE type = 'checkout.session.completed'"
        )
        .await,
        16
    );
    assert_eq!(
        count(
            &pool,
            "SELECT COUNT(*) FROM events WHERE type = 'refund.succeeded'"
        )
        .await,
        16
    );

    // The merchant's endpoint got every event once: three relays, one delivery each.
    let deadline = Instant::now() + Duration::from_secs(60);
    let expected: i64 = loop {
        let (pending, all): (i64, i64) = sqlx::query_as(
            "SELECT COALESCE(SUM(CASE WHEN status <> 'delivered' THEN 1 ELSE 0 END), 0), COUNT(*) \
             FROM webhook_deliveries WHERE endpoint_id = $1",
        )
        .bind(&endpoint_id)
        .fetch_one(&pool)
        .await
        .unwrap();
        if pending == 0 && received.lock().unwrap().len() as i64 >= all {
            break all;
        }
        assert!(
            Instant::now() < deadline,
            "{pending} of {all} deliveries still pending"
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    };
    let deliveries = received.lock().unwrap().clone();
    let ids: HashSet<&str> = deliveries.iter().map(|d| d.id.as_str()).collect();
    assert_eq!(
        deliveries.len(),
        ids.len(),
        "an event was delivered twice by the instances"
    );
    assert_eq!(ids.len() as i64, expected);
    assert!(expected >= 24 + 16 + 16, "{expected} deliveries");

    // One reconciliation lease (taken at the first pass, a second after start), held by one
    // instance at a time.
    let deadline = Instant::now() + Duration::from_secs(15);
    while count(
        &pool,
        "SELECT COUNT(*) FROM job_leases WHERE job = 'reconcile'",
    )
    .await
        == 0
    {
        assert!(
            Instant::now() < deadline,
            "no instance took the reconciliation lease"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let holders: Vec<String> = sqlx::query_scalar("SELECT holder FROM job_leases")
        .fetch_all(&pool)
        .await
        .unwrap();
    assert_eq!(holders.len(), 1, "{holders:?}");

    for node in &mut nodes {
        assert!(
            node.terminate(Duration::from_secs(30))
                .await
                .is_some_and(|s| s.success()),
            "{} did not stop cleanly",
            node.name
        );
    }
    pool.close().await;
}
