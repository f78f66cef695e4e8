//! The connection to RabbitMQ: connect, declare the exchange, turn on publisher confirms, and
//! publish a batch of events, each counted only once the broker confirms it.

use crate::config::EventBusConfig;
use lapin::options::{BasicPublishOptions, ConfirmSelectOptions, ExchangeDeclareOptions};
use lapin::types::{FieldTable, LongString, ShortString};
use lapin::{
    BasicProperties, Channel, Confirmation, Connection, ConnectionProperties, ExchangeKind,
};
use secrecy::ExposeSecret;
use shared::api::Event;

/// AMQP 0-9-1 `delivery-mode` 2: the broker writes the message to disk.
const PERSISTENT: u8 = 2;

/// A connected channel in confirm mode, the exchange declared.
pub struct Broker {
    /// Kept so the connection lives as long as the channel.
    _connection: Connection,
    channel: Channel,
    exchange: ShortString,
}

/// What became of a batch: what the broker confirmed (published), what it did not (nacked, or
/// lost with the connection: to be sent again), and whether the channel broke.
#[derive(Default)]
pub struct Published {
    pub confirmed: Vec<String>,
    pub unconfirmed: Vec<String>,
    pub broken: Option<BrokerError>,
}

/// Why the broker could not be used. Never holds the URL (it carries the password).
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct BrokerError(String);

impl BrokerError {
    pub fn timed_out() -> BrokerError {
        BrokerError("the broker did not answer in time".into())
    }
}

impl From<lapin::Error> for BrokerError {
    fn from(e: lapin::Error) -> Self {
        BrokerError(e.to_string())
    }
}

impl Broker {
    pub async fn connect(config: &EventBusConfig) -> Result<Broker, BrokerError> {
        let properties = ConnectionProperties::default()
            .with_connection_name(LongString::from("paygate event bus"));
        let connection = Connection::connect(config.url.expose_secret(), properties).await?;
        let channel = connection.create_channel().await?;
        // Durable: the exchange outlives a broker restart, as do the persistent messages the
        // queues bound to it hold.
        channel
            .exchange_declare(
                ShortString::from(config.exchange.as_str()),
                ExchangeKind::Topic,
                ExchangeDeclareOptions {
                    durable: true,
                    ..Default::default()
                },
                FieldTable::default(),
            )
            .await?;
        channel
            .confirm_select(ConfirmSelectOptions::default())
            .await?;
        Ok(Broker {
            _connection: connection,
            channel,
            exchange: ShortString::from(config.exchange.as_str()),
        })
    }

    /// Publishes `events` (routing key = event type, persistent, `message_id` = event id) and
    /// waits for the broker's confirms.
    pub async fn publish(&self, events: &[Event]) -> Published {
        let mut out = Published::default();
        let mut pending = Vec::with_capacity(events.len());
        for event in events {
            if out.broken.is_some() {
                out.unconfirmed.push(event.id.clone());
                continue;
            }
            let body = serde_json::to_vec(event).expect("an event serialises");
            let properties = BasicProperties::default()
                .with_message_id(ShortString::from(event.id.as_str()))
                .with_content_type(ShortString::from("application/json"))
                .with_delivery_mode(PERSISTENT)
                .with_timestamp(u64::try_from(event.created).unwrap_or_default())
                .with_type(ShortString::from(event.kind.as_str()))
                .with_app_id(ShortString::from("paygate"));
            match self
                .channel
                .basic_publish(
                    self.exchange.clone(),
                    ShortString::from(event.kind.as_str()),
                    BasicPublishOptions::default(),
                    &body,
                    properties,
                )
                .await
            {
                Ok(confirm) => pending.push((event.id.clone(), confirm)),
                Err(e) => {
                    out.unconfirmed.push(event.id.clone());
                    out.broken = Some(e.into());
                }
            }
        }
        for (id, confirm) in pending {
            match confirm.await {
                Ok(Confirmation::Ack(_)) => out.confirmed.push(id),
                Ok(_) => out.unconfirmed.push(id),
                Err(e) => {
                    out.unconfirmed.push(id);
                    out.broken.get_or_insert(e.into());
                }
            }
        }
        out
    }

    pub fn is_usable(&self) -> bool {
        self.channel.status().connected()
    }
}
