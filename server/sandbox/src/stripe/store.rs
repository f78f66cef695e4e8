//! The emulator's state: every object, held in memory behind one mutex (so that, as at Stripe,
//! two concurrent refunds can never together exceed what is left), with the JSON Stripe shows
//! for each, and the events that every state change emits.

use super::cards::{Profile, RefundMode};
use super::form::display_path;
use crate::common::webhooks::DeliveryQueue;
use crate::Clock;
use serde_json::{json, Map, Value};
use std::collections::{BTreeMap, HashMap};

/// The API version this emulator speaks and stamps on events: the last one before "Basil", so
/// invoices still carry `payment_intent` and subscriptions `current_period_*`.
pub const API_VERSION: &str = "2024-06-20";

pub type Metadata = BTreeMap<String, String>;

/// Which key made a call: Stripe shows a publishable-key caller a reduced PaymentIntent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum View {
    Secret,
    Publishable,
}

/// Who caused an event (`request {id, idempotency_key}`); both `None` for changes Stripe makes
/// on its own (a pending refund settling).
#[derive(Debug, Clone, Default)]
pub struct Origin {
    pub request_id: Option<String>,
    pub idempotency_key: Option<String>,
}

#[derive(Debug, Clone)]
pub struct PaymentIntent {
    pub id: String,
    pub seq: u64,
    pub created: i64,
    pub amount: i64,
    pub currency: String,
    pub capture_method: String,
    pub client_secret: String,
    pub customer: Option<String>,
    pub description: Option<String>,
    pub metadata: Metadata,
    pub payment_method_types: Vec<String>,
    pub automatic_payment_methods: bool,
    pub payment_method: Option<String>,
    pub status: &'static str,
    pub amount_capturable: i64,
    pub amount_received: i64,
    pub latest_charge: Option<String>,
    pub last_payment_error: Option<Value>,
    pub next_action: Option<Value>,
    pub return_url: Option<String>,
    pub receipt_email: Option<String>,
    pub canceled_at: Option<i64>,
    pub cancellation_reason: Option<String>,
    pub setup_future_usage: Option<String>,
    pub statement_descriptor: Option<String>,
    pub statement_descriptor_suffix: Option<String>,
    pub invoice: Option<String>,
    /// The PaymentMethod waiting on a 3-D Secure challenge.
    pub authenticating: Option<String>,
    /// Whether the challenge was handed out as `redirect_to_url` (then the challenge page
    /// returns to `return_url`) rather than `use_stripe_sdk`.
    pub redirect_flow: bool,
}

#[derive(Debug, Clone)]
pub struct PaymentMethod {
    pub id: String,
    pub seq: u64,
    pub created: i64,
    pub brand: &'static str,
    pub last4: String,
    pub exp_month: i64,
    pub exp_year: i64,
    pub fingerprint: String,
    pub profile: Profile,
    pub customer: Option<String>,
    pub billing_details: Value,
    pub metadata: Metadata,
    /// Used in a payment without being attached to a Customer: Stripe refuses to use it again.
    pub consumed: bool,
    /// Set up for off-session use: a payment with `setup_future_usage: off_session` succeeded
    /// with it (see `cards::Authentication`).
    pub set_up: bool,
}

#[derive(Debug, Clone)]
pub struct Charge {
    pub id: String,
    pub seq: u64,
    pub created: i64,
    pub amount: i64,
    pub amount_captured: i64,
    pub currency: String,
    pub captured: bool,
    pub status: &'static str,
    pub payment_intent: String,
    pub payment_method: String,
    pub customer: Option<String>,
    pub description: Option<String>,
    pub metadata: Metadata,
    pub receipt_email: Option<String>,
    pub failure: Option<(String, String)>,
    pub outcome: Value,
    pub card: Value,
    pub refund_mode: RefundMode,
    pub disputed: bool,
    /// Uncaptured and released (its PaymentIntent was canceled).
    pub released: bool,
    pub invoice: Option<String>,
}

#[derive(Debug, Clone)]
pub struct Customer {
    pub id: String,
    pub seq: u64,
    pub created: i64,
    pub email: Option<String>,
    pub name: Option<String>,
    pub phone: Option<String>,
    pub description: Option<String>,
    pub metadata: Metadata,
    pub default_payment_method: Option<String>,
    pub deleted: bool,
}

