//! The provider abstraction: what the payments core needs from Stripe or PayPal. The Stripe and
//! PayPal clients implement [`PaymentProvider`]; the core (payments, checkout, inbox) only talks
//! to this trait, so it is tested with a provider written in the test code, without network.

mod amounts;
mod error;
pub mod paypal;
pub mod saved_failures;
pub mod stripe;

pub use amounts::{check_amount, providers_for_amount};
pub use error::{ErrorReference, ProviderError};

use crate::error::ApiError;
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
    /// The customer's id at Stripe, when the payment belongs to a customer.
    pub stripe_customer: Option<String>,
    /// Save the card paid with on `stripe_customer` for later off-session payments.
    pub setup_future_usage: bool,
    /// A card saved on `stripe_customer`, charged at once without the customer.
    pub off_session_payment_method: Option<String>,
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
    /// Given to the customer's browser only (Stripe's PaymentIntent client secret).
    pub client_secret: Option<String>,
    /// The payment method charged, or the one whose attempt failed last (Stripe's `pm_...`).
    pub payment_method: Option<String>,
    /// PayPal: the authorization and the capture made under the order.
    pub authorization: Option<String>,
    pub capture: Option<String>,
}

/// The provider references of a stored payment, for follow-up calls.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PaymentRefs {
    pub payment_id: String,
    pub reference: String,
    pub authorization: Option<String>,
    pub capture: Option<String>,
    pub capture_mode: CaptureMode,
    pub money: Money,
    pub captured_minor: i64,
}

/// A refund paygate has stored as `pending` and now asks the provider for.
#[derive(Debug, Clone)]
pub struct RefundRequest {
    pub refund_id: String,
    pub payment: PaymentRefs,
    pub amount: Money,
    pub reason: Option<String>,
    pub idempotency_key: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RefundStatus {
    Pending,
    Succeeded,
    Failed,
}

impl RefundStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            RefundStatus::Pending => "pending",
            RefundStatus::Succeeded => "succeeded",
            RefundStatus::Failed => "failed",
        }
    }

    pub fn parse(s: &str) -> Option<RefundStatus> {
        match s {
            "pending" => Some(RefundStatus::Pending),
            "succeeded" => Some(RefundStatus::Succeeded),
            "failed" => Some(RefundStatus::Failed),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProviderRefund {
    pub reference: String,
    pub status: RefundStatus,
    pub failure_reason: Option<String>,
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
        /// The provider object's id, or (PayPal) one of its authorization or capture ids.
        reference: String,
        status: PaymentStatus,
        captured_minor: Option<i64>,
        last_error: Option<PaymentError>,
        authorization: Option<String>,
        capture: Option<String>,
    },
    /// A refund's state at the provider.
    RefundUpdate {
        reference: String,
        /// The provider object refunded: Stripe's PaymentIntent, PayPal's capture.
        payment_reference: Option<String>,
        status: RefundStatus,
        failure_reason: Option<String>,
        /// The refunded amount, decoded from the provider's own encoding.
        amount: Option<shared::Money>,
        /// paygate's own id for refunds paygate made (Stripe metadata, PayPal `invoice_id`);
        /// absent for refunds made elsewhere, e.g. in the provider's dashboard.
        paygate_refund_id: Option<String>,
    },
    /// Stripe's `charge.refunded`: the charge's refunds changed, and the event (a Charge, which
    /// at the pinned API version no longer embeds its refunds) does not say which; the inbox
    /// lists them from the provider ([`PaymentProvider::refunds_of_charge`]) and applies each.
    RefundsOfCharge { charge: String },
    /// An event rendered at another API version than the one paygate pins (Stripe): the
    /// object (`object` is its kind, e.g. `subscription`) is read back at the pinned version
    /// and the event interpreted from that ([`PaymentProvider::reread`]); never from the body.
    Reread {
        event_type: String,
        object: String,
        id: String,
    },
    /// A dispute against the payment was opened or changed.
    Dispute(DisputeFacts),
    /// A card was attached to a customer, detached or changed (Stripe's `payment_method.*`).
    SavedCard(CardFacts),
    /// A SetupIntent succeeded: the checkout session in setup mode it belongs to is complete
    /// (Stripe's `setup_intent.succeeded`).
    SetupUpdate(stripe::setup_intents::StripeSetupIntent),
    /// A subscription changed (Stripe Billing).
    SubscriptionUpdate {
        reference: String,
        status: String,
        cancel_at_period_end: bool,
        current_period_end: Option<i64>,
        /// `pause_collection`: behavior and resume time, `None` while collecting.
        pause_collection: Option<(String, Option<i64>)>,
    },
    /// An invoice of a subscription was paid, failed or needs the customer (Stripe Billing).
    InvoiceUpdate {
        subscription_reference: String,
        invoice_id: String,
        status: String,
        event_type: String,
    },
}

/// A card saved at the provider (a Stripe PaymentMethod), as paygate keeps it: never the
/// number.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CardFacts {
    /// `pm_...`
    pub id: String,
    /// The provider's customer it is attached to; `None` once detached.
    pub provider_customer: Option<String>,
    pub brand: String,
    pub last4: String,
    pub exp_month: i64,
    pub exp_year: i64,
}

