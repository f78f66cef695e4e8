//! The widget's payment routes (DESIGN.md §3): scoped to one checkout session, no secret key.
//! The amount always comes from the session the merchant opened, never from the browser; the
//! outcome always comes from the provider, re-read by the server.

use super::record::SessionRecord;
use super::{repo, settle};
use crate::error::{ApiError, ApiResult};
use crate::payments::actions::{self, Action};
use crate::payments::repo as payments_repo;
use crate::payments::repo::{SessionPayment, Update};
use crate::payments::{service, Cause, PaymentRecord};
use crate::state::AppState;
use axum::extract::{Path, State};
use axum::routing::post;
use axum::Router;
use shared::api::{
    CaptureMode, CheckoutSessionStatus, CreatePayment, PaymentStatus, ProviderName, WidgetOutcome,
    WidgetPaypalOrder, WidgetStripeIntent,
};

pub fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/checkout/api/sessions/{id}/stripe/intent",
            post(stripe_intent),
        )
        .route(
            "/checkout/api/sessions/{id}/stripe/complete",
            post(stripe_complete),
        )
        .route(
            "/checkout/api/sessions/{id}/paypal/orders",
            post(paypal_order),
        )
        .route(
            "/checkout/api/sessions/{id}/paypal/orders/{order_id}/capture",
            post(paypal_capture),
        )
}

/// The session, if it still accepts payments through `provider`.
async fn open_session(
    state: &AppState,
    id: &str,
    provider: ProviderName,
) -> Result<SessionRecord, ApiError> {
    let session = repo::get(&state.db, id)
        .await?
        .ok_or_else(|| ApiError::not_found("checkout session"))?;
    match session.effective_status(state.clock.now_ms()) {
        CheckoutSessionStatus::Complete => Err(ApiError::conflict(
            "session_complete",
            "This checkout has already been paid.",
        )),
        CheckoutSessionStatus::Expired => Err(ApiError::conflict(
            "session_expired",
            "This checkout has expired.",
        )),
        CheckoutSessionStatus::Open if !session.providers.contains(&provider) => {
            Err(ApiError::bad_request(
                "provider_not_available",
                format!(
                    "{} is not offered for this checkout.",
                    provider.display_name()
                ),
            ))
        }
        CheckoutSessionStatus::Open => Ok(session),
    }
}

/// The session's newest payment through `provider` that can still be paid.
async fn open_payment(
    state: &AppState,
    session_id: &str,
    provider: ProviderName,
) -> Result<Option<PaymentRecord>, ApiError> {
    Ok(
        payments_repo::find_for_session(&state.db, session_id, provider, SessionPayment::Open)
            .await?,
    )
}

async fn new_payment(
    state: &AppState,
    session: &SessionRecord,
    provider: ProviderName,
) -> Result<PaymentRecord, ApiError> {
    let mut metadata = session.metadata.clone();
    metadata.insert("checkout_session".into(), session.id.clone());
    let body = CreatePayment {
        provider,
        amount: session.money.to_decimal_string(),
        currency: session.money.currency().code().to_string(),
        description: session.description.clone(),
        customer: None,
        metadata,
        capture_mode: session.capture_mode,
        return_url: Some(format!(
            "{}/checkout/{}",
            state.config.public_url, session.id
        )),
    };
    service::create(state, body, Some(session.id.clone())).await
}