#[derive(Debug, Clone)]
pub struct Product {
    pub id: String,
    pub seq: u64,
    pub created: i64,
    pub updated: i64,
    pub name: String,
    pub description: Option<String>,
    pub active: bool,
    pub default_price: Option<String>,
    pub metadata: Metadata,
}

#[derive(Debug, Clone)]
pub struct Price {
    pub id: String,
    pub seq: u64,
    pub created: i64,
    pub product: String,
    pub currency: String,
    pub unit_amount: i64,
    /// `(interval, interval_count)`; `None` for one-time prices.
    pub recurring: Option<(String, i64)>,
    pub lookup_key: Option<String>,
    pub nickname: Option<String>,
    pub active: bool,
    pub metadata: Metadata,
}

#[derive(Debug, Clone)]
pub struct SubscriptionItem {
    pub id: String,
    pub created: i64,
    pub price: String,
    pub quantity: i64,
}

#[derive(Debug, Clone)]
pub struct Subscription {
    pub id: String,
    pub seq: u64,
    pub created: i64,
    pub customer: String,
    pub items: Vec<SubscriptionItem>,
    pub currency: String,
    pub status: &'static str,
    pub current_period_start: i64,
    pub current_period_end: i64,
    pub billing_cycle_anchor: i64,
    pub start_date: i64,
    pub cancel_at_period_end: bool,
    pub cancel_at: Option<i64>,
    pub canceled_at: Option<i64>,
    pub ended_at: Option<i64>,
    pub cancellation_details: (Option<String>, Option<String>, Option<String>),
    pub default_payment_method: Option<String>,
    pub latest_invoice: Option<String>,
    pub metadata: Metadata,
    pub description: Option<String>,
    pub trial_start: Option<i64>,
    pub trial_end: Option<i64>,
    pub save_default_payment_method: bool,
    /// `pause_collection`: the behavior and when collection resumes (docs.stripe.com/billing/
    /// subscriptions/pause-payment); the status stays as it is while paused.
    pub pause_collection: Option<(String, Option<i64>)>,
}

#[derive(Debug, Clone)]
pub struct InvoiceLine {
    pub id: String,
    pub amount: i64,
    pub price: String,
    pub quantity: i64,
    pub description: String,
    /// A proration: credit for unused time or charge for remaining time after a change.
    pub proration: bool,
}

/// An invoice item waiting for the customer's next invoice (prorations made with
/// `proration_behavior=create_prorations`).
#[derive(Debug, Clone)]
pub struct PendingItem {
    pub customer: String,
    pub subscription: String,
    pub currency: String,
    pub line: InvoiceLine,
}

#[derive(Debug, Clone)]
pub struct Invoice {
    pub id: String,
    pub seq: u64,
    pub created: i64,
    pub number: String,
    pub customer: String,
    pub subscription: Option<String>,
    pub status: &'static str,
    pub currency: String,
    pub amount_due: i64,
    pub amount_paid: i64,
    pub lines: Vec<InvoiceLine>,
    pub period_start: i64,
    pub period_end: i64,
    pub payment_intent: Option<String>,
    pub charge: Option<String>,
    pub attempt_count: i64,
    pub billing_reason: &'static str,
    pub finalized_at: Option<i64>,
    pub paid_at: Option<i64>,
    pub voided_at: Option<i64>,
}

#[derive(Debug, Clone)]
pub struct Refund {
    pub id: String,
    pub seq: u64,
    pub created: i64,
    pub amount: i64,
    pub currency: String,
    pub charge: String,
    pub payment_intent: String,
    pub reason: Option<String>,
    pub status: &'static str,
    pub failure_reason: Option<String>,
    pub metadata: Metadata,
}

#[derive(Debug, Clone)]
pub struct Dispute {
    pub id: String,
    pub created: i64,
    pub amount: i64,
    pub currency: String,
    pub charge: String,
    pub payment_intent: String,
    pub reason: String,
    pub status: &'static str,
    /// Unix seconds: the end of the time to respond.
    pub due_by: i64,
    /// The evidence given so far (text fields only).
    pub evidence: std::collections::BTreeMap<String, String>,
    pub submission_count: i64,
    pub metadata: Metadata,
}

/// Something Stripe does on its own shortly after a request.
#[derive(Debug, Clone)]
pub enum FollowUp {
    FinishProcessing(String),
    SettleRefund(String),
    FailRefund(String),
}

