//! PayPal webhook verification (developer.paypal.com/docs/api/webhooks/v1, developer.paypal.com/api/rest/webhooks/rest), chosen by configuration:
//! - offline: SHA256withRSA over `transmission_id|transmission_time|webhook_id|crc32(raw body)`
//!   (CRC-32 as an unsigned decimal) with the certificate at `PAYPAL-CERT-URL`, which is fetched
//!   only from `https://*.paypal.com` or the configured sandbox origin, checked for validity and
//!   cached by URL;
//! - online: PayPal's `POST /v1/notifications/verify-webhook-signature` with the raw event.

use super::client::PaypalClient;
use crate::providers::ProviderError;
use axum::http::HeaderMap;
use base64::Engine;
use rsa::pkcs1v15::{Signature, VerifyingKey};
use rsa::pkcs8::DecodePublicKey;
use rsa::signature::Verifier;
use rsa::RsaPublicKey;
use serde_json::{json, value::RawValue};
use sha2::Sha256;
use std::collections::HashMap;
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use tokio::sync::Mutex;
use x509_cert::der::{DecodePem, Encode};
use x509_cert::Certificate;

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
    let origin = parsed.origin().ascii_serialization();
    if extra_origins.contains(&origin) {
        return true;
    }
    parsed.scheme() == "https"
        && parsed.port().is_none()
        && parsed
            .host_str()
            .is_some_and(|h| h.ends_with(".paypal.com") && h.len() > ".paypal.com".len())
}

pub struct CertificateCache {
    http: reqwest::Client,
    extra_origins: Vec<String>,
    keys: Mutex<HashMap<String, (RsaPublicKey, u64)>>,
}

impl CertificateCache {
    pub fn new(extra_origins: Vec<String>) -> CertificateCache {
        CertificateCache {
            http: reqwest::Client::builder()
                .timeout(Duration::from_secs(10))
                .build()
                .expect("HTTP client"),
            extra_origins,
            keys: Mutex::new(HashMap::new()),
        }
    }

    /// The public key of the certificate at `url`, fetched once and kept until it expires.
    async fn key(&self, url: &str) -> Result<RsaPublicKey, ProviderError> {
        if !cert_url_allowed(url, &self.extra_origins) {
            return Err(ProviderError::Unverified(format!(
                "certificate host not allowed: {url}"
            )));
        }
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0);
        if let Some((key, not_after)) = self.keys.lock().await.get(url) {
            if now < *not_after {
                return Ok(key.clone());
            }
        }
        let pem = self
            .http
            .get(url)
            .send()
            .await
            .and_then(|r| r.error_for_status())
            .map_err(|e| ProviderError::Unverified(format!("certificate not fetched: {e}")))?
            .text()
            .await
            .map_err(|e| ProviderError::Unverified(format!("certificate not read: {e}")))?;
        let (key, not_after) = parse_certificate(&pem, now)?;
        self.keys
            .lock()
            .await
            .insert(url.to_string(), (key.clone(), not_after));
        Ok(key)
    }
}

/// The RSA key of a PEM certificate valid at `now` (Unix seconds), and when it stops being valid.
pub fn parse_certificate(pem: &str, now: u64) -> Result<(RsaPublicKey, u64), ProviderError> {
    let cert = Certificate::from_pem(pem.as_bytes())
        .map_err(|e| ProviderError::Unverified(format!("not a certificate: {e}")))?;
    let validity = &cert.tbs_certificate.validity;
    let not_before = validity.not_before.to_unix_duration().as_secs();
    let not_after = validity.not_after.to_unix_duration().as_secs();
    if now < not_before || now > not_after {
        return Err(ProviderError::Unverified(
            "certificate expired or not yet valid".into(),
        ));
    }
    let spki = cert
        .tbs_certificate
        .subject_public_key_info
        .to_der()
        .map_err(|e| ProviderError::Unverified(format!("certificate key: {e}")))?;
    let key = RsaPublicKey::from_public_key_der(&spki)
        .map_err(|e| ProviderError::Unverified(format!("certificate key is not RSA: {e}")))?;
    Ok((key, not_after))
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

/// Offline verification of one delivery.
pub async fn verify_offline(
    cache: &CertificateCache,
    webhook_id: &str,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<(), ProviderError> {
    let t = Transmission::from_headers(headers)?;
    if !t.auth_algo.eq_ignore_ascii_case("SHA256withRSA") {
        return Err(ProviderError::Unverified(format!(
            "unsupported algorithm {}",
            t.auth_algo
        )));
    }
    let key = cache.key(&t.cert_url).await?;
    verify_signature(
        &key,
        &signed_message(&t.id, &t.time, webhook_id, body),
        &t.signature,
    )
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
    let request = json!({
        "auth_algo": t.auth_algo,
        "cert_url": t.cert_url,
        "transmission_id": t.id,
        "transmission_sig": t.signature,
        "transmission_time": t.time,
        "webhook_id": webhook_id,
        "webhook_event": event,
    });
    let answer = client
        .post(
            "/v1/notifications/verify-webhook-signature",
            &request,
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
            "not a url",
        ] {
            assert!(!cert_url_allowed(bad, &extra), "{bad}");
        }
    }
}
