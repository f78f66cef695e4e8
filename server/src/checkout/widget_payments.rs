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
    CaptureMode, CheckoutMode, CheckoutSessionStatus, PaymentStatus, ProviderName,
    SavePaymentMethod, WidgetOutcome, WidgetPaypalOrder, WidgetSaveChoice, WidgetStripeIntent,
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
        .route("/checkout/api/sessions/{id}/stripe/save", post(stripe_save))
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
    let session = super::widget::widget_session(state, id).await?;
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

/// The session's next payment through `provider`. A creation whose answer never came (the
/// instance that asked was killed, or the provider's answer was lost) is resumed under its own
/// id, so the provider is asked with the same idempotency key or the object is found by
/// paygate's id: a retry of the widget's request never makes a second PaymentIntent or order
/// (while that creation may still be under way, the retry is asked to wait: 409
/// `payment_in_progress`). Otherwise a new payment, within the session's cap.
async fn start_or_resume(
    state: &AppState,
    session: &SessionRecord,
    provider: ProviderName,
) -> Result<Created, ApiError> {
    let unanswered = payments_repo::find_for_session(
        &state.db,
        &session.id,
        provider,
        SessionPayment::Unanswered,
    )
    .await?;
    if let Some(lost) = unanswered {
        // Its creation may still be under way in another request: asked again now, the
        // provider would only answer that the key is in use. After two provider time limits
        // it has ended one way or the other, and is resumed.
        let settle_ms = (state.config.provider_timeout * 2).as_millis() as i64;
        if state.clock.now_ms() - lost.created_at < settle_ms {
            let mut e = ApiError::conflict(
                "payment_in_progress",
                "A payment for this checkout is being started; retry in a moment.",
            );
            e.retry_after = Some(1);
            return Err(e);
        }
        return new_payment(state, session, provider, Some(lost.id)).await;
    }
    check_attempts(state, session).await?;
    new_payment(state, session, provider, None).await
}

async fn new_payment(
    state: &AppState,
    session: &SessionRecord,
    provider: ProviderName,
    id: Option<String>,
) -> Result<Created, ApiError> {
    let mut metadata = session.metadata.clone();
    metadata.insert(
        crate::validate::SESSION_METADATA_KEY.into(),
        session.id.clone(),
    );
    service::create(
        state,
        NewPayment {
            provider,
            money: session.money,
            capture_mode: session.capture_mode,
            description: session.description.clone(),
            customer: session.customer_id.clone(),
            metadata,
            return_url: Some(format!(
                "{}/checkout/{}",
                state.config.public_url, session.id
            )),
            checkout_session: Some(session.id.clone()),
            payment_link: session.payment_link_id.clone(),
            payment_method: None,
            cause: Cause::Widget,
            id,
        },
    )
    .await
}

