//! A faithful, stateful emulator of the Stripe API v1 (docs.stripe.com/api), served in sandbox
//! mode on paygate's second port under a path prefix (e.g. `/stripe`), so that
//! paygate's own Stripe client, the widget and the webhook handler can be exercised over real
//! HTTP exactly as against Stripe's test mode.
//!
//! What it covers: Stripe's form encoding and key checks, `Idempotency-Key` semantics, error
//! JSON and statuses, PaymentIntents (every status, manual and partial capture, 3-D Secure),
//! PaymentMethods (the `pm_card_*` test ids and test card numbers), Customers, Products and
//! Prices, Subscriptions with their first Invoice, Refunds, Events with signed webhook
//! deliveries, a Stripe.js stand-in with its card frame and 3-D Secure challenge page, and
//! fault knobs for tests. State lives in memory only and does not survive a restart.
//!
//! Routes (relative to the router's root, which the configured `public_base` names):
//! - `/v1/...`: the API (see [`router`](StripeEmulator::router) for the full list);
//! - `/js/v3/`: the Stripe.js stand-in; `/js/elements-inner-card.html` (+ `.js`, `.css`): the
//!   card frame; `/js/3ds.css`, `/js/3ds.js`: the challenge page's assets;
//! - `/3ds/{pi}` (GET), `/3ds/{pi}/complete`, `/3ds/{pi}/fail` (POST): the 3-D Secure page;
//! - `/_emulator/webhook_endpoint` (POST `{"api_version": ...}`: the version events are
//!   rendered at, `versions`), `/_emulator/account` (POST `{"settlement_currency": "usd"}` or
//!   `null`: charges in other currencies must meet its minimum after conversion, `settlement`),
//! - `/_emulator/faults` (POST, DELETE), `/_emulator/state` (GET), `/_emulator/disputes`
//!   (POST): test knobs, secret key required.

mod assets;
mod calendar;
mod cards;
mod catalog;
mod charging;
mod customers;
mod disputes;
mod emulator;
mod error;
mod events;
mod faults;
pub mod form;
mod http;
mod idempotency;
mod payment_intents;
mod payment_methods;
mod refunds;
mod settlement;
mod setup_intents;
mod store;
mod subscription_changes;
mod subscriptions;
mod threeds;
mod units;
mod versions;
mod webhooks;

pub use store::API_VERSION;
pub use webhooks::{sign as sign_webhook_payload, MAX_ATTEMPTS as WEBHOOK_MAX_ATTEMPTS};

use crate::common::http::BodyLog;
use crate::common::util::{origin_of, random_text};
use crate::common::webhooks::{run_sender, WebhookSender};
use crate::defaults;
use crate::Clock;
use axum::routing::{get, post};
use axum::Router;
use faults::Faults;
use idempotency::IdempotencyStore;
use serde_json::Value;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use store::{FollowUp, Store, View};

/// Sandbox defaults (documented in the README): the keys paygate's sandbox configuration
/// uses when none are given. The same constants as [`crate::defaults`], where they are
/// written.
pub const DEFAULT_SECRET_KEY: &str = defaults::STRIPE_SECRET_KEY;
pub const DEFAULT_PUBLISHABLE_KEY: &str = defaults::STRIPE_PUBLISHABLE_KEY;
pub const DEFAULT_WEBHOOK_SECRET: &str = defaults::STRIPE_WEBHOOK_SECRET;

/// The demo catalogue seeded at start: product "paygate Pro" with a monthly price of 9.99 USD,
/// a yearly one of 99.00 USD and a monthly one of 1500 JPY (lookup keys without the `price_`
/// prefix: `paygate_pro_monthly`, `paygate_pro_yearly`, `paygate_pro_monthly_jpy`).
pub const DEMO_PRODUCT: &str = "prod_paygate_pro";
pub const DEMO_PRICE_MONTHLY: &str = "price_paygate_pro_monthly";
pub const DEMO_PRICE_YEARLY: &str = "price_paygate_pro_yearly";
pub const DEMO_PRICE_MONTHLY_JPY: &str = "price_paygate_pro_monthly_jpy";

/// How long after the request Stripe's own follow-ups happen (a pending refund settling, a
/// refund failing, a processing payment succeeding).
pub const FOLLOW_UP_DELAY: Duration = Duration::from_millis(1000);

