//! Stripe-only operations behind `/v1/customers` and `/v1/subscriptions` (Stripe Billing has
//! no PayPal counterpart in paygate).

use super::form::Form;
use super::{check_id, map_error, StripeProvider};
use crate::providers::ProviderError;
use serde_json::Value;
use shared::api::{
    Metadata, PauseBehavior, PaymentBehavior, ProrationBehavior, SubscriptionInvoice,
};

/// A Stripe Subscription as paygate records it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StripeSubscription {
    pub reference: String,
    pub status: String,
    pub cancel_at_period_end: bool,
    pub current_period_end: Option<i64>,
    pub latest_invoice_id: Option<String>,
    pub latest_invoice_status: Option<String>,
    /// The first invoice's PaymentIntent client secret, when the customer must act.
    pub client_secret: Option<String>,
    /// `pause_collection`: the behavior and when collection resumes.
    pub pause_collection: Option<(String, Option<i64>)>,
}

/// `pause_collection` of a subscription object (null while collecting).
pub fn pause_collection_of(v: &Value) -> Option<(String, Option<i64>)> {
    let pause = v.get("pause_collection").filter(|p| p.is_object())?;
    let behavior = pause.get("behavior").and_then(Value::as_str)?;
    Some((
        behavior.to_string(),
        pause.get("resumes_at").and_then(Value::as_i64),
    ))
}

fn invoice_from(v: &Value) -> Result<SubscriptionInvoice, ProviderError> {
    let field = |name: &str| {
        v.get(name)
            .and_then(Value::as_str)
            .map(str::to_string)
            .ok_or_else(|| ProviderError::Malformed(format!("invoice without {name}")))
    };
    let currency = field("currency")?;
    let amount_due = super::decode(
        v.get("amount_due").and_then(Value::as_i64).unwrap_or(0),
        &currency,
    )?;
    let amount_paid = super::decode(
        v.get("amount_paid").and_then(Value::as_i64).unwrap_or(0),
        &currency,
    )?;
    Ok(SubscriptionInvoice {
        id: field("id")?,
        number: v.get("number").and_then(Value::as_str).map(str::to_string),
        status: field("status")?,
        amount_due: shared::api::Amount::from(amount_due),
        amount_paid_minor: amount_paid.minor(),
        created: v.get("created").and_then(Value::as_i64).unwrap_or(0),
        period_start: v.get("period_start").and_then(Value::as_i64),
        period_end: v.get("period_end").and_then(Value::as_i64),
    })
}

/// A Stripe Customer as paygate reads it back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StripeCustomer {
    pub id: String,
    pub email: Option<String>,
    pub default_payment_method: Option<String>,
}

fn subscription_from(v: &Value) -> Result<StripeSubscription, ProviderError> {
    let reference = v
        .get("id")
        .and_then(Value::as_str)
        .ok_or_else(|| ProviderError::Malformed("subscription without id".into()))?;
    let invoice = v.get("latest_invoice").filter(|i| i.is_object());
    let intent = invoice
        .and_then(|i| i.get("payment_intent"))
        .filter(|p| p.is_object());
    let needs_customer = intent
        .and_then(|p| p.get("status"))
        .and_then(Value::as_str)
        .is_some_and(|s| {
            matches!(
                s,
                "requires_payment_method" | "requires_action" | "requires_confirmation"
            )
        });
    Ok(StripeSubscription {
        reference: reference.to_string(),
        status: v
            .get("status")
            .and_then(Value::as_str)
            .unwrap_or("incomplete")
            .to_string(),
        cancel_at_period_end: v
            .get("cancel_at_period_end")
            .and_then(Value::as_bool)
            .unwrap_or(false),
        current_period_end: v.get("current_period_end").and_then(Value::as_i64),
        latest_invoice_id: invoice
            .and_then(|i| i.get("id"))
            .and_then(Value::as_str)
            .map(str::to_string)
            .or_else(|| {
                v.get("latest_invoice")
                    .and_then(Value::as_str)
                    .map(str::to_string)
            }),
        latest_invoice_status: invoice
            .and_then(|i| i.get("status"))
            .and_then(Value::as_str)
            .map(str::to_string),
        pause_collection: pause_collection_of(v),
        client_secret: if needs_customer {
            intent
                .and_then(|p| p.get("client_secret"))
                .and_then(Value::as_str)
                .map(str::to_string)
        } else {
            None
        },
    })
}

