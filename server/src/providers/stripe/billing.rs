//! Stripe-only operations behind `/v1/customers` and `/v1/subscriptions` (Stripe Billing has
//! no PayPal counterpart in paygate).

use super::form::Form;
use super::{map_error, StripeProvider};
use crate::providers::ProviderError;
use serde_json::Value;
use shared::api::{Metadata, PaymentBehavior};

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
