//! Creating a refund: reserve the amount under the payment's lock (the refund row is written as
//! `pending` first), call the provider outside any transaction, then record its answer.

use super::repo::{self, RefundRecord};
use crate::error::ApiError;
use crate::http::detach::to_completion;
use crate::http::idempotency::RequestKey;
use crate::ids::new_id;
use crate::payments::{self, Cause, PaymentRecord};
use crate::providers::{ProviderError, RefundRequest, RefundStatus};
use crate::state::AppState;
use crate::validate;
use shared::api::{CreateRefund, PaymentStatus};
use shared::Money;

/// Creates a refund; the provider call and its recording finish even if the caller goes away
/// (see `http::detach`). With the request's idempotency key the refund's id (and so the
/// provider's idempotency key) is derived from it: a retry of a request whose outcome was
/// unknown (timeout, 5xx) finds the same refund and asks the provider again with the same key,
/// so money is returned once however often the caller retries.
pub async fn create(
    state: &AppState,
    body: CreateRefund,
    cause: Cause,
    key: Option<RequestKey>,
) -> Result<RefundRecord, ApiError> {
    to_completion(create_detached(state.clone(), body, cause, key, None)).await
}

/// Who asked for a refund in the console, for the audit log.
#[derive(Debug, Clone)]
pub struct RefundAudit {
    pub actor: String,
    pub ip: Option<String>,
    pub note: Option<String>,
}

/// [`create`], with the audit entry written in the transaction that makes the refund's row, so
/// no refund exists without the entry that says who asked for it.
pub async fn create_audited(
    state: &AppState,
    body: CreateRefund,
    cause: Cause,
    key: Option<RequestKey>,
    audit: RefundAudit,
) -> Result<RefundRecord, ApiError> {
    to_completion(create_detached(
        state.clone(),
        body,
        cause,
        key,
        Some(audit),
    ))
    .await
}

async fn create_detached(
    state: AppState,
    body: CreateRefund,
    cause: Cause,
    key: Option<RequestKey>,
    audit: Option<RefundAudit>,
) -> Result<RefundRecord, ApiError> {
    let state = &state;
    validate::metadata(&body.metadata)?;
    let payment = payments::repo::get(&state.db, &body.payment)
        .await?
        .ok_or_else(|| ApiError::not_found("payment").with_param("payment"))?;
    // Only an id derived from a key can exist already (a retry); a fresh one cannot.
    let id = match &key {
        Some(key) => {
            let id = key.derive_id("re");
            if let Some(existing) = repo::get(&state.db, &id).await? {
                return resume(state, &payment, existing, cause).await;
            }
            id
        }
        None => new_id("re"),
    };
    let amount = match &body.amount {
        Some(a) => {
            let m = Money::parse(a, payment.money.currency())
                .map_err(|e| ApiError::invalid("amount", e.to_string()))?;
            if m.is_zero() {
                return Err(ApiError::invalid(
                    "amount",
                    "The amount must be greater than zero.",
                ));
            }
            Some(m)
        }
        None => None,
    };
    state.providers.require(payment.provider)?;

    // Reserve under the payment's row lock: pending refunds count against what is left.
    let now = state.clock.now_ms();
    let mut tx = state.db.begin_write().await?;
    let payment = payments::repo::get_locked(&state.db, &mut tx, &payment.id)
        .await?
        .ok_or_else(|| ApiError::not_found("payment"))?;
    if payment.status != PaymentStatus::Succeeded || payment.captured_minor == 0 {
        return Err(ApiError::conflict(
            "payment_not_refundable",
            format!(
                "Only captured payments can be refunded; this one is {}.",
                payment.status
            ),
        ));
    }
    let committed = repo::committed_minor(&mut tx, &payment.id).await?;
    let left = payment.captured_minor - committed;
    let amount = amount.unwrap_or(Money::from_minor(left, payment.money.currency()));
    if left <= 0 {
        return Err(ApiError::conflict(
            "payment_fully_refunded",
            "Nothing is left to refund on this payment.",
        ));
    }
    if amount.minor() > left {
        return Err(ApiError::bad_request(
            "refund_exceeds_remaining",
            format!(
                "The refund ({}) is more than what is left to refund ({}).",
                amount.display(),
                Money::from_minor(left, payment.money.currency()).display()
            ),
        )
        .with_param("amount"));
    }
    let record = RefundRecord {
        id,
        payment_id: payment.id.clone(),
        provider_reference: None,
        status: RefundStatus::Pending,
        money: amount,
        reason: body.reason.map(|r| r.as_str().to_string()),
        failure_reason: None,
        metadata: body.metadata,
        created_at: now,
        updated_at: now,
    };
    repo::insert(&mut tx, &record, cause).await?;
    if let Some(audit) = &audit {
        let detail = serde_json::json!({
            "refund": record.id,
            "amount": record.money.to_decimal_string(),
            "currency": record.money.currency().code(),
            "reason": record.reason,
            "note": audit.note,
        });
        crate::admin::audit::record_in(
            &mut tx,
            &audit.actor,
            "refund",
            Some(&payment.id),
            &detail,
            audit.ip.as_deref(),
            now,
        )
        .await?;
    }
    tx.commit().await?;
    call_provider(state, &payment, &record, cause, false).await
}

