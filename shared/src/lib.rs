//! Code that runs on both sides of paygate: in the axum server and in the WebAssembly widget.
//!
//! - [`money`]: ISO 4217 currencies and exact integer [`Money`](money::Money).
//! - [`providers`]: how Stripe and PayPal want amounts encoded, one module each.
//! - [`card`]: Luhn, masking and redaction of card numbers (for merchants and the log filter).
//! - [`sanitize`]: field-name based redaction of structured data.
//! - [`api`]: every request and response body of paygate's HTTP surface, and the error envelope.

pub mod api;
pub mod card;
pub mod money;
pub mod providers;
pub mod sanitize;

pub use money::{Currency, Money, MoneyError};
