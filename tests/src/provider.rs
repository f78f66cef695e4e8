//! A provider written for the tests of the payments core (the "test provider"): it
//! behaves as Stripe or PayPal do where the core depends on it — the same idempotency key
//! returns the same object, webhooks are HMAC-signed over the raw body — with a configurable
//! delay, decline and status, and it counts calls.

use async_trait::async_trait;
use axum::http::HeaderMap;
use hmac::{Hmac, Mac};
use paygate::providers::{
    CreateRequest, EventEffect, PaymentProvider, PaymentRefs, ProviderError, ProviderPayment,
    ProviderRefund, RefundRequest, RefundStatus, VerifiedEvent,
};
use serde_json::Value;
use sha2::Sha256;
use shared::api::{PaymentError, PaymentStatus, ProviderName};
use shared::Money;
use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::Duration;

pub const SIGNATURE_HEADER: &str = "test-signature";

pub struct TestProvider {
    pub name: ProviderName,
    pub delay: Duration,
    pub secret: String,
    /// Status a newly created object gets.
    pub initial_status: Mutex<PaymentStatus>,
    /// When set, creation fails with this decline code.
    pub decline: Mutex<Option<String>>,
    /// Status the provider gives new refunds.
    pub refund_status: Mutex<RefundStatus>,
    create_calls: AtomicUsize,
    refund_calls: AtomicUsize,
    /// Objects by idempotency key, as a provider replays them.
    by_key: Mutex<HashMap<String, ProviderPayment>>,
}

impl TestProvider {
    pub fn new(name: ProviderName) -> TestProvider {
        TestProvider {
            name,
            delay: Duration::ZERO,
            secret: "test_webhook_secret".to_string(),
            initial_status: Mutex::new(PaymentStatus::RequiresPaymentMethod),
            decline: Mutex::new(None),
            refund_status: Mutex::new(RefundStatus::Succeeded),
            create_calls: AtomicUsize::new(0),
            refund_calls: AtomicUsize::new(0),
            by_key: Mutex::new(HashMap::new()),
        }
    }

    pub fn with_delay(mut self, delay: Duration) -> TestProvider {
        self.delay = delay;
        self
    }

    pub fn create_calls(&self) -> usize {
        self.create_calls.load(Ordering::SeqCst)
    }

    /// Distinct objects created (idempotent replays do not count).
    pub fn objects(&self) -> usize {
        self.by_key.lock().unwrap().len()
    }

    pub fn refund_calls(&self) -> usize {
        self.refund_calls.load(Ordering::SeqCst)
    }

    /// Changes an object at the "provider" without telling paygate (a lost webhook).
    pub fn set_state(
        &self,
        reference: &str,
        status: PaymentStatus,
        captured: Option<i64>,
    ) -> Result<ProviderPayment, ProviderError> {
        let mut objects = self.by_key.lock().unwrap();
        let object = objects
            .values_mut()
            .find(|p| p.reference == reference)
            .ok_or_else(|| ProviderError::InvalidRequest {
                message: "no such object".into(),
                param: None,
            })?;
        object.status = status;
        if captured.is_some() {
            object.captured_minor = captured;
        }
        Ok(object.clone())
    }

    /// The signature header value for `body`.
    pub fn sign(&self, body: &[u8]) -> String {
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(self.secret.as_bytes()).unwrap();
        mac.update(body);
        hex::encode(mac.finalize().into_bytes())
    }

    /// A webhook body saying the object `reference` is now `status`.
    pub fn event(id: &str, reference: &str, status: PaymentStatus) -> Vec<u8> {
        serde_json::json!({
            "id": id,
            "type": "payment.updated",
            "data": { "reference": reference, "status": status.as_str() }
        })
        .to_string()
        .into_bytes()
    }
}

#[async_trait]
impl PaymentProvider for TestProvider {
    fn name(&self) -> ProviderName {
        self.name
    }

