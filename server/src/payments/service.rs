//! Creating a payment: validate, store the row, call the provider (outside any transaction),
//! then record what the provider answered.

use super::repo::{self, Update};
use super::{Cause, PaymentRecord};
use crate::error::ApiError;
use crate::http::detach::to_completion;
use crate::ids::new_id;
use crate::providers::{check_amount, CreateRequest, ProviderError};
use crate::state::AppState;
use crate::validate;
use serde_json::json;
use shared::api::{CreatePayment, PaymentStatus};
use shared::{Currency, Money};

/// Validates a `POST /v1/payments` body into the money to charge.
pub fn validate_create(body: &CreatePayment) -> Result<Money, ApiError> {
    let currency = Currency::from_code(&body.currency)
        .map_err(|e| ApiError::invalid("currency", e.to_string()))?;
    let money = Money::parse(&body.amount, currency)
        .map_err(|e| ApiError::invalid("amount", e.to_string()))?;
    if money.is_zero() {
        return Err(ApiError::invalid(
            "amount",
            "The amount must be greater than zero.",
        ));
    }
    check_amount(body.provider, money).map_err(|e| {
        ApiError::bad_request("amount_not_supported", e.to_string()).with_param("amount")
    })?;
    validate::optional_text("description", body.description.as_deref(), 1000)?;
    validate::metadata(&body.metadata)?;
    if let Some(url) = &body.return_url {
        validate::http_url("return_url", url)?;
    }
    Ok(money)
}

/// Creates a payment; the provider call and its recording finish even if the caller goes away
/// (see `http::detach`).
pub async fn create(
    state: &AppState,
    body: CreatePayment,
    checkout_session_id: Option<String>,
) -> Result<PaymentRecord, ApiError> {
    to_completion(create_detached(state.clone(), body, checkout_session_id)).await
}

async fn create_detached(
    state: AppState,
    body: CreatePayment,
    checkout_session_id: Option<String>,
) -> Result<PaymentRecord, ApiError> {
    let state = &state;
    let money = validate_create(&body)?;
    if !state.config.providers.contains(&body.provider) {
        return Err(ApiError::bad_request(
            "provider_not_enabled",
            format!(
                "{} is not enabled on this gateway.",
                body.provider.display_name()
            ),
        )
        .with_param("provider"));
    }
    let provider = state.providers.get(body.provider).cloned().ok_or_else(|| {
        tracing::error!(provider = %body.provider, "provider enabled in the configuration but no client is registered");
        ApiError::unavailable(
            "provider_unavailable",
            format!("{} is not available right now.", body.provider.display_name()),
        )
    })?;
    if let Some(customer) = &body.customer {
        let exists = sqlx::query("SELECT 1 FROM customers WHERE id = $1")
            .bind(customer)
            .fetch_optional(&state.db.pool)
            .await?;
        if exists.is_none() {
            return Err(ApiError::not_found("customer").with_param("customer"));
        }
    }

    let now = state.clock.now_ms();
    let record = PaymentRecord {
        id: new_id("pay"),
        provider: body.provider,
        provider_reference: None,
        provider_authorization: None,
        provider_capture: None,
        status: PaymentStatus::RequiresPaymentMethod,
        money,
        captured_minor: 0,
        refunded_minor: 0,
        capture_mode: body.capture_mode,
        description: body.description.clone(),
        customer_id: body.customer.clone(),
        checkout_session_id,
        last_error: None,
        next_action: None,
        metadata: body.metadata.clone(),
        created_at: now,
        updated_at: now,
    };
    // The row exists before the provider hears of it: an early webhook finds it, and a crash
    // leaves a trace for reconciliation.
    let mut tx = state.db.begin_write().await?;
    repo::insert(&mut tx, &record, Cause::Api).await?;
    tx.commit().await?;

    let request = CreateRequest {
        payment_id: record.id.clone(),
        money,
        capture_mode: body.capture_mode,
        description: body.description,
        metadata: body.metadata,
        return_url: body.return_url,
        stripe_customer: None,
        idempotency_key: format!("{}-create", record.id),
    };
    let result = provider.create_payment(&request).await;

    let mut tx = state.db.begin_write().await?;
    let current = repo::get_locked(&state.db, &mut tx, &record.id)
        .await?
        .ok_or_else(|| ApiError::internal("payment row vanished"))?;
    match result {
        Ok(pp) => {
            let update = Update::from(pp);
            let (_, updated) = repo::apply_update(
                &mut tx,
                &current,
                update,
                Cause::Api,
                json!({ "operation": "create" }),
                state.clock.now_ms(),
            )
            .await?;
            tx.commit().await?;
            Ok(updated)
        }
        Err(e) => {
            let api_error = ApiError::from(e.clone());
            let update = match &e {
                ProviderError::Declined {
                    code,
                    decline_code,
                    message,
                } => Update {
                    last_error: Some(Some(shared::api::PaymentError {
                        code: code.clone(),
                        message: message.clone(),
                        decline_code: decline_code.clone(),
                    })),
                    ..Update::default()
                },
                _ => Update::default(),
            };
            // The outcome at the provider may be unknown (timeout): the row stays open and the
            // timeline says what happened; reconciliation settles it.
            let (outcome, _) = repo::apply_update(
                &mut tx,
                &current,
                update,
                Cause::Api,
                json!({ "operation": "create", "error": e.to_string() }),
                state.clock.now_ms(),
            )
            .await?;
            // One timeline entry per failure: a decline's update above already wrote it.
            if outcome == repo::Outcome::Unchanged {
                super::timeline::append(
                    &mut tx,
                    &current.id,
                    state.clock.now_ms(),
                    Cause::Api,
                    "provider_error",
                    Some(current.status),
                    None,
                    &json!({ "operation": "create", "error": e.to_string() }),
                )
                .await?;
            }
            tx.commit().await?;
            Err(api_error)
        }
    }
}