impl StripeProvider {
    /// Creates the Stripe Customer mirroring paygate's `customer_id`; returns Stripe's id.
    pub async fn create_customer(
        &self,
        customer_id: &str,
        email: Option<&str>,
        name: Option<&str>,
        metadata: &Metadata,
    ) -> Result<String, ProviderError> {
        let form = Form::new()
            .set_opt("email", email)
            .set_opt("name", name)
            .map("metadata", metadata)
            .set("metadata[paygate_customer_id]", customer_id);
        let v = self
            .client
            .post("/v1/customers", &form, &format!("{customer_id}-create"))
            .await
            .map_err(map_error)?;
        v.get("id")
            .and_then(Value::as_str)
            .map(str::to_string)
            .ok_or_else(|| ProviderError::Malformed("customer without id".into()))
    }

    /// The Stripe Customer: its email and its default payment method for invoices.
    pub async fn retrieve_customer(
        &self,
        stripe_customer: &str,
    ) -> Result<StripeCustomer, ProviderError> {
        let v = self
            .client
            .get(&format!("/v1/customers/{stripe_customer}"), &Form::new())
            .await
            .map_err(map_error)?;
        Ok(StripeCustomer {
            id: v
                .get("id")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_string(),
            email: v.get("email").and_then(Value::as_str).map(str::to_string),
            default_payment_method: v
                .pointer("/invoice_settings/default_payment_method")
                .and_then(|p| p.as_str().or_else(|| p.get("id").and_then(Value::as_str)))
                .map(str::to_string),
        })
    }

    /// Attaches a payment method to the customer and makes it the default for invoices.
    /// Returns the attached payment method's id: Stripe answers a test token such as
    /// `pm_card_visa` with a new PaymentMethod of its own id.
    pub async fn attach_default_payment_method(
        &self,
        customer_id: &str,
        stripe_customer: &str,
        payment_method: &str,
    ) -> Result<String, ProviderError> {
        let attached = self
            .client
            .post(
                &format!("/v1/payment_methods/{payment_method}/attach"),
                &Form::new().set("customer", stripe_customer),
                &format!("{customer_id}-attach-{payment_method}"),
            )
            .await
            .map_err(map_error)?;
        let attached_id = attached
            .get("id")
            .and_then(Value::as_str)
            .ok_or_else(|| ProviderError::Malformed("payment method without id".into()))?
            .to_string();
        self.client
            .post(
                &format!("/v1/customers/{stripe_customer}"),
                &Form::new().set("invoice_settings[default_payment_method]", &attached_id),
                &format!("{customer_id}-default-{attached_id}"),
            )
            .await
            .map_err(map_error)?;
        Ok(attached_id)
    }

    /// The PaymentMethod as Stripe has it now (`GET /v1/payment_methods/{id}`); `None` for one
    /// that is not a card.
    pub async fn retrieve_card(
        &self,
        payment_method: &str,
    ) -> Result<Option<crate::providers::CardFacts>, ProviderError> {
        check_id(payment_method)?;
        let v = self
            .client
            .get(
                &format!("/v1/payment_methods/{payment_method}"),
                &Form::new(),
            )
            .await
            .map_err(map_error)?;
        super::events::card_facts(&v)
    }

    /// Detaches a saved card from its customer (`POST /v1/payment_methods/{id}/detach`): it can
    /// no longer be charged, and Stripe does not let it be attached again. `request` keys the
    /// call (its retries resend it). A card Stripe has detached already (another request, the
    /// dashboard) is detached: Stripe refuses to detach it again, so the refusal is checked
    /// against the card as Stripe has it.
    pub async fn detach_card(
        &self,
        request: &str,
        payment_method: &str,
    ) -> Result<(), ProviderError> {
        check_id(payment_method)?;
        let detached = self
            .client
            .post(
                &format!("/v1/payment_methods/{payment_method}/detach"),
                &Form::new(),
                request,
            )
            .await
            .map_err(map_error);
        match detached {
            Ok(_) => Ok(()),
            Err(e) => match self.retrieve_card(payment_method).await {
                Ok(Some(card)) if card.provider_customer.is_none() => Ok(()),
                _ => Err(e),
            },
        }
    }

    /// Whether the card the PaymentIntent is confirmed with will be saved on its customer
    /// (`setup_future_usage`: `off_session`, or an empty value to unset it; the update is
    /// allowed until the PaymentIntent is confirmed, docs.stripe.com/api/payment_intents/update).
    /// `request` keys the call.
    pub async fn set_save_card(
        &self,
        request: &str,
        payment_intent: &str,
        save: bool,
    ) -> Result<(), ProviderError> {
        check_id(payment_intent)?;
        self.client
            .post(
                &format!("/v1/payment_intents/{payment_intent}"),
                &Form::new().set("setup_future_usage", if save { "off_session" } else { "" }),
                request,
            )
            .await
            .map_err(map_error)?;
        Ok(())
    }

