//! Small helpers under the provider bindings: reading and building plain JavaScript objects,
//! loading a provider's script, waiting.

use js_sys::{Array, Object, Promise, Reflect};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::HtmlScriptElement;

/// `target[key]`, or `undefined` when `target` is not an object.
pub fn get(target: &JsValue, key: &str) -> JsValue {
    if !target.is_object() && !target.is_function() {
        return JsValue::UNDEFINED;
    }
    Reflect::get(target, &JsValue::from_str(key)).unwrap_or(JsValue::UNDEFINED)
}

/// `target[key]` when it is a string.
pub fn get_string(target: &JsValue, key: &str) -> Option<String> {
    get(target, key).as_string()
}

/// A plain object literal: `{key: value, ...}`.
pub fn object(entries: &[(&str, JsValue)]) -> Object {
    let object = Object::new();
    for (key, value) in entries {
        // Setting a property on a fresh plain object cannot fail.
        let _ = Reflect::set(&object, &JsValue::from_str(key), value);
    }
    object
}

/// A promise that resolves with `undefined` after `ms` milliseconds. The timer calls the
/// promise's own resolve function, so no Rust closure has to be kept alive for it.
pub fn delay(ms: i32) -> Promise {
    Promise::new(&mut |resolve, _reject| {
        if let Some(window) = web_sys::window() {
            let _ = window.set_timeout_with_callback_and_timeout_and_arguments_0(&resolve, ms);
        }
    })
}

pub async fn sleep(ms: i32) {
    let _ = JsFuture::from(delay(ms)).await;
}

/// Settles like `promise`, or rejects with `undefined` after `ms` milliseconds.
pub async fn with_timeout(promise: &Promise, ms: i32) -> Result<JsValue, JsValue> {
    let timeout = Promise::new(&mut |_resolve, reject| {
        if let Some(window) = web_sys::window() {
            let _ = window.set_timeout_with_callback_and_timeout_and_arguments_0(&reject, ms);
        }
    });
    JsFuture::from(Promise::race(&Array::of2(promise, &timeout))).await
}

/// Loads a provider's script (Stripe.js, the PayPal JS SDK) from `src` with a `<script>`
/// element: allowed by the page's CSP when `src` is on a provider origin it lists, and no inline
/// code is involved. Resolves once the script has run; fails on a network error, an HTTP error
/// status, a CSP refusal, or when nothing happened within `timeout_ms`. The element's load and
/// error handlers are the promise's own resolve and reject functions: no Rust closure to keep.
/// A script that loaded once is not added again (Stripe.js must be on the page only once); one
/// that failed is removed, so choosing the method again retries it. The page's CSP nonce goes
/// along as `data-csp-nonce`, which the PayPal SDK puts on the styles it inserts.
pub async fn load_script(src: &str, timeout_ms: i32) -> Result<(), JsValue> {
    if LOADED.with(|loaded| loaded.borrow().iter().any(|url| url == src)) {
        return Ok(());
    }
    let document = web_sys::window()
        .and_then(|window| window.document())
        .ok_or(JsValue::NULL)?;
    let script: HtmlScriptElement = document.create_element("script")?.unchecked_into();
    script.set_src(src);
    script.set_async(true);
    if let Some(nonce) = page_nonce(&document) {
        script.set_attribute("data-csp-nonce", &nonce)?;
    }
    let loaded = Promise::new(&mut |resolve, reject| {
        script.set_onload(Some(&resolve));
        script.set_onerror(Some(&reject));
    });
    document
        .head()
        .ok_or(JsValue::NULL)?
        .append_child(&script)?;
    match with_timeout(&loaded, timeout_ms).await {
        Ok(_) => {
            LOADED.with(|loaded| loaded.borrow_mut().push(src.to_string()));
            Ok(())
        }
        Err(e) => {
            script.remove();
            Err(e)
        }
    }
}

thread_local! {
    /// Script URLs already loaded on this page.
    static LOADED: std::cell::RefCell<Vec<String>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// The nonce of the page's own bootstrap script (browsers expose it only as the `nonce`
/// property, not as an attribute).
fn page_nonce(document: &web_sys::Document) -> Option<String> {
    let element = document.query_selector("script[nonce]").ok()??;
    get_string(&element, "nonce").filter(|n| !n.is_empty())
}
