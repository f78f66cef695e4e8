//! paygate's browser code, compiled to WebAssembly with Leptos (client-side rendering).
//!
//! Two entry points, each its own binary and Trunk build so that neither weighs on the other:
//! - [`CheckoutPage`]: the checkout widget served at `/checkout/{session_id}`;
//! - [`ConsoleApp`]: the admin console served at `/admin`.
//!
//! The widget splits fetching ([`CheckoutPage`]) from rendering ([`CheckoutView`], which takes a
//! [`CheckoutState`] and a [`PayState`] value), so the rendering can be tested in a browser
//! without a server or a provider.
//!
//! Both apps read ids and failed responses through one module, `http` (private), and JSON with
//! the browser's parser through `json` (the widget reads all its answers that way).

pub mod console;
mod http;
mod json;
mod widget;

pub use console::ConsoleApp;
pub use widget::{
    load_script, locale, messages, parse_origin, paypal_js, session_id_from_path, stripe_js,
    CheckoutPage, CheckoutState, CheckoutView, LoadError, Method, Notice, PayActions, PayState,
    Phase,
};
