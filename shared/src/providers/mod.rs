//! How each payment provider wants amounts: one module per provider, each the single place for
//! that provider's currency list, decimal rules and limits.
//!
//! [`Money`] counts ISO 4217 minor units; the providers do not always: Stripe sends ISK and UGX
//! as two-decimal values and MGA as zero-decimal, PayPal refuses decimals for HUF and TWD. The
//! conversions here are exact; an amount a provider cannot take is an error, never rounded.

use crate::money::{pow10, Currency, Money};

pub mod paypal;
pub mod stripe;

/// An amount a provider cannot take, or a provider's amount paygate cannot read. `Display` is
/// a sentence a merchant can act on.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProviderAmountError {
    #[error("{provider} does not support {currency}")]
    UnsupportedCurrency {
        provider: &'static str,
        currency: Currency,
    },
    #[error("{provider} cannot take this amount: {reason}")]
    NotRepresentable {
        provider: &'static str,
        reason: String,
    },
    #[error("{provider} cannot charge less than {}", describe(*.minimum))]
    BelowMinimum {
        provider: &'static str,
        minimum: Money,
    },
    #[error("{provider} cannot charge more than {}", describe(*.maximum))]
    AboveMaximum {
        provider: &'static str,
        maximum: Money,
    },
    #[error("the payment provider sent an amount paygate cannot read: {0}")]
    InvalidProviderValue(String),
}

/// `"$0.50 USD"`: the display form plus the code, so `$` cannot be mistaken for another dollar;
/// `"KWD 0.010"` when the display form already is the code.
fn describe(m: Money) -> String {
    let shown = m.display();
    if m.currency().symbol() == m.currency().code() {
        shown
    } else {
        format!("{shown} {}", m.currency())
    }
}

/// Why a value could not move between two exponents exactly.
#[derive(Debug, PartialEq, Eq)]
enum Rescale {
    /// Going to fewer decimals would drop non-zero digits.
    Inexact,
    Overflow,
}

/// `value` in units of `10^-from`, re-expressed in units of `10^-to`, exactly.
fn rescale(value: i64, from: u8, to: u8) -> Result<i64, Rescale> {
    if to >= from {
        value.checked_mul(pow10(to - from)).ok_or(Rescale::Overflow)
    } else {
        let scale = pow10(from - to);
        if value % scale == 0 {
            Ok(value / scale)
        } else {
            Err(Rescale::Inexact)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rescale_is_exact() {
        assert_eq!(rescale(5, 0, 2), Ok(500));
        assert_eq!(rescale(500, 2, 0), Ok(5));
        assert_eq!(rescale(550, 2, 0), Err(Rescale::Inexact));
        assert_eq!(rescale(-500, 2, 0), Ok(-5));
        assert_eq!(rescale(1230, 3, 3), Ok(1230));
        assert_eq!(rescale(i64::MAX, 0, 2), Err(Rescale::Overflow));
    }

    #[test]
    fn messages() {
        let e = ProviderAmountError::BelowMinimum {
            provider: "Stripe",
            minimum: Money::from_minor(50, Currency::USD),
        };
        assert_eq!(e.to_string(), "Stripe cannot charge less than $0.50 USD");
        let e = ProviderAmountError::AboveMaximum {
            provider: "Stripe",
            maximum: Money::from_minor(99_999_990, Currency::KWD),
        };
        assert_eq!(
            e.to_string(),
            "Stripe cannot charge more than KWD 99,999.990"
        );
        let e = ProviderAmountError::UnsupportedCurrency {
            provider: "PayPal",
            currency: Currency::KWD,
        };
        assert_eq!(e.to_string(), "PayPal does not support KWD");
    }
}
