//! OAuth2 (developer.paypal.com/api/rest/authentication): `POST /v1/oauth2/token` with HTTP Basic
//! `client_id:client_secret` and the form body `grant_type=client_credentials` answers
//! `{scope, access_token, token_type: "Bearer", app_id, expires_in, nonce}`.
//!
//! As PayPal does, a token request made while the last token is still valid gets that same
//! token back with its remaining lifetime (`expires_in` smaller than `token_ttl`); a new token
//! is minted once it has less than a second left, or after `expire_tokens`. Every successful
//! answer counts in [`Tokens::issued`] (what tests check a client's caching with).
//!
//! The JS SDK stand-in gets "facilitator" tokens (`POST /sdk/facilitator-token` with the
//! public client id, as the real SDK's `facilitatorAccessToken`): they can only read orders
//! (`GET /v2/checkout/orders/{id}`).

use super::error::ApiError;
use super::util::{access_token, nonce_text, rfc3339};
use super::App;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use bytes::Bytes;
use serde_json::json;
use std::collections::HashMap;

pub const APP_ID: &str = "APP-80W284485P519543T";
pub const SCOPE: &str = "https://uri.paypal.com/services/invoicing https://uri.paypal.com/services/payments/payment/authcapture openid https://uri.paypal.com/services/payments/refund https://api.paypal.com/v1/payments/.* https://uri.paypal.com/services/payments/realtimepayment https://uri.paypal.com/services/applications/webhooks";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenKind {
    /// Issued to the client id and secret: every API.
    Client,
    /// Issued to the JS SDK stand-in: reading orders only.
    Facilitator,
}

#[derive(Debug)]
struct Token {
    expires_ms: i64,
    kind: TokenKind,
}

#[derive(Debug, Default)]
pub struct Tokens {
    tokens: HashMap<String, Token>,
    current: Option<String>,
    pub issued: usize,
}

impl Tokens {
    /// A client token for a successful token request: the current one while valid, else new.
    /// Returns the token and its remaining lifetime in seconds.
    pub fn client_token(&mut self, now_ms: i64, ttl_ms: i64) -> (String, i64) {
        self.issued += 1;
        if let Some(t) = &self.current {
            if let Some(tok) = self.tokens.get(t) {
                let left = tok.expires_ms - now_ms;
                if left >= 1000 {
                    return (t.clone(), left / 1000);
                }
            }
        }
        let t = access_token();
        self.tokens.insert(
            t.clone(),
            Token {
                expires_ms: now_ms + ttl_ms,
                kind: TokenKind::Client,
            },
        );
        self.current = Some(t.clone());
        (t, ttl_ms / 1000)
    }

    pub fn facilitator_token(&mut self, now_ms: i64, ttl_ms: i64) -> (String, i64) {
        let t = access_token();
        self.tokens.insert(
            t.clone(),
            Token {
                expires_ms: now_ms + ttl_ms,
                kind: TokenKind::Facilitator,
            },
        );
        (t, ttl_ms / 1000)
    }

    /// The kind of a valid token; `None` when unknown or expired.
    pub fn check(&mut self, token: &str, now_ms: i64) -> Option<TokenKind> {
        self.tokens.retain(|_, t| t.expires_ms > now_ms);
        self.tokens.get(token).map(|t| t.kind)
    }

    pub fn expire_all(&mut self) {
        self.tokens.clear();
        self.current = None;
    }

    pub fn live(&self, now_ms: i64) -> usize {
        self.tokens
            .values()
            .filter(|t| t.expires_ms > now_ms)
            .count()
    }
}

/// `Some((user, password))` from `Authorization: Basic ...`.
pub fn basic_credentials(headers: &HeaderMap) -> Option<(String, String)> {
    let value = headers
        .get(axum::http::header::AUTHORIZATION)?
        .to_str()
        .ok()?
        .trim();
    let encoded = value
        .strip_prefix("Basic ")
        .or_else(|| value.strip_prefix("basic "))?;
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(encoded.trim())
        .ok()?;
    let text = String::from_utf8(decoded).ok()?;
    let (user, password) = text.split_once(':')?;
    Some((user.to_string(), password.to_string()))
}

