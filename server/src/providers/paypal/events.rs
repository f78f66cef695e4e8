//! What each PayPal webhook means for paygate (developer.paypal.com/api/rest/webhooks/event-names).
//! The resource's own status is what counts, not the event name alone; unknown types have no
//! effect.

use super::objects::{authorization_status, capture_status, related_order_id, Money, Order};
use crate::providers::{EventEffect, ProviderError, RefundStatus};
use serde_json::Value;
use shared::api::{PaymentError, PaymentStatus};

pub fn interpret(payload: &[u8]) -> Result<Vec<EventEffect>, ProviderError> {
    let event: Value =
        serde_json::from_slice(payload).map_err(|e| ProviderError::Malformed(e.to_string()))?;
    let kind = event
        .get("event_type")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let resource = event.get("resource").cloned().unwrap_or(Value::Null);
    let id = |v: &Value| v.get("id").and_then(Value::as_str).map(str::to_string);
    let effects = match kind {
        "CHECKOUT.ORDER.APPROVED" => {
            let order: Order = serde_json::from_value(resource)
                .map_err(|e| ProviderError::Malformed(e.to_string()))?;
            // A "approved" event may carry an order that is already completed
            // (developer.paypal.com/api/rest/webhooks/event-names).
            let mut pp = order.to_provider_payment();
            if pp.status == PaymentStatus::RequiresAction {
                pp.status = PaymentStatus::RequiresConfirmation;
            }
            vec![EventEffect::PaymentUpdate {
                reference: pp.reference,
                status: pp.status,
                captured_minor: pp.captured_minor,
                last_error: pp.last_error,
                authorization: pp.authorization,
                capture: pp.capture,
            }]
        }
        "CHECKOUT.PAYMENT-APPROVAL.REVERSED" => {
            let order_id = resource
                .get("order_id")
                .and_then(Value::as_str)
                .map(str::to_string)
                .or_else(|| id(&resource))
                .ok_or_else(|| {
                    ProviderError::Malformed("approval reversal without order id".into())
                })?;
            vec![EventEffect::PaymentUpdate {
                reference: order_id,
                status: PaymentStatus::Canceled,
                captured_minor: None,
                last_error: Some(PaymentError {
                    code: "approval_reversed".into(),
                    message:
                        "PayPal reversed the buyer's approval before the payment was captured."
                            .into(),
                    decline_code: None,
                    doc_url: None,
                }),
                authorization: None,
                capture: None,
            }]
        }
        "PAYMENT.CAPTURE.COMPLETED"
        | "PAYMENT.CAPTURE.PENDING"
        | "PAYMENT.CAPTURE.DENIED"
        | "PAYMENT.CAPTURE.DECLINED" => {
            let capture_id = id(&resource)
                .ok_or_else(|| ProviderError::Malformed("capture without id".into()))?;
            let status_text = resource
                .get("status")
                .and_then(Value::as_str)
                .unwrap_or_default();
            let (mut status, mut last_error) = capture_status(status_text);
            if matches!(kind, "PAYMENT.CAPTURE.DENIED" | "PAYMENT.CAPTURE.DECLINED")
                && status == PaymentStatus::Processing
            {
                // A pending capture that is then denied has no second chance.
                (status, last_error) = (
                    PaymentStatus::Failed,
                    Some(PaymentError {
                        code: "capture_denied".into(),
                        message: "PayPal denied the payment.".into(),
                        decline_code: None,
                        doc_url: None,
                    }),
                );
            }
            let captured_minor = (status == PaymentStatus::Succeeded)
                .then(|| resource.get("amount").cloned())
                .flatten()
                .and_then(|a| serde_json::from_value::<Money>(a).ok())
                .and_then(|m| m.minor());
            vec![EventEffect::PaymentUpdate {
                reference: related_order_id(&resource).unwrap_or_else(|| capture_id.clone()),
                status,
                captured_minor,
                last_error,
                authorization: resource
                    .pointer("/supplementary_data/related_ids/authorization_id")
                    .and_then(Value::as_str)
                    .map(str::to_string),
                capture: Some(capture_id),
            }]
        }
        "PAYMENT.CAPTURE.REFUNDED" => vec![refund_effect(&resource)?],
        "CUSTOMER.DISPUTE.CREATED" | "CUSTOMER.DISPUTE.UPDATED" | "CUSTOMER.DISPUTE.RESOLVED" => {
            match dispute_facts(&resource)? {
                Some(facts) => vec![EventEffect::Dispute(facts)],
                None => Vec::new(),
            }
        }
        "PAYMENT.CAPTURE.REVERSED" => {
            // Funds taken back from the merchant (e.g. a chargeback): a dispute whose funds are
            // withdrawn while PayPal decides (`under_review`), on the payment.
            match up_link_id(&resource) {
                Some(capture) => vec![EventEffect::Dispute(crate::providers::DisputeFacts {
                    payment_reference: capture,
                    dispute_id: id(&resource).unwrap_or_default(),
                    reason: Some("payment_reversed".into()),
                    amount_minor: resource
                        .get("amount")
                        .cloned()
                        .and_then(|a| serde_json::from_value::<Money>(a).ok())
                        .and_then(|m| m.minor()),
                    status: "under_review".into(),
                    evidence_due_by: None,
                    submission_count: 0,
                })],
                None => Vec::new(),
            }
        }
        "PAYMENT.AUTHORIZATION.CREATED" | "PAYMENT.AUTHORIZATION.VOIDED" => {
            let authorization_id = id(&resource)
                .ok_or_else(|| ProviderError::Malformed("authorization without id".into()))?;
            let (status, last_error) = authorization_status(
                resource
                    .get("status")
                    .and_then(Value::as_str)
                    .unwrap_or_default(),
            );
            vec![EventEffect::PaymentUpdate {
                reference: related_order_id(&resource).unwrap_or_else(|| authorization_id.clone()),
                status,
                captured_minor: None,
                last_error,
                authorization: Some(authorization_id),
                capture: None,
            }]
        }
        _ => Vec::new(),
    };
    Ok(effects)
}

