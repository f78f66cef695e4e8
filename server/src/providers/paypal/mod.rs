//! PayPal: the REST client (OAuth2, Orders v2, Payments v2), webhook verification (offline
//! certificate check or PayPal's verification API), and the mapping of orders, captures,
//! authorizations and refunds onto paygate's provider abstraction. The same code talks to
//! api-m.paypal.com, PayPal's sandbox, and paygate's own emulator: only `PAYPAL_API_BASE`
//! differs.

pub mod client;
mod events;
pub mod objects;
pub mod trust;
pub mod webhook;

use self::client::{PaypalClient, PaypalError};
use self::objects::Order;
use self::trust::CertificateTrust;
use self::webhook::{CertificateCache, VerifyMode};
use super::{
    CreateRequest, ErrorReference, EventEffect, PaymentProvider, PaymentRefs, ProviderError,
    ProviderPayment, ProviderRefund, RefundRequest, RefundStatus, VerifiedEvent,
};
use crate::clock::Clock;
use async_trait::async_trait;
use axum::http::HeaderMap;
use serde_json::{json, Value};
use shared::api::{CaptureMode, PaymentStatus, ProviderName};
use shared::providers::paypal as amounts;
use shared::Money;

pub struct PaypalProvider {
    pub client: PaypalClient,
    webhook_id: String,
    verify: VerifyMode,
    certificates: CertificateCache,
    brand_name: String,
    clock: Clock,
}

impl PaypalProvider {
    pub fn new(
        client: PaypalClient,
        webhook_id: String,
        verify: VerifyMode,
        extra_cert_origins: Vec<String>,
        trust: CertificateTrust,
        brand_name: String,
        clock: Clock,
    ) -> PaypalProvider {
        PaypalProvider {
            client,
            webhook_id,
            verify,
            certificates: CertificateCache::new(extra_cert_origins, trust),
            brand_name,
            clock,
        }
    }

    async fn order(&self, id: &str) -> Result<Order, ProviderError> {
        let v = self
            .client
            .get(&format!("/v2/checkout/orders/{id}"))
            .await
            .map_err(map_error)?;
        parse_order(v)
    }
}

fn parse_order(v: Value) -> Result<Order, ProviderError> {
    serde_json::from_value(v).map_err(|e| ProviderError::Malformed(e.to_string()))
}

fn money_json(m: Money) -> Result<Value, ProviderError> {
    let value = amounts::encode_value(m).map_err(|e| ProviderError::InvalidRequest {
        message: e.to_string(),
        param: Some("amount".into()),
    })?;
    Ok(json!({ "currency_code": m.currency().code(), "value": value }))
}

/// PayPal's answers in paygate's terms (developer.paypal.com/api/rest/responses). The `debug_id`
/// stays in the message, which the payment timeline records.
pub(crate) fn map_error(e: PaypalError) -> ProviderError {
    match e {
        PaypalError::Transport(m) => ProviderError::Unavailable { message: m },
        PaypalError::Decode(m) => ProviderError::Malformed(m),
        PaypalError::Api { status, body } => {
            let issue = body.issue().unwrap_or_default().to_string();
            let debug = body.debug_id.clone().unwrap_or_else(|| "-".into());
            let described = format!(
                "PayPal {}{} (debug_id {debug})",
                body.name
                    .as_deref()
                    .or(body.error.as_deref())
                    .unwrap_or("error"),
                if issue.is_empty() {
                    String::new()
                } else {
                    format!(": {issue}")
                }
            );
            match (status, issue.as_str()) {
                (_, "INSTRUMENT_DECLINED") | (_, "PAYER_CANNOT_PAY") | (_, "TRANSACTION_REFUSED") => ProviderError::Declined {
                    code: issue.to_lowercase(),
                    decline_code: None,
                    message: "PayPal declined this way of paying. Choose another funding source in PayPal and try again.".into(),
                    reference: Box::new(ErrorReference {
                        doc_url: body.information_link().map(str::to_string),
                        request_log_url: None,
                        request_id: body.debug_id.clone(),
                    }),
                },
                (
                    _,
                    "ORDER_NOT_APPROVED" | "ORDER_ALREADY_CAPTURED" | "ORDER_ALREADY_AUTHORIZED" | "CAPTURE_FULLY_REFUNDED"
                    | "AUTHORIZATION_VOIDED" | "AUTHORIZATION_ALREADY_CAPTURED" | "AUTHORIZATION_EXPIRED" | "PREVIOUSLY_CAPTURED"
                    | "PREVIOUSLY_VOIDED" | "ORDER_COMPLETED_OR_VOIDED" | "ORDER_EXPIRED" | "PENDING_CAPTURE"
                    | "ACTION_DOES_NOT_MATCH_INTENT",
                ) => ProviderError::Conflict { message: described },
                (_, "REFUND_AMOUNT_EXCEEDED" | "MAX_CAPTURE_AMOUNT_EXCEEDED") => ProviderError::InvalidRequest {
                    message: described,
                    param: Some("amount".into()),
                },
                (401 | 403, _) => ProviderError::Authentication,
                (404, _) => ProviderError::InvalidRequest { message: described, param: None },
                (409 | 429, _) => ProviderError::Unavailable { message: described },
                (s, _) if s >= 500 => ProviderError::Unavailable { message: described },
                _ => ProviderError::Rejected(described),
            }
        }
    }
}

