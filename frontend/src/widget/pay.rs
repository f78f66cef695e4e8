//! The payment flows: what happens when the customer chooses a method, pays, or a provider's
//! script calls back. [`Payments`] talks to paygate's widget API and to the provider bindings,
//! and writes the outcome into the [`PayState`] signal that [`CheckoutView`](super::CheckoutView)
//! renders. The server decides: the widget shows a payment as made only when the server answers
//! that the session is `complete`.
//!
//! Card (Stripe): choose → load Stripe.js → `POST …/stripe/intent` → mount the Payment Element
//! in `#pg-card` → Pay → `elements.submit()` → `stripe.confirmPayment(…, redirect: 'if_required')`
//! (Stripe.js runs 3-D Secure) → `POST …/stripe/complete` → outcome.
//!
//! A session that only saves a card (`setup`): the same with a SetupIntent and
//! `stripe.confirmSetup`; nothing is charged.
//!
//! PayPal: choose → load the JS SDK for the session's currency → `paypal.Buttons(…).render(
//! '#pg-paypal')`; `createOrder` → `POST …/paypal/orders`; `onApprove` → `POST
//! …/paypal/orders/{id}/capture` (402 `payment_declined` → `actions.restart()`); `onCancel` →
//! back to the choice.

use super::embed::{Embed, EmbedEvent};
use super::fetch::{self, ApiError};
use super::js;
use super::paypal_js::{self, ApproveActions, ApproveData, ButtonStyle, PaypalButtons};
use super::state::*;
use super::stripe_js::{
    Appearance, ChallengeWatcher, ChangeEvent, Elements, PaymentElement, Stripe, StripeError,
};
use super::view::PayActions;
use crate::http::plausible_id;
use js_sys::Promise;
use leptos::prelude::*;
use leptos::task::spawn_local;
use shared::api::{
    CheckoutSessionStatus, PaymentStatus, ProviderName, SavePaymentMethod, WidgetOutcome,
    WidgetPaypalOrder, WidgetProvider, WidgetSession, WidgetStripeIntent,
};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use web_sys::{Element, HtmlElement};

/// How long a provider script, the card form or the buttons may take to appear before the
/// method is reported unavailable.
const LOAD_TIMEOUT_MS: i32 = 20_000;
/// While the provider still reports `processing`, ask again this often, this many times.
const POLL_INTERVAL_MS: i32 = 2_000;
const POLLS: usize = 5;

/// The Stripe objects of the mounted card form.
struct CardForm {
    stripe: Stripe,
    /// The PaymentIntent's, for paying with a saved card (`confirmCardPayment`).
    client_secret: String,
    elements: Elements,
    element: PaymentElement,
    /// Stripe.js calls it for as long as the element exists, i.e. the page's life.
    _on_change: Closure<dyn FnMut(JsValue)>,
}

/// JavaScript handles, kept for the page's life (they are not `Send`: local storage).
#[derive(Default)]
struct Handles {
    card: Option<CardForm>,
    paypal: Option<PaypalButtons>,
}

/// The call that tells whether a payment went through; kept so "Check payment status" can
/// repeat it.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Completion {
    Stripe,
    Paypal { order_id: String },
}

impl Completion {
    fn action(&self) -> String {
        match self {
            Completion::Stripe => "stripe/complete".to_owned(),
            Completion::Paypal { order_id } => format!("paypal/orders/{order_id}/capture"),
        }
    }
}

/// The payment controller of one page. Copy: every field is a handle.
#[derive(Clone, Copy)]
pub struct Payments {
    session: StoredValue<Option<WidgetSession>>,
    pay: RwSignal<PayState>,
    handles: StoredValue<Handles, LocalStorage>,
    embed: StoredValue<Option<Embed>, LocalStorage>,
    pending: StoredValue<Option<Completion>>,
    /// Methods whose script, form or buttons are loading right now.
    preparing: StoredValue<Vec<Method>>,
}

/// Why a method could not be made ready.
enum PrepareError {
    /// The provider's script, form or buttons did not load.
    Unavailable,
    /// paygate refused or failed to start the payment.
    Start(ApiError),
}

