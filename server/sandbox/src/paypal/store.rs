//! The emulator's state (orders, authorizations, captures, refunds, events, queued webhook
//! deliveries) and how PayPal renders each object (developer.paypal.com/docs/api/orders/v2,
//! developer.paypal.com/docs/api/payments/v2, developer.paypal.com/api/rest/webhooks/event-names;
//! the specs' `order`, `capture`, `authorization`, `refund` and `event` schemas).

use super::money::{fee_units, Amount};
use super::util::{event_id, rfc3339};
use crate::common::webhooks::DeliveryQueue;
use crate::Clock;
use serde_json::{json, Map, Value};
use std::collections::HashMap;

/// The sandbox merchant (payee) of every order.
pub const MERCHANT_EMAIL: &str = "sb-paygate-merchant@business.example.com";
pub const MERCHANT_ID: &str = "PAYGATEMERCHT";
/// The test buyer who approves orders on the approval page.
pub const BUYER_EMAIL: &str = "sb-paygate-buyer@personal.example.com";
/// Payer and account ids match the specs' `^[2-9A-HJ-NP-Z]{13}$` (checkout_orders_v2.json
/// `payer_id`, `account_id`): no 0, 1, I or O (the test below checks both ids).
pub const BUYER_PAYER_ID: &str = "PAYGATEBUYER2";
pub const BUYER_GIVEN_NAME: &str = "Sandbox";
pub const BUYER_SURNAME: &str = "Buyer";

/// "3 h to approve and authorize/capture" (the spec's `order.links`): an approval not acted on
/// within this time is reversed (`CHECKOUT.PAYMENT-APPROVAL.REVERSED`), and an order not
/// approved within it can no longer be approved.
pub const APPROVAL_WINDOW_MS: i64 = 3 * 60 * 60 * 1000;
/// Authorizations are valid for 29 days.
pub const AUTHORIZATION_VALIDITY_MS: i64 = 29 * 24 * 60 * 60 * 1000;
/// Captures can be refunded for 180 days.
pub const REFUND_WINDOW_MS: i64 = 180 * 24 * 60 * 60 * 1000;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Intent {
    Capture,
    Authorize,
}

impl Intent {
    pub fn as_str(self) -> &'static str {
        match self {
            Intent::Capture => "CAPTURE",
            Intent::Authorize => "AUTHORIZE",
        }
    }
}

/// What the test buyer pays with, chosen on the approval page; it decides what capturing (or
/// authorizing) the order does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Funding {
    /// PayPal balance: captures complete.
    Balance,
    /// A card that is refused at capture: 422 `INSTRUMENT_DECLINED` with a `redirect` link;
    /// the buyer must approve again with another funding source (`actions.restart()`).
    InstrumentDeclined,
    /// A bank account (eCheck): captures stay `PENDING` (`status_details.reason` `ECHECK`)
    /// until settled with the emulator's knobs.
    Echeck,
    /// A card the processor declines: the capture is created `DECLINED`.
    ProcessorDeclined,
}

impl Funding {
    pub const ALL: [Funding; 4] = [
        Funding::Balance,
        Funding::InstrumentDeclined,
        Funding::Echeck,
        Funding::ProcessorDeclined,
    ];

    pub fn id(self) -> &'static str {
        match self {
            Funding::Balance => "balance",
            Funding::InstrumentDeclined => "instrument_declined",
            Funding::Echeck => "echeck",
            Funding::ProcessorDeclined => "processor_declined",
        }
    }

    pub fn from_id(s: &str) -> Option<Funding> {
        Funding::ALL.into_iter().find(|f| f.id() == s)
    }
}

#[derive(Debug, Clone, Default)]
pub struct Experience {
    pub brand_name: Option<String>,
    pub locale: Option<String>,
    pub shipping_preference: Option<String>,
    pub user_action: Option<String>,
    pub return_url: Option<String>,
    pub cancel_url: Option<String>,
}