pub struct Store {
    pub clock: Clock,
    pub follow_ups: Vec<FollowUp>,
    seq: u64,
    pub payment_intents: HashMap<String, PaymentIntent>,
    pub setup_intents: HashMap<String, super::setup_intents::SetupIntent>,
    pub payment_methods: HashMap<String, PaymentMethod>,
    pub charges: HashMap<String, Charge>,
    pub customers: HashMap<String, Customer>,
    pub products: HashMap<String, Product>,
    pub prices: HashMap<String, Price>,
    pub subscriptions: HashMap<String, Subscription>,
    pub invoices: HashMap<String, Invoice>,
    pub pending_items: Vec<PendingItem>,
    pub refunds: HashMap<String, Refund>,
    pub disputes: HashMap<String, Dispute>,
    /// Every event, oldest first.
    pub events: Vec<Value>,
    pub event_index: HashMap<String, usize>,
    /// Events waiting to be delivered (or re-delivered) to the webhook endpoint.
    pub webhooks: DeliveryQueue,
    /// Test knob: the next N successful charges pass through `processing` first.
    pub processing_next: u32,
    /// The API version events are rendered at (`super::versions`).
    pub webhook_api_version: &'static str,
    /// The account's default settlement currency, when charges are converted (`settlement`).
    pub settlement_currency: Option<shared::Currency>,
    /// Test knob: the next N 3-D Secure challenges are handed out as `redirect_to_url` (the
    /// customer leaves the page and comes back to `return_url`, as with Stripe's redirect-based
    /// payment methods), even when Stripe.js asked for `use_stripe_sdk`.
    pub redirect_next: u32,
    invoice_number: u64,
}

/// The fields of `b` added to the object `a` (to keep each `json!` small).
fn merge(mut a: Value, b: Value) -> Value {
    if let (Value::Object(x), Value::Object(y)) = (&mut a, b) {
        x.extend(y);
    }
    a
}

fn meta(m: &Metadata) -> Value {
    Value::Object(
        m.iter()
            .map(|(k, v)| (k.clone(), Value::String(v.clone())))
            .collect(),
    )
}

/// A Stripe-shaped list: `{"object":"list","url","has_more","data"}`, newest first, with
/// `limit` (1–100, default 10) and `starting_after`/`ending_before` cursors.
pub fn list_page(
    url: &str,
    items: Vec<Value>,
    limit: Option<i64>,
    starting_after: Option<&str>,
    ending_before: Option<&str>,
) -> Result<Value, super::error::ApiError> {
    let limit = limit.unwrap_or(10);
    if !(1..=100).contains(&limit) {
        return Err(super::error::ApiError::invalid_param(
            "limit",
            "This value must be greater than or equal to 1 and less than or equal to 100."
                .to_string(),
        ));
    }
    let limit = limit as usize;
    let position = |id: &str| items.iter().position(|v| v["id"] == id);
    let (data, has_more) = if let Some(after) = starting_after {
        let Some(i) = position(after) else {
            return Err(super::error::ApiError::no_such(
                "object",
                after,
                "starting_after",
            ));
        };
        let rest: Vec<Value> = items[i + 1..].to_vec();
        let more = rest.len() > limit;
        (rest.into_iter().take(limit).collect::<Vec<_>>(), more)
    } else if let Some(before) = ending_before {
        let Some(i) = position(before) else {
            return Err(super::error::ApiError::no_such(
                "object",
                before,
                "ending_before",
            ));
        };
        let head = &items[..i];
        let start = head.len().saturating_sub(limit);
        (head[start..].to_vec(), start > 0)
    } else {
        let more = items.len() > limit;
        (items.into_iter().take(limit).collect(), more)
    };
    Ok(json!({"object": "list", "url": url, "has_more": has_more, "data": data}))
}

impl Store {
    pub fn new(clock: Clock, webhooks_enabled: bool) -> Store {
        let mut store = Store {
            clock,
            follow_ups: Vec::new(),
            seq: 0,
            payment_intents: HashMap::new(),
            setup_intents: HashMap::new(),
            payment_methods: HashMap::new(),
            charges: HashMap::new(),
            customers: HashMap::new(),
            products: HashMap::new(),
            prices: HashMap::new(),
            subscriptions: HashMap::new(),
            invoices: HashMap::new(),
            pending_items: Vec::new(),
            refunds: HashMap::new(),
            disputes: HashMap::new(),
            events: Vec::new(),
            event_index: HashMap::new(),
            webhooks: DeliveryQueue::new(webhooks_enabled),
            processing_next: 0,
            webhook_api_version: API_VERSION,
            settlement_currency: None,
            redirect_next: 0,
            invoice_number: 0,
        };
        store.seed_catalog();
        store
    }

