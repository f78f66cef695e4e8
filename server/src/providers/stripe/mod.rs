//! Stripe: the client (reqwest, form bodies, idempotency keys, retries), webhook signature
//! verification, and the mapping of Stripe's objects and events onto paygate's provider
//! abstraction. The same code talks to api.stripe.com with test or live keys and to the sandbox
//! emulator: only `STRIPE_API_BASE` differs.

pub mod billing;
pub mod client;
mod events;
pub mod form;
pub mod objects;
pub mod signature;

use self::client::{RetryPolicy, StripeClient, StripeError};
use self::form::Form;
use self::objects::{map_status, PaymentIntent};
use super::{
    CreateRequest, EventEffect, PaymentProvider, PaymentRefs, ProviderError, ProviderPayment,
    ProviderRefund, RefundRequest, RefundStatus, VerifiedEvent,
};
use crate::clock::Clock;
use crate::config::StripeConfig;
use async_trait::async_trait;
use axum::http::HeaderMap;
use secrecy::SecretString;
use shared::api::{CaptureMode, ProviderName};
use shared::providers::stripe as amounts;
use shared::{Currency, Money};
use std::time::Duration;

pub struct StripeProvider {
    pub client: StripeClient,
    webhook_secrets: Vec<SecretString>,
    tolerance: Duration,
    clock: Clock,
}

impl StripeProvider {
    /// None when no secret key is configured.
    pub fn from_config(
        config: &StripeConfig,
        timeout: Duration,
        clock: Clock,
    ) -> Option<StripeProvider> {
        let key = config.secret_key.clone()?;
        Some(StripeProvider::new(
            StripeClient::new(&config.api_base, key, timeout, RetryPolicy::default()),
            config.webhook_secrets.clone(),
            config.webhook_tolerance,
            clock,
        ))
    }

    pub fn new(
        client: StripeClient,
        webhook_secrets: Vec<SecretString>,
        tolerance: Duration,
        clock: Clock,
    ) -> StripeProvider {
        StripeProvider {
            client,
            webhook_secrets,
            tolerance,
            clock,
        }
    }

    fn payment_from(&self, value: serde_json::Value) -> Result<ProviderPayment, ProviderError> {
        let pi: PaymentIntent =
            serde_json::from_value(value).map_err(|e| ProviderError::Malformed(e.to_string()))?;
        let status = map_status(&pi.status).ok_or_else(|| {
            ProviderError::Malformed(format!("unknown PaymentIntent status {:?}", pi.status))
        })?;
        let captured_minor = decode(pi.amount_received, &pi.currency)
            .ok()
            .map(|m| m.minor());
        Ok(ProviderPayment {
            status,
            captured_minor: captured_minor.filter(|m| *m > 0),
            last_error: pi.last_error(),
            next_action: pi.next_action(),
            client_secret: pi.client_secret.clone(),
            authorization: None,
            capture: None,
            reference: pi.id,
        })
    }
}

/// Stripe's integer in its own encoding, back to Money.
pub(crate) fn decode(amount: i64, currency: &str) -> Result<Money, ProviderError> {
    let currency =
        Currency::from_code(currency).map_err(|e| ProviderError::Malformed(e.to_string()))?;
    amounts::decode_amount(amount, currency).map_err(|e| ProviderError::Malformed(e.to_string()))
}

fn encode(money: Money) -> Result<i64, ProviderError> {
    amounts::encode_amount(money).map_err(|e| ProviderError::InvalidRequest {
        message: e.to_string(),
        param: Some("amount".into()),
    })
}

/// Stripe's answers in paygate's terms (docs.stripe.com/api/errors).
pub(crate) fn map_error(e: StripeError) -> ProviderError {
    match e {
        StripeError::Transport(m) => ProviderError::Unavailable { message: m },
        StripeError::Decode(m) => ProviderError::Malformed(m),
        StripeError::Api {
            status,
            body,
            request_id,
        } => {
            let message = body.message.clone().unwrap_or_default();
            match (status, body.kind.as_str()) {
                (402, _) | (_, "card_error") => ProviderError::Declined {
                    code: body.code.unwrap_or_else(|| "card_declined".into()),
                    decline_code: body.decline_code,
                    message: if message.is_empty() {
                        "The card was declined.".into()
                    } else {
                        message
                    },
                },
                (401, _) | (403, _) => ProviderError::Authentication,
                (429, _) => ProviderError::Unavailable {
                    message: "rate limited by Stripe".into(),
                },
                (s, _) if s >= 500 => ProviderError::Unavailable {
                    message: format!("Stripe {s} ({request_id:?})"),
                },
                (409, _) => ProviderError::Unavailable {
                    message: format!("Stripe conflict: {message}"),
                },
                (_, "idempotency_error") => ProviderError::Rejected(message),
                (400, _) if body.code.as_deref() == Some("payment_intent_unexpected_state") => {
                    ProviderError::Conflict { message }
                }
                (400 | 404, _) => match body.param {
                    // A value the merchant supplied (a payment method, a customer, a price)
                    // is theirs to fix; anything else is a request paygate built.
                    Some(p)
                        if [
                            "payment_method",
                            "customer",
                            "price",
                            "items[0][price]",
                            "amount_to_capture",
                            "amount",
                        ]
                        .contains(&p.as_str()) =>
                    {
                        ProviderError::InvalidRequest {
                            message,
                            param: Some(p),
                        }
                    }
                    _ if body.code.as_deref() == Some("resource_missing") => {
                        ProviderError::InvalidRequest {
                            message,
                            param: None,
                        }
                    }
                    _ => ProviderError::Rejected(message),
                },
                _ => ProviderError::Rejected(message),
            }
        }
    }
}

