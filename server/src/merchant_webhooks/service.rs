//! Registering and changing endpoints, for the `/v1/webhook_endpoints` routes and for code
//! inside paygate that registers its own (the sandbox demo shop), so both validate and store
//! alike.

use super::repo::{self, EndpointRecord};
use super::{signing, url, SECRET_CONTEXT};
use crate::error::{ApiError, ApiResult};
use crate::ids::new_id;
use crate::state::AppState;
use crate::validate;
use shared::api::{CreateWebhookEndpoint, UpdateWebhookEndpoint};

/// `enabled_events`: at least one; each `*`, a listed type, or `prefix.*` matching one.
pub fn validate_events(events: &[String]) -> Result<(), ApiError> {
    if events.is_empty() || events.len() > 100 {
        return Err(ApiError::invalid(
            "enabled_events",
            "enabled_events must list 1 to 100 event types.",
        ));
    }
    for pattern in events {
        let known = pattern == "*"
            || crate::events::types::is_known(pattern)
            || pattern.strip_suffix('*').is_some_and(|prefix| {
                prefix.ends_with('.')
                    && crate::events::types::CATALOG
                        .iter()
                        .any(|(kind, _, _)| kind.starts_with(prefix))
            });
        if !known {
            return Err(ApiError::invalid(
                "enabled_events",
                format!("{pattern:?} is not an event type (see GET /v1/event_types), `*` or a `prefix.*`."),
            ));
        }
    }
    Ok(())
}

/// Validates and stores a new endpoint with a fresh signing secret (kept encrypted). Returns
/// the endpoint and the secret in clear, which only the creator ever sees.
pub async fn create(
    state: &AppState,
    body: CreateWebhookEndpoint,
) -> ApiResult<(EndpointRecord, String)> {
    url::validate_endpoint(&body.url, url::Policy::of(&state.config)).await?;
    validate_events(&body.enabled_events)?;
    validate::optional_text("description", body.description.as_deref(), 500)?;
    let secret = signing::new_secret();
    let now = state.clock.now_ms();
    let record = EndpointRecord {
        id: new_id("we"),
        url: body.url,
        description: body.description,
        enabled_events: body.enabled_events,
        status: "enabled".into(),
        secret_ciphertext: state.cipher.encrypt(&secret, SECRET_CONTEXT),
        previous_secret_ciphertext: None,
        previous_secret_expires_at: None,
        failing_since: None,
        disabled_reason: None,
        created_at: now,
        updated_at: now,
    };
    repo::insert(&state.db, &record).await?;
    Ok((record, secret))
}

/// Applies what `body` gives to the endpoint `id` (404 if there is none).
pub async fn update(
    state: &AppState,
    id: &str,
    body: UpdateWebhookEndpoint,
) -> ApiResult<EndpointRecord> {
    let mut endpoint = repo::get(&state.db, id)
        .await?
        .ok_or_else(|| ApiError::not_found("webhook endpoint"))?;
    if let Some(u) = body.url {
        url::validate_endpoint(&u, url::Policy::of(&state.config)).await?;
        endpoint.url = u;
    }
    if let Some(events) = body.enabled_events {
        validate_events(&events)?;
        endpoint.enabled_events = events;
    }
    if let Some(d) = body.description {
        validate::optional_text("description", Some(&d), 500)?;
        endpoint.description = Some(d);
    }
    if let Some(status) = body.status {
        if status != "enabled" && status != "disabled" {
            return Err(ApiError::invalid(
                "status",
                "status must be enabled or disabled.",
            ));
        }
        // Enabling starts afresh (the five days of failures count again from the next one);
        // a merchant's own disabling carries no reason.
        if status == "enabled" && endpoint.status != "enabled" {
            endpoint.failing_since = None;
        }
        endpoint.disabled_reason = None;
        endpoint.status = status;
    }
    endpoint.updated_at = state.clock.now_ms();
    repo::update(&state.db, &endpoint).await?;
    Ok(endpoint)
}
