//! Webhooks (developer.paypal.com/api/rest/webhooks): signed deliveries of every event to `webhook_url`, the
//! certificate they are signed with, PayPal's online verification API, and the events API.
//!
//! Each delivery attempt is a new transmission (new `PAYPAL-TRANSMISSION-ID` and `-TIME`, so a
//! new signature) of the same event body, POSTed with PayPal's headers:
//! `PAYPAL-TRANSMISSION-ID`, `PAYPAL-TRANSMISSION-TIME`, `PAYPAL-TRANSMISSION-SIG`,
//! `PAYPAL-CERT-URL` (`{public_base}/v1/notifications/certs/CERT-paygate-sandbox`),
//! `PAYPAL-AUTH-ALGO: SHA256withRSA`, `PAYPAL-AUTH-VERSION: v2`, `CORRELATION-ID`.
//!
//! PayPal retries a failed delivery (non-2xx, redirect, timeout, connection error) "up to 25
//! times over 3 days"; the emulator compresses that to at most [`MAX_ATTEMPTS`] = 6 attempts,
//! 1 s, 2 s, 4 s, 8 s and 16 s apart, so tests can watch it. The queue and the sender are the
//! common ones (`common::webhooks`); the schedule, the headers and the signature are PayPal's,
//! here.

use super::error::{Api, ApiError, ApiResult};
use super::http::json_response;
use super::signing::{self, AUTH_ALGO, CERT_NAME};
use super::util::{debug_id, rfc3339, transmission_id};
use super::{App, DeliveryAttempt, Inner};
use crate::common::webhooks::{
    Attempt, DeliveryQueue, RetrySchedule, WebhookSender, WebhookSource,
};
use axum::extract::{Path, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use serde::Deserialize;
use serde_json::json;
use serde_json::value::RawValue;
use std::future::Future;
use std::time::Duration;

pub const MAX_ATTEMPTS: u32 = 6;
pub const FIRST_BACKOFF: Duration = Duration::from_secs(1);
pub const SCHEDULE: RetrySchedule = RetrySchedule {
    max_attempts: MAX_ATTEMPTS,
    first_backoff: FIRST_BACKOFF,
};

pub fn cert_url(app: &Inner) -> String {
    format!(
        "{}/v1/notifications/certs/{CERT_NAME}",
        app.config.public_base.trim_end_matches('/')
    )
}

impl WebhookSource for Inner {
    /// Each attempt is a new transmission; its id goes into the delivery log.
    type Transmission = String;
    type Record = DeliveryAttempt;

    fn sender(&self) -> &WebhookSender<DeliveryAttempt> {
        &self.webhook_sender
    }

    fn with_queue<R>(&self, f: impl FnOnce(&mut DeliveryQueue) -> R) -> R {
        f(&mut self.store.lock().expect("store lock").webhooks)
    }

    fn sign(
        &self,
        body: &str,
    ) -> impl Future<Output = (Vec<(&'static str, String)>, String)> + Send {
        let tid = transmission_id();
        let time = rfc3339(self.config.clock.now_ms(), false);
        let webhook_id = self.config.webhook_id.clone();
        let cert_url = cert_url(self);
        let body = body.to_string();
        async move {
            let signature = {
                let (tid, time) = (tid.clone(), time.clone());
                // RSA signing takes milliseconds: off the async workers.
                tokio::task::spawn_blocking(move || {
                    signing::sign(&tid, &time, &webhook_id, body.as_bytes())
                })
                .await
                .unwrap_or_default()
            };
            let headers = vec![
                ("content-type", "application/json".to_string()),
                ("user-agent", "PayPal/AUHD-214.0-54377828".to_string()),
                ("paypal-transmission-id", tid.clone()),
                ("paypal-transmission-time", time),
                ("paypal-transmission-sig", signature),
                ("paypal-cert-url", cert_url),
                ("paypal-auth-algo", AUTH_ALGO.to_string()),
                ("paypal-auth-version", "v2".to_string()),
                ("correlation-id", debug_id()),
            ];
            (headers, tid)
        }
    }

    fn finished(&self, a: Attempt, transmission_id: String) -> DeliveryAttempt {
        DeliveryAttempt {
            event_id: a.event_id,
            attempt: a.attempt,
            transmission_id,
            status: a.status,
            delivered: a.delivered,
        }
    }
}

/// `GET /v1/notifications/certs/{name}`: the certificate, public like PayPal's.
pub async fn certificate(Path(name): Path<String>) -> Response {
    if name != CERT_NAME {
        return ApiError::not_found(Api::Webhooks).into_response();
    }
    let mut response = signing::CERTIFICATE_PEM.into_response();
    let h = response.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/x-pem-file"),
    );
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=86400"),
    );
    response
}

