//! Signed webhook deliveries (reference/stripe.md §9): every event is POSTed to the configured
//! endpoint with `Stripe-Signature: t=<unix>,v1=<hex>,v0=<hex>`, where
//! `v1 = hex(HMAC-SHA256(key = the whole whsec_... string, "{t}.{body}"))` and `v0` is the fake
//! test-mode scheme that receivers must ignore.
//!
//! Failed deliveries (non-2xx, redirects, timeouts, connection errors) are retried with
//! exponential backoff: 1 s, 2 s, 4 s, 8 s, 16 s after each failure, so at most
//! [`MAX_ATTEMPTS`] = 6 attempts (Stripe's sandbox retries "three times over the course of a
//! few hours"; the emulator compresses that into half a minute so tests can watch it). Every
//! attempt carries a new timestamp and signature.

use super::Inner;
use hmac::{Hmac, Mac};
use sha2::Sha256;
use std::sync::Arc;
use std::time::Duration;

pub const MAX_ATTEMPTS: u32 = 6;
pub const FIRST_BACKOFF: Duration = Duration::from_secs(1);
pub const DELIVERY_TIMEOUT: Duration = Duration::from_secs(10);

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

/// The delay after `attempts` failed attempts.
pub fn backoff(attempts: u32) -> Duration {
    FIRST_BACKOFF * 2u32.pow(attempts.saturating_sub(1).min(10))
}

async fn deliver(app: Arc<Inner>, url: String, event_id: String, body: String, attempts: u32) {
    let t = app.config.clock.now_secs();
    let header = signature_header(&app.config.webhook_secret, &app.fake_v0_key, t, &body);
    let result = app
        .http
        .post(&url)
        .header("content-type", "application/json; charset=utf-8")
        .header(
            "user-agent",
            "Stripe/1.0 (+https://stripe.com/docs/webhooks)",
        )
        .header("stripe-signature", header)
        .body(body.clone())
        .send()
        .await;
    let ok = matches!(&result, Ok(r) if r.status().is_success());
    let attempts = attempts + 1;
    {
        let mut store = app.store.lock().expect("store lock");
        if ok {
            store.delivered(&event_id);
        } else if attempts < MAX_ATTEMPTS {
            store.deliveries.push(super::store::Delivery {
                event_id: event_id.clone(),
                body,
                attempts,
                due: tokio::time::Instant::now() + backoff(attempts),
            });
        }
    }
    let mut log = app.delivery_log.lock().expect("delivery log lock");
    log.push(super::DeliveryAttempt {
        event_id,
        attempt: attempts,
        status: result.as_ref().ok().map(|r| r.status().as_u16()),
        delivered: ok,
    });
    drop(log);
    app.notify.notify_one();
}

/// Runs forever: sends due deliveries, sleeps until the next one is due or an event arrives.
pub async fn run_sender(app: Arc<Inner>) {
    let Some(url) = app.config.webhook_url.clone() else {
        return;
    };
    loop {
        let now = tokio::time::Instant::now();
        let (due, next) = {
            let mut store = app.store.lock().expect("store lock");
            let (due, later): (Vec<_>, Vec<_>) =
                store.deliveries.drain(..).partition(|d| d.due <= now);
            let next = later.iter().map(|d| d.due).min();
            store.deliveries = later;
            (due, next)
        };
        for d in due {
            tokio::spawn(deliver(
                app.clone(),
                url.clone(),
                d.event_id,
                d.body,
                d.attempts,
            ));
        }
        match next {
            Some(at) => {
                tokio::select! {
                    _ = app.notify.notified() => {}
                    _ = tokio::time::sleep_until(at) => {}
                }
            }
            None => app.notify.notified().await,
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
        assert_eq!(backoff(1), Duration::from_secs(1));
        assert_eq!(backoff(5), Duration::from_secs(16));
    }
}