    pub fn now(&self) -> i64 {
        self.clock.now_secs()
    }

    pub fn next_seq(&mut self) -> u64 {
        self.seq += 1;
        self.seq
    }

    pub fn next_invoice_number(&mut self) -> String {
        self.invoice_number += 1;
        format!("PAYGATE-{:04}", self.invoice_number)
    }

    /// The demo catalogue of sandbox mode (fixed ids, so docs and tests can name them).
    fn seed_catalog(&mut self) {
        let now = self.now();
        let seq = self.next_seq();
        self.products.insert(
            super::DEMO_PRODUCT.into(),
            Product {
                id: super::DEMO_PRODUCT.into(),
                seq,
                created: now,
                updated: now,
                name: "paygate Pro".into(),
                description: Some("The demo subscription of paygate's sandbox.".into()),
                active: true,
                default_price: Some(super::DEMO_PRICE_MONTHLY.into()),
                metadata: Metadata::new(),
            },
        );
        for (id, amount, currency, interval, lookup) in [
            (
                super::DEMO_PRICE_MONTHLY,
                999,
                "usd",
                "month",
                "paygate_pro_monthly",
            ),
            (
                super::DEMO_PRICE_YEARLY,
                9900,
                "usd",
                "year",
                "paygate_pro_yearly",
            ),
            (
                super::DEMO_PRICE_MONTHLY_JPY,
                1500,
                "jpy",
                "month",
                "paygate_pro_monthly_jpy",
            ),
        ] {
            let seq = self.next_seq();
            self.prices.insert(
                id.into(),
                Price {
                    id: id.into(),
                    seq,
                    created: now,
                    product: super::DEMO_PRODUCT.into(),
                    currency: currency.into(),
                    unit_amount: amount,
                    recurring: Some((interval.into(), 1)),
                    lookup_key: Some(lookup.into()),
                    nickname: None,
                    active: true,
                    metadata: Metadata::new(),
                },
            );
        }
    }

    /// Records an event for a state change and queues it for delivery.
    pub fn emit(&mut self, origin: &Origin, kind: &str, object: Value, previous: Option<Value>) {
        let id = crate::ids::new_id("evt");
        let mut data = Map::new();
        data.insert(
            "object".into(),
            super::versions::render(self.webhook_api_version, object),
        );
        if let Some(p) = previous {
            data.insert("previous_attributes".into(), p);
        }
        let event = json!({
            "id": id,
            "object": "event",
            "api_version": self.webhook_api_version,
            "created": self.now(),
            "data": data,
            "livemode": false,
            "pending_webhooks": u8::from(self.webhooks.enabled()),
            "request": {"id": origin.request_id, "idempotency_key": origin.idempotency_key},
            "type": kind,
        });
        self.webhooks.push(id.clone(), event.to_string());
        self.event_index.insert(id, self.events.len());
        self.events.push(event);
    }

    /// Marks an event delivered (`pending_webhooks` 0).
    pub fn delivered(&mut self, event_id: &str) {
        if let Some(&i) = self.event_index.get(event_id) {
            self.events[i]["pending_webhooks"] = json!(0);
        }
    }

    // ---- JSON views -------------------------------------------------------------------------

