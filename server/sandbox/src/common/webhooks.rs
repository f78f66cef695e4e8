//! Webhook deliveries as both emulators make them: every event is queued (when a webhook URL
//! is configured) under the same lock as the store that records it, and a sender task POSTs
//! each due delivery to the receiver. A failed attempt (non-2xx, redirect, timeout,
//! connection error) is queued again after an exponential backoff until the provider's
//! [`RetrySchedule`] runs out. Every attempt is signed afresh by the provider
//! ([`WebhookSource::sign`]): Stripe's `Stripe-Signature` with a new timestamp, PayPal's new
//! transmission with its RSA signature; the headers, their order and the body are the
//! provider's.

use serde_json::{json, Value};
use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::Notify;
use tokio::time::Instant;

/// How long one attempt may take before it counts as failed (both providers time out a slow
/// receiver; the emulators give it 10 s).
pub const DELIVERY_TIMEOUT: Duration = Duration::from_secs(10);

/// A provider's retry schedule, compressed so that tests can watch it: at most `max_attempts`
/// attempts, `first_backoff` after the first failure, doubling after each further one. Each
/// provider names its own (the real ones differ: Stripe retries for days in live mode and a
/// few hours in test mode, PayPal up to 25 times over 3 days), so that one can change without
/// the other.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetrySchedule {
    pub max_attempts: u32,
    pub first_backoff: Duration,
}

impl RetrySchedule {
    /// The delay after `attempts` failed attempts.
    pub fn backoff(&self, attempts: u32) -> Duration {
        self.first_backoff * 2u32.pow(attempts.saturating_sub(1).min(10))
    }
}

/// One queued delivery of an event.
#[derive(Debug, Clone)]
pub struct Delivery {
    pub event_id: String,
    /// The event exactly as every attempt sends it.
    pub body: String,
    /// Attempts made so far.
    pub attempts: u32,
    pub due: Instant,
}

/// The deliveries waiting to be sent. Lives in each emulator's store, so that an event and its
/// delivery are recorded together.
#[derive(Debug)]
pub struct DeliveryQueue {
    enabled: bool,
    queued: Vec<Delivery>,
}

impl DeliveryQueue {
    /// `enabled`: a webhook URL is configured; without one nothing is ever queued.
    pub fn new(enabled: bool) -> DeliveryQueue {
        DeliveryQueue {
            enabled,
            queued: Vec::new(),
        }
    }

    pub fn enabled(&self) -> bool {
        self.enabled
    }

    /// Queues the first attempt of `body`, due now (nothing when webhooks are off).
    pub fn push(&mut self, event_id: String, body: String) {
        if self.enabled {
            self.queued.push(Delivery {
                event_id,
                body,
                attempts: 0,
                due: Instant::now(),
            });
        }
    }

    /// The `webhooks` part of an emulator's `GET /_emulator/state`.
    pub fn summary(&self, attempts: usize, delivered: usize) -> Value {
        json!({
            "enabled": self.enabled,
            "queued": self.queued.len(),
            "attempts": attempts,
            "delivered": delivered,
        })
    }

    /// Takes the deliveries due at `now`; returns them and when the next one left is due.
    fn take_due(&mut self, now: Instant) -> (Vec<Delivery>, Option<Instant>) {
        let (due, later): (Vec<_>, Vec<_>) = self.queued.drain(..).partition(|d| d.due <= now);
        let next = later.iter().map(|d| d.due).min();
        self.queued = later;
        (due, next)
    }

    fn retry(&mut self, delivery: Delivery) {
        self.queued.push(delivery);
    }
}

/// How one attempt went.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attempt {
    pub event_id: String,
    /// 1 for the first attempt.
    pub attempt: u32,
    /// The receiver's status, `None` when the connection failed.
    pub status: Option<u16>,
    /// A 2xx answer.
    pub delivered: bool,
}

/// An emulator's sending side: where to, on which schedule, the HTTP client, the sender's
/// wake-up, and the log of finished attempts (`A`: the provider's public record of one).
#[derive(Debug)]
pub struct WebhookSender<A> {
    url: Option<String>,
    schedule: RetrySchedule,
    http: reqwest::Client,
    wake: Notify,
    attempts: Mutex<Vec<A>>,
}

impl<A: Clone> WebhookSender<A> {
    /// `url`: where events are POSTed (`None`: the sender task ends at once). The client times
    /// out after [`DELIVERY_TIMEOUT`] and follows no redirect (a redirect is a failed delivery
    /// at both providers).
    pub fn new(url: Option<String>, schedule: RetrySchedule) -> WebhookSender<A> {
        let http = reqwest::Client::builder()
            .timeout(DELIVERY_TIMEOUT)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("reqwest client");
        WebhookSender {
            url,
            schedule,
            http,
            wake: Notify::new(),
            attempts: Mutex::new(Vec::new()),
        }
    }

