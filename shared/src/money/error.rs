//! Why an amount or a currency was refused.

use super::Currency;

/// An amount or currency that paygate cannot accept; `Display` is a sentence fit for an API
/// error message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MoneyError {
    #[error("the amount is empty")]
    Empty,
    /// The input (at most 32 characters of it, card-number-like digits masked).
    #[error("\"{0}\" is not a valid amount: use digits with an optional '.' and fraction digits, such as \"19.99\"")]
    InvalidFormat(String),
    #[error("{currency} amounts allow {}", places(*.allowed))]
    TooManyDecimals { currency: Currency, allowed: u8 },
    #[error("the amount is too large")]
    Overflow,
    #[error("the amount must not be negative")]
    Negative,
    /// The code as given (at most 32 characters of it).
    #[error("\"{0}\" is not a supported ISO 4217 currency code")]
    UnknownCurrency(String),
    #[error("cannot combine an amount in {left} with one in {right}")]
    CurrencyMismatch { left: Currency, right: Currency },
}

fn places(allowed: u8) -> String {
    match allowed {
        0 => "no decimal places".to_string(),
        1 => "at most 1 decimal place".to_string(),
        n => format!("at most {n} decimal places"),
    }
}

/// Bounds what an error echoes back: the first 32 characters of the input, with anything that
/// looks like a card number masked, since error messages end up in logs and responses.
pub(crate) fn clip(input: &str) -> String {
    let end = input.char_indices().nth(32).map_or(input.len(), |(i, _)| i);
    crate::card::redact_card_numbers(&input[..end]).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages() {
        let e = MoneyError::TooManyDecimals {
            currency: Currency::USD,
            allowed: 2,
        };
        assert_eq!(e.to_string(), "USD amounts allow at most 2 decimal places");
        let e = MoneyError::TooManyDecimals {
            currency: Currency::JPY,
            allowed: 0,
        };
        assert_eq!(e.to_string(), "JPY amounts allow no decimal places");
        let e = MoneyError::CurrencyMismatch {
            left: Currency::USD,
            right: Currency::EUR,
        };
        assert_eq!(
            e.to_string(),
            "cannot combine an amount in USD with one in EUR"
        );
        assert_eq!(
            MoneyError::UnknownCurrency("ABC".into()).to_string(),
            "\"ABC\" is not a supported ISO 4217 currency code"
        );
        assert_eq!(
            MoneyError::Negative.to_string(),
            "the amount must not be negative"
        );
    }

    #[test]
    fn clip_truncates_on_char_boundaries_and_masks_cards() {
        assert_eq!(clip("abc"), "abc");
        let long = "é".repeat(40);
        assert_eq!(clip(&long), "é".repeat(32));
        assert_eq!(clip("4242424242424242"), "424242******4242");
    }
}
