//! The store behind both providers' idempotent retries (Stripe's `Idempotency-Key`, PayPal's
//! `PayPal-Request-Id`): the first request made with a key is executed and, when it is to be
//! kept, its result saved; a repeat while it executes is "in flight"; a repeat afterwards
//! gets the saved result back, until the key's retention (by the emulator's clock) is over
//! and the key is pruned. A request that is not to be kept forgets its key, so a retry runs
//! again.
//!
//! What differs by provider is a parameter: the key (`K`: Stripe's key alone, PayPal's method
//! and path with the id), what a key's first use is compared with on a repeat (`R`: Stripe's
//! endpoint and parameters, which must match; nothing for PayPal, which answers any repeat),
//! what is saved (`T`: Stripe's answer as sent, PayPal what the request produced, rendered
//! again on replay), and how long a key is kept (Stripe 24 hours; PayPal by API).

use std::collections::HashMap;
use std::hash::Hash;

#[derive(Debug)]
struct Entry<R, T> {
    request: R,
    created_ms: i64,
    retention_ms: i64,
    saved: Option<T>,
}

#[derive(Debug)]
pub enum Begin<R, T> {
    /// Execute; the key is now in flight.
    Fresh,
    Replay(T),
    InFlight,
    /// The key was first used for another request: this one.
    Other(R),
}

#[derive(Debug)]
pub struct ReplayStore<K, R, T> {
    entries: HashMap<K, Entry<R, T>>,
}

impl<K, R, T> Default for ReplayStore<K, R, T> {
    fn default() -> Self {
        ReplayStore {
            entries: HashMap::new(),
        }
    }
}

impl<K: Eq + Hash, R: PartialEq + Clone, T: Clone> ReplayStore<K, R, T> {
    pub fn begin(&mut self, key: K, request: R, now_ms: i64, retention_ms: i64) -> Begin<R, T> {
        match self.entries.get(&key) {
            None => {
                self.entries.insert(
                    key,
                    Entry {
                        request,
                        created_ms: now_ms,
                        retention_ms,
                        saved: None,
                    },
                );
                Begin::Fresh
            }
            Some(e) if e.request != request => Begin::Other(e.request.clone()),
            Some(Entry { saved: Some(s), .. }) => Begin::Replay(s.clone()),
            Some(_) => Begin::InFlight,
        }
    }

    /// Saves the result, or forgets the key when there is nothing to keep.
    pub fn finish(&mut self, key: &K, saved: Option<T>) {
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

    /// Forgets the saved keys whose retention is over (keys in flight stay).
    pub fn prune(&mut self, now_ms: i64) {
        self.entries
            .retain(|_, e| e.saved.is_none() || now_ms - e.created_ms < e.retention_ms);
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }
}
