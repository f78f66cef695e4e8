//! `Idempotency-Key` on merchant POSTs (the IETF draft "The Idempotency-Key HTTP Header Field").
//!
//! The first request with a key claims it in one statement (`INSERT ... ON CONFLICT DO
//! NOTHING`), runs, and stores its answer with a fingerprint of the request; a retry gets the
//! stored answer; a concurrent duplicate gets 409; the same key with another request gets 422.
//! Validation failures (400), conflicts and 5xx answers are not stored: the key is released, so
//! a retry runs again, which is safe because provider calls carry their own idempotency keys.

use crate::auth::Merchant;
use crate::crypto::{sha256_hex, DataCipher};
use crate::db::Db;
use crate::error::ApiError;
use crate::state::AppState;
use axum::body::{to_bytes, Body};
use axum::extract::{Request, State};
use axum::http::{header, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use sqlx::Row;

pub const HEADER: &str = "idempotency-key";
pub const MAX_KEY_LEN: usize = 255;
/// A claim older than this is taken to belong to a request that died (crash, timeout).
const LOCK_TTL_MS: i64 = 120_000;
/// Associated data of the encrypted `idempotency_keys.response_body`: answers carry customer
/// emails and names, so they are kept encrypted like the customer columns.
pub const RESPONSE_CONTEXT: &str = "idempotency_keys.response_body";
/// Stored answers are kept at least this long, then swept.
pub const RETENTION_MS: i64 = 24 * 60 * 60 * 1000;

/// The owner of idempotency keys for callers that are not the merchant API (e.g.
/// `admin:<admin id>`); stored in the `merchant_id` column, so it never collides with a merchant.
#[derive(Debug, Clone)]
pub struct IdempotencyScope(pub String);

/// The claimed idempotency key of the request being handled, scoped to its caller. Handlers
/// that move money derive their record's id from it (`derive_id`), so a retry after an unknown
/// outcome (a 5xx releases the key) finds the same record and the same provider idempotency
/// key instead of starting a second refund. Extract it as `Option<RequestKey>`.
#[derive(Debug, Clone)]
pub struct RequestKey(String);

impl RequestKey {
    fn new(scope: &str, key: &str) -> RequestKey {
        RequestKey(sha256_hex(format!("{scope}\n{key}").as_bytes()))
    }

    /// A key for work paygate starts by itself and may start again (e.g. giving back a
    /// session's duplicate payment), so that doing it twice does it once.
    pub fn internal(name: &str) -> RequestKey {
        RequestKey::new("paygate", name)
    }

    /// `<prefix>_` and 32 hex characters, the same for every retry of this request.
    pub fn derive_id(&self, prefix: &str) -> String {
        format!("{prefix}_{}", &self.0[..32])
    }
}

impl<S: Send + Sync> axum::extract::OptionalFromRequestParts<S> for RequestKey {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        _state: &S,
    ) -> Result<Option<Self>, Self::Rejection> {
        Ok(parts.extensions.get::<RequestKey>().cloned())
    }
}

#[derive(Debug, PartialEq, Eq)]
enum Claim {
    Claimed,
    Replay {
        status: u16,
        body: String,
    },
    InFlight,
    Mismatch,
    /// The stored answer's data key is not configured.
    Unreadable(String),
}

pub async fn idempotency(State(state): State<AppState>, request: Request, next: Next) -> Response {
    if request.method() != Method::POST {
        return next.run(request).await;
    }
    let Some(raw_key) = request.headers().get(HEADER) else {
        return next.run(request).await;
    };
    let key = match validate_key(raw_key) {
        Ok(k) => k,
        Err(e) => return e.into_response(),
    };
    // Keys are scoped to the caller: the merchant (API key auth) or one admin (console).
    let scope = match request.extensions().get::<Merchant>() {
        Some(merchant) => merchant.merchant_id.clone(),
        None => match request.extensions().get::<IdempotencyScope>() {
            Some(scope) => scope.0.clone(),
            None => return ApiError::unauthorized("Missing API key.").into_response(),
        },
    };
    let (parts, body) = request.into_parts();
    let bytes = match to_bytes(body, state.config.body_limit).await {
        Ok(b) => b,
        Err(_) => {
            return ApiError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "body_too_large",
                "The request body is too large.",
            )
            .into_response()
        }
    };
    let path = parts.uri.path().to_string();
    let fingerprint = fingerprint(parts.method.as_str(), &path, &bytes);

    let now = state.clock.now_ms();
    if ANSWERED_IN_TRANSACTION.contains(&path.as_str()) {
        // The one-transaction path is tried first, without reading the key: a first request
        // claims nothing and stores its answer with its change. For a key seen before, the
        // answer's INSERT meets the unique key, the whole transaction rolls back (nothing was
        // written) and the handler says so ([`KeyTaken`]); the key's state then decides below,
        // as on any route: the stored answer, in flight, or taken over from a dead instance and
        // run the longer way, which finds what the first run made.
        let mut first = parts.clone();
        first.extensions.insert(RequestKey::new(&scope, &key));
        first.extensions.insert(AnswerInTransaction {
            scope: scope.clone(),
            key: key.clone(),
            path: path.clone(),
            fingerprint: fingerprint.clone(),
        });
        let response = next
            .clone()
            .run(Request::from_parts(first, Body::from(bytes.clone())))
            .await;
        if response.extensions().get::<KeyTaken>().is_none() {
            // Stored with its change, or an error, which is not stored.
            return response;
        }
    }
    match claim(&state, &scope, &key, &path, &fingerprint, now).await {
        Ok(Claim::Claimed) => {
            let mut parts = parts;
            parts.extensions.insert(RequestKey::new(&scope, &key));
            let response = next
                .run(Request::from_parts(parts, Body::from(bytes)))
                .await;
            finish(&state.db, &state.cipher, &scope, &key, response).await
        }
        other => answer_claim(other),
    }
}