    pub async fn create_subscription(
        &self,
        subscription_id: &str,
        stripe_customer: &str,
        price: &str,
        trial_days: Option<u32>,
        behavior: PaymentBehavior,
    ) -> Result<StripeSubscription, ProviderError> {
        let form = Form::new()
            .set("customer", stripe_customer)
            .set("items[0][price]", price)
            .set_opt("trial_period_days", trial_days.filter(|d| *d > 0))
            .set("payment_behavior", behavior.as_str())
            .set("metadata[paygate_subscription_id]", subscription_id)
            .list("expand", ["latest_invoice.payment_intent"]);
        let v = self
            .client
            .post(
                "/v1/subscriptions",
                &form,
                &format!("{subscription_id}-create"),
            )
            .await
            .map_err(map_error)?;
        subscription_from(&v)
    }

    /// Pauses payment collection (docs.stripe.com/billing/subscriptions/pause-payment); the
    /// subscription stays active. `request`: a key of this request, so a retry of it is one
    /// change while a later pause is a change of its own.
    pub async fn pause_subscription(
        &self,
        request: &str,
        reference: &str,
        behavior: PauseBehavior,
        resumes_at: Option<i64>,
    ) -> Result<StripeSubscription, ProviderError> {
        let form = Form::new()
            .set("pause_collection[behavior]", behavior.as_str())
            .set_opt("pause_collection[resumes_at]", resumes_at);
        let v = self
            .client
            .post(&format!("/v1/subscriptions/{reference}"), &form, request)
            .await
            .map_err(map_error)?;
        subscription_from(&v)
    }

    /// Moves the subscription's (single) item to `price`, prorated as `proration` says
    /// (docs.stripe.com/billing/subscriptions/prorations). The item's id is read first: Stripe
    /// changes an item by its id, and without it would add a second item.
    pub async fn change_price(
        &self,
        request: &str,
        reference: &str,
        price: &str,
        proration: ProrationBehavior,
    ) -> Result<StripeSubscription, ProviderError> {
        let current = self
            .client
            .get(&format!("/v1/subscriptions/{reference}"), &Form::new())
            .await
            .map_err(map_error)?;
        let item = current
            .pointer("/items/data/0/id")
            .and_then(Value::as_str)
            .ok_or_else(|| ProviderError::Malformed("subscription without items".into()))?;
        let form = Form::new()
            .set("items[0][id]", item)
            .set("items[0][price]", price)
            .set("proration_behavior", proration.as_str())
            .list("expand", ["latest_invoice.payment_intent"]);
        let v = self
            .client
            .post(&format!("/v1/subscriptions/{reference}"), &form, request)
            .await
            .map_err(map_error)?;
        subscription_from(&v)
    }

    /// Resumes payment collection: an empty `pause_collection`, as Stripe documents.
    pub async fn resume_subscription(
        &self,
        request: &str,
        reference: &str,
    ) -> Result<StripeSubscription, ProviderError> {
        let v = self
            .client
            .post(
                &format!("/v1/subscriptions/{reference}"),
                &Form::new().set("pause_collection", ""),
                request,
            )
            .await
            .map_err(map_error)?;
        subscription_from(&v)
    }

    /// The subscription's invoices, newest first (up to 100: `GET /v1/invoices?subscription=`).
    pub async fn list_invoices(
        &self,
        reference: &str,
    ) -> Result<Vec<SubscriptionInvoice>, ProviderError> {
        let v = self
            .client
            .get(
                "/v1/invoices",
                &Form::new()
                    .set("subscription", reference)
                    .set("limit", "100"),
            )
            .await
            .map_err(map_error)?;
        v.get("data")
            .and_then(Value::as_array)
            .ok_or_else(|| ProviderError::Malformed("invoice list without data".into()))?
            .iter()
            .map(invoice_from)
            .collect()
    }

    /// At the period end (the customer keeps what they paid for), or at once.
    pub async fn cancel_subscription(
        &self,
        subscription_id: &str,
        reference: &str,
        at_period_end: bool,
    ) -> Result<StripeSubscription, ProviderError> {
        let v = if at_period_end {
            self.client
                .post(
                    &format!("/v1/subscriptions/{reference}"),
                    &Form::new().set("cancel_at_period_end", "true"),
                    &format!("{subscription_id}-cancel-at-period-end"),
                )
                .await
        } else {
            self.client
                .delete(&format!("/v1/subscriptions/{reference}"), &Form::new())
                .await
        }
        .map_err(map_error)?;
        subscription_from(&v)
    }
}
