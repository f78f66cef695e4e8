//! Typed bindings to Stripe.js v3: only the calls the widget makes, with the real API's names
//! and shapes (docs.stripe.com/js; the same calls are type-checked
//! against `@stripe/stripe-js` in `server/sandbox/src/stripe/js/typecheck/surface.ts`):
//!
//! ```js
//! const stripe = Stripe(publishableKey);
//! const elements = stripe.elements({clientSecret, appearance: {variables: {...}}});
//! const payment = elements.create('payment', {layout: 'tabs'});
//! payment.on('ready', ...); payment.on('change', ...); payment.mount(el);
//! const {error} = await elements.submit();
//! const {paymentIntent, error} = await stripe.confirmPayment({elements,
//!     confirmParams: {return_url}, redirect: 'if_required'});
//! // A session that only saves a card: the same with a SetupIntent's secret.
//! const {setupIntent, error} = await stripe.confirmSetup({elements,
//!     confirmParams: {return_url}, redirect: 'if_required'});
//! // A saved card (sessions for a customer):
//! const {paymentIntent, error} = await stripe.confirmCardPayment(clientSecret,
//!     {payment_method: 'pm_...'});
//! ```
//!
//! The script itself is loaded from the session's `script_url` ([`super::js::load_script`]):
//! `https://js.stripe.com/v3/` live, the sandbox's stand-in otherwise.

use super::js::{get, get_string, object};
use super::state::AUTHENTICATION_FAILED;
use js_sys::{Array, Function, Object, Promise};
use std::cell::Cell;
use std::rc::Rc;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;
use web_sys::{Element, HtmlElement, MutationObserver, MutationObserverInit};

#[wasm_bindgen]
extern "C" {
    /// What `Stripe(publishableKey)` returns.
    #[derive(Debug, Clone)]
    pub type Stripe;

    /// The global `Stripe` function that Stripe.js defines; looked up when called, so a
    /// missing script is an `Err` (ReferenceError), not a crash.
    #[wasm_bindgen(catch, js_name = Stripe)]
    fn stripe_global(publishable_key: &str) -> Result<Stripe, JsValue>;

    #[wasm_bindgen(method, catch, js_name = elements)]
    fn elements_raw(this: &Stripe, options: &Object) -> Result<Elements, JsValue>;

    #[wasm_bindgen(method, catch, js_name = confirmPayment)]
    fn confirm_payment_raw(this: &Stripe, options: &Object) -> Result<Promise, JsValue>;

    #[wasm_bindgen(method, catch, js_name = confirmSetup)]
    fn confirm_setup_raw(this: &Stripe, options: &Object) -> Result<Promise, JsValue>;

    #[wasm_bindgen(method, catch, js_name = confirmCardPayment)]
    fn confirm_card_payment_raw(
        this: &Stripe,
        client_secret: &str,
        data: &Object,
    ) -> Result<Promise, JsValue>;

    /// An Elements group (`stripe.elements(...)`).
    #[derive(Debug, Clone)]
    pub type Elements;

    #[wasm_bindgen(method, catch, js_name = create)]
    fn create_raw(this: &Elements, kind: &str, options: &Object)
        -> Result<PaymentElement, JsValue>;

    #[wasm_bindgen(method, catch, js_name = submit)]
    fn submit_raw(this: &Elements) -> Result<Promise, JsValue>;

    /// The Payment Element (`elements.create('payment')`): Stripe's frame with the card fields.
    #[derive(Debug, Clone)]
    pub type PaymentElement;

    #[wasm_bindgen(method, catch, js_name = mount)]
    fn mount_raw(this: &PaymentElement, container: &Element) -> Result<(), JsValue>;

    #[wasm_bindgen(method, js_name = on)]
    fn on_raw(this: &PaymentElement, event: &str, handler: &Function);

    #[wasm_bindgen(method, catch, js_name = update)]
    fn update_raw(this: &PaymentElement, options: &Object) -> Result<(), JsValue>;

    #[wasm_bindgen(method, catch, js_name = focus)]
    fn focus_raw(this: &PaymentElement) -> Result<(), JsValue>;
}

