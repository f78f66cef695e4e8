//! Stripe: the client (reqwest, form bodies, idempotency keys, retries), webhook signature
//! verification, and the mapping of Stripe's objects and events onto paygate's provider
//! abstraction. The same code talks to api.stripe.com with test or live keys and to the sandbox
//! emulator: only `STRIPE_API_BASE` differs.

pub mod billing;
pub mod client;
pub mod events;
pub mod form;
pub mod objects;
pub mod setup_intents;
pub mod signature;

use self::client::{RetryPolicy, StripeClient, StripeError};
use self::form::Form;
use self::objects::PaymentIntent;
use super::{
    CreateRequest, ErrorReference, EventEffect, PaymentProvider, PaymentRefs, ProviderError,
    ProviderPayment, ProviderRefund, RefundRequest, RefundStatus, VerifiedEvent,
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

/// Whether a Stripe object carries paygate's id `id` in `metadata[key]`.
fn has_paygate_id(object: &serde_json::Value, key: &str, id: &str) -> bool {
    object
        .get("metadata")
        .and_then(|m| m.get(key))
        .and_then(serde_json::Value::as_str)
        == Some(id)
}

fn provider_refund(refund: objects::Refund) -> ProviderRefund {
    ProviderRefund {
        status: RefundStatus::parse(&refund.status).unwrap_or(RefundStatus::Pending),
        failure_reason: refund.failure_reason,
        reference: refund.id,
    }
}

/// `find_payment` reads at most this many pages of 100 PaymentIntents.
const FIND_PAGES: usize = 20;

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

    /// Pages through a Stripe list (`limit=100`, then `starting_after`, newest first), handing
    /// each object to `visit` until it returns something or the list ends. More than
    /// `max_pages` pages is an error: the caller would be guessing.
    async fn scan_list<T>(
        &self,
        path: &str,
        query: Form,
        max_pages: usize,
        mut visit: impl FnMut(&serde_json::Value) -> Result<Option<T>, ProviderError>,
    ) -> Result<Option<T>, ProviderError> {
        let mut after: Option<String> = None;
        for _ in 0..max_pages {
            let mut page_query = query.clone().set("limit", "100");
            if let Some(last) = &after {
                page_query = page_query.set("starting_after", last);
            }
            let page = self
                .client
                .get(path, &page_query)
                .await
                .map_err(map_error)?;
            let data = page
                .get("data")
                .and_then(serde_json::Value::as_array)
                .ok_or_else(|| ProviderError::Malformed(format!("{path}: a list without data")))?;
            for object in data {
                if let Some(found) = visit(object)? {
                    return Ok(Some(found));
                }
            }
            after = data
                .last()
                .and_then(|o| o.get("id"))
                .and_then(serde_json::Value::as_str)
                .map(str::to_string);
            if page.get("has_more").and_then(serde_json::Value::as_bool) != Some(true)
                || after.is_none()
            {
                return Ok(None);
            }
        }
        Err(ProviderError::Unavailable {
            message: format!("{path}: more than {max_pages} pages; not found in them"),
        })
    }

    fn payment_from(&self, value: serde_json::Value) -> Result<ProviderPayment, ProviderError> {
        let pi: PaymentIntent =
            serde_json::from_value(value).map_err(|e| ProviderError::Malformed(e.to_string()))?;
        let status = pi.paygate_status().ok_or_else(|| {
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
            payment_method: pi.payment_method_id(),
            authorization: None,
            capture: None,
            reference: pi.id,
        })
    }
}

