//! Webhooks: signatures checked independently of the emulator (CRC-32, RSA, the certificate),
//! verify-webhook-signature, retries, resends, and the events of reversals and authorizations.

use super::{order_body, start, start_with, Emu, WEBHOOK_ID};
use axum::http::{HeaderMap, StatusCode};
use paygate_tests::emulator::{s, webhook_receiver};
use serde_json::{json, Value};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// The body of the event in PayPal's own SDK test (`PayPal-Python-SDK`,
/// `test/unit_tests/notifications_test.py`), whose CRC-32 is above 2^31.
const PAYPAL_SDK_EVENT_BODY: &str = r#"{"id":"WH-0G2756385H040842W-5Y612302CV158622M","create_time":"2015-05-18T15:45:13Z","resource_type":"sale","event_type":"PAYMENT.SALE.COMPLETED","summary":"Payment completed for $ 20.0 USD","resource":{"id":"4EU7004268015634R","create_time":"2015-05-18T15:44:02Z","update_time":"2015-05-18T15:44:21Z","amount":{"total":"20.00","currency":"USD"},"payment_mode":"INSTANT_TRANSFER","state":"completed","protection_eligibility":"ELIGIBLE","protection_eligibility_type":"ITEM_NOT_RECEIVED_ELIGIBLE,UNAUTHORIZED_PAYMENT_ELIGIBLE","parent_payment":"PAY-86C81811X5228590KKVNARQQ","transaction_fee":{"value":"0.88","currency":"USD"},"links":[{"href":"https://api.sandbox.paypal.com/v1/payments/sale/4EU7004268015634R","rel":"self","method":"GET"},{"href":"https://api.sandbox.paypal.com/v1/payments/sale/4EU7004268015634R/refund","rel":"refund","method":"POST"},{"href":"https://api.sandbox.paypal.com/v1/payments/payment/PAY-86C81811X5228590KKVNARQQ","rel":"parent_payment","method":"GET"}]},"links":[{"href":"https://api.sandbox.paypal.com/v1/notifications/webhooks-events/WH-0G2756385H040842W-5Y612302CV158622M","rel":"self","method":"GET"},{"href":"https://api.sandbox.paypal.com/v1/notifications/webhooks-events/WH-0G2756385H040842W-5Y612302CV158622M/resend","rel":"resend","method":"POST"}]}"#;

/// CRC-32 (IEEE 802.3, reflected, as zlib), bit by bit: independent of the emulator's crate.
fn crc32_by_hand(bytes: &[u8]) -> u32 {
    let mut crc = 0xFFFF_FFFFu32;
    for &b in bytes {
        crc ^= u32::from(b);
        for _ in 0..8 {
            let mask = (crc & 1).wrapping_neg();
            crc = (crc >> 1) ^ (0xEDB8_8320 & mask);
        }
    }
    !crc
}

#[test]
fn crc32_vectors() {
    // python3 -c 'import zlib;print(zlib.crc32(b"{\"id\":\"WH-TEST\",\"event_type\":\"PAYMENT.CAPTURE.COMPLETED\"}"))'
    let body = br#"{"id":"WH-TEST","event_type":"PAYMENT.CAPTURE.COMPLETED"}"#;
    assert_eq!(crc32_by_hand(body), 3_391_999_205);
    assert_eq!(paygate_sandbox::paypal::crc32_decimal(body), "3391999205");
    // PayPal's SDK vector: above 2^31, so signed arithmetic breaks it.
    assert_eq!(PAYPAL_SDK_EVENT_BODY.len(), 1288);
    assert_eq!(
        crc32_by_hand(PAYPAL_SDK_EVENT_BODY.as_bytes()),
        2_771_810_304
    );
    assert_eq!(
        paygate_sandbox::paypal::crc32_decimal(PAYPAL_SDK_EVENT_BODY.as_bytes()),
        "2771810304"
    );
    assert_eq!(
        paygate_sandbox::paypal::signed_message(
            "dfb3be50-fd74-11e4-8bf3-77339302725b",
            "2015-05-18T15:45:13Z",
            "4JH86294D6297924G",
            PAYPAL_SDK_EVENT_BODY.as_bytes()
        ),
        "dfb3be50-fd74-11e4-8bf3-77339302725b|2015-05-18T15:45:13Z|4JH86294D6297924G|2771810304"
    );
}