    async fn create_payment(
        &self,
        request: &CreateRequest,
    ) -> Result<ProviderPayment, ProviderError> {
        self.create_calls.fetch_add(1, Ordering::SeqCst);
        tokio::time::sleep(self.delay).await;
        if let Some(code) = self.decline.lock().unwrap().clone() {
            return Err(ProviderError::Declined {
                code: "card_declined".into(),
                decline_code: Some(code),
                message: "Your card was declined.".into(),
                reference: Default::default(),
            });
        }
        let mut objects = self.by_key.lock().unwrap();
        let n = objects.len();
        let status = *self.initial_status.lock().unwrap();
        let captured = (status == PaymentStatus::Succeeded).then_some(request.money.minor());
        Ok(objects
            .entry(request.idempotency_key.clone())
            .or_insert_with(|| ProviderPayment {
                reference: format!("tp_{}_{n}", request.payment_id),
                status,
                captured_minor: captured,
                last_error: None,
                next_action: None,
                client_secret: Some(format!("{}_secret_test", request.payment_id)),
                payment_method: None,
                authorization: None,
                capture: None,
            })
            .clone())
    }

    async fn capture_payment(
        &self,
        payment: &PaymentRefs,
        amount: Option<Money>,
        _idempotency_key: &str,
    ) -> Result<ProviderPayment, ProviderError> {
        let captured = amount.unwrap_or(payment.money).minor();
        self.set_state(&payment.reference, PaymentStatus::Succeeded, Some(captured))
    }

    async fn cancel_payment(
        &self,
        payment: &PaymentRefs,
        _idempotency_key: &str,
    ) -> Result<ProviderPayment, ProviderError> {
        self.set_state(&payment.reference, PaymentStatus::Canceled, None)
    }

    async fn refund(&self, request: &RefundRequest) -> Result<ProviderRefund, ProviderError> {
        self.refund_calls.fetch_add(1, Ordering::SeqCst);
        tokio::time::sleep(self.delay).await;
        Ok(ProviderRefund {
            reference: format!("tpr_{}", request.refund_id),
            status: *self.refund_status.lock().unwrap(),
            failure_reason: None,
        })
    }

    async fn retrieve_payment(&self, reference: &str) -> Result<ProviderPayment, ProviderError> {
        self.by_key
            .lock()
            .unwrap()
            .values()
            .find(|p| p.reference == reference)
            .cloned()
            .ok_or_else(|| ProviderError::InvalidRequest {
                message: "no such object".into(),
                param: None,
            })
    }

    async fn verify_webhook(
        &self,
        headers: &HeaderMap,
        body: &[u8],
    ) -> Result<VerifiedEvent, ProviderError> {
        let given = headers
            .get(SIGNATURE_HEADER)
            .and_then(|v| v.to_str().ok())
            .ok_or_else(|| ProviderError::Unverified("missing signature".into()))?;
        let given = hex::decode(given)
            .map_err(|_| ProviderError::Unverified("malformed signature".into()))?;
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(self.secret.as_bytes()).unwrap();
        mac.update(body);
        mac.verify_slice(&given)
            .map_err(|_| ProviderError::Unverified("signature mismatch".into()))?;
        let v: Value =
            serde_json::from_slice(body).map_err(|e| ProviderError::Malformed(e.to_string()))?;
        Ok(VerifiedEvent {
            event_id: v["id"].as_str().unwrap_or_default().to_string(),
            event_type: v["type"].as_str().unwrap_or_default().to_string(),
        })
    }

    fn interpret_event(&self, payload: &[u8]) -> Result<Vec<EventEffect>, ProviderError> {
        let v: Value =
            serde_json::from_slice(payload).map_err(|e| ProviderError::Malformed(e.to_string()))?;
        if v["type"] != "payment.updated" {
            return Ok(Vec::new());
        }
        let status = v["data"]["status"]
            .as_str()
            .and_then(PaymentStatus::parse)
            .ok_or_else(|| ProviderError::Malformed("status".into()))?;
        Ok(vec![EventEffect::PaymentUpdate {
            reference: v["data"]["reference"]
                .as_str()
                .unwrap_or_default()
                .to_string(),
            status,
            captured_minor: v["data"]["captured_minor"].as_i64(),
            last_error: v["data"]["error"].as_str().map(|m| PaymentError {
                doc_url: None,
                code: "card_declined".into(),
                message: m.into(),
                decline_code: None,
            }),
            authorization: None,
            capture: None,
        }])
    }
}
