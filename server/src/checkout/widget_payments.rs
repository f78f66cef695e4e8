//! The widget's payment routes: scoped to one checkout session, no secret key.
//! The amount always comes from the session the merchant opened, never from the browser; the
//! outcome always comes from the provider, re-read by the server.

use super::record::SessionRecord;
use super::repo;
use crate::error::{ApiError, ApiResult};
use crate::payments::actions::{self, Action};
use crate::payments::lifecycle;
use crate::payments::repo as payments_repo;
use crate::payments::repo::SessionPayment;
use crate::payments::service::{self, Created, NewPayment};
use crate::payments::{Cause, PaymentRecord};
use crate::state::AppState;
use axum::extract::{Path, State};
use axum::routing::post;
use axum::Router;
use shared::api::{
    CaptureMode, CheckoutSessionStatus, PaymentStatus, ProviderName, WidgetOutcome,
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
) -> Result<Created, ApiError> {
    let mut metadata = session.metadata.clone();
    metadata.insert("checkout_session".into(), session.id.clone());
    service::create(
        state,
        NewPayment {
            provider,
            money: session.money,
            capture_mode: session.capture_mode,
            description: session.description.clone(),
            customer: None,
            metadata,
            return_url: Some(format!(
                "{}/checkout/{}",
                state.config.public_url, session.id
            )),
            checkout_session: Some(session.id.clone()),
            cause: Cause::Widget,
            id: None,
        },
    )
    .await
}

async fn stripe_intent(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> ApiResult<axum::Json<WidgetStripeIntent>> {
    let session = open_session(&state, &id, ProviderName::Stripe).await?;
    let (payment, client_secret) =
        match open_payment(&state, &session.id, ProviderName::Stripe).await? {
            // The customer reloaded the page: the open PaymentIntent's secret is read again
            // (paygate does not store it).
            Some(payment) => {
                let reference = payment
                    .provider_reference
                    .clone()
                    .ok_or_else(|| ApiError::internal("payment without reference"))?;
                let provider = state.providers.require(ProviderName::Stripe)?;
                let pi = provider.retrieve_payment(&reference).await?;
                (payment, pi.client_secret)
            }
            None => {
                let created = new_payment(&state, &session, ProviderName::Stripe).await?;
                (created.payment, created.client_secret)
            }
        };
    let client_secret =
        client_secret.ok_or_else(|| ApiError::internal("PaymentIntent without client secret"))?;
    Ok(axum::Json(WidgetStripeIntent {
        client_secret,
        payment: payment.id,
    }))
}

/// What the widget shows after a payment attempt.
fn widget_outcome(payment: PaymentRecord, session: CheckoutSessionStatus) -> WidgetOutcome {
    WidgetOutcome {
        session,
        payment_status: payment.status,
        message: payment
            .last_error
            .as_ref()
            .filter(|_| !lifecycle::pays_for_session(&payment))
            .map(|e| e.message.clone()),
        payment: payment.id,
    }
}

/// Re-reads the provider's state of `payment` and records it (which settles the session).
async fn outcome(
    state: &AppState,
    session_id: &str,
    payment: PaymentRecord,
) -> Result<WidgetOutcome, ApiError> {
    let applied = lifecycle::refresh(state, &payment, Cause::Widget, "widget_complete").await?;
    let session = match applied.session {
        Some(status) => status,
        None => session_status(state, session_id).await?,
    };
    Ok(widget_outcome(applied.payment, session))
}

async fn session_status(
    state: &AppState,
    session_id: &str,
) -> Result<CheckoutSessionStatus, ApiError> {
    Ok(repo::get(&state.db, session_id)
        .await?
        .ok_or_else(|| ApiError::not_found("checkout session"))?
        .effective_status(state.clock.now_ms()))
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
    let payment = new_payment(&state, &session, ProviderName::Paypal)
        .await?
        .payment;
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
    // The action records the answer through the one path, which settles the session.
    let done = actions::run(&state, &payment.id, action, Cause::Widget).await?;
    let status = session_status(&state, &session.id).await?;
    Ok(axum::Json(widget_outcome(done, status)))
}
