//! Time as the emulators see it: the system clock plus an offset that tests move forward
//! (token expiry, idempotency retention, billing periods, approvals left unanswered) instead
//! of sleeping. The same offset-based clock as paygate's own (`server/src/clock.rs`).
//!
//! paygate's server keeps its own `Clock` type (its live mode does not depend on this crate).
//! So that one clock moves both, the server hands its clock's offset to the emulators with
//! [`Clock::sharing`]: every clock built on the same `Arc<AtomicI64>` reads the same time, and
//! a test that advances the server's clock advances the emulators' too.

use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

#[derive(Clone, Debug, Default)]
pub struct Clock {
    offset_ms: Arc<AtomicI64>,
}

impl Clock {
    /// A clock on `offset` (milliseconds added to the system clock), shared with whoever else
    /// holds it: advancing any clock built on it moves them all.
    pub fn sharing(offset: Arc<AtomicI64>) -> Clock {
        Clock { offset_ms: offset }
    }

    /// Unix time in milliseconds.
    pub fn now_ms(&self) -> i64 {
        let sys = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .expect("system clock after 1970")
            .as_millis() as i64;
        sys + self.offset_ms.load(Ordering::Relaxed)
    }

    pub fn now_secs(&self) -> i64 {
        self.now_ms().div_euclid(1000)
    }

    /// Moves this clock (every clone of it, and every clock sharing its offset) forward; for
    /// tests and tools.
    pub fn advance(&self, by: std::time::Duration) {
        self.offset_ms
            .fetch_add(by.as_millis() as i64, Ordering::Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn sharing_clocks_move_together() {
        let offset = Arc::new(AtomicI64::new(0));
        let a = Clock::sharing(offset.clone());
        let b = Clock::sharing(offset.clone());
        let before = b.now_ms();
        a.advance(Duration::from_secs(3600));
        assert!(b.now_ms() - before >= 3_600_000);
        assert_eq!(offset.load(Ordering::Relaxed), 3_600_000);
        // Clones share too; a default clock does not.
        let c = b.clone();
        c.advance(Duration::from_secs(1));
        assert_eq!(offset.load(Ordering::Relaxed), 3_601_000);
        assert!(Clock::default().now_ms() < a.now_ms());
    }
}