impl Payments {
    pub fn new(pay: RwSignal<PayState>, embed: StoredValue<Option<Embed>, LocalStorage>) -> Self {
        Payments {
            session: StoredValue::new(None),
            pay,
            handles: StoredValue::new_local(Handles::default()),
            embed,
            pending: StoredValue::new(None),
            preparing: StoredValue::new(Vec::new()),
        }
    }

    /// What the view's controls call.
    pub fn actions(self) -> PayActions {
        PayActions {
            select: Callback::new(move |method| self.select(method)),
            pay: Callback::new(move |()| self.pay_card()),
            again: Callback::new(move |()| self.try_again()),
            check: Callback::new(move |()| self.check()),
            cancel: Callback::new(move |()| self.cancel()),
            use_saved: Callback::new(move |card| self.use_saved(card)),
            save_card: Callback::new(move |()| self.pay.update(|p| p.save_card = !p.save_card)),
        }
    }

    /// A saved card or a new one was chosen; not while a payment is in flight.
    fn use_saved(self, card: Option<String>) {
        self.pay.update(|p| {
            if !p.is_paying() {
                p.saved_card = card;
                if p.phase == Phase::Declined {
                    p.phase = Phase::Ready;
                    p.notice = None;
                }
            }
        });
    }

    /// The session is loaded: offer its methods (choosing the only one right away), or pick up
    /// a payment that left the page for a redirect (Stripe's `return_url`).
    pub fn start(self, session: WidgetSession) {
        let status = session.status;
        // A returning customer pays with their newest saved card unless they choose otherwise
        // (as Stripe Checkout offers it).
        if let Some(card) = session.saved_cards.first() {
            let id = card.id.clone();
            self.pay.update(|p| p.saved_card = Some(id));
        }
        let methods: Vec<Method> = session
            .providers
            .iter()
            .map(|p| Method::for_provider(p.provider))
            .collect();
        self.session.set_value(Some(session));
        let returning = returned_from_redirect() && methods.contains(&Method::Card);
        match status {
            CheckoutSessionStatus::Open | CheckoutSessionStatus::Complete if returning => {
                self.processing(CHECKING);
                spawn_local(self.settle(Completion::Stripe, None, None));
            }
            CheckoutSessionStatus::Open => {
                if let [only] = methods.as_slice() {
                    self.select(*only);
                }
            }
            CheckoutSessionStatus::Complete => {
                self.post(EmbedEvent::Error, None, Some("session_complete"))
            }
            CheckoutSessionStatus::Expired => {
                self.post(EmbedEvent::Error, None, Some("session_expired"))
            }
        }
    }

    // ---- choosing -------------------------------------------------------------------------

    fn select(self, method: Method) {
        let accepted = self.pay.with_untracked(|p| {
            !p.is_paying()
                && p.shows_methods()
                && p.is_available(method)
                && p.method != Some(method)
        });
        if !accepted {
            // Put the radios back in line with the state (the browser already moved the check).
            self.pay.update(|_| {});
            return;
        }
        let prepared = self.handles.with_value(|h| match method {
            Method::Card => h.card.is_some(),
            Method::Paypal => h.paypal.is_some(),
        });
        let loading = self.preparing.with_value(|p| p.contains(&method));
        self.pay.update(|p| {
            p.method = Some(method);
            if prepared {
                p.phase = Phase::Ready;
                p.notice = None;
            } else {
                p.phase = Phase::Preparing;
                p.notice = Some(Notice::info(match method {
                    Method::Card => LOADING_CARD,
                    Method::Paypal => LOADING_PAYPAL,
                }));
            }
        });
        if !prepared && !loading {
            spawn_local(self.prepare(method));
        }
    }

