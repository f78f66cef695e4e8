//! Subscriptions of a customer to a Stripe Price (Stripe only). The row is written before Stripe
//! is called; Stripe's webhooks keep status, period and latest invoice up to date.

pub mod repo;
pub mod routes;
pub mod webhook;
