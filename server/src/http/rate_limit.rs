//! Per-caller rate limits (GCRA, `governor`): merchant API per API key; widget API per client
//! address (IPv6 by /64, see [`client_addr`](super::client_addr)) and per checkout session, so
//! that many addresses cannot make one session call its provider without end. Over a limit: 429
//! with `Retry-After` in the error envelope. With `REDIS_URL` the same limits hold across every
//! instance ([`shared_limit`](super::shared_limit)); these local limiters decide whenever Redis
//! cannot be asked.
//!
//! Memory is bounded: each limiter remembers at most [`TRACKED_KEYS`] keys and forgets the one
//! seen least recently to make room. Forgetting only hands that key a fresh burst, which is
//! what an idle key would have anyway; a flood of new addresses cannot grow the map.

use super::client_addr::{group, ClientAddr};
use super::shared_limit::{Decision, Rule, SharedLimiter};
use crate::auth::Merchant;
use crate::error::ApiError;
use crate::state::AppState;
use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::Response;
use governor::clock::{Clock, DefaultClock};
use governor::nanos::Nanos;
use governor::state::keyed::ShrinkableKeyedStateStore;
use governor::state::StateStore;
use governor::{Quota, RateLimiter};
use hashlink::LruCache;
use std::hash::Hash;
use std::net::IpAddr;
use std::num::NonZeroU32;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// Keys each limiter remembers (about 100 bytes each: a few megabytes at most).
pub const TRACKED_KEYS: usize = 50_000;

/// Each checkout session: a burst of [`SESSION_BURST`] widget calls, then one a second. A
/// customer's page makes a handful (and polls every 2 s while a payment is processing).
pub const SESSION_BURST: u32 = 30;

/// A governor state store that keeps at most `capacity` keys, least recently used out first.
/// (governor's own keyed stores grow until `retain_recent` runs; no crate ships a bounded one.)
pub struct BoundedStore<K: Hash + Eq> {
    states: Mutex<LruCache<K, Nanos>>,
}

