//! Every type of event paygate emits, with the object it carries and when it fires
//! (`GET /v1/event_types`; docs/EVENTS.md has an example of each). An event type is added here
//! before any code records it: `events::record` refuses unknown types in debug builds, and a
//! test checks that every event a full run of the suite's flows emits is listed.

use shared::api::EventType;

/// `(type, object, when it fires)`.
pub const CATALOG: &[(&str, &str, &str)] = &[
    ("checkout.session.created", "checkout.session", "A checkout session was opened."),
    ("checkout.session.completed", "checkout.session", "A payment paid the session (captured, or authorised in manual-capture mode); `payment` names it. Fulfil the order on this event. A session in `mode: setup` completes when its card is saved; `payment_method` names the card."),
    ("checkout.session.expired", "checkout.session", "The session's time ran out unpaid; its open payments are canceled."),
    ("payment.created", "payment", "A payment was created (before the provider is asked)."),
    ("payment.requires_payment_method", "payment", "The payment waits for a (new) payment method, without an error."),
    ("payment.requires_confirmation", "payment", "The payment waits to be confirmed (a PayPal order the buyer approved)."),
    ("payment.requires_action", "payment", "The customer must act: 3-D Secure, or approval at PayPal. For an off-session charge of a saved card whose bank wants the customer to authenticate, `next_action` is `{\"type\": \"authenticate\", \"url\": ...}`: send the customer to that paygate page."),
    ("payment.processing", "payment", "The provider is processing the payment."),
    ("payment.requires_capture", "payment", "The payment is authorised and waits to be captured."),
    ("payment.succeeded", "payment", "The payment is captured."),
    ("payment.failed", "payment", "An attempt failed: a decline that leaves the payment open for another payment method (`last_error` says why), or a payment that ended failed."),
    ("payment.canceled", "payment", "The payment was canceled or its authorisation voided."),
    ("payment.updated", "payment", "Something other than the status changed (a provider reference, the captured amount, the next action)."),
    ("payment.dispute_opened", "payment", "The customer disputed the payment; `data.dispute` has the provider's dispute id, reason and amount."),
    ("dispute.created", "dispute", "A provider opened a dispute (or an inquiry) against a payment; `evidence_due_by` says until when it can be answered."),
    ("dispute.updated", "dispute", "A dispute changed: evidence submitted, under review, the amount or the deadline."),
    ("dispute.closed", "dispute", "A dispute ended: `status` is `won`, `lost` or `warning_closed` (an inquiry)."),
    ("refund.created", "refund", "A refund was created and sent to the provider."),
    ("refund.pending", "refund", "The provider accepted the refund and has not finished it."),
    ("refund.succeeded", "refund", "The refund is done; the payment's `refunded_minor` includes it."),
    ("refund.failed", "refund", "The provider refused or failed the refund; its amount can be refunded again."),
    ("subscription.created", "subscription", "A subscription was created at Stripe."),
    ("subscription.updated", "subscription", "A subscription's status, period, price, paused collection or cancellation changed."),
    ("subscription.invoice_paid", "subscription", "An invoice of the subscription was paid."),
    ("subscription.invoice_payment_failed", "subscription", "Paying an invoice of the subscription failed (a renewal that failed: the merchant should reach the customer)."),
    ("subscription.invoice_action_required", "subscription", "An invoice of the subscription needs the customer to authenticate (3-D Secure) before it can be paid."),
    ("payment_link.created", "payment_link", "A payment link was created."),
    ("payment_link.updated", "payment_link", "A payment link was deactivated or activated again (`active`)."),
    ("customer.created", "customer", "A customer was created (and mirrored at Stripe)."),
    ("payment_method.attached", "payment_method", "A card was saved for a customer (in a checkout, when the customer was created, or at Stripe): brand, last four digits and expiry."),
    ("payment_method.detached", "payment_method", "A saved card was removed (through paygate or at Stripe) and can no longer be charged."),
    ("webhook_endpoint.disabled", "webhook_endpoint", "paygate disabled a webhook endpoint whose every attempt had failed for 5 days (`disabled_reason`: `failing`); sent to the other endpoints. Enable it again with `POST /v1/webhook_endpoints/{id}` and `status: enabled`."),
];

pub fn is_known(kind: &str) -> bool {
    CATALOG.iter().any(|(k, _, _)| *k == kind)
}

pub fn all() -> Vec<EventType> {
    CATALOG
        .iter()
        .map(|(kind, object, description)| EventType {
            kind: kind.to_string(),
            object: object.to_string(),
            description: description.to_string(),
        })
        .collect()
}