impl Stripe {
    /// `Stripe(publishableKey)`. Fails when Stripe.js is not loaded or refuses the key.
    pub fn new(publishable_key: &str) -> Result<Stripe, JsValue> {
        stripe_global(publishable_key)
    }

    /// `stripe.elements({clientSecret, appearance})`.
    pub fn elements(
        &self,
        client_secret: &str,
        appearance: &Appearance,
    ) -> Result<Elements, JsValue> {
        self.elements_raw(&object(&[
            ("clientSecret", client_secret.into()),
            ("appearance", appearance.to_js().into()),
        ]))
    }

    /// `stripe.confirmPayment({elements, confirmParams: {return_url}, redirect: 'if_required'})`,
    /// or `stripe.confirmSetup` with the same options when the Elements group holds a
    /// SetupIntent (a session that only saves the card; docs.stripe.com/js/setup_intents/
    /// confirm_setup). Stripe.js opens the 3-D Secure challenge itself when the bank asks for
    /// one, and only leaves the page for payment methods that need a redirect (then to
    /// `return_url`).
    pub async fn confirm_payment(
        &self,
        elements: &Elements,
        return_url: &str,
        setup: bool,
    ) -> ConfirmResult {
        let options = object(&[
            ("elements", elements.into()),
            (
                "confirmParams",
                object(&[("return_url", return_url.into())]).into(),
            ),
            ("redirect", "if_required".into()),
        ]);
        settle_confirmation(if setup {
            self.confirm_setup_raw(&options)
        } else {
            self.confirm_payment_raw(&options)
        })
        .await
    }

    /// `stripe.confirmCardPayment(clientSecret, {payment_method})` with a saved card's id:
    /// Stripe.js confirms and runs 3-D Secure itself when the bank asks for it
    /// (docs.stripe.com/js/payment_intents/confirm_card_payment).
    pub async fn confirm_card_payment(
        &self,
        client_secret: &str,
        payment_method: &str,
    ) -> ConfirmResult {
        let data = object(&[("payment_method", payment_method.into())]);
        settle_confirmation(self.confirm_card_payment_raw(client_secret, &data)).await
    }
}

/// What a confirmation's promise settled with.
async fn settle_confirmation(call: Result<Promise, JsValue>) -> ConfirmResult {
    let settled = match call {
        Ok(promise) => JsFuture::from(promise).await,
        Err(thrown) => Err(thrown),
    };
    match settled {
        Ok(result) => ConfirmResult::from_js(&result),
        // Stripe.js throws (IntegrationError) only for misuse; nothing was charged.
        Err(thrown) => ConfirmResult::Failed(StripeError {
            kind: "integration_error".into(),
            code: None,
            decline_code: None,
            message: get_string(&thrown, "message"),
        }),
    }
}

impl Elements {
    /// `elements.create('payment', {layout: 'tabs'})`.
    pub fn create_payment_element(&self) -> Result<PaymentElement, JsValue> {
        self.create_raw("payment", &object(&[("layout", "tabs".into())]))
    }

    /// `await elements.submit()`: validates the fields before confirming. `None` when they
    /// are complete, else the validation error (shown by Stripe in its frame as well).
    pub async fn submit(&self) -> Option<StripeError> {
        let settled = match self.submit_raw() {
            Ok(promise) => JsFuture::from(promise).await,
            Err(thrown) => Err(thrown),
        };
        match settled {
            Ok(result) => StripeError::from_js(&get(&result, "error")),
            Err(thrown) => Some(StripeError {
                kind: "integration_error".into(),
                code: None,
                decline_code: None,
                message: get_string(&thrown, "message"),
            }),
        }
    }
}

impl PaymentElement {
    /// `element.mount(domElement)`.
    pub fn mount(&self, container: &Element) -> Result<(), JsValue> {
        self.mount_raw(container)
    }

