//! `/v1/customers/{id}/payment_methods`: a customer's saved cards, and removing one.

use super::repo;
use crate::auth::Merchant;
use crate::error::{ApiError, ApiResult};
use crate::http::detach::to_completion;
use crate::state::AppState;
use axum::extract::{Path, State};
use axum::routing::{delete, get};
use axum::Router;
use shared::api::{List, Problem, SavedPaymentMethod};

pub fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/v1/customers/{id}/payment_methods",
            get(list_payment_methods),
        )
        .route(
            "/v1/customers/{id}/payment_methods/{pm}",
            delete(detach_payment_method),
        )
}

/// The customer's saved cards (brand, last four digits, expiry), newest first: the newest
/// hundred, `has_more` saying whether there are others.
#[utoipa::path(
    get, path = "/v1/customers/{id}/payment_methods", tag = "customers",
    params(("id" = String, Path, description = "cus_...")),
    responses((status = 200, body = List<SavedPaymentMethod>), (status = 401, body = Problem), (status = 404, body = Problem)),
    security(("bearer" = []))
)]
pub async fn list_payment_methods(
    State(state): State<AppState>,
    _merchant: Merchant,
    Path(id): Path<String>,
) -> ApiResult<axum::Json<List<SavedPaymentMethod>>> {
    if !crate::customers::repo::exists(&state.db, &id).await? {
        return Err(ApiError::not_found("customer"));
    }
    // One more than shown says whether there are more (a customer with more than a hundred
    // saved cards is not one a merchant pages through).
    let mut cards = repo::list_usable(&state.db, &id, repo::LIST_LIMIT + 1).await?;
    let has_more = cards.len() as i64 > repo::LIST_LIMIT;
    cards.truncate(repo::LIST_LIMIT as usize);
    Ok(axum::Json(List {
        data: cards.iter().map(repo::SavedCard::to_api).collect(),
        has_more,
        next_cursor: None,
    }))
}

/// Removes a saved card: detached at Stripe, so it can no longer be charged.
#[utoipa::path(
    delete, path = "/v1/customers/{id}/payment_methods/{pm}", tag = "customers",
    params(("id" = String, Path, description = "cus_..."), ("pm" = String, Path, description = "pm_...")),
    responses((status = 200, body = SavedPaymentMethod), (status = 401, body = Problem), (status = 404, body = Problem), (status = 503, body = Problem)),
    security(("bearer" = []))
)]
pub async fn detach_payment_method(
    State(state): State<AppState>,
    _merchant: Merchant,
    Path((id, pm)): Path<(String, String)>,
) -> ApiResult<axum::Json<SavedPaymentMethod>> {
    // Only the customer's own card: the path names both, so one customer's id never reaches
    // another's card.
    let card = repo::get_usable(&state.db, &id, &pm)
        .await?
        .ok_or_else(|| ApiError::not_found("saved payment method of this customer"))?;
    to_completion(async move {
        let stripe = state.providers.require_stripe("Saved payment methods")?;
        let request = format!("detach-{}-{}", card.id, crate::ids::new_id("req"));
        stripe.detach_card(&request, &card.id).await?;
        let mut tx = state.db.begin_write().await?;
        let detached = super::record_detached(&mut tx, &card.id, state.clock.now_ms()).await?;
        tx.commit().await?;
        // A `payment_method.detached` event applied meanwhile did the same.
        let detached = detached.unwrap_or(repo::SavedCard {
            detached_at: Some(state.clock.now_ms()),
            ..card
        });
        Ok(axum::Json(detached.to_api()))
    })
    .await
}