/// Stripe ids are letters, digits and underscores; anything else never goes into a path.
pub(crate) fn check_id(id: &str) -> Result<(), ProviderError> {
    if id.is_empty() || !id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') {
        return Err(ProviderError::Malformed(format!(
            "{id:?} is not a Stripe id"
        )));
    }
    Ok(())
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
            replayed,
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
                    reference: Box::new(ErrorReference {
                        doc_url: body.doc_url,
                        request_log_url: body.request_log_url,
                        request_id,
                    }),
                },
                (401, _) | (403, _) => ProviderError::Authentication,
                (429, _) => ProviderError::Unavailable {
                    message: "rate limited by Stripe".into(),
                },
                // A server error Stripe saved under the key when the request began executing
                // ("including 500 errors", docs.stripe.com/api/idempotent_requests): the key
                // will answer it again for 24 hours.
                (s, _) if s >= 500 && replayed => ProviderError::SavedFailure {
                    message: format!("Stripe {s} replayed ({request_id:?})"),
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
    /// `POST /v1/disputes/{id}` with `evidence[...]` and `submit`
    /// (docs.stripe.com/api/disputes/update); the dispute as Stripe has it after.
    async fn answer_dispute(
        &self,
        request: &str,
        dispute_id: &str,
        evidence: &std::collections::BTreeMap<String, String>,
        submit: bool,
    ) -> Result<Option<crate::providers::DisputeFacts>, ProviderError> {
        let mut form = Form::new().set("submit", if submit { "true" } else { "false" });
        for (field, value) in evidence {
            form = form.set(format!("evidence[{field}]"), value);
        }
        let v = self
            .client
            .post(&format!("/v1/disputes/{dispute_id}"), &form, request)
            .await
            .map_err(map_error)?;
        events::dispute_facts(&v)
    }

    /// Accepts the dispute as lost (`POST /v1/disputes/{id}/close`).
    async fn accept_dispute(
        &self,
        request: &str,
        dispute_id: &str,
    ) -> Result<Option<crate::providers::DisputeFacts>, ProviderError> {
        let v = self
            .client
            .post(
                &format!("/v1/disputes/{dispute_id}/close"),
                &Form::new(),
                request,
            )
            .await
            .map_err(map_error)?;
        events::dispute_facts(&v)
    }

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
            .set_opt("customer", request.stripe_customer.as_deref())
            // Saves the card on the customer when the payment succeeds
            // (docs.stripe.com/payments/save-during-payment).
            .set_opt(
                "setup_future_usage",
                request.setup_future_usage.then_some("off_session"),
            );
        // A saved card charged now without the customer (docs.stripe.com/payments/save-and-reuse:
        // `customer`, `payment_method`, `off_session=true`, `confirm=true`).
        let form = match &request.off_session_payment_method {
            Some(pm) => form
                .set("payment_method", pm)
                .set("off_session", "true")
                .set("confirm", "true"),
            None => form,
        };
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

    /// The PaymentIntent's refunds (`GET /v1/refunds?payment_intent=`, newest first) and the one
    /// whose `metadata[paygate_refund_id]` is this refund.
    async fn find_refund(
        &self,
        payment: &PaymentRefs,
        refund_id: &str,
    ) -> Result<Option<ProviderRefund>, ProviderError> {
        let found = self
            .scan_list(
                "/v1/refunds",
                Form::new().set("payment_intent", &payment.reference),
                usize::MAX,
                |r| Ok(has_paygate_id(r, "paygate_refund_id", refund_id).then(|| r.clone())),
            )
            .await?;
        found
            .map(|r| {
                serde_json::from_value::<objects::Refund>(r)
                    .map(provider_refund)
                    .map_err(|e| ProviderError::Malformed(e.to_string()))
            })
            .transpose()
    }

    /// Lists the PaymentIntents created since shortly before the payment (newest first, page by
    /// page) and takes the one whose `metadata[paygate_payment_id]` is this payment. A list, not
    /// `GET /v1/payment_intents/search`: search is for "not read-after-write flows", data being
    /// searchable "in less than a minute" and up to an hour late in outages
    /// (docs.stripe.com/api/payment_intents/search); a list is read-after-write.
    async fn find_payment(
        &self,
        payment_id: &str,
        created_ms: i64,
    ) -> Result<Option<ProviderPayment>, ProviderError> {
        // Clocks differ: look from ten minutes before our own creation time.
        let since = (created_ms.div_euclid(1000) - 600).to_string();
        let found = self
            .scan_list(
                "/v1/payment_intents",
                Form::new().set("created[gte]", &since),
                FIND_PAGES,
                |pi| Ok(has_paygate_id(pi, "paygate_payment_id", payment_id).then(|| pi.clone())),
            )
            .await?;
        found.map(|pi| self.payment_from(pi)).transpose()
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
        Ok(provider_refund(refund))
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
        let event: objects::EventHeader =
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

    /// `GET /v1/refunds/{id}`. The inbox does not ask (Stripe's signed snapshot is trusted);
    /// reconciliation does, for refunds still pending.
    async fn retrieve_refund(&self, reference: &str) -> Result<Option<EventEffect>, ProviderError> {
        check_id(reference)?;
        let refund = self
            .client
            .get(&format!("/v1/refunds/{reference}"), &Form::new())
            .await
            .map_err(map_error)?;
        events::refund_effect(&refund).map(Some)
    }

    /// `GET` of the event's object at the pinned version, then the event read from that.
    async fn reread(
        &self,
        event_type: &str,
        object: &str,
        id: &str,
    ) -> Result<Vec<EventEffect>, ProviderError> {
        let collection = match object {
            "payment_intent" => "payment_intents",
            "charge" => "charges",
            "refund" => "refunds",
            "dispute" => "disputes",
            "subscription" => "subscriptions",
            "invoice" => "invoices",
            "payment_method" => "payment_methods",
            "setup_intent" => "setup_intents",
            other => {
                return Err(ProviderError::Malformed(format!(
                    "an event about a {other:?}, which paygate does not read back"
                )))
            }
        };
        check_id(id)?;
        // A SetupIntent's card comes with it, to be recorded with the session it completes.
        let query = match object {
            "setup_intent" => Form::new().list("expand", ["payment_method"]),
            _ => Form::new(),
        };
        let fresh = self
            .client
            .get(&format!("/v1/{collection}/{id}"), &query)
            .await
            .map_err(map_error)?;
        events::interpret_object(event_type, &fresh)
    }

    /// `GET /v1/refunds?charge=` page by page (docs.stripe.com/api/refunds/list: "Only return
    /// refunds for the charge specified by this charge ID").
    async fn refunds_of_charge(&self, charge: &str) -> Result<Vec<EventEffect>, ProviderError> {
        let mut effects = Vec::new();
        self.scan_list(
            "/v1/refunds",
            Form::new().set("charge", charge),
            usize::MAX,
            |refund| {
                effects.push(events::refund_effect(refund)?);
                Ok(None::<()>)
            },
        )
        .await?;
        Ok(effects)
    }
}
