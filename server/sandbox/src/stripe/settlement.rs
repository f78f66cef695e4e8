//! The account's settlement currency and the minimum after conversion: "Charges requiring
//! conversion into your account's default settlement currency must meet the equivalent minimum
//! of the settlement currency" (docs.stripe.com/currencies, "Minimum and maximum charge
//! amounts"). Stripe answers `amount_too_small` with "Amount must convert to at least 50 cents.
//! ¥5 converts to approximately $0.03." Off by default (every charge settles in its own
//! currency); `POST /_emulator/account {"settlement_currency": "usd"}` turns it on.
//!
//! The conversion uses fixed approximate rates, not Stripe's: enough to put an amount clearly
//! on one side of a minimum in a test. Currencies without a rate here are not checked. Integer
//! arithmetic only (micro-dollars per unit).

use shared::providers::stripe as rules;
use shared::{Currency, Money};

/// US micro-dollars per whole unit of each currency (approximate, fixed).
const MICRO_USD_PER_UNIT: [(&str, i128); 14] = [
    ("USD", 1_000_000),
    ("EUR", 1_080_000),
    ("GBP", 1_270_000),
    ("CHF", 1_130_000),
    ("CAD", 730_000),
    ("AUD", 650_000),
    ("JPY", 6_700),
    ("SEK", 95_000),
    ("NOK", 93_000),
    ("DKK", 145_000),
    ("MXN", 58_000),
    ("HKD", 128_000),
    ("AED", 272_000),
    ("SGD", 740_000),
];

fn rate(c: Currency) -> Option<i128> {
    MICRO_USD_PER_UNIT
        .iter()
        .find(|(code, _)| *code == c.code())
        .map(|(_, r)| *r)
}

/// `money` in `to`, rounded down, or `None` without rates for both.
pub fn convert(money: Money, to: Currency) -> Option<Money> {
    let (from_rate, to_rate) = (rate(money.currency())?, rate(to)?);
    let micro_usd =
        i128::from(money.minor()) * from_rate / 10_i128.pow(u32::from(money.currency().exponent()));
    let minor = micro_usd * 10_i128.pow(u32::from(to.exponent())) / to_rate;
    i64::try_from(minor).ok().map(|m| Money::from_minor(m, to))
}

/// Stripe's message when `money` converts to less than the minimum of `settlement`.
pub fn below_minimum(money: Money, settlement: Currency) -> Option<String> {
    if money.currency() == settlement {
        return None;
    }
    let minimum = rules::minimum_charge(settlement)?;
    let converted = convert(money, settlement)?;
    (converted.minor() < minimum.minor()).then(|| {
        let unit = if settlement.exponent() == 0 {
            settlement.code().to_string()
        } else {
            "cents".to_string()
        };
        format!(
            "Amount must convert to at least {} {unit}. {} converts to approximately {}.",
            minimum.minor(),
            money.display(),
            converted.display()
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn converts_with_integers_and_checks_the_settlement_minimum() {
        let (jpy, usd) = (
            Currency::from_code("JPY").unwrap(),
            Currency::from_code("USD").unwrap(),
        );
        assert_eq!(
            convert(Money::from_minor(100, jpy), usd),
            Some(Money::from_minor(67, usd))
        );
        let message = below_minimum(Money::from_minor(60, jpy), usd).unwrap();
        assert!(
            message.starts_with("Amount must convert to at least 50 cents."),
            "{message}"
        );
        assert!(below_minimum(Money::from_minor(100, jpy), usd).is_none());
        assert!(
            below_minimum(Money::from_minor(10, usd), usd).is_none(),
            "no conversion"
        );
    }
}