    /// Loads a method once; the outcome is shown if the method is still the chosen one.
    async fn prepare(self, method: Method) {
        self.preparing.update_value(|p| p.push(method));
        let result = match method {
            Method::Card => self.prepare_card().await,
            Method::Paypal => self.prepare_paypal().await,
        };
        self.preparing.update_value(|p| p.retain(|m| *m != method));
        match result {
            Ok(()) => {
                if self.pay.with_untracked(|p| p.method == Some(method)) {
                    self.pay.update(|p| {
                        p.phase = Phase::Ready;
                        p.notice = None;
                    });
                }
            }
            Err(PrepareError::Unavailable) => self.unavailable(method),
            Err(PrepareError::Start(error)) => self.start_failed(method, &error),
        }
    }

    async fn prepare_card(self) -> Result<(), PrepareError> {
        use PrepareError::Unavailable;
        let provider = self.provider(ProviderName::Stripe).ok_or(Unavailable)?;
        js::load_script(&provider.script_url, LOAD_TIMEOUT_MS)
            .await
            .map_err(|_| Unavailable)?;
        let stripe = Stripe::new(&provider.public_key).map_err(|_| Unavailable)?;
        let intent: WidgetStripeIntent = fetch::post(&self.session_id(), "stripe/intent")
            .await
            .map_err(PrepareError::Start)?;
        let container = find("pg-card").await.ok_or(Unavailable)?;
        let appearance = Appearance::from_css(&theme_root(&container));
        let elements = stripe
            .elements(&intent.client_secret, &appearance)
            .map_err(|_| Unavailable)?;
        let element = elements.create_payment_element().map_err(|_| Unavailable)?;

        // `ready` resolves this promise and `loaderror` (the element could not load its intent:
        // a refused key or secret, no network) rejects it, directly: no closures needed, and a
        // form that will never come is reported at once instead of after the timeout.
        let mut settle_ready = None;
        let ready = Promise::new(&mut |resolve, reject| settle_ready = Some((resolve, reject)));
        if let Some((resolve, reject)) = &settle_ready {
            element.on_function("ready", resolve);
            element.on_function("loaderror", reject);
        }
        let pay = self.pay;
        let on_change = Closure::<dyn FnMut(JsValue)>::new(move |event: JsValue| {
            // Typing another card after a decline starts afresh.
            if !ChangeEvent::from_js(&event).empty {
                let declined = pay.with_untracked(|p| {
                    p.phase == Phase::Declined && p.method == Some(Method::Card)
                });
                if declined {
                    pay.update(|p| {
                        p.phase = Phase::Ready;
                        p.notice = None;
                    });
                }
            }
        });
        element.on("change", &on_change);
        element.mount(&container).map_err(|_| Unavailable)?;
        self.handles.update_value(|h| {
            h.card = Some(CardForm {
                stripe,
                client_secret: intent.client_secret.clone(),
                elements,
                element,
                _on_change: on_change,
            })
        });
        js::with_timeout(&ready, LOAD_TIMEOUT_MS)
            .await
            .map_err(|_| Unavailable)?;
        self.pay.update(|p| p.card_ready = true);
        Ok(())
    }

    async fn prepare_paypal(self) -> Result<(), PrepareError> {
        use PrepareError::Unavailable;
        let provider = self.provider(ProviderName::Paypal).ok_or(Unavailable)?;
        let (currency, authorize) = self
            .session
            .with_value(|s| {
                s.as_ref().map(|s| {
                    (
                        s.currency.code(),
                        s.capture_mode == shared::api::CaptureMode::Manual,
                    )
                })
            })
            .unwrap_or_default();
        let url = paypal_js::sdk_url(
            &provider.script_url,
            &provider.public_key,
            currency,
            authorize,
        );
        js::load_script(&url, LOAD_TIMEOUT_MS)
            .await
            .map_err(|_| Unavailable)?;
        if !paypal_js::sdk_ready() {
            return Err(Unavailable);
        }
        let container = find("pg-paypal").await.ok_or(Unavailable)?;
        let radius = web_sys::window()
            .and_then(|w| w.get_computed_style(&theme_root(&container)).ok().flatten())
            .and_then(|style| style.get_property_value("--pg-radius").ok())
            .and_then(|radius| paypal_js::pixel_radius(&radius));
        let buttons = PaypalButtons::new(
            move || self.create_order(),
            move |data, actions| self.approve(data, actions),
            move |_order_id| self.paypal_cancelled(),
            move |_message| self.paypal_failed(),
            ButtonStyle {
                border_radius: radius,
            },
        )
        .map_err(|_| Unavailable)?;
        let rendered = match buttons.render(&container) {
            Ok(promise) => js::with_timeout(&promise, LOAD_TIMEOUT_MS).await,
            Err(error) => Err(error),
        };
        // Kept even if rendering failed: the SDK may still hold the callbacks.
        self.handles.update_value(|h| h.paypal = Some(buttons));
        rendered.map(|_| ()).map_err(|_| Unavailable)
    }

