//! Refunds: their own records (`pending`, `succeeded`, `failed`); a payment's `refunded_minor`
//! is the sum of its succeeded refunds. paygate refuses a refund that would exceed what is left
//! — pending refunds count — and checks that under the payment's row lock, so two concurrent
//! partial refunds cannot together exceed the captured amount.

pub mod external;
pub mod repo;
pub mod routes;
pub mod service;
pub mod webhook;

pub use repo::RefundRecord;
