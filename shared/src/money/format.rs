//! Turning `Money` back into text: the exact wire string and a human display form.

use super::Money;
use std::fmt::Write;

impl Money {
    /// The exact decimal string with exactly the currency's exponent of fraction digits:
    /// `"19.99"`, `"1000"` (JPY), `"1.230"` (KWD), `"0.05"`, `"-5.00"`. [`Money::parse`] reads
    /// it back (non-negative values) to the same amount.
    pub fn to_decimal_string(self) -> String {
        decimal_string(self.minor(), self.currency().exponent())
    }

    /// For people: symbol and thousands separators, `"$1,234.56"`, `"¥1,000"`, `"€0.50"`,
    /// `"-$5.00"`; the code and a space when the currency has no symbol, `"KWD 1.230"`.
    /// Locale-specific formatting belongs to the browser's `Intl.NumberFormat`; this is the
    /// one fixed English form used in messages and logs.
    pub fn display(self) -> String {
        let currency = self.currency();
        let exponent = currency.exponent();
        let (int, frac) = split_magnitude(self.minor(), exponent);
        let digits = int.to_string();
        let mut out = String::with_capacity(digits.len() * 4 / 3 + 12);
        if self.minor() < 0 {
            out.push('-');
        }
        let symbol = currency.symbol();
        out.push_str(symbol);
        if symbol == currency.code() {
            out.push(' ');
        }
        for (i, digit) in digits.chars().enumerate() {
            if i > 0 && (digits.len() - i) % 3 == 0 {
                out.push(',');
            }
            out.push(digit);
        }
        push_fraction(&mut out, frac, exponent);
        out
    }
}

/// `value` units of `10^-exponent`, as an exact decimal string with `exponent` fraction digits.
/// Shared with the provider encoders, whose exponent may differ from ISO's.
pub(crate) fn decimal_string(value: i64, exponent: u8) -> String {
    let (int, frac) = split_magnitude(value, exponent);
    let mut out = String::with_capacity(24);
    if value < 0 {
        out.push('-');
    }
    let _ = write!(out, "{int}");
    push_fraction(&mut out, frac, exponent);
    out
}

/// Integer and fraction parts of `|value|` (unsigned, so that i64::MIN works).
fn split_magnitude(value: i64, exponent: u8) -> (u64, u64) {
    let magnitude = value.unsigned_abs();
    let scale = 10u64.pow(u32::from(exponent));
    (magnitude / scale, magnitude % scale)
}

fn push_fraction(out: &mut String, frac: u64, exponent: u8) {
    if exponent > 0 {
        let _ = write!(out, ".{frac:0width$}", width = usize::from(exponent));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::money::Currency::{self, *};

    fn m(minor: i64, c: Currency) -> Money {
        Money::from_minor(minor, c)
    }

    #[test]
    fn decimal_strings() {
        assert_eq!(m(1999, USD).to_decimal_string(), "19.99");
        assert_eq!(m(5, USD).to_decimal_string(), "0.05");
        assert_eq!(m(0, USD).to_decimal_string(), "0.00");
        assert_eq!(m(1000, JPY).to_decimal_string(), "1000");
        assert_eq!(m(1230, KWD).to_decimal_string(), "1.230");
        assert_eq!(m(1, CLF).to_decimal_string(), "0.0001");
        assert_eq!(m(-500, USD).to_decimal_string(), "-5.00");
        assert_eq!(m(-7, JPY).to_decimal_string(), "-7");
        assert_eq!(m(i64::MAX, USD).to_decimal_string(), "92233720368547758.07");
        assert_eq!(
            m(i64::MIN, USD).to_decimal_string(),
            "-92233720368547758.08"
        );
    }

    #[test]
    fn display_forms() {
        assert_eq!(m(123_456, USD).display(), "$1,234.56");
        assert_eq!(m(1000, JPY).display(), "¥1,000");
        assert_eq!(m(50, EUR).display(), "€0.50");
        assert_eq!(m(1230, KWD).display(), "KWD 1.230");
        assert_eq!(m(-500, USD).display(), "-$5.00");
        assert_eq!(m(-1230, KWD).display(), "-KWD 1.230");
        assert_eq!(m(100, GBP).display(), "£1.00");
        assert_eq!(m(99_999_999, USD).display(), "$999,999.99");
        assert_eq!(m(100_000_000, JPY).display(), "¥100,000,000");
        assert_eq!(m(12, ISK).display(), "ISK 12");
        assert_eq!(m(123_456_789, CAD).display(), "CA$1,234,567.89");
        assert_eq!(m(i64::MIN, JPY).display(), "-¥9,223,372,036,854,775,808");
    }
}
