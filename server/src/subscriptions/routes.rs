//! `/v1/subscriptions`.

use super::repo;
use crate::auth::Merchant;
use crate::customers;
use crate::error::{ApiError, ApiResult};
use crate::events;
use crate::http::detach::to_completion;
use crate::http::extract::{Json, Query};
use crate::ids::new_id;
use crate::state::AppState;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::Router;
use serde::Deserialize;
use serde_json::json;
use shared::api::{
    ChangeSubscription, CreateSubscription, List, PauseSubscription, Problem, Subscription,
    SubscriptionInvoice,
};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/v1/subscriptions", post(create_subscription))
        .route(
            "/v1/subscriptions/{id}",
            get(get_subscription)
                .post(change_subscription)
                .delete(cancel_subscription),
        )
        .route("/v1/subscriptions/{id}/pause", post(pause_subscription))
        .route("/v1/subscriptions/{id}/resume", post(resume_subscription))
        .route("/v1/subscriptions/{id}/invoices", get(list_invoices))
}

/// The subscription, its Stripe id and the Stripe client, for a change at Stripe; a
/// subscription that ended or never reached Stripe cannot change.
async fn changeable(
    state: &AppState,
    id: &str,
) -> Result<
    (
        Subscription,
        String,
        std::sync::Arc<crate::providers::stripe::StripeProvider>,
    ),
    ApiError,
> {
    let current = repo::get(&state.db, id)
        .await?
        .ok_or_else(|| ApiError::not_found("subscription"))?;
    if matches!(
        current.status.as_str(),
        "canceled" | "incomplete_expired" | "failed"
    ) {
        return Err(ApiError::conflict(
            "invalid_state",
            format!("The subscription is {}.", current.status.replace('_', " ")),
        ));
    }
    let reference = current.provider_reference.clone().ok_or_else(|| {
        ApiError::conflict(
            "invalid_state",
            "The subscription was never created at Stripe.",
        )
    })?;
    let stripe = state.providers.require_stripe("Subscriptions")?;
    Ok((current, reference, stripe))
}

/// Records Stripe's answer about a subscription (and its new price, after a change) with its
/// `subscription.updated` event, and returns the subscription as paygate now has it.
async fn record_change(
    state: &AppState,
    id: &str,
    s: &crate::providers::stripe::billing::StripeSubscription,
    price: Option<&str>,
) -> Result<Subscription, ApiError> {
    let now = state.clock.now_ms();
    let mut tx = state.db.begin_write().await?;
    repo::record_provider_state(&mut tx, id, s, now).await?;
    if let Some(price) = price {
        repo::set_price(&mut tx, id, price, now).await?;
    }
    // The answer is what this change wrote, read in its transaction: read after the commit, it
    // could already be an older state the inbox applied meanwhile from a Stripe event read
    // back before this change (the next event's read-back brings the record up to date).
    let object = repo::get_in(&mut tx, id)
        .await?
        .ok_or_else(|| ApiError::internal("subscription vanished"))?;
    events::record(&mut tx, "subscription.updated", id, &json!(object), now).await?;
    tx.commit().await?;
    Ok(object)
}

/// Pause payment collection: the subscription stays active and its invoices are kept as
/// drafts, marked uncollectible or voided (`behavior`) until it resumes, by itself at
/// `resumes_at` or through `/resume`.
#[utoipa::path(
    post, path = "/v1/subscriptions/{id}/pause", tag = "subscriptions",
    params(("id" = String, Path, description = "sub_...")),
    request_body = PauseSubscription,
    responses((status = 200, body = Subscription), (status = 400, body = Problem), (status = 404, body = Problem), (status = 409, body = Problem)),
    security(("bearer" = []))
)]
pub async fn pause_subscription(
    State(state): State<AppState>,
    _merchant: Merchant,
    Path(id): Path<String>,
    Json(body): Json<PauseSubscription>,
) -> ApiResult<axum::Json<Subscription>> {
    to_completion(async move {
        if let Some(at) = body.resumes_at {
            let now = state.clock.now_secs();
            if at <= now || at > now + 5 * 366 * 24 * 60 * 60 {
                return Err(ApiError::invalid(
                    "resumes_at",
                    "resumes_at must be a Unix time in the future, at most five years ahead.",
                ));
            }
        }
        let (_, reference, stripe) = changeable(&state, &id).await?;
        let s = stripe
            .pause_subscription(
                &format!("{id}-pause-{}", new_id("rq")),
                &reference,
                body.behavior,
                body.resumes_at,
            )
            .await?;
        Ok(axum::Json(record_change(&state, &id, &s, None).await?))
    })
    .await
}