#[async_trait]
impl PaymentProvider for PaypalProvider {
    /// `POST /v1/customer/disputes/{id}/provide-evidence`: the text as one evidence of type
    /// `OTHER` whose `notes` name each field (PayPal takes up to 2,000 characters of notes; it
    /// has no staging, so `submit` must be true), then the dispute read back.
    async fn answer_dispute(
        &self,
        request: &str,
        dispute_id: &str,
        evidence: &std::collections::BTreeMap<String, String>,
        submit: bool,
    ) -> Result<Option<crate::providers::DisputeFacts>, ProviderError> {
        if !submit {
            return Err(ProviderError::Rejected(
                "PayPal takes evidence at once: it cannot be staged.".into(),
            ));
        }
        let notes = evidence
            .iter()
            .map(|(field, text)| format!("{}: {text}", field.replace('_', " ")))
            .collect::<Vec<_>>()
            .join("\n");
        if notes.chars().count() > 2000 {
            return Err(ProviderError::Rejected(
                "PayPal takes at most 2,000 characters of evidence notes.".into(),
            ));
        }
        let id = dispute_path_id(dispute_id)?;
        self.client
            .post_multipart_json(
                &format!("/v1/customer/disputes/{id}/provide-evidence"),
                &json!({ "evidences": [{ "evidence_type": "OTHER", "notes": notes }] }),
                request,
            )
            .await
            .map_err(map_error)?;
        self.dispute(id).await
    }

    /// `POST /v1/customer/disputes/{id}/accept-claim`: PayPal refunds the customer and resolves
    /// the case in their favour; then the dispute read back.
    async fn accept_dispute(
        &self,
        request: &str,
        dispute_id: &str,
    ) -> Result<Option<crate::providers::DisputeFacts>, ProviderError> {
        let id = dispute_path_id(dispute_id)?;
        self.client
            .post(
                &format!("/v1/customer/disputes/{id}/accept-claim"),
                &json!({ "note": "The merchant accepts the claim." }),
                request,
            )
            .await
            .map_err(map_error)?;
        self.dispute(id).await
    }

    fn name(&self) -> ProviderName {
        ProviderName::Paypal
    }

    async fn create_payment(
        &self,
        request: &CreateRequest,
    ) -> Result<ProviderPayment, ProviderError> {
        let mut unit = json!({
            "reference_id": request.payment_id,
            "custom_id": request.payment_id,
            "invoice_id": request.payment_id,
            "amount": money_json(request.money)?,
        });
        if let Some(d) = &request.description {
            unit["description"] = json!(d.chars().take(127).collect::<String>());
        }
        let mut context = json!({
            "brand_name": self.brand_name.chars().take(127).collect::<String>(),
            "locale": "en-US",
            "shipping_preference": "NO_SHIPPING",
            "user_action": "PAY_NOW",
        });
        if let Some(url) = &request.return_url {
            context["return_url"] = json!(url);
            context["cancel_url"] = json!(url);
        }
        let body = json!({
            "intent": match request.capture_mode { CaptureMode::Automatic => "CAPTURE", CaptureMode::Manual => "AUTHORIZE" },
            "purchase_units": [unit],
            "payment_source": { "paypal": { "experience_context": context } },
        });
        let v = self
            .client
            .post("/v2/checkout/orders", &body, &request.idempotency_key)
            .await
            .map_err(map_error)?;
        Ok(parse_order(v)?.to_provider_payment())
    }

