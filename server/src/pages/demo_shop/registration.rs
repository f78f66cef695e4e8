//! The shop's webhook endpoint, registered once at start-up in sandbox mode through the same
//! service as `POST /v1/webhook_endpoints`. Its signing secret is shown only in the creation's
//! answer, so the shop keeps it, as a merchant would in its own configuration: a `settings`
//! row holding the endpoint's id and the secret encrypted with the data key.
//!
//! A restart finds the row and registers nothing; only the URL is brought up to date when
//! `PAYGATE_PUBLIC_URL` changed. If the endpoint was deleted through the API, a new one is
//! registered. (If its secret is rotated through the API, the shop still holds the old one and
//! refuses deliveries once the day of overlap ends: delete the endpoint and restart.)

use super::{ENABLED_EVENTS, ENDPOINT_DESCRIPTION, WEBHOOK_PATH};
use crate::config::Mode;
use crate::crypto::{CryptoError, DataCipher};
use crate::error::ApiError;
use crate::merchant_webhooks::{repo, service};
use crate::state::AppState;
use serde::{Deserialize, Serialize};
use shared::api::{CreateWebhookEndpoint, UpdateWebhookEndpoint};

/// The `settings` row (named in `key_rotation`, which re-encrypts its secret).
pub const SETTINGS_KEY: &str = "demo_shop.webhook_endpoint";
/// Associated data of the encrypted secret: it decrypts only as this row's.
const SECRET_CONTEXT: &str = "settings.demo_shop.webhook_secret";

/// The `settings` row's value.
#[derive(Serialize, Deserialize)]
struct Saved {
    endpoint: String,
    secret_ciphertext: String,
}

/// Start-up: makes sure the shop's endpoint exists (sandbox mode only). A failure is logged and
/// does not stop paygate: only the demo's orders would wait for their confirmation.
pub async fn register(state: &AppState) {
    if state.config.mode != Mode::Sandbox {
        return;
    }
    if let Err(e) = ensure_endpoint(state).await {
        tracing::error!(error = %e, "the demo shop could not register its webhook endpoint");
    }
}

fn webhook_url(state: &AppState) -> String {
    format!(
        "{}{WEBHOOK_PATH}",
        state.config.public_url.trim_end_matches('/')
    )
}

async fn ensure_endpoint(state: &AppState) -> Result<(), ApiError> {
    let url = webhook_url(state);
    if let Some((saved, raw)) = load(state).await? {
        match repo::get(&state.db, &saved.endpoint).await? {
            Some(endpoint) if endpoint.url == url => return Ok(()),
            Some(endpoint) => {
                let change = UpdateWebhookEndpoint {
                    url: Some(url),
                    ..UpdateWebhookEndpoint::default()
                };
                service::update(state, &endpoint.id, change).await?;
                return Ok(());
            }
            // Deleted through the API: forget it (unless another instance already replaced
            // it) and register anew.
            None => {
                sqlx::query("DELETE FROM settings WHERE key = $1 AND value = $2")
                    .bind(SETTINGS_KEY)
                    .bind(raw)
                    .execute(&state.db.pool)
                    .await?;
            }
        }
    }
    let (endpoint, secret) = service::create(
        state,
        CreateWebhookEndpoint {
            url,
            enabled_events: ENABLED_EVENTS.iter().map(|e| e.to_string()).collect(),
            description: Some(ENDPOINT_DESCRIPTION.to_string()),
        },
    )
    .await?;
    let saved = Saved {
        endpoint: endpoint.id.clone(),
        secret_ciphertext: state.cipher.encrypt(&secret, SECRET_CONTEXT),
    };
    let value = serde_json::to_string(&saved).expect("the saved endpoint serialises");
    let stored = sqlx::query(
        "INSERT INTO settings (key, value) VALUES ($1, $2) ON CONFLICT (key) DO NOTHING",
    )
    .bind(SETTINGS_KEY)
    .bind(value)
    .execute(&state.db.pool)
    .await?
    .rows_affected();
    if stored == 0 {
        // Another instance starting on the same database registered first; keep only its
        // endpoint, or every event would be delivered to the shop twice.
        repo::delete(&state.db, &endpoint.id).await?;
    } else {
        tracing::info!(endpoint = %endpoint.id, url = %endpoint.url, "the demo shop registered its webhook endpoint");
    }
    Ok(())
}

/// The saved row, and its raw value (to delete exactly that one).
async fn load(state: &AppState) -> Result<Option<(Saved, String)>, ApiError> {
    let raw: Option<String> = sqlx::query_scalar("SELECT value FROM settings WHERE key = $1")
        .bind(SETTINGS_KEY)
        .fetch_optional(&state.db.pool)
        .await?;
    let Some(raw) = raw else {
        return Ok(None);
    };
    let saved = serde_json::from_str(&raw)
        .map_err(|e| ApiError::internal(format!("settings.{SETTINGS_KEY}: {e}")))?;
    Ok(Some((saved, raw)))
}

/// The shop's endpoint id and signing secret, if it registered one.
pub async fn endpoint_and_secret(state: &AppState) -> Result<Option<(String, String)>, ApiError> {
    let Some((saved, _)) = load(state).await? else {
        return Ok(None);
    };
    let secret = state
        .cipher
        .decrypt(&saved.secret_ciphertext, SECRET_CONTEXT)
        .map_err(|e| ApiError::internal(format!("the demo shop's webhook secret: {e}")))?;
    Ok(Some((saved.endpoint, secret)))
}

/// For `paygate keys rotate-data-key`: the settings row's value with its secret under the
/// current data key, or None when it already is.
pub fn reseal(cipher: &DataCipher, raw: &str) -> Result<Option<String>, CryptoError> {
    let mut saved: Saved = serde_json::from_str(raw).map_err(|_| CryptoError::Malformed)?;
    if cipher.is_current(&saved.secret_ciphertext) {
        return Ok(None);
    }
    let secret = cipher.decrypt(&saved.secret_ciphertext, SECRET_CONTEXT)?;
    saved.secret_ciphertext = cipher.encrypt(&secret, SECRET_CONTEXT);
    Ok(Some(
        serde_json::to_string(&saved).expect("the saved endpoint serialises"),
    ))
}
