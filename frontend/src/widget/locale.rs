//! Amounts in the customer's language: `Intl.NumberFormat` with the browser's languages and the
//! currency's ISO exponent, given `shared`'s exact decimal string (ECMA-402 formats a string
//! operand as an exact decimal, so no float is ever involved). `Money::display` (one fixed
//! English form) is the fallback where `Intl` is missing.

use super::js;
use js_sys::{Array, Function, Intl};
use shared::Money;
use wasm_bindgen::{JsCast, JsValue};

/// `money` for the browser's preferred languages (`navigator.languages`).
pub fn localized(money: Money) -> String {
    // `navigator.languages`, read through the global object (no web-sys feature needed).
    let languages = web_sys::window()
        .map(|w| js::get(&js::get(&w, "navigator"), "languages"))
        .filter(|l| l.is_object())
        .unwrap_or_else(|| Array::new().into());
    format_in(money, &languages)
}

/// `money` for the given BCP 47 language tags (a JS array or string).
pub fn format_in(money: Money, languages: &JsValue) -> String {
    let exponent = JsValue::from(money.currency().exponent());
    let options = js::object(&[
        ("style", JsValue::from_str("currency")),
        ("currency", JsValue::from_str(money.currency().code())),
        ("minimumFractionDigits", exponent.clone()),
        ("maximumFractionDigits", exponent),
    ]);
    let languages = if languages.is_string() {
        Array::of1(languages)
    } else {
        languages.clone().dyn_into::<Array>().unwrap_or_default()
    };
    let format: Function = Intl::NumberFormat::new(&languages, &options).format();
    format
        .call1(
            &JsValue::NULL,
            &JsValue::from_str(&money.to_decimal_string()),
        )
        .ok()
        .and_then(|s| s.as_string())
        .unwrap_or_else(|| money.display())
}