    // ---- card ------------------------------------------------------------------------------

    fn pay_card(self) {
        let ready = self.pay.with_untracked(|p| {
            p.method == Some(Method::Card) && p.card_ready && !p.is_busy() && p.shows_methods()
        });
        if ready {
            spawn_local(self.confirm_card());
        }
    }

    async fn confirm_card(self) {
        let Some((stripe, secret, elements, element)) = self.handles.with_value(|h| {
            h.card.as_ref().map(|c| {
                (
                    c.stripe.clone(),
                    c.client_secret.clone(),
                    c.elements.clone(),
                    c.element.clone(),
                )
            })
        }) else {
            return;
        };
        self.processing(PROCESSING);
        // A saved card is confirmed as it is (`confirmCardPayment` with its id); a new one is
        // checked in Stripe's form first, and the customer's "save" answer set before.
        let saved = self.pay.with_untracked(|p| p.saved_card.clone());
        if saved.is_none() {
            element.set_read_only(true);
            if let Some(error) = elements.submit().await {
                element.set_read_only(false);
                let text = error.customer_message().unwrap_or(CHECK_DETAILS).to_owned();
                self.set_phase(Phase::Ready, Notice::error(text));
                return;
            }
            if let Err(error) = self.send_save_choice().await {
                element.set_read_only(false);
                return self.start_failed(Method::Card, &error);
            }
        }
        let watcher = ChallengeWatcher::start(move |open| self.challenge(open));
        let result = match &saved {
            Some(card) => stripe.confirm_card_payment(&secret, card).await,
            None => {
                let setup = self
                    .session
                    .with_value(|s| s.as_ref().is_some_and(|s| s.setup));
                stripe
                    .confirm_payment(&elements, &return_url(), setup)
                    .await
            }
        };
        drop(watcher);
        self.challenge(false);
        // Stripe's own words for the customer when it refused the card; the server decides.
        let message = result
            .error()
            .and_then(StripeError::customer_message)
            .map(str::to_owned);
        self.settle(Completion::Stripe, message, None).await;
        if self.pay.with_untracked(|p| p.receipt().is_none()) {
            element.set_read_only(false);
        }
    }

    /// Where the customer chooses whether to save the card, tells the server their answer,
    /// which sets it on the PaymentIntent before it is confirmed.
    async fn send_save_choice(self) -> Result<(), ApiError> {
        let optional = self.session.with_value(|s| {
            s.as_ref()
                .is_some_and(|s| s.save_payment_method == Some(SavePaymentMethod::Optional))
        });
        if !optional {
            return Ok(());
        }
        let body = if self.pay.with_untracked(|p| p.save_card) {
            r#"{"save":true}"#
        } else {
            r#"{"save":false}"#
        };
        fetch::post_choice(&self.session_id(), "stripe/save", body).await
    }

    /// Stripe's 3-D Secure modal opened or closed during `confirmPayment`.
    fn challenge(self, open: bool) {
        let phase = if open {
            Phase::ThreeDSecure
        } else {
            Phase::Processing
        };
        let change = self.pay.with_untracked(|p| {
            matches!(p.phase, Phase::Processing | Phase::ThreeDSecure) && p.phase != phase
        });
        if change {
            let text = if open { THREE_D_SECURE } else { PROCESSING };
            self.set_phase(phase, Notice::info(text));
        }
        self.embed.with_value(|embed| {
            if let Some(embed) = embed {
                embed.set_challenge(open);
            }
        });
    }

