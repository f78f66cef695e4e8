//! Money: ISO 4217 currencies and exact amounts in integer minor units.
//!
//! An amount is an `i64` count of the currency's minor units plus a [`Currency`]; floats are
//! never used. Decimal strings are parsed exactly and refused, not rounded, when they carry more
//! fraction digits than the currency has. Provider-specific encodings live in
//! [`crate::providers`].

mod amount;
mod currency;
mod error;
mod format;
pub(crate) mod parse;

pub use amount::Money;
pub use currency::Currency;
pub use error::MoneyError;

pub(crate) use amount::pow10;
pub(crate) use error::clip;
pub(crate) use format::decimal_string;