/// Move a subscription to another price, with Stripe's proration for the time left in the
/// period (`proration_behavior`: `create_prorations`, the default, puts it on the next
/// invoice; `always_invoice` invoices and charges it now; `none` makes none). A price with
/// another billing interval starts a new period and is invoiced at once; an invoice that is
/// not paid leaves the subscription `past_due` (its latest invoice `open`).
#[utoipa::path(
    post, path = "/v1/subscriptions/{id}", tag = "subscriptions",
    params(("id" = String, Path, description = "sub_...")),
    request_body = ChangeSubscription,
    responses((status = 200, body = Subscription), (status = 400, body = Problem), (status = 402, body = Problem), (status = 404, body = Problem), (status = 409, body = Problem)),
    security(("bearer" = []))
)]
pub async fn change_subscription(
    State(state): State<AppState>,
    _merchant: Merchant,
    Path(id): Path<String>,
    Json(body): Json<ChangeSubscription>,
) -> ApiResult<axum::Json<Subscription>> {
    to_completion(async move {
        if !body.price.starts_with("price_") || body.price.len() > 255 {
            return Err(ApiError::invalid(
                "price",
                "price must be a Stripe Price id (price_...).",
            ));
        }
        let (current, reference, stripe) = changeable(&state, &id).await?;
        if current.price == body.price {
            return Err(ApiError::invalid(
                "price",
                "The subscription is on this price already.",
            ));
        }
        let s = stripe
            .change_price(
                &format!("{id}-price-{}", new_id("rq")),
                &reference,
                &body.price,
                body.proration_behavior,
            )
            .await?;
        Ok(axum::Json(
            record_change(&state, &id, &s, Some(&body.price)).await?,
        ))
    })
    .await
}

/// Resume payment collection of a paused subscription.
#[utoipa::path(
    post, path = "/v1/subscriptions/{id}/resume", tag = "subscriptions",
    params(("id" = String, Path, description = "sub_...")),
    responses((status = 200, body = Subscription), (status = 404, body = Problem), (status = 409, body = Problem)),
    security(("bearer" = []))
)]
pub async fn resume_subscription(
    State(state): State<AppState>,
    _merchant: Merchant,
    Path(id): Path<String>,
) -> ApiResult<axum::Json<Subscription>> {
    to_completion(async move {
        let (current, reference, stripe) = changeable(&state, &id).await?;
        if current.pause_collection.is_none() {
            return Err(ApiError::conflict(
                "invalid_state",
                "The subscription's payment collection is not paused.",
            ));
        }
        let s = stripe
            .resume_subscription(&format!("{id}-resume-{}", new_id("rq")), &reference)
            .await?;
        Ok(axum::Json(record_change(&state, &id, &s, None).await?))
    })
    .await
}

/// The subscription's invoices at Stripe, newest first (the first, and each renewal).
#[utoipa::path(
    get, path = "/v1/subscriptions/{id}/invoices", tag = "subscriptions",
    params(("id" = String, Path, description = "sub_...")),
    responses((status = 200, body = List<SubscriptionInvoice>), (status = 404, body = Problem), (status = 409, body = Problem)),
    security(("bearer" = []))
)]
pub async fn list_invoices(
    State(state): State<AppState>,
    _merchant: Merchant,
    Path(id): Path<String>,
) -> ApiResult<axum::Json<List<SubscriptionInvoice>>> {
    let current = repo::get(&state.db, &id)
        .await?
        .ok_or_else(|| ApiError::not_found("subscription"))?;
    let Some(reference) = current.provider_reference else {
        return Ok(axum::Json(List {
            data: Vec::new(),
            has_more: false,
            next_cursor: None,
        }));
    };
    let stripe = state.providers.require_stripe("Subscriptions")?;
    let data = stripe.list_invoices(&reference).await?;
    Ok(axum::Json(List {
        data,
        has_more: false,
        next_cursor: None,
    }))
}