    // ---- PayPal ----------------------------------------------------------------------------

    /// The buttons' `createOrder`: the server creates the order for the session's amount.
    async fn create_order(self) -> Result<String, String> {
        let accepted = self.pay.with_untracked(|p| {
            p.method == Some(Method::Paypal) && !p.is_busy() && p.shows_methods()
        });
        if !accepted {
            return Err("This checkout cannot start a PayPal payment now.".into());
        }
        self.processing(PAYPAL_WINDOW);
        match fetch::post::<WidgetPaypalOrder>(&self.session_id(), "paypal/orders").await {
            Ok(order) if plausible_id(&order.order_id) => Ok(order.order_id),
            Ok(_) => {
                self.fail(START_FAILED);
                Err("The PayPal order could not be created.".into())
            }
            Err(error) => {
                self.start_failed(Method::Paypal, &error);
                Err("The PayPal order could not be created.".into())
            }
        }
    }

    /// The buttons' `onApprove`: the server captures and says what happened.
    async fn approve(self, data: ApproveData, actions: ApproveActions) {
        if !plausible_id(&data.order_id) {
            return self.fail(PAYPAL_FAILED);
        }
        self.processing(PROCESSING);
        let completion = Completion::Paypal {
            order_id: data.order_id,
        };
        self.settle(completion, None, Some(actions)).await;
    }

    fn paypal_cancelled(self) {
        if !self.pay.with_untracked(PayState::shows_methods) {
            return;
        }
        // Only the PayPal window was closed: the checkout stays open, nothing to tell the page.
        self.set_phase(Phase::Ready, Notice::info(PAYPAL_CANCELLED));
    }

    /// `#pg-cancel`: embedded, the merchant's page is told (with the `cancel_url`) and decides;
    /// on a page of its own the link simply leads to the `cancel_url`.
    fn cancel(self) -> bool {
        if self.pay.with_untracked(PayState::is_paying) {
            return true; // nothing leaves while a payment is in flight
        }
        let url = self
            .session
            .with_value(|s| s.as_ref().and_then(|s| s.cancel_url.clone()))
            .unwrap_or_default();
        self.embed.with_value(|embed| match embed {
            Some(embed) => {
                embed.post(EmbedEvent::Cancel, &[("url", &url)]);
                true
            }
            None => false,
        })
    }

    fn paypal_failed(self) {
        let in_flight = self
            .pay
            .with_untracked(|p| p.method == Some(Method::Paypal) && p.phase == Phase::Processing);
        if in_flight {
            self.fail(PAYPAL_FAILED);
            self.post(EmbedEvent::Error, None, Some("provider_error"));
        }
    }

    // ---- outcomes --------------------------------------------------------------------------

    /// Asks the server for the outcome (`stripe/complete` or the PayPal capture), asking again
    /// while the provider is still processing, and shows it.
    async fn settle(
        self,
        completion: Completion,
        provider_message: Option<String>,
        paypal_actions: Option<ApproveActions>,
    ) {
        self.pending.set_value(Some(completion.clone()));
        let mut result = self.complete(&completion).await;
        for _ in 0..POLLS {
            let processing = matches!(&result, Ok(outcome)
                if outcome.session == CheckoutSessionStatus::Open
                    && outcome.payment_status == PaymentStatus::Processing);
            if !processing {
                break;
            }
            js::sleep(POLL_INTERVAL_MS).await;
            result = self.complete(&completion).await;
        }
        let paypal = matches!(completion, Completion::Paypal { .. });
        match result {
            Ok(outcome) => match outcome.session {
                CheckoutSessionStatus::Complete => self.succeed(outcome.payment),
                CheckoutSessionStatus::Expired => self.close(CheckoutSessionStatus::Expired),
                CheckoutSessionStatus::Open => match outcome.payment_status {
                    PaymentStatus::Processing
                    | PaymentStatus::RequiresCapture
                    | PaymentStatus::Succeeded => {
                        self.set_phase(Phase::Unconfirmed, Notice::info(PENDING))
                    }
                    _ => {
                        let text = provider_message
                            .or(outcome.message)
                            .unwrap_or_else(|| DECLINED.to_owned());
                        self.decline(text);
                    }
                },
            },
            Err(error) => {
                if let Some(status) = closed_status(&error) {
                    return self.close(status);
                }
                match error.status() {
                    Some(402) => match paypal_actions {
                        // INSTRUMENT_DECLINED: the buyer picks another funding source in the
                        // PayPal window, which restart() reopens on the same order.
                        Some(actions) if error.code() == Some("payment_declined") => {
                            self.decline(PAYPAL_DECLINED.to_owned());
                            actions.restart();
                        }
                        _ => {
                            let text = provider_message
                                .or_else(|| error.detail().map(str::to_owned))
                                .unwrap_or_else(|| DECLINED.to_owned());
                            self.decline(text);
                        }
                    },
                    // A refused capture did not take money; a refused Stripe check says nothing
                    // about what Stripe did, so that one stays unconfirmed.
                    Some(400..=499) if paypal => self.fail(FAILED),
                    _ => self.set_phase(Phase::Unconfirmed, Notice::error(UNCONFIRMED)),
                }
            }
        }
    }