#[async_trait]
impl PaymentProvider for StripeProvider {
    fn name(&self) -> ProviderName {
        ProviderName::Stripe
    }

    async fn create_payment(
        &self,
        request: &CreateRequest,
    ) -> Result<ProviderPayment, ProviderError> {
        let form = Form::new()
            .set("amount", encode(request.money)?)
            .set(
                "currency",
                amounts::currency_param(request.money.currency()),
            )
            .set(
                "capture_method",
                match request.capture_mode {
                    CaptureMode::Automatic => "automatic",
                    CaptureMode::Manual => "manual",
                },
            )
            .set("payment_method_types[]", "card")
            .set_opt("description", request.description.as_deref())
            .map("metadata", &request.metadata)
            .set("metadata[paygate_payment_id]", &request.payment_id)
            .set_opt("customer", request.stripe_customer.as_deref());
        let pi = self
            .client
            .post("/v1/payment_intents", &form, &request.idempotency_key)
            .await
            .map_err(map_error)?;
        self.payment_from(pi)
    }

    async fn retrieve_payment(&self, reference: &str) -> Result<ProviderPayment, ProviderError> {
        let pi = self
            .client
            .get(&format!("/v1/payment_intents/{reference}"), &Form::new())
            .await
            .map_err(map_error)?;
        self.payment_from(pi)
    }

    async fn confirm_payment(
        &self,
        payment: &PaymentRefs,
        payment_method: &str,
        idempotency_key: &str,
    ) -> Result<ProviderPayment, ProviderError> {
        let form = Form::new().set("payment_method", payment_method);
        match self
            .client
            .post(
                &format!("/v1/payment_intents/{}/confirm", payment.reference),
                &form,
                idempotency_key,
            )
            .await
        {
            Ok(pi) => self.payment_from(pi),
            Err(e) => Err(map_error(e)),
        }
    }

    async fn capture_payment(
        &self,
        payment: &PaymentRefs,
        amount: Option<Money>,
        idempotency_key: &str,
    ) -> Result<ProviderPayment, ProviderError> {
        let form = match amount {
            Some(m) => Form::new().set("amount_to_capture", encode(m)?),
            None => Form::new(),
        };
        let pi = self
            .client
            .post(
                &format!("/v1/payment_intents/{}/capture", payment.reference),
                &form,
                idempotency_key,
            )
            .await
            .map_err(map_error)?;
        self.payment_from(pi)
    }

    async fn cancel_payment(
        &self,
        payment: &PaymentRefs,
        idempotency_key: &str,
    ) -> Result<ProviderPayment, ProviderError> {
        let pi = self
            .client
            .post(
                &format!("/v1/payment_intents/{}/cancel", payment.reference),
                &Form::new().set("cancellation_reason", "requested_by_customer"),
                idempotency_key,
            )
            .await
            .map_err(map_error)?;
        self.payment_from(pi)
    }

    async fn refund(&self, request: &RefundRequest) -> Result<ProviderRefund, ProviderError> {
        let form = Form::new()
            .set("payment_intent", &request.payment.reference)
            .set("amount", encode(request.amount)?)
            .set_opt("reason", request.reason.as_deref())
            .set("metadata[paygate_refund_id]", &request.refund_id);
        let value = self
            .client
            .post("/v1/refunds", &form, &request.idempotency_key)
            .await
            .map_err(map_error)?;
        let refund: objects::Refund =
            serde_json::from_value(value).map_err(|e| ProviderError::Malformed(e.to_string()))?;
        Ok(ProviderRefund {
            status: RefundStatus::parse(&refund.status).unwrap_or(RefundStatus::Pending),
            failure_reason: refund.failure_reason,
            reference: refund.id,
        })
    }

    async fn verify_webhook(
        &self,
        headers: &HeaderMap,
        body: &[u8],
    ) -> Result<VerifiedEvent, ProviderError> {
        let header = headers
            .get("stripe-signature")
            .and_then(|v| v.to_str().ok());
        signature::verify(
            header,
            body,
            &self.webhook_secrets,
            self.tolerance,
            self.clock.now_secs(),
        )
        .map_err(|e| ProviderError::Unverified(e.to_string()))?;
        let event: objects::Event =
            serde_json::from_slice(body).map_err(|e| ProviderError::Malformed(e.to_string()))?;
        if event.id.is_empty() {
            return Err(ProviderError::Malformed("event without id".into()));
        }
        Ok(VerifiedEvent {
            event_id: event.id,
            event_type: event.kind,
        })
    }

    fn webhooks_need_current_state(&self) -> bool {
        true
    }

    fn interpret_event(&self, payload: &[u8]) -> Result<Vec<EventEffect>, ProviderError> {
        events::interpret(payload)
    }
}