    /// `element.on(event, handler)` with a Rust closure; the caller keeps the closure alive
    /// for as long as the element exists.
    pub fn on(&self, event: &str, handler: &Closure<dyn FnMut(JsValue)>) {
        self.on_raw(event, handler.as_ref().unchecked_ref());
    }

    /// `element.on(event, handler)` with a JavaScript function (e.g. a promise's resolve).
    pub fn on_function(&self, event: &str, handler: &Function) {
        self.on_raw(event, handler);
    }

    /// `element.update({readOnly})`: no edits while a payment is being confirmed.
    pub fn set_read_only(&self, read_only: bool) {
        let _ = self.update_raw(&object(&[("readOnly", read_only.into())]));
    }

    /// `element.focus()`: puts the keyboard into Stripe's first field.
    pub fn focus(&self) {
        let _ = self.focus_raw();
    }
}

/// `error` of a Stripe.js result: `{type, code, decline_code, message}`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StripeError {
    /// `type`: `card_error`, `validation_error`, `invalid_request_error`, `api_error`, ...
    pub kind: String,
    pub code: Option<String>,
    pub decline_code: Option<String>,
    pub message: Option<String>,
}

impl StripeError {
    /// `None` when `value` is not an error object.
    pub fn from_js(value: &JsValue) -> Option<StripeError> {
        if !value.is_object() {
            return None;
        }
        Some(StripeError {
            kind: get_string(value, "type").unwrap_or_default(),
            code: get_string(value, "code"),
            decline_code: get_string(value, "decline_code"),
            message: get_string(value, "message"),
        })
    }

    /// Stripe writes `message` for the customer for card and validation errors only; other
    /// kinds are about the integration and get paygate's own wording. A failed 3-D Secure
    /// challenge is an `invalid_request_error` whose message is meant for developers, so it
    /// gets its own words.
    pub fn customer_message(&self) -> Option<&str> {
        if self.code.as_deref() == Some("payment_intent_authentication_failure") {
            return Some(AUTHENTICATION_FAILED);
        }
        match self.kind.as_str() {
            "card_error" | "validation_error" => self.message.as_deref().filter(|m| !m.is_empty()),
            _ => None,
        }
    }
}

/// What `stripe.confirmPayment` resolved with: `{paymentIntent}` or `{error}`. Only a hint: the
/// widget asks paygate's server for the outcome either way.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConfirmResult {
    Confirmed { id: String, status: String },
    Failed(StripeError),
}

impl ConfirmResult {
    pub fn from_js(value: &JsValue) -> ConfirmResult {
        if let Some(error) = StripeError::from_js(&get(value, "error")) {
            return ConfirmResult::Failed(error);
        }
        let intent = get(value, "paymentIntent");
        match (get_string(&intent, "id"), get_string(&intent, "status")) {
            (Some(id), Some(status)) => ConfirmResult::Confirmed { id, status },
            _ => ConfirmResult::Failed(StripeError {
                kind: "unexpected_result".into(),
                code: None,
                decline_code: None,
                message: None,
            }),
        }
    }

    pub fn error(&self) -> Option<&StripeError> {
        match self {
            ConfirmResult::Failed(error) => Some(error),
            ConfirmResult::Confirmed { .. } => None,
        }
    }
}

/// The `change` event of the Payment Element: `{complete, empty, value: {type}}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChangeEvent {
    pub complete: bool,
    pub empty: bool,
}

impl ChangeEvent {
    pub fn from_js(event: &JsValue) -> ChangeEvent {
        ChangeEvent {
            complete: get(event, "complete").is_truthy(),
            empty: get(event, "empty").is_truthy(),
        }
    }
}

/// The widget's theme for Stripe's frame, which page CSS cannot reach:
/// `appearance.variables` from the widget's CSS custom properties.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Appearance {
    pub variables: Vec<(&'static str, String)>,
}

/// Custom property of style/widget.css → Stripe appearance variable.
pub const THEME_VARIABLES: [(&str, &str); 6] = [
    ("--pg-color-primary", "colorPrimary"),
    ("--pg-color-text", "colorText"),
    ("--pg-color-background", "colorBackground"),
    ("--pg-color-error", "colorDanger"),
    ("--pg-radius", "borderRadius"),
    ("--pg-font-family", "fontFamily"),
];

