//! PayPal's `money` object `{currency_code, value}` as the emulator checks it
//! (developer.paypal.com/docs/api/orders/v2, developer.paypal.com/docs/reports/reference/paypal-supported-currencies; the specs' `money` schema):
//!
//! - schema (400 `INVALID_REQUEST`): both fields required (`MISSING_REQUIRED_PARAMETER`),
//!   strings, `currency_code` three characters and `value` at most 32
//!   (`INVALID_STRING_LENGTH`), `value` matching `^((-?[0-9]+)|(-?([0-9]+)?[.][0-9]+))$`
//!   (`INVALID_PARAMETER_SYNTAX`);
//! - business rules (422 `UNPROCESSABLE_ENTITY`): a currency PayPal supports
//!   (`INVALID_CURRENCY_CODE`, the table in `shared::providers::paypal`); no more decimals than
//!   the currency takes — 0 for HUF, JPY, TWD, 2 for the rest, counted as written (`"10.0"` has
//!   one): `DECIMAL_PRECISION` on Orders v2, and on Payments v2 `DECIMALS_NOT_SUPPORTED` for
//!   the zero-decimal currencies (`DECIMAL_PRECISION` otherwise); at most 999999999999999.99
//!   (`MAX_VALUE_EXCEEDED`); sign rules chosen by the caller (`CANNOT_BE_ZERO_OR_NEGATIVE`,
//!   `CANNOT_BE_NEGATIVE`).
//!
//! Amounts are kept as integers in the currency's PayPal unit (cents, or whole yen): no floats.

use super::error::{Api, ApiError};
use serde_json::{json, Value};
use shared::Currency;

/// An exact PayPal amount: `units` of 10^-`decimals` of `currency`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Amount {
    pub currency: Currency,
    pub units: i64,
    pub decimals: u8,
}

impl Amount {
    #[cfg(test)]
    pub fn new(currency: Currency, units: i64) -> Amount {
        Amount {
            currency,
            units,
            decimals: shared::providers::paypal::decimals(currency).unwrap_or(2),
        }
    }

    /// PayPal's `value`: `"100.00"`, `"1000"` (JPY), `"-5.00"`.
    pub fn value(&self) -> String {
        let neg = self.units < 0;
        let abs = self.units.unsigned_abs();
        let text = if self.decimals == 0 {
            abs.to_string()
        } else {
            let scale = 10u64.pow(u32::from(self.decimals));
            format!(
                "{}.{:0width$}",
                abs / scale,
                abs % scale,
                width = usize::from(self.decimals)
            )
        };
        if neg {
            format!("-{text}")
        } else {
            text
        }
    }

    pub fn json(&self) -> Value {
        json!({"currency_code": self.currency.code(), "value": self.value()})
    }

    pub fn with_units(&self, units: i64) -> Amount {
        Amount { units, ..*self }
    }

    /// `$ 5.00 USD`, as PayPal's webhook summaries write amounts.
    pub fn summary(&self) -> String {
        let symbol = match self.currency.code() {
            "USD" | "AUD" | "CAD" | "HKD" | "MXN" | "NZD" | "SGD" | "TWD" => "$ ",
            "EUR" => "€ ",
            "GBP" => "£ ",
            "JPY" | "CNY" => "¥ ",
            _ => "",
        };
        format!("{symbol}{} {}", self.value(), self.currency.code())
    }
}

/// What sign an amount may have.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sign {
    /// More than zero (`CANNOT_BE_ZERO_OR_NEGATIVE`).
    Positive,
    /// Zero or more (`CANNOT_BE_NEGATIVE`).
    NonNegative,
}

/// `/amount/value` → `/amount`.
fn child(field: &str, name: &str) -> String {
    format!("{field}/{name}")
}

/// Whether `v` matches the spec's `^((-?[0-9]+)|(-?([0-9]+)?[.][0-9]+))$`.
pub fn value_syntax_ok(v: &str) -> bool {
    let body = v.strip_prefix('-').unwrap_or(v);
    match body.split_once('.') {
        None => !body.is_empty() && body.bytes().all(|b| b.is_ascii_digit()),
        Some((int, frac)) => {
            int.bytes().all(|b| b.is_ascii_digit())
                && !frac.is_empty()
                && frac.bytes().all(|b| b.is_ascii_digit())
        }
    }
}

