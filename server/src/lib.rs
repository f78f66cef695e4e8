//! paygate's server: the axum service, its CLI, storage, provider abstraction and workers.
//! `app::app` builds the router; `startup::Application` runs it.
//!
//! The map of the modules, the life of a payment through them (every provider answer goes
//! through [`payments::lifecycle`]) and where each rule is enforced: docs/ARCHITECTURE.md.

pub mod admin;
pub mod app;
pub mod auth;
pub mod checkout;
pub mod cli;
pub mod clock;
pub mod config;
pub mod crypto;
pub mod customers;
pub mod db;
pub mod disputes;
pub mod error;
pub mod event_bus;
pub mod events;
pub mod http;
pub mod ids;
pub mod inbox;
pub mod instances;
pub mod jobs;
pub mod key_rotation;
pub mod merchant_webhooks;
pub mod openapi;
pub mod pages;
pub mod payment_links;
pub mod payments;
pub mod providers;
pub mod reconcile;
pub mod refunds;
pub mod startup;
pub mod state;
pub mod subscriptions;
pub mod telemetry;
pub mod validate;
