//! The sandbox demo shop: the page at `/` with a cart, and a small back end standing in for a
//! merchant's server, built the way paygate asks merchants to build theirs. `POST /demo/checkout`
//! prices the cart, records an order awaiting payment and opens a checkout session for it; the
//! order is marked paid only when paygate's signed `checkout.session.completed` webhook reaches
//! `POST /demo/webhooks` (never on the browser's word: the widget's `onSuccess` only starts the
//! page polling `GET /demo/orders/{id}`). At start-up the shop registers that webhook endpoint
//! through the merchant API's own code and keeps its signing secret.
//!
//! Sandbox mode only: in live mode none of these routes exist (404).

pub mod catalog;
pub mod orders;
pub mod page;
pub mod receiver;
pub mod registration;
mod routes;
pub mod signature;

pub use registration::register;

use crate::state::AppState;
use axum::routing::{get, post};
use axum::Router;

/// Where paygate delivers the shop's events, under `PAYGATE_PUBLIC_URL`.
pub const WEBHOOK_PATH: &str = "/demo/webhooks";
/// The description of the shop's endpoint, so merchants recognise it in the endpoint list.
pub const ENDPOINT_DESCRIPTION: &str =
    "paygate sandbox demo shop (fulfils orders from this webhook)";
/// The events the shop acts on.
pub const ENABLED_EVENTS: [&str; 2] = ["checkout.session.completed", "checkout.session.expired"];

/// The shop's routes; mounted in sandbox mode only.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/demo/checkout", post(routes::checkout))
        .route("/demo/orders/{id}", get(routes::order))
        .route(WEBHOOK_PATH, post(receiver::receive))
        .route("/demo/shop.js", get(page::shop_js))
        .route("/demo/shop.css", get(page::shop_css))
}
