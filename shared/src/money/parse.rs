//! Exact decimal-string parsing.
//!
//! Written by hand rather than with `rust_decimal`: the grammar is tiny (`digits[.digits]`), the
//! result is an integer of minor units anyway, and `rust_decimal`'s parser accepts what this
//! grammar must refuse (`1_000`, `+5`, `1.`), so its grammar check would stay here regardless.
//! The measurement is in docs/ARCHITECTURE.md ("Why not rust_decimal"). No floating point is
//! involved at any step.

use super::{Currency, Money, MoneyError};

/// A decimal string split at its point, already checked against a grammar.
pub(crate) struct Decimal<'a> {
    pub negative: bool,
    pub int: &'a [u8],
    pub frac: &'a [u8],
}

/// Splits `s` if it matches `-?[0-9]+(\.[0-9]+)?`, or, when `bare_point` is set, PayPal's
/// `-?([0-9]+|[0-9]*\.[0-9]+)` (which also takes ".5"). Only ASCII digits count: `char::is_numeric`
/// would let other scripts' digits in.
pub(crate) fn split(s: &str, bare_point: bool) -> Option<Decimal<'_>> {
    let (negative, rest) = match s.as_bytes() {
        [b'-', rest @ ..] => (true, rest),
        rest => (false, rest),
    };
    let (int, frac) = match rest.iter().position(|&b| b == b'.') {
        Some(dot) => {
            let frac = &rest[dot + 1..];
            if frac.is_empty() {
                return None;
            }
            (&rest[..dot], frac)
        }
        None => (rest, &rest[rest.len()..]),
    };
    let int_ok = !int.is_empty() || (bare_point && !frac.is_empty());
    if !int_ok || !int.iter().chain(frac).all(u8::is_ascii_digit) {
        return None;
    }
    Some(Decimal {
        negative,
        int,
        frac,
    })
}

/// Why a [`Decimal`] does not fit a number of minor units.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum ScaleError {
    TooManyDecimals,
    Overflow,
}

/// The decimal as an integer count of `10^-exponent` units, exactly. More fraction digits than
/// `exponent` are an error, unless `zeros_ok` and every extra digit is `0`.
pub(crate) fn to_minor(d: &Decimal<'_>, exponent: u8, zeros_ok: bool) -> Result<i64, ScaleError> {
    let exponent = usize::from(exponent);
    let (kept, extra) = d.frac.split_at(d.frac.len().min(exponent));
    let extra_ok = extra.is_empty() || (zeros_ok && extra.iter().all(|&b| b == b'0'));
    if !extra_ok {
        return Err(ScaleError::TooManyDecimals);
    }
    let padding = std::iter::repeat_n(&b'0', exponent - kept.len());
    // The magnitude is accumulated unsigned so that i64::MIN stays reachable for negatives.
    let mut magnitude: u64 = 0;
    for &digit in d.int.iter().chain(kept).chain(padding) {
        magnitude = magnitude
            .checked_mul(10)
            .and_then(|m| m.checked_add(u64::from(digit - b'0')))
            .ok_or(ScaleError::Overflow)?;
    }
    if d.negative {
        0i64.checked_sub_unsigned(magnitude)
    } else {
        i64::try_from(magnitude).ok()
    }
    .ok_or(ScaleError::Overflow)
}