#[derive(Debug, Clone)]
pub struct Unit {
    pub reference_id: String,
    pub amount: Amount,
    /// The request's `amount.breakdown`, values normalised.
    pub breakdown: Option<Value>,
    pub description: Option<String>,
    pub custom_id: Option<String>,
    pub invoice_id: Option<String>,
    pub soft_descriptor: Option<String>,
    pub items: Option<Value>,
    pub shipping: Option<Value>,
    pub captures: Vec<String>,
    pub authorizations: Vec<String>,
}

#[derive(Debug, Clone)]
pub struct Order {
    pub id: String,
    pub intent: Intent,
    pub status: &'static str,
    pub units: Vec<Unit>,
    pub experience: Experience,
    /// Created with `payment_source.paypal`: `PAYER_ACTION_REQUIRED` with a `payer-action` link.
    pub paypal_source: bool,
    /// Set when the buyer approves.
    pub funding: Option<Funding>,
    pub created_ms: i64,
    pub updated_ms: i64,
    pub approved_ms: Option<i64>,
}

#[derive(Debug, Clone)]
pub struct Capture {
    pub id: String,
    pub order_id: String,
    pub authorization_id: Option<String>,
    pub amount: Amount,
    pub status: &'static str,
    pub reason: Option<&'static str>,
    pub final_capture: bool,
    pub invoice_id: Option<String>,
    pub custom_id: Option<String>,
    pub note_to_payer: Option<String>,
    pub fee: i64,
    pub refunded: i64,
    pub refunds: Vec<String>,
    pub created_ms: i64,
    pub updated_ms: i64,
}

#[derive(Debug, Clone)]
pub struct Authorization {
    pub id: String,
    pub order_id: String,
    pub amount: Amount,
    pub status: &'static str,
    pub reason: Option<&'static str>,
    pub captured: i64,
    pub captures: Vec<String>,
    pub invoice_id: Option<String>,
    pub custom_id: Option<String>,
    pub funding: Funding,
    pub created_ms: i64,
    pub updated_ms: i64,
    pub expires_ms: i64,
}

#[derive(Debug, Clone)]
pub struct Refund {
    pub id: String,
    pub capture_id: String,
    pub amount: Amount,
    pub status: &'static str,
    /// `status_details.reason` of a `PENDING` refund: `ECHECK`, the only value the spec lists
    /// ("The reason why the refund has the `PENDING` or `FAILED` status").
    pub reason: Option<&'static str>,
    pub fee: i64,
    /// The capture's refunded total once this refund was made.
    pub total_refunded: i64,
    pub note_to_payer: Option<String>,
    pub invoice_id: Option<String>,
    pub custom_id: Option<String>,
    pub created_ms: i64,
    pub updated_ms: i64,
}

/// How an order is rendered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OrderView {
    /// `GET`, and `Prefer: return=representation`.
    Full,
    /// `return=minimal` answer to create: `id`, `status`, `payment_source`, `links`.
    CreateMinimal,
    /// `return=minimal` answer to capture and authorize: also `payer` and each unit's
    /// `reference_id`, `shipping` and `payments`.
    ActionMinimal,
}

pub struct Store {
    pub base: String,
    pub clock: Clock,
    pub orders: HashMap<String, Order>,
    pub authorizations: HashMap<String, Authorization>,
    pub captures: HashMap<String, Capture>,
    pub refunds: HashMap<String, Refund>,
    pub events: Vec<Value>,
    /// Each event's body as delivered (PayPal's field order), by event id: what a resend sends.
    pub event_bodies: HashMap<String, String>,
    /// Events waiting to be delivered (or re-delivered) to the webhook endpoint.
    pub webhooks: DeliveryQueue,
    /// The next N refunds are `PENDING` (the merchant's balance does not cover them and PayPal
    /// draws the bank account by eCheck) until settled with the emulator's knobs.
    pub pending_refunds_next: u32,
    pub disputes: HashMap<String, super::disputes::Dispute>,
}

fn link(href: String, rel: &str, method: &str) -> Value {
    json!({"href": href, "rel": rel, "method": method})
}

fn put_opt(m: &mut Map<String, Value>, key: &str, v: &Option<String>) {
    if let Some(v) = v {
        m.insert(key.into(), json!(v));
    }
}