/// `Some(token)` from `Authorization: Bearer ...`.
pub fn bearer(headers: &HeaderMap) -> Option<String> {
    let value = headers
        .get(axum::http::header::AUTHORIZATION)?
        .to_str()
        .ok()?
        .trim();
    let token = value
        .strip_prefix("Bearer ")
        .or_else(|| value.strip_prefix("bearer "))?
        .trim();
    (!token.is_empty()).then(|| token.to_string())
}

pub fn valid_client(app: &App, headers: &HeaderMap) -> bool {
    use subtle::ConstantTimeEq;
    basic_credentials(headers).is_some_and(|(id, secret)| {
        bool::from(id.as_bytes().ct_eq(app.config.client_id.as_bytes()))
            & bool::from(secret.as_bytes().ct_eq(app.config.client_secret.as_bytes()))
    })
}

fn ttl_ms(app: &App) -> i64 {
    i64::try_from(app.config.token_ttl.as_millis()).unwrap_or(i64::MAX / 2)
}

/// `POST /v1/oauth2/token`.
pub async fn token(State(app): State<App>, headers: HeaderMap, body: Bytes) -> Response {
    if !valid_client(&app, &headers) {
        return ApiError::oauth(
            StatusCode::UNAUTHORIZED,
            "invalid_client",
            "Client Authentication failed",
        )
        .into_response();
    }
    let form: HashMap<String, String> = serde_urlencoded::from_bytes(&body).unwrap_or_default();
    match form.get("grant_type").map(String::as_str) {
        None | Some("") => {
            return ApiError::oauth(
                StatusCode::BAD_REQUEST,
                "unsupported_grant_type",
                "Grant Type is NULL",
            )
            .into_response()
        }
        Some("client_credentials") => {}
        Some(_) => {
            return ApiError::oauth(
                StatusCode::BAD_REQUEST,
                "unsupported_grant_type",
                "Grant Type is not supported",
            )
            .into_response()
        }
    }
    let now = app.config.clock.now_ms();
    let (token, expires_in) = app
        .tokens
        .lock()
        .expect("tokens lock")
        .client_token(now, ttl_ms(&app));
    let nonce = format!("{}{}", rfc3339(now, false), nonce_text());
    axum::Json(json!({
        "scope": SCOPE,
        "access_token": token,
        "token_type": "Bearer",
        "app_id": APP_ID,
        "expires_in": expires_in,
        "nonce": nonce,
    }))
    .into_response()
}

/// `POST /sdk/facilitator-token` (form `client-id`): the JS SDK stand-in's read-only token.
pub async fn facilitator_token(State(app): State<App>, body: Bytes) -> Response {
    app.bodies.record(&body);
    let form: HashMap<String, String> = serde_urlencoded::from_bytes(&body).unwrap_or_default();
    if form.get("client-id") != Some(&app.config.client_id) {
        return ApiError::oauth(
            StatusCode::UNAUTHORIZED,
            "invalid_client",
            "Client Authentication failed",
        )
        .into_response();
    }
    let now = app.config.clock.now_ms();
    let (token, expires_in) = app
        .tokens
        .lock()
        .expect("tokens lock")
        .facilitator_token(now, ttl_ms(&app));
    let mut response = axum::Json(json!({
        "access_token": token,
        "token_type": "Bearer",
        "expires_in": expires_in,
    }))
    .into_response();
    response.headers_mut().insert(
        axum::http::header::CACHE_CONTROL,
        axum::http::HeaderValue::from_static("no-store"),
    );
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reuse_and_expiry() {
        let mut t = Tokens::default();
        let (a, left) = t.client_token(0, 32_400_000);
        assert_eq!(left, 32_400);
        let (b, left) = t.client_token(1_000_000, 32_400_000);
        assert_eq!(a, b);
        assert_eq!(left, 31_400);
        assert_eq!(t.check(&a, 1_000_000), Some(TokenKind::Client));
        assert_eq!(t.check(&a, 32_400_000), None);
        let (c, _) = t.client_token(32_400_000, 32_400_000);
        assert_ne!(a, c);
        t.expire_all();
        assert_eq!(t.check(&c, 32_400_001), None);
        let (f, _) = t.facilitator_token(0, 1000);
        assert_eq!(t.check(&f, 1), Some(TokenKind::Facilitator));
        assert_eq!(t.issued, 3);
    }
}
