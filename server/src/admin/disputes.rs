//! The console's disputes: `GET /admin/api/disputes` (the merchant API's list and filters),
//! `POST /admin/api/disputes/{id}/evidence` and `POST /admin/api/disputes/{id}/close`, passed to
//! the provider as the merchant API does, behind the admin session and the CSRF check, each
//! audited (`dispute_evidence`, `dispute_accept`) after the provider answered.

use super::audit;
use super::session::AdminAuth;
use crate::disputes::routes::{self, ListDisputesQuery};
use crate::error::ApiResult;
use crate::http::detach::to_completion;
use crate::http::extract::{Json, Query};
use crate::state::AppState;
use axum::extract::{Path, State};
use serde_json::json;
use shared::api::{Dispute, List, SubmitDisputeEvidence};

pub async fn list(
    State(state): State<AppState>,
    _admin: AdminAuth,
    Query(q): Query<ListDisputesQuery>,
) -> ApiResult<axum::Json<List<Dispute>>> {
    Ok(axum::Json(routes::list(&state, &q).await?))
}

pub async fn evidence(
    State(state): State<AppState>,
    admin: AdminAuth,
    Path(id): Path<String>,
    Json(body): Json<SubmitDisputeEvidence>,
) -> ApiResult<axum::Json<Dispute>> {
    to_completion(async move {
        let dispute = routes::submit(&state, &id, &body).await?;
        // Which fields, not their text: evidence may hold a customer's personal data.
        let fields: Vec<&String> = body.evidence.keys().collect();
        audit::record(
            &state.db,
            &admin.email,
            "dispute_evidence",
            Some(&dispute.id),
            &json!({ "fields": fields, "submitted": body.submit, "status": dispute.status }),
            admin.ip.as_deref(),
            state.clock.now_ms(),
        )
        .await?;
        Ok(axum::Json(dispute))
    })
    .await
}

pub async fn close(
    State(state): State<AppState>,
    admin: AdminAuth,
    Path(id): Path<String>,
) -> ApiResult<axum::Json<Dispute>> {
    to_completion(async move {
        let dispute = routes::accept(&state, &id).await?;
        audit::record(
            &state.db,
            &admin.email,
            "dispute_accept",
            Some(&dispute.id),
            &json!({ "payment": dispute.payment, "status": dispute.status }),
            admin.ip.as_deref(),
            state.clock.now_ms(),
        )
        .await?;
        Ok(axum::Json(dispute))
    })
    .await
}
