//! Inbox: each verified provider webhook is stored raw, deduplicated by the
//! provider's event id, acknowledged at once, and applied by a durable worker that reads the
//! stored rows, so an event acknowledged just before a crash is applied after the restart.

pub mod batch;
pub mod effect;
pub mod routes;
pub mod store;
pub mod worker;