async fn stripe_intent(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> ApiResult<axum::Json<WidgetStripeIntent>> {
    let session = open_session(&state, &id, ProviderName::Stripe).await?;
    if session.mode == CheckoutMode::Setup {
        return Ok(axum::Json(super::setup::intent(&state, &session).await?));
    }
    let (payment, client_secret) =
        match open_payment(&state, &session.id, ProviderName::Stripe).await? {
            // The customer reloaded the page: the open PaymentIntent's secret is read again
            // (paygate does not store it).
            Some(payment) => {
                let secret = client_secret_of(&state, &payment).await?;
                (payment, secret)
            }
            None => {
                let created = start_or_resume(&state, &session, ProviderName::Stripe).await?;
                match created.client_secret {
                    Some(secret) => (created.payment, Some(secret)),
                    // Resumed after another request recorded the PaymentIntent meanwhile.
                    None => {
                        let secret = client_secret_of(&state, &created.payment).await?;
                        (created.payment, secret)
                    }
                }
            }
        };
    let client_secret =
        client_secret.ok_or_else(|| ApiError::internal("PaymentIntent without client secret"))?;
    Ok(axum::Json(WidgetStripeIntent {
        client_secret,
        payment: payment.id,
    }))
}

/// A PaymentIntent's client secret, read from Stripe (paygate does not store it).
async fn client_secret_of(
    state: &AppState,
    payment: &PaymentRecord,
) -> Result<Option<String>, ApiError> {
    let reference = payment
        .provider_reference
        .clone()
        .ok_or_else(|| ApiError::internal("payment without reference"))?;
    let provider = state.providers.require(ProviderName::Stripe)?;
    Ok(provider.retrieve_payment(&reference).await?.client_secret)
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
/// With the payment method the provider reported (a card the checkout may have saved).
async fn outcome(
    state: &AppState,
    session_id: &str,
    payment: PaymentRecord,
) -> Result<(WidgetOutcome, Option<String>), ApiError> {
    let (applied, payment_method) =
        lifecycle::refresh_read(state, &payment, Cause::Widget, "widget_complete").await?;
    let session = match applied.session {
        Some(status) => status,
        None => session_status(state, session_id).await?,
    };
    Ok((widget_outcome(applied.payment, session), payment_method))
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
    let session = super::widget::widget_session(&state, &id).await?;
    if session.mode == CheckoutMode::Setup {
        return Ok(axum::Json(super::setup::complete(&state, &session).await?));
    }
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
    // A payment that ended, or already pays for the session, has nothing more to tell the
    // widget: answered from the record, without a provider call or a write (the widget asks
    // again after every reload, and anyone may ask without end).
    if payment.status.is_terminal() || lifecycle::pays_for_session(&payment) {
        // Read after the payment: the change that settled the payment completed its session in
        // the same transaction, so this read cannot be older than the payment's.
        let status = session_status(&state, &session.id).await?;
        return Ok(axum::Json(widget_outcome(payment, status)));
    }
    let (answer, payment_method) = outcome(&state, &session.id, payment).await?;
    if let (CheckoutSessionStatus::Complete, Some(pm)) = (answer.session, &payment_method) {
        record_saved_card(&state, &session, &answer.payment, pm).await;
    }
    Ok(axum::Json(answer))
}

/// The card a customer's session was paid with, recorded as saved if Stripe attached it to them
/// (Stripe's `payment_method.attached` event would record it too, a moment later). A failure
/// here is only logged: the payment is done, and the event still comes.
async fn record_saved_card(
    state: &AppState,
    session: &SessionRecord,
    payment_id: &str,
    payment_method: &str,
) {
    let (Some(customer), Some(_)) = (&session.customer_id, session.save_payment_method) else {
        return;
    };
    let recorded =
        crate::customers::payment_methods::record_from_payment(state, customer, payment_method);
    if let Err(e) = recorded.await {
        tracing::warn!(payment = %payment_id, error = %e, "could not record the saved card now; Stripe's event will");
    }
}

/// The customer's answer to "save this card" (sessions with `save_payment_method: optional`),
/// set on the open PaymentIntent before the widget confirms it.
async fn stripe_save(
    State(state): State<AppState>,
    Path(id): Path<String>,
    crate::http::extract::Json(choice): crate::http::extract::Json<WidgetSaveChoice>,
) -> ApiResult<axum::Json<WidgetSaveChoice>> {
    let session = open_session(&state, &id, ProviderName::Stripe).await?;
    if session.save_payment_method != Some(SavePaymentMethod::Optional) {
        return Err(ApiError::bad_request(
            "save_not_offered",
            "This checkout does not offer to save the card.",
        ));
    }
    let payment = open_payment(&state, &session.id, ProviderName::Stripe)
        .await?
        .ok_or_else(|| {
            ApiError::conflict(
                "no_payment",
                "No card payment was started for this checkout.",
            )
        })?;
    let reference = payment
        .provider_reference
        .clone()
        .ok_or_else(|| ApiError::internal("payment without reference"))?;
    let stripe = state.providers.require_stripe("Saved payment methods")?;
    // A key of this request (its retries resend it): the customer may tick, untick and tick
    // again, and each answer is a change of its own.
    let request = format!("{}-save-{}", payment.id, crate::ids::new_id("req"));
    stripe
        .set_save_card(&request, &reference, choice.save)
        .await?;
    Ok(axum::Json(choice))
}

/// Payments one checkout session may start (through any provider): a customer retries a few
/// times at most; beyond this, someone is making provider objects on paygate's account.
pub const MAX_PAYMENTS_PER_SESSION: i64 = 10;

/// An unapproved PayPal order is handed out again for this long. PayPal lets a buyer approve an
/// order for 3 hours after its creation ("Orders expire ... 3 hours", Orders v2 `create`), so
/// a window closed without approving can be reopened on the same order well within that.
pub const REUSE_PAYPAL_ORDER_MS: i64 = 2 * 60 * 60 * 1000;

/// Takes one of the session's [`MAX_PAYMENTS_PER_SESSION`] payment attempts, or refuses: one
/// conditional UPDATE, so parallel requests cannot all pass the cap.
async fn check_attempts(state: &AppState, session: &SessionRecord) -> Result<(), ApiError> {
    if !repo::take_payment_attempt(&state.db, &session.id, MAX_PAYMENTS_PER_SESSION).await? {
        return Err(ApiError::conflict(
            "too_many_attempts",
            "This checkout has had too many payment attempts. Ask the shop for a new one.",
        ));
    }
    Ok(())
}

async fn paypal_order(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> ApiResult<axum::Json<WidgetPaypalOrder>> {
    let session = open_session(&state, &id, ProviderName::Paypal).await?;
    // The buyer opened PayPal before and closed the window without approving: that order is
    // still good. After a decline or an approval, a new order is made (the old one's funding
    // cannot be changed), within the session's cap.
    let reusable = open_payment(&state, &session.id, ProviderName::Paypal)
        .await?
        .filter(|p| {
            p.status == PaymentStatus::RequiresAction
                && p.last_error.is_none()
                && state.clock.now_ms() - p.created_at < REUSE_PAYPAL_ORDER_MS
        });
    let payment = match reusable {
        Some(payment) => payment,
        None => {
            start_or_resume(&state, &session, ProviderName::Paypal)
                .await?
                .payment
        }
    };
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
    let (fresh, _) = outcome(&state, &session.id, payment.clone()).await?;
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