/// Subscribe a customer to a Stripe price.
#[utoipa::path(
    post, path = "/v1/subscriptions", tag = "subscriptions",
    request_body = CreateSubscription,
    params(("Idempotency-Key" = Option<String>, Header, description = "Makes retries safe.")),
    responses((status = 201, body = Subscription), (status = 400, body = Problem), (status = 402, body = Problem), (status = 404, body = Problem), (status = 503, body = Problem)),
    security(("bearer" = []))
)]
pub async fn create_subscription(
    State(state): State<AppState>,
    _merchant: Merchant,
    Json(body): Json<CreateSubscription>,
) -> ApiResult<(StatusCode, axum::Json<Subscription>)> {
    // Provider work finishes even if the caller goes away (see `http::detach`).
    to_completion(async move {
        if body.trial_days.is_some_and(|d| d > 730) {
            return Err(ApiError::invalid(
                "trial_days",
                "trial_days must be at most 730.",
            ));
        }
        if !body.price.starts_with("price_") || body.price.len() > 255 {
            return Err(ApiError::invalid(
                "price",
                "price must be a Stripe Price id (price_...).",
            ));
        }
        let stripe = state.providers.require_stripe("Subscriptions")?;
        let customer = customers::repo::get(&state.db, &state.cipher, &body.customer)
            .await?
            .ok_or_else(|| ApiError::not_found("customer").with_param("customer"))?;
        let stripe_customer = customer.stripe_customer_id.clone().ok_or_else(|| {
            ApiError::conflict(
                "invalid_state",
                "The customer is not mirrored at Stripe yet.",
            )
        })?;

        let id = new_id("sub");
        let now = state.clock.now_ms();
        let mut tx = state.db.begin_write().await?;
        repo::insert(&mut tx, &id, &customer.id, &body.price, now).await?;
        tx.commit().await?;

        let created = stripe
            .create_subscription(
                &id,
                &stripe_customer,
                &body.price,
                body.trial_days,
                body.payment_behavior,
            )
            .await;
        let mut tx = state.db.begin_write().await?;
        match &created {
            Ok(s) => {
                repo::record_provider_state(&mut tx, &id, s, state.clock.now_ms()).await?;
                if let Some(object) = repo::get_in(&mut tx, &id).await? {
                    events::record(&mut tx, "subscription.created", &id, &json!(object), now)
                        .await?;
                }
            }
            Err(_) => {
                repo::mark_failed(&mut tx, &id, state.clock.now_ms()).await?;
            }
        }
        tx.commit().await?;
        let created = created?;
        let mut answer = repo::get(&state.db, &id)
            .await?
            .ok_or_else(|| ApiError::internal("subscription vanished"))?;
        answer.client_secret = created.client_secret;
        Ok((StatusCode::CREATED, axum::Json(answer)))
    })
    .await
}

/// Fetch a subscription.
#[utoipa::path(
    get, path = "/v1/subscriptions/{id}", tag = "subscriptions",
    params(("id" = String, Path, description = "sub_...")),
    responses((status = 200, body = Subscription), (status = 404, body = Problem)),
    security(("bearer" = []))
)]
pub async fn get_subscription(
    State(state): State<AppState>,
    _merchant: Merchant,
    Path(id): Path<String>,
) -> ApiResult<axum::Json<Subscription>> {
    let s = repo::get(&state.db, &id)
        .await?
        .ok_or_else(|| ApiError::not_found("subscription"))?;
    Ok(axum::Json(s))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct CancelQuery {
    /// true: cancel when the paid period ends; false (default): cancel now.
    #[serde(default)]
    pub at_period_end: bool,
}

/// Cancel a subscription now, or at the end of the paid period.
#[utoipa::path(
    delete, path = "/v1/subscriptions/{id}", tag = "subscriptions",
    params(("id" = String, Path, description = "sub_..."), CancelQuery),
    responses((status = 200, body = Subscription), (status = 404, body = Problem), (status = 409, body = Problem)),
    security(("bearer" = []))
)]
pub async fn cancel_subscription(
    State(state): State<AppState>,
    _merchant: Merchant,
    Path(id): Path<String>,
    Query(q): Query<CancelQuery>,
) -> ApiResult<axum::Json<Subscription>> {
    // Provider work finishes even if the caller goes away (see `http::detach`).
    to_completion(async move {
        let current = repo::get(&state.db, &id)
            .await?
            .ok_or_else(|| ApiError::not_found("subscription"))?;
        if current.status == "canceled" {
            return Err(ApiError::conflict(
                "invalid_state",
                "The subscription is already canceled.",
            ));
        }
        let reference = current.provider_reference.clone().ok_or_else(|| {
            ApiError::conflict(
                "invalid_state",
                "The subscription was never created at Stripe.",
            )
        })?;
        let stripe = state.providers.require_stripe("Subscriptions")?;
        let s = stripe
            .cancel_subscription(&id, &reference, q.at_period_end)
            .await?;
        let mut tx = state.db.begin_write().await?;
        repo::record_provider_state(&mut tx, &id, &s, state.clock.now_ms()).await?;
        if let Some(object) = repo::get_in(&mut tx, &id).await? {
            let now = state.clock.now_ms();
            events::record(&mut tx, "subscription.updated", &id, &json!(object), now).await?;
        }
        tx.commit().await?;
        let s = repo::get(&state.db, &id)
            .await?
            .ok_or_else(|| ApiError::internal("subscription vanished"))?;
        Ok(axum::Json(s))
    })
    .await
}
