//! PayPal webhook verification (developer.paypal.com/docs/api/webhooks/v1, developer.paypal.com/api/rest/webhooks/rest), chosen by configuration:
//! - offline: SHA256withRSA over `transmission_id|transmission_time|webhook_id|crc32(raw body)`
//!   (CRC-32 as an unsigned decimal) with the certificate at `PAYPAL-CERT-URL`, which is fetched
//!   only from `https://*.paypal.com` or the configured sandbox origin (no redirects, at most
//!   64 KB), must chain to a pinned root and name PayPal's message-verification host
//!   ([`super::trust`]), and is cached by URL (at most [`CACHE_LIMIT`] entries);
//! - online: PayPal's `POST /v1/notifications/verify-webhook-signature` with the raw event.
//!
//! In both, a delivery whose `PAYPAL-TRANSMISSION-TIME` is more than 5 minutes from now is
//! refused before anything is fetched or asked (a replay window, and no outgoing request for a
//! stale forgery).

use super::client::PaypalClient;
use super::trust::CertificateTrust;
use crate::providers::ProviderError;
use axum::http::HeaderMap;
use base64::Engine;
use rsa::pkcs1v15::{Signature, VerifyingKey};
use rsa::signature::Verifier;
use rsa::RsaPublicKey;
use serde_json::value::RawValue;
use sha2::Sha256;
use std::collections::HashMap;
use std::time::Duration;
use tokio::sync::Mutex;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum VerifyMode {
    Offline,
    Online,
}

/// The transmission headers of one delivery.
#[derive(Debug, Clone)]
pub struct Transmission {
    pub id: String,
    pub time: String,
    pub signature: String,
    pub cert_url: String,
    pub auth_algo: String,
}

fn header(headers: &HeaderMap, name: &str) -> Result<String, ProviderError> {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
        .filter(|v| !v.is_empty())
        .ok_or_else(|| ProviderError::Unverified(format!("missing {name}")))
}

impl Transmission {
    pub fn from_headers(headers: &HeaderMap) -> Result<Transmission, ProviderError> {
        Ok(Transmission {
            id: header(headers, "paypal-transmission-id")?,
            time: header(headers, "paypal-transmission-time")?,
            signature: header(headers, "paypal-transmission-sig")?,
            cert_url: header(headers, "paypal-cert-url")?,
            auth_algo: header(headers, "paypal-auth-algo")?,
        })
    }
}

/// How far `PAYPAL-TRANSMISSION-TIME` may be from now, either way (as Stripe's default
/// tolerance for its signatures).
pub const TRANSMISSION_TOLERANCE_SECS: i64 = 300;
/// Certificates kept at most; PayPal uses a handful at a time, so a bound this size only
/// matters against callers inventing URLs.
pub const CACHE_LIMIT: usize = 64;
/// The largest certificate document read (PayPal's PEM chain is a few KB).
const CERT_MAX_BYTES: usize = 64 * 1024;

/// Refuses a transmission time that is not RFC 3339 or is more than
/// [`TRANSMISSION_TOLERANCE_SECS`] from `now_secs`.
pub fn check_transmission_time(time: &str, now_secs: i64) -> Result<(), ProviderError> {
    let at =
        time::OffsetDateTime::parse(time.trim(), &time::format_description::well_known::Rfc3339)
            .map_err(|_| {
                ProviderError::Unverified(format!("transmission time {time:?} is not RFC 3339"))
            })?;
    if (at.unix_timestamp() - now_secs).abs() > TRANSMISSION_TOLERANCE_SECS {
        return Err(ProviderError::Unverified(format!(
            "transmission time {time} is more than {TRANSMISSION_TOLERANCE_SECS} s from now"
        )));
    }
    Ok(())
}

/// The signed message. CRC-32 (IEEE, as zlib) of the raw body, as an unsigned decimal: values
/// above 2^31 must not turn negative.
pub fn signed_message(
    transmission_id: &str,
    transmission_time: &str,
    webhook_id: &str,
    body: &[u8],
) -> String {
    format!(
        "{transmission_id}|{transmission_time}|{webhook_id}|{}",
        crc32fast::hash(body)
    )
}

/// Whether a certificate may be fetched from `url`: https on a `*.paypal.com` host, or exactly
/// one of the extra origins (the sandbox emulator's).
pub fn cert_url_allowed(url: &str, extra_origins: &[String]) -> bool {
    let Ok(parsed) = url::Url::parse(url) else {
        return false;
    };
    // Only URLs written as the parser reads them: no normalisation (`https:/~host`, `\`, tabs)
    // between what is checked here and what is fetched (found by the fuzz target paypal_headers).
    if parsed.as_str() != url {
        return false;
    }
    let origin = parsed.origin().ascii_serialization();
    if extra_origins.contains(&origin) {
        return true;
    }
    parsed.scheme() == "https"
        && parsed.port().is_none()
        && parsed.host_str().is_some_and(|h| {
            h.ends_with(".paypal.com")
                && h.len() > ".paypal.com".len()
                && h.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'-')
        })
}

