//! `/v1/disputes`: list and read the disputes providers opened, and respond: submit text
//! evidence (`POST /v1/disputes/{id}`) or accept the dispute (`POST /v1/disputes/{id}/close`),
//! each passed through to the provider (Stripe's dispute update and close, PayPal's
//! provide-evidence and accept-claim); its answer is applied like its webhooks.

use super::{repo, webhook};
use crate::auth::Merchant;
use crate::error::{ApiError, ApiResult};
use crate::http::detach::to_completion;
use crate::http::extract::{Json, Query};
use crate::ids::new_id;
use crate::payments::Cause;
use crate::providers::DisputeFacts;
use crate::state::AppState;
use axum::extract::{Path, State};
use axum::routing::{get, post};
use axum::Router;
use serde::Deserialize;
use serde_json::json;
use shared::api::DISPUTE_TEXT_EVIDENCE;
use shared::api::{Dispute, List, Problem, ProviderName, SubmitDisputeEvidence};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/v1/disputes", get(list_disputes))
        .route("/v1/disputes/{id}", get(get_dispute).post(submit_evidence))
        .route("/v1/disputes/{id}/close", post(close_dispute))
}

const DEFAULT_LIMIT: i64 = 20;
const MAX_LIMIT: i64 = 100;
const MAX_EVIDENCE_CHARS: usize = 20_000;

/// Query of `GET /v1/disputes`.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct ListDisputesQuery {
    /// Only disputes in this provider status (`needs_response`, `under_review`, `won`, ...).
    pub status: Option<String>,
    /// Only disputes of this payment (`pay_...`).
    pub payment: Option<String>,
    /// Page size, 1 to 100 (default 20).
    pub limit: Option<i64>,
    /// The `next_cursor` of the previous page.
    pub starting_after: Option<String>,
}

/// A page of disputes, newest first; shared with the console.
pub async fn list(state: &AppState, q: &ListDisputesQuery) -> Result<List<Dispute>, ApiError> {
    let limit = q.limit.unwrap_or(DEFAULT_LIMIT);
    if !(1..=MAX_LIMIT).contains(&limit) {
        return Err(ApiError::invalid(
            "limit",
            format!("The limit must be between 1 and {MAX_LIMIT}."),
        ));
    }
    let cursor = match q.starting_after.as_deref().filter(|c| !c.is_empty()) {
        Some(text) => Some(crate::ids::decode_cursor(text, "dsp").ok_or_else(|| {
            ApiError::invalid("starting_after", "Not a cursor from a previous page.")
        })?),
        None => None,
    };
    let mut rows = repo::page(
        &state.db,
        cursor,
        q.status.as_deref().filter(|s| !s.is_empty()),
        q.payment.as_deref().filter(|s| !s.is_empty()),
        limit,
    )
    .await?;
    let has_more = rows.len() as i64 > limit;
    rows.truncate(limit as usize);
    let next_cursor = has_more
        .then(|| rows.last().map(|(d, at)| format!("{at}.{}", d.id)))
        .flatten();
    Ok(List {
        data: rows.into_iter().map(|(d, _)| d).collect(),
        has_more,
        next_cursor,
    })
}

/// The dispute, if it can still be answered.
async fn answerable(state: &AppState, id: &str) -> Result<Dispute, ApiError> {
    let dispute = repo::get(&state.db, id)
        .await?
        .ok_or_else(|| ApiError::not_found("dispute"))?;
    if !dispute.needs_response {
        return Err(ApiError::conflict(
            "invalid_state",
            format!(
                "The dispute is {}: it takes no more responses.",
                dispute.status.replace('_', " ")
            ),
        ));
    }
    Ok(dispute)
}

/// Applies the provider's answer like a webhook (cause `api`) and returns the dispute now.
async fn record_answer(
    state: &AppState,
    dispute: &Dispute,
    facts: Option<DisputeFacts>,
    action: &str,
) -> Result<Dispute, ApiError> {
    let facts = facts.ok_or_else(|| ApiError::internal("the provider's dispute has no payment"))?;
    let mut tx = state.db.begin_write().await?;
    webhook::apply(
        state,
        &mut tx,
        dispute.provider,
        &facts,
        Cause::Api,
        &json!({ "action": action }),
    )
    .await?;
    tx.commit().await?;
    repo::get(&state.db, &dispute.id)
        .await?
        .ok_or_else(|| ApiError::internal("dispute vanished"))
}

/// Disputes, newest first.
#[utoipa::path(
    get, path = "/v1/disputes", tag = "disputes",
    params(ListDisputesQuery),
    responses((status = 200, body = List<Dispute>), (status = 400, body = Problem), (status = 401, body = Problem)),
    security(("bearer" = []))
)]
pub async fn list_disputes(
    State(state): State<AppState>,
    _merchant: Merchant,
    Query(q): Query<ListDisputesQuery>,
) -> ApiResult<axum::Json<List<Dispute>>> {
    Ok(axum::Json(list(&state, &q).await?))
}

