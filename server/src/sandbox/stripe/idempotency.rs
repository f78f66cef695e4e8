//! Stripe's `Idempotency-Key` layer (reference/stripe.md §3): the status and body of the first
//! request made with a key "after endpoint execution begins" are saved and replayed for 24
//! hours; the same key with other parameters, or on another endpoint, is an
//! `idempotency_error`; a retry while the first is still executing gets 409.

use super::error::ApiError;
use axum::http::StatusCode;
use bytes::Bytes;
use std::collections::HashMap;

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
struct Entry {
    endpoint: String,
    fingerprint: String,
    created_ms: i64,
    saved: Option<Saved>,
}

#[derive(Debug)]
pub enum Begin {
    /// Execute; the key is now in flight.
    Fresh,
    Replay(Saved),
    InFlight,
    Refused(ApiError),
}

#[derive(Debug, Default)]
pub struct IdempotencyStore {
    entries: HashMap<String, Entry>,
}

impl IdempotencyStore {
    pub fn begin(&mut self, key: &str, endpoint: &str, fingerprint: &str, now_ms: i64) -> Begin {
        match self.entries.get(key) {
            None => {
                self.entries.insert(
                    key.to_string(),
                    Entry {
                        endpoint: endpoint.to_string(),
                        fingerprint: fingerprint.to_string(),
                        created_ms: now_ms,
                        saved: None,
                    },
                );
                Begin::Fresh
            }
            Some(e) if e.endpoint != endpoint => Begin::Refused(ApiError::idempotency(format!(
                "Keys for idempotent requests can only be used for the same endpoint they were first used for ('{}' vs '{endpoint}'). Try using a key other than '{key}' if you meant to execute a different request.",
                e.endpoint
            ))),
            Some(e) if e.fingerprint != fingerprint => Begin::Refused(ApiError::idempotency(format!(
                "Keys for idempotent requests can only be used with the same parameters they were first used with. Try using a key other than '{key}' if you meant to execute a different request."
            ))),
            Some(Entry { saved: Some(s), .. }) => Begin::Replay(s.clone()),
            Some(_) => Begin::InFlight,
        }
    }

    /// Saves the answer, or forgets the key when the answer is not to be saved.
    pub fn finish(&mut self, key: &str, saved: Option<Saved>) {
        match saved {
            Some(s) => {
                if let Some(e) = self.entries.get_mut(key) {
                    e.saved = Some(s);
                }
            }
            None => {
                self.entries.remove(key);
            }
        }
    }

    pub fn prune(&mut self, now_ms: i64) {
        self.entries
            .retain(|_, e| e.saved.is_none() || now_ms - e.created_ms < RETENTION_MS);
    }

    pub fn len(&self) -> usize {
        self.entries.len()
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
