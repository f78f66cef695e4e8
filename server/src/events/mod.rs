//! Events paygate emits (the outbox): every state change appends an event row in the same
//! transaction as the change ([`record`]), in one envelope (`id`, `type`, `created`,
//! `api_version`, `data.object`); `GET /v1/events` lists them and `GET /v1/event_types` lists
//! the types ([`types`]).

pub mod repo;
pub mod routes;
pub mod types;

pub use repo::{record, record_data};
pub use routes::router;
