//! A faithful, stateful emulator of PayPal's REST APIs (developer.paypal.com/api/rest and the
//! OpenAPI specs at github.com/paypal/paypal-rest-api-specifications), served in sandbox mode
//! on paygate's second port under a path prefix (e.g. `/paypal`), so that paygate's PayPal
//! client, the widget (through a PayPal JS SDK stand-in) and the webhook handler can be exercised
//! over real HTTP exactly as against PayPal's sandbox.
//!
//! What it covers: OAuth2 client credentials with expiring tokens; Orders v2 (create with
//! PayPal's validation and issue codes, get, capture, authorize) and Payments v2
//! (authorizations: get, capture in full or in part, void; captures: get, refund; refunds:
//! get); `PayPal-Request-Id` and `Prefer`; PayPal's error bodies; a buyer approval page with a
//! test buyer and funding sources that complete, are declined at capture
//! (`INSTRUMENT_DECLINED`), stay pending, or are declined by the processor; webhooks for every
//! state change, signed SHA256withRSA with a fixed test key whose certificate it serves, with
//! retries; the verify-webhook-signature API; fault knobs; and a JS SDK stand-in. State lives
//! in memory only and does not survive a restart.
//!
//! Routes (relative to the router's root, which `public_base` names):
//! - API (`Authorization: Bearer <token>`): `POST /v1/oauth2/token` (Basic auth),
//!   `POST /v2/checkout/orders`, `GET /v2/checkout/orders/{id}`,
//!   `POST /v2/checkout/orders/{id}/capture`, `POST /v2/checkout/orders/{id}/authorize`,
//!   `GET /v2/payments/authorizations/{id}`, `POST /v2/payments/authorizations/{id}/capture`,
//!   `POST /v2/payments/authorizations/{id}/void`, `GET /v2/payments/captures/{id}`,
//!   `POST /v2/payments/captures/{id}/refund`, `GET /v2/payments/refunds/{id}`,
//!   `POST /v1/notifications/verify-webhook-signature`,
//!   `GET /v1/notifications/webhooks-events/{id}`,
//!   `POST /v1/notifications/webhooks-events/{id}/resend`;
//! - public: `GET /v1/notifications/certs/CERT-paygate-sandbox` (the signing certificate),
//!   `GET /checkoutnow?token={order_id}` (approval page), `GET /checkoutnow/loading`,
//!   `POST /checkoutnow/{id}/approve`, `POST /checkoutnow/{id}/cancel`,
//!   `GET /sdk/js` (the JS SDK stand-in), `GET /sdk/buttons.html|.js|.css` (its button frame),
//!   `POST /sdk/facilitator-token`, `GET /assets/checkout.css`, `GET /assets/checkout-popup.js`;
//! - knobs (token or client credentials): `/_emulator/faults` (POST, DELETE),
//!   `/_emulator/state` (GET), `/_emulator/captures/{id}/complete|deny|reverse` (POST),
//!   `/_emulator/orders/{id}/reverse-approval` (POST), `/_emulator/refunds/pending` (POST),
//!   `/_emulator/refunds/{id}/complete|fail|cancel` (POST).
//!
//! Not emulated: `PATCH` of orders (and so no `update` link), `confirm-payment-source`,
//! reauthorization, payment sources other than `paypal` (refused with `NOT_SUPPORTED`),
//! `PayPal-Mock-Response`, subscriptions.

mod approval;
mod assets;
mod disputes;
mod emulator;
mod error;
mod faults;
mod http;
mod idempotency;
mod money;
mod oauth;
mod orders;
mod payments;
mod signing;
mod store;
mod util;
mod webhooks;

pub use signing::{
    crc32_decimal, message as signed_message, sign as sign_webhook, AUTH_ALGO, CERTIFICATE_PEM,
    CERT_NAME, TEST_INTERMEDIATE_PEM, TEST_ROOT_PEM,
};
pub use store::{BUYER_EMAIL, BUYER_PAYER_ID, MERCHANT_EMAIL, MERCHANT_ID};
pub use webhooks::MAX_ATTEMPTS as WEBHOOK_MAX_ATTEMPTS;

use crate::common::http::BodyLog;
use crate::common::util::origin_of;
use crate::common::webhooks::{run_sender, WebhookSender};
use crate::defaults;
use crate::Clock;
use axum::routing::{get, post};
use axum::Router;
use faults::Faults;
use idempotency::RequestIds;
use oauth::Tokens;
use serde_json::Value;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use store::{OrderView, Store};

/// Sandbox defaults (documented in the README): what paygate's sandbox configuration uses when
/// no PayPal credentials are given. The same constants as [`crate::defaults`], where they are
/// written.
pub const DEFAULT_CLIENT_ID: &str = defaults::PAYPAL_CLIENT_ID;
pub const DEFAULT_CLIENT_SECRET: &str = defaults::PAYPAL_CLIENT_SECRET;
/// The id of the single webhook the emulator delivers to (see [`defaults::PAYPAL_WEBHOOK_ID`]).
pub const DEFAULT_WEBHOOK_ID: &str = defaults::PAYPAL_WEBHOOK_ID;
/// PayPal's access tokens live 9 hours (`expires_in` 32400).
pub const DEFAULT_TOKEN_TTL: Duration = defaults::PAYPAL_TOKEN_TTL;

