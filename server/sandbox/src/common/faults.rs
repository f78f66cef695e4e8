//! Fault knobs for tests (`POST /_emulator/faults`), the same on both emulators: added
//! latency, forced error statuses, dropped connections before execution ("reset") and after
//! it ("lost response"). Each knob counts the emulator's API calls in arrival order.
//!
//! What differs by provider: which statuses may be forced ([`Statuses`]: each emulator forces
//! only what its provider answers with), the body and headers of a forced failure (written by
//! each API layer), and knobs of a provider's own (`X`, serialised beside the shared ones:
//! Stripe's `should_retry`; PayPal has none). Each provider keeps its own request type, which
//! defines its knob JSON and refuses unknown fields, and hands the shared part over as
//! [`Knobs`].

use serde::Serialize;
use std::time::Duration;

/// The knobs one request sets; every field optional, combinable.
#[derive(Debug, Clone, Default)]
pub struct Knobs {
    pub latency_ms: Option<u64>,
    pub fail_next: Option<u32>,
    pub status: Option<u16>,
    pub retry_after: Option<u64>,
    pub reset_next: Option<u32>,
    pub lose_response_next: Option<u32>,
}

/// The statuses a provider's `fail_next` may force.
#[derive(Debug, Clone, Copy)]
pub struct Statuses {
    pub allows: fn(u16) -> bool,
    /// As the knob's error messages name them (`429 or 500-504`).
    pub named: &'static str,
}

/// No knobs of a provider's own.
#[derive(Debug, Clone, Default, Serialize)]
pub struct NoExtra {}

#[derive(Debug, Clone, Default, Serialize)]
pub struct Faults<X> {
    pub latency_ms: u64,
    pub fail_next: u32,
    pub fail_status: u16,
    /// `Retry-After` (seconds) on forced 429s; 1 when unset.
    pub retry_after: Option<u64>,
    pub reset_next: u32,
    pub lose_response_next: u32,
    /// The provider's own knobs.
    #[serde(flatten)]
    pub extra: X,
}

/// What happens to one API call.
#[derive(Debug, Clone, Default)]
pub struct Plan {
    pub latency: Duration,
    pub reset: bool,
    /// `(status, retry_after)`.
    pub fail: Option<(u16, Option<u64>)>,
    pub lose_response: bool,
}

impl<X> Faults<X> {
    /// Checks every knob first, then sets them: a refused request changes nothing.
    pub fn apply(&mut self, r: &Knobs, statuses: Statuses) -> Result<(), String> {
        if let Some(status) = r.status {
            if !(statuses.allows)(status) {
                return Err(format!("status must be {}, not {status}", statuses.named));
            }
        }
        if r.fail_next.is_some_and(|n| n > 0) && r.status.is_none() && self.fail_status == 0 {
            return Err(format!("fail_next needs a status ({})", statuses.named));
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
            plan.fail = Some((self.fail_status, self.retry_after));
        } else if self.lose_response_next > 0 {
            self.lose_response_next -= 1;
            plan.lose_response = true;
        }
        plan
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ONLY_429: Statuses = Statuses {
        allows: |s| s == 429,
        named: "429",
    };

    #[test]
    fn refused_requests_change_nothing() {
        let mut f = Faults::<NoExtra>::default();
        let e = f
            .apply(
                &Knobs {
                    latency_ms: Some(5),
                    status: Some(500),
                    ..Knobs::default()
                },
                ONLY_429,
            )
            .unwrap_err();
        assert_eq!(e, "status must be 429, not 500");
        assert_eq!(f.latency_ms, 0);
        let e = f
            .apply(
                &Knobs {
                    fail_next: Some(1),
                    ..Knobs::default()
                },
                ONLY_429,
            )
            .unwrap_err();
        assert_eq!(e, "fail_next needs a status (429)");
        assert_eq!(
            serde_json::to_value(&f).unwrap(),
            serde_json::json!({"latency_ms": 0, "fail_next": 0, "fail_status": 0,
                "retry_after": null, "reset_next": 0, "lose_response_next": 0})
        );
    }
}
