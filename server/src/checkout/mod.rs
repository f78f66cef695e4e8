//! Checkout sessions: the merchant opens one for an amount; the customer pays it in the widget.

mod record;
pub mod repo;
pub mod routes;
pub mod service;
pub mod widget;

pub use record::SessionRecord;
