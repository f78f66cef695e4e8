//! Stripe's unit for `amount`, per currency, as docs.stripe.com/currencies states it. Written
//! here, apart from the client's table (`shared::providers::stripe`): when the emulator read
//! amounts with the client's own rules, a wrong rule could not fail a single test. A test below
//! compares the two tables currency by currency.
//!
//! From the page ("Minor units in API amounts"):
//! - "Currencies are two-decimal currencies unless otherwise specified."
//! - Zero-decimal: "BIF CLP DJF GNF JPY KMF KRW MGA PYG RWF UGX VND VUV XAF XOF XPF" ("the
//!   charge and the amount are the same").
//! - Three-decimal: "BHD JOD KWD OMR TND", the least significant digit 0.
//! - Special cases: ISK and UGX "transitioned to a zero-decimal currency, but backwards
//!   compatibility requires you to represent it as a two-decimal value, where the decimal amount
//!   is always 00. For example, to charge 5 UGX, provide an amount value of 500. You can't
//!   charge fractions of UGX." The special case is the rule for charges, so UGX is two-decimal
//!   here although it also stands in the zero-decimal list.

use shared::{Currency, Money};

const ZERO_DECIMAL: [&str; 15] = [
    "bif", "clp", "djf", "gnf", "jpy", "kmf", "krw", "mga", "pyg", "rwf", "vnd", "vuv", "xaf",
    "xof", "xpf",
];
const THREE_DECIMAL: [&str; 5] = ["bhd", "jod", "kwd", "omr", "tnd"];
/// Whole units sent as two-decimal values ending in `00`.
const WHOLE_UNITS_TWO_DECIMAL: [&str; 2] = ["isk", "ugx"];

/// How Stripe reads `amount` in one currency.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Unit {
    /// Decimals of the `amount` integer.
    pub decimals: u8,
    /// Every valid `amount` is a multiple of this (10 for three-decimal, 100 for ISK and UGX).
    pub step: i64,
}

pub fn unit(currency: &str) -> Unit {
    let lower = currency.to_ascii_lowercase();
    let lower = lower.as_str();
    if WHOLE_UNITS_TWO_DECIMAL.contains(&lower) {
        Unit {
            decimals: 2,
            step: 100,
        }
    } else if ZERO_DECIMAL.contains(&lower) {
        Unit {
            decimals: 0,
            step: 1,
        }
    } else if THREE_DECIMAL.contains(&lower) {
        Unit {
            decimals: 3,
            step: 10,
        }
    } else {
        Unit {
            decimals: 2,
            step: 1,
        }
    }
}

/// The amount Stripe charges for `amount` in `c`, or why `amount` is not one Stripe takes.
pub fn decode(amount: i64, c: Currency) -> Result<Money, String> {
    let u = unit(c.code());
    if amount % u.step != 0 {
        return Err(format!(
            "{} amounts must be a multiple of {}",
            c.code(),
            u.step
        ));
    }
    let iso = c.exponent();
    let minor = if u.decimals >= iso {
        let factor = 10_i64.pow(u32::from(u.decimals - iso));
        if amount % factor != 0 {
            return Err(format!("{} has no fractions of a unit", c.code()));
        }
        amount / factor
    } else {
        amount
            .checked_mul(10_i64.pow(u32::from(iso - u.decimals)))
            .ok_or_else(|| "amount too large".to_string())?
    };
    Ok(Money::from_minor(minor, c))
}

/// `amount` of `currency` as the emulator's messages and pages show it ("$12.00"), or the raw
/// integer and code when it is not an amount Stripe takes.
pub fn display(amount: i64, currency: &str) -> String {
    Currency::from_code(&currency.to_ascii_uppercase())
        .ok()
        .and_then(|c| decode(amount, c).ok())
        .map_or_else(|| format!("{amount} {currency}"), |m| m.display())
}

#[cfg(test)]
mod tests {
    use super::*;
    use shared::providers::stripe as client;

    #[test]
    fn the_documented_examples() {
        let ugx = Currency::from_code("UGX").unwrap();
        assert_eq!(
            decode(500, ugx).unwrap(),
            Money::from_minor(5, ugx),
            "5 UGX is 500"
        );
        assert!(decode(550, ugx).is_err(), "no fractions of UGX");
        let jpy = Currency::from_code("JPY").unwrap();
        assert_eq!(decode(500, jpy).unwrap(), Money::from_minor(500, jpy));
        let kwd = Currency::from_code("KWD").unwrap();
        assert_eq!(decode(5120, kwd).unwrap(), Money::from_minor(5120, kwd));
        assert!(decode(5124, kwd).is_err());
        let usd = Currency::from_code("USD").unwrap();
        assert_eq!(decode(1000, usd).unwrap(), Money::from_minor(1000, usd));
    }

    /// The client encodes every chargeable amount as Stripe reads it: for each currency the
    /// client sends, whole and fractional amounts go through the client's encoding and come back
    /// through this table unchanged. A rule wrong in either table fails here.
    #[test]
    fn the_client_encodes_as_stripe_reads() {
        let mut currencies = 0;
        let mut encoded = 0;
        for &c in Currency::all().iter() {
            let whole =
                [1_i64, 5, 100, 12_345].map(|units| units * 10_i64.pow(u32::from(c.exponent())));
            let mut sent = false;
            for minor in whole.into_iter().chain([1, 10, 123, 1_230]) {
                let m = Money::from_minor(minor, c);
                let Ok(amount) = client::encode_amount(m) else {
                    continue; // not an amount (or a currency) the client sends to Stripe
                };
                sent = true;
                encoded += 1;
                assert_eq!(
                    decode(amount, c),
                    Ok(m),
                    "{} {minor} (minor units): the client sends {amount}",
                    c.code()
                );
            }
            currencies += usize::from(sent);
        }
        // Stripe charges in 135+ currencies; the comparison covered (nearly) all of them.
        assert!(currencies > 120, "{currencies} currencies checked");
        assert!(encoded > currencies * 4, "{encoded} amounts checked");
    }
}