pub fn seller_protection(eligible: bool) -> Value {
    if eligible {
        json!({"status": "ELIGIBLE", "dispute_categories": ["ITEM_NOT_RECEIVED", "UNAUTHORIZED_TRANSACTION"]})
    } else {
        json!({"status": "NOT_ELIGIBLE"})
    }
}

fn payee() -> Value {
    json!({"email_address": MERCHANT_EMAIL, "merchant_id": MERCHANT_ID})
}

fn buyer_name() -> Value {
    json!({"given_name": BUYER_GIVEN_NAME, "surname": BUYER_SURNAME})
}

fn buyer_shipping() -> Value {
    json!({
        "name": {"full_name": format!("{BUYER_GIVEN_NAME} {BUYER_SURNAME}")},
        "address": {"address_line_1": "1 Main St", "admin_area_2": "San Jose", "admin_area_1": "CA",
                    "postal_code": "95131", "country_code": "US"}
    })
}

impl Store {
    pub fn new(base: String, clock: Clock, webhooks_enabled: bool) -> Store {
        Store {
            base: base.trim_end_matches('/').to_string(),
            clock,
            orders: HashMap::new(),
            authorizations: HashMap::new(),
            captures: HashMap::new(),
            refunds: HashMap::new(),
            events: Vec::new(),
            event_bodies: HashMap::new(),
            webhooks: DeliveryQueue::new(webhooks_enabled),
            pending_refunds_next: 0,
            disputes: HashMap::new(),
        }
    }

    pub fn now(&self) -> i64 {
        self.clock.now_ms()
    }

    pub fn approval_url(&self, order_id: &str) -> String {
        format!("{}/checkoutnow?token={order_id}", self.base)
    }

    // ---- rendering ----------------------------------------------------------------------------

    fn order_links(&self, o: &Order) -> Vec<Value> {
        let href = format!("{}/v2/checkout/orders/{}", self.base, o.id);
        let mut links = vec![link(href.clone(), "self", "GET")];
        let action = match o.intent {
            Intent::Capture => "capture",
            Intent::Authorize => "authorize",
        };
        match o.status {
            "CREATED" => {
                links.push(link(self.approval_url(&o.id), "approve", "GET"));
                links.push(link(format!("{href}/{action}"), action, "POST"));
            }
            "PAYER_ACTION_REQUIRED" => {
                links.push(link(self.approval_url(&o.id), "payer-action", "GET"));
            }
            "APPROVED" => links.push(link(format!("{href}/{action}"), action, "POST")),
            _ => {}
        }
        links
    }

    fn payment_source(&self, o: &Order) -> Option<Value> {
        if o.funding.is_some() {
            Some(json!({"paypal": {
                "email_address": BUYER_EMAIL,
                "account_id": BUYER_PAYER_ID,
                "account_status": "VERIFIED",
                "name": buyer_name(),
                "address": {"country_code": "US"}
            }}))
        } else if o.paypal_source {
            Some(json!({"paypal": {}}))
        } else {
            None
        }
    }

    fn unit_shipping(&self, o: &Order, u: &Unit) -> Option<Value> {
        if u.shipping.is_some() {
            return u.shipping.clone();
        }
        let preference = o
            .experience
            .shipping_preference
            .as_deref()
            .unwrap_or("GET_FROM_FILE");
        (o.funding.is_some() && preference == "GET_FROM_FILE").then(buyer_shipping)
    }

