//! Stripe's wire protocol over reqwest (docs.stripe.com/api/authentication,
//! docs.stripe.com/error-low-level): Bearer secret key, form bodies, a pinned `Stripe-Version`, an
//! `Idempotency-Key` on every POST (given by the caller, derived from paygate's own record ids),
//! timeouts, and bounded retries with backoff and jitter where Stripe says it is safe. Nothing here
//! knows about the sandbox emulator.

use super::form::Form;
use rand::Rng;
use reqwest::{Method, StatusCode};
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use serde_json::Value;
use std::time::Duration;

/// Pinned API version. Pre-"basil" so a subscription's first invoice exposes its PaymentIntent
/// (`expand[]=latest_invoice.payment_intent`), as docs.stripe.com/api describes.
pub const STRIPE_VERSION: &str = "2024-06-20";

#[derive(Debug, Clone)]
pub struct RetryPolicy {
    pub max_retries: u32,
    pub base_delay: Duration,
    pub max_delay: Duration,
    /// Longest `Retry-After` honoured.
    pub max_retry_after: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        // docs.stripe.com/error-low-level: min(0.5 s × 2^(n−1), 5 s), jitter in [½, 1]×, never
        // below 0.5 s.
        RetryPolicy {
            max_retries: 3,
            base_delay: Duration::from_millis(500),
            max_delay: Duration::from_secs(5),
            max_retry_after: Duration::from_secs(60),
        }
    }
}

impl RetryPolicy {
    fn delay(&self, attempt: u32, retry_after: Option<Duration>) -> Duration {
        let exp = self
            .base_delay
            .saturating_mul(1 << attempt.min(16))
            .min(self.max_delay);
        let ms = exp.as_millis() as u64;
        let jittered = Duration::from_millis(rand::thread_rng().gen_range(ms / 2..=ms.max(1)));
        let floor = jittered.max(self.base_delay);
        match retry_after {
            Some(ra) => floor.max(ra.min(self.max_retry_after)),
            None => floor,
        }
    }
}

/// Stripe's error object (`{"error": {...}}`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
pub struct ApiErrorBody {
    #[serde(rename = "type", default)]
    pub kind: String,
    #[serde(default)]
    pub code: Option<String>,
    #[serde(default)]
    pub decline_code: Option<String>,
    #[serde(default)]
    pub message: Option<String>,
    #[serde(default)]
    pub param: Option<String>,
    #[serde(default)]
    pub payment_intent: Option<Value>,
    /// "A URL to more information about the error code reported."
    #[serde(default)]
    pub doc_url: Option<String>,
    /// "A URL to the request log entry in your dashboard." (docs.stripe.com/api/errors)
    #[serde(default)]
    pub request_log_url: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StripeError {
    /// Stripe answered with an error status.
    #[error("Stripe answered {status}: {} {}", body.kind, body.message.as_deref().unwrap_or(""))]
    Api {
        status: u16,
        body: Box<ApiErrorBody>,
        request_id: Option<String>,
        /// `Idempotent-Replayed: true`: the answer Stripe saved under the key for the request
        /// that first used it, not the outcome of this one.
        replayed: bool,
    },
    /// No answer (connection refused or reset, timeout) after the retries.
    #[error("no answer from Stripe: {0}")]
    Transport(String),
    /// An answer we cannot read.
    #[error("unreadable answer from Stripe: {0}")]
    Decode(String),
}

#[derive(Clone)]
pub struct StripeClient {
    http: reqwest::Client,
    base: String,
    secret_key: SecretString,
    policy: RetryPolicy,
}

impl std::fmt::Debug for StripeClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StripeClient")
            .field("base", &self.base)
            .finish_non_exhaustive()
    }
}

impl StripeClient {
    pub fn new(
        base: &str,
        secret_key: SecretString,
        timeout: Duration,
        policy: RetryPolicy,
    ) -> StripeClient {
        StripeClient {
            http: reqwest::Client::builder()
                .timeout(timeout)
                .connect_timeout(Duration::from_secs(10))
                .user_agent(concat!("paygate/", env!("CARGO_PKG_VERSION")))
                .build()
                .expect("HTTP client"),
            base: base.trim_end_matches('/').to_string(),
            secret_key,
            policy,
        }
    }

    pub async fn post(
        &self,
        path: &str,
        form: &Form,
        idempotency_key: &str,
    ) -> Result<Value, StripeError> {
        self.send(Method::POST, path, form, Some(idempotency_key))
            .await
    }

    pub async fn get(&self, path: &str, query: &Form) -> Result<Value, StripeError> {
        self.send(Method::GET, path, query, None).await
    }

    pub async fn delete(&self, path: &str, query: &Form) -> Result<Value, StripeError> {
        self.send(Method::DELETE, path, query, None).await
    }

