//! PayPal's REST protocol over reqwest (developer.paypal.com/api/rest/requests,
//! developer.paypal.com/api/rest/responses): OAuth2 client credentials with the token cached until
//! shortly before `expires_in` and fetched again once on a 401; JSON bodies; `PayPal-Request-Id` on
//! every POST (given by the caller, derived from paygate's record ids); `Prefer:
//! return=representation`; bounded retries with backoff on 429, 5xx and connection errors, reusing
//! the same request id. Nothing here knows about the emulator.

use rand::Rng;
use reqwest::{Method, StatusCode};
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use serde_json::Value;
use std::time::{Duration, Instant};
use tokio::sync::Mutex;

/// Renew the token this long before PayPal says it expires.
const TOKEN_MARGIN: Duration = Duration::from_secs(120);
const MAX_RETRIES: u32 = 3;
const BASE_DELAY: Duration = Duration::from_millis(500);
const MAX_DELAY: Duration = Duration::from_secs(5);

/// One `details[]` entry of PayPal's error body.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(default)]
pub struct ErrorDetail {
    pub issue: String,
    pub field: Option<String>,
    pub description: Option<String>,
}

/// Both error shapes: OAuth's `{error, error_description}` and `{name, message, debug_id,
/// details}`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(default)]
pub struct ErrorBody {
    pub name: Option<String>,
    pub message: Option<String>,
    pub debug_id: Option<String>,
    pub details: Vec<ErrorDetail>,
    pub error: Option<String>,
    pub error_description: Option<String>,
    pub links: Vec<ErrorLink>,
}

/// `links[]` of an error: `{"href": ".../#error-INSTRUMENT_DECLINED", "rel": "information_link"}`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(default)]
pub struct ErrorLink {
    pub href: String,
    pub rel: String,
}

const JSON: &str = "application/json";

impl ErrorBody {
    /// PayPal's page about this error (`rel: information_link`).
    pub fn information_link(&self) -> Option<&str> {
        self.links
            .iter()
            .find(|l| l.rel == "information_link")
            .map(|l| l.href.as_str())
    }

    /// The first issue code (`INSTRUMENT_DECLINED`, ...), if any.
    pub fn issue(&self) -> Option<&str> {
        self.details.first().map(|d| d.issue.as_str())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PaypalError {
    #[error("PayPal answered {status}: {} {} (debug_id {})", body.name.as_deref().or(body.error.as_deref()).unwrap_or(""), body.issue().unwrap_or(""), body.debug_id.as_deref().unwrap_or("-"))]
    Api { status: u16, body: ErrorBody },
    #[error("no answer from PayPal: {0}")]
    Transport(String),
    #[error("unreadable answer from PayPal: {0}")]
    Decode(String),
}

#[derive(Deserialize)]
struct TokenAnswer {
    access_token: String,
    #[serde(default)]
    expires_in: u64,
}

pub struct PaypalClient {
    http: reqwest::Client,
    base: String,
    client_id: String,
    client_secret: SecretString,
    token: Mutex<Option<(String, Instant)>>,
}

impl std::fmt::Debug for PaypalClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PaypalClient")
            .field("base", &self.base)
            .finish_non_exhaustive()
    }
}

fn delay(attempt: u32, retry_after: Option<Duration>) -> Duration {
    let exp = BASE_DELAY
        .saturating_mul(1 << attempt.min(16))
        .min(MAX_DELAY);
    let ms = exp.as_millis() as u64;
    let d = Duration::from_millis(rand::thread_rng().gen_range(ms / 2..=ms.max(1))).max(BASE_DELAY);
    retry_after.map_or(d, |ra| d.max(ra.min(Duration::from_secs(60))))
}

impl PaypalClient {
    pub fn new(
        base: &str,
        client_id: String,
        client_secret: SecretString,
        timeout: Duration,
    ) -> PaypalClient {
        PaypalClient {
            http: reqwest::Client::builder()
                .timeout(timeout)
                .connect_timeout(Duration::from_secs(10))
                .user_agent(concat!("paygate/", env!("CARGO_PKG_VERSION")))
                .build()
                .expect("HTTP client"),
            base: base.trim_end_matches('/').to_string(),
            client_id,
            client_secret,
            token: Mutex::new(None),
        }
    }

    /// A valid access token: the cached one, or a new one.
    async fn token(&self, force: bool) -> Result<String, PaypalError> {
        let mut cached = self.token.lock().await;
        if !force {
            if let Some((token, until)) = cached.as_ref() {
                if Instant::now() < *until {
                    return Ok(token.clone());
                }
            }
        }
        let mut attempt = 0;
        let answer = loop {
            let result = self
                .http
                .post(format!("{}/v1/oauth2/token", self.base))
                .basic_auth(&self.client_id, Some(self.client_secret.expose_secret()))
                .header("accept", "application/json")
                .form(&[("grant_type", "client_credentials")])
                .send()
                .await;
            let retryable = match result {
                Ok(res) if res.status().is_success() => {
                    break res
                        .json::<TokenAnswer>()
                        .await
                        .map_err(|e| PaypalError::Decode(e.to_string()))?;
                }
                Ok(res) => {
                    let status = res.status();
                    let body: ErrorBody = res.json().await.unwrap_or_default();
                    if !(status == StatusCode::TOO_MANY_REQUESTS || status.is_server_error())
                        || attempt >= MAX_RETRIES
                    {
                        return Err(PaypalError::Api {
                            status: status.as_u16(),
                            body,
                        });
                    }
                    true
                }
                Err(e) if attempt < MAX_RETRIES => {
                    tracing::warn!(error = %e, "PayPal token request failed; retrying");
                    true
                }
                Err(e) => return Err(PaypalError::Transport(e.to_string())),
            };
            debug_assert!(retryable);
            tokio::time::sleep(delay(attempt, None)).await;
            attempt += 1;
        };
        let lifetime = Duration::from_secs(answer.expires_in).saturating_sub(TOKEN_MARGIN);
        *cached = Some((answer.access_token.clone(), Instant::now() + lifetime));
        Ok(answer.access_token)
    }

