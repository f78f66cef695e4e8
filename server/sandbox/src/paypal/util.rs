//! Small helpers: PayPal-shaped random ids, RFC 3339 times. (HTML escaping and origins are
//! `common`'s.)

use crate::common::util::{civil_from_days, random_text as pick};

const UPPER_DIGITS: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
const TOKEN_CHARS: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/// An order, capture, authorization or refund id: 17 × `[A-Z0-9]` (`5O190127TN364715T`).
pub fn resource_id() -> String {
    pick(UPPER_DIGITS, 17)
}

/// A webhook event id: `WH-<17>-<17>`.
pub fn event_id() -> String {
    format!("WH-{}-{}", resource_id(), resource_id())
}

/// `debug_id` / `Paypal-Debug-Id`: 13 lowercase hex digits (`80cb04a5dbea7`).
pub fn debug_id() -> String {
    pick(b"0123456789abcdef", 13)
}

/// An access token in PayPal's style (`A21AA...`, 97 characters).
pub fn access_token() -> String {
    format!("A21AA{}", pick(TOKEN_CHARS, 92))
}

/// Random text for OAuth nonces.
pub fn nonce_text() -> String {
    pick(TOKEN_CHARS, 43)
}

/// A transmission id shaped like PayPal's (a UUID: `6dec99b0-774b-11ea-b306-c3ed128f0c4b`).
pub fn transmission_id() -> String {
    let h = pick(b"0123456789abcdef", 32);
    format!(
        "{}-{}-{}-{}-{}",
        &h[0..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..32]
    )
}

/// RFC 3339 in UTC: `2018-04-01T21:18:49Z`, or with milliseconds `2023-01-28T09:55:22.380Z`.
pub fn rfc3339(ms: i64, millis: bool) -> String {
    let secs = ms.div_euclid(1000);
    let (y, mo, d) = civil_from_days(secs.div_euclid(86_400));
    let rem = secs.rem_euclid(86_400);
    let (h, mi, s) = (rem / 3600, (rem % 3600) / 60, rem % 60);
    if millis {
        format!(
            "{y:04}-{mo:02}-{d:02}T{h:02}:{mi:02}:{s:02}.{:03}Z",
            ms.rem_euclid(1000)
        )
    } else {
        format!("{y:04}-{mo:02}-{d:02}T{h:02}:{mi:02}:{s:02}Z")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times() {
        // python3 -c 'import datetime;print(datetime.datetime.fromtimestamp(1674899722.380, datetime.timezone.utc))'
        assert_eq!(rfc3339(1_674_899_722_380, true), "2023-01-28T09:55:22.380Z");
        assert_eq!(rfc3339(1_674_899_722_380, false), "2023-01-28T09:55:22Z");
        assert_eq!(rfc3339(951_782_400_000, false), "2000-02-29T00:00:00Z");
        assert_eq!(rfc3339(0, false), "1970-01-01T00:00:00Z");
    }

    #[test]
    fn ids() {
        let id = resource_id();
        assert_eq!(id.len(), 17);
        assert!(id
            .bytes()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit()));
        let ev = event_id();
        assert_eq!(ev.len(), 3 + 17 + 1 + 17);
        assert_eq!(debug_id().len(), 13);
        assert_eq!(transmission_id().len(), 36);
        assert!(access_token().starts_with("A21AA"));
    }
}
