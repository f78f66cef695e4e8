//! PayPal's offline webhook verification against a certificate host of the test's own (the
//! allowed "sandbox origin"), over real HTTP: a stale transmission time is refused before
//! anything is fetched; a redirect from the allowed host is refused and its target never
//! contacted; an oversized certificate is refused; a certificate for the right key that does
//! not chain to the trusted root (self-signed), names another host, or has expired is refused;
//! a delivery signed with the sandbox key whose certificate the host serves is accepted (so the
//! refusals above are not the only outcome).

use axum::http::{HeaderMap, StatusCode};
use axum::response::IntoResponse;
use axum::routing::get;
use paygate::clock::Clock;
use paygate::providers::paypal::client::PaypalClient;
use paygate::providers::paypal::trust::CertificateTrust;
use paygate::providers::paypal::webhook::VerifyMode;
use paygate::providers::paypal::PaypalProvider;
use paygate::providers::{PaymentProvider, ProviderError};
use paygate_sandbox::paypal::{
    sign_webhook, CERTIFICATE_PEM, TEST_INTERMEDIATE_PEM, TEST_ROOT_PEM,
};
use paygate_tests::emulator::serve_local;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

const WEBHOOK_ID: &str = "WH-TEST";

/// Certificates for the emulator's signing key that must be refused (`tests/fixtures/`).
const SELF_SIGNED: &str = include_str!("../../fixtures/paypal-certs/self-signed.pem");
const WRONG_NAME: &str = include_str!("../../fixtures/paypal-certs/wrong-name.pem");
const EXPIRED: &str = include_str!("../../fixtures/paypal-certs/expired.pem");

/// A certificate host: `/cert` serves the sandbox certificate, `/self-signed`, `/wrong-name`
/// and `/expired` the fixtures above, `/big` 1 MB, `/hop` redirects to `redirect_to`; every
/// request is counted.
async fn cert_host(redirect_to: Option<String>) -> (String, Arc<AtomicUsize>) {
    let hits = Arc::new(AtomicUsize::new(0));
    let (a, b, c) = (hits.clone(), hits.clone(), hits.clone());
    let app = axum::Router::new()
        .route(
            "/cert",
            get(move || {
                a.fetch_add(1, Ordering::SeqCst);
                async { CERTIFICATE_PEM }
            }),
        )
        .route("/self-signed", get(|| async { SELF_SIGNED }))
        .route("/wrong-name", get(|| async { WRONG_NAME }))
        .route("/expired", get(|| async { EXPIRED }))
        .route(
            "/big",
            get(move || {
                b.fetch_add(1, Ordering::SeqCst);
                async { "A".repeat(1024 * 1024) }
            }),
        )
        .route(
            "/hop",
            get(move || {
                c.fetch_add(1, Ordering::SeqCst);
                let to = redirect_to.clone().unwrap_or_default();
                async move { (StatusCode::FOUND, [("location", to)]).into_response() }
            }),
        );
    let addr = serve_local(app).await;
    (format!("http://{addr}"), hits)
}

fn provider(allowed_origin: &str) -> PaypalProvider {
    let client = PaypalClient::new(
        "http://127.0.0.1:9",
        "unused".into(),
        secrecy::SecretString::from("unused"),
        Duration::from_secs(5),
    );
    PaypalProvider::new(
        client,
        WEBHOOK_ID.into(),
        VerifyMode::Offline,
        vec![allowed_origin.to_string()],
        CertificateTrust::custom(TEST_ROOT_PEM, TEST_INTERMEDIATE_PEM),
        "Test".into(),
        Clock::default(),
    )
}

fn rfc3339(secs: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp(secs)
        .unwrap()
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap()
}

/// Headers of a delivery of `body` signed with the sandbox key at `at` (Unix seconds).
fn signed(body: &[u8], cert_url: &str, at: i64) -> HeaderMap {
    let time = rfc3339(at);
    let mut h = HeaderMap::new();
    h.insert("paypal-transmission-id", "tx-1".parse().unwrap());
    h.insert("paypal-transmission-time", time.parse().unwrap());
    let sig = sign_webhook("tx-1", &time, WEBHOOK_ID, body);
    h.insert("paypal-transmission-sig", sig.parse().unwrap());
    h.insert("paypal-cert-url", cert_url.parse().unwrap());
    h.insert("paypal-auth-algo", "SHA256withRSA".parse().unwrap());
    h
}

