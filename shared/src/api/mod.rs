//! The bodies of paygate's HTTP surface, shared by the server, the widget and the
//! console so both sides agree on one definition.
//!
//! Request types reject unknown fields (a typo must not be silently ignored in a payment API);
//! response types are plain and may grow.

pub mod admin;
mod amount;
mod billing;
mod checkout;
mod dispute;
mod error;
mod event;
mod list;
mod payment;
mod payment_link;
mod refund;
mod status;
mod webhook_endpoint;
mod widget;

pub use amount::Amount;
pub use billing::{
    ChangeSubscription, CreateCustomer, CreateSubscription, Customer, PauseBehavior,
    PauseCollection, PauseSubscription, PaymentBehavior, ProrationBehavior, SavedPaymentMethod,
    Subscription, SubscriptionInvoice,
};
pub use checkout::{
    CheckoutMode, CheckoutSession, CheckoutSessionStatus, CreateCheckoutSession, LineItem,
    LineItemRequest, SavePaymentMethod,
};
pub use dispute::{Dispute, SubmitDisputeEvidence, DISPUTE_TEXT_EVIDENCE};
pub use error::{FieldError, Problem};
pub use event::{Event, EventType, EVENTS_API_VERSION};
pub use list::{List, ListPaymentsQuery};
pub use payment::{
    CaptureMode, CapturePayment, ConfirmPayment, CreatePayment, NextAction, Payment, PaymentError,
    ProviderName,
};
pub use payment_link::{
    CompletedSessions, CompletedSessionsLimit, CreatePaymentLink, CustomAmount,
    CustomAmountRequest, PaymentLink, PaymentLinkRestrictions, PaymentLinkRestrictionsRequest,
    PaymentLinkUnavailable, UpdatePaymentLink,
};
pub use refund::{CreateRefund, Refund, RefundReason};
pub use status::PaymentStatus;
pub use webhook_endpoint::{
    CreateWebhookEndpoint, ResendEvent, UpdateWebhookEndpoint, WebhookAttempt, WebhookDelivery,
    WebhookEndpoint,
};
pub use widget::{
    WidgetOutcome, WidgetPaypalOrder, WidgetProvider, WidgetSaveChoice, WidgetSavedCard,
    WidgetSession, WidgetStripeIntent,
};

/// Free-form key/value pairs a merchant attaches to an object (as Stripe's `metadata`).
pub type Metadata = std::collections::BTreeMap<String, String>;