/// Routes whose handlers make no provider call and store their answer in the transaction of
/// their change ([`AnswerInTransaction`]): a first request writes once instead of three times
/// (claim, change, answer), and a crash leaves either everything or nothing.
const ANSWERED_IN_TRANSACTION: &[&str] = &["/v1/checkout/sessions"];

/// What a handler of [`ANSWERED_IN_TRANSACTION`] stores its answer under, with
/// [`answer_insert`]; present on a keyed request's first try (a key seen before makes that
/// try end in [`key_taken`], and the request is answered from the key's state).
#[derive(Debug, Clone)]
pub struct AnswerInTransaction {
    scope: String,
    key: String,
    path: String,
    fingerprint: String,
}

impl<S: Send + Sync> axum::extract::OptionalFromRequestParts<S> for AnswerInTransaction {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        _state: &S,
    ) -> Result<Option<Self>, Self::Rejection> {
        Ok(parts.extensions.get::<AnswerInTransaction>().cloned())
    }
}

/// Marks a response whose answer was stored with its change.
#[derive(Debug, Clone, Copy)]
struct AnswerStored;

/// Marks a response saying another request with the key committed first.
#[derive(Debug, Clone, Copy)]
struct KeyTaken;

/// `body` stored as the answer to `answer`'s request: an insert to write with the change it
/// describes (`Db::insert_all`). A unique violation: another request with the key stored one
/// first (nothing of the write is kept; answer [`key_taken`]).
pub fn answer_insert(
    cipher: &DataCipher,
    answer: &AnswerInTransaction,
    status: StatusCode,
    body: &str,
    now: i64,
) -> crate::db::Insert {
    crate::db::Insert::new(
        "INSERT INTO idempotency_keys (merchant_id, idempotency_key, method, path, fingerprint, state, \
         response_status, response_body, created_at) VALUES ($1, $2, 'POST', $3, $4, 'done', $5, $6, $7)",
    )
    .text(answer.scope.clone())
    .text(answer.key.clone())
    .text(answer.path.clone())
    .text(answer.fingerprint.clone())
    .int(i64::from(status.as_u16()))
    .text(cipher.encrypt(body, RESPONSE_CONTEXT))
    .int(now)
}

/// The response for an answer stored by [`answer_insert`] (its exact bytes).
pub fn stored_answer(status: StatusCode, body: String) -> Response {
    let mut res = plain_answer(status, body);
    res.extensions_mut().insert(AnswerStored);
    res
}

/// A JSON answer with these exact bytes, not stored (a request without a key).
pub fn plain_answer(status: StatusCode, body: String) -> Response {
    let mut res = (status, body).into_response();
    res.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    res
}

/// The response of a handler that found its key answered by another request meanwhile: the
/// middleware replays that answer.
pub fn key_taken() -> Response {
    let mut res = StatusCode::CONFLICT.into_response();
    res.extensions_mut().insert(KeyTaken);
    res
}

fn in_flight() -> Response {
    let mut e = ApiError::conflict(
        "idempotency_in_flight",
        "A request with this Idempotency-Key is still being processed; retry shortly.",
    );
    e.retry_after = Some(1);
    e.into_response()
}

/// The answer to a request whose key was not claimed for it.
fn answer_claim(claim: Result<Claim, sqlx::Error>) -> Response {
    match claim {
        Err(e) => ApiError::from(e).into_response(),
        Ok(Claim::InFlight) | Ok(Claim::Claimed) => in_flight(),
        Ok(Claim::Mismatch) => ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "idempotency_key_reused",
            "This Idempotency-Key was used with a different request.",
        )
        .into_response(),
        Ok(Claim::Replay { status, body }) => replay(status, body),
        Ok(Claim::Unreadable(why)) => {
            ApiError::internal(format!("stored idempotent answer: {why}")).into_response()
        }
    }
}