    fn unit_payments(&self, u: &Unit) -> Option<Value> {
        let mut payments = Map::new();
        if !u.authorizations.is_empty() {
            let list: Vec<Value> = u
                .authorizations
                .iter()
                .filter_map(|id| self.authorizations.get(id))
                .map(|a| self.authorization_json(a, false))
                .collect();
            payments.insert("authorizations".into(), Value::Array(list));
        }
        // The unit's captures: of the order itself, and of its authorizations (a real order
        // shows both under `payments.captures`), oldest first; and every refund of them under
        // `payments.refunds`.
        let mut captures: Vec<&Capture> = self
            .captures
            .values()
            .filter(|c| {
                u.captures.contains(&c.id)
                    || c.authorization_id
                        .as_ref()
                        .is_some_and(|a| u.authorizations.contains(a))
            })
            .collect();
        captures.sort_by(|a, b| (a.created_ms, &a.id).cmp(&(b.created_ms, &b.id)));
        if !captures.is_empty() {
            let list: Vec<Value> = captures
                .iter()
                .map(|c| self.capture_json(c, false))
                .collect();
            payments.insert("captures".into(), Value::Array(list));
        }
        let refunds: Vec<Value> = captures
            .iter()
            .flat_map(|c| c.refunds.iter())
            .filter_map(|id| self.refunds.get(id))
            .map(|r| self.refund_json(r))
            .collect();
        if !refunds.is_empty() {
            payments.insert("refunds".into(), Value::Array(refunds));
        }
        (!payments.is_empty()).then_some(Value::Object(payments))
    }

    pub fn order_json(&self, o: &Order, view: OrderView) -> Value {
        let mut m = Map::new();
        m.insert("id".into(), json!(o.id));
        m.insert("status".into(), json!(o.status));
        if let Some(ps) = self.payment_source(o) {
            m.insert("payment_source".into(), ps);
        }
        if view != OrderView::CreateMinimal {
            let units: Vec<Value> = o
                .units
                .iter()
                .map(|u| {
                    let mut um = Map::new();
                    um.insert("reference_id".into(), json!(u.reference_id));
                    if view == OrderView::Full {
                        let mut amount = u.amount.json();
                        if let Some(b) = &u.breakdown {
                            amount["breakdown"] = b.clone();
                        }
                        um.insert("amount".into(), amount);
                        um.insert("payee".into(), payee());
                        put_opt(&mut um, "description", &u.description);
                        put_opt(&mut um, "custom_id", &u.custom_id);
                        put_opt(&mut um, "invoice_id", &u.invoice_id);
                        let descriptor = u.soft_descriptor.clone().unwrap_or_else(|| {
                            let brand = o
                                .experience
                                .brand_name
                                .as_deref()
                                .unwrap_or("PAYGATE SANDBOX")
                                .to_uppercase();
                            format!("PAYPAL *{brand}").chars().take(22).collect()
                        });
                        um.insert("soft_descriptor".into(), json!(descriptor));
                        if let Some(items) = &u.items {
                            um.insert("items".into(), items.clone());
                        }
                    }
                    if let Some(s) = self.unit_shipping(o, u) {
                        um.insert("shipping".into(), s);
                    }
                    if let Some(p) = self.unit_payments(u) {
                        um.insert("payments".into(), p);
                    }
                    Value::Object(um)
                })
                .collect();
            if view == OrderView::Full {
                m.insert("intent".into(), json!(o.intent.as_str()));
            }
            m.insert("purchase_units".into(), Value::Array(units));
            if o.funding.is_some() {
                m.insert(
                    "payer".into(),
                    json!({"name": buyer_name(), "email_address": BUYER_EMAIL,
                           "payer_id": BUYER_PAYER_ID, "address": {"country_code": "US"}}),
                );
            }
            if view == OrderView::Full {
                m.insert("create_time".into(), json!(rfc3339(o.created_ms, false)));
                m.insert("update_time".into(), json!(rfc3339(o.updated_ms, false)));
            }
        }
        m.insert("links".into(), Value::Array(self.order_links(o)));
        Value::Object(m)
    }

