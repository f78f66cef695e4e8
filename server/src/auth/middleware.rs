use super::keys::MERCHANT_ID;
use crate::crypto::sha256_hex;
use crate::error::ApiError;
use crate::state::AppState;
use axum::extract::{FromRequestParts, Request, State};
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use axum::middleware::Next;
use axum::response::Response;
use sqlx::Row;
use subtle::ConstantTimeEq;

/// The authenticated caller of the merchant API.
#[derive(Debug, Clone)]
pub struct Merchant {
    pub merchant_id: String,
    pub api_key_id: String,
}

/// Middleware: resolves the bearer key to a [`Merchant`] (stored in the request extensions) or
/// answers 401 with the error envelope.
pub async fn require_merchant(
    State(state): State<AppState>,
    mut request: Request,
    next: Next,
) -> Result<Response, ApiError> {
    let merchant = authenticate(&state, request.headers().get(AUTHORIZATION)).await?;
    request.extensions_mut().insert(merchant);
    Ok(next.run(request).await)
}

async fn authenticate(
    state: &AppState,
    header: Option<&axum::http::HeaderValue>,
) -> Result<Merchant, ApiError> {
    let header = header.ok_or_else(|| {
        ApiError::unauthorized("Missing API key: send Authorization: Bearer <secret key>.")
    })?;
    let key = header
        .to_str()
        .ok()
        .and_then(|h| h.strip_prefix("Bearer "))
        .map(str::trim)
        .filter(|k| !k.is_empty())
        .ok_or_else(|| {
            ApiError::unauthorized("Malformed Authorization header: expected Bearer <secret key>.")
        })?;
    let presented = sha256_hex(key.as_bytes());

    if let Some(dev) = &state.dev_key_hash {
        if bool::from(dev.as_bytes().ct_eq(presented.as_bytes())) {
            return Ok(Merchant {
                merchant_id: MERCHANT_ID.to_string(),
                api_key_id: "key_dev".to_string(),
            });
        }
    }

    let row = sqlx::query(
        "SELECT id, merchant_id, key_hash FROM api_keys WHERE key_hash = $1 AND revoked_at IS NULL",
    )
    .bind(&presented)
    .fetch_optional(&state.db.pool)
    .await?;
    match row {
        Some(row) => {
            let stored: String = row.try_get("key_hash")?;
            if bool::from(stored.as_bytes().ct_eq(presented.as_bytes())) {
                Ok(Merchant {
                    merchant_id: row.try_get("merchant_id")?,
                    api_key_id: row.try_get("id")?,
                })
            } else {
                Err(ApiError::unauthorized("Invalid API key."))
            }
        }
        None => Err(ApiError::unauthorized("Invalid API key.")),
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Merchant {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        parts
            .extensions
            .get::<Merchant>()
            .cloned()
            .ok_or_else(|| ApiError::unauthorized("Missing API key."))
    }
}
