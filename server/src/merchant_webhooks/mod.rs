//! Merchant webhooks: paygate pushes its events (see `events`) to the merchant's HTTPS
//! endpoints, signed as the Standard Webhooks specification says, at least once, retried with
//! backoff for about three days, with every attempt logged. Endpoints are managed through the
//! merchant API (`routes`); the relay (`relay`) fans events out and sends them.

pub mod relay;
pub mod repo;
pub mod routes;
pub mod service;
pub mod signing;
pub mod url;

pub use routes::router;

/// Associated data of the encrypted signing secrets.
pub const SECRET_CONTEXT: &str = "webhook_endpoints.secret";
