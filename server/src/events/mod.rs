//! Events paygate emits (the outbox): every state change appends an event row in the same
//! transaction as the change ([`record`]); `GET /v1/events` lists them ([`routes`]).

pub mod repo;
pub mod routes;

pub use repo::record;
pub use routes::router;
