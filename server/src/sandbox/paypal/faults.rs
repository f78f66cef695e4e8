//! Fault knobs for tests (`POST /_emulator/faults`), as on the Stripe emulator: added latency,
//! forced error statuses with PayPal's error JSON, dropped connections before execution
//! ("reset") and after it ("lost response"), plus `expire_tokens`, which invalidates every
//! access token issued so far. Knobs count API calls: the token endpoint and every `/v1` and
//! `/v2` call, in arrival order.

use serde::{Deserialize, Serialize};
use std::time::Duration;

#[derive(Debug, Clone, Default, Serialize)]
pub struct Faults {
    pub latency_ms: u64,
    pub fail_next: u32,
    pub fail_status: u16,
    /// `Retry-After` (seconds) on forced 429s; 1 when unset.
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
    /// 429, 500 or 503.
    pub status: Option<u16>,
    pub retry_after: Option<u64>,
    pub reset_next: Option<u32>,
    pub lose_response_next: Option<u32>,
    /// Invalidates every access token issued so far (applied at once, not counted).
    pub expire_tokens: Option<bool>,
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

impl Faults {
    pub fn apply(&mut self, r: &FaultsRequest) -> Result<(), String> {
        if let Some(status) = r.status {
            if !matches!(status, 429 | 500 | 503) {
                return Err(format!("status must be 429, 500 or 503, not {status}"));
            }
        }
        if r.fail_next.is_some_and(|n| n > 0) && r.status.is_none() && self.fail_status == 0 {
            return Err("fail_next needs a status (429, 500 or 503)".into());
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

    fn req(json: &str) -> FaultsRequest {
        serde_json::from_str(json).unwrap()
    }

    #[test]
    fn knobs() {
        let mut f = Faults::default();
        assert!(f.apply(&req(r#"{"fail_next": 1}"#)).is_err());
        assert!(f.apply(&req(r#"{"fail_next": 1, "status": 502}"#)).is_err());
        f.apply(&req(r#"{"fail_next": 1, "status": 429, "retry_after": 2, "reset_next": 1, "lose_response_next": 1}"#))
            .unwrap();
        assert!(f.plan().reset);
        assert_eq!(f.plan().fail, Some((429, Some(2))));
        assert!(f.plan().lose_response);
        let p = f.plan();
        assert!(!p.reset && p.fail.is_none() && !p.lose_response);
        assert!(serde_json::from_str::<FaultsRequest>(r#"{"nope": 1}"#).is_err());
    }
}
