//! JSON read with the browser's own parser, field by field.
//!
//! The widget's download has a size budget (issue 13), and it reads only a handful of small,
//! fixed shapes. Every browser already has `JSON.parse`; serde_json would add a second parser
//! (8% of the widget), and serde-wasm-bindgen, which reads the browser's parsed value through
//! serde, brings serde's error messages with their float formatting (measured: 7%). So the
//! widget reads its answers with this small reader over the parsed value instead (what it reads
//! is in `widget::answers`). The console, whose size is not budgeted, keeps serde_json.

use js_sys::{Array, Number, Reflect};
use wasm_bindgen::JsValue;
use wasm_bindgen_futures::JsFuture;

/// A parsed JSON value, or `undefined` where a field was missing.
pub struct Json(JsValue);

impl Json {
    /// Parses JSON text; `None` when it is not JSON.
    pub fn parse(text: &str) -> Option<Json> {
        js_sys::JSON::parse(text).ok().map(Json)
    }

    /// Reads a response's body as JSON (`Response.json()`); `None` when it cannot be read or is
    /// not JSON.
    pub async fn from_response(response: gloo_net::http::Response) -> Option<Json> {
        let promise = web_sys::Response::from(response).json().ok()?;
        JsFuture::from(promise).await.ok().map(Json)
    }

    /// The field `key` of an object; missing (`undefined`) when there is no such field or this is
    /// not an object.
    pub fn get(&self, key: &str) -> Json {
        if !self.0.is_object() {
            return Json(JsValue::UNDEFINED);
        }
        Json(Reflect::get(&self.0, &JsValue::from_str(key)).unwrap_or(JsValue::UNDEFINED))
    }

    /// A string's text; `None` for anything else.
    pub fn str(&self) -> Option<String> {
        self.0.as_string()
    }

    /// A field that may be left out or `null`: `Some(None)` then, `Some(Some(text))` for a
    /// string, and `None` (not this shape) for anything else.
    pub fn optional_str(&self) -> Option<Option<String>> {
        if self.0.is_undefined() || self.0.is_null() {
            return Some(None);
        }
        self.str().map(Some)
    }

    /// An integer. `JSON.parse` gives every number as a double, and a double holds every
    /// integer of magnitude up to 2^53 - 1 exactly (`Number.isSafeInteger`), so such a number
    /// reads as exactly the integer that was sent. Anything else (a fraction, a larger number, a
    /// string) is `None`: refused, never rounded.
    pub fn int(&self) -> Option<i64> {
        if !Number::is_safe_integer(&self.0) {
            return None;
        }
        // Exact: a safe integer converts to i64 without loss.
        self.0.as_f64().map(|n| n as i64)
    }

    /// A boolean that may be left out (`#[serde(default)]`: false); `None` for anything else.
    pub fn flag(&self) -> Option<bool> {
        if self.is_missing() {
            return Some(false);
        }
        self.0.as_bool()
    }

    /// The field was left out.
    pub fn is_missing(&self) -> bool {
        self.0.is_undefined()
    }

    /// An array's items; `None` for anything else.
    pub fn items(&self) -> Option<Vec<Json>> {
        Array::is_array(&self.0).then(|| Array::from(&self.0).iter().map(Json).collect())
    }
}

#[cfg(all(test, target_arch = "wasm32"))]
mod tests {
    use super::Json;
    use wasm_bindgen_test::*;

    #[wasm_bindgen_test]
    fn reads_fields_of_their_own_type_only() {
        let json = Json::parse(r#"{"s": "text", "n": 1999, "a": [1, 2], "z": null}"#).unwrap();
        assert_eq!(json.get("s").str().as_deref(), Some("text"));
        assert_eq!(json.get("n").int(), Some(1999));
        assert_eq!(json.get("a").items().map(|items| items.len()), Some(2));
        assert_eq!(json.get("n").str(), None);
        assert_eq!(json.get("s").int(), None);
        assert_eq!(json.get("s").items().map(|items| items.len()), None);
        assert_eq!(json.get("z").optional_str(), Some(None));
        assert_eq!(json.get("missing").optional_str(), Some(None));
        assert_eq!(json.get("n").optional_str(), None);
        // Fields of something that is not an object are missing.
        assert_eq!(json.get("s").get("length").int(), None);
        assert!(Json::parse("<html>").is_none());
    }

    #[wasm_bindgen_test]
    fn integers_are_exact_or_refused() {
        let json = Json::parse(
            r#"{"max": 9007199254740991, "neg": -9007199254740991, "big": 9007199254740992,
                "frac": 19.99, "exp": 1e3, "str": "1999"}"#,
        )
        .unwrap();
        assert_eq!(json.get("max").int(), Some(9_007_199_254_740_991));
        assert_eq!(json.get("neg").int(), Some(-9_007_199_254_740_991));
        // 2^53 is the first integer a double cannot tell from its neighbour: refused.
        assert_eq!(json.get("big").int(), None);
        assert_eq!(json.get("frac").int(), None);
        assert_eq!(json.get("exp").int(), Some(1000));
        assert_eq!(json.get("str").int(), None);
    }
}
