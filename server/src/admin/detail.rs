//! `GET /admin/api/payments/{id}` (everything about one payment) and
//! `POST /admin/api/payments/{id}/refunds` (a refund by an admin, through the same service as
//! the merchant API's `POST /v1/refunds`, recorded in the timeline and the audit log).

use super::audit;
use super::history::{email_of_row, ROW_SELECT};
use super::session::AdminAuth;
use crate::error::{ApiError, ApiResult};
use crate::http::extract::Json;
use crate::http::idempotency::RequestKey;
use crate::payments::{self, Cause, PaymentRecord};
use crate::refunds;
use crate::state::AppState;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde_json::json;
use shared::api::admin::{AdminRefund, PaymentDetail, ProviderEventItem, TimelineItem};
use shared::api::{Amount, CreateRefund, Metadata, ProviderName, Refund};
use shared::Money;
use sqlx::Row;

/// Longest refund note kept (it is stored as refund metadata, which has the same limit).
pub const MAX_NOTE_CHARS: usize = 500;

async fn find(state: &AppState, id: &str) -> ApiResult<PaymentRecord> {
    if !crate::ids::has_shape(id, "pay") {
        return Err(ApiError::not_found("payment"));
    }
    payments::repo::get(&state.db, id)
        .await?
        .ok_or_else(|| ApiError::not_found("payment"))
}

pub async fn show(
    State(state): State<AppState>,
    _admin: AdminAuth,
    Path(id): Path<String>,
) -> ApiResult<axum::Json<PaymentDetail>> {
    let payment = find(&state, &id).await?;
    let refunds = refunds::repo::list_for_payment(&state.db, &payment.id).await?;
    let committed: i64 = refunds
        .iter()
        .filter(|r| r.status != crate::providers::RefundStatus::Failed)
        .map(|r| r.money.minor())
        .sum();
    let refundable = if payment.status == shared::api::PaymentStatus::Succeeded {
        (payment.captured_minor - committed).max(0)
    } else {
        0
    };
    let timeline = payments::timeline::list(&state.db, &payment.id)
        .await?
        .into_iter()
        .map(|t| TimelineItem {
            at: t.at,
            cause: t.cause,
            kind: t.kind,
            from_status: t.from_status,
            to_status: t.to_status,
            detail: t.detail,
        })
        .collect();
    Ok(axum::Json(PaymentDetail {
        customer_email: customer_email(&state, &payment).await?,
        refundable: Amount::from(Money::from_minor(refundable, payment.money.currency())),
        timeline,
        refunds: refunds.iter().map(|r| r.to_api()).collect(),
        provider_events: provider_events(&state, &payment.id).await?,
        disputes: crate::disputes::repo::page(&state.db, None, None, Some(&payment.id), 100)
            .await?
            .into_iter()
            .map(|(d, _)| d)
            .collect(),
        provider_authorization: payment.provider_authorization.clone(),
        provider_capture: payment.provider_capture.clone(),
        payment: payment.to_api(),
    }))
}

async fn customer_email(
    state: &AppState,
    p: &PaymentRecord,
) -> Result<Option<String>, sqlx::Error> {
    let row = sqlx::query(&format!("{ROW_SELECT} AND p.id = $1"))
        .bind(&p.id)
        .fetch_optional(&state.db.pool)
        .await?;
    match row {
        Some(row) => email_of_row(state, &row),
        None => Ok(None),
    }
}

async fn provider_events(
    state: &AppState,
    payment_id: &str,
) -> Result<Vec<ProviderEventItem>, sqlx::Error> {
    let rows = sqlx::query(
        "SELECT provider, event_id, event_type, payload, received_at, processed_at, outcome \
         FROM provider_events WHERE payment_id = $1 ORDER BY id",
    )
    .bind(payment_id)
    .fetch_all(&state.db.pool)
    .await?;
    let mut out = Vec::with_capacity(rows.len());
    for r in &rows {
        let provider: String = r.try_get("provider")?;
        let Some(provider) = ProviderName::parse(&provider) else {
            continue;
        };
        let stored: String = r.try_get("payload")?;
        // Decrypted for the signed-in admin; a body whose key is not configured says so.
        let payload = match crate::inbox::store::open_payload(&state.cipher, &stored) {
            Ok(text) => serde_json::from_str(&text).unwrap_or(serde_json::Value::String(text)),
            Err(e) => serde_json::Value::String(format!("[{e}]")),
        };
        let note = match provider {
            ProviderName::Stripe if payload.is_object() => {
                crate::providers::stripe::events::version_note(&payload)
            }
            _ => None,
        };
        out.push(ProviderEventItem {
            provider,
            event_id: r.try_get("event_id")?,
            event_type: r.try_get("event_type")?,
            received_at: r.try_get("received_at")?,
            processed_at: r.try_get("processed_at")?,
            outcome: r.try_get("outcome")?,
            payload,
            note,
        });
    }
    Ok(out)
}

/// Needs `X-CSRF-Token` (checked by [`AdminAuth`]) and `Idempotency-Key` (the console sends one
/// per confirmation, so a double click or a retry never refunds twice).
pub async fn refund(
    State(state): State<AppState>,
    admin: AdminAuth,
    Path(id): Path<String>,
    key: Option<RequestKey>,
    Json(body): Json<AdminRefund>,
) -> ApiResult<(StatusCode, axum::Json<Refund>)> {
    let payment = find(&state, &id).await?;
    let note = body
        .note
        .as_deref()
        .map(str::trim)
        .filter(|n| !n.is_empty());
    if note.is_some_and(|n| n.chars().count() > MAX_NOTE_CHARS) {
        return Err(ApiError::invalid(
            "note",
            format!("The note may have at most {MAX_NOTE_CHARS} characters."),
        ));
    }
    let mut metadata = Metadata::new();
    metadata.insert("admin".to_string(), admin.email.clone());
    if let Some(n) = note {
        metadata.insert("note".to_string(), n.to_string());
    }
    // The `refund` entry is written with the refund's row, in its transaction.
    let result = refunds::service::create_audited(
        &state,
        CreateRefund {
            payment: payment.id.clone(),
            amount: body.amount.clone(),
            reason: Some(body.reason),
            metadata,
        },
        Cause::Admin,
        key,
        refunds::service::RefundAudit {
            actor: admin.email.clone(),
            ip: admin.ip.clone(),
            note: note.map(str::to_string),
        },
    )
    .await;
    // Attempts that failed are audited too, with the error's code.
    if let Err(e) = &result {
        let detail = json!({
            "error": e.code,
            "amount": body.amount,
            "reason": body.reason.as_str(),
            "note": note,
        });
        audit::record(
            &state.db,
            &admin.email,
            "refund_failed",
            Some(&payment.id),
            &detail,
            admin.ip.as_deref(),
            state.clock.now_ms(),
        )
        .await?;
    }
    Ok((StatusCode::CREATED, axum::Json(result?.to_api())))
}
