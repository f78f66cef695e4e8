//! Stripe's amount rules (docs.stripe.com/currencies): the integer `amount` in Stripe's own minor
//! units, which differ from ISO 4217 for a few currencies, the minimum charge per currency and
//! the eight-digit maximum.

use super::{rescale, ProviderAmountError, Rescale};
use crate::money::{pow10, Currency, Money};
use Currency::*;

const PROVIDER: &str = "Stripe";

/// The largest `amount` Stripe takes outside card payments ("8 digits for all other
/// currencies", 999,999.99 for two-decimal ones); used as the cap for every charge.
pub const MAX_AMOUNT: i64 = 99_999_999;

/// Stripe's zero-decimal list (16 currencies): the `amount` is in whole units.
const ZERO_DECIMAL: [Currency; 16] = [
    BIF, CLP, DJF, GNF, JPY, KMF, KRW, MGA, PYG, RWF, UGX, VND, VUV, XAF, XOF, XPF,
];

/// Stripe's three-decimal list: `amount` in thousandths, least significant digit 0.
const THREE_DECIMAL: [Currency; 5] = [BHD, JOD, KWD, OMR, TND];

/// ISO funds codes and accounting units: not legal tender a card can be charged in, so never
/// sent to Stripe even where the exponent would fit.
const NOT_CHARGEABLE: [Currency; 10] = [BOV, CHE, CHW, CLF, COU, MXV, USN, UYI, UYW, XAD];

/// Minimum charge amounts (docs.stripe.com/currencies), in ISO minor units of the charge currency.
/// Stripe applies them to the settlement currency; checking the charge currency is the closest this
/// side can get and catches the common case (charging in the account's own currency). The older BGN
/// 1.00 entry is gone: BGN is no longer an ISO code.
const MINIMUMS: [(Currency, i64); 31] = [
    (USD, 50),
    (AED, 200),
    (ARS, 50),
    (AUD, 50),
    (BRL, 50),
    (CAD, 50),
    (CHF, 50),
    (COP, 50),
    (CZK, 1500),
    (DKK, 250),
    (EUR, 50),
    (GBP, 30),
    (HKD, 400),
    (HUF, 17500),
    (IDR, 50),
    (ILS, 50),
    (INR, 50),
    (JPY, 50),
    (KRW, 50),
    (MXN, 1000),
    (MYR, 200),
    (NOK, 300),
    (NZD, 50),
    (PHP, 50),
    (PLN, 200),
    (RON, 200),
    (RUB, 50),
    (SEK, 300),
    (SGD, 50),
    (THB, 1000),
    (ZAR, 50),
];

/// The `currency` parameter: Stripe wants lower case.
pub fn currency_param(c: Currency) -> String {
    c.code().to_ascii_lowercase()
}

pub fn is_zero_decimal(c: Currency) -> bool {
    ZERO_DECIMAL.contains(&c)
}

pub fn is_three_decimal(c: Currency) -> bool {
    THREE_DECIMAL.contains(&c)
}

/// How many decimals Stripe's `amount` has for `c`, or `None` when paygate will not send `c`
/// to Stripe.
fn stripe_exponent(c: Currency) -> Option<u8> {
    if NOT_CHARGEABLE.contains(&c) {
        None
    } else if c == ISK || c == UGX {
        // "backward compatibility requires you to represent it as a two-decimal value, where
        // the decimal amount is always 00" (UGX is also on the zero-decimal list; this rule
        // is the operative one).
        Some(2)
    } else if is_zero_decimal(c) {
        Some(0)
    } else if is_three_decimal(c) {
        Some(3)
    } else if c.exponent() == 2 {
        // "Currencies are two-decimal currencies unless otherwise specified."
        Some(2)
    } else {
        // ISO exponent 0, 3 or 4 outside Stripe's lists (IQD, LYD...): Stripe would read the
        // amount as two-decimal, which cannot be right, and does not list them anyway.
        None
    }
}