#[derive(Clone)]
pub struct StripeEmulatorConfig {
    /// `sk_test_...`: accepted as `Authorization: Bearer` or HTTP Basic (user = key).
    pub secret_key: String,
    /// `pk_test_...`: accepted only where Stripe.js uses it (PaymentMethod creation,
    /// PaymentIntent retrieve and confirm with the client secret).
    pub publishable_key: String,
    /// `whsec_...`: signs webhook deliveries.
    pub webhook_secret: String,
    /// Where events are POSTed (paygate's `/webhooks/stripe`); `None` sends nothing.
    pub webhook_url: Option<String>,
    /// Absolute URL of this router's root, e.g. `http://127.0.0.1:8081/stripe`.
    pub public_base: String,
    /// Time for `created`, webhook timestamps and idempotency retention.
    pub clock: Clock,
}

impl StripeEmulatorConfig {
    /// The sandbox defaults, serving at `public_base`, without webhooks.
    pub fn sandbox(public_base: impl Into<String>) -> StripeEmulatorConfig {
        StripeEmulatorConfig {
            secret_key: defaults::STRIPE_SECRET_KEY.into(),
            publishable_key: defaults::STRIPE_PUBLISHABLE_KEY.into(),
            webhook_secret: defaults::STRIPE_WEBHOOK_SECRET.into(),
            webhook_url: None,
            public_base: public_base.into(),
            clock: Clock::default(),
        }
    }

    /// The origin (`scheme://host:port`) of `public_base`.
    pub fn origin(&self) -> String {
        origin_of(&self.public_base).unwrap_or_else(|| self.public_base.clone())
    }
}

/// One webhook delivery attempt, for tests.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeliveryAttempt {
    pub event_id: String,
    /// 1 for the first attempt.
    pub attempt: u32,
    /// The receiver's status, `None` when the connection failed.
    pub status: Option<u16>,
    pub delivered: bool,
}

pub(crate) struct Inner {
    pub config: StripeEmulatorConfig,
    pub store: Mutex<Store>,
    pub idempotency: Mutex<IdempotencyStore>,
    pub faults: Mutex<Faults>,
    pub bodies: BodyLog,
    /// Delivers the events the store queues (its `webhooks`), and logs every attempt.
    pub webhook_sender: WebhookSender<DeliveryAttempt>,
    /// Keys the card fingerprints (so they identify a number without revealing it).
    pub fingerprint_key: String,
    pub fake_v0_key: String,
}

pub(crate) type App = Arc<Inner>;

impl Inner {
    /// Runs `f` on the store, then starts the follow-ups it scheduled and wakes the webhook
    /// sender.
    pub fn run<R>(self: &Arc<Self>, f: impl FnOnce(&mut Store) -> R) -> R {
        let (result, follow_ups) = {
            let mut store = self.store.lock().expect("store lock");
            let result = f(&mut store);
            (result, std::mem::take(&mut store.follow_ups))
        };
        for follow_up in follow_ups {
            self.spawn_follow_up(follow_up);
        }
        self.webhook_sender.wake();
        result
    }

    fn spawn_follow_up(self: &Arc<Self>, follow_up: FollowUp) {
        let Ok(handle) = tokio::runtime::Handle::try_current() else {
            return;
        };
        let app = self.clone();
        handle.spawn(async move {
            tokio::time::sleep(FOLLOW_UP_DELAY).await;
            app.run(|store| match follow_up {
                FollowUp::FinishProcessing(pi) => charging::finish_processing(store, &pi),
                FollowUp::SettleRefund(re) => refunds::settle(store, &re),
                FollowUp::FailRefund(re) => refunds::fail(store, &re),
            });
        });
    }
}

/// 32 random bytes as hex.
fn random_key() -> String {
    random_text(b"0123456789abcdef", 64)
}

#[derive(Clone)]
pub struct StripeEmulator {
    inner: Arc<Inner>,
}

impl StripeEmulator {
    pub fn new(config: StripeEmulatorConfig) -> StripeEmulator {
        let store = Store::new(config.clock.clone(), config.webhook_url.is_some());
        let webhook_sender = WebhookSender::new(config.webhook_url.clone(), webhooks::SCHEDULE);
        StripeEmulator {
            inner: Arc::new(Inner {
                config,
                store: Mutex::new(store),
                idempotency: Mutex::new(IdempotencyStore::default()),
                faults: Mutex::new(Faults::default()),
                bodies: BodyLog::default(),
                webhook_sender,
                fingerprint_key: random_key(),
                fake_v0_key: random_key(),
            }),
        }
    }

