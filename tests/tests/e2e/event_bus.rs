//! The RabbitMQ event bus end to end: paygate publishes every event to a real broker
//! (127.0.0.1:5672), where a consumer bound to the exchange receives it in the same envelope
//! as `GET /v1/events`, routed by type, persistent, with the event id as `message_id`. A broker
//! that goes away (a TCP relay severed under paygate) or is missing at start loses nothing:
//! payments go on, the backlog shows in `/metrics`, and every event arrives once the broker is
//! back (at least once: the consumer deduplicates by `message_id`).

use paygate_tests::app::{eventually, json_with_status};
use paygate_tests::rabbitmq::{self, amqp_url, Consumer, Message, BROKER_ADDR};
use paygate_tests::relay::Relay;
use paygate_tests::{on_both_databases, spawn_app, AppOptions, TestApp, TestDb};
use serde_json::{json, Value};
use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

on_both_databases!(every_event_of_a_checkout_is_published_routed_by_type);

async fn app_on_bus(db: &TestDb, broker: &str, exchange: &str) -> TestApp {
    spawn_app(
        db,
        AppOptions {
            vars: vec![
                ("RABBITMQ_URL", amqp_url(broker)),
                ("RABBITMQ_EXCHANGE", exchange.to_string()),
            ],
            ..Default::default()
        },
    )
    .await
}