/// The schema checks of a `money` object at JSON pointer `field` (400s).
pub fn check_schema(api: Api, v: Option<&Value>, field: &str) -> Result<(), ApiError> {
    let Some(v) = v else {
        return Err(ApiError::missing(api, field));
    };
    let Some(obj) = v.as_object() else {
        return Err(ApiError::syntax(api, field, None));
    };
    match obj.get("currency_code") {
        None | Some(Value::Null) => {
            return Err(ApiError::missing(api, &child(field, "currency_code")))
        }
        Some(Value::String(c)) => {
            if c.chars().count() != 3 {
                return Err(ApiError::length(
                    api,
                    &child(field, "currency_code"),
                    Some(c),
                ));
            }
        }
        Some(other) => {
            return Err(ApiError::syntax(
                api,
                &child(field, "currency_code"),
                Some(&other.to_string()),
            ))
        }
    }
    match obj.get("value") {
        None | Some(Value::Null) => Err(ApiError::missing(api, &child(field, "value"))),
        Some(Value::String(s)) => {
            if s.len() > shared::providers::paypal::MAX_VALUE_LEN {
                Err(ApiError::length(api, &child(field, "value"), Some(s)))
            } else if !value_syntax_ok(s) {
                Err(ApiError::syntax(api, &child(field, "value"), Some(s)))
            } else {
                Ok(())
            }
        }
        Some(other) => Err(ApiError::syntax(
            api,
            &child(field, "value"),
            Some(&other.to_string()),
        )),
    }
}

pub const DESC_DECIMAL_PRECISION: &str =
    "If the currency supports decimals, only two decimal place precision is supported.";
pub const DESC_DECIMALS_NOT_SUPPORTED: &str = "Currency does not support decimals. Please refer to https://developer.paypal.com/docs/api/reference/currency-codes/ for more information.";
pub const DESC_INVALID_CURRENCY: &str = "Currency code is invalid or is not currently supported. Please refer https://developer.paypal.com/api/rest/reference/currency-codes/ for list of supported currency codes.";

/// The business checks of a `money` object already past [`check_schema`] (422s).
pub fn parse(api: Api, v: &Value, field: &str, sign: Sign) -> Result<Amount, ApiError> {
    let code = v["currency_code"].as_str().unwrap_or("");
    let value = v["value"].as_str().unwrap_or("");
    // PayPal's codes are upper case: `usd` is not a currency code.
    let currency = Some(code)
        .filter(|c| c.bytes().all(|b| b.is_ascii_uppercase()))
        .and_then(|c| Currency::from_code(c).ok())
        .filter(|c| shared::providers::paypal::is_supported(*c))
        .ok_or_else(|| {
            ApiError::unprocessable(
                api,
                Some(&child(field, "currency_code")),
                Some(code),
                "INVALID_CURRENCY_CODE",
                DESC_INVALID_CURRENCY,
            )
        })?;
    let decimals = shared::providers::paypal::decimals(currency).unwrap_or(2);
    let value_field = child(field, "value");
    let (neg, body) = match value.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, value),
    };
    let (int, frac) = body.split_once('.').unwrap_or((body, ""));
    if frac.len() > usize::from(decimals) {
        let (issue, description) = if decimals == 0 && api == Api::Payments {
            ("DECIMALS_NOT_SUPPORTED", DESC_DECIMALS_NOT_SUPPORTED)
        } else {
            ("DECIMAL_PRECISION", DESC_DECIMAL_PRECISION)
        };
        return Err(ApiError::unprocessable(
            api,
            Some(&value_field),
            Some(value),
            issue,
            description,
        ));
    }
    let int = int.trim_start_matches('0');
    // 999999999999999.99 at most: 15 integer digits.
    if int.len() > 15 {
        return Err(ApiError::unprocessable(
            api,
            Some(&value_field),
            Some(value),
            "MAX_VALUE_EXCEEDED",
            "Should be less than or equal to 999999999999999.99.",
        ));
    }
    let int_units: i64 = if int.is_empty() {
        0
    } else {
        int.parse().unwrap_or(0)
    };
    let mut frac_units: i64 = 0;
    for i in 0..usize::from(decimals) {
        let digit = frac.as_bytes().get(i).map_or(0, |b| i64::from(b - b'0'));
        frac_units = frac_units * 10 + digit;
    }
    let scale = 10i64.pow(u32::from(decimals));
    let mut units = int_units * scale + frac_units;
    if neg {
        units = -units;
    }
    match sign {
        Sign::Positive if units <= 0 => Err(ApiError::unprocessable(
            api,
            Some(&value_field),
            Some(value),
            "CANNOT_BE_ZERO_OR_NEGATIVE",
            "Must be greater than zero. If the currency supports decimals, only two decimal place precision is supported.",
        )),
        Sign::NonNegative if units < 0 => Err(ApiError::unprocessable(
            api,
            Some(&value_field),
            Some(value),
            "CANNOT_BE_NEGATIVE",
            "Must be greater than or equal to 0. If the currency supports decimals, only two decimal place precision is supported.",
        )),
        _ => Ok(Amount {
            currency,
            units,
            decimals,
        }),
    }
}