    async fn retrieve_payment(&self, reference: &str) -> Result<ProviderPayment, ProviderError> {
        Ok(self.order(reference).await?.to_provider_payment())
    }

    async fn capture_payment(
        &self,
        payment: &PaymentRefs,
        amount: Option<Money>,
        idempotency_key: &str,
    ) -> Result<ProviderPayment, ProviderError> {
        match payment.capture_mode {
            CaptureMode::Automatic => {
                if amount.is_some_and(|a| a != payment.money) {
                    return Err(ProviderError::InvalidRequest {
                        message: "PayPal captures a CAPTURE order in full; use manual capture for partial captures.".into(),
                        param: Some("amount".into()),
                    });
                }
                let v = self
                    .client
                    .post(
                        &format!("/v2/checkout/orders/{}/capture", payment.reference),
                        &json!({}),
                        idempotency_key,
                    )
                    .await
                    .map_err(map_error)?;
                Ok(parse_order(v)?.to_provider_payment())
            }
            CaptureMode::Manual => {
                let authorization = match &payment.authorization {
                    Some(a) => a.clone(),
                    None => {
                        let v = self
                            .client
                            .post(
                                &format!("/v2/checkout/orders/{}/authorize", payment.reference),
                                &json!({}),
                                &format!("{idempotency_key}-authorize"),
                            )
                            .await
                            .map_err(map_error)?;
                        parse_order(v)?
                            .authorization()
                            .map(|a| a.id.clone())
                            .ok_or_else(|| {
                                ProviderError::Malformed(
                                    "authorize answer without authorization".into(),
                                )
                            })?
                    }
                };
                let mut body = json!({ "final_capture": true, "invoice_id": format!("{}-capture", payment.payment_id) });
                if let Some(a) = amount {
                    body["amount"] = money_json(a)?;
                }
                let capture: objects::PaymentItem = serde_json::from_value(
                    self.client
                        .post(
                            &format!("/v2/payments/authorizations/{authorization}/capture"),
                            &body,
                            idempotency_key,
                        )
                        .await
                        .map_err(map_error)?,
                )
                .map_err(|e| ProviderError::Malformed(e.to_string()))?;
                // The capture's own answer is authoritative for what was taken.
                let mut pp = self.order(&payment.reference).await?.to_provider_payment();
                let (status, last_error) = objects::capture_status(&capture.status);
                pp.status = status;
                pp.last_error = last_error;
                pp.captured_minor = (status == PaymentStatus::Succeeded)
                    .then(|| capture.amount.as_ref().and_then(objects::Money::minor))
                    .flatten();
                pp.capture = Some(capture.id);
                pp.authorization = Some(authorization);
                Ok(pp)
            }
        }
    }

    async fn authorize_payment(
        &self,
        payment: &PaymentRefs,
        idempotency_key: &str,
    ) -> Result<ProviderPayment, ProviderError> {
        let v = self
            .client
            .post(
                &format!("/v2/checkout/orders/{}/authorize", payment.reference),
                &json!({}),
                idempotency_key,
            )
            .await
            .map_err(map_error)?;
        Ok(parse_order(v)?.to_provider_payment())
    }

    async fn cancel_payment(
        &self,
        payment: &PaymentRefs,
        idempotency_key: &str,
    ) -> Result<ProviderPayment, ProviderError> {
        match &payment.authorization {
            Some(authorization) => {
                self.client
                    .post(
                        &format!("/v2/payments/authorizations/{authorization}/void"),
                        &json!({}),
                        idempotency_key,
                    )
                    .await
                    .map_err(map_error)?;
                Ok(self.order(&payment.reference).await?.to_provider_payment())
            }
            // Nothing is held at PayPal before an authorization: the order simply expires
            // unapproved or uncaptured, and paygate will never capture it.
            None => {
                let mut pp = self.order(&payment.reference).await?.to_provider_payment();
                if !pp.status.is_terminal() {
                    pp.status = PaymentStatus::Canceled;
                    pp.next_action = None;
                }
                Ok(pp)
            }
        }
    }