fn validate_key(raw: &HeaderValue) -> Result<String, ApiError> {
    let text = raw.to_str().map_err(|_| {
        ApiError::invalid("Idempotency-Key", "Idempotency-Key must be visible ASCII.")
    })?;
    // Accept the RFC 8941 string form of the IETF draft ("...") as well as a bare token.
    let text = text
        .strip_prefix('"')
        .and_then(|t| t.strip_suffix('"'))
        .unwrap_or(text);
    if text.is_empty() || text.len() > MAX_KEY_LEN || !text.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(ApiError::invalid(
            "Idempotency-Key",
            format!("Idempotency-Key must be 1 to {MAX_KEY_LEN} visible ASCII characters."),
        ));
    }
    Ok(text.to_string())
}

/// SHA-256 of method, path and the body (JSON bodies in canonical form, so key order and
/// whitespace do not count as a different request). Public for the fuzz target.
pub fn fingerprint(method: &str, path: &str, body: &[u8]) -> String {
    let canonical = serde_json::from_slice::<serde_json::Value>(body)
        .map(|v| v.to_string().into_bytes())
        .unwrap_or_else(|_| body.to_vec());
    let mut data = Vec::with_capacity(method.len() + path.len() + canonical.len() + 2);
    data.extend_from_slice(method.as_bytes());
    data.push(b'\n');
    data.extend_from_slice(path.as_bytes());
    data.push(b'\n');
    data.extend_from_slice(&canonical);
    sha256_hex(&data)
}

async fn claim(
    state: &AppState,
    merchant_id: &str,
    key: &str,
    path: &str,
    fingerprint: &str,
    now: i64,
) -> Result<Claim, sqlx::Error> {
    let (db, instance, cipher) = (&state.db, state.instance_id.as_str(), &state.cipher);
    let inserted = sqlx::query(
        "INSERT INTO idempotency_keys (merchant_id, idempotency_key, method, path, fingerprint, state, locked_at, locked_by, created_at) \
         VALUES ($1, $2, 'POST', $3, $4, 'in_flight', $5, $6, $7) ON CONFLICT (merchant_id, idempotency_key) DO NOTHING",
    )
    .bind(merchant_id)
    .bind(key)
    .bind(path)
    .bind(fingerprint)
    .bind(now)
    .bind(instance)
    .bind(now)
    .execute(&db.pool)
    .await?;
    if inserted.rows_affected() == 1 {
        return Ok(Claim::Claimed);
    }
    let Some(row) = sqlx::query(
        "SELECT fingerprint, state, response_status, response_body, locked_at, locked_by FROM idempotency_keys \
         WHERE merchant_id = $1 AND idempotency_key = $2",
    )
    .bind(merchant_id)
    .bind(key)
    .fetch_optional(&db.pool)
    .await?
    else {
        // Released between our insert and our read: the other request failed; treat as busy so
        // the client retries and claims it cleanly.
        return Ok(Claim::InFlight);
    };
    let stored_fp: String = row.try_get("fingerprint")?;
    if stored_fp != fingerprint {
        return Ok(Claim::Mismatch);
    }
    let state: String = row.try_get("state")?;
    if state == "done" {
        let status: Option<i64> = row.try_get("response_status")?;
        let stored: Option<String> = row.try_get("response_body")?;
        let body = match stored {
            // Plaintext only if stored by a version before answers were encrypted.
            Some(stored) => cipher.decrypt_or_plain(&stored, RESPONSE_CONTEXT),
            None => Ok(String::new()),
        };
        return Ok(match body {
            Ok(body) => Claim::Replay {
                status: status.unwrap_or(500) as u16,
                body,
            },
            Err(e) => Claim::Unreadable(e.to_string()),
        });
    }
    let locked_at: Option<i64> = row.try_get("locked_at")?;
    let locked_by: Option<String> = row.try_get("locked_by")?;
    if let Some(locked_at) = locked_at {
        // The request that held it died: its lock ran out, or the instance running it stopped
        // beating (killed, crashed) while this one is alive.
        let holder_died = match &locked_by {
            Some(holder) if holder != instance => {
                crate::instances::is_dead(db, holder, now).await?
            }
            _ => false,
        };
        if locked_at < now - LOCK_TTL_MS || holder_died {
            // Take over in one statement so only one retry wins.
            let taken = sqlx::query(
                "UPDATE idempotency_keys SET locked_at = $1, locked_by = $2 WHERE merchant_id = $3 \
                 AND idempotency_key = $4 AND state = 'in_flight' AND locked_at = $5",
            )
            .bind(now)
            .bind(instance)
            .bind(merchant_id)
            .bind(key)
            .bind(locked_at)
            .execute(&db.pool)
            .await?;
            if taken.rows_affected() == 1 {
                return Ok(Claim::Claimed);
            }
        }
    }
    Ok(Claim::InFlight)
}

