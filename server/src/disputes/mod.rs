//! Disputes: a customer's bank contesting a payment, as the provider reports it
//! ([`webhook`], from Stripe's `charge.dispute.*` events read back), and the merchant's
//! response through the API ([`routes`]: list, read, submit evidence, accept). Each change is on
//! the payment's timeline and in the outbox (`dispute.created`, `dispute.updated`,
//! `dispute.closed`), and the payment's `disputed_minor` follows.

pub mod repo;
pub mod routes;
pub mod webhook;

pub use routes::router;
