//! Typed bindings to the PayPal JS SDK v5 buttons: only what the widget uses, with the real
//! SDK's names and shapes (developer.paypal.com/sdk/js/reference, `@paypal/paypal-js` types):
//!
//! ```js
//! // <script src="https://www.paypal.com/sdk/js?client-id=…&currency=EUR&intent=capture&components=buttons">
//! paypal.Buttons({createOrder, onApprove, onCancel, onError, style}).render(el);
//! // createOrder(data, actions) -> Promise<orderID>
//! // onApprove({orderID, payerID, ...}, {restart, ...}) -> Promise<void>
//! ```

use super::js::{get, get_string, object};
use js_sys::{Object, Promise};
use std::future::Future;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::future_to_promise;
use web_sys::Element;

#[wasm_bindgen]
extern "C" {
    /// `paypal.Buttons(options)`; looked up when called, so a missing SDK is an `Err`.
    #[wasm_bindgen(catch, js_namespace = paypal, js_name = Buttons)]
    fn buttons_global(options: &Object) -> Result<Buttons, JsValue>;

    /// A buttons instance.
    #[derive(Debug, Clone)]
    pub type Buttons;

    #[wasm_bindgen(method, catch, js_name = render)]
    fn render_raw(this: &Buttons, container: &Element) -> Result<Promise, JsValue>;

    #[wasm_bindgen(method, catch, js_name = isEligible)]
    fn is_eligible_raw(this: &Buttons) -> Result<bool, JsValue>;

    /// The `actions` argument of `onApprove`.
    #[derive(Debug, Clone)]
    pub type ApproveActions;

    /// `actions.restart()`: after INSTRUMENT_DECLINED, sends the buyer back to choose another
    /// funding source in the same PayPal window.
    #[wasm_bindgen(method, catch, js_name = restart)]
    fn restart_raw(this: &ApproveActions) -> Result<JsValue, JsValue>;
}

impl ApproveActions {
    pub fn restart(&self) {
        let _ = self.restart_raw();
    }
}

/// The script URL: the configured SDK URL with the query the SDK requires. The currency must be
/// the order's (the SDK refuses an order in another currency) and the intent the order's.
///
/// The SDK "automatically shows all eligible buttons" (developer.paypal.com/sdk/js/reference):
/// with nothing disabled a buyer also sees Pay Later, PayPal Credit, Venmo and a "Debit or
/// Credit Card" button. paygate's widget offers the PayPal wallet only: cards are paid through
/// Stripe's form beside it, and the credit products (Pay Later, Credit) carry their own
/// eligibility and disclosure rules that paygate does not model; so they are disabled
/// (`disable-funding`, the same page's configuration reference).
pub const DISABLED_FUNDING: &str = "card,credit,paylater,venmo";

pub fn sdk_url(script_url: &str, client_id: &str, currency: &str, authorize: bool) -> String {
    let separator = if script_url.contains('?') { '&' } else { '?' };
    format!(
        "{script_url}{separator}client-id={}&currency={}&intent={}&components=buttons&disable-funding={DISABLED_FUNDING}",
        encode_query_value(client_id),
        encode_query_value(currency),
        if authorize { "authorize" } else { "capture" }
    )
}

/// Percent-encodes everything but RFC 3986's unreserved characters.
fn encode_query_value(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for byte in value.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

/// `data` of `onApprove`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApproveData {
    pub order_id: String,
    pub payer_id: Option<String>,
}

impl ApproveData {
    pub fn from_js(data: &JsValue) -> ApproveData {
        ApproveData {
            order_id: get_string(data, "orderID").unwrap_or_default(),
            payer_id: get_string(data, "payerID"),
        }
    }
}

/// `style` of the buttons.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ButtonStyle {
    /// `borderRadius` in pixels (from `--pg-radius` when it is a plain pixel length).
    pub border_radius: Option<u8>,
}

impl ButtonStyle {
    fn to_js(self) -> Object {
        let style = object(&[
            ("layout", "vertical".into()),
            ("color", "gold".into()),
            ("shape", "rect".into()),
            ("label", "paypal".into()),
            ("height", 45.into()),
        ]);
        if let Some(radius) = self.border_radius {
            let _ = js_sys::Reflect::set(&style, &"borderRadius".into(), &radius.into());
        }
        style
    }
}

/// `"8px"` → 8; anything else (rem, percentages, calc) → `None` and PayPal's default.
pub fn pixel_radius(css: &str) -> Option<u8> {
    css.trim().strip_suffix("px")?.trim().parse().ok()
}

