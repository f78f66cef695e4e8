//! Fault knobs for tests (`POST /_emulator/faults`): added latency, forced error statuses,
//! dropped connections before execution ("reset") and after it ("lost response"); the
//! shared knobs are `common::faults`. Stripe's own: the statuses it answers with (429 and
//! 500–504), `Stripe-Should-Retry` on forced failures, `fail_after_execution_next` (a 500
//! saved under the idempotency key after the endpoint ran), `fail_saved_next` (a 500 saved
//! under the key before the endpoint made anything), and two knobs the store keeps
//! (`processing_next`, `redirect_next`).

use crate::common::faults::{self, Knobs, Statuses};
use serde::{Deserialize, Serialize};

/// Stripe's knobs beyond the shared ones.
#[derive(Debug, Clone, Default, Serialize)]
pub struct StripeKnobs {
    /// `Stripe-Should-Retry` on forced failures, when set.
    pub should_retry: Option<bool>,
    /// The next N API calls run, then answer 500, and that 500 is what their idempotency key
    /// replays: Stripe saves "the resulting status code and body of the first request made for
    /// any given idempotency key, regardless of whether it succeeds or fails. Subsequent requests
    /// with the same key return the same result, including 500 errors"
    /// (docs.stripe.com/api/idempotent_requests).
    pub fail_after_execution_next: u32,
    /// The next N calls with an idempotency key fail as execution begins, before any effect,
    /// with a 500 that their key then replays (the same rule: the request began executing, so
    /// its answer is saved). Nothing is made, and only another key can make it.
    pub fail_saved_next: u32,
}

impl Faults {
    /// Consumes one `fail_saved_next`: whether this keyed call fails, saved, before any effect.
    pub fn fails_saved(&mut self) -> bool {
        if self.extra.fail_saved_next > 0 {
            self.extra.fail_saved_next -= 1;
            true
        } else {
            false
        }
    }

    /// Consumes one `fail_after_execution_next`: whether this call's answer becomes a 500.
    pub fn fails_after_execution(&mut self) -> bool {
        if self.extra.fail_after_execution_next > 0 {
            self.extra.fail_after_execution_next -= 1;
            true
        } else {
            false
        }
    }
}

pub type Faults = faults::Faults<StripeKnobs>;

/// What Stripe answers with when it fails: 429 (rate limit) and 500–504.
pub const STATUSES: Statuses = Statuses {
    allows: |s| s == 429 || (500..=504).contains(&s),
    named: "429 or 500-504",
};

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
    /// See [`StripeKnobs::fail_after_execution_next`].
    pub fail_after_execution_next: Option<u32>,
    /// See [`StripeKnobs::fail_saved_next`].
    pub fail_saved_next: Option<u32>,
    /// The next N successful charges pass through `processing` (kept by the store).
    pub processing_next: Option<u32>,
    /// The next N 3-D Secure challenges redirect (`redirect_to_url`) instead of opening in
    /// Stripe.js's modal (kept by the store).
    pub redirect_next: Option<u32>,
}

/// Sets the knobs `r` names (the store's two excepted); a refused request changes nothing.
pub fn apply(faults: &mut Faults, r: &FaultsRequest) -> Result<(), String> {
    let knobs = Knobs {
        latency_ms: r.latency_ms,
        fail_next: r.fail_next,
        status: r.status,
        retry_after: r.retry_after,
        reset_next: r.reset_next,
        lose_response_next: r.lose_response_next,
    };
    faults.apply(&knobs, STATUSES)?;
    if r.should_retry.is_some() {
        faults.extra.should_retry = r.should_retry;
    }
    if let Some(n) = r.fail_after_execution_next {
        faults.extra.fail_after_execution_next = n;
    }
    if let Some(n) = r.fail_saved_next {
        faults.extra.fail_saved_next = n;
    }
    Ok(())
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
        assert_eq!(
            apply(&mut f, &req(r#"{"fail_next": 1}"#)),
            Err("fail_next needs a status (429 or 500-504)".into())
        );
        assert_eq!(
            apply(&mut f, &req(r#"{"status": 505, "should_retry": true}"#)),
            Err("status must be 429 or 500-504, not 505".into())
        );
        assert_eq!(
            f.extra.should_retry, None,
            "a refused request changes nothing"
        );
        apply(
            &mut f,
            &req(r#"{"fail_next": 1, "status": 504, "should_retry": false}"#),
        )
        .unwrap();
        assert_eq!(f.plan().fail, Some((504, None)));
        assert_eq!(f.extra.should_retry, Some(false));
        assert_eq!(
            serde_json::to_value(&f).unwrap(),
            serde_json::json!({"latency_ms": 0, "fail_next": 0, "fail_status": 504,
                "should_retry": false, "retry_after": null, "reset_next": 0,
                "lose_response_next": 0, "fail_after_execution_next": 0,
                "fail_saved_next": 0})
        );
        assert!(serde_json::from_str::<FaultsRequest>(r#"{"expire_tokens": true}"#).is_err());
    }
}