/// Whether an answer is final for this key (replayed) or released (the request may run again).
fn is_stored(status: StatusCode) -> bool {
    status.is_success()
        || (status.is_client_error()
            && !matches!(
                status.as_u16(),
                400 | 401 | 403 | 408 | 409 | 413 | 415 | 422 | 429
            ))
}

async fn finish(
    db: &Db,
    cipher: &DataCipher,
    merchant_id: &str,
    key: &str,
    response: Response,
) -> Response {
    let status = response.status();
    if !is_stored(status) {
        release(db, merchant_id, key).await;
        return response;
    }
    let (parts, body) = response.into_parts();
    let bytes = match to_bytes(body, 4 * 1024 * 1024).await {
        Ok(b) => b,
        Err(e) => return ApiError::internal(format!("reading response: {e}")).into_response(),
    };
    let text = String::from_utf8_lossy(&bytes).into_owned();
    if let Err(e) = sqlx::query(
        "UPDATE idempotency_keys SET state = 'done', response_status = $1, response_body = $2, locked_at = NULL \
         WHERE merchant_id = $3 AND idempotency_key = $4",
    )
    .bind(i64::from(status.as_u16()))
    .bind(cipher.encrypt(&text, RESPONSE_CONTEXT))
    .bind(merchant_id)
    .bind(key)
    .execute(&db.pool)
    .await
    {
        tracing::error!(error = %e, "could not store an idempotent response");
    }
    Response::from_parts(parts, Body::from(bytes))
}

/// Frees a key whose request ended without an answer to keep (the client may try again).
async fn release(db: &Db, merchant_id: &str, key: &str) {
    if let Err(e) =
        sqlx::query("DELETE FROM idempotency_keys WHERE merchant_id = $1 AND idempotency_key = $2")
            .bind(merchant_id)
            .bind(key)
            .execute(&db.pool)
            .await
    {
        tracing::error!(error = %e, "could not release an idempotency key");
    }
}

fn replay(status: u16, body: String) -> Response {
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let content_type = if status.is_success() {
        "application/json"
    } else {
        "application/problem+json"
    };
    let mut res = (status, body).into_response();
    res.headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    res.headers_mut()
        .insert("idempotent-replayed", HeaderValue::from_static("true"));
    res
}

/// Deletes answers older than the retention; returns how many went.
pub async fn sweep(db: &Db, now_ms: i64) -> Result<u64, sqlx::Error> {
    let done = sqlx::query("DELETE FROM idempotency_keys WHERE created_at < $1")
        .bind(now_ms - RETENTION_MS)
        .execute(&db.pool)
        .await?;
    Ok(done.rows_affected())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fingerprint_ignores_json_formatting_but_not_content() {
        let a = fingerprint("POST", "/v1/payments", br#"{"a":1,"b":"x"}"#);
        let b = fingerprint("POST", "/v1/payments", b"{ \"b\": \"x\", \"a\": 1 }");
        let c = fingerprint("POST", "/v1/payments", br#"{"a":2,"b":"x"}"#);
        let d = fingerprint("POST", "/v1/refunds", br#"{"a":1,"b":"x"}"#);
        assert_eq!(a, b);
        assert_ne!(a, c);
        assert_ne!(a, d);
    }

    #[test]
    fn keys_are_validated() {
        assert_eq!(
            validate_key(&HeaderValue::from_static("abc-123")).unwrap(),
            "abc-123"
        );
        assert_eq!(
            validate_key(&HeaderValue::from_static("\"quoted\"")).unwrap(),
            "quoted"
        );
        assert!(validate_key(&HeaderValue::from_static("")).is_err());
        assert!(validate_key(&HeaderValue::from_static("has space")).is_err());
        let long = "k".repeat(256);
        assert!(validate_key(&HeaderValue::from_str(&long).unwrap()).is_err());
        let max = "k".repeat(255);
        assert!(validate_key(&HeaderValue::from_str(&max).unwrap()).is_ok());
    }

    #[test]
    fn which_answers_are_stored() {
        assert!(is_stored(StatusCode::CREATED));
        assert!(is_stored(StatusCode::PAYMENT_REQUIRED));
        assert!(is_stored(StatusCode::NOT_FOUND));
        assert!(!is_stored(StatusCode::BAD_REQUEST));
        assert!(!is_stored(StatusCode::CONFLICT));
        assert!(!is_stored(StatusCode::INTERNAL_SERVER_ERROR));
        assert!(!is_stored(StatusCode::SERVICE_UNAVAILABLE));
    }
}
