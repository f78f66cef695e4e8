use super::Metadata;
use serde::{Deserialize, Serialize};

/// Body of `POST /v1/customers`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct CreateCustomer {
    #[serde(default)]
    pub email: Option<String>,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub metadata: Metadata,
    /// A Stripe payment method (`pm_...`) to attach and make the default.
    #[serde(default)]
    pub payment_method: Option<String>,
}

/// A card saved for a customer at Stripe: what can be shown of it, never the number.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SavedPaymentMethod {
    /// Stripe's PaymentMethod id (`pm_...`): what `POST /v1/payments` charges.
    pub id: String,
    /// The paygate customer (`cus_...`).
    pub customer: String,
    /// `visa`, `mastercard`, `amex`, ...
    pub brand: String,
    pub last4: String,
    pub exp_month: i64,
    pub exp_year: i64,
    /// Unix time, seconds.
    pub created: i64,
}

/// A customer, mirrored at Stripe (PayPal's Orders API has no customer object).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Customer {
    /// `cus_...` (paygate's id; the Stripe id is `stripe_customer`).
    pub id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stripe_customer: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default_payment_method: Option<String>,
    pub metadata: Metadata,
    pub created: i64,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum PaymentBehavior {
    /// Stripe's default: the subscription is created even when the first payment fails.
    #[default]
    AllowIncomplete,
    /// `incomplete` until the customer confirms the first invoice's payment (client secret).
    DefaultIncomplete,
    /// Answer 402 instead of creating an incomplete subscription.
    ErrorIfIncomplete,
}

impl PaymentBehavior {
    pub fn as_str(self) -> &'static str {
        match self {
            PaymentBehavior::AllowIncomplete => "allow_incomplete",
            PaymentBehavior::DefaultIncomplete => "default_incomplete",
            PaymentBehavior::ErrorIfIncomplete => "error_if_incomplete",
        }
    }
}

/// Body of `POST /v1/subscriptions`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct CreateSubscription {
    /// paygate customer id (`cus_...`).
    pub customer: String,
    /// Stripe Price id (`price_...`).
    pub price: String,
    /// Free days before the first charge (0 to 730).
    #[serde(default)]
    pub trial_days: Option<u32>,
    #[serde(default)]
    pub payment_behavior: PaymentBehavior,
}

/// A subscription to a Stripe price.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Subscription {
    /// `sub_...` (paygate's id).
    pub id: String,
    pub customer: String,
    pub price: String,
    /// Stripe's status: `incomplete`, `trialing`, `active`, `past_due`, `canceled`, ...
    pub status: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub provider_reference: Option<String>,
    pub cancel_at_period_end: bool,
    /// Unix time, seconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub current_period_end: Option<i64>,
    /// Status of the latest invoice (`paid`, `open`, ...).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub latest_invoice_status: Option<String>,
    /// Set while payment collection is paused (the status stays as Stripe says).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pause_collection: Option<PauseCollection>,
    /// When the first invoice needs the customer (3-D Secure, `default_incomplete`): the
    /// PaymentIntent client secret for Stripe.js. Only in the creation answer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_secret: Option<String>,
    pub created: i64,
}

/// How a subscription's invoices are treated while its payment collection is paused (Stripe's
/// `pause_collection.behavior`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum PauseBehavior {
    /// Invoices are made and left as drafts (collected after resuming).
    KeepAsDraft,
    /// Invoices are made and marked uncollectible.
    MarkUncollectible,
    /// Invoices are made and voided at once.
    Void,
}

impl PauseBehavior {
    pub fn as_str(self) -> &'static str {
        match self {
            PauseBehavior::KeepAsDraft => "keep_as_draft",
            PauseBehavior::MarkUncollectible => "mark_uncollectible",
            PauseBehavior::Void => "void",
        }
    }
}

/// A subscription's paused collection.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PauseCollection {
    /// `keep_as_draft`, `mark_uncollectible` or `void`.
    pub behavior: String,
    /// Unix time (seconds) when collection resumes by itself.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resumes_at: Option<i64>,
}

/// Body of `POST /v1/subscriptions/{id}/pause`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct PauseSubscription {
    pub behavior: PauseBehavior,
    /// Unix time (seconds) when collection resumes by itself; in the future.
    #[serde(default)]
    pub resumes_at: Option<i64>,
}

/// An invoice of a subscription, as Stripe reports it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SubscriptionInvoice {
    /// Stripe's invoice id (`in_...`).
    pub id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub number: Option<String>,
    /// `draft`, `open`, `paid`, `uncollectible` or `void`.
    pub status: String,
    pub amount_due: super::Amount,
    pub amount_paid_minor: i64,
    /// Unix time, seconds.
    pub created: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub period_start: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub period_end: Option<i64>,
}

/// How Stripe settles a price change for the time left in the period (Stripe's
/// `proration_behavior`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ProrationBehavior {
    /// Credit and charge for the time left go on the next invoice.
    #[default]
    CreateProrations,
    /// Credit and charge for the time left are invoiced and charged now.
    AlwaysInvoice,
    /// No credit or charge for the time left.
    None,
}

impl ProrationBehavior {
    pub fn as_str(self) -> &'static str {
        match self {
            ProrationBehavior::CreateProrations => "create_prorations",
            ProrationBehavior::AlwaysInvoice => "always_invoice",
            ProrationBehavior::None => "none",
        }
    }
}

/// Body of `POST /v1/subscriptions/{id}`: move the subscription to another price.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ChangeSubscription {
    /// The new Stripe Price (`price_...`), recurring, in the subscription's currency. A price
    /// with another billing interval starts a new period now and is invoiced at once.
    pub price: String,
    #[serde(default)]
    pub proration_behavior: ProrationBehavior,
}