#[derive(Clone)]
pub struct PaypalEmulatorConfig {
    /// Accepted with `client_secret` as HTTP Basic on `/v1/oauth2/token`, and by the SDK
    /// stand-in as `client-id`.
    pub client_id: String,
    pub client_secret: String,
    /// The id of the (single) webhook registered to `webhook_url`; part of every signature.
    pub webhook_id: String,
    /// Where events are POSTed (paygate's `/webhooks/paypal`); `None` sends nothing.
    pub webhook_url: Option<String>,
    /// Absolute URL of this router's root, e.g. `http://127.0.0.1:8081/paypal`.
    pub public_base: String,
    /// Access token lifetime (`expires_in`).
    pub token_ttl: Duration,
    /// Time for resources, tokens, webhook timestamps and `PayPal-Request-Id` retention.
    pub clock: Clock,
}

impl PaypalEmulatorConfig {
    /// The sandbox defaults, serving at `public_base`, without webhooks.
    pub fn sandbox(public_base: impl Into<String>) -> PaypalEmulatorConfig {
        PaypalEmulatorConfig {
            client_id: defaults::PAYPAL_CLIENT_ID.into(),
            client_secret: defaults::PAYPAL_CLIENT_SECRET.into(),
            webhook_id: defaults::PAYPAL_WEBHOOK_ID.into(),
            webhook_url: None,
            public_base: public_base.into(),
            token_ttl: defaults::PAYPAL_TOKEN_TTL,
            clock: Clock::default(),
        }
    }

    /// The origin (`scheme://host:port`) of `public_base`: what a page's CSP must allow in
    /// `script-src` and `frame-src` for the JS SDK stand-in.
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
    pub transmission_id: String,
    /// The receiver's status, `None` when the connection failed.
    pub status: Option<u16>,
    pub delivered: bool,
}

pub(crate) struct Inner {
    pub config: PaypalEmulatorConfig,
    pub store: Mutex<Store>,
    pub tokens: Mutex<Tokens>,
    pub request_ids: Mutex<RequestIds>,
    pub faults: Mutex<Faults>,
    pub bodies: BodyLog,
    /// Delivers the events the store queues (its `webhooks`), and logs every attempt.
    pub webhook_sender: WebhookSender<DeliveryAttempt>,
}

pub(crate) type App = Arc<Inner>;

impl Inner {
    /// Runs `f` on the store, then wakes the webhook sender.
    pub fn run<R>(&self, f: impl FnOnce(&mut Store) -> R) -> R {
        let result = {
            let mut store = self.store.lock().expect("store lock");
            f(&mut store)
        };
        self.webhook_sender.wake();
        result
    }
}

#[derive(Clone)]
pub struct PaypalEmulator {
    inner: Arc<Inner>,
}

impl PaypalEmulator {
    pub fn new(config: PaypalEmulatorConfig) -> PaypalEmulator {
        let store = Store::new(
            config.public_base.clone(),
            config.clock.clone(),
            config.webhook_url.is_some(),
        );
        let webhook_sender = WebhookSender::new(config.webhook_url.clone(), webhooks::SCHEDULE);
        PaypalEmulator {
            inner: Arc::new(Inner {
                config,
                store: Mutex::new(store),
                tokens: Mutex::new(Tokens::default()),
                request_ids: Mutex::new(RequestIds::default()),
                faults: Mutex::new(Faults::default()),
                bodies: BodyLog::default(),
                webhook_sender,
            }),
        }
    }

    pub fn config(&self) -> &PaypalEmulatorConfig {
        &self.inner.config
    }