/// PayPal's fee on a capture, as its sample shows (100.00 USD → 3.98): 3.49 % of the gross,
/// rounded half up, plus a fixed 0.49 (49 in the zero-decimal currencies), never more than the
/// gross itself.
pub fn fee_units(gross: Amount) -> i64 {
    let percent = (gross.units * 349 + 5_000) / 10_000;
    let fixed = 49;
    (percent + fixed).min(gross.units).max(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn money(code: &str, value: &str) -> Value {
        json!({"currency_code": code, "value": value})
    }

    fn issue(r: Result<Amount, ApiError>) -> String {
        r.unwrap_err().issue().unwrap_or("").to_string()
    }

    #[test]
    fn values() {
        for ok in ["10", "10.5", ".5", "-5.00", "0", "100.00"] {
            assert!(value_syntax_ok(ok), "{ok}");
        }
        for bad in [
            "", "1e3", "1,000", "+1", "5.", "-", ".", " 1", "1.2.3", "abc",
        ] {
            assert!(!value_syntax_ok(bad), "{bad}");
        }
        let p = |c, v| parse(Api::Orders, &money(c, v), "/amount", Sign::Positive);
        assert_eq!(p("USD", "10.5").unwrap().value(), "10.50");
        assert_eq!(p("USD", "10").unwrap().units, 1000);
        assert_eq!(p("JPY", "1000").unwrap().value(), "1000");
        assert_eq!(p("USD", ".5").unwrap().units, 50);
        assert_eq!(issue(p("JPY", "10.50")), "DECIMAL_PRECISION");
        assert_eq!(issue(p("USD", "10.999")), "DECIMAL_PRECISION");
        assert_eq!(issue(p("KWD", "1.000")), "INVALID_CURRENCY_CODE");
        assert_eq!(issue(p("INR", "1.00")), "INVALID_CURRENCY_CODE");
        assert_eq!(issue(p("XYZ", "1.00")), "INVALID_CURRENCY_CODE");
        assert_eq!(issue(p("usd", "1.00")), "INVALID_CURRENCY_CODE");
        assert_eq!(issue(p("USD", "0.00")), "CANNOT_BE_ZERO_OR_NEGATIVE");
        assert_eq!(issue(p("USD", "1000000000000000.00")), "MAX_VALUE_EXCEEDED");
        assert_eq!(
            p("USD", "999999999999999.99").unwrap().units,
            99_999_999_999_999_999
        );
        let q = |c, v| parse(Api::Payments, &money(c, v), "/amount", Sign::Positive);
        assert_eq!(issue(q("JPY", "10.5")), "DECIMALS_NOT_SUPPORTED");
        assert_eq!(issue(q("HUF", "10.0")), "DECIMALS_NOT_SUPPORTED");
        assert_eq!(issue(q("USD", "10.001")), "DECIMAL_PRECISION");
        let s = |v: Value| check_schema(Api::Orders, Some(&v), "/amount").unwrap_err();
        assert_eq!(
            s(json!({"value": "1"})).issue(),
            Some("MISSING_REQUIRED_PARAMETER")
        );
        assert_eq!(
            s(json!({"currency_code": "USD"})).details[0]
                .field
                .as_deref(),
            Some("/amount/value")
        );
        assert_eq!(s(money("US", "1")).issue(), Some("INVALID_STRING_LENGTH"));
        assert_eq!(
            s(money("USD", "1e3")).issue(),
            Some("INVALID_PARAMETER_SYNTAX")
        );
        assert_eq!(
            s(json!({"currency_code": "USD", "value": 10})).issue(),
            Some("INVALID_PARAMETER_SYNTAX")
        );
        assert_eq!(Amount::new(Currency::USD, 500).summary(), "$ 5.00 USD");
        assert_eq!(Amount::new(Currency::USD, -500).value(), "-5.00");
    }

    #[test]
    fn fees() {
        assert_eq!(fee_units(Amount::new(Currency::USD, 10_000)), 398);
        assert_eq!(fee_units(Amount::new(Currency::USD, 10)), 10);
        assert_eq!(fee_units(Amount::new(Currency::JPY, 1000)), 84);
    }
}