/// The smallest step of a valid encoded `amount` for `c` (a Stripe exponent `s`).
fn encoded_step(c: Currency, s: u8) -> i64 {
    if is_three_decimal(c) {
        10
    } else {
        pow10(s.saturating_sub(c.exponent()))
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

/// Stripe's `amount` integer for `m`: JPY 1000 → 1000, USD 0.29 → 29, KWD 1.230 → 1230,
/// ISK 5 → 500, UGX 1000 → 100000, MGA 100.00 → 100. Refuses amounts Stripe cannot express
/// (KWD 1.234, MGA 1.50), negative amounts, and currencies Stripe does not take.
pub fn encode_amount(m: Money) -> Result<i64, ProviderAmountError> {
    let c = m.currency();
    let s = stripe_exponent(c).ok_or_else(|| unsupported(c))?;
    if m.minor() < 0 {
        return Err(not_representable(
            "Stripe amounts cannot be negative".into(),
        ));
    }
    let amount = match rescale(m.minor(), c.exponent(), s) {
        Ok(amount) => amount,
        Err(Rescale::Inexact) => {
            return Err(not_representable(format!(
                "Stripe takes {c} amounts in whole units only"
            )))
        }
        Err(Rescale::Overflow) => return Err(not_representable("the amount is too large".into())),
    };
    if amount % encoded_step(c, s) != 0 {
        return Err(not_representable(format!(
            "Stripe takes {c} amounts in multiples of 0.010 only"
        )));
    }
    Ok(amount)
}

/// The [`Money`] a Stripe `amount` in `c` stands for: the inverse of [`encode_amount`]. An
/// ISK or UGX amount that is not a multiple of 100 (a fraction those currencies do not have) is
/// refused; a negative amount is not a value Stripe sends for charges or refunds.
pub fn decode_amount(amount: i64, c: Currency) -> Result<Money, ProviderAmountError> {
    let s = stripe_exponent(c).ok_or_else(|| unsupported(c))?;
    if amount < 0 {
        return Err(ProviderAmountError::InvalidProviderValue(format!(
            "negative Stripe amount {amount} {c}"
        )));
    }
    match rescale(amount, s, c.exponent()) {
        Ok(minor) => Ok(Money::from_minor(minor, c)),
        Err(Rescale::Inexact) => Err(not_representable(format!(
            "Stripe amount {amount} is a fraction of a unit of {c}, which has none"
        ))),
        Err(Rescale::Overflow) => Err(ProviderAmountError::InvalidProviderValue(format!(
            "Stripe amount {amount} {c} is out of range"
        ))),
    }
}

/// Stripe's minimum charge in `c`, or `None` where Stripe lists none
/// (docs.stripe.com/currencies#minimum-and-maximum-charge-amounts).
pub fn minimum_charge(c: Currency) -> Option<Money> {
    MINIMUMS
        .iter()
        .find(|(currency, _)| *currency == c)
        .map(|&(currency, minor)| Money::from_minor(minor, currency))
}

/// The largest chargeable amount in `c`: [`MAX_AMOUNT`] rounded down to a valid encoding
/// (999,999.99 USD; 999,999 ISK; 99,999.990 KWD), or `None` when Stripe does not take `c`.
pub fn maximum_charge(c: Currency) -> Option<Money> {
    let s = stripe_exponent(c)?;
    let top = MAX_AMOUNT - MAX_AMOUNT % encoded_step(c, s);
    decode_amount(top, c).ok()
}

/// Everything Stripe checks about an amount before a charge: a supported currency, at most
/// the maximum, at least the minimum (one smallest unit where Stripe lists no minimum:
/// Stripe charges nothing below that), and an exact encoding. Returns the `amount` to send.
pub fn check_chargeable(m: Money) -> Result<i64, ProviderAmountError> {
    let c = m.currency();
    let s = stripe_exponent(c).ok_or_else(|| unsupported(c))?;
    let maximum = maximum_charge(c).ok_or_else(|| unsupported(c))?;
    if m.minor() > maximum.minor() {
        return Err(ProviderAmountError::AboveMaximum {
            provider: PROVIDER,
            maximum,
        });
    }
    let minimum = minimum_charge(c).unwrap_or_else(|| {
        // One encoded step, in ISO minor units: exact, since the step is a whole number of
        // ISO units whenever Stripe has more decimals than ISO.
        let minor = rescale(encoded_step(c, s), s, c.exponent()).unwrap_or(1);
        Money::from_minor(minor, c)
    });
    if m.minor() < minimum.minor() {
        return Err(ProviderAmountError::BelowMinimum {
            provider: PROVIDER,
            minimum,
        });
    }
    encode_amount(m)
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
                assert_eq!(provider, "Stripe");
                assert!(reason.contains(needle), "{reason}");
            }
            other => panic!("expected NotRepresentable, got {other:?}"),
        }
    }

    #[test]
    fn lists_match_the_reference() {
        let zero: Vec<&str> = Currency::all()
            .iter()
            .filter(|c| is_zero_decimal(**c))
            .map(|c| c.code())
            .collect();
        assert_eq!(
            zero.join(" "),
            "BIF CLP DJF GNF JPY KMF KRW MGA PYG RWF UGX VND VUV XAF XOF XPF"
        );
        let three: Vec<&str> = Currency::all()
            .iter()
            .filter(|c| is_three_decimal(**c))
            .map(|c| c.code())
            .collect();
        assert_eq!(three.join(" "), "BHD JOD KWD OMR TND");
        assert!(!is_zero_decimal(ISK));
        assert_eq!(currency_param(USD), "usd");
        assert_eq!(currency_param(KWD), "kwd");
    }

    #[test]
    fn encode_vectors() {
        assert_eq!(encode_amount(m("1000", JPY)), Ok(1000));
        assert_eq!(encode_amount(m("0.29", USD)), Ok(29));
        assert_eq!(encode_amount(m("19.99", USD)), Ok(1999));
        assert_eq!(encode_amount(m("1.230", KWD)), Ok(1230));
        assert_eq!(encode_amount(m("5", ISK)), Ok(500));
        assert_eq!(encode_amount(m("1000", UGX)), Ok(100_000));
        assert_eq!(encode_amount(m("100.00", MGA)), Ok(100));
        assert_eq!(encode_amount(m("1.50", HUF)), Ok(150));
        assert_eq!(encode_amount(m("1.50", TWD)), Ok(150));
        reason_contains(encode_amount(m("1.234", KWD)), "multiples of 0.010");
        reason_contains(encode_amount(m("1.50", MGA)), "whole units");
        reason_contains(encode_amount(Money::from_minor(-1, USD)), "negative");
        reason_contains(encode_amount(Money::from_minor(i64::MAX, ISK)), "too large");
    }

    #[test]
    fn unsupported_currencies() {
        for c in [IQD, LYD, CLF, UYW, UYI, USN, BOV, XAD] {
            let expected = ProviderAmountError::UnsupportedCurrency {
                provider: "Stripe",
                currency: c,
            };
            let money = Money::from_minor(1000, c);
            assert_eq!(encode_amount(money).unwrap_err(), expected);
            assert_eq!(decode_amount(1000, c).unwrap_err(), expected);
            assert_eq!(check_chargeable(money).unwrap_err(), expected);
            assert_eq!(maximum_charge(c), None);
        }
    }

    #[test]
    fn decode_vectors() {
        assert_eq!(decode_amount(500, ISK), Ok(m("5", ISK)));
        assert_eq!(decode_amount(100_000, UGX), Ok(m("1000", UGX)));
        assert_eq!(decode_amount(1999, USD), Ok(m("19.99", USD)));
        assert_eq!(decode_amount(1000, JPY), Ok(m("1000", JPY)));
        assert_eq!(decode_amount(100, MGA), Ok(m("100", MGA)));
        assert_eq!(decode_amount(1230, KWD), Ok(m("1.230", KWD)));
        reason_contains(decode_amount(550, ISK), "fraction");
        reason_contains(decode_amount(1, UGX), "fraction");
        assert!(matches!(
            decode_amount(-5, USD),
            Err(ProviderAmountError::InvalidProviderValue(_))
        ));
        assert!(matches!(
            decode_amount(i64::MAX, MGA),
            Err(ProviderAmountError::InvalidProviderValue(_))
        ));
    }

    #[test]
    fn minimums_match_the_reference() {
        // docs.stripe.com/currencies, verbatim.
        let listed = "0.50 USD · 2.00 AED · 0.50 ARS · 0.50 AUD · 0.50 BRL · 0.50 CAD · 0.50 CHF \
            · 0.50 COP · 15.00 CZK · 2.50 DKK · 0.50 EUR · 0.30 GBP · 4.00 HKD · 175.00 HUF \
            · 0.50 IDR · 0.50 ILS · 0.50 INR · 50 JPY · 50 KRW · 10 MXN · 2.00 MYR · 3.00 NOK \
            · 0.50 NZD · 0.50 PHP · 2.00 PLN · 2.00 RON · 0.50 RUB · 3.00 SEK · 0.50 SGD \
            · 10 THB · 0.50 ZAR";
        let mut count = 0;
        for entry in listed.split('·') {
            let (amount, code) = entry.trim().split_once(' ').unwrap();
            let c = Currency::from_code(code).unwrap();
            assert_eq!(minimum_charge(c), Some(m(amount, c)), "{code}");
            count += 1;
        }
        assert_eq!(count, MINIMUMS.len());
        assert_eq!(minimum_charge(KWD), None);
        assert_eq!(minimum_charge(ISK), None);
    }

    #[test]
    fn chargeable_limits() {
        let below = |min: &str, c| {
            Err(ProviderAmountError::BelowMinimum {
                provider: "Stripe",
                minimum: m(min, c),
            })
        };
        assert_eq!(check_chargeable(m("0.49", USD)), below("0.50", USD));
        assert_eq!(check_chargeable(m("0.50", USD)), Ok(50));
        assert_eq!(check_chargeable(m("0", USD)), below("0.50", USD));
        assert_eq!(
            check_chargeable(Money::from_minor(-100, USD)),
            below("0.50", USD)
        );
        assert_eq!(check_chargeable(m("49", JPY)), below("50", JPY));
        assert_eq!(check_chargeable(m("0.29", GBP)), below("0.30", GBP));
        assert_eq!(check_chargeable(m("174.99", HUF)), below("175.00", HUF));
        assert_eq!(check_chargeable(m("175.00", HUF)), Ok(17500));
        // No listed minimum: one smallest unit.
        assert_eq!(check_chargeable(m("0.001", KWD)), below("0.010", KWD));
        assert_eq!(check_chargeable(m("0.010", KWD)), Ok(10));
        assert_eq!(check_chargeable(m("0", ISK)), below("1", ISK));
        assert_eq!(check_chargeable(m("1", ISK)), Ok(100));

        assert_eq!(check_chargeable(m("999999.99", USD)), Ok(99_999_999));
        let above = |max: &str, c| {
            Err(ProviderAmountError::AboveMaximum {
                provider: "Stripe",
                maximum: m(max, c),
            })
        };
        assert_eq!(
            check_chargeable(m("1000000.00", USD)),
            above("999999.99", USD)
        );
        assert_eq!(check_chargeable(m("1000000", ISK)), above("999999", ISK));
        assert_eq!(check_chargeable(m("999999", ISK)), Ok(99_999_900));
        assert_eq!(check_chargeable(m("100000", KWD)), above("99999.990", KWD));
        assert_eq!(
            check_chargeable(m("100000000", JPY)),
            above("99999999", JPY)
        );
        assert_eq!(
            check_chargeable(m("100000000", MGA)),
            above("99999999.00", MGA)
        );
        assert_eq!(check_chargeable(m("99999999", MGA)), Ok(99_999_999));
        reason_contains(check_chargeable(m("1.234", KWD)), "multiples of 0.010");
        assert_eq!(
            check_chargeable(m("1000000", USD)).unwrap_err().to_string(),
            "Stripe cannot charge more than $999,999.99 USD"
        );
    }
}
