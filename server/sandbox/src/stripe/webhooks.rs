//! Signed webhook deliveries (docs.stripe.com/webhooks): every event is POSTed to the configured
//! endpoint with `Stripe-Signature: t=<unix>,v1=<hex>,v0=<hex>`, where
//! `v1 = hex(HMAC-SHA256(key = the whole whsec_... string, "{t}.{body}"))` and `v0` is the fake
//! test-mode scheme that receivers must ignore.
//!
//! Failed deliveries (non-2xx, redirects, timeouts, connection errors) are retried with
//! exponential backoff: 1 s, 2 s, 4 s, 8 s, 16 s after each failure, so at most
//! [`MAX_ATTEMPTS`] = 6 attempts (Stripe's sandbox retries "three times over the course of a
//! few hours"; the emulator compresses that into half a minute so tests can watch it). Every
//! attempt carries a new timestamp and signature. The queue and the sender are the common ones
//! (`common::webhooks`); what is Stripe's is here: the schedule, the headers and signature,
//! and `pending_webhooks` dropping to 0 once an event is delivered.

use super::{DeliveryAttempt, Inner};
use crate::common::webhooks::{
    Attempt, DeliveryQueue, RetrySchedule, WebhookSender, WebhookSource,
};
use hmac::{Hmac, Mac};
use sha2::Sha256;
use std::future::Future;
use std::time::Duration;

pub const MAX_ATTEMPTS: u32 = 6;
pub const FIRST_BACKOFF: Duration = Duration::from_secs(1);
pub const SCHEDULE: RetrySchedule = RetrySchedule {
    max_attempts: MAX_ATTEMPTS,
    first_backoff: FIRST_BACKOFF,
};

/// `hex(HMAC-SHA256(secret, "{t}.{body}"))`.
pub fn sign(secret: &str, timestamp: i64, body: &str) -> String {
    let mut mac =
        Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC takes keys of any length");
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body.as_bytes());
    hex::encode(mac.finalize().into_bytes())
}

/// The whole `Stripe-Signature` header value.
pub fn signature_header(secret: &str, fake_v0_key: &str, timestamp: i64, body: &str) -> String {
    format!(
        "t={timestamp},v1={},v0={}",
        sign(secret, timestamp, body),
        sign(fake_v0_key, timestamp, body)
    )
}

impl WebhookSource for Inner {
    type Transmission = ();
    type Record = DeliveryAttempt;

    fn sender(&self) -> &WebhookSender<DeliveryAttempt> {
        &self.webhook_sender
    }

    fn with_queue<R>(&self, f: impl FnOnce(&mut DeliveryQueue) -> R) -> R {
        f(&mut self.store.lock().expect("store lock").webhooks)
    }

    fn sign(&self, body: &str) -> impl Future<Output = (Vec<(&'static str, String)>, ())> + Send {
        let t = self.config.clock.now_secs();
        let header = signature_header(&self.config.webhook_secret, &self.fake_v0_key, t, body);
        let headers = vec![
            (
                "content-type",
                "application/json; charset=utf-8".to_string(),
            ),
            (
                "user-agent",
                "Stripe/1.0 (+https://stripe.com/docs/webhooks)".to_string(),
            ),
            ("stripe-signature", header),
        ];
        std::future::ready((headers, ()))
    }

    /// A delivered event's `pending_webhooks` drops to 0.
    fn finished(&self, a: Attempt, (): ()) -> DeliveryAttempt {
        if a.delivered {
            self.store
                .lock()
                .expect("store lock")
                .delivered(&a.event_id);
        }
        DeliveryAttempt {
            event_id: a.event_id,
            attempt: a.attempt,
            status: a.status,
            delivered: a.delivered,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signature_vector() {
        // python3 -c 'import hmac,hashlib;print(hmac.new(b"whsec_test", b"1700000000.{\"id\":1}", hashlib.sha256).hexdigest())'
        assert_eq!(
            sign("whsec_test", 1_700_000_000, "{\"id\":1}"),
            "2f441ba4b3b2d50d28a9ab9d9fd8880376ecd1eb5d0435401553f5d8d0a5dcf8"
        );
        assert_eq!(SCHEDULE.backoff(1), Duration::from_secs(1));
        assert_eq!(SCHEDULE.backoff(5), Duration::from_secs(16));
    }
}
