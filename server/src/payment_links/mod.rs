//! Payment links: a reusable URL (`/pay/{id}`) for a fixed price or an amount the customer
//! chooses within bounds, with an optional limit on paid sessions and an optional expiry. Each
//! customer who presses the page's button gets a fresh checkout session (its `payment_link`
//! names the link, and so do its payments), paid in the widget like any other.
//!
//! One file per job: [`record`] (the row and its API object), [`repo`] (SQL), [`service`]
//! (validation, and opening a session under the link's lock), [`routes`] (the merchant API),
//! [`page`] (the public page).

pub mod page;
pub mod record;
pub mod repo;
pub mod routes;
pub mod service;

use crate::http::rate_limit::limit_widget;
use crate::state::AppState;
use axum::middleware::from_fn_with_state;
use axum::routing::get;
use axum::Router;

pub use routes::router;

/// The public page and its style sheet, under the widget's per-address rate limit.
pub fn page_router(state: &AppState) -> Router<AppState> {
    Router::new()
        .route("/pay/{id}", get(page::show).post(page::visit))
        .route_layer(from_fn_with_state(state.clone(), limit_widget))
        .route("/assets/pay.css", get(page::style))
}
