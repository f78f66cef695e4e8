//! Webhooks (reference/paypal.md §7): signed deliveries of every event to `webhook_url`, the
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
//! 1 s, 2 s, 4 s, 8 s and 16 s apart, so tests can watch it.

use super::error::{Api, ApiError, ApiResult};
use super::http::json_response;
use super::signing::{self, AUTH_ALGO, CERT_NAME};
use super::util::{debug_id, rfc3339, transmission_id};
use super::{App, DeliveryAttempt, Inner};
use axum::extract::{Path, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use serde::Deserialize;
use serde_json::json;
use serde_json::value::RawValue;
use std::sync::Arc;
use std::time::Duration;

pub const MAX_ATTEMPTS: u32 = 6;
pub const FIRST_BACKOFF: Duration = Duration::from_secs(1);
pub const DELIVERY_TIMEOUT: Duration = Duration::from_secs(10);

/// The delay after `attempts` failed attempts.
pub fn backoff(attempts: u32) -> Duration {
    FIRST_BACKOFF * 2u32.pow(attempts.saturating_sub(1).min(10))
}

pub fn cert_url(app: &Inner) -> String {
    format!(
        "{}/v1/notifications/certs/{CERT_NAME}",
        app.config.public_base.trim_end_matches('/')
    )
}

async fn deliver(app: Arc<Inner>, url: String, event_id: String, body: String, attempts: u32) {
    let tid = transmission_id();
    let time = rfc3339(app.config.clock.now_ms(), false);
    let signature = {
        let (tid, time, webhook_id, body) = (
            tid.clone(),
            time.clone(),
            app.config.webhook_id.clone(),
            body.clone(),
        );
        tokio::task::spawn_blocking(move || {
            signing::sign(&tid, &time, &webhook_id, body.as_bytes())
        })
        .await
        .unwrap_or_default()
    };
    let result = app
        .http
        .post(&url)
        .header("content-type", "application/json")
        .header("user-agent", "PayPal/AUHD-214.0-54377828")
        .header("paypal-transmission-id", &tid)
        .header("paypal-transmission-time", &time)
        .header("paypal-transmission-sig", signature)
        .header("paypal-cert-url", cert_url(&app))
        .header("paypal-auth-algo", AUTH_ALGO)
        .header("paypal-auth-version", "v2")
        .header("correlation-id", debug_id())
        .body(body.clone())
        .send()
        .await;
    let ok = matches!(&result, Ok(r) if r.status().is_success());
    let attempts = attempts + 1;
    if !ok && attempts < MAX_ATTEMPTS {
        app.store
            .lock()
            .expect("store lock")
            .deliveries
            .push(super::store::Delivery {
                event_id: event_id.clone(),
                body,
                attempts,
                due: tokio::time::Instant::now() + backoff(attempts),
            });
    }
    app.delivery_log
        .lock()
        .expect("delivery log lock")
        .push(DeliveryAttempt {
            event_id,
            attempt: attempts,
            transmission_id: tid,
            status: result.as_ref().ok().map(|r| r.status().as_u16()),
            delivered: ok,
        });
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
        if store.webhooks_enabled {
            store.deliveries.push(super::store::Delivery {
                event_id: id.clone(),
                body: event.to_string(),
                attempts: 0,
                due: tokio::time::Instant::now(),
            });
        }
        Ok::<_, ApiError>(event)
    })?;
    Ok(json_response(StatusCode::ACCEPTED, event))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schedule() {
        assert_eq!(backoff(1), Duration::from_secs(1));
        assert_eq!(backoff(5), Duration::from_secs(16));
    }
}
