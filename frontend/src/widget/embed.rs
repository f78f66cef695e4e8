//! The widget inside a merchant's page: `/checkout/{id}?embed=1&parent_origin=<origin>`, where
//! the embed loader passes the page's origin. The widget tells the parent window its height and
//! what happened, with `postMessage` to that origin only, never to `*`: without a valid
//! `parent_origin` nothing is posted at all.
//!
//! Messages (plain objects):
//! - `{type: 'paygate:resize', height}`: the content's height in CSS pixels; at least
//!   [`CHALLENGE_MIN_HEIGHT`] while Stripe's 3-D Secure challenge is open, so that the modal is
//!   not squeezed into a short frame;
//! - `{type: 'paygate:success', session, payment}`: the server said the session is complete;
//! - `{type: 'paygate:cancel', session, url}`: the customer chose to leave without paying
//!   (the "Cancel and return" link, shown when the session has a `cancel_url`, which is `url`).
//!   Closing the PayPal window is not a cancel: the checkout stays open for another try;
//! - `{type: 'paygate:error', session, code}`: a payment was declined (`code` =
//!   `payment_declined`), the session no longer accepts payments (`session_expired`,
//!   `session_complete`), a provider could not be loaded (`provider_unavailable`), or a provider
//!   failed (`provider_error`). Codes only: no messages or provider details leave the frame.

use js_sys::Object;
use std::cell::Cell;
use std::rc::Rc;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use web_sys::{ResizeObserver, UrlSearchParams, Window};

use super::js::object;

/// Height the frame asks for while the 3-D Secure challenge is open.
pub const CHALLENGE_MIN_HEIGHT: i32 = 640;

/// What the widget tells the merchant's page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EmbedEvent {
    Success,
    Cancel,
    Error,
}

impl EmbedEvent {
    pub fn message_type(self) -> &'static str {
        match self {
            EmbedEvent::Success => "paygate:success",
            EmbedEvent::Cancel => "paygate:cancel",
            EmbedEvent::Error => "paygate:error",
        }
    }
}

/// `Some(origin)` when `value` is exactly a serialized http(s) origin (`https://shop.example`,
/// `http://localhost:8080`): scheme, lower-case host, optional port; no path, query, user info
/// or trailing slash. `postMessage` delivers only to a window of that origin.
pub fn parse_origin(value: &str) -> Option<&str> {
    let authority = value
        .strip_prefix("https://")
        .or_else(|| value.strip_prefix("http://"))?;
    let (host_ok, port) = if let Some(rest) = authority.strip_prefix('[') {
        // An IPv6 literal: `[::1]` or `[::1]:8080`.
        let (address, after) = rest.split_once(']')?;
        let port = match after {
            "" => None,
            after => Some(after.strip_prefix(':')?),
        };
        let ok = !address.is_empty()
            && address
                .bytes()
                .all(|b| b.is_ascii_hexdigit() || b == b':' || b == b'.');
        (ok, port)
    } else {
        let (host, port) = match authority.split_once(':') {
            Some((host, port)) => (host, Some(port)),
            None => (authority, None),
        };
        let ok = !host.is_empty()
            && host.len() <= 253
            && host
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'.' || b == b'-');
        (ok, port)
    };
    let port_ok = port.is_none_or(|port| {
        !port.is_empty() && port.len() <= 5 && port.bytes().all(|b| b.is_ascii_digit())
    });
    (host_ok && port_ok).then_some(value)
}

struct Poster {
    parent: Window,
    origin: String,
    session: String,
    last_height: Cell<i32>,
    challenge: Cell<bool>,
}

impl Poster {
    fn post(&self, message: &Object) {
        // Fails only for an origin the browser cannot parse, which parse_origin rules out.
        let _ = self.parent.post_message(message, &self.origin);
    }

    fn resize(&self) {
        let Some(body) = web_sys::window()
            .and_then(|w| w.document())
            .and_then(|d| d.body())
        else {
            return;
        };
        let mut height = body.scroll_height();
        if self.challenge.get() {
            height = height.max(CHALLENGE_MIN_HEIGHT);
        }
        if height != self.last_height.get() {
            self.last_height.set(height);
            self.post(&object(&[
                ("type", "paygate:resize".into()),
                ("height", height.into()),
            ]));
        }
    }
}

/// The link to the parent page; `None` when the widget is not embedded.
pub struct Embed {
    poster: Rc<Poster>,
    _observer: Option<ResizeObserver>,
    /// Called by the ResizeObserver, which lives as long as this value.
    _on_resize: Closure<dyn FnMut()>,
}

impl Embed {
    /// Reads `?embed=1&parent_origin=...`. Marks the document `pg-embed` (a layout without page
    /// margins) whenever `embed=1`, and starts reporting the height when the origin is usable.
    pub fn from_location(session: &str) -> Option<Embed> {
        let window = web_sys::window()?;
        let params = UrlSearchParams::new_with_str(&window.location().search().ok()?).ok()?;
        if params.get("embed").as_deref() != Some("1") {
            return None;
        }
        let document = window.document()?;
        if let Some(root) = document.document_element() {
            let _ = root.class_list().add_1("pg-embed");
        }
        let origin = parse_origin(&params.get("parent_origin")?)?.to_owned();
        let parent = window.parent().ok().flatten()?;
        let (parent_value, own_value): (&JsValue, &JsValue) = (parent.as_ref(), window.as_ref());
        if parent_value == own_value {
            return None; // not in a frame after all
        }
        let poster = Rc::new(Poster {
            parent,
            origin,
            session: session.to_owned(),
            last_height: Cell::new(-1),
            challenge: Cell::new(false),
        });
        let on_resize = Closure::<dyn FnMut()>::new({
            let poster = poster.clone();
            move || poster.resize()
        });
        let observer = ResizeObserver::new(on_resize.as_ref().unchecked_ref()).ok();
        if let (Some(observer), Some(body)) = (&observer, document.body()) {
            observer.observe(&body);
        }
        Some(Embed {
            poster,
            _observer: observer,
            _on_resize: on_resize,
        })
    }

    /// While Stripe's 3-D Secure modal is open the frame asks to be tall enough for it.
    pub fn set_challenge(&self, open: bool) {
        self.poster.challenge.set(open);
        self.poster.resize();
    }

    /// Posts `{type, session, ...fields}` to the parent page.
    pub fn post(&self, event: EmbedEvent, fields: &[(&str, &str)]) {
        let message = object(&[
            ("type", event.message_type().into()),
            ("session", self.poster.session.as_str().into()),
        ]);
        for (key, value) in fields {
            let _ = js_sys::Reflect::set(&message, &(*key).into(), &(*value).into());
        }
        self.poster.post(&message);
    }
}

#[cfg(test)]
mod tests {
    use super::parse_origin;

    #[test]
    fn accepts_serialized_origins_only() {
        for origin in [
            "https://shop.example",
            "http://localhost:8080",
            "http://127.0.0.1:3000",
            "https://xn--bcher-kva.example",
            "http://[::1]:8080",
        ] {
            assert_eq!(parse_origin(origin), Some(origin), "{origin}");
        }
        for bad in [
            "*",
            "",
            "null",
            "https://",
            "https://shop.example/",
            "https://shop.example/path",
            "https://Shop.example",
            "https://user@shop.example",
            "https://shop.example:",
            "https://shop.example:80a",
            "javascript:alert(1)",
            "ftp://shop.example",
            "https://shop.example?x",
            "https://a:b:c",
        ] {
            assert_eq!(parse_origin(bad), None, "{bad}");
        }
    }
}