    /// The emulator's routes (listed in the module documentation) with their state applied.
    /// Serve it under the prefix that `public_base` names.
    pub fn router(&self) -> Router {
        let app = self.inner.clone();
        let api: Router<App> = Router::new()
            .route("/v1/oauth2/token", post(oauth::token))
            .route("/v2/checkout/orders", post(orders::create))
            .route("/v2/checkout/orders/{id}", get(orders::get))
            .route("/v2/checkout/orders/{id}/capture", post(orders::capture))
            .route(
                "/v2/checkout/orders/{id}/authorize",
                post(orders::authorize),
            )
            .route(
                "/v2/payments/authorizations/{id}",
                get(payments::get_authorization),
            )
            .route(
                "/v2/payments/authorizations/{id}/capture",
                post(payments::capture),
            )
            .route(
                "/v2/payments/authorizations/{id}/void",
                post(payments::void),
            )
            .route("/v2/payments/captures/{id}", get(payments::get_capture))
            .route("/v1/customer/disputes/{id}", get(disputes::get))
            .route(
                "/v1/customer/disputes/{id}/provide-evidence",
                post(disputes::provide_evidence),
            )
            .route(
                "/v1/customer/disputes/{id}/accept-claim",
                post(disputes::accept_claim),
            )
            .route("/v2/payments/captures/{id}/refund", post(payments::refund))
            .route("/v2/payments/refunds/{id}", get(payments::get_refund))
            .route(
                "/v1/notifications/verify-webhook-signature",
                post(webhooks::verify_signature),
            )
            .route(
                "/v1/notifications/webhooks-events/{id}",
                get(webhooks::get_event),
            )
            .route(
                "/v1/notifications/webhooks-events/{id}/resend",
                post(webhooks::resend_event),
            )
            .fallback(http::unknown_path)
            .method_not_allowed_fallback(http::method_not_supported)
            .layer(axum::middleware::from_fn_with_state(
                app.clone(),
                http::api_layer,
            ));
        let public: Router<App> = Router::new()
            .route("/v1/notifications/certs/{name}", get(webhooks::certificate))
            .route("/checkoutnow", get(approval::approval_page))
            .route("/checkoutnow/loading", get(approval::loading_page))
            .route("/checkoutnow/{id}/approve", post(approval::approve))
            .route("/checkoutnow/{id}/cancel", post(approval::cancel))
            .route("/sdk/js", get(assets::sdk_js))
            .route("/sdk/buttons.html", get(assets::buttons_html))
            .route("/sdk/buttons.js", get(assets::buttons_js))
            .route("/sdk/buttons.css", get(assets::buttons_css))
            .route("/sdk/facilitator-token", post(oauth::facilitator_token))
            .route("/assets/checkout.css", get(assets::checkout_css))
            .route("/assets/checkout-popup.js", get(assets::checkout_popup_js));
        let knobs: Router<App> = Router::new()
            .route(
                "/_emulator/faults",
                post(emulator::set_faults).delete(emulator::clear_faults),
            )
            .route("/_emulator/state", get(emulator::state))
            .route("/_emulator/disputes", post(emulator::open_dispute))
            .route(
                "/_emulator/disputes/{id}/escalate",
                post(emulator::escalate_dispute),
            )
            .route(
                "/_emulator/disputes/{id}/resolve",
                post(emulator::resolve_dispute),
            )
            .route(
                "/_emulator/captures/{id}/complete",
                post(emulator::complete_capture),
            )
            .route(
                "/_emulator/captures/{id}/deny",
                post(emulator::deny_capture),
            )
            .route(
                "/_emulator/captures/{id}/reverse",
                post(emulator::reverse_capture),
            )
            .route(
                "/_emulator/orders/{id}/reverse-approval",
                post(emulator::reverse_approval),
            )
            .route(
                "/_emulator/refunds/pending",
                post(emulator::pending_refunds),
            )
            .route(
                "/_emulator/refunds/{id}/{action}",
                post(emulator::settle_refund),
            );
        api.merge(public).merge(knobs).with_state(app)
    }

    /// Delivers queued events to `webhook_url` until aborted (see the `webhooks` module for
    /// the retry schedule). Without a `webhook_url` the task ends at once and nothing is
    /// queued.
    pub fn spawn_webhook_sender(&self) -> tokio::task::JoinHandle<()> {
        tokio::spawn(run_sender(self.inner.clone()))
    }

    /// Completed captures in total: captures whose money moved (`COMPLETED`, and those since
    /// refunded in part or in full); pending and declined ones do not count.
    pub fn captures_count(&self) -> usize {
        let store = self.inner.store.lock().expect("store lock");
        store
            .captures
            .values()
            .filter(|c| matches!(c.status, "COMPLETED" | "PARTIALLY_REFUNDED" | "REFUNDED"))
            .count()
    }

    /// The order as `GET /v2/checkout/orders/{id}` shows it.
    pub fn order(&self, id: &str) -> Option<Value> {
        let store = self.inner.store.lock().expect("store lock");
        store
            .orders
            .get(id)
            .map(|o| store.order_json(o, OrderView::Full))
    }

    /// The capture as `GET /v2/payments/captures/{id}` shows it.
    pub fn capture(&self, id: &str) -> Option<Value> {
        let store = self.inner.store.lock().expect("store lock");
        store.captures.get(id).map(|c| store.capture_json(c, true))
    }

    /// Every non-empty raw request body received (API, token, approval page, SDK), oldest
    /// first; the last 10,000 are kept.
    pub fn received_request_bodies(&self) -> Vec<String> {
        self.inner.bodies.all()
    }

    /// API requests received so far (bodies or not).
    pub fn api_requests(&self) -> usize {
        self.inner.bodies.requests()
    }

    /// Orders created so far.
    pub fn orders_count(&self) -> usize {
        self.inner.store.lock().expect("store lock").orders.len()
    }

    /// How many successful `POST /v1/oauth2/token` answers were given (a still-valid token
    /// handed back again counts too): a client that caches its token asks once.
    pub fn tokens_issued(&self) -> usize {
        self.inner.tokens.lock().expect("tokens lock").issued
    }

    /// The fixed self-signed certificate (PEM) whose key signs the webhooks.
    pub fn certificate_pem(&self) -> &'static str {
        signing::CERTIFICATE_PEM
    }

    /// `PAYPAL-CERT-URL`: `{public_base}/v1/notifications/certs/CERT-paygate-sandbox`.
    pub fn certificate_url(&self) -> String {
        webhooks::cert_url(&self.inner)
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