    /// A capture; `standalone` (Payments API, webhooks) adds `supplementary_data` and `payee`.
    pub fn capture_json(&self, c: &Capture, standalone: bool) -> Value {
        let mut m = Map::new();
        m.insert("id".into(), json!(c.id));
        m.insert("status".into(), json!(c.status));
        if let Some(r) = c.reason {
            m.insert("status_details".into(), json!({"reason": r}));
        }
        m.insert("amount".into(), c.amount.json());
        m.insert("final_capture".into(), json!(c.final_capture));
        m.insert(
            "seller_protection".into(),
            seller_protection(c.status != "DECLINED" && c.status != "FAILED"),
        );
        if !matches!(c.status, "PENDING" | "DECLINED" | "FAILED") {
            m.insert(
                "seller_receivable_breakdown".into(),
                json!({
                    "gross_amount": c.amount.json(),
                    "paypal_fee": c.amount.with_units(c.fee).json(),
                    "net_amount": c.amount.with_units(c.amount.units - c.fee).json(),
                }),
            );
        }
        put_opt(&mut m, "invoice_id", &c.invoice_id);
        put_opt(&mut m, "custom_id", &c.custom_id);
        put_opt(&mut m, "note_to_payer", &c.note_to_payer);
        let href = format!("{}/v2/payments/captures/{}", self.base, c.id);
        let mut links = vec![link(href.clone(), "self", "GET")];
        if matches!(c.status, "COMPLETED" | "PARTIALLY_REFUNDED") {
            links.push(link(format!("{href}/refund"), "refund", "POST"));
        }
        links.push(match &c.authorization_id {
            Some(a) => link(
                format!("{}/v2/payments/authorizations/{a}", self.base),
                "up",
                "GET",
            ),
            None => link(
                format!("{}/v2/checkout/orders/{}", self.base, c.order_id),
                "up",
                "GET",
            ),
        });
        m.insert("links".into(), Value::Array(links));
        m.insert("create_time".into(), json!(rfc3339(c.created_ms, false)));
        m.insert("update_time".into(), json!(rfc3339(c.updated_ms, false)));
        if standalone {
            let mut related = json!({"order_id": c.order_id});
            if let Some(a) = &c.authorization_id {
                related["authorization_id"] = json!(a);
            }
            m.insert(
                "supplementary_data".into(),
                json!({ "related_ids": related }),
            );
            m.insert("payee".into(), payee());
        }
        Value::Object(m)
    }

    pub fn authorization_json(&self, a: &Authorization, standalone: bool) -> Value {
        let mut m = Map::new();
        m.insert("id".into(), json!(a.id));
        m.insert("status".into(), json!(a.status));
        if let Some(r) = a.reason {
            m.insert("status_details".into(), json!({"reason": r}));
        }
        m.insert("amount".into(), a.amount.json());
        put_opt(&mut m, "invoice_id", &a.invoice_id);
        put_opt(&mut m, "custom_id", &a.custom_id);
        m.insert(
            "seller_protection".into(),
            seller_protection(a.status != "DENIED"),
        );
        m.insert(
            "expiration_time".into(),
            json!(rfc3339(a.expires_ms, false)),
        );
        let href = format!("{}/v2/payments/authorizations/{}", self.base, a.id);
        let mut links = vec![link(href.clone(), "self", "GET")];
        if matches!(a.status, "CREATED" | "PARTIALLY_CAPTURED") {
            links.push(link(format!("{href}/capture"), "capture", "POST"));
            links.push(link(format!("{href}/void"), "void", "POST"));
        }
        links.push(link(
            format!("{}/v2/checkout/orders/{}", self.base, a.order_id),
            "up",
            "GET",
        ));
        m.insert("links".into(), Value::Array(links));
        m.insert("create_time".into(), json!(rfc3339(a.created_ms, false)));
        m.insert("update_time".into(), json!(rfc3339(a.updated_ms, false)));
        if standalone {
            m.insert(
                "supplementary_data".into(),
                json!({"related_ids": {"order_id": a.order_id}}),
            );
            m.insert("payee".into(), payee());
        }
        Value::Object(m)
    }