/// A dispute as the provider reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DisputeFacts {
    /// The disputed payment's provider reference (the PaymentIntent).
    pub payment_reference: String,
    /// The provider's dispute id.
    pub dispute_id: String,
    pub reason: Option<String>,
    /// In the payment's currency; `None` when the provider's amount could not be read.
    pub amount_minor: Option<i64>,
    /// The provider's status (`needs_response`, `under_review`, `won`, `lost`, `warning_...`).
    pub status: String,
    /// Unix seconds.
    pub evidence_due_by: Option<i64>,
    pub submission_count: i64,
}

#[async_trait]
pub trait PaymentProvider: Send + Sync + 'static {
    fn name(&self) -> ProviderName;

    async fn create_payment(
        &self,
        request: &CreateRequest,
    ) -> Result<ProviderPayment, ProviderError>;

    async fn retrieve_payment(&self, reference: &str) -> Result<ProviderPayment, ProviderError>;

    /// The provider's object for paygate payment `payment_id` (created at `created_ms`), found
    /// without its reference: for a creation whose answer never came back, where asking again
    /// with the same idempotency key can only replay a saved failure. `None` when there is none,
    /// or where the provider offers no such lookup.
    async fn find_payment(
        &self,
        _payment_id: &str,
        _created_ms: i64,
    ) -> Result<Option<ProviderPayment>, ProviderError> {
        Ok(None)
    }

    /// Confirms with a payment method chosen server-side (Stripe); providers without the
    /// concept refuse.
    async fn confirm_payment(
        &self,
        payment: &PaymentRefs,
        payment_method: &str,
        idempotency_key: &str,
    ) -> Result<ProviderPayment, ProviderError> {
        let _ = (payment, payment_method, idempotency_key);
        Err(ProviderError::Unsupported("server-side confirmation"))
    }

    /// Captures an authorised payment, fully or `amount` of it.
    async fn capture_payment(
        &self,
        payment: &PaymentRefs,
        amount: Option<Money>,
        idempotency_key: &str,
    ) -> Result<ProviderPayment, ProviderError>;

    /// After the buyer's approval, in manual-capture mode: hold the funds without taking them
    /// (PayPal's order authorization). Providers that authorise at confirmation refuse.
    async fn authorize_payment(
        &self,
        payment: &PaymentRefs,
        idempotency_key: &str,
    ) -> Result<ProviderPayment, ProviderError> {
        let _ = (payment, idempotency_key);
        Err(ProviderError::Unsupported("a separate authorization step"))
    }

    /// Cancels (voids) a payment that is not captured.
    async fn cancel_payment(
        &self,
        payment: &PaymentRefs,
        idempotency_key: &str,
    ) -> Result<ProviderPayment, ProviderError>;

    async fn refund(&self, request: &RefundRequest) -> Result<ProviderRefund, ProviderError>;

    /// The provider's refund for paygate refund `refund_id` of `payment`, found without its
    /// reference (see [`PaymentProvider::find_payment`]). `None` when there is none, or where the
    /// provider offers no such lookup.
    async fn find_refund(
        &self,
        _payment: &PaymentRefs,
        _refund_id: &str,
    ) -> Result<Option<ProviderRefund>, ProviderError> {
        Ok(None)
    }

    /// Checks a webhook's signature over the raw body. Anything unverified is an error and must
    /// have no side effect.
    async fn verify_webhook(
        &self,
        headers: &HeaderMap,
        body: &[u8],
    ) -> Result<VerifiedEvent, ProviderError>;

    /// Whether a webhook's snapshot of a payment should be replaced by the provider's current
    /// state before it is applied (true for real providers, which deliver out of order).
    fn webhooks_need_current_state(&self) -> bool {
        false
    }

    /// Whether, when that read fails, the event's own snapshot may be applied: true where the
    /// signature authenticates the body with a secret shared with the provider (Stripe's
    /// HMAC); false where it rests on a fetched certificate (PayPal), so the event waits for
    /// the provider's answer instead.
    fn webhook_snapshot_trusted(&self) -> bool {
        true
    }

    /// Answers a dispute with text evidence (`submit` false: only staged, where the provider
    /// allows it); the dispute as the provider has it after. `request` keys the call.
    async fn answer_dispute(
        &self,
        _request: &str,
        _dispute_id: &str,
        _evidence: &std::collections::BTreeMap<String, String>,
        _submit: bool,
    ) -> Result<Option<DisputeFacts>, ProviderError> {
        Err(ProviderError::Rejected(format!(
            "{} disputes cannot be answered through paygate",
            self.name().display_name()
        )))
    }

    /// Accepts a dispute (the customer keeps the money); the dispute as the provider has it
    /// after.
    async fn accept_dispute(
        &self,
        _request: &str,
        _dispute_id: &str,
    ) -> Result<Option<DisputeFacts>, ProviderError> {
        Err(ProviderError::Rejected(format!(
            "{} disputes cannot be accepted through paygate",
            self.name().display_name()
        )))
    }

    /// A refund's current state read from the provider, as the [`EventEffect::RefundUpdate`]
    /// an event about it would carry (the inbox asks only where the provider's snapshot is not
    /// trusted; reconciliation asks for refunds still pending); `None` where no read is made.
    async fn retrieve_refund(
        &self,
        _reference: &str,
    ) -> Result<Option<EventEffect>, ProviderError> {
        Ok(None)
    }

    /// The effects of an event of type `event_type` about the object `object`/`id`, read back
    /// from the provider (for [`EventEffect::Reread`]).
    async fn reread(
        &self,
        _event_type: &str,
        object: &str,
        _id: &str,
    ) -> Result<Vec<EventEffect>, ProviderError> {
        Err(ProviderError::Rejected(format!(
            "{} cannot read back {object} objects",
            self.name().display_name()
        )))
    }

    /// Every refund of a charge, read from the provider, as the [`EventEffect::RefundUpdate`]s
    /// events about them would carry (for [`EventEffect::RefundsOfCharge`]).
    async fn refunds_of_charge(&self, _charge: &str) -> Result<Vec<EventEffect>, ProviderError> {
        Ok(Vec::new())
    }

    /// Reads a stored (already verified) event: what it changes, nothing for types paygate
    /// does not act on.
    fn interpret_event(&self, payload: &[u8]) -> Result<Vec<EventEffect>, ProviderError>;
}

