//! Provider webhooks into paygate, as the tests send them: a Stripe-Signature header computed
//! by the test itself, and waiting for the inbox worker to process an event.

use crate::app::{eventually, TestApp};
use hmac::{Hmac, Mac};
use paygate::inbox::store::{state_of, EventState};
use sha2::Sha256;
use shared::api::ProviderName;
use std::time::Duration;

/// `Stripe-Signature` for `body` at `t` (Unix seconds): HMAC-SHA256 over "t.body", as Stripe
/// signs.
pub fn stripe_signature(secret: &str, t: i64, body: &str) -> String {
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(secret.as_bytes()).expect("any key");
    mac.update(format!("{t}.{body}").as_bytes());
    format!("t={t},v1={}", hex::encode(mac.finalize().into_bytes()))
}

/// Waits (up to 10 s) until the stored event is processed; its state then.
pub async fn processed(app: &TestApp, provider: ProviderName, event_id: &str) -> EventState {
    let db = app.state.db.clone();
    eventually("event processed", Duration::from_secs(10), || {
        let db = db.clone();
        let event_id = event_id.to_string();
        async move {
            state_of(&db, provider, &event_id)
                .await
                .unwrap()
                .is_some_and(|s| s.processed)
        }
    })
    .await;
    state_of(&app.state.db, provider, event_id)
        .await
        .unwrap()
        .expect("the event is stored")
}

/// Delivers a Stripe event of type `kind` about `object`, rendered at API `version`, signed with
/// the sandbox's webhook secret, and waits until the inbox processed it.
pub async fn deliver_stripe(
    app: &TestApp,
    id: &str,
    kind: &str,
    version: &str,
    object: serde_json::Value,
) {
    let body = serde_json::json!({
        "id": id, "object": "event", "type": kind, "api_version": version,
        "created": app.state.clock.now_secs(), "livemode": false,
        "data": { "object": object }
    })
    .to_string();
    let now = app.state.clock.now_secs();
    let res = app
        .client
        .post(format!("{}/webhooks/stripe", app.url))
        .header(
            "Stripe-Signature",
            stripe_signature(paygate::config::EMULATOR_STRIPE_WEBHOOK_SECRET, now, &body),
        )
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert!(processed(app, ProviderName::Stripe, id).await.processed);
}