    pub fn payment_intent_json(&self, pi: &PaymentIntent, view: View) -> Value {
        let amp = if pi.automatic_payment_methods {
            json!({"allow_redirects": "always", "enabled": true})
        } else {
            Value::Null
        };
        let mut v = json!({
            "id": pi.id,
            "object": "payment_intent",
            "amount": pi.amount,
            "amount_details": {"tip": {}},
            "automatic_payment_methods": amp,
            "canceled_at": pi.canceled_at,
            "cancellation_reason": pi.cancellation_reason,
            "capture_method": pi.capture_method,
            "client_secret": pi.client_secret,
            "confirmation_method": "automatic",
            "created": pi.created,
            "currency": pi.currency,
            "description": pi.description,
            "last_payment_error": pi.last_payment_error,
            "livemode": false,
            "next_action": pi.next_action,
            "payment_method": pi.payment_method,
            "payment_method_configuration_details": null,
            "payment_method_types": pi.payment_method_types,
            "processing": null,
            "receipt_email": pi.receipt_email,
            "setup_future_usage": pi.setup_future_usage,
            "shipping": null,
            "source": null,
            "status": pi.status,
        });
        if view == View::Secret {
            let extra = json!({
                "amount_capturable": pi.amount_capturable,
                "amount_received": pi.amount_received,
                "application": null,
                "application_fee_amount": null,
                "customer": pi.customer,
                "invoice": pi.invoice,
                "latest_charge": pi.latest_charge,
                "metadata": meta(&pi.metadata),
                "on_behalf_of": null,
                "payment_method_options": {"card": {
                    "installments": null, "mandate_options": null, "network": null,
                    "request_three_d_secure": "automatic"}},
                "review": null,
                "statement_descriptor": pi.statement_descriptor,
                "statement_descriptor_suffix": pi.statement_descriptor_suffix,
                "transfer_data": null,
                "transfer_group": null,
            });
            if let (Value::Object(a), Value::Object(b)) = (&mut v, extra) {
                a.extend(b);
            }
        }
        v
    }

    pub fn payment_method_json(&self, pm: &PaymentMethod) -> Value {
        json!({
            "id": pm.id,
            "object": "payment_method",
            "allow_redisplay": "unspecified",
            "billing_details": pm.billing_details,
            "card": {
                "brand": pm.brand,
                "checks": {"address_line1_check": null, "address_postal_code_check": null, "cvc_check": "pass"},
                "country": pm.profile.country,
                "display_brand": pm.brand,
                "exp_month": pm.exp_month,
                "exp_year": pm.exp_year,
                "fingerprint": pm.fingerprint,
                "funding": pm.profile.funding,
                "generated_from": null,
                "last4": pm.last4,
                "networks": {"available": [pm.brand], "preferred": null},
                "three_d_secure_usage": {"supported": true},
                "wallet": null,
            },
            "created": pm.created,
            "customer": pm.customer,
            "livemode": false,
            "metadata": meta(&pm.metadata),
            "type": "card",
        })
    }

    /// What a charge has had refunded: pending and succeeded refunds count.
    pub fn refunded_on(&self, charge_id: &str) -> i64 {
        self.refunds
            .values()
            .filter(|r| r.charge == charge_id && (r.status == "pending" || r.status == "succeeded"))
            .map(|r| r.amount)
            .sum()
    }

    pub fn charge_json(&self, ch: &Charge) -> Value {
        let refunded_amount = if ch.released {
            ch.amount
        } else {
            self.refunded_on(&ch.id)
        };
        let refunded = ch.released || (ch.captured && refunded_amount >= ch.amount_captured);
        let head = json!({
            "id": ch.id,
            "object": "charge",
            "amount": ch.amount,
            "amount_captured": ch.amount_captured,
            "amount_refunded": refunded_amount,
            "application": null,
            "application_fee": null,
            "application_fee_amount": null,
            "balance_transaction": null,
            "billing_details": {"address": {"city": null, "country": null, "line1": null, "line2": null, "postal_code": null, "state": null}, "email": null, "name": null, "phone": null},
            "calculated_statement_descriptor": "PAYGATE SANDBOX",
            "captured": ch.captured,
            "created": ch.created,
            "currency": ch.currency,
            "customer": ch.customer,
            "description": ch.description,
            "disputed": ch.disputed,
            "failure_balance_transaction": null,
            "failure_code": ch.failure.as_ref().map(|f| f.0.clone()),
            "failure_message": ch.failure.as_ref().map(|f| f.1.clone()),
            "fraud_details": {},
        });
        let tail = json!({
            "invoice": ch.invoice,
            "livemode": false,
            "metadata": meta(&ch.metadata),
            "outcome": ch.outcome,
            "paid": ch.status == "succeeded",
            "payment_intent": ch.payment_intent,
            "payment_method": ch.payment_method,
            "payment_method_details": {"card": ch.card, "type": "card"},
            "receipt_email": ch.receipt_email,
            "receipt_url": null,
            "refunded": refunded,
            "review": null,
            "shipping": null,
            "source": null,
            "statement_descriptor": null,
            "statement_descriptor_suffix": null,
            "status": ch.status,
            "transfer_data": null,
            "transfer_group": null,
        });
        merge(head, tail)
    }

