//! SetupIntents (docs.stripe.com/api/setup_intents): what a checkout session in `setup` mode
//! uses to save a card for its customer without charging it. Stripe attaches the card to the
//! SetupIntent's customer when the setup succeeds ("If present, the SetupIntent's payment method
//! will be attached to the Customer on successful setup", `customer` on create).

use super::form::Form;
use super::{check_id, map_error, StripeProvider};
use crate::providers::{CardFacts, ProviderError};
use serde_json::Value;

/// The metadata key naming the checkout session a SetupIntent belongs to.
pub const SESSION_KEY: &str = "paygate_checkout_session";

/// A SetupIntent as paygate reads it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StripeSetupIntent {
    pub id: String,
    /// Stripe's status: `requires_payment_method`, `requires_confirmation`, `requires_action`,
    /// `processing`, `succeeded` or `canceled`.
    pub status: String,
    /// For Stripe.js in the widget; never stored.
    pub client_secret: Option<String>,
    pub customer: Option<String>,
    /// The checkout session (`metadata[paygate_checkout_session]`).
    pub session: Option<String>,
    /// Why the last attempt failed, in words for the customer (`last_setup_error.message`).
    pub last_error: Option<String>,
    /// The card given (saved when `status` is `succeeded`), where `payment_method` came
    /// expanded: paygate asks for it on every read.
    pub card: Option<CardFacts>,
}

impl StripeSetupIntent {
    pub fn from_json(v: &Value) -> Result<StripeSetupIntent, ProviderError> {
        let text = |name: &str| v.get(name).and_then(Value::as_str).map(str::to_string);
        // Expanded or not, `customer` names its object.
        let id_of = |name: &str| {
            v.get(name).and_then(|f| {
                f.as_str()
                    .or_else(|| f.get("id").and_then(Value::as_str))
                    .map(str::to_string)
            })
        };
        Ok(StripeSetupIntent {
            id: text("id")
                .filter(|id| id.starts_with("seti_"))
                .ok_or_else(|| ProviderError::Malformed("SetupIntent without id".into()))?,
            status: text("status")
                .ok_or_else(|| ProviderError::Malformed("SetupIntent without status".into()))?,
            client_secret: text("client_secret"),
            customer: id_of("customer"),
            session: v
                .get("metadata")
                .and_then(|m| m.get(SESSION_KEY))
                .and_then(Value::as_str)
                .map(str::to_string),
            last_error: v
                .get("last_setup_error")
                .and_then(|e| e.get("message"))
                .and_then(Value::as_str)
                .map(str::to_string),
            card: match v.get("payment_method").filter(|pm| pm.is_object()) {
                Some(pm) => super::events::card_facts(pm)?,
                None => None,
            },
        })
    }

    pub fn succeeded(&self) -> bool {
        self.status == "succeeded"
    }
}

impl StripeProvider {
    /// A SetupIntent for `stripe_customer` on behalf of checkout session `session`, for later
    /// payments without the customer (`usage: off_session`, Stripe's default, spelled out).
    /// Keyed by the session: one SetupIntent per session, however often the widget asks.
    pub async fn create_setup_intent(
        &self,
        session: &str,
        stripe_customer: &str,
        description: Option<&str>,
    ) -> Result<StripeSetupIntent, ProviderError> {
        check_id(stripe_customer)?;
        let form = Form::new()
            .set("customer", stripe_customer)
            .set("usage", "off_session")
            .set("payment_method_types[]", "card")
            .set_opt("description", description)
            .set(format!("metadata[{SESSION_KEY}]"), session);
        let v = self
            .client
            .post("/v1/setup_intents", &form, &format!("{session}-setup"))
            .await
            .map_err(map_error)?;
        StripeSetupIntent::from_json(&v)
    }

    pub async fn retrieve_setup_intent(
        &self,
        setup_intent: &str,
    ) -> Result<StripeSetupIntent, ProviderError> {
        check_id(setup_intent)?;
        let v = self
            .client
            .get(
                &format!("/v1/setup_intents/{setup_intent}"),
                &Form::new().list("expand", ["payment_method"]),
            )
            .await
            .map_err(map_error)?;
        StripeSetupIntent::from_json(&v)
    }

    /// Cancels a SetupIntent that was never completed (its session expired), so the card form
    /// can no longer save a card ("abandoned"). Keyed by the SetupIntent: once is enough.
    pub async fn cancel_setup_intent(
        &self,
        setup_intent: &str,
    ) -> Result<StripeSetupIntent, ProviderError> {
        check_id(setup_intent)?;
        let v = self
            .client
            .post(
                &format!("/v1/setup_intents/{setup_intent}/cancel"),
                &Form::new().set("cancellation_reason", "abandoned"),
                &format!("{setup_intent}-cancel"),
            )
            .await
            .map_err(map_error)?;
        StripeSetupIntent::from_json(&v)
    }
}