    async fn refund(&self, request: &RefundRequest) -> Result<ProviderRefund, ProviderError> {
        let capture =
            request
                .payment
                .capture
                .as_deref()
                .ok_or_else(|| ProviderError::Conflict {
                    message: "The PayPal payment has no capture to refund.".into(),
                })?;
        let body = json!({
            "amount": money_json(request.amount)?,
            "invoice_id": request.refund_id,
            "note_to_payer": request.reason.as_deref().map(|r| format!("Refund: {}", r.replace('_', " "))).unwrap_or_else(|| "Refund".into()),
        });
        let v = self
            .client
            .post(
                &format!("/v2/payments/captures/{capture}/refund"),
                &body,
                &request.idempotency_key,
            )
            .await
            .map_err(map_error)?;
        Ok(ProviderRefund {
            reference: v
                .get("id")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_string(),
            status: match v.get("status").and_then(Value::as_str) {
                Some("COMPLETED") => RefundStatus::Succeeded,
                Some("FAILED") | Some("CANCELLED") => RefundStatus::Failed,
                _ => RefundStatus::Pending,
            },
            failure_reason: None,
        })
    }

    async fn verify_webhook(
        &self,
        headers: &HeaderMap,
        body: &[u8],
    ) -> Result<VerifiedEvent, ProviderError> {
        // Cheap checks first: nothing is fetched or asked of PayPal for a delivery that is
        // stale, replayed later, or missing its headers.
        let transmission = webhook::Transmission::from_headers(headers)?;
        webhook::check_transmission_time(&transmission.time, self.clock.now_secs())?;
        match self.verify {
            VerifyMode::Offline => {
                let now = self.clock.now_secs();
                webhook::verify_offline(&self.certificates, &self.webhook_id, headers, body, now)
                    .await?
            }
            VerifyMode::Online => {
                webhook::verify_online(&self.client, &self.webhook_id, headers, body).await?
            }
        }
        let v: Value =
            serde_json::from_slice(body).map_err(|e| ProviderError::Malformed(e.to_string()))?;
        let event_id = v
            .get("id")
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty());
        let event_type = v
            .get("event_type")
            .and_then(Value::as_str)
            .unwrap_or_default();
        Ok(VerifiedEvent {
            event_id: event_id
                .ok_or_else(|| ProviderError::Malformed("event without id".into()))?
                .to_string(),
            event_type: event_type.to_string(),
        })
    }

    fn webhooks_need_current_state(&self) -> bool {
        true
    }

    fn webhook_snapshot_trusted(&self) -> bool {
        false
    }

    /// Disputes only: `GET /v1/customer/disputes/{id}`, the resource a `CUSTOMER.DISPUTE.*`
    /// event carries (its body is not trusted: see `webhook_snapshot_trusted`).
    async fn reread(
        &self,
        _event_type: &str,
        object: &str,
        id: &str,
    ) -> Result<Vec<EventEffect>, ProviderError> {
        if object != "dispute" {
            return Err(ProviderError::Rejected(format!(
                "PayPal cannot read back {object} objects"
            )));
        }
        Ok(self
            .dispute(dispute_path_id(id)?)
            .await?
            .map(EventEffect::Dispute)
            .into_iter()
            .collect())
    }

    /// `GET /v2/payments/refunds/{id}`: the same resource a `PAYMENT.CAPTURE.REFUNDED` event
    /// carries.
    async fn retrieve_refund(&self, reference: &str) -> Result<Option<EventEffect>, ProviderError> {
        // The id comes from an event's body: only PayPal's id alphabet goes into the path.
        if reference.is_empty()
            || !reference
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        {
            return Err(ProviderError::Malformed(format!(
                "refund id {reference:?} is not a PayPal id"
            )));
        }
        let v = self
            .client
            .get(&format!("/v2/payments/refunds/{reference}"))
            .await
            .map_err(map_error)?;
        events::refund_effect(&v).map(Some)
    }

    fn interpret_event(&self, payload: &[u8]) -> Result<Vec<EventEffect>, ProviderError> {
        events::interpret(payload)
    }
}

/// A PayPal dispute id, checked before it goes into a path.
fn dispute_path_id(id: &str) -> Result<&str, ProviderError> {
    if id.is_empty()
        || !id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    {
        return Err(ProviderError::Malformed(format!(
            "dispute id {id:?} is not a PayPal id"
        )));
    }
    Ok(id)
}

impl PaypalProvider {
    /// `GET /v1/customer/disputes/{id}` in paygate's terms.
    async fn dispute(
        &self,
        id: &str,
    ) -> Result<Option<crate::providers::DisputeFacts>, ProviderError> {
        let v = self
            .client
            .get(&format!("/v1/customer/disputes/{id}"))
            .await
            .map_err(map_error)?;
        events::dispute_facts(&v)
    }
}
