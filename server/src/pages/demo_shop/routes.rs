//! `POST /demo/checkout` and `GET /demo/orders/{id}`: what the shop's page calls. The shop's
//! back end opens checkout sessions on the merchant's behalf, as a merchant's server would
//! with its secret key; the browser sends SKUs and quantities, never prices.

use super::catalog;
use super::orders::{self, Order, OrderItem};
use crate::checkout;
use crate::error::{ApiError, ApiResult};
use crate::http::extract::Json;
use crate::ids::{has_shape, new_id};
use crate::state::AppState;
use axum::extract::{Path, State};
use serde::Deserialize;
use serde_json::{json, Value};
use shared::api::{CreateCheckoutSession, LineItemRequest, Metadata};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Cart {
    items: Vec<CartItem>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CartItem {
    sku: String,
    quantity: i64,
}

/// Records an order awaiting payment and opens its checkout session; answers the session's id
/// (for the widget) and the order's (for the page to follow).
pub async fn checkout(
    State(state): State<AppState>,
    Json(cart): Json<Cart>,
) -> ApiResult<axum::Json<Value>> {
    let mut items = Vec::new();
    for item in &cart.items {
        let product = catalog::find(&item.sku).ok_or_else(|| {
            ApiError::invalid("items", format!("Unknown product {:?}.", item.sku))
        })?;
        items.push(OrderItem {
            sku: product.sku.to_string(),
            name: product.name.to_string(),
            unit_amount: product.price.to_string(),
            quantity: item.quantity,
        });
    }
    let order_id = new_id("ord");
    // The session names its order, as a merchant's would, for whoever reads it later.
    let metadata = Metadata::from([("demo_order".to_string(), order_id.clone())]);
    let body = CreateCheckoutSession {
        amount: None,
        currency: "USD".into(),
        line_items: items
            .iter()
            .map(|i| LineItemRequest {
                name: i.name.clone(),
                unit_amount: i.unit_amount.clone(),
                quantity: i.quantity,
            })
            .collect(),
        description: Some(format!("{} demo order", state.config.merchant_name)),
        customer_email: None,
        metadata,
        success_url: None,
        cancel_url: None,
        providers: None,
        capture_mode: Default::default(),
        expires_in: Some(3600),
        customer: None,
        save_payment_method: None,
        mode: Default::default(),
    };
    // The session validates the quantities and sums the total; the order keeps that total.
    let session = checkout::service::create(&state, body, None).await?;
    let now = state.clock.now_ms();
    orders::insert(
        &state.db,
        &Order {
            id: order_id.clone(),
            checkout_session_id: session.id.clone(),
            items,
            money: session.money,
            status: "awaiting_payment".into(),
            created_at: now,
            updated_at: now,
        },
    )
    .await?;
    Ok(axum::Json(json!({ "id": session.id, "order": order_id })))
}

/// The order as the shop knows it; the page polls its `status`.
pub async fn order(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> ApiResult<axum::Json<Value>> {
    if !has_shape(&id, "ord") {
        return Err(ApiError::not_found("order"));
    }
    let order = orders::get(&state.db, &id)
        .await?
        .ok_or_else(|| ApiError::not_found("order"))?;
    Ok(axum::Json(order.to_json()))
}
