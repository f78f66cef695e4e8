//! Field-name based redaction of structured data, beside the content-based
//! [`crate::card::redact_card_numbers`]. The server's logging applies both: this one to the
//! fields of events and spans, and to JSON objects inside field values
//! (`server/src/telemetry.rs`), the content-based one to every written line.

use crate::card::redact_card_numbers;
use serde_json::Value;

/// What a redacted value is replaced with.
pub const REDACTED: &str = "[REDACTED]";

/// Field names whose values are always redacted, normalised (lower case, without `_`, `-`,
/// spaces): card numbers, security codes, expiry dates, PINs and track data, bank account
/// identifiers, and government ids. Whole names only: `"number"`, `"card"` or `"account"` alone
/// are too broad (an order number, a provider's card object with brand and last4) and are left
/// to the content filter.
const SENSITIVE: &[&str] = &[
    // Card number.
    "pan",
    "cardnumber",
    "cardno",
    "ccnumber",
    "ccnum",
    "creditcard",
    "creditcardnumber",
    "primaryaccountnumber",
    // Security code.
    "cvc",
    "cvv",
    "cvc2",
    "cvv2",
    "cvn",
    "securitycode",
    "cardsecuritycode",
    // Expiry.
    "exp",
    "expiry",
    "expiration",
    "expmonth",
    "expyear",
    "expirymonth",
    "expiryyear",
    "expirationmonth",
    "expirationyear",
    "expdate",
    "expirydate",
    "expirationdate",
    // PIN and magnetic-stripe data (sensitive authentication data).
    "pin",
    "pinblock",
    "trackdata",
    "track1",
    "track2",
    // Bank accounts.
    "accountnumber",
    "bankaccountnumber",
    "iban",
    "routingnumber",
    "sortcode",
    // Government and tax ids.
    "ssn",
    "socialsecuritynumber",
    "taxid",
    "tin",
    "ein",
];

/// Whether values under the field `name` must be redacted; case-insensitive and ignoring `_`,
/// `-` and spaces (`"Card-Number"`, `"card_number"`, `"CARD NUMBER"` all match).
pub fn is_sensitive_field(name: &str) -> bool {
    // Normalised into a stack buffer: no allocation per key in the log path.
    let mut buf = [0u8; 24];
    let mut n = 0;
    for b in name.bytes() {
        if matches!(b, b'_' | b'-' | b' ') {
            continue;
        }
        if n == buf.len() || !b.is_ascii() {
            return false; // longer than any listed name, or not ASCII: not one of them
        }
        buf[n] = b.to_ascii_lowercase();
        n += 1;
    }
    let key = &buf[..n];
    SENSITIVE.iter().any(|s| s.as_bytes() == key)
}

/// Redacts `value` in place: the value of every sensitive field (whatever its type) becomes
/// [`REDACTED`]; every other string, and every integer long enough to be a card number, has
/// card numbers masked.
pub fn sanitize_json(value: &mut Value) {
    match value {
        Value::Object(map) => {
            for (key, v) in map.iter_mut() {
                if is_sensitive_field(key) {
                    *v = Value::String(REDACTED.to_string());
                } else {
                    sanitize_json(v);
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(sanitize_json),
        Value::String(s) => {
            if let std::borrow::Cow::Owned(masked) = redact_card_numbers(s) {
                *s = masked;
            }
        }
        // A card number sent as a JSON number (13+ digits) would otherwise slip through.
        Value::Number(n) if n.as_u64().is_some_and(|u| u >= 1_000_000_000_000) => {
            if let std::borrow::Cow::Owned(masked) = redact_card_numbers(&n.to_string()) {
                *value = Value::String(masked);
            }
        }
        Value::Number(_) | Value::Bool(_) | Value::Null => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn sensitive_names() {
        for name in [
            "card_number",
            "cardNumber",
            "Card-Number",
            "CARD NUMBER",
            "pan",
            "cc_number",
            "credit_card",
            "cvc",
            "CVV2",
            "security_code",
            "exp",
            "exp_month",
            "exp_year",
            "expiry",
            "expiry_date",
            "expiration",
            "account_number",
            "iban",
            "routing_number",
            "sort_code",
            "ssn",
            "social_security_number",
            "tax_id",
            "tin",
            "ein",
            "pin",
        ] {
            assert!(is_sensitive_field(name), "{name}");
        }
        for name in [
            "number",
            "card",
            "account",
            "amount",
            "currency",
            "last4",
            "brand",
            "expires_at",
            "order_number",
            "panel",
            "description",
            "",
            "çvc",
            "a_very_long_field_name_that_is_not_listed_anywhere",
        ] {
            assert!(!is_sensitive_field(name), "{name}");
        }
    }

    #[test]
    fn nested_objects_and_arrays() {
        let mut v = json!({
            "amount": "19.99",
            "card": {"number": "4242 4242 4242 4242", "cvc": "123", "exp_month": 12, "brand": "visa"},
            "bank": {"account_number": {"nested": "x"}, "note": "ok"},
            "items": [
                {"ssn": "078-05-1120"},
                "refund for 4000-0000-0000-0002 please",
                5555555555554444u64,
                1732700000000u64,
                42,
                null,
                true
            ],
            "order": "order 4242424242424241"
        });
        sanitize_json(&mut v);
        assert_eq!(
            v,
            json!({
                "amount": "19.99",
                "card": {"number": "424242******4242", "cvc": REDACTED, "exp_month": REDACTED, "brand": "visa"},
                "bank": {"account_number": REDACTED, "note": "ok"},
                "items": [
                    {"ssn": REDACTED},
                    "refund for 400000******0002 please",
                    "555555******4444",
                    1732700000000u64,
                    42,
                    null,
                    true
                ],
                "order": "order 4242424242424241"
            })
        );
    }
}