/// Reconciliation: asks the provider again (same idempotency key) for a refund whose answer
/// never arrived and whose webhook did not either.
pub async fn resume_pending(state: &AppState, refund_id: &str) -> Result<RefundRecord, ApiError> {
    let refund = repo::get(&state.db, refund_id)
        .await?
        .ok_or_else(|| ApiError::not_found("refund"))?;
    let payment = payments::repo::get(&state.db, &refund.payment_id)
        .await?
        .ok_or_else(|| ApiError::internal("the refund's payment vanished"))?;
    to_completion({
        let state = state.clone();
        async move { resume(&state, &payment, refund, Cause::Reconciliation).await }
    })
    .await
}

/// A retry of a refund request that already made its record: if the provider's first answer
/// never arrived, its refund is looked up by paygate's id, and the provider is asked again (same
/// idempotency key) only if there is none; otherwise the record is the answer.
async fn resume(
    state: &AppState,
    payment: &PaymentRecord,
    existing: RefundRecord,
    cause: Cause,
) -> Result<RefundRecord, ApiError> {
    if existing.payment_id != payment.id {
        return Err(ApiError::new(
            axum::http::StatusCode::UNPROCESSABLE_ENTITY,
            "idempotency_key_reused",
            "This Idempotency-Key was used for a refund of another payment.",
        ));
    }
    match existing.status {
        RefundStatus::Pending if existing.provider_reference.is_none() => {
            call_provider(state, payment, &existing, cause, true).await
        }
        RefundStatus::Failed => Err(ApiError::conflict(
            "refund_failed",
            format!(
                "Refund {} failed: {}",
                existing.id,
                existing
                    .failure_reason
                    .as_deref()
                    .unwrap_or("refused by the provider")
            ),
        )),
        _ => Ok(existing),
    }
}

/// Asks the provider for the refund (outside any transaction) and records its answer. With
/// `look_up_first` (a retry after a lost answer), the provider's refund is first looked up by
/// paygate's id: asking again with the same key could only replay a failure the provider saved
/// (Stripe saves a 500 under the key, docs.stripe.com/api/idempotent_requests).
async fn call_provider(
    state: &AppState,
    payment: &PaymentRecord,
    record: &RefundRecord,
    cause: Cause,
    look_up_first: bool,
) -> Result<RefundRecord, ApiError> {
    let provider = state.providers.require(payment.provider)?;
    let request = RefundRequest {
        refund_id: record.id.clone(),
        payment: payment.refs().ok_or_else(|| {
            ApiError::conflict("invalid_state", "The payment has no provider object.")
        })?,
        amount: record.money,
        reason: record.reason.clone(),
        idempotency_key: format!("{}-create", record.id),
    };
    let found = if look_up_first {
        provider
            .find_refund(&request.payment, &record.id)
            .await
            .unwrap_or_else(|e| {
                tracing::warn!(refund = %record.id, error = %e, "looking up a lost refund failed; asking again");
                None
            })
    } else {
        None
    };
    let result = match found {
        Some(found) => Ok(found),
        None => crate::providers::saved_failures::refund(provider.as_ref(), &request).await,
    };

    let mut tx = state.db.begin_write().await?;
    let current = repo::get_locked(&state.db, &mut tx, &record.id)
        .await?
        .ok_or_else(|| ApiError::internal("refund row vanished"))?;
    let outcome = match result {
        Ok(answer) => {
            repo::apply_status(
                &mut tx,
                &current,
                answer.status,
                Some(&answer.reference),
                answer.failure_reason.as_deref(),
                cause,
                state.clock.now_ms(),
            )
            .await?;
            Ok(())
        }
        // The provider refused for good: the reservation is released.
        Err(
            e @ (ProviderError::Declined { .. }
            | ProviderError::InvalidRequest { .. }
            | ProviderError::Conflict { .. }
            | ProviderError::Rejected(_)),
        ) => {
            repo::apply_status(
                &mut tx,
                &current,
                RefundStatus::Failed,
                None,
                Some(&e.to_string()),
                cause,
                state.clock.now_ms(),
            )
            .await?;
            Err(ApiError::from(e))
        }
        // Unknown outcome (timeout, 5xx after retries): the refund stays pending and keeps its
        // reservation; a retry with the same Idempotency-Key resumes it with the same provider
        // key (see `resume`), and webhooks settle it.
        Err(e) => Err(ApiError::from(e)),
    };
    tx.commit().await?;
    outcome?;
    repo::get(&state.db, &record.id)
        .await?
        .ok_or_else(|| ApiError::internal("refund row vanished"))
}