    pub fn customer_json(&self, c: &Customer) -> Value {
        if c.deleted {
            return json!({"id": c.id, "object": "customer", "deleted": true});
        }
        json!({
            "id": c.id,
            "object": "customer",
            "address": null,
            "balance": 0,
            "created": c.created,
            "currency": null,
            "default_source": null,
            "delinquent": false,
            "description": c.description,
            "discount": null,
            "email": c.email,
            "invoice_prefix": c.id.trim_start_matches("cus_").chars().take(8).collect::<String>().to_uppercase(),
            "invoice_settings": {"custom_fields": null, "default_payment_method": c.default_payment_method, "footer": null, "rendering_options": null},
            "livemode": false,
            "metadata": meta(&c.metadata),
            "name": c.name,
            "phone": c.phone,
            "preferred_locales": [],
            "shipping": null,
            "tax_exempt": "none",
            "test_clock": null,
        })
    }

    pub fn product_json(&self, p: &Product) -> Value {
        json!({
            "id": p.id,
            "object": "product",
            "active": p.active,
            "created": p.created,
            "default_price": p.default_price,
            "description": p.description,
            "images": [],
            "livemode": false,
            "marketing_features": [],
            "metadata": meta(&p.metadata),
            "name": p.name,
            "package_dimensions": null,
            "shippable": null,
            "statement_descriptor": null,
            "tax_code": null,
            "type": "service",
            "unit_label": null,
            "updated": p.updated,
            "url": null,
        })
    }

    pub fn price_json(&self, p: &Price) -> Value {
        let recurring = p.recurring.as_ref().map(|(interval, count)| {
            json!({"aggregate_usage": null, "interval": interval, "interval_count": count,
                   "meter": null, "trial_period_days": null, "usage_type": "licensed"})
        });
        json!({
            "id": p.id,
            "object": "price",
            "active": p.active,
            "billing_scheme": "per_unit",
            "created": p.created,
            "currency": p.currency,
            "custom_unit_amount": null,
            "livemode": false,
            "lookup_key": p.lookup_key,
            "metadata": meta(&p.metadata),
            "nickname": p.nickname,
            "product": p.product,
            "recurring": recurring,
            "tax_behavior": "unspecified",
            "tiers_mode": null,
            "transform_quantity": null,
            "type": if p.recurring.is_some() { "recurring" } else { "one_time" },
            "unit_amount": p.unit_amount,
            "unit_amount_decimal": p.unit_amount.to_string(),
        })
    }

    /// The legacy `plan` view of a recurring price (still on subscriptions and items).
    fn plan_json(&self, p: &Price) -> Value {
        let (interval, count) = p.recurring.clone().unwrap_or(("month".into(), 1));
        json!({
            "id": p.id, "object": "plan", "active": p.active, "aggregate_usage": null,
            "amount": p.unit_amount, "amount_decimal": p.unit_amount.to_string(),
            "billing_scheme": "per_unit", "created": p.created, "currency": p.currency,
            "interval": interval, "interval_count": count, "livemode": false,
            "metadata": meta(&p.metadata), "meter": null, "nickname": p.nickname,
            "product": p.product, "tiers_mode": null, "transform_usage": null,
            "trial_period_days": null, "usage_type": "licensed",
        })
    }

