//! What every handler shares.

use crate::clock::Clock;
use crate::config::Config;
use crate::crypto::{sha256_hex, DataCipher};
use crate::db::Db;
use crate::http::metrics::Metrics;
use crate::http::rate_limit::RateLimits;
use crate::providers::Providers;
use secrecy::ExposeSecret;
use std::sync::Arc;
use tokio::sync::Notify;

/// Cloned for every request by each layer that holds it, so it is one `Arc`: a clone is one
/// reference count, where copying the fields cost allocations (the provider map, the strings)
/// that showed in profiles of the write path.
#[derive(Clone)]
pub struct AppState(Arc<Shared>);

impl std::ops::Deref for AppState {
    type Target = Shared;
    fn deref(&self) -> &Shared {
        &self.0
    }
}

/// The fields of [`AppState`].
pub struct Shared {
    pub config: Arc<Config>,
    pub db: Db,
    pub cipher: DataCipher,
    pub clock: Clock,
    pub providers: Providers,
    /// Wakes the inbox worker when a webhook was stored.
    pub inbox_wakeup: Arc<Notify>,
    /// Batches provider webhooks into one insert on PostgreSQL (`inbox::batch`).
    pub inbox_batch: Arc<crate::inbox::batch::Batcher>,
    pub metrics: Arc<Metrics>,
    pub rate_limits: Arc<RateLimits>,
    /// Whether the RabbitMQ event bus is connected, for `/metrics`.
    pub bus_health: Arc<crate::event_bus::BusHealth>,
    /// SHA-256 (hex) of the configured development key, if any.
    pub dev_key_hash: Option<String>,
    /// This process's id among the instances sharing the database (random at each start; see
    /// `instances`).
    pub instance_id: String,
}

impl AppState {
    pub fn new(config: Config, db: Db, providers: Providers, clock: Clock) -> AppState {
        let dev_key_hash = config
            .dev_api_key
            .as_ref()
            .map(|k| sha256_hex(k.expose_secret().as_bytes()));
        let event_bus = config.event_bus.is_some();
        let shared_limits = config.redis_url.is_some();
        let inbox_batch = Arc::new(crate::inbox::batch::batcher(db.pool.clone()));
        AppState(Arc::new(Shared {
            cipher: config.data_cipher(),
            rate_limits: Arc::new(RateLimits::new(
                config.merchant_rate_limit,
                config.widget_rate_limit,
                config.redis_url.as_ref().map(|url| {
                    Arc::new(
                        crate::http::shared_limit::SharedLimiter::new(url.expose_secret())
                            .expect("REDIS_URL was checked by the configuration"),
                    )
                }),
            )),
            config: Arc::new(config),
            db,
            clock,
            providers,
            inbox_wakeup: Arc::new(Notify::new()),
            inbox_batch,
            metrics: Arc::new(Metrics::new(event_bus, shared_limits)),
            bus_health: Arc::default(),
            dev_key_hash,
            instance_id: crate::ids::new_id("inst"),
        }))
    }
}
