//! Verifying a Standard Webhooks delivery, as merchant code does (in another language it would
//! be the `standardwebhooks` library): on the raw body bytes, before parsing anything, with a
//! timestamp no more than five minutes off (an old captured delivery cannot be replayed later)
//! and a constant-time comparison against every `v1` signature in the header (two during a
//! secret rotation). paygate's own signer computes the expected value.

use crate::merchant_webhooks::signing;
use axum::http::HeaderMap;
use subtle::ConstantTimeEq;

/// How far `webhook-timestamp` may be from the receiver's clock, either way.
pub const TOLERANCE_SECS: i64 = 5 * 60;

/// Why a delivery was refused (logged; the sender gets a generic 400).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refused {
    MissingHeader(&'static str),
    BadTimestamp,
    TooOld,
    NoMatchingSignature,
}

impl std::fmt::Display for Refused {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Refused::MissingHeader(name) => write!(f, "no {name} header"),
            Refused::BadTimestamp => f.write_str("webhook-timestamp is not Unix seconds"),
            Refused::TooOld => f.write_str("webhook-timestamp is more than five minutes off"),
            Refused::NoMatchingSignature => f.write_str("no signature matches"),
        }
    }
}

/// Checks the delivery against `secret` at `now_secs`; returns its `webhook-id`.
pub fn verify(
    secret: &str,
    headers: &HeaderMap,
    body: &[u8],
    now_secs: i64,
) -> Result<String, Refused> {
    let header = |name: &'static str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .filter(|v| !v.is_empty())
            .ok_or(Refused::MissingHeader(name))
    };
    let id = header("webhook-id")?;
    let timestamp: i64 = header("webhook-timestamp")?
        .parse()
        .map_err(|_| Refused::BadTimestamp)?;
    let signatures = header("webhook-signature")?;
    if now_secs.abs_diff(timestamp) > TOLERANCE_SECS as u64 {
        return Err(Refused::TooOld);
    }
    let Some(expected) = signing::sign(secret, id, timestamp, body) else {
        // The shop's own secret is not a whsec_ secret: nothing can match.
        return Err(Refused::NoMatchingSignature);
    };
    // Every candidate is compared, with no early exit, so timing says nothing about which
    // or how much of a signature matched.
    let matched = signatures
        .split(' ')
        .filter(|s| s.starts_with("v1,"))
        .fold(subtle::Choice::from(0), |found, candidate| {
            found | candidate.as_bytes().ct_eq(expected.as_bytes())
        });
    if bool::from(matched) {
        Ok(id.to_string())
    } else {
        Err(Refused::NoMatchingSignature)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
    const BODY: &[u8] = br#"{"test": 2432232314}"#;
    const NOW: i64 = 1_614_265_330;

    fn headers(id: &str, timestamp: &str, signature: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert("webhook-id", id.parse().unwrap());
        h.insert("webhook-timestamp", timestamp.parse().unwrap());
        h.insert("webhook-signature", signature.parse().unwrap());
        h
    }

    /// The specification's example delivery.
    fn example() -> HeaderMap {
        headers(
            "msg_p5jXN8AQM9LWM0D4loKWxJek",
            "1614265330",
            "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=",
        )
    }

    #[test]
    fn accepts_the_specifications_example() {
        assert_eq!(
            verify(SECRET, &example(), BODY, NOW).unwrap(),
            "msg_p5jXN8AQM9LWM0D4loKWxJek"
        );
        // Within five minutes either way.
        assert!(verify(SECRET, &example(), BODY, NOW + TOLERANCE_SECS).is_ok());
        assert!(verify(SECRET, &example(), BODY, NOW - TOLERANCE_SECS).is_ok());
    }

    #[test]
    fn refuses_a_tampered_body_another_secret_or_id_and_old_timestamps() {
        assert_eq!(
            verify(SECRET, &example(), br#"{"test": 2432232315}"#, NOW),
            Err(Refused::NoMatchingSignature)
        );
        let other = signing::new_secret();
        assert_eq!(
            verify(&other, &example(), BODY, NOW),
            Err(Refused::NoMatchingSignature)
        );
        let mut moved = example();
        moved.insert("webhook-id", "msg_other".parse().unwrap());
        assert_eq!(
            verify(SECRET, &moved, BODY, NOW),
            Err(Refused::NoMatchingSignature)
        );
        assert_eq!(
            verify(SECRET, &example(), BODY, NOW + TOLERANCE_SECS + 1),
            Err(Refused::TooOld)
        );
        assert_eq!(
            verify(SECRET, &example(), BODY, NOW - TOLERANCE_SECS - 1),
            Err(Refused::TooOld)
        );
    }

    #[test]
    fn any_v1_entry_may_match_and_malformed_headers_are_refused() {
        let good = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=";
        let rotated = format!("v1,AAAA {good}");
        let h = headers("msg_p5jXN8AQM9LWM0D4loKWxJek", "1614265330", &rotated);
        assert!(verify(SECRET, &h, BODY, NOW).is_ok());
        let wrong_version = headers(
            "msg_p5jXN8AQM9LWM0D4loKWxJek",
            "1614265330",
            &good.replace("v1,", "v2,"),
        );
        assert_eq!(
            verify(SECRET, &wrong_version, BODY, NOW),
            Err(Refused::NoMatchingSignature)
        );
        let bad_time = headers("msg_p5jXN8AQM9LWM0D4loKWxJek", "soon", good);
        assert_eq!(
            verify(SECRET, &bad_time, BODY, NOW),
            Err(Refused::BadTimestamp)
        );
        let mut missing = example();
        missing.remove("webhook-signature");
        assert_eq!(
            verify(SECRET, &missing, BODY, NOW),
            Err(Refused::MissingHeader("webhook-signature"))
        );
    }
}
