//! Checkout sessions: the merchant opens one for an amount; the customer pays it in the widget.

pub mod expiry;
pub mod record;
pub mod repo;
pub mod routes;
pub mod service;
pub mod widget;
pub mod widget_payments;

pub use record::SessionRecord;
