//! Console sessions: a random token in an `HttpOnly; SameSite=Strict` cookie (only its SHA-256
//! is stored), a synchronizer CSRF token checked on every state-changing call, an idle and an
//! absolute lifetime. [`AdminAuth`] is the extractor every admin API handler takes: without a
//! live session it answers 401, without the CSRF token 403, in the error envelope.

use crate::crypto::sha256_hex;
use crate::db::Db;
use crate::error::ApiError;
use crate::http::client_addr::ClientAddr;
use crate::state::AppState;
use axum::extract::{FromRef, FromRequestParts};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, Method, StatusCode};
use base64::Engine;
use rand::RngCore;
use shared::api::admin::{AdminSession, CSRF_HEADER};
use sqlx::Row;
use subtle::ConstantTimeEq;

pub const COOKIE: &str = "paygate_admin";
/// A session ends this long after its last use...
pub const IDLE_TIMEOUT_MS: i64 = 30 * 60 * 1000;
/// ...and at the latest this long after sign-in.
pub const ABSOLUTE_TIMEOUT_MS: i64 = 12 * 60 * 60 * 1000;
/// `last_seen_at` is written at most this often, so reading pages does not write every time.
const TOUCH_EVERY_MS: i64 = 60 * 1000;

/// The signed-in admin of this request. Its `Debug` shows neither token.
#[derive(Clone)]
pub struct AdminAuth {
    pub admin_id: String,
    pub email: String,
    pub csrf_token: String,
    pub expires_at: i64,
    token_hash: String,
    /// The client address, for the audit log.
    pub ip: Option<String>,
}

impl std::fmt::Debug for AdminAuth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AdminAuth")
            .field("admin_id", &self.admin_id)
            .field("email", &self.email)
            .field("expires_at", &self.expires_at)
            .field("ip", &self.ip)
            .finish_non_exhaustive()
    }
}

impl AdminAuth {
    pub fn to_api(&self) -> AdminSession {
        AdminSession {
            email: self.email.clone(),
            csrf_token: self.csrf_token.clone(),
            expires_at: self.expires_at,
        }
    }
}

fn random_token() -> String {
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

fn expiry(created_at: i64, last_seen_at: i64) -> i64 {
    (created_at + ABSOLUTE_TIMEOUT_MS).min(last_seen_at + IDLE_TIMEOUT_MS)
}

/// Starts a session; returns the cookie token (never stored) and the session.
pub async fn create(
    db: &Db,
    admin_id: &str,
    email: &str,
    ip: Option<String>,
    now_ms: i64,
) -> Result<(String, AdminAuth), sqlx::Error> {
    let token = random_token();
    let auth = AdminAuth {
        admin_id: admin_id.to_string(),
        email: email.to_string(),
        csrf_token: random_token(),
        expires_at: expiry(now_ms, now_ms),
        token_hash: sha256_hex(token.as_bytes()),
        ip,
    };
    // Expired sessions are swept here rather than by a timer: sign-ins are rare.
    sqlx::query("DELETE FROM admin_sessions WHERE expires_at <= $1")
        .bind(now_ms)
        .execute(&db.pool)
        .await?;
    sqlx::query("DELETE FROM admin_sign_in_failures WHERE at <= $1")
        .bind(now_ms - super::WINDOW_MS)
        .execute(&db.pool)
        .await?;
    sqlx::query(
        "INSERT INTO admin_sessions (token_hash, admin_id, csrf_token, created_at, last_seen_at, expires_at) \
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(&auth.token_hash)
    .bind(admin_id)
    .bind(&auth.csrf_token)
    .bind(now_ms)
    .bind(now_ms)
    .bind(auth.expires_at)
    .execute(&db.pool)
    .await?;
    Ok((token, auth))
}

pub async fn end(db: &Db, auth: &AdminAuth) -> Result<(), sqlx::Error> {
    sqlx::query("DELETE FROM admin_sessions WHERE token_hash = $1")
        .bind(&auth.token_hash)
        .execute(&db.pool)
        .await?;
    Ok(())
}

/// The `Set-Cookie` value for a new session. `Secure` is left out only when paygate's public URL
/// is plain HTTP on a loopback host (local development; browsers drop Secure cookies there).
pub fn set_cookie(public_url: &str, token: &str) -> String {
    format!(
        "{COOKIE}={token}; Path=/admin; HttpOnly; SameSite=Strict; Max-Age={}{}",
        ABSOLUTE_TIMEOUT_MS / 1000,
        secure_attribute(public_url)
    )
}

pub fn clear_cookie(public_url: &str) -> String {
    format!(
        "{COOKIE}=; Path=/admin; HttpOnly; SameSite=Strict; Max-Age=0{}",
        secure_attribute(public_url)
    )
}

fn secure_attribute(public_url: &str) -> &'static str {
    let local_http = url::Url::parse(public_url).is_ok_and(|u| {
        u.scheme() == "http"
            && match u.host() {
                Some(url::Host::Domain(d)) => d == "localhost",
                Some(url::Host::Ipv4(a)) => a.is_loopback(),
                Some(url::Host::Ipv6(a)) => a.is_loopback(),
                None => false,
            }
    });
    if local_http {
        ""
    } else {
        "; Secure"
    }
}

fn cookie_token(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == COOKIE)
        .map(|(_, value)| value.to_string())
        .filter(|v| !v.is_empty())
}

