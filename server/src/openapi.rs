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
        crate::payment_links::routes::create_link,
        crate::payment_links::routes::list_links,
        crate::payment_links::routes::get_link,
        crate::payment_links::routes::update_link,
        crate::disputes::routes::list_disputes,
        crate::disputes::routes::get_dispute,
        crate::disputes::routes::submit_evidence,
        crate::disputes::routes::close_dispute,
        crate::customers::routes::create_customer,
        crate::customers::routes::get_customer,
        crate::customers::payment_methods::routes::list_payment_methods,
        crate::customers::payment_methods::routes::detach_payment_method,
        crate::subscriptions::routes::create_subscription,
        crate::subscriptions::routes::get_subscription,
        crate::subscriptions::routes::cancel_subscription,
        crate::subscriptions::routes::change_subscription,
        crate::subscriptions::routes::pause_subscription,
        crate::subscriptions::routes::resume_subscription,
        crate::subscriptions::routes::list_invoices,
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
    modifiers(&BearerAuth, &ProblemResponses),
    tags(
        (name = "checkout", description = "Checkout sessions paid in the widget"),
        (name = "payments", description = "Payments with Stripe or PayPal"),
        (name = "payment_links", description = "Reusable links that open a checkout session per customer"),
        (name = "disputes", description = "Disputes providers opened, and the merchant's response"),
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

/// Errors as they are sent: every 4xx and 5xx is an RFC 9457 problem document served as
/// `application/problem+json`, and every operation lists the failures any request can meet
/// besides its own (bad input, no key, a missing object, a conflict or a reused idempotency
/// key, the rate limit, a time-out). Found missing by schemathesis (docs/SECURITY.md).
struct ProblemResponses;

/// The failures any merchant API request can meet, with their meaning.
const COMMON_FAILURES: [(&str, &str); 11] = [
    (
        "400",
        "The request is malformed or a value is invalid (`param` names it).",
    ),
    ("401", "No valid API key."),
    ("404", "No such object, or no such route."),
    ("405", "The route does not accept this method."),
    (
        "409",
        "The object's state does not allow this, or the same Idempotency-Key is in flight.",
    ),
    ("413", "The body is larger than PAYGATE_BODY_LIMIT_BYTES."),
    ("422", "The Idempotency-Key was used with other parameters."),
    (
        "429",
        "Over the rate limit; `Retry-After` says when to come back.",
    ),
    (
        "500",
        "A fault inside paygate (logged); retry with the same Idempotency-Key.",
    ),
    (
        "502",
        "The provider failed; retry with the same Idempotency-Key.",
    ),
    (
        "503",
        "A provider or the database did not answer in time; retry with the same Idempotency-Key.",
    ),
];

impl Modify for ProblemResponses {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::{Content, Ref, RefOr, Response};
        let problem = || Content::new(Some(Ref::from_schema_name("Problem")));
        for item in openapi.paths.paths.values_mut() {
            let operations = [
                &mut item.get,
                &mut item.post,
                &mut item.put,
                &mut item.delete,
                &mut item.patch,
            ];
            for operation in operations.into_iter().flatten() {
                let responses = &mut operation.responses.responses;
                for (status, response) in responses.iter_mut() {
                    let failure = status.starts_with('4') || status.starts_with('5');
                    if let (true, RefOr::T(response)) = (failure, response) {
                        if let Some(content) = response.content.shift_remove("application/json") {
                            response
                                .content
                                .insert("application/problem+json".to_string(), content);
                        }
                    }
                }
                if operation.request_body.is_some() {
                    responses.entry("415".to_string()).or_insert_with(|| {
                        let mut response =
                            Response::new("The body is not sent as `application/json`.");
                        response
                            .content
                            .insert("application/problem+json".to_string(), problem());
                        RefOr::T(response)
                    });
                }
                for (status, meaning) in COMMON_FAILURES {
                    responses.entry(status.to_string()).or_insert_with(|| {
                        let mut response = Response::new(meaning);
                        response
                            .content
                            .insert("application/problem+json".to_string(), problem());
                        RefOr::T(response)
                    });
                }
            }
        }
    }
}

pub async fn serve() -> axum::Json<utoipa::openapi::OpenApi> {
    axum::Json(ApiDoc::openapi())
}
