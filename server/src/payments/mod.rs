//! Payments: records, the shared state machine (`shared::api::PaymentStatus`), the timeline,
//! and the merchant API routes.
//!
//! - `service`: a new payment ([`service::NewPayment`], from the merchant API or the widget);
//! - `actions`: confirm, capture, authorize, cancel;
//! - `lifecycle`: the one path from a provider's answer to every consequence (state, timeline,
//!   events, the checkout session, giving back a duplicate); everything above ends there, and
//!   so do webhooks (`webhook`), reconciliation and session expiry;
//! - `repo`: the SQL, with `apply_update` applying the state machine;
//! - `timeline`: each change with its cause;
//! - `authenticate`: the page where a customer authenticates an off-session charge their bank
//!   asked about.
//!
//! How a payment travels through these and the rest of the server: docs/ARCHITECTURE.md.

pub mod actions;
pub mod authenticate;
pub mod lifecycle;
pub mod record;
pub mod repo;
pub mod routes;
pub mod service;
pub mod timeline;
pub mod webhook;

pub use record::PaymentRecord;
pub use timeline::Cause;