/// The client's address as [`resolve_client`](crate::http::client_addr::resolve_client)
/// found it (behind a trusted proxy, from `X-Forwarded-For`).
pub fn client_ip(parts: &Parts) -> Option<String> {
    parts
        .extensions
        .get::<ClientAddr>()
        .map(|c| c.0.to_string())
}

/// The client's address when the server knows it (not in in-process tests).
pub struct ClientIp(pub Option<String>);

impl<S: Send + Sync> FromRequestParts<S> for ClientIp {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        Ok(ClientIp(client_ip(parts)))
    }
}

/// A browser sends `Origin` on cross-site and same-site POSTs; when present it must be paygate's
/// public origin, or name the host the request was sent to (for deployments reached under
/// several names). The CSRF token is the main defence; this refuses forged requests early.
pub fn check_origin(headers: &HeaderMap, public_url: &str) -> Result<(), ApiError> {
    let Some(origin) = headers.get(header::ORIGIN) else {
        return Ok(());
    };
    let origin = origin.to_str().unwrap_or_default();
    if origin == crate::config::origin_of(public_url) {
        return Ok(());
    }
    let host = headers.get(header::HOST).and_then(|h| h.to_str().ok());
    let origin_host = url::Url::parse(origin).ok().and_then(|u| {
        let host = u.host_str()?.to_string();
        Some(match u.port() {
            Some(p) => format!("{host}:{p}"),
            None => host,
        })
    });
    match (origin_host, host) {
        (Some(o), Some(h)) if o.eq_ignore_ascii_case(h) => Ok(()),
        _ => Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "cross_origin_refused",
            "Admin requests must come from the console's own origin.",
        )),
    }
}

/// The key of the per-address sign-in limit: the address itself, or its /64 for IPv6 (one
/// customer line holds a whole /64, so single IPv6 addresses are free to rotate).
pub fn address_group(ip: &str) -> String {
    match ip
        .parse::<std::net::IpAddr>()
        .map(crate::http::client_addr::group)
    {
        Ok(std::net::IpAddr::V6(net)) => format!("{net}/64"),
        Ok(v4) => v4.to_string(),
        Err(_) => ip.to_string(),
    }
}

impl<S> FromRequestParts<S> for AdminAuth
where
    AppState: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        if let Some(auth) = parts.extensions.get::<AdminAuth>() {
            return Ok(auth.clone());
        }
        let state = AppState::from_ref(state);
        let signed_out = || ApiError::unauthorized("Sign in to the admin console.");
        let token = cookie_token(&parts.headers).ok_or_else(signed_out)?;
        let token_hash = sha256_hex(token.as_bytes());
        let now = state.clock.now_ms();
        let row = sqlx::query(
            "SELECT s.admin_id, s.csrf_token, s.created_at, s.last_seen_at, s.expires_at, a.email \
             FROM admin_sessions s JOIN admins a ON a.id = s.admin_id \
             WHERE s.token_hash = $1 AND s.expires_at > $2 AND a.disabled_at IS NULL",
        )
        .bind(&token_hash)
        .bind(now)
        .fetch_optional(&state.db.pool)
        .await?
        .ok_or_else(signed_out)?;
        let created_at: i64 = row.try_get("created_at")?;
        let last_seen_at: i64 = row.try_get("last_seen_at")?;
        let touch = now - last_seen_at >= TOUCH_EVERY_MS;
        let auth = AdminAuth {
            admin_id: row.try_get("admin_id")?,
            email: row.try_get("email")?,
            csrf_token: row.try_get("csrf_token")?,
            // The stored expiry, unless this request extends it below.
            expires_at: if touch {
                expiry(created_at, now)
            } else {
                row.try_get("expires_at")?
            },
            token_hash,
            ip: client_ip(parts),
        };

        if !matches!(parts.method, Method::GET | Method::HEAD) {
            check_origin(&parts.headers, &state.config.public_url)?;
            let sent = parts
                .headers
                .get(CSRF_HEADER)
                .map(|v| v.as_bytes())
                .unwrap_or_default();
            if sent.is_empty() || !bool::from(sent.ct_eq(auth.csrf_token.as_bytes())) {
                return Err(ApiError::new(
                    StatusCode::FORBIDDEN,
                    "csrf_token_invalid",
                    "Missing or wrong X-CSRF-Token; reload the console.",
                ));
            }
        }

        if touch {
            sqlx::query(
                "UPDATE admin_sessions SET last_seen_at = $1, expires_at = $2 WHERE token_hash = $3",
            )
            .bind(now)
            .bind(auth.expires_at)
            .bind(&auth.token_hash)
            .execute(&state.db.pool)
            .await?;
        }
        parts.extensions.insert(auth.clone());
        Ok(auth)
    }
}
