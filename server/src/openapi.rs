//! `GET /openapi.json`: the merchant API's OpenAPI document, generated from the handlers'
//! annotations and the `shared` types, so it cannot drift from the code.

use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityScheme};
use utoipa::{Modify, OpenApi};

#[derive(OpenApi)]
#[openapi(
    info(title = "paygate merchant API", description = "Server-to-server API of paygate. Authenticate with `Authorization: Bearer <secret key>`; every POST accepts an `Idempotency-Key`. Errors are RFC 9457 problem documents."),
    paths(
        crate::checkout::routes::create_session,
        crate::checkout::routes::get_session,
        crate::payments::routes::create_payment,
        crate::payments::routes::list_payments,
        crate::payments::routes::get_payment,
        crate::payments::routes::confirm_payment,
        crate::payments::routes::capture_payment,
        crate::payments::routes::cancel_payment,
        crate::refunds::routes::create_refund,
        crate::refunds::routes::get_refund,
        crate::customers::routes::create_customer,
        crate::customers::routes::get_customer,
        crate::subscriptions::routes::create_subscription,
        crate::subscriptions::routes::get_subscription,
        crate::subscriptions::routes::cancel_subscription,
        crate::events::routes::list_events,
        crate::events::routes::list_event_types,
        crate::merchant_webhooks::routes::create_endpoint,
        crate::merchant_webhooks::routes::list_endpoints,
        crate::merchant_webhooks::routes::get_endpoint,
        crate::merchant_webhooks::routes::update_endpoint,
        crate::merchant_webhooks::routes::delete_endpoint,
        crate::merchant_webhooks::routes::rotate_secret,
        crate::merchant_webhooks::routes::list_deliveries,
        crate::merchant_webhooks::routes::resend_event,
    ),
    modifiers(&BearerAuth),
    tags(
        (name = "checkout", description = "Checkout sessions paid in the widget"),
        (name = "payments", description = "Payments with Stripe or PayPal"),
        (name = "refunds", description = "Refunds of captured payments"),
        (name = "customers", description = "Customers, mirrored at Stripe"),
        (name = "subscriptions", description = "Subscriptions to Stripe prices"),
        (name = "events", description = "Events paygate emitted"),
    )
)]
pub struct ApiDoc;

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(Http::new(HttpAuthScheme::Bearer)),
        );
    }
}

pub async fn serve() -> axum::Json<utoipa::openapi::OpenApi> {
    axum::Json(ApiDoc::openapi())
}