    pub fn refund_json(&self, r: &Refund) -> Value {
        let mut m = Map::new();
        m.insert("id".into(), json!(r.id));
        m.insert("amount".into(), r.amount.json());
        m.insert(
            "seller_payable_breakdown".into(),
            json!({
                "gross_amount": r.amount.json(),
                "paypal_fee": r.amount.with_units(r.fee).json(),
                "net_amount": r.amount.with_units(r.amount.units - r.fee).json(),
                "total_refunded_amount": r.amount.with_units(r.total_refunded).json(),
            }),
        );
        put_opt(&mut m, "invoice_id", &r.invoice_id);
        put_opt(&mut m, "custom_id", &r.custom_id);
        put_opt(&mut m, "note_to_payer", &r.note_to_payer);
        m.insert("status".into(), json!(r.status));
        if let Some(reason) = r.reason {
            m.insert("status_details".into(), json!({ "reason": reason }));
        }
        m.insert("create_time".into(), json!(rfc3339(r.created_ms, false)));
        m.insert("update_time".into(), json!(rfc3339(r.updated_ms, false)));
        m.insert(
            "links".into(),
            json!([
                link(
                    format!("{}/v2/payments/refunds/{}", self.base, r.id),
                    "self",
                    "GET"
                ),
                link(
                    format!("{}/v2/payments/captures/{}", self.base, r.capture_id),
                    "up",
                    "GET"
                ),
            ]),
        );
        m.insert("payer".into(), payee());
        Value::Object(m)
    }

    // ---- events -------------------------------------------------------------------------------

    /// Records an event and queues its delivery (when webhooks are on).
    pub fn emit(
        &mut self,
        event_type: &str,
        resource_type: &str,
        summary: String,
        resource: Value,
    ) {
        let id = event_id();
        let href = format!("{}/v1/notifications/webhooks-events/{id}", self.base);
        let envelope = EventEnvelope {
            id: &id,
            event_version: "1.0",
            create_time: rfc3339(self.now(), true),
            resource_type,
            resource_version: "2.0",
            event_type,
            summary: &summary,
            resource: &resource,
            links: [
                link(href.clone(), "self", "GET"),
                link(format!("{href}/resend"), "resend", "POST"),
            ],
        };
        // The delivered bytes keep PayPal's field order (a key-sorted `json!` would not), so a
        // receiver that re-serialises the event before asking the verification API fails here
        // as it would at PayPal.
        let body = serde_json::to_string(&envelope).expect("the event serialises");
        let event: Value = serde_json::from_str(&body).expect("just serialised");
        self.events.push(event);
        self.event_bodies.insert(id.clone(), body.clone());
        self.webhooks.push(id, body);
    }

    pub fn emit_order(&mut self, event_type: &str, order_id: &str, summary: &str) {
        let Some(o) = self.orders.get(order_id) else {
            return;
        };
        let resource = self.order_json(o, OrderView::Full);
        self.emit(event_type, "checkout-order", summary.into(), resource);
    }

    pub fn emit_capture(&mut self, event_type: &str, capture_id: &str) {
        let Some(c) = self.captures.get(capture_id) else {
            return;
        };
        let money = c.amount.summary();
        let summary = match event_type {
            "PAYMENT.CAPTURE.COMPLETED" => format!("Payment completed for {money}"),
            "PAYMENT.CAPTURE.PENDING" => format!("Payment pending for {money}"),
            "PAYMENT.CAPTURE.DENIED" => format!("Payment denied for {money}"),
            "PAYMENT.CAPTURE.DECLINED" => format!("Payment declined for {money}"),
            _ => format!("Payment capture {money}"),
        };
        let resource = self.capture_json(c, true);
        self.emit(event_type, "capture", summary, resource);
    }

    pub fn emit_refund(&mut self, event_type: &str, refund_id: &str) {
        let Some(r) = self.refunds.get(refund_id) else {
            return;
        };
        let verb = if event_type == "PAYMENT.CAPTURE.REVERSED" {
            "reversed"
        } else {
            "refunded"
        };
        let summary = format!("A {} capture payment was {verb}", r.amount.summary());
        let resource = self.refund_json(r);
        self.emit(event_type, "refund", summary, resource);
    }

    pub fn emit_authorization(&mut self, event_type: &str, authorization_id: &str) {
        let Some(a) = self.authorizations.get(authorization_id) else {
            return;
        };
        let summary = match event_type {
            "PAYMENT.AUTHORIZATION.VOIDED" => "A payment authorization was voided".to_string(),
            _ => format!(
                "A payment authorization was created for {}",
                a.amount.summary()
            ),
        };
        let resource = self.authorization_json(a, true);
        self.emit(event_type, "authorization", summary, resource);
    }

