//! OAuth tokens: issued, reused, refused, and expired.

use super::{order_body, start_with, CLIENT_ID, CLIENT_SECRET};
use axum::http::StatusCode;
use paygate_tests::emulator::s;
use serde_json::json;
use std::time::Duration;

#[tokio::test]
async fn tokens_are_issued_reused_refused_and_expire() {
    let emu = start_with(None, Duration::from_secs(600)).await;
    assert_eq!(emu.emulator.tokens_issued(), 1);

    let r = emu
        .token_request(CLIENT_ID, CLIENT_SECRET, "grant_type=client_credentials")
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.body["token_type"], "Bearer");
    assert!(s(&r.body["scope"]).contains("https://uri.paypal.com/services/payments/refund"));
    assert!(s(&r.body["app_id"]).starts_with("APP-"));
    assert!(s(&r.body["nonce"]).len() > 20);
    // PayPal hands back the still-valid token, with what is left of its life.
    assert_eq!(s(&r.body["access_token"]), emu.token);
    assert!(r.body["expires_in"].as_i64().unwrap() <= 600);
    emu.clock.advance(Duration::from_secs(100));
    let r = emu
        .token_request(CLIENT_ID, CLIENT_SECRET, "grant_type=client_credentials")
        .await;
    let left = r.body["expires_in"].as_i64().unwrap();
    assert!((495..=500).contains(&left), "{left}");
    assert_eq!(emu.emulator.tokens_issued(), 3);

    // Wrong credentials, and no credentials: OAuth's error shape.
    for r in [
        emu.token_request(CLIENT_ID, "wrong", "grant_type=client_credentials")
            .await,
        emu.send(
            emu.http
                .post(emu.url("/v1/oauth2/token"))
                .body("grant_type=client_credentials"),
        )
        .await,
    ] {
        assert_eq!(r.status, StatusCode::UNAUTHORIZED);
        assert_eq!(
            r.body,
            json!({"error": "invalid_client", "error_description": "Client Authentication failed"})
        );
    }
    let r = emu.token_request(CLIENT_ID, CLIENT_SECRET, "").await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(r.body["error"], "unsupported_grant_type");
    assert_eq!(emu.emulator.tokens_issued(), 3);

    // API calls need a known token.
    let no_token = emu
        .send(
            emu.http
                .post(emu.url("/v2/checkout/orders"))
                .json(&order_body("CAPTURE", "USD", "1.00", None)),
        )
        .await;
    let bad_token = emu
        .send(
            emu.http
                .get(emu.url("/v2/checkout/orders/5O190127TN364715T"))
                .bearer_auth("A21AAnot-a-token"),
        )
        .await;
    for r in [&no_token, &bad_token] {
        assert_eq!(r.status, StatusCode::UNAUTHORIZED);
        assert_eq!(r.body["name"], "AUTHENTICATION_FAILURE");
        assert_eq!(
            r.body["message"],
            "Authentication failed due to missing authorization header, or invalid authentication credentials."
        );
        assert_eq!(s(&r.body["debug_id"]).len(), 13);
        assert!(r.body["links"][0]["href"].as_str().is_some());
    }

    // The token expires with the emulator's clock.
    let order = emu
        .create(&order_body("CAPTURE", "USD", "1.00", None))
        .await;
    emu.clock.advance(Duration::from_secs(501));
    let r = emu
        .get(&format!("/v2/checkout/orders/{}", s(&order["id"])))
        .await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    assert_eq!(r.body["name"], "AUTHENTICATION_FAILURE");
    // The v1 APIs answer in OAuth's shape.
    let r = emu
        .post("/v1/notifications/verify-webhook-signature", &json!({}))
        .await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        r.body,
        json!({"error": "invalid_token", "error_description": "Access Token not found in cache"})
    );
    let fresh = emu.new_token().await;
    assert_ne!(fresh, emu.token);
    let r = emu
        .send(
            emu.http
                .get(emu.url(&format!("/v2/checkout/orders/{}", s(&order["id"]))))
                .bearer_auth(&fresh),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK);
}