    async fn send(
        &self,
        method: Method,
        path: &str,
        form: &Form,
        idempotency_key: Option<&str>,
    ) -> Result<Value, StripeError> {
        let mut attempt = 0;
        loop {
            let mut url = format!("{}{path}", self.base);
            let mut request = self.http.request(method.clone(), &url);
            if method == Method::POST {
                request = request
                    .header("content-type", "application/x-www-form-urlencoded")
                    .body(form.encode());
            } else if !form.pairs().is_empty() {
                url.push('?');
                url.push_str(&form.encode());
                request = self.http.request(method.clone(), &url);
            }
            request = request
                .bearer_auth(self.secret_key.expose_secret())
                .header("Stripe-Version", STRIPE_VERSION);
            if let Some(key) = idempotency_key {
                // The same key on every retry: Stripe replays the first result.
                request = request.header("Idempotency-Key", key);
            }

            let outcome = request.send().await;
            let (retry, retry_after, error) = match outcome {
                Err(e) => (true, None, StripeError::Transport(describe(&e))),
                Ok(response) => {
                    let status = response.status();
                    let should_retry = response
                        .headers()
                        .get("stripe-should-retry")
                        .and_then(|v| v.to_str().ok())
                        .map(|v| v == "true");
                    let retry_after = response
                        .headers()
                        .get("retry-after")
                        .and_then(|v| v.to_str().ok())
                        .and_then(|v| v.parse::<u64>().ok())
                        .map(Duration::from_secs);
                    let request_id = response
                        .headers()
                        .get("request-id")
                        .and_then(|v| v.to_str().ok())
                        .map(str::to_string);
                    let replayed = response
                        .headers()
                        .get("idempotent-replayed")
                        .is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"true"));
                    let bytes = match response.bytes().await {
                        Ok(b) => b,
                        Err(e) => {
                            // The body broke off: same as no answer; safe to retry with the key.
                            let err = StripeError::Transport(describe(&e));
                            if attempt < self.policy.max_retries {
                                tokio::time::sleep(self.policy.delay(attempt, None)).await;
                                attempt += 1;
                                continue;
                            }
                            return Err(err);
                        }
                    };
                    if status.is_success() {
                        return serde_json::from_slice(&bytes)
                            .map_err(|e| StripeError::Decode(e.to_string()));
                    }
                    let body = serde_json::from_slice::<Value>(&bytes)
                        .ok()
                        .and_then(|v| {
                            serde_json::from_value::<ApiErrorBody>(v.get("error")?.clone()).ok()
                        })
                        .unwrap_or_else(|| ApiErrorBody {
                            kind: "api_error".into(),
                            message: Some(format!("HTTP {status}")),
                            ..ApiErrorBody::default()
                        });
                    // A replayed failure is what the key will answer for 24 hours: asking again
                    // with it cannot change anything.
                    let retry = !replayed
                        && match should_retry {
                            Some(v) => v,
                            None => is_retryable_status(status),
                        };
                    (
                        retry,
                        retry_after,
                        StripeError::Api {
                            status: status.as_u16(),
                            body: Box::new(body),
                            request_id,
                            replayed,
                        },
                    )
                }
            };
            if retry && attempt < self.policy.max_retries {
                tracing::warn!(path, attempt, error = %error, "Stripe call failed; retrying with the same idempotency key");
                tokio::time::sleep(self.policy.delay(attempt, retry_after)).await;
                attempt += 1;
                continue;
            }
            return Err(error);
        }
    }
}

/// Without `Stripe-Should-Retry`: 409 (lock timeouts, key in use), 429 and 5xx.
fn is_retryable_status(status: StatusCode) -> bool {
    status == StatusCode::CONFLICT
        || status == StatusCode::TOO_MANY_REQUESTS
        || status.is_server_error()
}

fn describe(e: &reqwest::Error) -> String {
    if e.is_timeout() {
        "timed out".into()
    } else if e.is_connect() {
        "connection failed".into()
    } else {
        "connection closed".into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_is_bounded_and_honours_retry_after() {
        let p = RetryPolicy::default();
        for attempt in 0..10 {
            let d = p.delay(attempt, None);
            assert!(
                d >= Duration::from_millis(500) && d <= Duration::from_secs(5),
                "{d:?}"
            );
        }
        assert_eq!(
            p.delay(0, Some(Duration::from_secs(7))),
            Duration::from_secs(7)
        );
        assert_eq!(
            p.delay(0, Some(Duration::from_secs(600))),
            Duration::from_secs(60)
        );
    }

    #[test]
    fn retryable_statuses() {
        for s in [409, 429, 500, 502, 503] {
            assert!(is_retryable_status(StatusCode::from_u16(s).unwrap()), "{s}");
        }
        for s in [400, 401, 402, 403, 404] {
            assert!(
                !is_retryable_status(StatusCode::from_u16(s).unwrap()),
                "{s}"
            );
        }
    }
}
