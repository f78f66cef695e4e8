//! What each Stripe event type means for paygate (docs.stripe.com/api/events/types). Unknown types
//! are stored and acknowledged by the inbox but have no effect.

use super::client::STRIPE_VERSION;
use super::decode;
use super::objects::{Event, PaymentIntent, Refund};
use crate::providers::{CardFacts, DisputeFacts, EventEffect, ProviderError, RefundStatus};
use serde_json::Value;

/// The kinds of event paygate acts on, each named once: `interpret` asks whether a type is one
/// (before reading an event of another API version back) and `interpret_object` reads it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Payment,
    Refund,
    ChargeRefunded,
    Dispute,
    Subscription,
    Invoice,
    PaymentMethod,
    Setup,
}

impl Kind {
    fn of(event_type: &str) -> Option<Kind> {
        Some(match event_type {
            "payment_intent.succeeded"
            | "payment_intent.payment_failed"
            | "payment_intent.requires_action"
            | "payment_intent.processing"
            | "payment_intent.canceled"
            | "payment_intent.amount_capturable_updated"
            | "payment_intent.created" => Kind::Payment,
            "refund.created" | "refund.updated" | "refund.failed" | "charge.refund.updated" => {
                Kind::Refund
            }
            "charge.refunded" => Kind::ChargeRefunded,
            "charge.dispute.created"
            | "charge.dispute.updated"
            | "charge.dispute.closed"
            | "charge.dispute.funds_withdrawn"
            | "charge.dispute.funds_reinstated" => Kind::Dispute,
            "customer.subscription.created"
            | "customer.subscription.updated"
            | "customer.subscription.deleted" => Kind::Subscription,
            "invoice.paid"
            | "invoice.payment_succeeded"
            | "invoice.payment_failed"
            | "invoice.payment_action_required" => Kind::Invoice,
            "payment_method.attached"
            | "payment_method.detached"
            | "payment_method.updated"
            | "payment_method.automatically_updated" => Kind::PaymentMethod,
            // A card saved by a checkout session in setup mode. Its other events
            // (`requires_action`, `setup_failed`, `canceled`) leave the session open.
            "setup_intent.succeeded" => Kind::Setup,
            _ => return None,
        })
    }
}

pub fn interpret(payload: &[u8]) -> Result<Vec<EventEffect>, ProviderError> {
    let event: Event =
        serde_json::from_slice(payload).map_err(|e| ProviderError::Malformed(e.to_string()))?;
    if Kind::of(&event.kind).is_none() {
        return Ok(Vec::new());
    }
    if event.api_version.as_deref() != Some(STRIPE_VERSION) {
        // Rendered at the endpoint's version, not the pinned one: fields paygate reads may have
        // moved (at 2025-03-31.basil a subscription's period went to its items and an invoice's
        // subscription under `parent`). Only the object's kind and id are read; the object is
        // read back at the pinned version and interpreted then.
        let object = &event.data.object;
        return Ok(vec![EventEffect::Reread {
            event_type: event.kind.clone(),
            object: str_field(object, "object")?,
            id: str_field(object, "id")?,
        }]);
    }
    interpret_object(&event.kind, &event.data.object)
}

/// What an event of type `kind` about `object` (rendered at the pinned version) changes.
pub fn interpret_object(kind: &str, object: &Value) -> Result<Vec<EventEffect>, ProviderError> {
    let Some(which) = Kind::of(kind) else {
        return Ok(Vec::new());
    };
    let effects = match which {
        Kind::Payment => {
            let pi: PaymentIntent = serde_json::from_value(object.clone())
                .map_err(|e| ProviderError::Malformed(e.to_string()))?;
            let Some(status) = pi.paygate_status() else {
                return Ok(Vec::new());
            };
            let captured = decode(pi.amount_received, &pi.currency)
                .ok()
                .map(|m| m.minor())
                .filter(|m| *m > 0);
            vec![EventEffect::PaymentUpdate {
                last_error: pi.last_error(),
                reference: pi.id,
                status,
                captured_minor: captured,
                authorization: None,
                capture: None,
            }]
        }
        Kind::Refund => {
            vec![refund_effect(object)?]
        }
        // At the pinned 2024-06-20 a card refund sends `charge.refunded` (a Charge, whose
        // `refunds` are no longer embedded since 2022-11-15) and `charge.refund.updated`;
        // `refund.created`/`refund.updated` only came for cash-balance refunds until
        // 2024-10-28.acacia (docs.stripe.com/changelog/acacia/2024-10-28/refund-webhook-update,
        // docs.stripe.com/changelog/2022-11-15/deprecates-charges-auto-expand). So a refund made
        // in the Dashboard is learnt by listing the charge's refunds.
        Kind::ChargeRefunded => match object.get("id").and_then(Value::as_str) {
            Some(charge) => vec![EventEffect::RefundsOfCharge {
                charge: charge.to_string(),
            }],
            None => {
                return Err(ProviderError::Malformed(
                    "charge.refunded without an id".into(),
                ))
            }
        },
        Kind::Dispute => match dispute_facts(object)? {
            Some(facts) => vec![EventEffect::Dispute(facts)],
            None => Vec::new(),
        },
        Kind::Subscription => {
            vec![EventEffect::SubscriptionUpdate {
                reference: str_field(object, "id")?,
                status: str_field(object, "status")?,
                cancel_at_period_end: object
                    .get("cancel_at_period_end")
                    .and_then(Value::as_bool)
                    .unwrap_or(false),
                current_period_end: object.get("current_period_end").and_then(Value::as_i64),
                pause_collection: super::billing::pause_collection_of(object),
            }]
        }
        Kind::Setup => vec![EventEffect::SetupUpdate(
            super::setup_intents::StripeSetupIntent::from_json(object)?,
        )],
        Kind::PaymentMethod => match card_facts(object)? {
            Some(card) => vec![EventEffect::SavedCard(card)],
            None => Vec::new(),
        },
        Kind::Invoice => {
            // The subscription's own events carry its status; an invoice event is recorded
            // against the subscription so its history shows payments and failures.
            match object.get("subscription").and_then(Value::as_str) {
                Some(sub) => vec![EventEffect::InvoiceUpdate {
                    subscription_reference: sub.to_string(),
                    invoice_id: str_field(object, "id")?,
                    status: str_field(object, "status")?,
                    event_type: kind.to_string(),
                }],
                None => Vec::new(),
            }
        }
    };
    Ok(effects)
}

