//! The provider abstraction: what the payments core needs from Stripe or PayPal. The Stripe and
//! PayPal clients implement [`PaymentProvider`]; the core (payments, checkout, inbox) only talks
//! to this trait, so it is tested with a provider written in the test code, without network.

mod amounts;
mod error;

pub use amounts::{check_amount, providers_for_amount};
pub use error::ProviderError;

use async_trait::async_trait;
use axum::http::HeaderMap;
use shared::api::{CaptureMode, Metadata, NextAction, PaymentError, PaymentStatus, ProviderName};
use shared::Money;
use std::collections::BTreeMap;
use std::sync::Arc;

/// What paygate asks a provider to create for a payment row it has already stored.
#[derive(Debug, Clone)]
pub struct CreateRequest {
    pub payment_id: String,
    pub money: Money,
    pub capture_mode: CaptureMode,
    pub description: Option<String>,
    pub metadata: Metadata,
    pub return_url: Option<String>,
    /// Derived from paygate's own record id, so a retry after a timeout or a crash reuses it and
    /// the provider never creates the object twice.
    pub idempotency_key: String,
}

/// A provider object's state as the provider reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProviderPayment {
    /// PaymentIntent id, PayPal order id.
    pub reference: String,
    pub status: PaymentStatus,
    pub captured_minor: Option<i64>,
    pub last_error: Option<PaymentError>,
    pub next_action: Option<NextAction>,
}

/// A webhook whose signature checked out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedEvent {
    pub event_id: String,
    pub event_type: String,
}

/// What a stored provider event means for paygate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EventEffect {
    /// The provider object `reference` is now in `status`.
    PaymentUpdate {
        reference: String,
        status: PaymentStatus,
        captured_minor: Option<i64>,
        last_error: Option<PaymentError>,
    },
    /// Stored and acknowledged, nothing to apply (unknown or uninteresting event type).
    Ignored,
}

#[async_trait]
pub trait PaymentProvider: Send + Sync + 'static {
    fn name(&self) -> ProviderName;

    async fn create_payment(
        &self,
        request: &CreateRequest,
    ) -> Result<ProviderPayment, ProviderError>;

    async fn retrieve_payment(&self, reference: &str) -> Result<ProviderPayment, ProviderError>;

    /// Checks a webhook's signature over the raw body. Anything unverified is an error and must
    /// have no side effect.
    async fn verify_webhook(
        &self,
        headers: &HeaderMap,
        body: &[u8],
    ) -> Result<VerifiedEvent, ProviderError>;

    /// Reads a stored (already verified) event.
    fn interpret_event(&self, payload: &[u8]) -> Result<EventEffect, ProviderError>;
}

/// The enabled providers, by name.
#[derive(Clone, Default)]
pub struct Providers {
    by_name: BTreeMap<ProviderName, Arc<dyn PaymentProvider>>,
}

impl Providers {
    pub fn new() -> Providers {
        Providers::default()
    }

    pub fn with(mut self, provider: Arc<dyn PaymentProvider>) -> Providers {
        self.by_name.insert(provider.name(), provider);
        self
    }

    pub fn get(&self, name: ProviderName) -> Option<&Arc<dyn PaymentProvider>> {
        self.by_name.get(&name)
    }

    pub fn names(&self) -> Vec<ProviderName> {
        self.by_name.keys().copied().collect()
    }
}

impl std::fmt::Debug for Providers {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries(self.by_name.keys()).finish()
    }
}
