//! A session is completed by exactly one successful payment. The first payment to succeed
//! (or, in manual-capture mode, to be authorised) completes it in one conditional update; a
//! second one that also succeeded — a card and a PayPal payment at once — is voided or refunded
//! automatically, and its timeline says why.

use super::repo;
use crate::error::ApiError;
use crate::http::idempotency::RequestKey;
use crate::outbox;
use crate::payments::actions::{self, Action};
use crate::payments::{timeline, Cause, PaymentRecord};
use crate::refunds;
use crate::state::AppState;
use serde_json::json;
use shared::api::{CaptureMode, CheckoutSessionStatus, CreateRefund, PaymentStatus, RefundReason};

/// Whether this payment pays for a session.
pub fn pays(payment: &PaymentRecord) -> bool {
    match payment.capture_mode {
        CaptureMode::Automatic => payment.status == PaymentStatus::Succeeded,
        CaptureMode::Manual => matches!(
            payment.status,
            PaymentStatus::RequiresCapture | PaymentStatus::Succeeded
        ),
    }
}

/// Completes the session with `payment` if it pays and the session is still open; undoes a
/// duplicate. Returns the session's status afterwards.
pub async fn settle(
    state: &AppState,
    session_id: &str,
    payment: &PaymentRecord,
) -> Result<CheckoutSessionStatus, ApiError> {
    let session = repo::get(&state.db, session_id)
        .await?
        .ok_or_else(|| ApiError::not_found("checkout session"))?;
    if !pays(payment) {
        return Ok(session.effective_status(state.clock.now_ms()));
    }
    let now = state.clock.now_ms();
    let mut tx = state.db.begin_write().await?;
    let won = sqlx::query(
        "UPDATE checkout_sessions SET status = 'complete', completed_payment_id = $1, updated_at = $2 \
         WHERE id = $3 AND status = 'open'",
    )
    .bind(&payment.id)
    .bind(now)
    .bind(session_id)
    .execute(&mut *tx)
    .await?
    .rows_affected()
        == 1;
    if won {
        outbox::record(
            &mut tx,
            "checkout.session.completed",
            session_id,
            &json!({ "id": session_id, "payment": payment.id }),
            now,
        )
        .await?;
        timeline::append(
            &mut tx,
            &payment.id,
            now,
            Cause::Widget,
            "completed_session",
            None,
            None,
            &json!({ "checkout_session": session_id }),
        )
        .await?;
        tx.commit().await?;
        return Ok(CheckoutSessionStatus::Complete);
    }
    tx.commit().await?;
    let session = repo::get(&state.db, session_id)
        .await?
        .ok_or_else(|| ApiError::not_found("checkout session"))?;
    if session.completed_payment_id.as_deref() != Some(payment.id.as_str()) {
        undo_duplicate(state, session_id, payment).await?;
    }
    Ok(session.effective_status(now))
}

/// Another payment already completed the session (or it expired): give this one back.
async fn undo_duplicate(
    state: &AppState,
    session_id: &str,
    payment: &PaymentRecord,
) -> Result<(), ApiError> {
    let now = state.clock.now_ms();
    let mut tx = state.db.begin_write().await?;
    timeline::append(
        &mut tx,
        &payment.id,
        now,
        Cause::Widget,
        "duplicate_for_session",
        Some(payment.status),
        None,
        &json!({ "checkout_session": session_id, "action": if payment.status == PaymentStatus::Succeeded { "refund" } else { "void" } }),
    )
    .await?;
    tx.commit().await?;
    tracing::warn!(payment = %payment.id, session = %session_id, "second successful payment for one session: giving it back");
    if payment.status == PaymentStatus::Succeeded {
        refunds::service::create(
            state,
            CreateRefund {
                payment: payment.id.clone(),
                amount: None,
                reason: Some(RefundReason::Duplicate),
                metadata: Default::default(),
            },
            Cause::Widget,
            Some(RequestKey::internal(&format!(
                "duplicate-refund:{}",
                payment.id
            ))),
        )
        .await?;
    } else {
        actions::run(state, &payment.id, Action::Cancel, Cause::Widget).await?;
    }
    Ok(())
}