    pub fn subscription_json(&self, s: &Subscription) -> Value {
        let items: Vec<Value> = s
            .items
            .iter()
            .map(|item| {
                let price = self.prices.get(&item.price);
                json!({
                    "id": item.id,
                    "object": "subscription_item",
                    "created": item.created,
                    "current_period_end": s.current_period_end,
                    "current_period_start": s.current_period_start,
                    "discounts": [],
                    "metadata": {},
                    "plan": price.map(|p| self.plan_json(p)),
                    "price": price.map(|p| self.price_json(p)),
                    "quantity": item.quantity,
                    "subscription": s.id,
                    "tax_rates": [],
                })
            })
            .collect();
        let single = (s.items.len() == 1).then(|| &s.items[0]);
        let head = json!({
            "id": s.id,
            "object": "subscription",
            "application": null,
            "application_fee_percent": null,
            "automatic_tax": {"enabled": false, "liability": null},
            "billing_cycle_anchor": s.billing_cycle_anchor,
            "billing_thresholds": null,
            "cancel_at": s.cancel_at,
            "cancel_at_period_end": s.cancel_at_period_end,
            "canceled_at": s.canceled_at,
            "cancellation_details": {"comment": s.cancellation_details.0, "feedback": s.cancellation_details.1, "reason": s.cancellation_details.2},
            "collection_method": "charge_automatically",
            "created": s.created,
            "currency": s.currency,
            "current_period_end": s.current_period_end,
            "current_period_start": s.current_period_start,
            "customer": s.customer,
            "days_until_due": null,
            "default_payment_method": s.default_payment_method,
            "default_source": null,
            "description": s.description,
            "discount": null,
            "discounts": [],
        });
        let tail = json!({
            "ended_at": s.ended_at,
            "items": {"object": "list", "data": items, "has_more": false, "url": format!("/v1/subscription_items?subscription={}", s.id)},
            "latest_invoice": s.latest_invoice,
            "livemode": false,
            "metadata": meta(&s.metadata),
            "next_pending_invoice_item_invoice": null,
            "pause_collection": s.pause_collection.as_ref().map(|(behavior, resumes_at)| json!({"behavior": behavior, "resumes_at": resumes_at})),
            "payment_settings": {"payment_method_options": null, "payment_method_types": null,
                "save_default_payment_method": if s.save_default_payment_method { "on_subscription" } else { "off" }},
            "pending_invoice_item_interval": null,
            "pending_setup_intent": null,
            "pending_update": null,
            "plan": single.and_then(|i| self.prices.get(&i.price)).map(|p| self.plan_json(p)),
            "quantity": single.map(|i| i.quantity),
            "schedule": null,
            "start_date": s.start_date,
            "status": s.status,
            "test_clock": null,
            "transfer_data": null,
            "trial_end": s.trial_end,
            "trial_settings": {"end_behavior": {"missing_payment_method": "create_invoice"}},
            "trial_start": s.trial_start,
        });
        merge(head, tail)
    }

    pub fn invoice_json(&self, inv: &Invoice) -> Value {
        let email = self
            .customers
            .get(&inv.customer)
            .and_then(|c| c.email.clone());
        let lines: Vec<Value> = inv
            .lines
            .iter()
            .map(|l| {
                json!({
                    "id": l.id,
                    "object": "line_item",
                    "amount": l.amount,
                    "currency": inv.currency,
                    "description": l.description,
                    "discountable": true,
                    "invoice": inv.id,
                    "livemode": false,
                    "metadata": {},
                    "period": {"end": inv.period_end, "start": inv.period_start},
                    "plan": self.prices.get(&l.price).map(|p| self.plan_json(p)),
                    "price": self.prices.get(&l.price).map(|p| self.price_json(p)),
                    "proration": l.proration,
                    "quantity": l.quantity,
                    "subscription": inv.subscription,
                    "type": "subscription",
                })
            })
            .collect();
        let paid = inv.status == "paid";
        json!({
            "id": inv.id,
            "object": "invoice",
            "account_country": "US",
            "account_name": "paygate sandbox",
            "amount_due": inv.amount_due,
            "amount_paid": inv.amount_paid,
            "amount_remaining": inv.amount_due - inv.amount_paid,
            "attempt_count": inv.attempt_count,
            "attempted": inv.attempt_count > 0 || paid,
            "auto_advance": inv.status == "open",
            "billing_reason": inv.billing_reason,
            "charge": inv.charge,
            "collection_method": "charge_automatically",
            "created": inv.created,
            "currency": inv.currency,
            "customer": inv.customer,
            "customer_email": email,
            "description": null,
            "hosted_invoice_url": null,
            "invoice_pdf": null,
            "lines": {"object": "list", "data": lines, "has_more": false, "url": format!("/v1/invoices/{}/lines", inv.id)},
            "livemode": false,
            "metadata": {},
            "number": inv.number,
            "paid": paid,
            "paid_out_of_band": false,
            "payment_intent": inv.payment_intent,
            "period_end": inv.period_end,
            "period_start": inv.period_start,
            "status": inv.status,
            "status_transitions": {"finalized_at": inv.finalized_at, "marked_uncollectible_at": null, "paid_at": inv.paid_at, "voided_at": inv.voided_at},
            "subscription": inv.subscription,
            "subtotal": inv.amount_due,
            "total": inv.amount_due,
        })
    }