async fn stripe_intent(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> ApiResult<axum::Json<WidgetStripeIntent>> {
    let session = open_session(&state, &id, ProviderName::Stripe).await?;
    let payment = match open_payment(&state, &session.id, ProviderName::Stripe).await? {
        Some(p) => p,
        None => new_payment(&state, &session, ProviderName::Stripe).await?,
    };
    let provider = state
        .providers
        .get(ProviderName::Stripe)
        .cloned()
        .ok_or_else(|| {
            ApiError::unavailable(
                "provider_unavailable",
                "Card payments are not available right now.",
            )
        })?;
    let reference = payment
        .provider_reference
        .clone()
        .ok_or_else(|| ApiError::internal("payment without reference"))?;
    let pi = provider.retrieve_payment(&reference).await?;
    let client_secret = pi
        .client_secret
        .ok_or_else(|| ApiError::internal("PaymentIntent without client secret"))?;
    Ok(axum::Json(WidgetStripeIntent {
        client_secret,
        payment: payment.id,
    }))
}

/// Re-reads the provider's state of `payment`, records it, and settles the session.
async fn outcome(
    state: &AppState,
    session_id: &str,
    payment: PaymentRecord,
) -> Result<WidgetOutcome, ApiError> {
    let provider = state
        .providers
        .get(payment.provider)
        .cloned()
        .ok_or_else(|| {
            ApiError::unavailable(
                "provider_unavailable",
                "The payment provider is not available right now.",
            )
        })?;
    let reference = payment
        .provider_reference
        .clone()
        .ok_or_else(|| ApiError::internal("payment without reference"))?;
    let fresh = provider.retrieve_payment(&reference).await?;
    let mut tx = state.db.begin_write().await?;
    let current = payments_repo::get_locked(&state.db, &mut tx, &payment.id)
        .await?
        .ok_or_else(|| ApiError::internal("payment row vanished"))?;
    let (_, updated) = payments_repo::apply_update(
        &mut tx,
        &current,
        Update::from(fresh),
        Cause::Widget,
        serde_json::json!({ "operation": "widget_complete" }),
        state.clock.now_ms(),
    )
    .await?;
    tx.commit().await?;
    let session = settle::settle(state, session_id, &updated).await?;
    Ok(WidgetOutcome {
        session,
        payment_status: updated.status,
        message: updated
            .last_error
            .as_ref()
            .filter(|_| !settle::pays(&updated))
            .map(|e| e.message.clone()),
        payment: updated.id,
    })
}

async fn stripe_complete(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> ApiResult<axum::Json<WidgetOutcome>> {
    let session = repo::get(&state.db, &id)
        .await?
        .ok_or_else(|| ApiError::not_found("checkout session"))?;
    let payment = payments_repo::find_for_session(
        &state.db,
        &session.id,
        ProviderName::Stripe,
        SessionPayment::Latest,
    )
    .await?
    .ok_or_else(|| {
        ApiError::conflict(
            "no_payment",
            "No card payment was started for this checkout.",
        )
    })?;
    Ok(axum::Json(outcome(&state, &session.id, payment).await?))
}

async fn paypal_order(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> ApiResult<axum::Json<WidgetPaypalOrder>> {
    let session = open_session(&state, &id, ProviderName::Paypal).await?;
    // A new order each time the buyer opens PayPal: an approval window that was closed cannot be
    // resumed, and unapproved orders expire by themselves at PayPal.
    let payment = new_payment(&state, &session, ProviderName::Paypal).await?;
    let order_id = payment
        .provider_reference
        .clone()
        .ok_or_else(|| ApiError::internal("payment without reference"))?;
    Ok(axum::Json(WidgetPaypalOrder {
        order_id,
        payment: payment.id,
    }))
}

async fn paypal_capture(
    State(state): State<AppState>,
    Path((id, order_id)): Path<(String, String)>,
) -> ApiResult<axum::Json<WidgetOutcome>> {
    let session = open_session(&state, &id, ProviderName::Paypal).await?;
    let payment = payments_repo::find_for_session(
        &state.db,
        &session.id,
        ProviderName::Paypal,
        SessionPayment::Reference(&order_id),
    )
    .await?
    .ok_or_else(|| ApiError::not_found("PayPal order for this checkout"))?;
    // The server checks the approval itself; the browser's onApprove is only a hint.
    let fresh = outcome(&state, &session.id, payment.clone()).await?;
    if fresh.payment_status != PaymentStatus::RequiresConfirmation {
        return Ok(axum::Json(fresh));
    }
    let action = match session.capture_mode {
        CaptureMode::Automatic => Action::Capture { amount: None },
        CaptureMode::Manual => Action::Authorize,
    };
    let done = actions::run(&state, &payment.id, action, Cause::Widget).await?;
    let status = settle::settle(&state, &session.id, &done).await?;
    Ok(axum::Json(WidgetOutcome {
        session: status,
        payment_status: done.status,
        message: done
            .last_error
            .as_ref()
            .filter(|_| !settle::pays(&done))
            .map(|e| e.message.clone()),
        payment: done.id,
    }))
}