    pub fn config(&self) -> &StripeEmulatorConfig {
        &self.inner.config
    }

    /// The emulator's routes with their state applied. Serve it under the prefix that
    /// `public_base` names.
    ///
    /// API (`Authorization: Bearer sk_...` or Basic; form bodies; `Idempotency-Key` on POST):
    /// `POST,GET /v1/payment_intents`, `GET,POST /v1/payment_intents/{id}`,
    /// `POST /v1/payment_intents/{id}/confirm|capture|cancel`,
    /// `POST,GET /v1/setup_intents`, `GET /v1/setup_intents/{id}`,
    /// `POST /v1/setup_intents/{id}/confirm|cancel`,
    /// `POST,GET /v1/payment_methods`, `GET /v1/payment_methods/{id}`,
    /// `POST /v1/payment_methods/{id}/attach|detach`,
    /// `POST,GET /v1/customers`, `GET,POST,DELETE /v1/customers/{id}`,
    /// `GET /v1/customers/{id}/payment_methods`, `POST,GET /v1/products`,
    /// `GET,POST /v1/products/{id}`, `POST,GET /v1/prices`, `GET,POST /v1/prices/{id}`,
    /// `POST,GET /v1/subscriptions`, `GET,POST,DELETE /v1/subscriptions/{id}`,
    /// `GET /v1/invoices`, `GET /v1/invoices/{id}`, `GET /v1/charges`, `GET /v1/charges/{id}`,
    /// `POST,GET /v1/refunds`, `GET,POST /v1/refunds/{id}`, `GET /v1/disputes/{id}`,
    /// `GET /v1/events`, `GET /v1/events/{id}`.
    pub fn router(&self) -> Router {
        let app = self.inner.clone();
        let api: Router<App> = Router::new()
            .route(
                "/v1/payment_intents",
                post(payment_intents::create).get(payment_intents::list),
            )
            .route(
                "/v1/payment_intents/{id}",
                get(payment_intents::retrieve).post(payment_intents::update),
            )
            .route(
                "/v1/payment_intents/{id}/confirm",
                post(payment_intents::confirm),
            )
            .route(
                "/v1/payment_intents/{id}/capture",
                post(payment_intents::capture),
            )
            .route(
                "/v1/payment_intents/{id}/cancel",
                post(payment_intents::cancel),
            )
            .route(
                "/v1/setup_intents",
                post(setup_intents::create).get(setup_intents::list),
            )
            .route("/v1/setup_intents/{id}", get(setup_intents::retrieve))
            .route(
                "/v1/setup_intents/{id}/confirm",
                post(setup_intents::confirm),
            )
            .route("/v1/setup_intents/{id}/cancel", post(setup_intents::cancel))
            .route(
                "/v1/payment_methods",
                post(payment_methods::create).get(payment_methods::list),
            )
            .route("/v1/payment_methods/{id}", get(payment_methods::retrieve))
            .route(
                "/v1/payment_methods/{id}/attach",
                post(payment_methods::attach),
            )
            .route(
                "/v1/payment_methods/{id}/detach",
                post(payment_methods::detach),
            )
            .route(
                "/v1/customers",
                post(customers::create).get(customers::list),
            )
            .route(
                "/v1/customers/{id}",
                get(customers::retrieve)
                    .post(customers::update)
                    .delete(customers::remove),
            )
            .route(
                "/v1/customers/{id}/payment_methods",
                get(payment_methods::list_for_customer),
            )
            .route(
                "/v1/products",
                post(catalog::create_product).get(catalog::list_products),
            )
            .route(
                "/v1/products/{id}",
                get(catalog::retrieve_product).post(catalog::update_product),
            )
            .route(
                "/v1/prices",
                post(catalog::create_price).get(catalog::list_prices),
            )
            .route(
                "/v1/prices/{id}",
                get(catalog::retrieve_price).post(catalog::update_price),
            )
            .route(
                "/v1/subscriptions",
                post(subscriptions::create).get(subscriptions::list),
            )
            .route(
                "/v1/subscriptions/{id}",
                get(subscriptions::retrieve)
                    .post(subscriptions::update)
                    .delete(subscriptions::cancel),
            )
            .route("/v1/invoices", get(subscriptions::list_invoices))
            .route(
                "/v1/invoiceitems",
                get(subscription_changes::list_invoice_items),
            )
            .route("/v1/invoices/{id}", get(subscriptions::retrieve_invoice))
            .route("/v1/charges", get(charging::list_charges))
            .route("/v1/charges/{id}", get(charging::retrieve_charge))
            .route("/v1/refunds", post(refunds::create).get(refunds::list))
            .route(
                "/v1/refunds/{id}",
                get(refunds::retrieve).post(refunds::update),
            )
            .route(
                "/v1/disputes/{id}",
                get(charging::retrieve_dispute).post(disputes::update),
            )
            .route("/v1/disputes/{id}/close", post(disputes::close))
            .route("/v1/3ds2/authenticate", post(threeds::authenticate_2))
            .route("/v1/events", get(events::list))
            .route("/v1/events/{id}", get(events::retrieve))
            .fallback(http::unrecognized)
            .method_not_allowed_fallback(http::unrecognized)
            .layer(axum::middleware::from_fn_with_state(
                app.clone(),
                http::api_layer,
            ))
            .layer(http::cors());
        let browser: Router<App> = Router::new()
            .route("/js/v3/", get(assets::stripe_js))
            .route("/js/v3", get(assets::stripe_js))
            .route("/js/elements-inner-card.html", get(assets::inner_card_html))
            .route("/js/elements-inner-card.js", get(assets::inner_card_js))
            .route("/js/elements-inner-card.css", get(assets::inner_card_css))
            .route("/js/3ds.css", get(assets::three_ds_css))
            .route("/js/3ds.js", get(assets::three_ds_js))
            .route("/3ds/{pi}", get(threeds::page))
            .route("/3ds/{pi}/complete", post(threeds::complete))
            .route("/3ds/{pi}/fail", post(threeds::fail));
        let knobs: Router<App> = Router::new()
            .route(
                "/_emulator/faults",
                post(emulator::set_faults).delete(emulator::clear_faults),
            )
            .route("/_emulator/state", get(emulator::state))
            .route("/_emulator/disputes", post(emulator::create_dispute))
            .route(
                "/_emulator/webhook_endpoint",
                post(emulator::set_webhook_endpoint),
            )
            .route("/_emulator/account", post(emulator::set_account));
        api.merge(browser).merge(knobs).with_state(app)
    }

