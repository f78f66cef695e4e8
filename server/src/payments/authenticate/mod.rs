//! The page where a customer authenticates an off-session charge (`/authenticate/{payment}`).
//!
//! A saved card charged without its customer (`POST /v1/payments` with `off_session`) may meet
//! a bank that wants the customer to authenticate (Stripe's `authentication_required`; the
//! PaymentIntent is left waiting for a payment method). The payment then stays open as
//! `requires_action` with a `next_action` of type `authenticate` whose `url` is this page: the
//! merchant sends it to the customer (the `payment.requires_action` event carries it). On the
//! page the customer confirms the same PaymentIntent with the same card through Stripe.js,
//! which runs the bank's 3-D Secure challenge (docs.stripe.com/payments/save-and-reuse: "bring
//! the customer back ... confirm the PaymentIntent with the payment method"); paygate then
//! reads the outcome from Stripe, as for every payment.
//!
//! The URL carries a capability (`t`, a keyed tag of the payment id, `DataCipher::capability`):
//! payment ids appear in events and logs, and only the link paygate handed out opens the page.

pub mod page;

use super::repo::{self, Update};
use super::{lifecycle, Cause, PaymentRecord};
use crate::error::{ApiError, ApiResult};
use crate::http::extract::Query;
use crate::http::rate_limit::limit_widget;
use crate::providers::stripe::objects::AUTHENTICATE;
use crate::state::AppState;
use axum::extract::{Path, State};
use axum::middleware::from_fn_with_state;
use axum::routing::{get, post};
use axum::Router;
use serde::{Deserialize, Serialize};
use shared::api::{NextAction, PaymentStatus, ProviderName};

/// The capability's purpose (`DataCipher::capability`).
const PURPOSE: &str = "authenticate-payment";

pub fn router(state: &AppState) -> Router<AppState> {
    Router::new()
        .route("/authenticate/{id}", get(page::show))
        .route("/authenticate/{id}/start", post(start))
        .route("/authenticate/{id}/complete", post(complete))
        .route_layer(from_fn_with_state(state.clone(), limit_widget))
        .route("/assets/authenticate.js", get(page::script))
}

/// The page's address for `payment_id`.
pub fn url(state: &AppState, payment_id: &str) -> String {
    format!(
        "{}/authenticate/{payment_id}?t={}",
        state.config.public_url,
        state.cipher.capability(PURPOSE, payment_id)
    )
}

/// `update` of an off-session charge with this page as its `next_action` whenever the charge
/// waits for its customer: the provider layer knows the customer must come back, not where
/// paygate serves the page; and once the customer has started the bank's challenge Stripe's
/// own next action (for Stripe.js on this page) would hide the link from the merchant.
pub fn with_page_url(state: &AppState, current: &PaymentRecord, mut update: Update) -> Update {
    let off_session = current.payment_method_id.is_some() && current.checkout_session_id.is_none();
    let waits = update.status.unwrap_or(current.status) == PaymentStatus::RequiresAction;
    if off_session && waits && update.next_action.as_ref().is_some_and(Option::is_some) {
        update.next_action = Some(Some(NextAction {
            kind: AUTHENTICATE.into(),
            url: Some(url(state, &current.id)),
        }));
    }
    update
}

#[derive(Debug, Deserialize)]
pub struct Capability {
    #[serde(default)]
    t: String,
}

/// The off-session payment a link names, if paygate handed out that link; 404 otherwise (the
/// same answer for an unknown payment and a wrong token, so the page reveals nothing).
async fn authorized(state: &AppState, id: &str, token: &str) -> Result<PaymentRecord, ApiError> {
    let not_found = || ApiError::not_found("payment to authenticate");
    if !state.cipher.check_capability(PURPOSE, id, token) {
        return Err(not_found());
    }
    let payment = repo::get(&state.db, id).await?.ok_or_else(not_found)?;
    if payment.provider != ProviderName::Stripe || payment.payment_method_id.is_none() {
        return Err(not_found());
    }
    Ok(payment)
}

/// Whether the customer can still authenticate: the payment waits for them (a challenge left
/// half-way leaves it waiting too). After a failed challenge it waits for a payment method,
/// and the link no longer charges: the merchant may have charged the customer another way
/// meanwhile, and a new off-session charge makes a new link.
fn awaiting(payment: &PaymentRecord) -> bool {
    payment.status == PaymentStatus::RequiresAction
}

/// What Stripe.js needs on the page to confirm the PaymentIntent with the saved card.
#[derive(Debug, Serialize)]
pub struct Start {
    client_secret: String,
    payment_method: String,
    publishable_key: String,
    script_url: String,
}

async fn start(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Query(capability): Query<Capability>,
) -> ApiResult<axum::Json<Start>> {
    let payment = authorized(&state, &id, &capability.t).await?;
    if !awaiting(&payment) {
        return Err(ApiError::conflict(
            "payment_not_awaiting_authentication",
            match payment.status {
                PaymentStatus::Succeeded | PaymentStatus::RequiresCapture => {
                    "This payment is already complete."
                }
                _ => "This payment can no longer be authenticated.",
            },
        ));
    }
    let reference = payment.provider_reference.clone().ok_or_else(|| {
        ApiError::conflict("invalid_state", "The payment has no provider object yet.")
    })?;
    // Read from Stripe each time: paygate does not store client secrets.
    let provider = state.providers.require(ProviderName::Stripe)?;
    let client_secret = provider
        .retrieve_payment(&reference)
        .await?
        .client_secret
        .ok_or_else(|| ApiError::internal("PaymentIntent without client secret"))?;
    let stripe = &state.config.stripe;
    Ok(axum::Json(Start {
        client_secret,
        payment_method: payment.payment_method_id.clone().unwrap_or_default(),
        publishable_key: stripe.publishable_key.clone().unwrap_or_default(),
        script_url: stripe.js_url.clone(),
    }))
}

/// The outcome, as Stripe has it (the browser's word is never enough).
#[derive(Debug, Serialize)]
pub struct Outcome {
    status: PaymentStatus,
    #[serde(skip_serializing_if = "Option::is_none")]
    message: Option<String>,
}

async fn complete(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Query(capability): Query<Capability>,
) -> ApiResult<axum::Json<Outcome>> {
    let payment = authorized(&state, &id, &capability.t).await?;
    let payment = if awaiting(&payment) {
        lifecycle::refresh(&state, &payment, Cause::Widget, "authenticate")
            .await?
            .payment
    } else {
        payment
    };
    Ok(axum::Json(Outcome {
        status: payment.status,
        message: payment
            .last_error
            .filter(|_| payment.status == PaymentStatus::RequiresPaymentMethod)
            .map(|e| e.message),
    }))
}
