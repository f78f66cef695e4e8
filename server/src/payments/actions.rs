//! Follow-up actions on a stored payment — confirm, capture, cancel — each through the provider
//! abstraction with an idempotency key derived from the payment id, recorded on the timeline.

use super::repo::{self, Update};
use super::{Cause, PaymentRecord};
use crate::error::ApiError;
use crate::http::detach::to_completion;
use crate::providers::{PaymentProvider, ProviderError, ProviderPayment};
use crate::state::AppState;
use serde_json::json;
use shared::api::{PaymentError, PaymentStatus};
use shared::Money;
use std::sync::Arc;

pub enum Action {
    Confirm {
        payment_method: String,
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
        payment = refresh(state, payment, cause).await?;
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
    let provider: Arc<dyn PaymentProvider> = state
        .providers
        .get(payment.provider)
        .cloned()
        .ok_or_else(|| {
            ApiError::unavailable(
                "provider_unavailable",
                "The payment provider is not available right now.",
            )
        })?;

    let result = match &action {
        Action::Confirm { payment_method } => {
            if payment_method.is_empty() || payment_method.len() > 255 {
                return Err(ApiError::invalid(
                    "payment_method",
                    "payment_method must be a payment method id.",
                ));
            }
            provider
                .confirm_payment(
                    &refs,
                    payment_method,
                    &format!("{}-confirm-{payment_method}", payment.id),
                )
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
            provider
                .capture_payment(&refs, amount, &format!("{}-capture", payment.id))
                .await
        }
        Action::Cancel => {
            provider
                .cancel_payment(&refs, &format!("{}-cancel", payment.id))
                .await
        }
        Action::Authorize => {
            provider
                .authorize_payment(&refs, &format!("{}-authorize", payment.id))
                .await
        }
    };
    record(state, &payment.id, action.name(), result, cause).await
}

/// Records the provider's answer (or its refusal) on the payment, then returns the payment or
/// the error for the caller.
async fn record(
    state: &AppState,
    payment_id: &str,
    operation: &str,
    result: Result<ProviderPayment, ProviderError>,
    cause: Cause,
) -> Result<PaymentRecord, ApiError> {
    let mut tx = state.db.begin_write().await?;
    let current = repo::get_locked(&state.db, &mut tx, payment_id)
        .await?
        .ok_or_else(|| ApiError::internal("payment row vanished"))?;
    let now = state.clock.now_ms();
    let (update, error) = match result {
        Ok(pp) => (Update::from(pp), None),
        Err(ProviderError::Declined {
            code,
            decline_code,
            message,
        }) => (
            // A decline leaves the payment open for another payment method.
            Update {
                status: Some(PaymentStatus::RequiresPaymentMethod),
                last_error: Some(Some(PaymentError {
                    code: code.clone(),
                    message: message.clone(),
                    decline_code: decline_code.clone(),
                })),
                ..Update::default()
            },
            Some(ProviderError::Declined {
                code,
                decline_code,
                message,
            }),
        ),
        Err(e) => (Update::default(), Some(e)),
    };
    let detail = match &error {
        Some(e) => json!({ "operation": operation, "error": e.to_string() }),
        None => json!({ "operation": operation }),
    };
    let (outcome, updated) =
        repo::apply_update(&mut tx, &current, update, cause, detail.clone(), now).await?;
    // A decline already wrote its entry (with the error) through the update; any other failure
    // changed nothing, so it gets an entry of its own: exactly one per failure.
    if error.is_some() && outcome == repo::Outcome::Unchanged {
        super::timeline::append(
            &mut tx,
            payment_id,
            now,
            cause,
            "provider_error",
            Some(current.status),
            None,
            &detail,
        )
        .await?;
    }
    tx.commit().await?;
    match error {
        Some(e) => Err(ApiError::from(e)),
        None => Ok(updated),
    }
}

/// Re-reads the payment from its provider and records what changed.
async fn refresh(
    state: &AppState,
    payment: PaymentRecord,
    cause: Cause,
) -> Result<PaymentRecord, ApiError> {
    let (Some(reference), Some(provider)) = (
        payment.provider_reference.clone(),
        state.providers.get(payment.provider).cloned(),
    ) else {
        return Ok(payment);
    };
    let fresh = provider.retrieve_payment(&reference).await?;
    let mut tx = state.db.begin_write().await?;
    let current = repo::get_locked(&state.db, &mut tx, &payment.id)
        .await?
        .ok_or_else(|| ApiError::internal("payment row vanished"))?;
    let (_, updated) = repo::apply_update(
        &mut tx,
        &current,
        Update::from(fresh),
        cause,
        json!({ "operation": "refresh" }),
        state.clock.now_ms(),
    )
    .await?;
    tx.commit().await?;
    Ok(updated)
}