    // ---- state changes shared by the API, the approval page and the knobs ----------------------

    /// Reverses approvals older than the approval window: the order is `VOIDED` and
    /// `CHECKOUT.PAYMENT-APPROVAL.REVERSED` is sent.
    pub fn sweep(&mut self) {
        let now = self.now();
        let stale: Vec<String> = self
            .orders
            .values()
            .filter(|o| {
                o.status == "APPROVED"
                    && o.approved_ms.is_some_and(|t| now - t > APPROVAL_WINDOW_MS)
            })
            .map(|o| o.id.clone())
            .collect();
        for id in stale {
            self.reverse_approval(&id);
        }
    }

    /// `APPROVED` → `VOIDED`, with `CHECKOUT.PAYMENT-APPROVAL.REVERSED`. False when the order is
    /// not approved.
    pub fn reverse_approval(&mut self, order_id: &str) -> bool {
        let now = self.now();
        let Some(o) = self.orders.get_mut(order_id) else {
            return false;
        };
        if o.status != "APPROVED" {
            return false;
        }
        o.status = "VOIDED";
        o.updated_ms = now;
        self.emit_order(
            "CHECKOUT.PAYMENT-APPROVAL.REVERSED",
            order_id,
            "A payment has been reversed after approval.",
        );
        true
    }

    /// A new capture's outcome for the buyer's funding source: `(status, reason, fee)`.
    pub fn capture_outcome(
        funding: Funding,
        amount: Amount,
    ) -> (&'static str, Option<&'static str>, i64) {
        match funding {
            Funding::Echeck => ("PENDING", Some("ECHECK"), 0),
            Funding::ProcessorDeclined => ("DECLINED", None, 0),
            Funding::Balance | Funding::InstrumentDeclined => {
                ("COMPLETED", None, fee_units(amount))
            }
        }
    }

