//! Checkout sessions: the merchant opens one for an amount; the customer pays it in the widget
//! (or, in `setup` mode, saves a card for later: [`setup`]).

pub mod expiry;
pub mod record;
pub mod repo;
pub mod routes;
pub mod service;
pub mod setup;
pub mod widget;
pub mod widget_payments;

pub use record::SessionRecord;
