//! Events and signed webhooks, with Stripe's signature scheme written here independently.

use super::{start, start_with, SK, WHSEC};
use axum::http::StatusCode;
use hmac::{Hmac, Mac};
use paygate_tests::emulator::{eventually, s, webhook_receiver};
use serde_json::Value;
use sha2::Sha256;
use std::sync::{Arc, Mutex};
use std::time::Duration;

#[tokio::test]
async fn events_are_listed_newest_first_with_their_request() {
    let emu = start().await;
    let pi = emu
        .send(
            emu.post_req(
                "/v1/payment_intents",
                SK,
                &[
                    ("amount", "1000"),
                    ("currency", "usd"),
                    ("payment_method", "pm_card_visa"),
                    ("confirm", "true"),
                ],
            )
            .header("idempotency-key", "evt-key"),
        )
        .await;
    let all = emu.get("/v1/events").await;
    let data = all.body["data"].as_array().unwrap();
    let types: Vec<&str> = data.iter().map(|e| s(&e["type"])).collect();
    assert_eq!(
        types,
        [
            "payment_intent.succeeded",
            "charge.succeeded",
            "payment_intent.created"
        ]
    );
    let e = &data[0];
    assert!(s(&e["id"]).starts_with("evt_"));
    assert_eq!(e["object"], "event");
    assert_eq!(e["livemode"], false);
    assert!(e["api_version"].is_string());
    assert!(e["created"].is_i64());
    assert_eq!(e["pending_webhooks"], 0);
    assert_eq!(e["data"]["object"]["id"], pi.body["id"]);
    assert_eq!(e["data"]["object"]["status"], "succeeded");
    assert_eq!(e["request"]["idempotency_key"], "evt-key");
    assert_eq!(
        e["request"]["id"],
        pi.headers["request-id"].to_str().unwrap()
    );
    let page = emu
        .get(&format!(
            "/v1/events?limit=1&starting_after={}",
            s(&data[0]["id"])
        ))
        .await;
    assert_eq!(page.body["has_more"], true);
    assert_eq!(page.body["data"][0]["id"], data[1]["id"]);
    let one = emu.get(&format!("/v1/events/{}", s(&data[2]["id"]))).await;
    assert_eq!(one.body["type"], "payment_intent.created");
    let filtered = emu.get("/v1/events?type=charge.succeeded").await;
    assert_eq!(filtered.body["data"].as_array().unwrap().len(), 1);
}

/// What a receiver saw: the `Stripe-Signature` header and the body of every delivery.
struct Receiver {
    hits: Arc<Mutex<Vec<(String, String)>>>,
}

/// A receiver answering 500 to the first `fail_first` deliveries.
async fn receiver(fail_first: usize) -> (String, Receiver) {
    let (url, hits) = webhook_receiver("/webhooks/stripe", fail_first, |headers, body| {
        let sig = headers
            .get("stripe-signature")
            .map(|v| v.to_str().unwrap().to_string())
            .unwrap_or_default();
        (sig, body)
    })
    .await;
    (url, Receiver { hits })
}

/// Stripe's scheme (docs.stripe.com/webhooks#verify-manually), written here independently of the emulator.
fn expected_v1(secret: &str, t: &str, body: &str) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(format!("{t}.{body}").as_bytes());
    hex::encode(mac.finalize().into_bytes())
}

fn parse_signature(header: &str) -> (String, Vec<String>, usize) {
    let mut t = String::new();
    let mut v1 = Vec::new();
    let mut v0 = 0;
    for part in header.split(',') {
        let (k, v) = part.split_once('=').unwrap();
        match k {
            "t" => t = v.to_string(),
            "v1" => v1.push(v.to_string()),
            "v0" => v0 += 1,
            _ => {}
        }
    }
    (t, v1, v0)
}

#[test]
fn signature_vector_computed_independently() {
    // python3 -c 'import hmac,hashlib;print(hmac.new(b"whsec_test", b"1700000000.{\"id\":1}", hashlib.sha256).hexdigest())'
    let expected = "2f441ba4b3b2d50d28a9ab9d9fd8880376ecd1eb5d0435401553f5d8d0a5dcf8";
    assert_eq!(
        expected_v1("whsec_test", "1700000000", "{\"id\":1}"),
        expected
    );
    assert_eq!(
        paygate_sandbox::stripe::sign_webhook_payload("whsec_test", 1_700_000_000, "{\"id\":1}"),
        expected
    );
}

#[tokio::test]
async fn webhooks_are_signed_and_retried_after_a_500() {
    let (url, rx) = receiver(1).await;
    let emu = start_with(Some(url)).await;
    let sender = emu.emulator.spawn_webhook_sender();
    let c = emu
        .post("/v1/customers", &[("email", "hook@example.com")])
        .await;
    assert_eq!(c.status, StatusCode::OK);
    eventually("a retried delivery", Duration::from_secs(10), || async {
        rx.hits.lock().unwrap().len() >= 2
    })
    .await;
    let hits = rx.hits.lock().unwrap().clone();
    let (sig1, body1) = &hits[0];
    let (sig2, body2) = &hits[1];
    assert_eq!(body1, body2, "the same event is re-sent");
    let event: Value = serde_json::from_str(body1).unwrap();
    assert_eq!(event["type"], "customer.created");
    assert_eq!(event["data"]["object"]["id"], c.body["id"]);
    for sig in [sig1, sig2] {
        let (t, v1, v0) = parse_signature(sig);
        assert_eq!(v1.len(), 1);
        assert_eq!(v0, 1, "test mode also sends a fake v0");
        assert_eq!(v1[0], expected_v1(WHSEC, &t, body1));
        assert_ne!(v1[0], expected_v1("whsec_other", &t, body1));
        let age = emu.clock.now_secs() - t.parse::<i64>().unwrap();
        assert!((0..60).contains(&age));
    }
    let (t1, _, _) = parse_signature(sig1);
    let (t2, _, _) = parse_signature(sig2);
    assert!(
        t2.parse::<i64>().unwrap() > t1.parse::<i64>().unwrap(),
        "a new timestamp per attempt"
    );
    let id = s(&event["id"]).to_string();
    eventually(
        "pending_webhooks to drop to 0",
        Duration::from_secs(10),
        || async { emu.get(&format!("/v1/events/{id}")).await.body["pending_webhooks"] == 0 },
    )
    .await;
    let attempts = emu.emulator.delivery_attempts();
    assert_eq!(attempts[0].status, Some(500));
    assert!(!attempts[0].delivered);
    assert!(attempts[1].delivered);
    sender.abort();
}