    pub async fn get(&self, path: &str) -> Result<Value, PaypalError> {
        self.send(Method::GET, path, None, None).await
    }

    pub async fn post(
        &self,
        path: &str,
        body: &Value,
        request_id: &str,
    ) -> Result<Value, PaypalError> {
        let body = serde_json::to_vec(body).expect("a JSON value serialises");
        self.send(Method::POST, path, Some((&body, JSON)), Some(request_id))
            .await
    }

    /// POST of a body serialised by the caller, byte for byte (the webhook verification API
    /// needs the event exactly as PayPal sent it, which a `Value` would re-order).
    pub async fn post_bytes(
        &self,
        path: &str,
        body: &[u8],
        request_id: &str,
    ) -> Result<Value, PaypalError> {
        self.send(Method::POST, path, Some((body, JSON)), Some(request_id))
            .await
    }

    /// POST of a `multipart/form-data` body with one JSON part named `input`, as the Disputes
    /// API's evidence call takes it. Written here rather than with reqwest's multipart form,
    /// which is a one-shot stream: the same bytes must go out again on a retry.
    pub async fn post_multipart_json(
        &self,
        path: &str,
        input: &Value,
        request_id: &str,
    ) -> Result<Value, PaypalError> {
        let boundary = format!("paygate-{}", crate::ids::new_id("b"));
        let mut body = Vec::new();
        body.extend_from_slice(
            format!(
                "--{boundary}\r\nContent-Disposition: form-data; name=\"input\"\r\n\
                 Content-Type: application/json\r\n\r\n"
            )
            .as_bytes(),
        );
        body.extend_from_slice(&serde_json::to_vec(input).expect("a JSON value serialises"));
        body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
        let content_type = format!("multipart/form-data; boundary={boundary}");
        self.send(
            Method::POST,
            path,
            Some((&body, &content_type)),
            Some(request_id),
        )
        .await
    }

    async fn send(
        &self,
        method: Method,
        path: &str,
        body: Option<(&[u8], &str)>,
        request_id: Option<&str>,
    ) -> Result<Value, PaypalError> {
        let mut attempt = 0;
        let mut reauthenticated = false;
        loop {
            let token = self.token(false).await?;
            let mut request = self
                .http
                .request(method.clone(), format!("{}{path}", self.base))
                .bearer_auth(&token)
                .header("Prefer", "return=representation");
            if let Some((b, content_type)) = body {
                request = request
                    .header(reqwest::header::CONTENT_TYPE, content_type)
                    .body(b.to_vec());
            }
            if let Some(id) = request_id {
                // The same id on every retry: PayPal returns the first result.
                request = request.header("PayPal-Request-Id", id);
            }
            let (retry, retry_after, error) = match request.send().await {
                Err(e) => (true, None, PaypalError::Transport(e.to_string())),
                Ok(res) => {
                    let status = res.status();
                    let retry_after = res
                        .headers()
                        .get("retry-after")
                        .and_then(|v| v.to_str().ok())
                        .and_then(|v| v.parse().ok())
                        .map(Duration::from_secs);
                    match res.bytes().await {
                        Err(e) => (true, None, PaypalError::Transport(e.to_string())),
                        Ok(bytes) if status.is_success() => {
                            if bytes.is_empty() {
                                return Ok(Value::Null);
                            }
                            return serde_json::from_slice(&bytes)
                                .map_err(|e| PaypalError::Decode(e.to_string()));
                        }
                        Ok(bytes) => {
                            let body: ErrorBody =
                                serde_json::from_slice(&bytes).unwrap_or_default();
                            if status == StatusCode::UNAUTHORIZED && !reauthenticated {
                                // The token expired or was revoked early: fetch a new one, once.
                                reauthenticated = true;
                                self.token(true).await?;
                                continue;
                            }
                            let retry =
                                status == StatusCode::TOO_MANY_REQUESTS || status.is_server_error();
                            (
                                retry,
                                retry_after,
                                PaypalError::Api {
                                    status: status.as_u16(),
                                    body,
                                },
                            )
                        }
                    }
                }
            };
            if retry && attempt < MAX_RETRIES {
                tracing::warn!(path, attempt, error = %error, "PayPal call failed; retrying with the same request id");
                tokio::time::sleep(delay(attempt, retry_after)).await;
                attempt += 1;
                continue;
            }
            return Err(error);
        }
    }
}
