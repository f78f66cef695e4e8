//! The checkout widget's rendering, in headless Chromium. Each test mounts [`CheckoutView`] with
//! a fixed state into its own element and reads the DOM. Sessions are written as the JSON the
//! server sends, so the tests also pin the wire format the widget understands.
//!
//! Run: CHROMEDRIVER=/usr/bin/chromedriver \
//!      CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUNNER=wasm-bindgen-test-runner \
//!      cargo test -p paygate-frontend --target wasm32-unknown-unknown
#![cfg(target_arch = "wasm32")]

use leptos::mount::mount_to;
use leptos::prelude::*;
use paygate_frontend::{CheckoutPage, CheckoutState, CheckoutView, LoadError};
use shared::api::WidgetSession;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use wasm_bindgen::JsCast;
use wasm_bindgen_test::*;
use web_sys::HtmlElement;

wasm_bindgen_test_configure!(run_in_browser);

/// A fresh element under <body> to mount into.
fn container() -> HtmlElement {
    let document = document();
    let element = document.create_element("div").unwrap();
    document.body().unwrap().append_child(&element).unwrap();
    element.unchecked_into()
}

fn text(root: &HtmlElement, selector: &str) -> Option<String> {
    root.query_selector(selector)
        .unwrap()
        .map(|element| element.text_content().unwrap_or_default())
}

/// Lets Leptos apply pending updates until `done` holds (no fixed sleeps).
async fn until(root: &HtmlElement, done: impl Fn(&HtmlElement) -> bool) {
    for _ in 0..50 {
        if done(root) {
            return;
        }
        leptos::task::tick().await;
    }
    panic!("condition not met; DOM: {}", root.inner_html());
}

/// Mounts the view with `state` and waits for the first render.
async fn render(state: CheckoutState) -> HtmlElement {
    render_with_retry(state, None).await
}

async fn render_with_retry(state: CheckoutState, on_retry: Option<Callback<()>>) -> HtmlElement {
    let root = container();
    let handle = mount_to(root.clone(), move || match on_retry {
        Some(on_retry) => view! { <CheckoutView state on_retry /> }.into_any(),
        None => view! { <CheckoutView state /> }.into_any(),
    });
    // Keep the view mounted for the rest of the test page's life.
    std::mem::forget(handle);
    until(&root, |root| {
        root.query_selector("#pg-message").unwrap().is_some()
    })
    .await;
    root
}

fn session(json: &str) -> CheckoutState {
    CheckoutState::Loaded(Box::new(
        serde_json::from_str::<WidgetSession>(json).unwrap(),
    ))
}

const PROVIDERS: &str = r#"[
    {"provider": "stripe", "public_key": "pk_test_1", "script_url": "http://127.0.0.1:1/v3/"},
    {"provider": "paypal", "public_key": "client_1", "script_url": "http://127.0.0.1:1/sdk/js"}
]"#;

fn jpy_session(status: &str) -> CheckoutState {
    session(&format!(
        r#"{{"id": "cs_jpy", "merchant_name": "Kyoto Tea House", "description": "Matcha set",
            "amount": "1000", "currency": "JPY", "amount_minor": 1000,
            "line_items": [], "status": "{status}", "providers": {PROVIDERS},
            "expires_at": 1900000000}}"#
    ))
}

#[wasm_bindgen_test]
async fn jpy_amount_has_no_decimals() {
    let root = render(jpy_session("open")).await;
    assert_eq!(text(&root, "#pg-amount").as_deref(), Some("¥1,000"));
    assert_eq!(
        text(&root, "#pg-merchant").as_deref(),
        Some("Kyoto Tea House")
    );
    assert_eq!(
        text(&root, "#pg-description").as_deref(),
        Some("Matcha set")
    );
    assert_eq!(text(&root, "#pg-message").as_deref(), Some(""));
}

#[wasm_bindgen_test]
async fn kwd_amount_has_three_decimals() {
    let root = render(session(
        r#"{"id": "cs_kwd", "merchant_name": "Gulf Books",
            "amount": "1.230", "currency": "KWD", "amount_minor": 1230,
            "line_items": [], "status": "open", "providers": [], "expires_at": 1900000000}"#,
    ))
    .await;
    assert_eq!(text(&root, "#pg-amount").as_deref(), Some("KWD 1.230"));
    // No description was given: no empty paragraph either.
    assert_eq!(text(&root, "#pg-description"), None);
}

