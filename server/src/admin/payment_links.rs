//! The console's payment links: `GET /admin/api/payment_links` (newest first, with a cursor),
//! `POST /admin/api/payment_links` (create) and `POST /admin/api/payment_links/{id}` (deactivate
//! or activate). The logic is the merchant API's (`payment_links::routes`); this file adds the
//! admin session, the CSRF check (through [`AdminAuth`]) and the audit record, written after the
//! change as the console's other actions do.

use super::audit;
use super::session::AdminAuth;
use crate::error::ApiResult;
use crate::http::extract::{Json, Query};
use crate::payment_links::routes::{self, ListLinksQuery};
use crate::state::AppState;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde_json::json;
use shared::api::{CreatePaymentLink, List, PaymentLink, UpdatePaymentLink};

pub async fn list(
    State(state): State<AppState>,
    _admin: AdminAuth,
    Query(query): Query<ListLinksQuery>,
) -> ApiResult<axum::Json<List<PaymentLink>>> {
    Ok(axum::Json(routes::list(&state, &query).await?))
}

pub async fn create(
    State(state): State<AppState>,
    admin: AdminAuth,
    Json(body): Json<CreatePaymentLink>,
) -> ApiResult<(StatusCode, axum::Json<PaymentLink>)> {
    let link = routes::create(&state, body).await?;
    audit::record(
        &state.db,
        &admin.email,
        "payment_link_create",
        Some(&link.id),
        &json!({
            "currency": link.currency,
            "amount_minor": link.amount.as_ref().map(|a| a.amount_minor),
            "custom_amount": link.custom_amount.is_some(),
            "limit": link.restrictions.as_ref().map(|r| r.completed_sessions.limit),
        }),
        admin.ip.as_deref(),
        state.clock.now_ms(),
    )
    .await?;
    Ok((StatusCode::CREATED, axum::Json(link)))
}

pub async fn update(
    State(state): State<AppState>,
    admin: AdminAuth,
    Path(id): Path<String>,
    Json(body): Json<UpdatePaymentLink>,
) -> ApiResult<axum::Json<PaymentLink>> {
    let link = routes::update(&state, &id, body).await?;
    audit::record(
        &state.db,
        &admin.email,
        if link.active {
            "payment_link_activate"
        } else {
            "payment_link_deactivate"
        },
        Some(&link.id),
        &json!({ "active": link.active }),
        admin.ip.as_deref(),
        state.clock.now_ms(),
    )
    .await?;
    Ok(axum::Json(link))
}
