//! Follow-up actions on a stored payment — confirm, capture, cancel — each through the provider
//! abstraction with an idempotency key derived from the payment id (a confirmation: one per
//! attempt, see [`confirm_attempt_key`]), recorded on the timeline.

use super::repo::{self, Update};
use super::{lifecycle, Cause, PaymentRecord};
use crate::error::ApiError;
use crate::http::detach::to_completion;
use crate::http::idempotency::RequestKey;
use crate::providers::{ProviderError, ProviderPayment};
use crate::state::AppState;
use serde_json::json;
use shared::api::PaymentStatus;
use shared::Money;

pub enum Action {
    Confirm {
        payment_method: String,
        /// This confirmation attempt's own provider idempotency key (see [`confirm_attempt_key`]).
        attempt_key: String,
    },
    /// PayPal, manual capture: hold the approved order's funds.
    Authorize,
    Capture {
        amount: Option<String>,
    },
    Cancel,
}

impl Action {
    fn name(&self) -> &'static str {
        match self {
            Action::Confirm { .. } => "confirm",
            Action::Authorize => "authorize",
            Action::Capture { .. } => "capture",
            Action::Cancel => "cancel",
        }
    }

    fn allowed_from(&self, status: PaymentStatus) -> bool {
        use PaymentStatus::*;
        match self {
            Action::Confirm { .. } => {
                matches!(status, RequiresPaymentMethod | RequiresConfirmation)
            }
            // PayPal orders are captured (or authorised) once the buyer approved them.
            Action::Capture { .. } => matches!(status, RequiresCapture | RequiresConfirmation),
            Action::Authorize => status == RequiresConfirmation,
            Action::Cancel => matches!(
                status,
                RequiresPaymentMethod | RequiresConfirmation | RequiresAction | RequiresCapture
            ),
        }
    }
}

/// The provider idempotency key of one confirmation attempt. Stripe saves the result of a request
/// that executed, a card decline included, and replays it for 24 hours to the same key
/// (docs.stripe.com/api/idempotent_requests), so a key derived from the payment and the payment
/// method would answer a customer who topped up and tried the same card again with the old
/// decline. Each attempt gets its own key: from the merchant's `Idempotency-Key` when there is
/// one (their retries of one attempt stay one attempt at Stripe too), otherwise a fresh one
/// (confirming twice cannot charge twice: Stripe refuses to confirm a PaymentIntent that
/// succeeded).
pub fn confirm_attempt_key(payment_id: &str, request: Option<&RequestKey>) -> String {
    match request {
        Some(key) => format!("{payment_id}-confirm-{}", key.derive_id("attempt")),
        None => format!("{payment_id}-confirm-{}", crate::ids::new_id("attempt")),
    }
}

/// The provider idempotency key of a capture or authorisation: `{payment}-{operation}`, and after
/// the provider declined earlier attempts, `{payment}-{operation}-{attempt}`. PayPal answers a
/// repeated `PayPal-Request-Id` with "the latest status of the previous request"
/// (developer.paypal.com/api/rest/reference/idempotency), so once a capture was refused with
/// `INSTRUMENT_DECLINED` and the buyer approved the order again with another funding source,
/// the same id would get the refusal back for ever. A retry after an unknown outcome (timeout,
/// 5xx) keeps the key: only a decline, which is a final answer, moves to the next attempt.
async fn retry_key(
    state: &AppState,
    payment_id: &str,
    operation: &str,
) -> Result<String, ApiError> {
    let declined = super::timeline::list(&state.db, payment_id)
        .await?
        .iter()
        .filter(|t| t.detail["operation"] == operation && t.detail["declined"] == true)
        .count();
    Ok(match declined {
        0 => format!("{payment_id}-{operation}"),
        n => format!("{payment_id}-{operation}-{}", n + 1),
    })
}

/// Runs an action; the provider call and its recording finish even if the caller goes away
/// (see `http::detach`).
pub async fn run(
    state: &AppState,
    payment_id: &str,
    action: Action,
    cause: Cause,
) -> Result<PaymentRecord, ApiError> {
    to_completion(run_detached(
        state.clone(),
        payment_id.to_string(),
        action,
        cause,
    ))
    .await
}

async fn run_detached(
    state: AppState,
    payment_id: String,
    action: Action,
    cause: Cause,
) -> Result<PaymentRecord, ApiError> {
    let (state, payment_id) = (&state, payment_id.as_str());
    let mut payment = repo::get(&state.db, payment_id)
        .await?
        .ok_or_else(|| ApiError::not_found("payment"))?;
    if !action.allowed_from(payment.status) && !payment.status.is_terminal() {
        // Our record may lag behind the provider (the buyer approved a moment ago and the
        // webhook is still on its way): ask the provider before refusing.
        if payment.provider_reference.is_some() {
            payment = lifecycle::refresh(state, &payment, cause, "refresh")
                .await?
                .payment;
        }
    }
    if !action.allowed_from(payment.status) {
        return Err(ApiError::conflict(
            "invalid_state",
            format!(
                "A payment in status {} cannot be {}ed.",
                payment.status,
                action.name().trim_end_matches('e')
            ),
        ));
    }
    let Some(refs) = payment.refs() else {
        return Err(ApiError::conflict(
            "invalid_state",
            "The payment has no provider object yet.",
        ));
    };
    let provider = state.providers.require(payment.provider)?;

    let result = match &action {
        Action::Confirm {
            payment_method,
            attempt_key,
        } => {
            if payment_method.is_empty() || payment_method.len() > 255 {
                return Err(ApiError::invalid(
                    "payment_method",
                    "payment_method must be a payment method id.",
                ));
            }
            provider
                .confirm_payment(&refs, payment_method, attempt_key)
                .await
        }
        Action::Capture { amount } => {
            let amount = match amount {
                Some(a) => {
                    let m = Money::parse(a, payment.money.currency())
                        .map_err(|e| ApiError::invalid("amount", e.to_string()))?;
                    if m.is_zero() || m.minor() > payment.money.minor() {
                        return Err(ApiError::invalid(
                            "amount",
                            format!(
                                "The capture amount must be between 0 and {}.",
                                payment.money.display()
                            ),
                        ));
                    }
                    Some(m)
                }
                None => None,
            };
            let key = retry_key(state, &payment.id, "capture").await?;
            provider.capture_payment(&refs, amount, &key).await
        }
        Action::Cancel => {
            provider
                .cancel_payment(&refs, &format!("{}-cancel", payment.id))
                .await
        }
        Action::Authorize => {
            let key = retry_key(state, &payment.id, "authorize").await?;
            provider.authorize_payment(&refs, &key).await
        }
    };
    record(state, &payment.id, action.name(), result, cause).await
}

/// Records the provider's answer (or its refusal) through the one path, then returns the
/// payment or the error for the caller.
async fn record(
    state: &AppState,
    payment_id: &str,
    operation: &str,
    result: Result<ProviderPayment, ProviderError>,
    cause: Cause,
) -> Result<PaymentRecord, ApiError> {
    match result {
        Ok(answer) => Ok(lifecycle::apply(
            state,
            payment_id,
            Update::from(answer),
            cause,
            json!({ "operation": operation }),
        )
        .await?
        .payment),
        Err(e) => {
            lifecycle::record_failure(state, payment_id, operation, &e, cause).await?;
            Err(ApiError::from(e))
        }
    }
}