#[derive(Clone, Debug)]
struct Delivery {
    headers: HeaderMap,
    body: String,
}

/// A webhook receiver on 127.0.0.1: records every delivery; answers 500 to the first
/// `fail_first` deliveries, 200 after.
async fn receiver(fail_first: usize) -> (String, Arc<Mutex<Vec<Delivery>>>) {
    webhook_receiver("/webhooks/paypal", fail_first, |headers, body| Delivery {
        headers,
        body,
    })
    .await
}

async fn wait_for(
    seen: &Arc<Mutex<Vec<Delivery>>>,
    check: impl Fn(&[Delivery]) -> bool,
) -> Vec<Delivery> {
    for _ in 0..400 {
        {
            let s = seen.lock().unwrap();
            if check(&s) {
                return s.clone();
            }
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    panic!("deliveries never matched: {:?}", seen.lock().unwrap());
}

fn event_types(deliveries: &[Delivery]) -> Vec<String> {
    deliveries
        .iter()
        .map(|d| {
            serde_json::from_str::<Value>(&d.body).unwrap()["event_type"]
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect()
}

/// Verifies a delivery as a receiver would, with the `rsa` and `x509-cert` crates, the
/// certificate fetched from `PAYPAL-CERT-URL`, and the hand-written CRC-32.
async fn verify_independently(http: &reqwest::Client, d: &Delivery, webhook_id: &str) -> bool {
    use rsa::pkcs1v15::{Signature, VerifyingKey};
    use rsa::pkcs8::DecodePublicKey;
    use rsa::signature::Verifier;
    use rsa::RsaPublicKey;
    use x509_cert::der::{DecodePem, Encode};
    use x509_cert::Certificate;
    let h = |name: &str| d.headers[name].to_str().unwrap().to_string();
    assert_eq!(h("paypal-auth-algo"), "SHA256withRSA");
    let served = http.get(h("paypal-cert-url")).send().await.unwrap();
    let pem = served.text().await.unwrap();
    let cert = Certificate::from_pem(pem.as_bytes()).unwrap();
    let spki = cert
        .tbs_certificate
        .subject_public_key_info
        .to_der()
        .unwrap();
    let key = RsaPublicKey::from_public_key_der(&spki).unwrap();
    let message = format!(
        "{}|{}|{}|{}",
        h("paypal-transmission-id"),
        h("paypal-transmission-time"),
        webhook_id,
        crc32_by_hand(d.body.as_bytes())
    );
    let sig = {
        use base64_decode::decode;
        decode(&h("paypal-transmission-sig"))
    };
    let Ok(signature) = Signature::try_from(sig.as_slice()) else {
        return false;
    };
    VerifyingKey::<sha2::Sha256>::new(key)
        .verify(message.as_bytes(), &signature)
        .is_ok()
}

/// Standard base64 decoding, by hand (the tests crate has no base64 dependency).
mod base64_decode {
    pub fn decode(s: &str) -> Vec<u8> {
        let value = |c: u8| -> u32 {
            match c {
                b'A'..=b'Z' => u32::from(c - b'A'),
                b'a'..=b'z' => u32::from(c - b'a') + 26,
                b'0'..=b'9' => u32::from(c - b'0') + 52,
                b'+' => 62,
                b'/' => 63,
                _ => panic!("not base64: {c}"),
            }
        };
        let clean: Vec<u8> = s
            .bytes()
            .filter(|b| *b != b'=' && !b.is_ascii_whitespace())
            .collect();
        let mut out = Vec::with_capacity(clean.len() * 3 / 4);
        for chunk in clean.chunks(4) {
            let mut n = 0u32;
            for (i, c) in chunk.iter().enumerate() {
                n |= value(*c) << (18 - 6 * i);
            }
            out.push((n >> 16) as u8);
            if chunk.len() > 2 {
                out.push((n >> 8) as u8);
            }
            if chunk.len() > 3 {
                out.push(n as u8);
            }
        }
        out
    }
}

#[tokio::test]
async fn webhooks_are_signed_verifiable_and_verified_online() {
    let (url, seen) = receiver(0).await;
    let emu = start_with(Some(url), Duration::from_secs(32_400)).await;
    let sender = emu.emulator.spawn_webhook_sender();

    let capture = emu.captured("20.00").await;
    let r = emu
        .post(
            &format!("/v2/payments/captures/{capture}/refund"),
            &json!({"amount": {"currency_code": "USD", "value": "5.00"}}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED);
    let mut deliveries = wait_for(&seen, |d| d.len() >= 3).await;
    // Deliveries are concurrent and unordered, as PayPal's: sort them by event type.
    deliveries.sort_by_key(|d| event_types(std::slice::from_ref(d)));
    assert_eq!(
        event_types(&deliveries),
        [
            "CHECKOUT.ORDER.APPROVED",
            "PAYMENT.CAPTURE.COMPLETED",
            "PAYMENT.CAPTURE.REFUNDED"
        ]
    );
    let http = reqwest::Client::new();
    for d in &deliveries {
        assert_eq!(d.headers["content-type"], "application/json");
        assert_eq!(
            d.headers["paypal-cert-url"].to_str().unwrap(),
            format!("{}/v1/notifications/certs/CERT-paygate-sandbox", emu.base)
        );
        assert_eq!(d.headers["paypal-transmission-id"].len(), 36);
        assert!(d.headers["paypal-transmission-time"]
            .to_str()
            .unwrap()
            .ends_with('Z'));
        assert!(verify_independently(&http, d, WEBHOOK_ID).await, "{d:?}");
        // Another webhook id, or a changed body, fails.
        assert!(!verify_independently(&http, d, "OTHERWEBHOOKID").await);
        let tampered = Delivery {
            headers: d.headers.clone(),
            body: d.body.replacen("\"USD\"", "\"EUR\"", 1),
        };
        assert_ne!(tampered.body, d.body);
        assert!(!verify_independently(&http, &tampered, WEBHOOK_ID).await);

        let event: Value = serde_json::from_str(&d.body).unwrap();
        assert!(s(&event["id"]).starts_with("WH-"));
        assert_eq!(s(&event["id"]).len(), 3 + 17 + 1 + 17);
        assert_eq!(event["event_version"], "1.0");
        assert_eq!(event["resource_version"], "2.0");
        assert!(s(&event["create_time"]).ends_with('Z'));
        assert!(!s(&event["summary"]).is_empty());
        assert!(event["links"][0]["href"]
            .as_str()
            .unwrap()
            .ends_with(&format!(
                "/v1/notifications/webhooks-events/{}",
                s(&event["id"])
            )));
    }
    let completed: Value = serde_json::from_str(&deliveries[1].body).unwrap();
    assert_eq!(completed["resource_type"], "capture");
    assert_eq!(completed["resource"]["id"], capture.as_str());
    assert_eq!(completed["summary"], "Payment completed for $ 20.00 USD");
    assert!(completed["resource"]["supplementary_data"]["related_ids"]["order_id"].is_string());
    let approved: Value = serde_json::from_str(&deliveries[0].body).unwrap();
    assert_eq!(approved["resource_type"], "checkout-order");
    assert_eq!(approved["resource"]["status"], "APPROVED");
    let refunded: Value = serde_json::from_str(&deliveries[2].body).unwrap();
    assert_eq!(refunded["resource_type"], "refund");
    assert_eq!(refunded["resource"]["amount"]["value"], "5.00");

    // The served certificate is the one the emulator names.
    let pem = http
        .get(emu.emulator.certificate_url())
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(pem, emu.emulator.certificate_pem());
    assert!(pem.starts_with("-----BEGIN CERTIFICATE-----"));

    // PayPal's online verification, given the raw event.
    let d = &deliveries[1];
    let h = |name: &str| d.headers[name].to_str().unwrap().to_string();
    let verify = |event_raw: String, webhook_id: &str| {
        format!(
            r#"{{"auth_algo":{},"cert_url":{},"transmission_id":{},"transmission_sig":{},"transmission_time":{},"webhook_id":{},"webhook_event":{}}}"#,
            json!(h("paypal-auth-algo")),
            json!(h("paypal-cert-url")),
            json!(h("paypal-transmission-id")),
            json!(h("paypal-transmission-sig")),
            json!(h("paypal-transmission-time")),
            json!(webhook_id),
            event_raw
        )
    };
    let post_verify = |body: String| {
        emu.send(
            emu.http
                .post(emu.url("/v1/notifications/verify-webhook-signature"))
                .bearer_auth(&emu.token)
                .header("content-type", "application/json")
                .body(body),
        )
    };
    let r = post_verify(verify(d.body.clone(), WEBHOOK_ID)).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.body, json!({"verification_status": "SUCCESS"}));
    let r = post_verify(verify(d.body.replacen("20.00", "2000.00", 1), WEBHOOK_ID)).await;
    assert_eq!(r.body, json!({"verification_status": "FAILURE"}));
    let r = post_verify(verify(d.body.clone(), "SOMEOTHERWEBHOOK")).await;
    assert_eq!(r.body, json!({"verification_status": "FAILURE"}));
    // Re-serialised (key order and spacing changed): not the bytes that were signed.
    let reserialised =
        serde_json::to_string_pretty(&serde_json::from_str::<Value>(&d.body).unwrap()).unwrap();
    let r = post_verify(verify(reserialised, WEBHOOK_ID)).await;
    assert_eq!(r.body, json!({"verification_status": "FAILURE"}));
    let r = post_verify(r#"{"auth_algo":"SHA256withRSA"}"#.to_string()).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(r.body["name"], "VALIDATION_ERROR");
    assert_eq!(r.body["details"][0]["field"], "cert_url");

    // The events API.
    let event_id = s(&completed["id"]);
    let r = emu
        .get(&format!("/v1/notifications/webhooks-events/{event_id}"))
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.body, completed);
    let r = emu
        .post(
            &format!("/v1/notifications/webhooks-events/{event_id}/resend"),
            &json!({}),
        )
        .await;
    assert_eq!(r.status, StatusCode::ACCEPTED);
    let all = wait_for(&seen, |d| d.len() >= 4).await;
    assert_eq!(
        all[3].body, deliveries[1].body,
        "the same event, byte for byte"
    );
    assert_ne!(
        all[3].headers["paypal-transmission-id"],
        deliveries[1].headers["paypal-transmission-id"]
    );
    assert!(verify_independently(&http, &all[3], WEBHOOK_ID).await);
    sender.abort();
}

#[tokio::test]
async fn failed_deliveries_are_retried_with_new_transmissions() {
    let (url, seen) = receiver(2).await;
    let emu = start_with(Some(url), Duration::from_secs(32_400)).await;
    let sender = emu.emulator.spawn_webhook_sender();
    let started = Instant::now();
    emu.approved("1.00", "balance").await;
    let deliveries = wait_for(&seen, |d| d.len() >= 3).await;
    // Backoff: 1 s, then 2 s.
    assert!(
        started.elapsed() >= Duration::from_secs(3),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(event_types(&deliveries), ["CHECKOUT.ORDER.APPROVED"; 3]);
    let ids: std::collections::HashSet<_> = deliveries
        .iter()
        .map(|d| d.headers["paypal-transmission-id"].clone())
        .collect();
    assert_eq!(ids.len(), 3);
    let http = reqwest::Client::new();
    for d in &deliveries {
        assert!(verify_independently(&http, d, WEBHOOK_ID).await);
    }
    let attempts = emu.emulator.delivery_attempts();
    assert_eq!(
        attempts
            .iter()
            .map(|a| (a.attempt, a.delivered))
            .collect::<Vec<_>>(),
        [(1, false), (2, false), (3, true)]
    );
    assert_eq!(attempts[0].status, Some(500));
    sender.abort();
}

#[tokio::test]
async fn approvals_are_reversed_and_captures_settled_denied_or_reversed() {
    let (url, seen) = receiver(0).await;
    let emu = start_with(Some(url), Duration::from_secs(32_400)).await;
    let sender = emu.emulator.spawn_webhook_sender();

    // Not captured within 3 hours of approval: PayPal reverses the approval.
    let id = emu.approved("8.00", "balance").await;
    emu.clock.advance(Duration::from_secs(3 * 3600 + 1));
    let token = emu.new_token().await;
    let r = emu
        .send(
            emu.http
                .post(emu.url(&format!("/v2/checkout/orders/{id}/capture")))
                .bearer_auth(&token)
                .json(&json!({})),
        )
        .await;
    assert_eq!(r.issue(), "ORDER_NOT_APPROVED");
    assert_eq!(emu.emulator.order(&id).unwrap()["status"], "VOIDED");

    let emu = Emu { token, ..emu };
    // Pending capture denied; completed capture reversed.
    let pending_order = emu.approved("9.00", "echeck").await;
    let r = emu
        .post(
            &format!("/v2/checkout/orders/{pending_order}/capture"),
            &json!({}),
        )
        .await;
    let pending = s(&r.body["purchase_units"][0]["payments"]["captures"][0]["id"]).to_string();
    let r = emu
        .knob(&format!("/_emulator/captures/{pending}/deny"))
        .await;
    assert_eq!(r.body["status"], "DECLINED");
    let capture = emu.captured("11.00").await;
    let r = emu
        .knob(&format!("/_emulator/captures/{capture}/reverse"))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.body["amount"]["value"], "11.00");
    let c = emu.emulator.capture(&capture).unwrap();
    assert_eq!(c["status"], "REFUNDED");
    // Approval reversed on request.
    let approved = emu.approved("2.00", "balance").await;
    let r = emu
        .knob(&format!("/_emulator/orders/{approved}/reverse-approval"))
        .await;
    assert_eq!(r.body["status"], "VOIDED");

    let expected = [
        "CHECKOUT.PAYMENT-APPROVAL.REVERSED",
        "PAYMENT.CAPTURE.PENDING",
        "PAYMENT.CAPTURE.DENIED",
        "PAYMENT.CAPTURE.COMPLETED",
        "PAYMENT.CAPTURE.REVERSED",
    ];
    // Deliveries are unordered: wait until every expected type arrived.
    let deliveries = wait_for(&seen, |d| {
        let types = event_types(d);
        expected.iter().all(|e| types.iter().any(|t| t == e))
            && types
                .iter()
                .filter(|t| *t == "CHECKOUT.PAYMENT-APPROVAL.REVERSED")
                .count()
                == 2
    })
    .await;
    assert!(deliveries.len() >= 9, "{}", deliveries.len());
    let events = emu.emulator.events();
    let reversed = events
        .iter()
        .find(|e| e["event_type"] == "PAYMENT.CAPTURE.REVERSED")
        .unwrap();
    assert_eq!(reversed["resource_type"], "refund");
    sender.abort();
}

#[tokio::test]
async fn authorization_events_are_sent() {
    let emu = start().await;
    let order = emu
        .create(&order_body(
            "AUTHORIZE",
            "USD",
            "4.00",
            Some("https://shop.example/r"),
        ))
        .await;
    let id = s(&order["id"]).to_string();
    emu.approve(&id, "balance").await;
    let r = emu
        .post_full(&format!("/v2/checkout/orders/{id}/authorize"), &json!({}))
        .await;
    let auth = s(&r.body["purchase_units"][0]["payments"]["authorizations"][0]["id"]).to_string();
    emu.post(
        &format!("/v2/payments/authorizations/{auth}/void"),
        &json!({}),
    )
    .await;
    let types: Vec<String> = emu
        .emulator
        .events()
        .iter()
        .map(|e| s(&e["event_type"]).to_string())
        .collect();
    assert_eq!(
        types,
        [
            "CHECKOUT.ORDER.APPROVED",
            "PAYMENT.AUTHORIZATION.CREATED",
            "PAYMENT.AUTHORIZATION.VOIDED"
        ]
    );
    let voided = &emu.emulator.events()[2];
    assert_eq!(voided["resource_type"], "authorization");
    assert_eq!(voided["resource"]["status"], "VOIDED");
}