#[derive(Deserialize)]
struct VerifyRequest<'a> {
    auth_algo: Option<String>,
    cert_url: Option<String>,
    transmission_id: Option<String>,
    transmission_sig: Option<String>,
    transmission_time: Option<String>,
    webhook_id: Option<String>,
    #[serde(borrow)]
    webhook_event: Option<&'a RawValue>,
}

/// `POST /v1/notifications/verify-webhook-signature`: checks the signature of a delivery with
/// the emulator's certificate. `webhook_event` must be the event exactly as delivered (its raw
/// bytes are what the CRC-32 covers). `SUCCESS` needs `auth_algo` `SHA256withRSA`, the
/// emulator's own `cert_url`, and a signature over
/// `transmission_id|transmission_time|webhook_id|crc32(webhook_event)`.
pub async fn verify_signature(State(app): State<App>, body: Bytes) -> ApiResult {
    let req: VerifyRequest<'_> = serde_json::from_slice(&body).map_err(|_| {
        ApiError::webhooks_validation("body", "The request JSON is not well formed.")
    })?;
    let required = [
        ("auth_algo", req.auth_algo.is_some()),
        ("cert_url", req.cert_url.is_some()),
        ("transmission_id", req.transmission_id.is_some()),
        ("transmission_sig", req.transmission_sig.is_some()),
        ("transmission_time", req.transmission_time.is_some()),
        ("webhook_id", req.webhook_id.is_some()),
        ("webhook_event", req.webhook_event.is_some()),
    ];
    if let Some((field, _)) = required.iter().find(|(_, present)| !present) {
        return Err(ApiError::webhooks_validation(
            field,
            "Required field cannot be blank",
        ));
    }
    let (Some(algo), Some(url), Some(tid), Some(sig), Some(time), Some(webhook_id), Some(event)) = (
        req.auth_algo,
        req.cert_url,
        req.transmission_id,
        req.transmission_sig,
        req.transmission_time,
        req.webhook_id,
        req.webhook_event,
    ) else {
        return Err(ApiError::webhooks_validation(
            "body",
            "Required field cannot be blank",
        ));
    };
    // The spec's formats: `auth_algo` and `webhook_id` alphanumeric, lengths bounded.
    let alnum = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_alphanumeric());
    let checks = [
        ("auth_algo", algo.len() <= 100 && alnum(&algo)),
        ("cert_url", url.len() <= 500),
        ("transmission_id", tid.len() <= 50),
        ("transmission_sig", sig.len() <= 500),
        ("transmission_time", time.len() <= 100),
        ("webhook_id", webhook_id.len() <= 50 && alnum(&webhook_id)),
    ];
    if let Some((field, _)) = checks.iter().find(|(_, ok)| !ok) {
        return Err(ApiError::webhooks_validation(
            field,
            "Invalid data provided",
        ));
    }
    let event_bytes = event.get().as_bytes().to_vec();
    let own_cert = url == cert_url(&app);
    let ok = algo == AUTH_ALGO
        && own_cert
        && tokio::task::spawn_blocking(move || {
            signing::verify(&tid, &time, &webhook_id, &event_bytes, &sig)
        })
        .await
        .unwrap_or(false);
    Ok(json_response(
        StatusCode::OK,
        json!({"verification_status": if ok { "SUCCESS" } else { "FAILURE" }}),
    ))
}

fn event_not_found() -> ApiError {
    ApiError::new(
        StatusCode::NOT_FOUND,
        "INVALID_RESOURCE_ID",
        "Requested resource ID was not found.",
        Api::Webhooks,
    )
}

/// `GET /v1/notifications/webhooks-events/{id}`.
pub async fn get_event(State(app): State<App>, Path(id): Path<String>) -> ApiResult {
    let store = app.store.lock().expect("store lock");
    let event = store.event(&id).ok_or_else(event_not_found)?;
    Ok(json_response(StatusCode::OK, event.clone()))
}

/// `POST /v1/notifications/webhooks-events/{id}/resend` → 202: delivers the event again.
pub async fn resend_event(State(app): State<App>, Path(id): Path<String>) -> ApiResult {
    let event = app.run(|store| {
        let event = store.event(&id).cloned().ok_or_else(event_not_found)?;
        let body = store
            .event_bodies
            .get(&id)
            .cloned()
            .unwrap_or_else(|| event.to_string());
        store.webhooks.push(id.clone(), body);
        Ok::<_, ApiError>(event)
    })?;
    Ok(json_response(StatusCode::ACCEPTED, event))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schedule() {
        assert_eq!(SCHEDULE.backoff(1), Duration::from_secs(1));
        assert_eq!(SCHEDULE.backoff(5), Duration::from_secs(16));
    }
}