const BODY: &[u8] =
    br#"{"id":"WH-1","event_type":"PAYMENT.CAPTURE.COMPLETED","resource":{"id":"C1"}}"#;

fn now() -> i64 {
    Clock::default().now_secs()
}

#[tokio::test]
async fn a_signed_delivery_with_the_allowed_hosts_certificate_is_accepted() {
    let (origin, hits) = cert_host(None).await;
    let paypal = provider(&origin);
    let headers = signed(BODY, &format!("{origin}/cert"), now());
    let event = paypal
        .verify_webhook(&headers, BODY)
        .await
        .expect("verified");
    assert_eq!(event.event_id, "WH-1");
    // Cached: a second delivery fetches nothing more.
    paypal
        .verify_webhook(&headers, BODY)
        .await
        .expect("verified");
    assert_eq!(hits.load(Ordering::SeqCst), 1);
    // Tampered: refused.
    let tampered =
        br#"{"id":"WH-1","event_type":"PAYMENT.CAPTURE.COMPLETED","resource":{"id":"C2"}}"#;
    assert!(matches!(
        paypal.verify_webhook(&headers, tampered).await,
        Err(ProviderError::Unverified(_))
    ));
}

#[tokio::test]
async fn a_stale_transmission_time_is_refused_before_anything_is_fetched() {
    let (origin, hits) = cert_host(None).await;
    let paypal = provider(&origin);
    // Well past the 300 s either way, so a second ticking between signing and checking cannot
    // bring one back inside.
    for at in [now() - 330, now() + 330, now() - 86_400] {
        let headers = signed(BODY, &format!("{origin}/cert"), at);
        let refused = paypal.verify_webhook(&headers, BODY).await;
        assert!(
            matches!(&refused, Err(ProviderError::Unverified(r)) if r.contains("transmission time")),
            "{refused:?}"
        );
    }
    assert_eq!(hits.load(Ordering::SeqCst), 0, "no certificate fetched");
}

#[tokio::test]
async fn a_redirect_from_the_allowed_host_is_refused_and_its_target_never_contacted() {
    let (elsewhere, elsewhere_hits) = cert_host(None).await;
    let (origin, hits) = cert_host(Some(format!("{elsewhere}/cert"))).await;
    let paypal = provider(&origin);
    let headers = signed(BODY, &format!("{origin}/hop"), now());
    let refused = paypal.verify_webhook(&headers, BODY).await;
    assert!(
        matches!(refused, Err(ProviderError::Unverified(_))),
        "{refused:?}"
    );
    assert_eq!(hits.load(Ordering::SeqCst), 1, "the allowed host was asked");
    assert_eq!(
        elsewhere_hits.load(Ordering::SeqCst),
        0,
        "the redirect was not followed"
    );
}

#[tokio::test]
async fn an_oversized_certificate_is_refused() {
    let (origin, _) = cert_host(None).await;
    let paypal = provider(&origin);
    let headers = signed(BODY, &format!("{origin}/big"), now());
    let refused = paypal.verify_webhook(&headers, BODY).await;
    assert!(
        matches!(&refused, Err(ProviderError::Unverified(r)) if r.contains("larger than")),
        "{refused:?}"
    );
}

/// Each certificate holds the very key that signed the delivery, so only the certificate's
/// own checks can refuse it: a self-signed one with PayPal's name (no chain to the trusted
/// root), one under the trusted root for another host, and an expired one.
#[tokio::test]
async fn a_certificate_that_is_not_paypal_s_is_refused_even_for_the_right_key() {
    let (origin, _) = cert_host(None).await;
    let paypal = provider(&origin);
    for (path, why) in [
        ("/self-signed", "chain not trusted"),
        ("/wrong-name", "not PayPal's"),
        ("/expired", "chain not trusted"),
    ] {
        let headers = signed(BODY, &format!("{origin}{path}"), now());
        let refused = paypal.verify_webhook(&headers, BODY).await;
        assert!(
            matches!(&refused, Err(ProviderError::Unverified(r)) if r.contains(why)),
            "{path}: {refused:?}"
        );
    }
}