/// A Stripe PaymentMethod as paygate keeps it; `None` for one that is not a card (paygate saves
/// cards only).
pub fn card_facts(object: &Value) -> Result<Option<CardFacts>, ProviderError> {
    let Some(card) = object.get("card").filter(|c| c.is_object()) else {
        return Ok(None);
    };
    let text = |name: &str| {
        card.get(name)
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string()
    };
    let number = |name: &str| card.get(name).and_then(Value::as_i64).unwrap_or(0);
    Ok(Some(CardFacts {
        id: str_field(object, "id")?,
        provider_customer: match object.get("customer") {
            Some(Value::String(id)) => Some(id.clone()),
            Some(Value::Object(o)) => o.get("id").and_then(Value::as_str).map(str::to_string),
            _ => None,
        },
        brand: text("brand"),
        last4: text("last4"),
        exp_month: number("exp_month"),
        exp_year: number("exp_year"),
    }))
}

/// A Stripe Dispute object as paygate keeps it; `None` for a dispute of no PaymentIntent (a
/// charge made without one is not paygate's).
pub fn dispute_facts(object: &Value) -> Result<Option<DisputeFacts>, ProviderError> {
    let Some(pi) = object.get("payment_intent").and_then(Value::as_str) else {
        return Ok(None);
    };
    Ok(Some(DisputeFacts {
        payment_reference: pi.to_string(),
        dispute_id: str_field(object, "id")?,
        reason: object
            .get("reason")
            .and_then(Value::as_str)
            .map(str::to_string),
        amount_minor: object
            .get("amount")
            .and_then(Value::as_i64)
            .zip(object.get("currency").and_then(Value::as_str))
            .and_then(|(a, c)| decode(a, c).ok())
            .map(|m| m.minor()),
        status: object
            .get("status")
            .and_then(Value::as_str)
            .unwrap_or("needs_response")
            .to_string(),
        evidence_due_by: object
            .pointer("/evidence_details/due_by")
            .and_then(Value::as_i64),
        submission_count: object
            .pointer("/evidence_details/submission_count")
            .and_then(Value::as_i64)
            .unwrap_or(0),
    }))
}

fn str_field(object: &Value, name: &str) -> Result<String, ProviderError> {
    object
        .get(name)
        .and_then(Value::as_str)
        .map(str::to_string)
        .ok_or_else(|| ProviderError::Malformed(format!("event object without {name}")))
}

pub(super) fn refund_effect(object: &Value) -> Result<EventEffect, ProviderError> {
    let refund: Refund = serde_json::from_value(object.clone())
        .map_err(|e| ProviderError::Malformed(e.to_string()))?;
    let status = match refund.status.as_str() {
        "succeeded" => RefundStatus::Succeeded,
        "failed" | "canceled" => RefundStatus::Failed,
        _ => RefundStatus::Pending,
    };
    // Stripe's amount is in its own unit of the currency (shared::providers::stripe decodes).
    let amount = shared::Currency::from_code(&refund.currency)
        .ok()
        .and_then(|c| shared::providers::stripe::decode_amount(refund.amount, c).ok());
    Ok(EventEffect::RefundUpdate {
        reference: refund.id,
        payment_reference: refund.payment_intent,
        status,
        failure_reason: refund.failure_reason,
        amount,
        paygate_refund_id: refund.metadata.get("paygate_refund_id").cloned(),
    })
}

/// For the console: why an event was applied only from a re-read (another API version).
pub fn version_note(payload: &Value) -> Option<String> {
    let version = payload.get("api_version").and_then(Value::as_str);
    (version != Some(STRIPE_VERSION)).then(|| {
        format!(
            "Rendered at Stripe API version {}, not the pinned {STRIPE_VERSION}: applied only from a re-read of its object.",
            version.unwrap_or("(none)")
        )
    })
}