impl Appearance {
    /// Reads the computed custom properties of `element` (the widget's root, so a merchant's
    /// overrides on `:root` or on `.pg-checkout` both count). Empty values are left out and
    /// Stripe's defaults apply.
    pub fn from_css(element: &Element) -> Appearance {
        let style = web_sys::window().and_then(|w| w.get_computed_style(element).ok().flatten());
        let variables = style
            .map(|style| {
                THEME_VARIABLES
                    .iter()
                    .filter_map(|(property, variable)| {
                        let value = style.get_property_value(property).ok()?;
                        // Computed custom properties keep the source's line breaks.
                        let value = value.split_whitespace().collect::<Vec<_>>().join(" ");
                        (!value.is_empty()).then_some((*variable, value))
                    })
                    .collect()
            })
            .unwrap_or_default();
        Appearance { variables }
    }

    pub fn to_js(&self) -> Object {
        let variables: Vec<(&str, JsValue)> = self
            .variables
            .iter()
            .map(|(name, value)| (*name, JsValue::from_str(value)))
            .collect();
        object(&[("variables", object(&variables).into())])
    }
}

/// Notices Stripe.js's 3-D Secure challenge. Stripe.js announces no event for it: while
/// `confirmPayment` runs it adds a modal with the bank's frame to `<body>`, and removes it when
/// the challenge is over. The watcher compares `<body>`'s children with those present when it
/// started and reports whether a new, visible frame is among them. Stops when dropped.
pub struct ChallengeWatcher {
    observer: MutationObserver,
    _callback: Closure<dyn FnMut(Array, MutationObserver)>,
}

impl ChallengeWatcher {
    pub fn start(on_change: impl Fn(bool) + 'static) -> Option<ChallengeWatcher> {
        let body = web_sys::window()?.document()?.body()?;
        let before: Vec<Element> = element_children(&body);
        let open = Rc::new(Cell::new(false));
        let callback = Closure::<dyn FnMut(Array, MutationObserver)>::new({
            let body = body.clone();
            move |_records: Array, _observer: MutationObserver| {
                let now = element_children(&body)
                    .iter()
                    .filter(|child| !before.contains(child))
                    .any(shows_a_frame);
                if now != open.get() {
                    open.set(now);
                    on_change(now);
                }
            }
        });
        let observer = MutationObserver::new(callback.as_ref().unchecked_ref()).ok()?;
        let options = MutationObserverInit::new();
        options.set_child_list(true);
        options.set_subtree(true);
        options.set_attributes(true);
        options.set_attribute_filter(&Array::of2(&"style".into(), &"class".into()));
        observer.observe_with_options(&body, &options).ok()?;
        Some(ChallengeWatcher {
            observer,
            _callback: callback,
        })
    }
}

impl Drop for ChallengeWatcher {
    fn drop(&mut self) {
        // After disconnect() the observer delivers nothing more, so the closure may go.
        self.observer.disconnect();
    }
}

fn element_children(parent: &Element) -> Vec<Element> {
    let children = parent.children();
    (0..children.length())
        .filter_map(|i| children.item(i))
        .collect()
}

/// `element` is, or holds, an iframe that takes up room on the screen (Stripe's hidden helper
/// frames do not).
fn shows_a_frame(element: &Element) -> bool {
    let visible = |frame: &Element| {
        frame
            .dyn_ref::<HtmlElement>()
            .is_some_and(|f| f.offset_width() > 0 && f.offset_height() > 0)
    };
    if element.tag_name().eq_ignore_ascii_case("iframe") {
        return visible(element);
    }
    element
        .query_selector_all("iframe")
        .map(|frames| {
            (0..frames.length())
                .filter_map(|i| frames.item(i))
                .filter_map(|node| node.dyn_into::<Element>().ok())
                .any(|frame| visible(&frame))
        })
        .unwrap_or(false)
}