    /// Tells the sender task that something may have been queued.
    pub fn wake(&self) {
        self.wake.notify_one();
    }

    /// Every attempt so far, in the order they finished.
    pub fn attempts(&self) -> Vec<A> {
        self.attempts.lock().expect("delivery log lock").clone()
    }
}

/// What an emulator provides for its deliveries.
pub trait WebhookSource: Send + Sync + 'static {
    /// What the provider remembers of one attempt besides [`Attempt`] (PayPal: the
    /// transmission id; Stripe: nothing).
    type Transmission: Send;
    /// The provider's public record of an attempt.
    type Record: Clone + Send;

    fn sender(&self) -> &WebhookSender<Self::Record>;
    /// Runs `f` on the queue, under the store's lock.
    fn with_queue<R>(&self, f: impl FnOnce(&mut DeliveryQueue) -> R) -> R;
    /// The headers of one attempt of `body`, in the order sent, freshly signed.
    fn sign(
        &self,
        body: &str,
    ) -> impl Future<Output = (Vec<(&'static str, String)>, Self::Transmission)> + Send;
    /// The record of a finished attempt (after a failure it is already queued again if the
    /// schedule allows); the provider may also note the outcome in its store.
    fn finished(&self, attempt: Attempt, transmission: Self::Transmission) -> Self::Record;
}

async fn deliver<S: WebhookSource>(source: Arc<S>, url: String, delivery: Delivery) {
    let (headers, transmission) = source.sign(&delivery.body).await;
    let sender = source.sender();
    let mut request = sender.http.post(&url);
    for (name, value) in headers {
        request = request.header(name, value);
    }
    let result = request.body(delivery.body.clone()).send().await;
    let status = result.as_ref().ok().map(|r| r.status().as_u16());
    let delivered = matches!(&result, Ok(r) if r.status().is_success());
    let attempt = delivery.attempts + 1;
    let schedule = sender.schedule;
    if !delivered && attempt < schedule.max_attempts {
        let again = Delivery {
            event_id: delivery.event_id.clone(),
            body: delivery.body,
            attempts: attempt,
            due: Instant::now() + schedule.backoff(attempt),
        };
        source.with_queue(|queue| queue.retry(again));
    }
    let record = source.finished(
        Attempt {
            event_id: delivery.event_id,
            attempt,
            status,
            delivered,
        },
        transmission,
    );
    sender
        .attempts
        .lock()
        .expect("delivery log lock")
        .push(record);
    sender.wake();
}

/// Runs forever: sends due deliveries, sleeps until the next one is due or an event arrives.
/// Without a webhook URL it ends at once.
pub async fn run_sender<S: WebhookSource>(source: Arc<S>) {
    let Some(url) = source.sender().url.clone() else {
        return;
    };
    loop {
        let now = Instant::now();
        let (due, next) = source.with_queue(|queue| queue.take_due(now));
        for delivery in due {
            tokio::spawn(deliver(source.clone(), url.clone(), delivery));
        }
        match next {
            Some(at) => {
                tokio::select! {
                    _ = source.sender().wake.notified() => {}
                    _ = tokio::time::sleep_until(at) => {}
                }
            }
            None => source.sender().wake.notified().await,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schedule_and_queue() {
        let s = RetrySchedule {
            max_attempts: 6,
            first_backoff: Duration::from_secs(1),
        };
        assert_eq!(s.backoff(1), Duration::from_secs(1));
        assert_eq!(s.backoff(5), Duration::from_secs(16));

        let mut off = DeliveryQueue::new(false);
        off.push("evt_1".into(), "{}".into());
        assert_eq!(off.summary(0, 0)["queued"], 0);

        let mut q = DeliveryQueue::new(true);
        q.push("evt_1".into(), "{}".into());
        let later = Instant::now() + Duration::from_secs(60);
        q.retry(Delivery {
            event_id: "evt_2".into(),
            body: "{}".into(),
            attempts: 1,
            due: later,
        });
        assert_eq!(q.summary(3, 1)["queued"], 2);
        let (due, next) = q.take_due(Instant::now());
        assert_eq!(due.len(), 1);
        assert_eq!(due[0].event_id, "evt_1");
        assert_eq!(next, Some(later));
        assert_eq!(
            q.summary(3, 1),
            json!({"enabled": true, "queued": 1, "attempts": 3, "delivered": 1})
        );
    }
}
