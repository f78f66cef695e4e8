//! The `Money` value and its checked arithmetic.

use super::{Currency, MoneyError};

/// An exact amount: an integer number of the currency's ISO 4217 minor units (cents for USD,
/// yen for JPY, fils for KWD). Never a float.
///
/// The derived `Ord` compares `minor` first and is only meaningful between amounts of one
/// currency; arithmetic refuses to mix currencies.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Money {
    minor: i64,
    currency: Currency,
}

impl Money {
    pub const fn from_minor(minor: i64, currency: Currency) -> Money {
        Money { minor, currency }
    }

    pub fn zero(currency: Currency) -> Money {
        Money::from_minor(0, currency)
    }

    /// The amount in ISO minor units (`1999` for 19.99 USD).
    pub fn minor(self) -> i64 {
        self.minor
    }

    pub fn currency(self) -> Currency {
        self.currency
    }

    pub fn is_zero(self) -> bool {
        self.minor == 0
    }

    pub fn checked_add(self, other: Money) -> Result<Money, MoneyError> {
        let other = self.same_currency(other)?;
        self.with(self.minor.checked_add(other))
    }

    pub fn checked_sub(self, other: Money) -> Result<Money, MoneyError> {
        let other = self.same_currency(other)?;
        self.with(self.minor.checked_sub(other))
    }

    /// The amount times a quantity (a line item of `quantity` units at this price).
    pub fn checked_mul(self, quantity: i64) -> Result<Money, MoneyError> {
        self.with(self.minor.checked_mul(quantity))
    }

    fn same_currency(self, other: Money) -> Result<i64, MoneyError> {
        if self.currency == other.currency {
            Ok(other.minor)
        } else {
            Err(MoneyError::CurrencyMismatch {
                left: self.currency,
                right: other.currency,
            })
        }
    }

    fn with(self, minor: Option<i64>) -> Result<Money, MoneyError> {
        minor
            .map(|minor| Money::from_minor(minor, self.currency))
            .ok_or(MoneyError::Overflow)
    }
}

/// `10^exponent`; exponents come from the currency and provider tables (at most 4).
pub(crate) const fn pow10(exponent: u8) -> i64 {
    10i64.pow(exponent as u32)
}

#[cfg(test)]
mod tests {
    use super::*;
    use Currency::*;

    #[test]
    fn accessors() {
        let m = Money::from_minor(1999, USD);
        assert_eq!(m.minor(), 1999);
        assert_eq!(m.currency(), USD);
        assert!(!m.is_zero());
        assert!(Money::zero(JPY).is_zero());
        assert_eq!(Money::zero(JPY).currency(), JPY);
        const PRICE: Money = Money::from_minor(500, EUR);
        assert_eq!(PRICE.minor(), 500);
    }

    #[test]
    fn arithmetic() {
        let a = Money::from_minor(1999, USD);
        let b = Money::from_minor(1, USD);
        assert_eq!(a.checked_add(b), Ok(Money::from_minor(2000, USD)));
        assert_eq!(b.checked_sub(a), Ok(Money::from_minor(-1998, USD)));
        assert_eq!(a.checked_mul(3), Ok(Money::from_minor(5997, USD)));
        assert_eq!(a.checked_mul(-1), Ok(Money::from_minor(-1999, USD)));
        assert_eq!(
            a.checked_add(Money::from_minor(1, EUR)),
            Err(MoneyError::CurrencyMismatch {
                left: USD,
                right: EUR
            })
        );
        assert_eq!(
            a.checked_sub(Money::from_minor(1, JPY)),
            Err(MoneyError::CurrencyMismatch {
                left: USD,
                right: JPY
            })
        );
        let max = Money::from_minor(i64::MAX, USD);
        assert_eq!(max.checked_add(b), Err(MoneyError::Overflow));
        assert_eq!(
            Money::from_minor(i64::MIN, USD).checked_sub(b),
            Err(MoneyError::Overflow)
        );
        assert_eq!(max.checked_mul(2), Err(MoneyError::Overflow));
    }

    #[test]
    fn pow10_values() {
        assert_eq!(pow10(0), 1);
        assert_eq!(pow10(2), 100);
        assert_eq!(pow10(4), 10_000);
    }
}
