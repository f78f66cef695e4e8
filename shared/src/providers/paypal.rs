//! PayPal's amount rules (developer.paypal.com/docs/reports/reference/paypal-supported-currencies):
//! the `value` string of its `money` object, with 0 decimals for HUF, JPY and TWD and 2 for the
//! other supported currencies.

use super::{rescale, ProviderAmountError, Rescale};
use crate::money::parse::{split, to_minor, ScaleError};
use crate::money::{decimal_string, pow10, Currency, Money};
use Currency::*;

const PROVIDER: &str = "PayPal";

/// `maxLength` of `money.value` in the Orders v2 spec (`checkout_orders_v2.json`). An `i64`
/// never needs more than 20 characters, so encoding cannot hit it; decoding enforces it.
pub const MAX_VALUE_LEN: usize = 32;

/// PayPal's currency-codes page. INR is left out although some client libraries list it: since
/// 1 April 2021 PayPal accounts "cannot use Indian rupees (INR) to receive payments". BRL, CNY
/// and MYR work for in-country accounts only; PayPal itself refuses them elsewhere.
const SUPPORTED: [Currency; 25] = [
    AUD, BRL, CAD, CNY, CZK, DKK, EUR, HKD, HUF, ILS, JPY, MYR, MXN, TWD, NZD, NOK, PHP, PLN, GBP,
    RUB, SGD, SEK, CHF, THB, USD,
];

/// "does not support decimals. If you pass a decimal amount, an error occurs."
const NO_DECIMALS: [Currency; 3] = [HUF, JPY, TWD];

pub fn is_supported(c: Currency) -> bool {
    SUPPORTED.contains(&c)
}

/// The decimals PayPal takes in `value` for `c`: 0 for HUF, JPY, TWD, 2 for the other
/// supported currencies, `None` for unsupported ones.
pub fn decimals(c: Currency) -> Option<u8> {
    if !is_supported(c) {
        None
    } else if NO_DECIMALS.contains(&c) {
        Some(0)
    } else {
        Some(2)
    }
}

fn unsupported(c: Currency) -> ProviderAmountError {
    ProviderAmountError::UnsupportedCurrency {
        provider: PROVIDER,
        currency: c,
    }
}

fn not_representable(reason: String) -> ProviderAmountError {
    ProviderAmountError::NotRepresentable {
        provider: PROVIDER,
        reason,
    }
}

/// PayPal's `value` for `m`: `"19.99"`, `"1000"` (JPY), `"150"` (HUF 150.00). HUF 1.50 is
/// refused (PayPal takes whole forints only), as are negative amounts and unsupported
/// currencies.
pub fn encode_value(m: Money) -> Result<String, ProviderAmountError> {
    let c = m.currency();
    let d = decimals(c).ok_or_else(|| unsupported(c))?;
    if m.minor() < 0 {
        return Err(not_representable(
            "PayPal amounts cannot be negative".into(),
        ));
    }
    let value = match rescale(m.minor(), c.exponent(), d) {
        Ok(value) => value,
        Err(Rescale::Inexact) => {
            return Err(not_representable(format!(
                "PayPal takes {c} amounts in whole units only"
            )))
        }
        Err(Rescale::Overflow) => return Err(not_representable("the amount is too large".into())),
    };
    let text = decimal_string(value, d);
    if text.len() > MAX_VALUE_LEN {
        return Err(not_representable(format!(
            "PayPal amounts are at most {MAX_VALUE_LEN} characters long"
        )));
    }
    Ok(text)
}

/// The [`Money`] a PayPal `value` in `c` stands for, exactly. Accepts what PayPal's schema
/// allows (`^-?([0-9]+|[0-9]*\.[0-9]+)$`, 32 characters at most): `"10"`, `"10.5"`, `".5"`,
/// and PayPal's own echoes with trailing zeros such as `"100.00"` for JPY. Digits beyond the
/// currency's ISO exponent must be zeros; nothing is rounded.
pub fn decode_value(value: &str, c: Currency) -> Result<Money, ProviderAmountError> {
    if !is_supported(c) {
        return Err(unsupported(c));
    }
    let invalid = || {
        ProviderAmountError::InvalidProviderValue(format!(
            "\"{}\" is not a PayPal {c} value",
            crate::money::clip(value)
        ))
    };
    if value.len() > MAX_VALUE_LEN {
        return Err(invalid());
    }
    let decimal = split(value, true).ok_or_else(invalid)?;
    match to_minor(&decimal, c.exponent(), true) {
        Ok(minor) => Ok(Money::from_minor(minor, c)),
        Err(ScaleError::TooManyDecimals) => Err(not_representable(format!(
            "PayPal value {value} has more decimals than {c}"
        ))),
        Err(ScaleError::Overflow) => Err(invalid()),
    }
}

