//! `PayPal-Request-Id` (developer.paypal.com/api/rest/reference/idempotency): a POST repeated with the same id on the same
//! endpoint is not executed again; PayPal answers **200** with "the latest status of the
//! previous request", so the emulator renders the resource that the first request created or
//! changed as it is *now* (an order created, approved since, comes back `APPROVED`), with the
//! retry's own `Prefer`.
//!
//! Choices where PayPal documents nothing for Orders v2 / Payments v2:
//! - the key is scoped to `(method and path, id)`: the same id on another endpoint (or another
//!   order's capture) is another request;
//! - a repeat with a **different body** is answered like any repeat (the first request's
//!   resource, 200): PayPal's Orders and Payments v2 do not declare
//!   `PAYPAL_REQUEST_ID_PREVIOUSLY_USED`, which only older APIs use;
//! - successful (2xx) results and business refusals (422, such as `INSTRUMENT_DECLINED`) are
//!   kept: a repeat gets "the latest status of the previous request", and for a refused capture
//!   that is the refusal, even after the buyer approved the order again with another funding
//!   source (PayPal does not document otherwise, and assuming it forgets would let a client that
//!   reuses the id loop through decline and restart for ever); a client must use a new id for a
//!   new attempt. A request that did not execute (a 400 validation error, a 5xx, a forced fault)
//!   runs again when retried with the same id;
//! - a repeat while the first is still executing gets 409 `RESOURCE_CONFLICT` /
//!   `PREVIOUS_REQUEST_IN_PROGRESS` (Payments v2 declare it; the emulator uses it everywhere);
//! - ids are kept 6 hours on Orders v2 and 45 days on Payments v2 (by the emulator's clock).
//!
//! The store itself is the common one (`common::replay`); these rules are PayPal's.

use crate::common::replay::{self, ReplayStore};

pub const ORDERS_RETENTION_MS: i64 = 6 * 60 * 60 * 1000;
pub const PAYMENTS_RETENTION_MS: i64 = 45 * 24 * 60 * 60 * 1000;
/// `PayPal-Request-Id` is 1 to 108 characters on Orders v2.
pub const MAX_ID_LEN: usize = 108;

/// What a successful request produced, re-rendered for a repeat.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Produced {
    /// An order created (`POST /v2/checkout/orders`).
    OrderCreated(String),
    /// An order captured or authorized.
    OrderAction(String),
    /// A capture of an authorization.
    Capture(String),
    /// A voided authorization.
    Void(String),
    Refund(String),
    /// A business refusal (422), answered again as it was.
    Refused {
        status: u16,
        body: bytes::Bytes,
    },
}

#[derive(Debug)]
pub enum Begin {
    Fresh,
    Replay(Produced),
    InFlight,
}

/// Ids scoped to `(method and path, id)`; a repeat is not compared with the first request
/// (`()`), so the common store answers every repeat.
#[derive(Debug, Default)]
pub struct RequestIds {
    ids: ReplayStore<(String, String), (), Produced>,
}

impl RequestIds {
    pub fn begin(&mut self, endpoint: &str, id: &str, now_ms: i64) -> Begin {
        let retention_ms = if endpoint.contains("/v2/payments/") {
            PAYMENTS_RETENTION_MS
        } else {
            ORDERS_RETENTION_MS
        };
        let key = (endpoint.to_string(), id.to_string());
        match self.ids.begin(key, (), now_ms, retention_ms) {
            replay::Begin::Fresh => Begin::Fresh,
            replay::Begin::Replay(produced) => Begin::Replay(produced),
            // `Other` needs a first use unlike this one; `()` is like every other.
            replay::Begin::InFlight | replay::Begin::Other(()) => Begin::InFlight,
        }
    }

    /// Keeps the result, or forgets the id when the request did not succeed.
    pub fn finish(&mut self, endpoint: &str, id: &str, produced: Option<Produced>) {
        self.ids
            .finish(&(endpoint.to_string(), id.to_string()), produced);
    }

    pub fn prune(&mut self, now_ms: i64) {
        self.ids.prune(now_ms);
    }

    pub fn len(&self) -> usize {
        self.ids.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lifecycle() {
        let mut s = RequestIds::default();
        let ep = "POST /v2/checkout/orders";
        assert!(matches!(s.begin(ep, "k", 0), Begin::Fresh));
        assert!(matches!(s.begin(ep, "k", 1), Begin::InFlight));
        s.finish(ep, "k", Some(Produced::OrderCreated("O1".into())));
        assert!(
            matches!(s.begin(ep, "k", 2), Begin::Replay(Produced::OrderCreated(ref id)) if id == "O1")
        );
        // Another endpoint: another request.
        assert!(matches!(
            s.begin("POST /v2/payments/captures/C/refund", "k", 2),
            Begin::Fresh
        ));
        s.finish("POST /v2/payments/captures/C/refund", "k", None);
        assert_eq!(s.len(), 1);
        s.prune(ORDERS_RETENTION_MS + 1);
        assert_eq!(s.len(), 0);
        let pay = "POST /v2/payments/captures/C/refund";
        assert!(matches!(s.begin(pay, "r", 0), Begin::Fresh));
        s.finish(pay, "r", Some(Produced::Refund("R".into())));
        s.prune(ORDERS_RETENTION_MS + 1);
        assert_eq!(s.len(), 1, "payments ids are kept 45 days");
        s.prune(PAYMENTS_RETENTION_MS + 1);
        assert_eq!(s.len(), 0);
    }
}