impl<K: Hash + Eq> BoundedStore<K> {
    pub fn new(capacity: usize) -> BoundedStore<K> {
        BoundedStore {
            states: Mutex::new(LruCache::new(capacity)),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, LruCache<K, Nanos>> {
        self.states.lock().expect("limiter lock")
    }
}

impl<K: Hash + Eq + Clone> StateStore for BoundedStore<K> {
    type Key = K;

    fn measure_and_replace<T, F, E>(&self, key: &K, f: F) -> Result<T, E>
    where
        F: Fn(Option<Nanos>) -> Result<(T, Nanos), E>,
    {
        // One lock around read, decision and write: the closure runs once, no retry loop.
        let mut states = self.lock();
        let (answer, next) = f(states.get(key).copied())?;
        states.insert(key.clone(), next);
        Ok(answer)
    }
}

impl<K: Hash + Eq + Clone> ShrinkableKeyedStateStore<K> for BoundedStore<K> {
    fn retain_recent(&self, drop_below: Nanos) {
        let mut states = self.lock();
        let stale: Vec<K> = states
            .iter()
            .filter(|(_, tat)| **tat <= drop_below)
            .map(|(k, _)| k.clone())
            .collect();
        for key in stale {
            states.remove(&key);
        }
    }

    fn len(&self) -> usize {
        self.lock().len()
    }

    fn is_empty(&self) -> bool {
        self.lock().is_empty()
    }
}

type Limiter<K> = RateLimiter<K, BoundedStore<K>, DefaultClock>;

fn limiter<K: Hash + Eq + Clone>(quota: Option<Quota>) -> Option<Limiter<K>> {
    quota.map(|q| RateLimiter::new(q, BoundedStore::new(TRACKED_KEYS), DefaultClock::default()))
}

/// The limits of one instance: a local limiter per kind and, with `REDIS_URL`, the shared
/// limiter that decides first while Redis answers.
pub struct RateLimits {
    merchant: Option<Limiter<String>>,
    widget: Option<Limiter<IpAddr>>,
    session: Option<Limiter<String>>,
    merchant_rule: Option<Rule>,
    widget_rule: Option<Rule>,
    session_rule: Option<Rule>,
    /// `REDIS_URL`: limits enforced across instances.
    pub shared: Option<Arc<SharedLimiter>>,
}

/// `n` a second with a burst of `n`, as the local quota.
fn rule_per_second(n: u32) -> Option<Rule> {
    (n > 0).then(|| Rule {
        interval: Duration::from_secs(1) / n,
        burst: n,
    })
}

fn per_second(n: u32) -> Option<Quota> {
    // The burst equals one second's worth, so a client may spend its budget at once.
    NonZeroU32::new(n).map(Quota::per_second)
}

impl RateLimits {
    /// `0` disables a limit (the widget's `0` disables the per-session limit too). `shared`:
    /// the limiter on Redis, if `REDIS_URL` is set.
    pub fn new(
        merchant_per_sec: u32,
        widget_per_sec: u32,
        shared: Option<Arc<SharedLimiter>>,
    ) -> RateLimits {
        let session = (widget_per_sec > 0).then(|| {
            Quota::with_period(Duration::from_secs(1))
                .expect("non-zero period")
                .allow_burst(NonZeroU32::new(SESSION_BURST).expect("non-zero burst"))
        });
        RateLimits {
            merchant: limiter(per_second(merchant_per_sec)),
            widget: limiter(per_second(widget_per_sec)),
            session: limiter(session),
            merchant_rule: rule_per_second(merchant_per_sec),
            widget_rule: rule_per_second(widget_per_sec),
            session_rule: (widget_per_sec > 0).then_some(Rule {
                interval: Duration::from_secs(1),
                burst: SESSION_BURST,
            }),
            shared,
        }
    }

    /// One merchant API request with the API key `id`.
    pub async fn check_merchant(&self, id: &str) -> Result<(), ApiError> {
        let key = format!("merchant:{id}");
        self.decide(
            &key,
            self.merchant_rule,
            self.merchant.as_ref(),
            &id.to_string(),
        )
        .await
    }

    /// One widget API request from the address group `ip`.
    pub async fn check_widget(&self, ip: IpAddr) -> Result<(), ApiError> {
        let key = format!("widget:{ip}");
        self.decide(&key, self.widget_rule, self.widget.as_ref(), &ip)
            .await
    }

    /// The shared limiter's decision while Redis answers, else the local one's.
    async fn decide<K: Hash + Eq + Clone>(
        &self,
        shared_key: &str,
        rule: Option<Rule>,
        local: Option<&Limiter<K>>,
        key: &K,
    ) -> Result<(), ApiError> {
        let Some(local) = local else {
            return Ok(());
        };
        if let (Some(shared), Some(rule)) = (&self.shared, rule) {
            match shared.check(shared_key, rule).await {
                Decision::Allowed => return Ok(()),
                Decision::Refused(wait) => {
                    return Err(ApiError::rate_limited(
                        wait.as_secs() + u64::from(wait.subsec_nanos() > 0),
                    ))
                }
                Decision::Unavailable => {}
            }
        }
        local.check_key(key).map_err(refused)
    }

    /// Drops keys whose state is no different from a fresh one; called periodically so the
    /// maps stay small between floods.
    pub fn clean(&self) {
        if let Some(l) = &self.merchant {
            l.retain_recent();
        }
        if let Some(l) = &self.widget {
            l.retain_recent();
        }
        if let Some(l) = &self.session {
            l.retain_recent();
        }
    }

    /// One widget call for the checkout session `id` (an existing session's stored id).
    pub async fn check_session(&self, id: &str) -> Result<(), ApiError> {
        let key = format!("session:{id}");
        self.decide(
            &key,
            self.session_rule,
            self.session.as_ref(),
            &id.to_string(),
        )
        .await
    }

    /// Keys the widget's address limiter remembers now.
    pub fn widget_keys(&self) -> usize {
        self.widget.as_ref().map_or(0, |l| l.len())
    }
}

fn refused(not_until: governor::NotUntil<governor::clock::QuantaInstant>) -> ApiError {
    let wait = not_until.wait_time_from(DefaultClock::default().now());
    ApiError::rate_limited(wait.as_secs() + u64::from(wait.subsec_nanos() > 0))
}

/// After authentication: one bucket per API key.
pub async fn limit_merchant(
    State(state): State<AppState>,
    request: Request,
    next: Next,
) -> Result<Response, ApiError> {
    if let Some(merchant) = request.extensions().get::<Merchant>() {
        state
            .rate_limits
            .check_merchant(&merchant.api_key_id)
            .await?;
    }
    Ok(next.run(request).await)
}

/// One bucket per client address group (the widget API has no key); the session's own bucket
/// is checked by the handlers once the session is found ([`RateLimits::check_session`]).
/// Requests without a known address (in-process tests) share one bucket.
pub async fn limit_widget(
    State(state): State<AppState>,
    request: Request,
    next: Next,
) -> Result<Response, ApiError> {
    let ip = request
        .extensions()
        .get::<ClientAddr>()
        .map_or(IpAddr::from([0, 0, 0, 0]), |c| group(c.0));
    state.rate_limits.check_widget(ip).await?;
    Ok(next.run(request).await)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_store_forgets_the_least_recent_key_beyond_its_capacity() {
        let quota = Quota::per_second(NonZeroU32::new(1).unwrap());
        let limiter: Limiter<u32> =
            RateLimiter::new(quota, BoundedStore::new(3), DefaultClock::default());
        assert!(limiter.check_key(&1).is_ok());
        assert!(limiter.check_key(&1).is_err(), "one a second");
        for key in 2..=1000 {
            let _ = limiter.check_key(&key);
        }
        assert_eq!(limiter.len(), 3);
        // Key 1 was forgotten: it gets a fresh burst, as an idle key would.
        assert!(limiter.check_key(&1).is_ok());
    }
}