pub struct CertificateCache {
    http: reqwest::Client,
    extra_origins: Vec<String>,
    trust: CertificateTrust,
    keys: Mutex<HashMap<String, (RsaPublicKey, u64)>>,
}

impl CertificateCache {
    pub fn new(extra_origins: Vec<String>, trust: CertificateTrust) -> CertificateCache {
        CertificateCache {
            // A redirect could lead anywhere from an allowed host: it is an error, not followed.
            http: reqwest::Client::builder()
                .timeout(Duration::from_secs(10))
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .expect("HTTP client"),
            extra_origins,
            trust,
            keys: Mutex::new(HashMap::new()),
        }
    }

    /// The public key of the certificate at `url`, fetched once and kept until it expires.
    async fn key(&self, url: &str, now: u64) -> Result<RsaPublicKey, ProviderError> {
        if !cert_url_allowed(url, &self.extra_origins) {
            return Err(ProviderError::Unverified(format!(
                "certificate host not allowed: {url}"
            )));
        }
        if let Some((key, not_after)) = self.keys.lock().await.get(url) {
            if now < *not_after {
                return Ok(key.clone());
            }
        }
        let pem = self.fetch(url).await?;
        let (key, not_after) = self.trust.check(&pem, now)?;
        self.remember(url, key.clone(), not_after, now).await;
        Ok(key)
    }

    /// The document at `url`: a 2xx answer (a redirect is refused) of at most
    /// [`CERT_MAX_BYTES`].
    async fn fetch(&self, url: &str) -> Result<String, ProviderError> {
        let mut response = self
            .http
            .get(url)
            .send()
            .await
            .map_err(|e| ProviderError::Unverified(format!("certificate not fetched: {e}")))?;
        if !response.status().is_success() {
            return Err(ProviderError::Unverified(format!(
                "certificate not fetched: {url} answered {}",
                response.status()
            )));
        }
        let mut body = Vec::new();
        while let Some(chunk) = response
            .chunk()
            .await
            .map_err(|e| ProviderError::Unverified(format!("certificate not read: {e}")))?
        {
            body.extend_from_slice(&chunk);
            if body.len() > CERT_MAX_BYTES {
                return Err(ProviderError::Unverified(format!(
                    "certificate at {url} is larger than {CERT_MAX_BYTES} bytes"
                )));
            }
        }
        String::from_utf8(body)
            .map_err(|_| ProviderError::Unverified("certificate is not text".into()))
    }

    /// Keeps a key until `not_after`; at [`CACHE_LIMIT`] entries the expired ones go first,
    /// then the one that expires soonest.
    pub async fn remember(&self, url: &str, key: RsaPublicKey, not_after: u64, now: u64) {
        let mut keys = self.keys.lock().await;
        if keys.len() >= CACHE_LIMIT && !keys.contains_key(url) {
            keys.retain(|_, (_, until)| *until > now);
            if keys.len() >= CACHE_LIMIT {
                if let Some(soonest) = keys
                    .iter()
                    .min_by_key(|(_, (_, until))| *until)
                    .map(|(u, _)| u.clone())
                {
                    keys.remove(&soonest);
                }
            }
        }
        keys.insert(url.to_string(), (key, not_after));
    }

    /// How many certificates are kept.
    pub async fn cached(&self) -> usize {
        self.keys.lock().await.len()
    }
}

pub fn verify_signature(
    key: &RsaPublicKey,
    message: &str,
    signature_b64: &str,
) -> Result<(), ProviderError> {
    let raw = base64::engine::general_purpose::STANDARD
        .decode(signature_b64.trim())
        .map_err(|_| ProviderError::Unverified("signature is not base64".into()))?;
    let signature = Signature::try_from(raw.as_slice())
        .map_err(|_| ProviderError::Unverified("malformed signature".into()))?;
    VerifyingKey::<Sha256>::new(key.clone())
        .verify(message.as_bytes(), &signature)
        .map_err(|_| ProviderError::Unverified("signature mismatch".into()))
}

/// Offline verification of one delivery, at `now_secs`.
pub async fn verify_offline(
    cache: &CertificateCache,
    webhook_id: &str,
    headers: &HeaderMap,
    body: &[u8],
    now_secs: i64,
) -> Result<(), ProviderError> {
    let t = Transmission::from_headers(headers)?;
    if !t.auth_algo.eq_ignore_ascii_case("SHA256withRSA") {
        return Err(ProviderError::Unverified(format!(
            "unsupported algorithm {}",
            t.auth_algo
        )));
    }
    check_transmission_time(&t.time, now_secs)?;
    let key = cache.key(&t.cert_url, now_secs.max(0) as u64).await?;
    verify_signature(
        &key,
        &signed_message(&t.id, &t.time, webhook_id, body),
        &t.signature,
    )
}

/// `POST /v1/notifications/verify-webhook-signature`'s body (notifications_webhooks_v1.json,
/// `verify_webhook_signature`).
#[derive(serde::Serialize)]
struct VerifyRequest<'a> {
    auth_algo: &'a str,
    cert_url: &'a str,
    transmission_id: &'a str,
    transmission_sig: &'a str,
    transmission_time: &'a str,
    webhook_id: &'a str,
    webhook_event: &'a RawValue,
}

