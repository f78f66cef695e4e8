//! Payments: records, the shared state machine (`shared::api::PaymentStatus`), the timeline,
//! and the merchant API routes.

pub mod actions;
pub mod lifecycle;
pub mod record;
pub mod repo;
pub mod routes;
pub mod service;
pub mod timeline;
pub mod webhook;

pub use record::PaymentRecord;
pub use timeline::Cause;