/// Buttons with their callbacks. The SDK may call the callbacks for as long as the buttons
/// exist, so this value owns the closures and must be kept for the page's life.
pub struct PaypalButtons {
    buttons: Buttons,
    _create_order: Closure<dyn FnMut(JsValue, JsValue) -> Promise>,
    _on_approve: Closure<dyn FnMut(JsValue, ApproveActions) -> Promise>,
    _on_cancel: Closure<dyn FnMut(JsValue)>,
    _on_error: Closure<dyn FnMut(JsValue)>,
}

impl PaypalButtons {
    /// `paypal.Buttons({createOrder, onApprove, onCancel, onError, style})`.
    ///
    /// - `create_order` resolves to PayPal's order id, or fails with a message (the SDK then
    ///   calls `onError`);
    /// - `on_approve` gets the order id and the actions (for `restart()`);
    /// - `on_cancel` gets the order id when the buyer closed the PayPal window;
    /// - `on_error` gets the error's message.
    pub fn new<CreateOrder, CreateFuture, OnApprove, ApproveFuture>(
        mut create_order: CreateOrder,
        mut on_approve: OnApprove,
        mut on_cancel: impl FnMut(Option<String>) + 'static,
        mut on_error: impl FnMut(String) + 'static,
        style: ButtonStyle,
    ) -> Result<PaypalButtons, JsValue>
    where
        CreateOrder: FnMut() -> CreateFuture + 'static,
        CreateFuture: Future<Output = Result<String, String>> + 'static,
        OnApprove: FnMut(ApproveData, ApproveActions) -> ApproveFuture + 'static,
        ApproveFuture: Future<Output = ()> + 'static,
    {
        let create_order = Closure::<dyn FnMut(JsValue, JsValue) -> Promise>::new(
            move |_data: JsValue, _actions: JsValue| {
                let order = create_order();
                future_to_promise(async move {
                    match order.await {
                        Ok(order_id) => Ok(JsValue::from_str(&order_id)),
                        Err(message) => Err(js_sys::Error::new(&message).into()),
                    }
                })
            },
        );
        let on_approve = Closure::<dyn FnMut(JsValue, ApproveActions) -> Promise>::new(
            move |data: JsValue, actions: ApproveActions| {
                let approved = on_approve(ApproveData::from_js(&data), actions);
                future_to_promise(async move {
                    approved.await;
                    Ok(JsValue::UNDEFINED)
                })
            },
        );
        let on_cancel = Closure::<dyn FnMut(JsValue)>::new(move |data: JsValue| {
            on_cancel(get_string(&data, "orderID"));
        });
        let on_error = Closure::<dyn FnMut(JsValue)>::new(move |error: JsValue| {
            on_error(get_string(&error, "message").unwrap_or_default());
        });
        let options = object(&[
            ("createOrder", function(&create_order)),
            ("onApprove", function(&on_approve)),
            ("onCancel", function(&on_cancel)),
            ("onError", function(&on_error)),
            ("style", style.to_js().into()),
        ]);
        let buttons = buttons_global(&options)?;
        Ok(PaypalButtons {
            buttons,
            _create_order: create_order,
            _on_approve: on_approve,
            _on_cancel: on_cancel,
            _on_error: on_error,
        })
    }

    /// `buttons.isEligible()` then `buttons.render(container)`: the promise settles once the
    /// buttons are shown.
    pub fn render(&self, container: &Element) -> Result<Promise, JsValue> {
        if !self.buttons.is_eligible_raw().unwrap_or(true) {
            return Err(JsValue::from_str("PayPal buttons are not eligible"));
        }
        self.buttons.render_raw(container)
    }
}

fn function<T: ?Sized>(closure: &Closure<T>) -> JsValue {
    closure.as_ref().clone()
}

/// `window.paypal.Buttons` is a function: the SDK loaded and has the buttons component.
pub fn sdk_ready() -> bool {
    let paypal = web_sys::window().map(|w| get(&w, "paypal"));
    paypal.is_some_and(|paypal| get(&paypal, "Buttons").is_function())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sdk_url_carries_client_currency_and_intent() {
        assert_eq!(
            sdk_url("https://www.paypal.com/sdk/js", "AbC-1_x", "EUR", false),
            "https://www.paypal.com/sdk/js?client-id=AbC-1_x&currency=EUR&intent=capture&components=buttons&disable-funding=card,credit,paylater,venmo"
        );
        assert_eq!(
            sdk_url("http://127.0.0.1:9/sdk/js?debug=false", "a b&c", "JPY", true),
            "http://127.0.0.1:9/sdk/js?debug=false&client-id=a%20b%26c&currency=JPY&intent=authorize&components=buttons&disable-funding=card,credit,paylater,venmo"
        );
    }

    #[test]
    fn only_pixel_radii_reach_paypal() {
        assert_eq!(pixel_radius("8px"), Some(8));
        assert_eq!(pixel_radius(" 12px "), Some(12));
        assert_eq!(pixel_radius("0.5rem"), None);
        assert_eq!(pixel_radius(""), None);
    }
}
