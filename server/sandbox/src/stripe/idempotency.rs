//! Stripe's `Idempotency-Key` layer (docs.stripe.com/api/idempotent_requests): the status and body
//! of the first request made with a key "after endpoint execution begins" are saved and replayed
//! for 24 hours; the same key with other parameters, or on another endpoint, is an
//! `idempotency_error`; a retry while the first is still executing gets 409. The store itself is
//! the common one (`common::replay`); Stripe's rules and messages are here.

use super::error::ApiError;
use crate::common::replay::{self, ReplayStore};
use axum::http::StatusCode;
use bytes::Bytes;

/// Keys are kept this long (by the emulator's clock), then pruned: a reuse after that is a
/// new request, as at Stripe.
pub const RETENTION_MS: i64 = 24 * 60 * 60 * 1000;
pub const MAX_KEY_LEN: usize = 255;

#[derive(Debug, Clone)]
pub struct Saved {
    pub status: StatusCode,
    pub body: Bytes,
    pub request_id: String,
}

#[derive(Debug)]
pub enum Begin {
    /// Execute; the key is now in flight.
    Fresh,
    Replay(Saved),
    InFlight,
    Refused(ApiError),
}

/// Keys by themselves; a key's first use is its endpoint and its parameters, which a repeat
/// must match (the common store compares them).
#[derive(Debug, Default)]
pub struct IdempotencyStore {
    keys: ReplayStore<String, (String, String), Saved>,
}

impl IdempotencyStore {
    pub fn begin(&mut self, key: &str, endpoint: &str, fingerprint: &str, now_ms: i64) -> Begin {
        let first_use = (endpoint.to_string(), fingerprint.to_string());
        match self.keys.begin(key.to_string(), first_use, now_ms, RETENTION_MS) {
            replay::Begin::Fresh => Begin::Fresh,
            replay::Begin::Replay(saved) => Begin::Replay(saved),
            replay::Begin::InFlight => Begin::InFlight,
            replay::Begin::Other((first_endpoint, _)) if first_endpoint != endpoint => {
                Begin::Refused(ApiError::idempotency(format!(
                    "Keys for idempotent requests can only be used for the same endpoint they were first used for ('{first_endpoint}' vs '{endpoint}'). Try using a key other than '{key}' if you meant to execute a different request."
                )))
            }
            replay::Begin::Other(_) => Begin::Refused(ApiError::idempotency(format!(
                "Keys for idempotent requests can only be used with the same parameters they were first used with. Try using a key other than '{key}' if you meant to execute a different request."
            ))),
        }
    }

    /// Saves the answer, or forgets the key when the answer is not to be saved.
    pub fn finish(&mut self, key: &str, saved: Option<Saved>) {
        self.keys.finish(&key.to_string(), saved);
    }

    pub fn prune(&mut self, now_ms: i64) {
        self.keys.prune(now_ms);
    }

    pub fn len(&self) -> usize {
        self.keys.len()
    }
}

pub fn in_flight(key: &str) -> ApiError {
    ApiError::new(
        StatusCode::CONFLICT,
        "invalid_request_error",
        format!("There is currently another in-progress request using this Idempotent Key (that probably means you submitted twice, and the other request is still going through): {key}. Please try again later."),
    )
    .with_code("idempotency_key_in_use")
    .not_saved()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lifecycle() {
        let mut s = IdempotencyStore::default();
        assert!(matches!(s.begin("k", "POST /v1/a", "x", 0), Begin::Fresh));
        assert!(matches!(
            s.begin("k", "POST /v1/a", "x", 1),
            Begin::InFlight
        ));
        s.finish(
            "k",
            Some(Saved {
                status: StatusCode::OK,
                body: Bytes::from_static(b"{}"),
                request_id: "req_1".into(),
            }),
        );
        assert!(matches!(
            s.begin("k", "POST /v1/a", "x", 2),
            Begin::Replay(_)
        ));
        assert!(matches!(
            s.begin("k", "POST /v1/a", "y", 2),
            Begin::Refused(_)
        ));
        assert!(matches!(
            s.begin("k", "POST /v1/b", "x", 2),
            Begin::Refused(_)
        ));
        s.prune(RETENTION_MS + 1);
        assert_eq!(s.len(), 0);
        assert!(matches!(s.begin("k", "POST /v1/b", "y", 0), Begin::Fresh));
        s.finish("k", None);
        assert_eq!(s.len(), 0);
    }
}
