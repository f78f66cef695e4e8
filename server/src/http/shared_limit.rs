//! Rate limits shared by every instance (`REDIS_URL`): the same GCRA as the local limiters
//! ([`rate_limit`](super::rate_limit)), with each bucket's state (its "theoretical arrival time")
//! kept in Redis and read, decided and written by one Lua script, so two instances checking one
//! key at once cannot both spend its last token. Time is Redis's own (`TIME`), so the instances'
//! clocks do not enter into it.
//!
//! Redis is optional and never a reason to refuse a payment: when it cannot be reached (at
//! start, or later), each check falls back to the instance's local limiter, the fallback is
//! counted, and `/readyz` and `/metrics` say so. Checks skip Redis for a second after a failure
//! (so a dead Redis costs nothing per request), and the connection is retried in the background
//! until it comes back.

use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// How long one check may wait for Redis before the local limiter decides instead.
const CALL_TIMEOUT: Duration = Duration::from_millis(100);
/// After a failed call, Redis is left alone this long.
const BACK_OFF: Duration = Duration::from_secs(1);

/// GCRA over Redis. KEYS[1]: the bucket. ARGV[1]: the emission interval T (microseconds, one
/// request's worth); ARGV[2]: the burst (requests). Returns 0 when allowed, else the
/// microseconds to wait. The stored value is the bucket's theoretical arrival time; it expires
/// once it is in the past (an idle bucket is a full one).
const GCRA: &str = r#"
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local interval = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local tat = tonumber(redis.call('GET', KEYS[1])) or now
if tat < now then tat = now end
local next_tat = tat + interval
local allow_at = next_tat - interval * burst
if now < allow_at then
  return allow_at - now
end
redis.call('SET', KEYS[1], next_tat, 'PX', math.ceil((next_tat - now) / 1000) + 1000)
return 0
"#;

/// A bucket's rule: `burst` requests at once, refilled one every `interval`.
#[derive(Debug, Clone, Copy)]
pub struct Rule {
    pub interval: Duration,
    pub burst: u32,
}

/// What Redis decided, or that it could not be asked.
#[derive(Debug, PartialEq, Eq)]
pub enum Decision {
    Allowed,
    /// Refused; wait this long.
    Refused(Duration),
    /// Redis unavailable: the local limiter decides.
    Unavailable,
}

pub struct SharedLimiter {
    client: redis::Client,
    connection: Mutex<Option<ConnectionManager>>,
    script: redis::Script,
    /// Unix-epoch-free monotonic milliseconds (from `started`) before which Redis is skipped.
    skip_until_ms: AtomicI64,
    started: Instant,
    up: AtomicBool,
    fallbacks: AtomicU64,
}

impl SharedLimiter {
    /// A limiter on the Redis at `url` (not connected yet: see [`maintain`](Self::maintain)).
    pub fn new(url: &str) -> Result<SharedLimiter, redis::RedisError> {
        Ok(SharedLimiter {
            client: redis::Client::open(url)?,
            connection: Mutex::new(None),
            script: redis::Script::new(GCRA),
            skip_until_ms: AtomicI64::new(0),
            started: Instant::now(),
            up: AtomicBool::new(false),
            fallbacks: AtomicU64::new(0),
        })
    }

    /// Whether the last call to Redis succeeded.
    pub fn is_up(&self) -> bool {
        self.up.load(Ordering::Relaxed)
    }

    /// Checks that fell back to the local limiter because Redis could not be asked.
    pub fn fallbacks(&self) -> u64 {
        self.fallbacks.load(Ordering::Relaxed)
    }

    /// Connects, and reconnects whenever there is no connection, every second until `stopped`.
    /// (Once made, the connection manager reconnects by itself; this covers a Redis that was
    /// unreachable when paygate started.)
    pub async fn maintain(&self, mut stopped: tokio::sync::watch::Receiver<bool>) {
        loop {
            let connected = self.connection.lock().expect("redis lock").is_some();
            if !connected {
                let config = ConnectionManagerConfig::new()
                    .set_connection_timeout(Some(Duration::from_secs(1)))
                    .set_response_timeout(Some(CALL_TIMEOUT));
                match tokio::time::timeout(
                    Duration::from_secs(2),
                    ConnectionManager::new_with_config(self.client.clone(), config),
                )
                .await
                {
                    Ok(Ok(manager)) => {
                        *self.connection.lock().expect("redis lock") = Some(manager);
                        self.up.store(true, Ordering::Relaxed);
                        tracing::info!("shared rate limits: connected to Redis");
                    }
                    Ok(Err(e)) => {
                        self.up.store(false, Ordering::Relaxed);
                        tracing::warn!(error = %e, "shared rate limits: Redis unreachable; limits are per instance meanwhile");
                    }
                    Err(_) => self.up.store(false, Ordering::Relaxed),
                }
            }
            tokio::select! {
                _ = tokio::time::sleep(Duration::from_secs(1)) => {}
                _ = stopped.changed() => {}
            }
            if *stopped.borrow() {
                return;
            }
        }
    }

    /// One request against the bucket `key` under `rule`.
    pub async fn check(&self, key: &str, rule: Rule) -> Decision {
        let now = self.started.elapsed().as_millis() as i64;
        if now < self.skip_until_ms.load(Ordering::Relaxed) {
            return self.unavailable();
        }
        let Some(mut connection) = self.connection.lock().expect("redis lock").clone() else {
            return self.unavailable();
        };
        let interval = rule.interval.as_micros().max(1) as u64;
        let mut invocation = self.script.key(format!("paygate:rl:{key}"));
        invocation.arg(interval).arg(rule.burst.max(1));
        let answer = tokio::time::timeout(
            CALL_TIMEOUT,
            invocation.invoke_async::<i64>(&mut connection),
        )
        .await;
        match answer {
            Ok(Ok(wait)) => {
                self.up.store(true, Ordering::Relaxed);
                if wait <= 0 {
                    Decision::Allowed
                } else {
                    Decision::Refused(Duration::from_micros(wait as u64))
                }
            }
            Ok(Err(e)) => {
                tracing::warn!(error = %e, "shared rate limit check failed; the local limit applies");
                self.failed(now)
            }
            Err(_) => self.failed(now),
        }
    }

    fn failed(&self, now_ms: i64) -> Decision {
        self.up.store(false, Ordering::Relaxed);
        self.skip_until_ms
            .store(now_ms + BACK_OFF.as_millis() as i64, Ordering::Relaxed);
        self.unavailable()
    }

    fn unavailable(&self) -> Decision {
        self.fallbacks.fetch_add(1, Ordering::Relaxed);
        Decision::Unavailable
    }
}