/// One dispute.
#[utoipa::path(
    get, path = "/v1/disputes/{id}", tag = "disputes",
    params(("id" = String, Path, description = "dsp_...")),
    responses((status = 200, body = Dispute), (status = 401, body = Problem), (status = 404, body = Problem)),
    security(("bearer" = []))
)]
pub async fn get_dispute(
    State(state): State<AppState>,
    _merchant: Merchant,
    Path(id): Path<String>,
) -> ApiResult<axum::Json<Dispute>> {
    Ok(axum::Json(
        repo::get(&state.db, &id)
            .await?
            .ok_or_else(|| ApiError::not_found("dispute"))?,
    ))
}

/// Submit text evidence to the bank (or only stage it with `submit: false`).
#[utoipa::path(
    post, path = "/v1/disputes/{id}", tag = "disputes",
    params(("id" = String, Path, description = "dsp_...")),
    request_body = SubmitDisputeEvidence,
    responses((status = 200, body = Dispute), (status = 400, body = Problem), (status = 404, body = Problem), (status = 409, body = Problem)),
    security(("bearer" = []))
)]
pub async fn submit_evidence(
    State(state): State<AppState>,
    _merchant: Merchant,
    Path(id): Path<String>,
    Json(body): Json<SubmitDisputeEvidence>,
) -> ApiResult<axum::Json<Dispute>> {
    to_completion(async move { Ok(axum::Json(submit(&state, &id, &body).await?)) }).await
}

/// Checks the evidence, passes it to the provider and records the answer; shared with the
/// console.
pub async fn submit(
    state: &AppState,
    id: &str,
    body: &SubmitDisputeEvidence,
) -> Result<Dispute, ApiError> {
    if body.evidence.is_empty() {
        return Err(ApiError::invalid(
            "evidence",
            "Give at least one evidence field.",
        ));
    }
    for (field, value) in &body.evidence {
        if !DISPUTE_TEXT_EVIDENCE.contains(&field.as_str()) {
            return Err(ApiError::invalid(
                format!("evidence[{field}]"),
                format!(
                    "Unknown evidence field. Known: {}.",
                    DISPUTE_TEXT_EVIDENCE.join(", ")
                ),
            ));
        }
        if value.chars().count() > MAX_EVIDENCE_CHARS {
            return Err(ApiError::invalid(
                format!("evidence[{field}]"),
                format!("Evidence text is at most {MAX_EVIDENCE_CHARS} characters."),
            ));
        }
    }
    let dispute = answerable(state, id).await?;
    if dispute.provider == ProviderName::Paypal {
        // PayPal has no staging, and takes up to 2,000 characters of notes.
        if !body.submit {
            return Err(ApiError::invalid(
                "submit",
                "PayPal takes evidence at once: it cannot be staged.",
            ));
        }
        let chars: usize = body
            .evidence
            .iter()
            .map(|(k, v)| k.len() + 2 + v.chars().count() + 1)
            .sum();
        if chars > 2000 {
            return Err(ApiError::invalid(
                "evidence",
                "PayPal takes at most 2,000 characters of evidence in all.",
            ));
        }
    }
    let facts = state
        .providers
        .require(dispute.provider)?
        .answer_dispute(
            &format!("{id}-evidence-{}", new_id("rq")),
            &dispute.provider_reference,
            &body.evidence,
            body.submit,
        )
        .await?;
    let action = if body.submit {
        "evidence_submitted"
    } else {
        "evidence_staged"
    };
    record_answer(state, &dispute, facts, action).await
}

/// Accept the dispute (it is lost; an inquiry is closed).
#[utoipa::path(
    post, path = "/v1/disputes/{id}/close", tag = "disputes",
    params(("id" = String, Path, description = "dsp_...")),
    responses((status = 200, body = Dispute), (status = 404, body = Problem), (status = 409, body = Problem)),
    security(("bearer" = []))
)]
pub async fn close_dispute(
    State(state): State<AppState>,
    _merchant: Merchant,
    Path(id): Path<String>,
) -> ApiResult<axum::Json<Dispute>> {
    to_completion(async move { Ok(axum::Json(accept(&state, &id).await?)) }).await
}

/// Accepts the dispute at the provider and records the answer; shared with the console.
pub async fn accept(state: &AppState, id: &str) -> Result<Dispute, ApiError> {
    let dispute = answerable(state, id).await?;
    let facts = state
        .providers
        .require(dispute.provider)?
        .accept_dispute(
            &format!("{id}-close-{}", new_id("rq")),
            &dispute.provider_reference,
        )
        .await?;
    record_answer(state, &dispute, facts, "accepted").await
}