#[wasm_bindgen_test]
async fn open_session_lists_line_items_and_providers_without_paying() {
    let root = render(session(&format!(
        r#"{{"id": "cs_usd", "merchant_name": "Corner Shop",
            "amount": "19.99", "currency": "USD", "amount_minor": 1999,
            "line_items": [
              {{"name": "Coffee", "quantity": 2,
                "unit_amount": {{"amount": "4.50", "currency": "USD", "amount_minor": 450}},
                "total": {{"amount": "9.00", "currency": "USD", "amount_minor": 900}}}},
              {{"name": "Cake", "quantity": 1,
                "unit_amount": {{"amount": "10.99", "currency": "USD", "amount_minor": 1099}},
                "total": {{"amount": "10.99", "currency": "USD", "amount_minor": 1099}}}}
            ],
            "status": "open", "providers": {PROVIDERS}, "expires_at": 1900000000}}"#
    )))
    .await;
    assert_eq!(text(&root, "#pg-amount").as_deref(), Some("$19.99"));
    let items = text(&root, "#pg-line-items").unwrap();
    assert!(
        items.contains("Coffee × 2") && items.contains("$9.00"),
        "{items}"
    );
    assert!(
        items.contains("Cake × 1") && items.contains("$10.99"),
        "{items}"
    );

    let methods = text(&root, "#pg-methods").unwrap();
    assert!(methods.contains("Payment methods"), "{methods}");
    assert!(
        methods.contains("Stripe") && methods.contains("PayPal"),
        "{methods}"
    );
    // Names only for now: nothing in the methods section can be clicked.
    let clickable = root.query_selector("#pg-methods :is(button, a, input, [tabindex])");
    assert!(clickable.unwrap().is_none());
}

#[wasm_bindgen_test]
async fn expired_session_shows_message_and_no_payment_ui() {
    let root = render(jpy_session("expired")).await;
    assert_eq!(
        text(&root, "#pg-message").as_deref(),
        Some("This checkout has expired.")
    );
    assert_eq!(text(&root, "#pg-methods"), None);
    assert!(root.query_selector("button").unwrap().is_none());
}

#[wasm_bindgen_test]
async fn complete_session_says_it_is_paid() {
    let root = render(jpy_session("complete")).await;
    assert_eq!(
        text(&root, "#pg-message").as_deref(),
        Some("This checkout has already been paid.")
    );
    assert_eq!(text(&root, "#pg-methods"), None);
}

#[wasm_bindgen_test]
async fn status_region_is_announced_politely() {
    let root = render(CheckoutState::Loading).await;
    let message = root.query_selector("#pg-message").unwrap().unwrap();
    assert_eq!(
        message.get_attribute("aria-live").as_deref(),
        Some("polite")
    );
    assert_eq!(message.text_content().as_deref(), Some("Loading checkout…"));
    assert_eq!(text(&root, "#pg-amount"), None);
}

#[wasm_bindgen_test]
async fn unknown_session_says_the_link_is_not_valid() {
    let root = render(CheckoutState::Failed(LoadError::NotFound)).await;
    assert_eq!(
        text(&root, "#pg-message").as_deref(),
        Some("This checkout link is not valid.")
    );
    // Retrying cannot make an unknown session appear.
    assert_eq!(text(&root, "#pg-retry"), None);
}

#[wasm_bindgen_test]
async fn load_failure_offers_retry() {
    let retries = Arc::new(AtomicUsize::new(0));
    let counter = retries.clone();
    let on_retry = Callback::new(move |()| {
        counter.fetch_add(1, Ordering::SeqCst);
    });
    let root = render_with_retry(
        CheckoutState::Failed(LoadError::Unavailable),
        Some(on_retry),
    )
    .await;
    assert_eq!(
        text(&root, "#pg-message").as_deref(),
        Some("We could not load this checkout. Please try again.")
    );
    let retry: HtmlElement = root
        .query_selector("#pg-retry")
        .unwrap()
        .unwrap()
        .unchecked_into();
    assert_eq!(retry.text_content().as_deref(), Some("Retry"));
    retry.click();
    assert_eq!(retries.load(Ordering::SeqCst), 1);
}

/// The page itself: the test runner's URL names no session, so no request is made and the
/// page says the link is not valid.
#[wasm_bindgen_test]
async fn page_without_a_session_id_says_the_link_is_not_valid() {
    let root = container();
    std::mem::forget(mount_to(root.clone(), CheckoutPage));
    until(&root, |root| {
        text(root, "#pg-message").as_deref() == Some("This checkout link is not valid.")
    })
    .await;
}
