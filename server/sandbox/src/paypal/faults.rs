//! Fault knobs for tests (`POST /_emulator/faults`), as on the Stripe emulator (the shared
//! knobs are `common::faults`): added latency, forced error statuses with PayPal's error JSON,
//! dropped connections before execution ("reset") and after it ("lost response"), plus
//! `expire_tokens`, which invalidates every access token issued so far. Knobs count API calls:
//! the token endpoint and every `/v1` and `/v2` call, in arrival order.

use crate::common::faults::{self, Knobs, NoExtra, Statuses};
use serde::Deserialize;

pub type Faults = faults::Faults<NoExtra>;

/// What PayPal answers with when it fails: 429, 500 and 503.
pub const STATUSES: Statuses = Statuses {
    allows: |s| matches!(s, 429 | 500 | 503),
    named: "429, 500 or 503",
};

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

/// Sets the knobs `r` names (`expire_tokens` excepted); a refused request changes nothing.
pub fn apply(faults: &mut Faults, r: &FaultsRequest) -> Result<(), String> {
    let knobs = Knobs {
        latency_ms: r.latency_ms,
        fail_next: r.fail_next,
        status: r.status,
        retry_after: r.retry_after,
        reset_next: r.reset_next,
        lose_response_next: r.lose_response_next,
    };
    faults.apply(&knobs, STATUSES)
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
            Err("fail_next needs a status (429, 500 or 503)".into())
        );
        assert_eq!(
            apply(&mut f, &req(r#"{"fail_next": 1, "status": 502}"#)),
            Err("status must be 429, 500 or 503, not 502".into())
        );
        apply(&mut f, &req(r#"{"fail_next": 1, "status": 429, "retry_after": 2, "reset_next": 1, "lose_response_next": 1}"#))
            .unwrap();
        assert_eq!(
            serde_json::to_value(&f).unwrap(),
            serde_json::json!({"latency_ms": 0, "fail_next": 1, "fail_status": 429,
                "retry_after": 2, "reset_next": 1, "lose_response_next": 1}),
            "no knobs of PayPal's own in the JSON"
        );
        assert!(f.plan().reset);
        assert_eq!(f.plan().fail, Some((429, Some(2))));
        assert!(f.plan().lose_response);
        let p = f.plan();
        assert!(!p.reset && p.fail.is_none() && !p.lose_response);
        assert!(serde_json::from_str::<FaultsRequest>(r#"{"nope": 1}"#).is_err());
    }
}