impl Money {
    /// Parses a non-negative decimal amount exactly: `"19.99"`, `"1000"`, `"007.50"`, `"0.5"`.
    ///
    /// Strict on purpose, because a lenient amount parser is how a customer gets charged the
    /// wrong price: no sign (a leading `-` is [`MoneyError::Negative`], even `"-0"`; `+` is
    /// invalid), no exponent, no grouping commas, no bare point (`".5"`, `"5."`), no
    /// surrounding whitespace, ASCII digits only. More fraction digits than the currency's
    /// exponent is [`MoneyError::TooManyDecimals`] even when the extra digits are zeros
    /// (`"19.990"` USD): nothing is ever rounded, and a client sending three places for USD has
    /// a bug worth surfacing.
    pub fn parse(s: &str, currency: Currency) -> Result<Money, MoneyError> {
        if s.trim().is_empty() {
            return Err(MoneyError::Empty);
        }
        let decimal =
            split(s, false).ok_or_else(|| MoneyError::InvalidFormat(super::error::clip(s)))?;
        if decimal.negative {
            return Err(MoneyError::Negative);
        }
        match to_minor(&decimal, currency.exponent(), false) {
            Ok(minor) => Ok(Money::from_minor(minor, currency)),
            Err(ScaleError::TooManyDecimals) => Err(MoneyError::TooManyDecimals {
                currency,
                allowed: currency.exponent(),
            }),
            Err(ScaleError::Overflow) => Err(MoneyError::Overflow),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use Currency::*;

    fn minor(s: &str, c: Currency) -> i64 {
        Money::parse(s, c)
            .unwrap_or_else(|e| panic!("{s:?}: {e}"))
            .minor()
    }

    #[test]
    fn valid_amounts() {
        assert_eq!(minor("19.99", USD), 1999);
        assert_eq!(minor("0.29", USD), 29);
        assert_eq!(minor("0.5", USD), 50);
        assert_eq!(minor("1000", USD), 100_000);
        assert_eq!(minor("007.50", USD), 750);
        assert_eq!(minor("0", USD), 0);
        assert_eq!(minor("1000", JPY), 1000);
        assert_eq!(minor("1.230", KWD), 1230);
        assert_eq!(minor("1.23", KWD), 1230);
        assert_eq!(minor("0.0001", CLF), 1);
        assert_eq!(minor("5", ISK), 5);
        assert_eq!(minor("92233720368547758.07", USD), i64::MAX);
        assert_eq!(minor("9223372036854775807", JPY), i64::MAX);
        assert_eq!(minor(&format!("{}1", "0".repeat(100)), JPY), 1);
        assert_eq!(Money::parse("19.99", USD).unwrap().currency(), USD);
    }

    #[test]
    fn too_many_decimals_is_never_rounded() {
        let usd = MoneyError::TooManyDecimals {
            currency: USD,
            allowed: 2,
        };
        assert_eq!(Money::parse("19.990", USD), Err(usd.clone()));
        assert_eq!(Money::parse("0.001", USD), Err(usd));
        let jpy = MoneyError::TooManyDecimals {
            currency: JPY,
            allowed: 0,
        };
        assert_eq!(Money::parse("1000.5", JPY), Err(jpy.clone()));
        assert_eq!(Money::parse("1000.0", JPY), Err(jpy));
        assert_eq!(
            Money::parse("1.2345", KWD),
            Err(MoneyError::TooManyDecimals {
                currency: KWD,
                allowed: 3
            })
        );
    }

    #[test]
    fn overflow() {
        assert_eq!(
            Money::parse("92233720368547758.08", USD),
            Err(MoneyError::Overflow)
        );
        assert_eq!(
            Money::parse("9223372036854775808", JPY),
            Err(MoneyError::Overflow)
        );
        assert_eq!(
            Money::parse(&"9".repeat(40), USD),
            Err(MoneyError::Overflow)
        );
    }

    #[test]
    fn empty_negative_and_malformed() {
        assert_eq!(Money::parse("", USD), Err(MoneyError::Empty));
        assert_eq!(Money::parse("   ", USD), Err(MoneyError::Empty));
        assert_eq!(Money::parse("-1", USD), Err(MoneyError::Negative));
        assert_eq!(Money::parse("-0", USD), Err(MoneyError::Negative));
        assert_eq!(Money::parse("-19.99", USD), Err(MoneyError::Negative));
        for bad in [
            "+1", "1e3", "1E3", "1,000", "1 000", ".5", "5.", ".", "-", "-.5", "0x10", "1.2.3",
            " 1", "1 ", "1\n", "١٢", "１", "½", "$1", "1.5USD", "NaN", "inf", "--1", "1-",
            // rust_decimal's parser takes these (and "+1" and "5." above); paygate's grammar
            // does not (see docs/ARCHITECTURE.md, "Why not rust_decimal").
            "1_000", "1__0",
        ] {
            assert_eq!(
                Money::parse(bad, USD),
                Err(MoneyError::InvalidFormat(bad.to_string())),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn invalid_format_echo_is_bounded_and_masked() {
        let long = format!("x{}", "1".repeat(100));
        match Money::parse(&long, USD) {
            Err(MoneyError::InvalidFormat(echo)) => assert_eq!(echo.chars().count(), 32),
            other => panic!("{other:?}"),
        }
        assert_eq!(
            Money::parse("4242 4242 4242 4242", USD),
            Err(MoneyError::InvalidFormat("424242******4242".into()))
        );
    }

    #[test]
    fn paypal_grammar_and_zero_padding() {
        let d = split(".5", true).unwrap();
        assert_eq!(to_minor(&d, 2, false), Ok(50));
        assert!(split(".5", false).is_none());
        assert!(split("5.", true).is_none());
        assert!(split("-", true).is_none());
        let d = split("100.00", true).unwrap();
        assert_eq!(to_minor(&d, 0, true), Ok(100));
        assert_eq!(to_minor(&d, 0, false), Err(ScaleError::TooManyDecimals));
        let d = split("1.50", true).unwrap();
        assert_eq!(to_minor(&d, 0, true), Err(ScaleError::TooManyDecimals));
        let d = split("-92233720368547758.08", true).unwrap();
        assert_eq!(to_minor(&d, 2, false), Ok(i64::MIN));
    }
}
