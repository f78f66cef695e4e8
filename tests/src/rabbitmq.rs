//! RabbitMQ for the event-bus tests: the machine's broker at 127.0.0.1:5672 (guest/guest), a
//! consumer that binds its own queue to paygate's exchange, and a TCP relay between paygate and
//! the broker that a test can sever and restore (a broker outage as paygate sees it, without
//! stopping the broker other tests use). When the broker is unreachable the tests say so loudly
//! and are skipped, unless `PAYGATE_REQUIRE_RABBITMQ=1` (set by `.ci/run`) makes that a failure.

use futures::StreamExt;
use lapin::options::{
    BasicAckOptions, BasicConsumeOptions, ExchangeDeclareOptions, ExchangeDeleteOptions,
    QueueBindOptions, QueueDeclareOptions,
};
use lapin::types::{FieldTable, ShortString};
use lapin::{BasicProperties, Channel, Connection, ConnectionProperties, ExchangeKind};
use rand::Rng;
use std::sync::{Arc, Mutex};
use tokio::task::JoinHandle;

pub const BROKER_ADDR: &str = "127.0.0.1:5672";

/// The AMQP URL of a broker listening at `addr` (the default vhost `/`, guest/guest).
pub fn amqp_url(addr: &str) -> String {
    format!("amqp://guest:guest@{addr}/%2f")
}

/// A fresh exchange name, so that tests running at once never see each other's events.
pub fn unique_exchange() -> String {
    format!("paygate.test.{:016x}", rand::thread_rng().gen::<u64>())
}

/// Whether the broker answers; `false` (after a loud message) when the test should be skipped.
pub async fn available() -> bool {
    if Connection::connect(&amqp_url(BROKER_ADDR), ConnectionProperties::default())
        .await
        .is_ok()
    {
        return true;
    }
    if std::env::var("PAYGATE_REQUIRE_RABBITMQ").is_ok_and(|v| v == "1") {
        panic!(
            "RabbitMQ is required (PAYGATE_REQUIRE_RABBITMQ=1) but {BROKER_ADDR} does not answer"
        );
    }
    eprintln!("\n!!! SKIPPED: RabbitMQ does not answer at {BROKER_ADDR}. Set PAYGATE_REQUIRE_RABBITMQ=1 to make this a failure.\n");
    false
}

/// One message as a consumer received it.
#[derive(Clone, Debug)]
pub struct Message {
    pub routing_key: String,
    pub properties: BasicProperties,
    pub body: Vec<u8>,
}

impl Message {
    pub fn message_id(&self) -> String {
        self.properties
            .message_id()
            .as_ref()
            .map(|s| s.as_str().to_string())
            .unwrap_or_default()
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).expect("a message body is JSON")
    }
}

/// A consumer on an exclusive queue bound with `#` to `exchange` (declared as paygate declares
/// it, so binding can come first, as the docs tell merchants to do). Every message is kept and
/// acknowledged.
pub struct Consumer {
    pub received: Arc<Mutex<Vec<Message>>>,
    channel: Channel,
    exchange: String,
    _connection: Connection,
    task: JoinHandle<()>,
}

impl Consumer {
    pub async fn bind(exchange: &str) -> Consumer {
        let connection =
            Connection::connect(&amqp_url(BROKER_ADDR), ConnectionProperties::default())
                .await
                .expect("consumer connects");
        let channel = connection.create_channel().await.expect("channel");
        channel
            .exchange_declare(
                ShortString::from(exchange),
                ExchangeKind::Topic,
                ExchangeDeclareOptions {
                    durable: true,
                    ..Default::default()
                },
                FieldTable::default(),
            )
            .await
            .expect("exchange declared");
        let queue = channel
            .queue_declare(
                ShortString::from(""),
                QueueDeclareOptions {
                    exclusive: true,
                    auto_delete: true,
                    ..Default::default()
                },
                FieldTable::default(),
            )
            .await
            .expect("queue declared");
        channel
            .queue_bind(
                queue.name().clone(),
                ShortString::from(exchange),
                ShortString::from("#"),
                QueueBindOptions::default(),
                FieldTable::default(),
            )
            .await
            .expect("queue bound");
        let mut consumer = channel
            .basic_consume(
                queue.name().clone(),
                ShortString::from("paygate-test"),
                BasicConsumeOptions::default(),
                FieldTable::default(),
            )
            .await
            .expect("consuming");
        let received = Arc::new(Mutex::new(Vec::new()));
        let sink = received.clone();
        let task = tokio::spawn(async move {
            while let Some(Ok(delivery)) = consumer.next().await {
                sink.lock().unwrap().push(Message {
                    routing_key: delivery.routing_key.as_str().to_string(),
                    properties: delivery.properties.clone(),
                    body: delivery.data.clone(),
                });
                let _ = delivery.ack(BasicAckOptions::default()).await;
            }
        });
        Consumer {
            received,
            channel,
            exchange: exchange.to_string(),
            _connection: connection,
            task,
        }
    }

    pub fn messages(&self) -> Vec<Message> {
        self.received.lock().unwrap().clone()
    }

    /// Deletes the test's exchange (paygate declares it durable: it would outlive the test).
    pub async fn remove_exchange(self) {
        let _ = self
            .channel
            .exchange_delete(
                ShortString::from(self.exchange.as_str()),
                ExchangeDeleteOptions::default(),
            )
            .await;
        self.task.abort();
    }
}
