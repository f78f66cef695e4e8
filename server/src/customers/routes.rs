//! `/v1/customers`: customers mirrored at Stripe; personal data encrypted at rest.

use super::repo::{self, CustomerRecord, NewCustomer};
use crate::auth::Merchant;
use crate::error::{ApiError, ApiResult};
use crate::events;
use crate::http::detach::to_completion;
use crate::http::extract::Json;
use crate::state::AppState;
use crate::validate;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::Router;
use serde_json::json;
use shared::api::{CreateCustomer, Customer, Problem};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/v1/customers", post(create_customer))
        .route("/v1/customers/{id}", get(get_customer))
}

fn to_api(c: &CustomerRecord) -> Customer {
    Customer {
        id: c.id.clone(),
        email: c.email.clone(),
        name: c.name.clone(),
        stripe_customer: c.stripe_customer_id.clone(),
        default_payment_method: c.default_payment_method.clone(),
        metadata: c.metadata.clone(),
        created: c.created_at.div_euclid(1000),
    }
}

/// Create a customer (mirrored at Stripe), optionally with a default payment method.
#[utoipa::path(
    post, path = "/v1/customers", tag = "customers",
    request_body = CreateCustomer,
    params(("Idempotency-Key" = Option<String>, Header, description = "Makes retries safe.")),
    responses((status = 201, body = Customer), (status = 400, body = Problem), (status = 402, body = Problem), (status = 503, body = Problem)),
    security(("bearer" = []))
)]
pub async fn create_customer(
    State(state): State<AppState>,
    _merchant: Merchant,
    Json(body): Json<CreateCustomer>,
) -> ApiResult<(StatusCode, axum::Json<Customer>)> {
    // Provider work finishes even if the caller goes away (see `http::detach`).
    to_completion(async move {
        if let Some(email) = &body.email {
            validate::email("email", email)?;
        }
        validate::optional_text("name", body.name.as_deref(), 200)?;
        validate::metadata(&body.metadata)?;
        if let Some(pm) = &body.payment_method {
            if !pm.starts_with("pm_") || pm.len() > 255 {
                return Err(ApiError::invalid(
                    "payment_method",
                    "payment_method must be a Stripe payment method id (pm_...).",
                ));
            }
        }
        let stripe = state.providers.require_stripe("Customers")?;

        let now = state.clock.now_ms();
        let mut tx = state.db.begin_write().await?;
        let mut customer = repo::insert(
            &mut tx,
            &state.cipher,
            &NewCustomer {
                email: body.email.clone(),
                name: body.name.clone(),
                metadata: body.metadata.clone(),
            },
            now,
        )
        .await?;
        tx.commit().await?;

        let stripe_id = stripe
            .create_customer(
                &customer.id,
                customer.email.as_deref(),
                customer.name.as_deref(),
                &customer.metadata,
            )
            .await?;
        let mut tx = state.db.begin_write().await?;
        let now = state.clock.now_ms();
        repo::set_stripe_customer_id(&mut tx, &customer.id, &stripe_id, now).await?;
        customer.stripe_customer_id = Some(stripe_id.clone());
        // Without the email and name, which stay encrypted at rest (the events table is not).
        let object = Customer {
            email: None,
            name: None,
            ..to_api(&customer)
        };
        events::record(
            &mut tx,
            "customer.created",
            &customer.id,
            &json!(object),
            now,
        )
        .await?;
        tx.commit().await?;

        if let Some(pm) = &body.payment_method {
            let attached = stripe
                .attach_default_payment_method(&customer.id, &stripe_id, pm)
                .await?;
            // Saved for the customer like a card saved in a checkout (listed, chargeable off
            // session); Stripe's `payment_method.attached` event would record it too.
            // The card is attached at Stripe whatever happens here; if it cannot be read now,
            // Stripe's `payment_method.attached` event records it.
            let card = stripe
                .retrieve_card(&attached)
                .await
                .map_err(|e| tracing::warn!(customer = %customer.id, error = %e, "could not read the new card; its event will record it"))
                .ok()
                .flatten();
            let mut tx = state.db.begin_write().await?;
            let now = state.clock.now_ms();
            repo::set_default_payment_method(&mut tx, &customer.id, &attached, now).await?;
            if let Some(card) = &card {
                super::payment_methods::record_attached(&mut tx, &customer.id, card, now).await?;
            }
            tx.commit().await?;
            customer.default_payment_method = Some(attached);
        }
        Ok((StatusCode::CREATED, axum::Json(to_api(&customer))))
    })
    .await
}

/// Fetch a customer.
#[utoipa::path(
    get, path = "/v1/customers/{id}", tag = "customers",
    params(("id" = String, Path, description = "cus_...")),
    responses((status = 200, body = Customer), (status = 401, body = Problem), (status = 404, body = Problem)),
    security(("bearer" = []))
)]
pub async fn get_customer(
    State(state): State<AppState>,
    _merchant: Merchant,
    Path(id): Path<String>,
) -> ApiResult<axum::Json<Customer>> {
    let c = repo::get(&state.db, &state.cipher, &id)
        .await?
        .ok_or_else(|| ApiError::not_found("customer"))?;
    Ok(axum::Json(to_api(&c)))
}