/// The enabled providers, by name.
#[derive(Clone, Default)]
pub struct Providers {
    by_name: BTreeMap<ProviderName, Arc<dyn PaymentProvider>>,
    /// Stripe Billing (customers, subscriptions), when Stripe is configured.
    stripe_billing: Option<Arc<stripe::StripeProvider>>,
}

impl Providers {
    pub fn new() -> Providers {
        Providers::default()
    }

    pub fn with(mut self, provider: Arc<dyn PaymentProvider>) -> Providers {
        self.by_name.insert(provider.name(), provider);
        self
    }

    /// Registers Stripe both as a payment provider and for Billing.
    pub fn with_stripe(mut self, stripe: Arc<stripe::StripeProvider>) -> Providers {
        self.stripe_billing = Some(stripe.clone());
        self.with(stripe)
    }

    pub fn stripe_billing(&self) -> Option<&Arc<stripe::StripeProvider>> {
        self.stripe_billing.as_ref()
    }

    /// Stripe for what only Stripe keeps (`what`: "Customers", "Subscriptions", ...), or 503
    /// in the error envelope when it is not configured.
    pub fn require_stripe(
        &self,
        what: &str,
    ) -> Result<Arc<stripe::StripeProvider>, crate::error::ApiError> {
        self.stripe_billing.clone().ok_or_else(|| {
            crate::error::ApiError::unavailable(
                "provider_unavailable",
                format!("{what} are kept at Stripe, which is not configured."),
            )
        })
    }

    pub fn get(&self, name: ProviderName) -> Option<&Arc<dyn PaymentProvider>> {
        self.by_name.get(&name)
    }

    /// The provider, or the 503 every caller answers when it is not registered.
    pub fn require(&self, name: ProviderName) -> Result<Arc<dyn PaymentProvider>, ApiError> {
        self.by_name.get(&name).cloned().ok_or_else(|| {
            ApiError::unavailable(
                "provider_unavailable",
                format!("{} is not available right now.", name.display_name()),
            )
        })
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

/// A comma-separated list of provider names as the database stores it (empty: none); `None`
/// if a name is unknown.
pub fn parse_list(text: &str) -> Option<Vec<shared::api::ProviderName>> {
    text.split(',')
        .filter(|s| !s.is_empty())
        .map(shared::api::ProviderName::parse)
        .collect()
}