    /// Delivers queued events to `webhook_url` until aborted; see [`webhooks`] for the retry
    /// schedule. Without a `webhook_url` the task ends at once and nothing is queued.
    pub fn spawn_webhook_sender(&self) -> tokio::task::JoinHandle<()> {
        tokio::spawn(run_sender(self.inner.clone()))
    }

    /// Successful charges: every charge whose status is `succeeded`, captured or (manual
    /// capture) authorized; capturing an authorization does not add one.
    pub fn charges_count(&self) -> usize {
        let store = self.inner.store.lock().expect("store lock");
        store
            .charges
            .values()
            .filter(|c| c.status == "succeeded")
            .count()
    }

    /// Charges whose funds were captured.
    pub fn captured_charges_count(&self) -> usize {
        let store = self.inner.store.lock().expect("store lock");
        store
            .charges
            .values()
            .filter(|c| c.status == "succeeded" && c.captured)
            .count()
    }

    /// The PaymentIntent as a secret-key caller sees it.
    pub fn payment_intent(&self, id: &str) -> Option<Value> {
        let store = self.inner.store.lock().expect("store lock");
        store
            .payment_intents
            .get(id)
            .map(|pi| store.payment_intent_json(pi, View::Secret))
    }

    /// The Subscription as a secret-key caller sees it.
    pub fn subscription(&self, id: &str) -> Option<Value> {
        let store = self.inner.store.lock().expect("store lock");
        store
            .subscriptions
            .get(id)
            .map(|s| store.subscription_json(s))
    }

    /// Every non-empty raw request body received (API, challenge page), oldest first; the
    /// last 10,000 are kept.
    pub fn received_request_bodies(&self) -> Vec<String> {
        self.inner.bodies.all()
    }

    /// API requests received so far (bodies or not).
    pub fn api_requests(&self) -> usize {
        self.inner.bodies.requests()
    }

    /// Every event so far, oldest first.
    pub fn events(&self) -> Vec<Value> {
        self.inner.store.lock().expect("store lock").events.clone()
    }

    /// Every webhook delivery attempt so far, in the order they finished.
    pub fn delivery_attempts(&self) -> Vec<DeliveryAttempt> {
        self.inner.webhook_sender.attempts()
    }
}