    /// The webhook event announcing a new capture in `status`.
    pub fn capture_event(status: &str) -> &'static str {
        match status {
            "PENDING" => "PAYMENT.CAPTURE.PENDING",
            "DECLINED" => "PAYMENT.CAPTURE.DECLINED",
            _ => "PAYMENT.CAPTURE.COMPLETED",
        }
    }

    /// Settles a `PENDING` capture as `COMPLETED` (`PAYMENT.CAPTURE.COMPLETED`) or `DENIED`
    /// (`PAYMENT.CAPTURE.DENIED`). `Err` names the capture's status when it is not pending.
    pub fn settle_capture(&mut self, capture_id: &str, complete: bool) -> Result<(), String> {
        let now = self.now();
        let c = self
            .captures
            .get_mut(capture_id)
            .ok_or_else(|| "no such capture".to_string())?;
        if c.status != "PENDING" {
            return Err(format!("the capture is {}, not PENDING", c.status));
        }
        if complete {
            c.status = "COMPLETED";
            c.reason = None;
            c.fee = fee_units(c.amount);
        } else {
            c.status = "DECLINED";
            c.reason = None;
        }
        c.updated_ms = now;
        let event = if complete {
            "PAYMENT.CAPTURE.COMPLETED"
        } else {
            "PAYMENT.CAPTURE.DENIED"
        };
        self.emit_capture(event, capture_id);
        Ok(())
    }

    /// Settles a `PENDING` refund: `COMPLETED` (with `PAYMENT.CAPTURE.REFUNDED`, the event
    /// PayPal lists for "A merchant refunds a payment capture"), or `FAILED` / `CANCELLED`, for
    /// which PayPal documents no event (none is sent; the amount is refundable again). `Err`
    /// names the refund's status when it is not pending.
    pub fn settle_refund(&mut self, refund_id: &str, outcome: &'static str) -> Result<(), String> {
        let now = self.now();
        let r = self
            .refunds
            .get_mut(refund_id)
            .ok_or_else(|| "no such refund".to_string())?;
        if r.status != "PENDING" {
            return Err(format!("the refund is {}, not PENDING", r.status));
        }
        r.status = outcome;
        r.reason = None;
        r.updated_ms = now;
        let (capture_id, units) = (r.capture_id.clone(), r.amount.units);
        if outcome == "COMPLETED" {
            self.emit_refund("PAYMENT.CAPTURE.REFUNDED", refund_id);
        } else if let Some(c) = self.captures.get_mut(&capture_id) {
            c.refunded -= units;
            c.status = if c.refunded == 0 {
                "COMPLETED"
            } else {
                "PARTIALLY_REFUNDED"
            };
            c.updated_ms = now;
        }
        Ok(())
    }

    /// Reverses (charges back) what is left of a completed capture: a reversal refund is
    /// recorded, the capture becomes `REFUNDED`, and `PAYMENT.CAPTURE.REVERSED` carries the
    /// reversal.
    pub fn reverse_capture(&mut self, capture_id: &str) -> Result<String, String> {
        let now = self.now();
        let c = self
            .captures
            .get_mut(capture_id)
            .ok_or_else(|| "no such capture".to_string())?;
        if !matches!(c.status, "COMPLETED" | "PARTIALLY_REFUNDED") {
            return Err(format!(
                "the capture is {}; only a completed capture can be reversed",
                c.status
            ));
        }
        let left = c.amount.units - c.refunded;
        let refund_id = super::util::resource_id();
        let fee = if c.amount.units > 0 {
            c.fee * left / c.amount.units
        } else {
            0
        };
        c.refunded = c.amount.units;
        c.status = "REFUNDED";
        c.reason = Some("CHARGEBACK");
        c.updated_ms = now;
        c.refunds.push(refund_id.clone());
        let refund = Refund {
            id: refund_id.clone(),
            capture_id: capture_id.to_string(),
            amount: c.amount.with_units(left),
            status: "COMPLETED",
            reason: None,
            fee,
            total_refunded: c.amount.units,
            note_to_payer: Some("Payment reversed".into()),
            invoice_id: c.invoice_id.clone(),
            custom_id: c.custom_id.clone(),
            created_ms: now,
            updated_ms: now,
        };
        self.refunds.insert(refund_id.clone(), refund);
        self.emit_refund("PAYMENT.CAPTURE.REVERSED", &refund_id);
        Ok(refund_id)
    }

    /// An event by id.
    pub fn event(&self, id: &str) -> Option<&Value> {
        self.events.iter().find(|e| e["id"] == id)
    }
}

/// A webhook event's envelope, its fields in the order PayPal's deliveries carry them: `id,
/// event_version, create_time, resource_type, resource_version, event_type, summary, resource,
/// links` (notifications_webhooks_v1.json `event` for the fields; the order as in PayPal's own
/// `paypal/rest-api-sdk-php` sample `sample/notifications/ValidateWebhookEvent.php`, and in
/// sandbox `CHECKOUT.ORDER.APPROVED` deliveries recorded by integrators in 2022 and 2024).
#[derive(serde::Serialize)]
struct EventEnvelope<'a> {
    id: &'a str,
    event_version: &'a str,
    create_time: String,
    resource_type: &'a str,
    resource_version: &'a str,
    event_type: &'a str,
    summary: &'a str,
    resource: &'a Value,
    links: [Value; 2],
}

#[cfg(test)]
mod id_tests {
    /// `^[2-9A-HJ-NP-Z]{13}$`, the specs' pattern for `payer_id`, `account_id` and `merchant_id`.
    fn is_paypal_account_id(id: &str) -> bool {
        id.len() == 13
            && id
                .bytes()
                .all(|b| matches!(b, b'2'..=b'9' | b'A'..=b'H' | b'J'..=b'N' | b'P'..=b'Z'))
    }

    #[test]
    fn the_sandbox_accounts_have_ids_paypal_could_issue() {
        assert!(is_paypal_account_id(super::BUYER_PAYER_ID));
        assert!(is_paypal_account_id(super::MERCHANT_ID));
        assert!(
            !is_paypal_account_id("PAYGATEBUYER1"),
            "1 is not in the alphabet"
        );
        assert!(!is_paypal_account_id("PAYGATEBUYERO"), "nor is O");
    }
}
