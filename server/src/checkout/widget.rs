//! The widget API: called from the browser, scoped to one session, no secret key.
//! The session id is the capability; answers reveal nothing secret.

use super::record::SessionRecord;
use super::repo;
use crate::config::Config;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use axum::extract::{Path, State};
use axum::routing::get;
use axum::Router;
use shared::api::{
    Amount, CheckoutSessionStatus, ProviderName, WidgetProvider, WidgetSavedCard, WidgetSession,
};

pub fn router() -> Router<AppState> {
    Router::new().route("/checkout/api/sessions/{id}", get(get_widget_session))
}

/// The checkout session a widget route names, counted against its own rate limit. Only sessions
/// that exist are counted, under their stored id, so no spelling of the path (percent-encoded
/// or not) gets a fresh bucket and unknown ids take no room in the limiter.
pub async fn widget_session(state: &AppState, id: &str) -> Result<SessionRecord, ApiError> {
    let record = repo::get(&state.db, id)
        .await?
        .ok_or_else(|| ApiError::not_found("checkout session"))?;
    state.rate_limits.check_session(&record.id).await?;
    Ok(record)
}

pub async fn get_widget_session(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> ApiResult<axum::Json<WidgetSession>> {
    let record = widget_session(&state, &id).await?;
    let total = Amount::from(record.money);
    Ok(axum::Json(WidgetSession {
        id: record.id.clone(),
        merchant_name: state.config.merchant_name.clone(),
        description: record.description.clone(),
        amount: total.amount,
        currency: total.currency,
        amount_minor: total.amount_minor,
        line_items: record.line_items.clone(),
        status: record.effective_status(state.clock.now_ms()),
        providers: record
            .providers
            .iter()
            .map(|p| widget_provider(&state.config, *p))
            .collect(),
        expires_at: record.expires_at.div_euclid(1000),
        success_url: record.success_url.clone(),
        cancel_url: record.cancel_url.clone(),
        capture_mode: record.capture_mode,
        save_payment_method: record.save_payment_method,
        saved_cards: saved_cards(&state, &record).await?,
        setup: record.mode == shared::api::CheckoutMode::Setup,
    }))
}

/// The session's customer's saved cards, masked (only while the session can be paid: a
/// completed or expired session's page shows no one's cards).
async fn saved_cards(
    state: &AppState,
    record: &SessionRecord,
) -> Result<Vec<WidgetSavedCard>, ApiError> {
    let Some(customer) = &record.customer_id else {
        return Ok(Vec::new());
    };
    // A session that only saves a card offers the card form alone: there is nothing to pay
    // with a saved card.
    if record.effective_status(state.clock.now_ms()) != CheckoutSessionStatus::Open
        || !record.providers.contains(&ProviderName::Stripe)
        || record.mode == shared::api::CheckoutMode::Setup
    {
        return Ok(Vec::new());
    }
    use crate::customers::payment_methods::repo;
    let cards = repo::list_usable(&state.db, customer, repo::LIST_LIMIT).await?;
    Ok(cards
        .into_iter()
        .map(|c| WidgetSavedCard {
            label: c.label(),
            id: c.id,
        })
        .collect())
}

/// Only public values: the publishable key / client id and the script URL.
fn widget_provider(config: &Config, provider: ProviderName) -> WidgetProvider {
    match provider {
        ProviderName::Stripe => WidgetProvider {
            provider,
            public_key: config.stripe.publishable_key.clone().unwrap_or_default(),
            script_url: config.stripe.js_url.clone(),
        },
        ProviderName::Paypal => WidgetProvider {
            provider,
            public_key: config.paypal.client_id.clone().unwrap_or_default(),
            script_url: config.paypal.sdk_url.clone(),
        },
    }
}