    pub fn refund_json(&self, r: &Refund) -> Value {
        json!({
            "id": r.id,
            "object": "refund",
            "amount": r.amount,
            "balance_transaction": null,
            "charge": r.charge,
            "created": r.created,
            "currency": r.currency,
            "destination_details": {"card": {"reference_status": "pending", "reference_type": "acquirer_reference_number", "type": "refund"}, "type": "card"},
            "failure_reason": r.failure_reason,
            "metadata": meta(&r.metadata),
            "payment_intent": r.payment_intent,
            "reason": r.reason,
            "receipt_number": null,
            "source_transfer_reversal": null,
            "status": r.status,
            "transfer_reversal": null,
        })
    }

    pub fn dispute_json(&self, d: &Dispute) -> Value {
        json!({
            "id": d.id,
            "object": "dispute",
            "amount": d.amount,
            "balance_transactions": [],
            "charge": d.charge,
            "created": d.created,
            "currency": d.currency,
            "evidence": super::disputes::evidence_json(&d.evidence),
            "evidence_details": {"due_by": d.due_by, "has_evidence": !d.evidence.is_empty(),
                "past_due": self.now() > d.due_by, "submission_count": d.submission_count},
            "is_charge_refundable": false,
            "livemode": false,
            "metadata": meta(&d.metadata),
            "payment_intent": d.payment_intent,
            "reason": d.reason,
            "status": d.status,
        })
    }

    /// Any object by id, for `expand[]`.
    pub fn object_json(&self, id: &str, view: View) -> Option<Value> {
        let prefix = id.split('_').next().unwrap_or("");
        match prefix {
            "pi" => self
                .payment_intents
                .get(id)
                .map(|o| self.payment_intent_json(o, view)),
            "seti" => self
                .setup_intents
                .get(id)
                .map(|o| super::setup_intents::to_json(o, view)),
            "pm" => self
                .payment_methods
                .get(id)
                .map(|o| self.payment_method_json(o)),
            "ch" => self.charges.get(id).map(|o| self.charge_json(o)),
            "cus" => self.customers.get(id).map(|o| self.customer_json(o)),
            "prod" => self.products.get(id).map(|o| self.product_json(o)),
            "price" => self.prices.get(id).map(|o| self.price_json(o)),
            "sub" => self
                .subscriptions
                .get(id)
                .map(|o| self.subscription_json(o)),
            "in" => self.invoices.get(id).map(|o| self.invoice_json(o)),
            "re" => self.refunds.get(id).map(|o| self.refund_json(o)),
            "dp" => self.disputes.get(id).map(|o| self.dispute_json(o)),
            _ => None,
        }
    }

    /// Applies `expand[]` paths (`customer`, `latest_invoice.payment_intent`, and for lists
    /// `data.customer`): each named id is replaced by its object, up to four levels.
    pub fn expand(
        &self,
        value: &mut Value,
        paths: &[String],
        view: View,
    ) -> Result<(), super::error::ApiError> {
        for path in paths {
            let segments: Vec<&str> = path.split('.').collect();
            if segments.len() > 4 {
                return Err(super::error::ApiError::invalid_param(
                    "expand",
                    format!("You cannot expand more than 4 levels of a property. Property: {path}"),
                ));
            }
            if !self.expand_at(value, &segments, view) {
                return Err(super::error::ApiError::invalid_param(
                    &display_path(&["expand", "0"]),
                    format!("This property cannot be expanded ({}).", segments.join(".")),
                ));
            }
        }
        Ok(())
    }

    fn expand_at(&self, value: &mut Value, segments: &[&str], view: View) -> bool {
        let Some((first, rest)) = segments.split_first() else {
            return true;
        };
        if let Value::Array(items) = value {
            return items.iter_mut().all(|v| self.expand_at(v, segments, view));
        }
        let Some(field) = value.get_mut(*first) else {
            return false;
        };
        if let Value::String(id) = field {
            match self.object_json(id, view) {
                Some(obj) => *field = obj,
                None => return false,
            }
        }
        if field.is_null() {
            return true;
        }
        self.expand_at(field, rest, view)
    }
}