    async fn complete(self, completion: &Completion) -> Result<WidgetOutcome, ApiError> {
        fetch::post(&self.session_id(), &completion.action()).await
    }

    fn succeed(self, payment: String) {
        self.pending.set_value(None);
        self.post(EmbedEvent::Success, Some(&payment), None);
        let setup = self
            .session
            .with_value(|s| s.as_ref().is_some_and(|s| s.setup));
        let text = if setup { CARD_SAVED } else { SUCCEEDED };
        self.set_phase(Phase::Succeeded { payment }, Notice::info(text));
    }

    fn decline(self, text: String) {
        self.set_phase(Phase::Declined, Notice::error(text));
        self.post(EmbedEvent::Error, None, Some("payment_declined"));
    }

    fn close(self, status: CheckoutSessionStatus) {
        self.pending.set_value(None);
        self.pay.update(|p| {
            p.phase = Phase::Closed(status);
            p.notice = None;
        });
        let code = match status {
            CheckoutSessionStatus::Expired => "session_expired",
            _ => "session_complete",
        };
        self.post(EmbedEvent::Error, None, Some(code));
    }

    /// Nothing was paid and nothing is pending: back to the choice with an error.
    fn fail(self, text: &str) {
        self.set_phase(Phase::Ready, Notice::error(text));
    }

    fn start_failed(self, method: Method, error: &ApiError) {
        if let Some(status) = closed_status(error) {
            return self.close(status);
        }
        if self.pay.with_untracked(|p| p.method != Some(method)) {
            return; // the customer moved on; choosing this method again retries
        }
        self.pay.update(|p| {
            // Choosing the card again retries; PayPal's buttons stay and retry on a click.
            if method == Method::Card {
                p.method = None;
            }
            p.phase = Phase::Ready;
            p.notice = Some(Notice::error(START_FAILED));
        });
    }

    /// The provider's script, form or buttons could not be loaded: the method is disabled,
    /// the others stay usable.
    fn unavailable(self, method: Method) {
        let others_left = self.session.with_value(|s| {
            s.as_ref().is_some_and(|s| {
                s.providers
                    .iter()
                    .map(|p| Method::for_provider(p.provider))
                    .any(|m| m != method && self.pay.with_untracked(|p| p.is_available(m)))
            })
        });
        self.pay.update(|p| {
            if !p.unavailable.contains(&method) {
                p.unavailable.push(method);
            }
            let chosen = p.method == Some(method);
            if chosen {
                p.method = None;
                p.phase = Phase::Ready;
            }
            // Said unless another method is loading or paying (its radio says it anyway).
            if chosen || !p.is_busy() {
                p.notice = Some(Notice::error(method.unavailable_message(others_left)));
            }
        });
        self.post(EmbedEvent::Error, None, Some("provider_unavailable"));
    }