/// The id at the end of a resource's `up` link (a refund's or a reversal's capture).
fn up_link_id(resource: &Value) -> Option<String> {
    resource
        .get("links")
        .and_then(Value::as_array)
        .and_then(|links| {
            links
                .iter()
                .find(|l| l.get("rel").and_then(Value::as_str) == Some("up"))
        })
        .and_then(|l| l.get("href").and_then(Value::as_str))
        .and_then(|href| href.rsplit('/').next())
        .map(str::to_string)
}

/// A refund resource (the event's, or `GET /v2/payments/refunds/{id}`, which have one shape) as
/// the refund's current state.
pub fn refund_effect(resource: &Value) -> Result<EventEffect, ProviderError> {
    let refund_id = resource
        .get("id")
        .and_then(Value::as_str)
        .map(str::to_string)
        .ok_or_else(|| ProviderError::Malformed("refund without id".into()))?;
    let amount = resource.get("amount").and_then(|a| {
        let currency = shared::Currency::from_code(a.get("currency_code")?.as_str()?).ok()?;
        shared::providers::paypal::decode_value(a.get("value")?.as_str()?, currency).ok()
    });
    Ok(EventEffect::RefundUpdate {
        reference: refund_id,
        // The refunded capture, from the refund's `up` link.
        payment_reference: up_link_id(resource),
        status: match resource.get("status").and_then(Value::as_str) {
            Some("COMPLETED") => RefundStatus::Succeeded,
            Some("FAILED") | Some("CANCELLED") => RefundStatus::Failed,
            _ => RefundStatus::Pending,
        },
        failure_reason: None,
        amount,
        // paygate sends its refund id as the refund's invoice_id.
        paygate_refund_id: resource
            .get("invoice_id")
            .and_then(Value::as_str)
            .filter(|id| id.starts_with("re_"))
            .map(str::to_string),
    })
}

/// A PayPal dispute (developer.paypal.com/api/customer-disputes/v1, the `dispute` resource of
/// `CUSTOMER.DISPUTE.*` and of `GET /v1/customer/disputes/{id}`) in paygate's terms, which are
/// Stripe's: an `INQUIRY` is a `warning_*` dispute (nothing held), a claim
/// (`CHARGEBACK` and later stages) a dispute; `WAITING_FOR_SELLER_RESPONSE` needs a response;
/// `RESOLVED` is won for `RESOLVED_SELLER_FAVOUR` or `CANCELED_BY_BUYER` and lost for
/// `RESOLVED_BUYER_FAVOUR`. `None` for a dispute about no capture.
pub fn dispute_facts(
    resource: &Value,
) -> Result<Option<crate::providers::DisputeFacts>, ProviderError> {
    let Some(capture) = resource
        .pointer("/disputed_transactions/0/seller_transaction_id")
        .and_then(Value::as_str)
    else {
        return Ok(None);
    };
    let dispute_id = resource
        .get("dispute_id")
        .and_then(Value::as_str)
        .ok_or_else(|| ProviderError::Malformed("dispute without dispute_id".into()))?;
    let inquiry = resource
        .get("dispute_life_cycle_stage")
        .and_then(Value::as_str)
        == Some("INQUIRY");
    let outcome = resource
        .pointer("/dispute_outcome/outcome_code")
        .and_then(Value::as_str);
    let status = match (resource.get("status").and_then(Value::as_str), inquiry) {
        (Some("RESOLVED"), _) if outcome == Some("RESOLVED_BUYER_FAVOUR") => "lost",
        (Some("RESOLVED"), true) => "warning_closed",
        (Some("RESOLVED"), false) => "won",
        (Some("WAITING_FOR_SELLER_RESPONSE"), true) => "warning_needs_response",
        (Some("WAITING_FOR_SELLER_RESPONSE"), false) => "needs_response",
        (_, true) => "warning_under_review",
        (_, false) => "under_review",
    };
    let due = resource
        .get("seller_response_due_date")
        .and_then(Value::as_str)
        .and_then(|t| {
            time::OffsetDateTime::parse(t.trim(), &time::format_description::well_known::Rfc3339)
                .ok()
        })
        .map(|t| t.unix_timestamp());
    Ok(Some(crate::providers::DisputeFacts {
        payment_reference: capture.to_string(),
        dispute_id: dispute_id.to_string(),
        reason: resource
            .get("reason")
            .and_then(Value::as_str)
            .map(|r| r.to_ascii_lowercase()),
        amount_minor: resource
            .get("dispute_amount")
            .cloned()
            .and_then(|a| serde_json::from_value::<Money>(a).ok())
            .and_then(|m| m.minor()),
        status: status.to_string(),
        evidence_due_by: due,
        submission_count: 0,
    }))
}
