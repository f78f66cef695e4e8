//! Fault knobs for tests (`POST /_emulator/faults`): added latency, forced error statuses,
//! dropped connections before execution ("reset") and after it ("lost response").

use serde::{Deserialize, Serialize};
use std::time::Duration;

#[derive(Debug, Clone, Default, Serialize)]
pub struct Faults {
    pub latency_ms: u64,
    pub fail_next: u32,
    pub fail_status: u16,
    /// `Stripe-Should-Retry` on forced failures, when set.
    pub should_retry: Option<bool>,
    /// `Retry-After` (seconds) on forced 429s.
    pub retry_after: Option<u64>,
    pub reset_next: u32,
    pub lose_response_next: u32,
}

/// The knob request; every field optional, combinable.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FaultsRequest {
    pub latency_ms: Option<u64>,
    pub fail_next: Option<u32>,
    pub status: Option<u16>,
    pub should_retry: Option<bool>,
    pub retry_after: Option<u64>,
    pub reset_next: Option<u32>,
    pub lose_response_next: Option<u32>,
    /// The next N successful charges pass through `processing` (kept by the store).
    pub processing_next: Option<u32>,
    /// The next N 3-D Secure challenges redirect (`redirect_to_url`) instead of opening in
    /// Stripe.js's modal (kept by the store).
    pub redirect_next: Option<u32>,
}

/// What happens to one API call.
#[derive(Debug, Clone, Default)]
pub struct Plan {
    pub latency: Duration,
    pub reset: bool,
    pub fail: Option<(u16, Option<bool>, Option<u64>)>,
    pub lose_response: bool,
}

impl Faults {
    pub fn apply(&mut self, r: &FaultsRequest) -> Result<(), String> {
        if let Some(status) = r.status {
            if status != 429 && !(500..=504).contains(&status) {
                return Err(format!("status must be 429 or 500-504, not {status}"));
            }
        }
        if r.fail_next.is_some_and(|n| n > 0) && r.status.is_none() && self.fail_status == 0 {
            return Err("fail_next needs a status (429 or 500-504)".into());
        }
        if let Some(v) = r.latency_ms {
            if v > 120_000 {
                return Err("latency_ms must be at most 120000".into());
            }
            self.latency_ms = v;
        }
        if let Some(v) = r.fail_next {
            self.fail_next = v;
        }
        if let Some(v) = r.status {
            self.fail_status = v;
        }
        if r.should_retry.is_some() {
            self.should_retry = r.should_retry;
        }
        if r.retry_after.is_some() {
            self.retry_after = r.retry_after;
        }
        if let Some(v) = r.reset_next {
            self.reset_next = v;
        }
        if let Some(v) = r.lose_response_next {
            self.lose_response_next = v;
        }
        Ok(())
    }

    /// Consumes the knobs that apply to the next API call: a reset first, then a forced
    /// failure, then a lost response.
    pub fn plan(&mut self) -> Plan {
        let mut plan = Plan {
            latency: Duration::from_millis(self.latency_ms),
            ..Plan::default()
        };
        if self.reset_next > 0 {
            self.reset_next -= 1;
            plan.reset = true;
        } else if self.fail_next > 0 {
            self.fail_next -= 1;
            plan.fail = Some((self.fail_status, self.should_retry, self.retry_after));
        } else if self.lose_response_next > 0 {
            self.lose_response_next -= 1;
            plan.lose_response = true;
        }
        plan
    }
}