/// Everything PayPal needs of an order amount: a supported currency, a value it can express,
/// and more than zero ("The amount must be a positive number"). Returns the `value` to send.
pub fn check_chargeable(m: Money) -> Result<String, ProviderAmountError> {
    let c = m.currency();
    let d = decimals(c).ok_or_else(|| unsupported(c))?;
    if m.minor() <= 0 {
        // The smallest amount PayPal can express: 0.01 USD, 1 JPY, 1 HUF (100 ISO minor units).
        let step = pow10(c.exponent().saturating_sub(d));
        return Err(ProviderAmountError::BelowMinimum {
            provider: PROVIDER,
            minimum: Money::from_minor(step, c),
        });
    }
    encode_value(m)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(s: &str, c: Currency) -> Money {
        Money::parse(s, c).unwrap()
    }

    fn reason_contains(r: Result<impl std::fmt::Debug, ProviderAmountError>, needle: &str) {
        match r {
            Err(ProviderAmountError::NotRepresentable { provider, reason }) => {
                assert_eq!(provider, "PayPal");
                assert!(reason.contains(needle), "{reason}");
            }
            other => panic!("expected NotRepresentable, got {other:?}"),
        }
    }

    #[test]
    fn supported_list() {
        let codes: Vec<&str> = SUPPORTED.iter().map(|c| c.code()).collect();
        assert_eq!(
            codes.join(" "),
            "AUD BRL CAD CNY CZK DKK EUR HKD HUF ILS JPY MYR MXN TWD NZD NOK PHP PLN GBP RUB SGD \
             SEK CHF THB USD"
        );
        assert_eq!(
            Currency::all().iter().filter(|c| is_supported(**c)).count(),
            25
        );
        assert!(!is_supported(INR));
        assert!(!is_supported(KWD));
        assert_eq!(decimals(HUF), Some(0));
        assert_eq!(decimals(JPY), Some(0));
        assert_eq!(decimals(TWD), Some(0));
        assert_eq!(decimals(USD), Some(2));
        assert_eq!(decimals(KWD), None);
    }

    #[test]
    fn encode_vectors() {
        assert_eq!(encode_value(m("1000", JPY)).as_deref(), Ok("1000"));
        assert_eq!(encode_value(m("19.99", USD)).as_deref(), Ok("19.99"));
        assert_eq!(encode_value(m("0.05", EUR)).as_deref(), Ok("0.05"));
        assert_eq!(encode_value(m("150.00", HUF)).as_deref(), Ok("150"));
        assert_eq!(encode_value(m("20", TWD)).as_deref(), Ok("20"));
        reason_contains(encode_value(m("1.50", HUF)), "whole units");
        reason_contains(encode_value(m("0.01", TWD)), "whole units");
        reason_contains(encode_value(Money::from_minor(-1, USD)), "negative");
        assert_eq!(
            encode_value(m("1.000", KWD)),
            Err(ProviderAmountError::UnsupportedCurrency {
                provider: "PayPal",
                currency: KWD
            })
        );
        assert_eq!(
            encode_value(Money::from_minor(i64::MAX, USD)).as_deref(),
            Ok("92233720368547758.07")
        );
    }

    #[test]
    fn decode_vectors() {
        assert_eq!(decode_value("100.00", USD), Ok(m("100", USD)));
        assert_eq!(decode_value("100.00", USD).unwrap().minor(), 10_000);
        assert_eq!(decode_value("10", USD), Ok(m("10.00", USD)));
        assert_eq!(decode_value("10.5", USD), Ok(m("10.50", USD)));
        assert_eq!(decode_value(".5", USD), Ok(m("0.50", USD)));
        assert_eq!(decode_value("100", JPY), Ok(m("100", JPY)));
        assert_eq!(decode_value("100.00", JPY), Ok(m("100", JPY)));
        assert_eq!(decode_value("150", HUF), Ok(m("150.00", HUF)));
        assert_eq!(decode_value("-5.00", USD), Ok(Money::from_minor(-500, USD)));
        reason_contains(decode_value("1.5", JPY), "more decimals");
        reason_contains(decode_value("1.001", USD), "more decimals");
        for bad in [
            "", "1e3", "1,000", "+1", "5.", "-", ".", " 1", "1.2.3", "abc", "0x10", "１",
        ] {
            assert!(
                matches!(
                    decode_value(bad, USD),
                    Err(ProviderAmountError::InvalidProviderValue(_))
                ),
                "{bad:?}"
            );
        }
        let too_long = format!("1.{}", "0".repeat(31));
        assert_eq!(too_long.len(), 33);
        assert!(matches!(
            decode_value(&too_long, USD),
            Err(ProviderAmountError::InvalidProviderValue(_))
        ));
        assert_eq!(decode_value(&too_long[..32], USD), Ok(m("1", USD)));
        assert!(matches!(
            decode_value("92233720368547758.08", USD),
            Err(ProviderAmountError::InvalidProviderValue(_))
        ));
        assert_eq!(
            decode_value("1", KWD),
            Err(ProviderAmountError::UnsupportedCurrency {
                provider: "PayPal",
                currency: KWD
            })
        );
    }

    #[test]
    fn chargeable() {
        assert_eq!(check_chargeable(m("19.99", USD)).as_deref(), Ok("19.99"));
        assert_eq!(check_chargeable(m("1", JPY)).as_deref(), Ok("1"));
        let below = |min: &str, c| {
            Err(ProviderAmountError::BelowMinimum {
                provider: "PayPal",
                minimum: m(min, c),
            })
        };
        assert_eq!(check_chargeable(m("0", USD)), below("0.01", USD));
        assert_eq!(
            check_chargeable(Money::from_minor(-5, USD)),
            below("0.01", USD)
        );
        assert_eq!(check_chargeable(m("0", HUF)), below("1", HUF));
        assert_eq!(check_chargeable(m("0", JPY)), below("1", JPY));
        reason_contains(check_chargeable(m("1.50", HUF)), "whole units");
        assert_eq!(
            check_chargeable(m("5", KWD)).unwrap_err().to_string(),
            "PayPal does not support KWD"
        );
    }
}
