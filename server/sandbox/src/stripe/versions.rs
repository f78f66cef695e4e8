//! The API version webhook events are rendered at. Stripe renders an event with its endpoint's
//! version: "Webhook endpoints either have a specific API version set or use the default API
//! version of the Stripe account" (docs.stripe.com/webhooks/versioning), whatever
//! `Stripe-Version` the integration sends on its requests. An account whose default moved on
//! sends paygate events whose objects have another shape. The emulator's one endpoint renders at
//! [`super::API_VERSION`] unless a test sets another (`POST /_emulator/webhook_endpoint`).
//!
//! Modelled for `2025-03-31.basil`, the two changes that move fields paygate reads:
//! - subscriptions: "`current_period_start` and `current_period_end` fields are no longer
//!   available on the subscription resource… access the subscription item's billing periods
//!   directly using items.data.current_period_end" (docs.stripe.com/changelog/basil/2025-03-31/
//!   deprecate-subscription-current-period-start-and-end);
//! - invoices: "we deprecated the `quote`, `subscription`, `subscription_details`, and
//!   `subscription_proration_date` fields… their new locations in the `parent` field"
//!   (docs.stripe.com/changelog/basil/2025-03-31/adds-new-parent-field-to-invoicing-objects);
//!   the subscription is at `parent.subscription_details.subscription`.
//!
//! Every other object is rendered as at the pinned version (not modelled).

use serde_json::{json, Value};

pub const BASIL: &str = "2025-03-31.basil";
/// The versions an endpoint can be set to.
pub const SUPPORTED: [&str; 2] = [super::API_VERSION, BASIL];

/// `object` as an event rendered at `version` carries it.
pub fn render(version: &str, mut object: Value) -> Value {
    if version != BASIL {
        return object;
    }
    match object.get("object").and_then(Value::as_str) {
        Some("subscription") => {
            if let Some(map) = object.as_object_mut() {
                map.remove("current_period_start");
                map.remove("current_period_end");
            }
        }
        Some("invoice") => {
            let subscription = object.get("subscription").cloned().unwrap_or(Value::Null);
            if let Some(map) = object.as_object_mut() {
                map.remove("subscription");
                map.remove("subscription_details");
                map.insert(
                    "parent".into(),
                    if subscription.is_null() {
                        Value::Null
                    } else {
                        json!({
                            "type": "subscription_details",
                            "quote_details": null,
                            "subscription_details": {"metadata": {}, "subscription": subscription},
                        })
                    },
                );
            }
        }
        _ => {}
    }
    object
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn basil_moves_the_fields_paygate_reads() {
        let sub = json!({"object": "subscription", "id": "sub_1", "current_period_end": 5,
            "items": {"data": [{"current_period_end": 5}]}});
        assert_eq!(render(super::super::API_VERSION, sub.clone()), sub);
        let basil = render(BASIL, sub);
        assert!(basil.get("current_period_end").is_none());
        assert_eq!(basil["items"]["data"][0]["current_period_end"], 5);
        let inv = json!({"object": "invoice", "id": "in_1", "subscription": "sub_1"});
        let basil = render(BASIL, inv);
        assert!(basil.get("subscription").is_none());
        assert_eq!(
            basil["parent"]["subscription_details"]["subscription"],
            "sub_1"
        );
    }
}