/// Online verification through PayPal's API, sending the event exactly as received.
pub async fn verify_online(
    client: &PaypalClient,
    webhook_id: &str,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<(), ProviderError> {
    let t = Transmission::from_headers(headers)?;
    let raw = std::str::from_utf8(body)
        .map_err(|_| ProviderError::Unverified("body is not UTF-8".into()))?;
    let event = RawValue::from_string(raw.to_string())
        .map_err(|_| ProviderError::Unverified("body is not JSON".into()))?;
    let request = VerifyRequest {
        auth_algo: &t.auth_algo,
        cert_url: &t.cert_url,
        transmission_id: &t.id,
        transmission_sig: &t.signature,
        transmission_time: &t.time,
        webhook_id,
        webhook_event: &event,
    };
    // Serialised by serde_json's writer, which copies a RawValue verbatim; through a `Value`
    // (`json!`) the event would be parsed and its keys re-sorted, and PayPal checks the bytes it
    // signed (reference: the event "must be the exact received bytes").
    let body = serde_json::to_vec(&request).expect("the request serialises");
    let answer = client
        .post_bytes(
            "/v1/notifications/verify-webhook-signature",
            &body,
            &format!("verify-{}", t.id),
        )
        .await
        .map_err(super::map_error)?;
    match answer.get("verification_status").and_then(|v| v.as_str()) {
        Some("SUCCESS") => Ok(()),
        _ => Err(ProviderError::Unverified(
            "PayPal says the signature does not verify".into(),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crc_is_an_unsigned_decimal_above_two_to_the_31() {
        // zlib.crc32(b"paygate-webhook-vector-0") computed outside this code: 2581614155 (> 2^31).
        let body = b"paygate-webhook-vector-0";
        assert_eq!(crc32fast::hash(body), 2581614155);
        assert_eq!(
            signed_message("tid", "2026-01-01T00:00:00Z", "WH1", body),
            "tid|2026-01-01T00:00:00Z|WH1|2581614155"
        );
    }

    #[test]
    fn a_transmission_time_more_than_five_minutes_off_is_refused() {
        let now = 1_764_000_000; // 2025-11-24T16:00:00Z
        for (time, ok) in [
            ("2025-11-24T16:00:00Z", true),
            ("2025-11-24T15:55:00Z", true),
            ("2025-11-24T16:05:00Z", true),
            ("2025-11-24T15:54:59Z", false),
            ("2025-11-24T16:05:01Z", false),
            ("2025-11-24T18:00:00+02:00", true),
            ("2024-01-01T00:00:00Z", false),
            ("yesterday", false),
            ("", false),
        ] {
            assert_eq!(check_transmission_time(time, now).is_ok(), ok, "{time}");
        }
    }

    #[cfg(feature = "sandbox")]
    #[tokio::test]
    async fn the_certificate_cache_stays_bounded_after_ten_thousand_urls() {
        let today = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs();
        let trust = CertificateTrust::custom(
            paygate_sandbox::paypal::TEST_ROOT_PEM,
            paygate_sandbox::paypal::TEST_INTERMEDIATE_PEM,
        );
        let (key, _) = trust
            .check(paygate_sandbox::paypal::CERTIFICATE_PEM, today)
            .expect("the sandbox certificate is valid today");
        let cache = CertificateCache::new(Vec::new(), trust);
        let now = 1_000;
        for i in 0..10_000u64 {
            let url = format!("https://api.paypal.com/v1/notifications/certs/CERT-{i}");
            cache.remember(&url, key.clone(), now + 10 + i, now).await;
        }
        assert_eq!(cache.cached().await, CACHE_LIMIT);
        // The latest are kept (each evicted the one expiring soonest).
        let keys = cache.keys.lock().await;
        assert!(keys.contains_key("https://api.paypal.com/v1/notifications/certs/CERT-9999"));
        assert!(!keys.contains_key("https://api.paypal.com/v1/notifications/certs/CERT-0"));
    }

    #[test]
    fn certificate_hosts() {
        let extra = vec!["http://127.0.0.1:8081".to_string()];
        assert!(cert_url_allowed(
            "https://api.paypal.com/v1/notifications/certs/CERT-1",
            &extra
        ));
        assert!(cert_url_allowed(
            "https://api.sandbox.paypal.com/v1/notifications/certs/CERT-1",
            &extra
        ));
        assert!(cert_url_allowed(
            "http://127.0.0.1:8081/paypal/v1/notifications/certs/CERT-1",
            &extra
        ));
        for bad in [
            "http://api.paypal.com/cert",
            "https://paypal.com.evil.example/cert",
            "https://evilpaypal.com/cert",
            "https://api.paypal.com:8443/cert",
            "https://.paypal.com/cert",
            "http://127.0.0.1:9999/cert",
            "https:/~api.paypal.com/v1/notifications/certs/CERT-0",
            "https://~api.paypal.com/cert",
            "https://API.paypal.com/cert",
            "not a url",
        ] {
            assert!(!cert_url_allowed(bad, &extra), "{bad}");
        }
    }
}