    /// `#pg-retry` after a decline: back to paying, keyboard in the right place.
    fn try_again(self) {
        let Some(method) = self
            .pay
            .with_untracked(|p| (p.phase == Phase::Declined).then_some(p.method).flatten())
        else {
            return;
        };
        self.pay.update(|p| {
            p.phase = Phase::Ready;
            p.notice = None;
        });
        match method {
            Method::Card => self.handles.with_value(|h| {
                if let Some(card) = &h.card {
                    card.element.focus();
                }
            }),
            Method::Paypal => focus_by_id("pg-method-paypal"),
        }
    }

    /// `#pg-check` when the outcome is not known yet: ask the server again.
    fn check(self) {
        let Some(completion) = self.pending.get_value() else {
            return;
        };
        if self.pay.with_untracked(|p| p.phase != Phase::Unconfirmed) {
            return;
        }
        self.processing(CHECKING);
        spawn_local(self.settle(completion, None, None));
    }

    // ---- helpers ---------------------------------------------------------------------------

    fn processing(self, text: &str) {
        self.set_phase(Phase::Processing, Notice::info(text));
    }

    fn set_phase(self, phase: Phase, notice: Notice) {
        self.pay.update(|p| {
            p.phase = phase;
            p.notice = Some(notice);
        });
    }

    fn post(self, event: EmbedEvent, payment: Option<&str>, code: Option<&str>) {
        let fields: Vec<(&str, &str)> = [("payment", payment), ("code", code)]
            .into_iter()
            .filter_map(|(key, value)| Some((key, value?)))
            .collect();
        self.embed.with_value(|embed| {
            if let Some(embed) = embed {
                embed.post(event, &fields);
            }
        });
    }

    fn session_id(self) -> String {
        self.session
            .with_value(|s| s.as_ref().map(|s| s.id.clone()))
            .unwrap_or_default()
    }

    fn provider(self, name: ProviderName) -> Option<WidgetProvider> {
        self.session.with_value(|s| {
            s.as_ref()?
                .providers
                .iter()
                .find(|p| p.provider == name)
                .cloned()
        })
    }
}

/// 409 `session_complete` / `session_expired`: the session accepts no more payments.
fn closed_status(error: &ApiError) -> Option<CheckoutSessionStatus> {
    if error.status() != Some(409) {
        return None;
    }
    match error.code()? {
        "session_complete" => Some(CheckoutSessionStatus::Complete),
        "session_expired" => Some(CheckoutSessionStatus::Expired),
        _ => None,
    }
}

/// The element with `id`, waiting a few reactive ticks for the view to render it.
async fn find(id: &str) -> Option<Element> {
    for _ in 0..10 {
        let found = web_sys::window()
            .and_then(|w| w.document())
            .and_then(|d| d.get_element_by_id(id));
        if found.is_some() {
            return found;
        }
        leptos::task::tick().await;
    }
    None
}

fn focus_by_id(id: &str) {
    if let Some(element) = web_sys::window()
        .and_then(|w| w.document())
        .and_then(|d| d.get_element_by_id(id))
        .and_then(|e| e.dyn_into::<HtmlElement>().ok())
    {
        let _ = element.focus();
    }
}

/// Where the theme's custom properties are read: the widget's root element.
fn theme_root(inside: &Element) -> Element {
    inside
        .closest(".pg-checkout")
        .ok()
        .flatten()
        .unwrap_or_else(|| inside.clone())
}

/// Stripe sends redirect-based payments back to `return_url` (this page) with these
/// parameters (`setup_intent` for a session that only saves a card); the page then asks the
/// server for the outcome.
fn returned_from_redirect() -> bool {
    let search = web_sys::window()
        .and_then(|w| w.location().search().ok())
        .unwrap_or_default();
    web_sys::UrlSearchParams::new_with_str(&search)
        .map(|params| {
            (params.has("payment_intent") || params.has("setup_intent"))
                && params.has("redirect_status")
        })
        .unwrap_or(false)
}

fn return_url() -> String {
    web_sys::window()
        .and_then(|w| w.location().href().ok())
        .unwrap_or_default()
}