/// Every event paygate recorded, by id, as `GET /v1/events` returns it.
async fn recorded_events(app: &TestApp) -> BTreeMap<String, Value> {
    let page = json_with_status(app.get("/v1/events?limit=100").await, 200).await;
    assert_eq!(page["has_more"], false, "the test stays under one page");
    page["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (e["id"].as_str().unwrap().to_string(), e.clone()))
        .collect()
}

/// Waits until the consumer holds every event paygate recorded; returns them deduplicated.
async fn wait_for_all(app: &TestApp, consumer: &Consumer) -> BTreeMap<String, Message> {
    let expected: BTreeSet<String> = recorded_events(app).await.into_keys().collect();
    assert!(!expected.is_empty(), "the checkout recorded events");
    eventually(
        "every recorded event on the bus",
        Duration::from_secs(40),
        || {
            let got: BTreeSet<String> = consumer
                .messages()
                .iter()
                .map(Message::message_id)
                .collect();
            let expected = expected.clone();
            async move { expected.is_subset(&got) }
        },
    )
    .await;
    consumer
        .messages()
        .into_iter()
        .map(|m| (m.message_id(), m))
        .collect()
}

async fn metric(app: &TestApp, name: &str) -> Option<i64> {
    let text = app.metrics_text().await;
    text.lines()
        .find_map(|line| line.strip_prefix(&format!("paygate_{name} ")))
        .map(|v| v.trim().parse().expect("a whole number"))
}

async fn every_event_of_a_checkout_is_published_routed_by_type(db: TestDb) {
    if !rabbitmq::available().await {
        return;
    }
    let exchange = rabbitmq::unique_exchange();
    let consumer = Consumer::bind(&exchange).await;
    let app = app_on_bus(&db, rabbitmq::BROKER_ADDR, &exchange).await;
    app.card_checkout(&json!({ "amount": "12.00", "currency": "USD" }))
        .await;

    let published = wait_for_all(&app, &consumer).await;
    let recorded = recorded_events(&app).await;
    let kinds: BTreeSet<&str> = recorded
        .values()
        .map(|e| e["type"].as_str().unwrap())
        .collect();
    for kind in ["checkout.session.completed", "payment.succeeded"] {
        assert!(kinds.contains(kind), "{kind} among {kinds:?}");
    }
    for (id, event) in &recorded {
        let message = &published[id];
        assert_eq!(message.json(), *event, "the bus carries the API's envelope");
        assert_eq!(message.routing_key, event["type"].as_str().unwrap());
        let p = &message.properties;
        assert_eq!(
            p.content_type().as_ref().map(|s| s.as_str()),
            Some("application/json")
        );
        assert_eq!(*p.delivery_mode(), Some(2), "persistent");
        assert_eq!(
            p.kind().as_ref().map(|s| s.as_str()),
            event["type"].as_str()
        );
        assert_eq!(*p.timestamp(), event["created"].as_u64());
        assert_eq!(p.app_id().as_ref().map(|s| s.as_str()), Some("paygate"));
    }
    assert_eq!(
        published.len(),
        recorded.len(),
        "nothing on the bus that paygate did not record"
    );
    eventually("the backlog drained", Duration::from_secs(10), || async {
        metric(&app, "event_bus_backlog").await == Some(0)
    })
    .await;
    assert_eq!(metric(&app, "event_bus_connected").await, Some(1));
    assert_eq!(
        metric(&app, "event_bus_published").await,
        Some(recorded.len() as i64)
    );
    app.stop().await;
    consumer.remove_exchange().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_broker_outage_loses_no_event() {
    if !rabbitmq::available().await {
        return;
    }
    let db = TestDb::sqlite().await;
    let exchange = rabbitmq::unique_exchange();
    let consumer = Consumer::bind(&exchange).await;
    let relay = Relay::to(BROKER_ADDR, true).await;
    let app = app_on_bus(&db, &relay.addr, &exchange).await;
    app.card_checkout(&json!({ "amount": "5.00", "currency": "USD" }))
        .await;
    wait_for_all(&app, &consumer).await;

    relay.sever();
    eventually(
        "paygate notices the lost broker",
        Duration::from_secs(30),
        || async { metric(&app, "event_bus_connected").await == Some(0) },
    )
    .await;
    // Payments go on while the broker is away; their events wait in the backlog.
    app.card_checkout(&json!({ "amount": "7.00", "currency": "EUR" }))
        .await;
    eventually(
        "the outage's events in the backlog",
        Duration::from_secs(10),
        || async { metric(&app, "event_bus_backlog").await.unwrap_or(0) > 0 },
    )
    .await;
    let before = consumer.messages().len();
    assert_eq!(
        json_with_status(app.get("/readyz").await, 200).await["status"],
        "ready",
        "a missing event bus does not make paygate unready"
    );

    relay.restore();
    let published = wait_for_all(&app, &consumer).await;
    assert!(
        published.len() > before,
        "the outage's events arrived after it"
    );
    assert_eq!(published.len(), recorded_events(&app).await.len());
    eventually("the backlog drained", Duration::from_secs(10), || async {
        metric(&app, "event_bus_backlog").await == Some(0)
    })
    .await;
    app.stop().await;
    consumer.remove_exchange().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_broker_missing_at_start_gets_the_backlog_when_it_comes() {
    if !rabbitmq::available().await {
        return;
    }
    let db = TestDb::sqlite().await;
    let exchange = rabbitmq::unique_exchange();
    let consumer = Consumer::bind(&exchange).await;
    let relay = Relay::to(BROKER_ADDR, false).await;
    let app = app_on_bus(&db, &relay.addr, &exchange).await;
    assert_eq!(
        app.client
            .get(format!("{}/readyz", app.url))
            .send()
            .await
            .unwrap()
            .status(),
        200,
        "paygate serves without its event bus"
    );
    app.card_checkout(&json!({ "amount": "9.99", "currency": "USD" }))
        .await;
    let recorded = recorded_events(&app).await.len() as i64;
    eventually(
        "the whole checkout in the backlog",
        Duration::from_secs(10),
        || async { metric(&app, "event_bus_backlog").await == Some(recorded) },
    )
    .await;
    assert_eq!(metric(&app, "event_bus_connected").await, Some(0));
    assert!(
        consumer.messages().is_empty(),
        "nothing published without a broker"
    );

    relay.restore();
    let published = wait_for_all(&app, &consumer).await;
    assert_eq!(published.len() as i64, recorded);
    eventually("connected and drained", Duration::from_secs(10), || async {
        metric(&app, "event_bus_backlog").await == Some(0)
            && metric(&app, "event_bus_connected").await == Some(1)
    })
    .await;
    app.stop().await;
    consumer.remove_exchange().await;
}
