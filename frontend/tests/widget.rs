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
use paygate_frontend::messages;
use paygate_frontend::stripe_js::{Appearance, ChangeEvent, ConfirmResult, StripeError};
use paygate_frontend::{
    load_script, CheckoutPage, CheckoutState, CheckoutView, LoadError, Method, Notice, PayActions,
    PayState, Phase,
};
use shared::api::{CheckoutSessionStatus, WidgetSession};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use wasm_bindgen_test::*;
use web_sys::{HtmlButtonElement, HtmlElement, HtmlInputElement};

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

/// Waits `ms` milliseconds of real time (lets timers, such as the focus move, run).
async fn sleep(ms: i32) {
    let promise = js_sys::Promise::new(&mut |resolve, _| {
        web_sys::window()
            .unwrap()
            .set_timeout_with_callback_and_timeout_and_arguments_0(&resolve, ms)
            .unwrap();
    });
    JsFuture::from(promise).await.unwrap();
}

/// Waits until the focused element is `selector` inside `root`.
async fn until_focused(root: &HtmlElement, selector: &str) {
    let expected = root.query_selector(selector).unwrap().expect(selector);
    for _ in 0..100 {
        if document().active_element().as_ref() == Some(&expected) {
            return;
        }
        sleep(10).await;
    }
    panic!(
        "{selector} never got focus; focused: {:?}",
        document().active_element().map(|e| e.outer_html())
    );
}

/// Mounts the view with `state` and waits for the first render.
async fn render(state: CheckoutState) -> HtmlElement {
    render_with_retry(state, None).await
}

/// Counts what the payment controls asked for.
#[derive(Default)]
struct Calls {
    selected: Mutex<Vec<Method>>,
    pay: AtomicUsize,
    again: AtomicUsize,
    check: AtomicUsize,
    cancel: AtomicUsize,
    saved: Mutex<Vec<Option<String>>>,
    save: AtomicUsize,
}

fn actions(calls: &Arc<Calls>) -> PayActions {
    let (a, b, c, d, e) = (
        calls.clone(),
        calls.clone(),
        calls.clone(),
        calls.clone(),
        calls.clone(),
    );
    PayActions {
        select: Callback::new(move |method| a.selected.lock().unwrap().push(method)),
        pay: Callback::new(move |()| {
            b.pay.fetch_add(1, Ordering::SeqCst);
        }),
        again: Callback::new(move |()| {
            c.again.fetch_add(1, Ordering::SeqCst);
        }),
        check: Callback::new(move |()| {
            d.check.fetch_add(1, Ordering::SeqCst);
        }),
        // Handled (as when embedded): the link is not followed, the test page stays.
        cancel: Callback::new(move |()| {
            e.cancel.fetch_add(1, Ordering::SeqCst);
            true
        }),
        use_saved: Callback::new({
            let calls = calls.clone();
            move |card| calls.saved.lock().unwrap().push(card)
        }),
        save_card: Callback::new({
            let calls = calls.clone();
            move |()| {
                calls.save.fetch_add(1, Ordering::SeqCst);
            }
        }),
    }
}

/// Mounts the view with a session and a payment state, and waits for the first render.
async fn render_paying(state: CheckoutState, pay: PayState, calls: &Arc<Calls>) -> HtmlElement {
    let root = container();
    let actions = actions(calls);
    let handle = mount_to(root.clone(), move || {
        view! { <CheckoutView state pay=Signal::stored(pay.clone()) actions /> }
    });
    std::mem::forget(handle);
    until(&root, |root| {
        root.query_selector("#pg-amount").unwrap().is_some()
    })
    .await;
    root
}

fn attr(root: &HtmlElement, selector: &str, name: &str) -> Option<String> {
    root.query_selector(selector)
        .unwrap()
        .unwrap_or_else(|| panic!("no {selector}"))
        .get_attribute(name)
}

fn button(root: &HtmlElement, selector: &str) -> HtmlButtonElement {
    root.query_selector(selector)
        .unwrap()
        .unwrap_or_else(|| panic!("no {selector}"))
        .unchecked_into()
}

fn radio(root: &HtmlElement, selector: &str) -> HtmlInputElement {
    root.query_selector(selector)
        .unwrap()
        .unwrap_or_else(|| panic!("no {selector}"))
        .unchecked_into()
}

fn hidden(root: &HtmlElement, selector: &str) -> bool {
    attr(root, selector, "hidden").is_some()
}

fn paying(method: Method, phase: Phase, notice: Option<Notice>) -> PayState {
    PayState {
        method: Some(method),
        phase,
        card_ready: true,
        unavailable: Vec::new(),
        notice,
        saved_card: None,
        save_card: false,
    }
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
    // Intl puts a no-break space between the code and the number.
    assert_eq!(text(&root, "#pg-amount").as_deref(), Some("KWD\u{a0}1.230"));
    // No description was given: no empty paragraph either.
    assert_eq!(text(&root, "#pg-description"), None);
}

fn usd_session(success_url: Option<&str>) -> CheckoutState {
    let success_url = success_url
        .map(|url| format!(r#", "success_url": "{url}""#))
        .unwrap_or_default();
    session(&format!(
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
            "status": "open", "providers": {PROVIDERS}, "expires_at": 1900000000{success_url}}}"#
    ))
}

#[wasm_bindgen_test]
async fn open_session_lists_line_items_and_offers_a_choice_of_methods() {
    let calls = Arc::new(Calls::default());
    let root = render_paying(usd_session(None), PayState::default(), &calls).await;
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
    assert_eq!(
        attr(&root, "#pg-checkout", "data-state").as_deref(),
        Some("ready")
    );

    // A labelled radio per provider, nothing chosen yet, no panel shown.
    let methods = text(&root, "#pg-methods").unwrap();
    assert!(methods.contains("Payment method"), "{methods}");
    let card = radio(&root, "#pg-method-card");
    let paypal = radio(&root, "#pg-method-paypal");
    assert_eq!(card.type_(), "radio");
    assert_eq!(card.name(), "pg-method");
    assert!(!card.checked() && !paypal.checked());
    assert!(!card.disabled() && !paypal.disabled());
    assert_eq!(
        text(&root, "label[for=pg-method-card]").as_deref(),
        Some("CardUnavailable")
    );
    assert!(hidden(&root, "label[for=pg-method-card] .pg-choice-note"));
    assert!(text(&root, "label[for=pg-method-paypal]")
        .unwrap()
        .starts_with("PayPal"));
    assert!(hidden(&root, "#pg-card-panel"));
    assert!(hidden(&root, "#pg-paypal-panel"));

    // Choosing (a click, or the arrow keys, fires `change`) asks the controller.
    card.click();
    paypal.click();
    assert_eq!(
        *calls.selected.lock().unwrap(),
        vec![Method::Card, Method::Paypal]
    );
}

#[wasm_bindgen_test]
async fn chosen_card_shows_the_card_form_and_a_pay_button() {
    let calls = Arc::new(Calls::default());
    let root = render_paying(
        usd_session(None),
        paying(Method::Card, Phase::Ready, None),
        &calls,
    )
    .await;
    assert!(radio(&root, "#pg-method-card").checked());
    assert!(!hidden(&root, "#pg-card-panel"));
    assert!(hidden(&root, "#pg-paypal-panel"));
    // The Payment Element's mount point, empty until Stripe.js mounts its frame.
    assert!(root
        .query_selector("#pg-card-panel #pg-card")
        .unwrap()
        .is_some());
    let pay = button(&root, "#pg-pay");
    assert_eq!(pay.text_content().as_deref(), Some("Pay $19.99"));
    assert!(!pay.disabled());
    pay.click();
    assert_eq!(calls.pay.load(Ordering::SeqCst), 1);
}

#[wasm_bindgen_test]
async fn pay_waits_for_the_card_form() {
    let calls = Arc::new(Calls::default());
    let state = PayState {
        card_ready: false,
        ..paying(
            Method::Card,
            Phase::Preparing,
            Some(Notice::info(messages::LOADING_CARD)),
        )
    };
    let root = render_paying(usd_session(None), state, &calls).await;
    assert_eq!(
        attr(&root, "#pg-checkout", "data-state").as_deref(),
        Some("preparing")
    );
    assert_eq!(
        text(&root, "#pg-message").as_deref(),
        Some(messages::LOADING_CARD)
    );
    assert!(button(&root, "#pg-pay").disabled());
    assert_eq!(
        attr(&root, "#pg-card-panel", "aria-busy").as_deref(),
        Some("true")
    );
    // While a method loads the choice stays usable: the chosen radio keeps the keyboard focus
    // and another method may be chosen.
    assert!(attr(&root, "#pg-methods fieldset", "disabled").is_none());
    radio(&root, "#pg-method-paypal").click();
    assert_eq!(*calls.selected.lock().unwrap(), vec![Method::Paypal]);
}

#[wasm_bindgen_test]
async fn chosen_paypal_shows_the_buttons_container() {
    let calls = Arc::new(Calls::default());
    let root = render_paying(
        usd_session(None),
        paying(Method::Paypal, Phase::Ready, None),
        &calls,
    )
    .await;
    assert!(radio(&root, "#pg-method-paypal").checked());
    assert!(!hidden(&root, "#pg-paypal-panel"));
    assert!(hidden(&root, "#pg-card-panel"));
    assert!(root
        .query_selector("#pg-paypal-panel #pg-paypal")
        .unwrap()
        .is_some());
}

#[wasm_bindgen_test]
async fn processing_disables_everything_and_says_busy() {
    let calls = Arc::new(Calls::default());
    let root = render_paying(
        usd_session(None),
        paying(
            Method::Card,
            Phase::Processing,
            Some(Notice::info(messages::PROCESSING)),
        ),
        &calls,
    )
    .await;
    assert_eq!(
        attr(&root, "#pg-checkout", "data-state").as_deref(),
        Some("processing")
    );
    assert_eq!(
        attr(&root, "#pg-checkout", "aria-busy").as_deref(),
        Some("true")
    );
    assert_eq!(
        text(&root, "#pg-message").as_deref(),
        Some(messages::PROCESSING)
    );
    let pay = button(&root, "#pg-pay");
    assert!(pay.disabled());
    assert_eq!(pay.get_attribute("aria-busy").as_deref(), Some("true"));
    assert_eq!(pay.text_content().as_deref(), Some("Processing…"));
    // The choice cannot change mid-payment.
    assert!(attr(&root, "#pg-methods fieldset", "disabled").is_some());
    pay.click();
    assert_eq!(calls.pay.load(Ordering::SeqCst), 0);
}

#[wasm_bindgen_test]
async fn three_d_secure_is_announced() {
    let calls = Arc::new(Calls::default());
    let root = render_paying(
        usd_session(None),
        paying(
            Method::Card,
            Phase::ThreeDSecure,
            Some(Notice::info(messages::THREE_D_SECURE)),
        ),
        &calls,
    )
    .await;
    assert_eq!(
        attr(&root, "#pg-checkout", "data-state").as_deref(),
        Some("three_d_secure")
    );
    assert_eq!(
        text(&root, "#pg-message").as_deref(),
        Some(messages::THREE_D_SECURE)
    );
    assert!(button(&root, "#pg-pay").disabled());
}

#[wasm_bindgen_test]
async fn declined_shows_the_providers_message_and_a_way_to_retry() {
    let calls = Arc::new(Calls::default());
    let declined = "Your card has insufficient funds.";
    let root = render_paying(
        usd_session(None),
        paying(Method::Card, Phase::Declined, Some(Notice::error(declined))),
        &calls,
    )
    .await;
    assert_eq!(
        attr(&root, "#pg-checkout", "data-state").as_deref(),
        Some("declined")
    );
    assert_eq!(text(&root, "#pg-message").as_deref(), Some(declined));
    assert_eq!(
        attr(&root, "#pg-message", "data-kind").as_deref(),
        Some("error")
    );
    assert!(attr(&root, "#pg-message", "class")
        .unwrap()
        .contains("pg-message-error"));
    // Focus goes to the message, so it is read out and the next Tab continues from there.
    until_focused(&root, "#pg-message").await;
    // Paying again: Try again, or the card form and Pay button, which stay usable.
    let retry = button(&root, "#pg-retry");
    assert_eq!(retry.text_content().as_deref(), Some("Try again"));
    retry.click();
    assert_eq!(calls.again.load(Ordering::SeqCst), 1);
    assert!(!hidden(&root, "#pg-methods"));
    assert!(!button(&root, "#pg-pay").disabled());
    assert!(!radio(&root, "#pg-method-paypal").disabled());
}

#[wasm_bindgen_test]
async fn success_shows_a_receipt_and_the_way_back_to_the_merchant() {
    let calls = Arc::new(Calls::default());
    let root = render_paying(
        usd_session(Some("https://shop.example/thanks?order=7")),
        paying(
            Method::Card,
            Phase::Succeeded {
                payment: "pay_0123456789".into(),
            },
            Some(Notice::info(messages::SUCCEEDED)),
        ),
        &calls,
    )
    .await;
    assert_eq!(
        attr(&root, "#pg-checkout", "data-state").as_deref(),
        Some("succeeded")
    );
    assert_eq!(
        text(&root, "#pg-message").as_deref(),
        Some(messages::SUCCEEDED)
    );
    assert_eq!(text(&root, "#pg-receipt-amount").as_deref(), Some("$19.99"));
    assert_eq!(
        text(&root, "#pg-receipt-merchant").as_deref(),
        Some("Corner Shop")
    );
    assert_eq!(
        text(&root, "#pg-receipt-reference").as_deref(),
        Some("pay_0123456789")
    );
    assert_eq!(
        attr(&root, "#pg-continue", "href").as_deref(),
        Some("https://shop.example/thanks?order=7")
    );
    assert_eq!(
        attr(&root, "#pg-continue", "target").as_deref(),
        Some("_top")
    );
    // No payment UI once paid.
    assert!(hidden(&root, "#pg-methods"));
    assert_eq!(text(&root, "#pg-retry"), None);
    until_focused(&root, "#pg-receipt").await;
}

#[wasm_bindgen_test]
async fn receipt_without_success_url_has_no_link_and_never_a_script_link() {
    let calls = Arc::new(Calls::default());
    let succeeded = paying(
        Method::Paypal,
        Phase::Succeeded {
            payment: "pay_1".into(),
        },
        None,
    );
    let root = render_paying(usd_session(None), succeeded.clone(), &calls).await;
    assert!(root.query_selector("#pg-receipt").unwrap().is_some());
    assert_eq!(text(&root, "#pg-continue"), None);
    let root = render_paying(usd_session(Some("javascript:alert(1)")), succeeded, &calls).await;
    assert_eq!(text(&root, "#pg-continue"), None);
}

#[wasm_bindgen_test]
async fn a_provider_script_that_failed_leaves_the_other_method_usable() {
    let calls = Arc::new(Calls::default());
    let failed = Method::Card.unavailable_message(true);
    let state = PayState {
        method: None,
        phase: Phase::Ready,
        card_ready: false,
        unavailable: vec![Method::Card],
        notice: Some(Notice::error(failed)),
        ..PayState::default()
    };
    let root = render_paying(usd_session(None), state, &calls).await;
    assert_eq!(text(&root, "#pg-message").as_deref(), Some(failed));
    assert!(failed.contains("could not be loaded"), "{failed}");
    until_focused(&root, "#pg-message").await;
    let card = radio(&root, "#pg-method-card");
    assert!(card.disabled());
    assert_eq!(
        attr(&root, "label[for=pg-method-card]", "data-available").as_deref(),
        Some("false")
    );
    assert!(!hidden(&root, "label[for=pg-method-card] .pg-choice-note"));
    let paypal = radio(&root, "#pg-method-paypal");
    assert!(!paypal.disabled());
    paypal.click();
    assert_eq!(*calls.selected.lock().unwrap(), vec![Method::Paypal]);
}

#[wasm_bindgen_test]
async fn session_that_closed_while_paying_shows_no_payment_ui() {
    let calls = Arc::new(Calls::default());
    for (status, state_name, message) in [
        (CheckoutSessionStatus::Expired, "expired", messages::EXPIRED),
        (CheckoutSessionStatus::Complete, "paid", messages::COMPLETE),
    ] {
        let root = render_paying(
            usd_session(None),
            paying(Method::Card, Phase::Closed(status), None),
            &calls,
        )
        .await;
        assert_eq!(
            attr(&root, "#pg-checkout", "data-state").as_deref(),
            Some(state_name)
        );
        assert_eq!(text(&root, "#pg-message").as_deref(), Some(message));
        assert!(hidden(&root, "#pg-methods"));
    }
}

#[wasm_bindgen_test]
async fn unknown_outcome_offers_a_check_not_a_second_payment() {
    let calls = Arc::new(Calls::default());
    let root = render_paying(
        usd_session(None),
        paying(
            Method::Card,
            Phase::Unconfirmed,
            Some(Notice::error(messages::UNCONFIRMED)),
        ),
        &calls,
    )
    .await;
    assert_eq!(
        attr(&root, "#pg-checkout", "data-state").as_deref(),
        Some("unconfirmed")
    );
    assert!(hidden(&root, "#pg-methods"));
    until_focused(&root, "#pg-message").await;
    button(&root, "#pg-check").click();
    assert_eq!(calls.check.load(Ordering::SeqCst), 1);
}

fn usd_session_with_cancel_url(url: &str) -> CheckoutState {
    let CheckoutState::Loaded(mut session) = usd_session(None) else {
        unreachable!()
    };
    session.cancel_url = Some(url.to_owned());
    CheckoutState::Loaded(session)
}

#[wasm_bindgen_test]
async fn cancel_link_leads_back_to_the_merchant_while_nothing_is_paid() {
    let calls = Arc::new(Calls::default());
    let root = render_paying(
        usd_session_with_cancel_url("https://shop.example/cart"),
        PayState::default(),
        &calls,
    )
    .await;
    assert_eq!(
        text(&root, "#pg-cancel").as_deref(),
        Some("Cancel and return to Corner Shop")
    );
    assert_eq!(
        attr(&root, "#pg-cancel", "href").as_deref(),
        Some("https://shop.example/cart")
    );
    assert_eq!(attr(&root, "#pg-cancel", "target").as_deref(), Some("_top"));
    root.query_selector("#pg-cancel")
        .unwrap()
        .unwrap()
        .unchecked_into::<HtmlElement>()
        .click();
    assert_eq!(calls.cancel.load(Ordering::SeqCst), 1);

    // Not while a payment is in flight, and never as a script link or without a cancel_url.
    let busy = render_paying(
        usd_session_with_cancel_url("https://shop.example/cart"),
        paying(Method::Card, Phase::Processing, None),
        &calls,
    )
    .await;
    assert!(hidden(&busy, ".pg-cancel-row"));
    let script = render_paying(
        usd_session_with_cancel_url("javascript:alert(1)"),
        PayState::default(),
        &calls,
    )
    .await;
    assert_eq!(text(&script, "#pg-cancel"), None);
    let none = render_paying(usd_session(None), PayState::default(), &calls).await;
    assert_eq!(text(&none, "#pg-cancel"), None);
}

#[wasm_bindgen_test]
async fn paypal_cancel_returns_to_the_choice_with_a_message() {
    let calls = Arc::new(Calls::default());
    let root = render_paying(
        usd_session(None),
        paying(
            Method::Paypal,
            Phase::Ready,
            Some(Notice::info(messages::PAYPAL_CANCELLED)),
        ),
        &calls,
    )
    .await;
    assert_eq!(
        attr(&root, "#pg-checkout", "data-state").as_deref(),
        Some("ready")
    );
    assert_eq!(
        text(&root, "#pg-message").as_deref(),
        Some(messages::PAYPAL_CANCELLED)
    );
    assert_eq!(
        attr(&root, "#pg-message", "data-kind").as_deref(),
        Some("info")
    );
    assert!(!radio(&root, "#pg-method-card").disabled());
}

// ---- provider bindings: result shapes and script loading, no provider involved ----------

fn json(text: &str) -> JsValue {
    js_sys::JSON::parse(text).unwrap()
}

#[wasm_bindgen_test]
fn confirm_payment_results_are_read_in_both_shapes() {
    let declined = ConfirmResult::from_js(&json(
        r#"{"error": {"type": "card_error", "code": "card_declined",
            "decline_code": "insufficient_funds", "message": "Your card has insufficient funds.",
            "payment_intent": {"id": "pi_1", "status": "requires_payment_method"}}}"#,
    ));
    let error = declined.error().unwrap();
    assert_eq!(error.kind, "card_error");
    assert_eq!(error.code.as_deref(), Some("card_declined"));
    assert_eq!(error.decline_code.as_deref(), Some("insufficient_funds"));
    assert_eq!(
        error.customer_message(),
        Some("Your card has insufficient funds.")
    );

    let confirmed = ConfirmResult::from_js(&json(
        r#"{"paymentIntent": {"id": "pi_2", "status": "succeeded", "amount": 1999}}"#,
    ));
    assert_eq!(
        confirmed,
        ConfirmResult::Confirmed {
            id: "pi_2".into(),
            status: "succeeded".into()
        }
    );

    // Messages of integration errors are not for customers.
    let api = StripeError::from_js(&json(
        r#"{"type": "invalid_request_error", "message": "No such payment_intent"}"#,
    ))
    .unwrap();
    assert_eq!(api.customer_message(), None);
    assert!(StripeError::from_js(&JsValue::UNDEFINED).is_none());
    // A failed 3-D Secure challenge comes as an invalid_request_error meant for developers.
    let authentication = StripeError::from_js(&json(
        r#"{"type": "invalid_request_error", "code": "payment_intent_authentication_failure",
            "message": "The provided PaymentMethod has failed authentication."}"#,
    ))
    .unwrap();
    assert_eq!(
        authentication.customer_message(),
        Some(messages::AUTHENTICATION_FAILED)
    );

    let change = ChangeEvent::from_js(&json(
        r#"{"elementType": "payment", "complete": true, "empty": false, "value": {"type": "card"}}"#,
    ));
    assert!(change.complete && !change.empty);
}

#[wasm_bindgen_test]
fn theme_custom_properties_become_stripe_appearance_variables() {
    let element = container();
    let style = element.style();
    style.set_property("--pg-color-primary", "#123456").unwrap();
    style.set_property("--pg-radius", "12px").unwrap();
    style
        .set_property("--pg-font-family", "Georgia,\n    serif")
        .unwrap();
    let appearance = Appearance::from_css(&element);
    let get = |name: &str| {
        appearance
            .variables
            .iter()
            .find(|(variable, _)| *variable == name)
            .map(|(_, value)| value.clone())
    };
    assert_eq!(get("colorPrimary").as_deref(), Some("#123456"));
    assert_eq!(get("borderRadius").as_deref(), Some("12px"));
    assert!(get("fontFamily").unwrap().starts_with("Georgia"));
    // Not set on this element (the test page has no widget.css): left to Stripe's default.
    assert_eq!(get("colorText"), None);
    let js = appearance.to_js();
    let variables = js_sys::Reflect::get(&js, &"variables".into()).unwrap();
    assert_eq!(
        js_sys::Reflect::get(&variables, &"colorPrimary".into())
            .unwrap()
            .as_string()
            .as_deref(),
        Some("#123456")
    );
}

#[wasm_bindgen_test]
async fn a_provider_script_that_cannot_load_is_an_error() {
    // Nothing listens on port 1: the script element fires `error`.
    assert!(load_script("http://127.0.0.1:1/v3/", 10_000).await.is_err());
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

/// Amounts follow the customer's language, from the exact decimal (never a float): German
/// puts the euro sign last with a decimal comma, Japanese yen has no decimals, Kuwaiti dinar
/// three, and a 17-digit amount keeps every digit.
#[wasm_bindgen_test]
fn amounts_are_formatted_for_the_browsers_language() {
    use paygate_frontend::locale::format_in;
    use shared::{Currency, Money};
    let de = JsValue::from_str("de-DE");
    assert_eq!(
        format_in(Money::from_minor(123_456, Currency::EUR), &de),
        "1.234,56\u{a0}€"
    );
    assert_eq!(
        format_in(Money::from_minor(1000, Currency::JPY), &de),
        "1.000\u{a0}¥"
    );
    let en = JsValue::from_str("en-US");
    assert_eq!(
        format_in(Money::from_minor(1230, Currency::KWD), &en),
        "KWD\u{a0}1.230"
    );
    assert_eq!(
        format_in(
            Money::from_minor(12_345_678_901_234_567, Currency::USD),
            &en
        ),
        "$123,456,789,012,345.67"
    );
}

fn customer_session(save: &str) -> CheckoutState {
    session(&format!(
        r#"{{"id": "cs_cus", "merchant_name": "Corner Shop", "amount": "19.99",
            "currency": "USD", "amount_minor": 1999, "line_items": [], "status": "open",
            "providers": {PROVIDERS}, "expires_at": 1900000000, "save_payment_method": "{save}",
            "saved_cards": [
              {{"id": "pm_new", "label": "Visa •••• 4242, expires 03/2031"}},
              {{"id": "pm_old", "label": "Mastercard •••• 4444, expires 12/2030"}}
            ]}}"#
    ))
}

#[wasm_bindgen_test]
async fn a_returning_customer_sees_their_saved_cards_and_may_use_a_new_one() {
    let calls = Arc::new(Calls::default());
    let pay = PayState {
        saved_card: Some("pm_new".into()),
        ..paying(Method::Card, Phase::Ready, None)
    };
    let root = render_paying(customer_session("optional"), pay, &calls).await;
    // Masked: brand, last four digits and expiry only.
    assert_eq!(
        text(&root, "label:has(#pg-saved-0)").as_deref(),
        Some("Visa •••• 4242, expires 03/2031")
    );
    assert_eq!(
        text(&root, "label:has(#pg-saved-1)").as_deref(),
        Some("Mastercard •••• 4444, expires 12/2030")
    );
    assert!(radio(&root, "#pg-saved-0").checked());
    assert!(!radio(&root, "#pg-saved-new").checked());
    // Paying with a saved card: no card form, no "save" box.
    assert!(hidden(&root, "#pg-card"));
    assert!(hidden(&root, "label:has(#pg-save-card)"));

    radio(&root, "#pg-saved-1").click();
    radio(&root, "#pg-saved-new").click();
    assert_eq!(
        *calls.saved.lock().unwrap(),
        vec![Some("pm_old".to_string()), None]
    );
}

#[wasm_bindgen_test]
async fn a_new_card_may_be_saved_when_the_merchant_lets_the_customer_choose() {
    let calls = Arc::new(Calls::default());
    let root = render_paying(
        customer_session("optional"),
        paying(Method::Card, Phase::Ready, None),
        &calls,
    )
    .await;
    assert!(!hidden(&root, "#pg-card"));
    assert!(!hidden(&root, "label:has(#pg-save-card)"));
    assert_eq!(
        text(&root, "label:has(#pg-save-card)").as_deref(),
        Some(messages::SAVE_CARD)
    );
    let save = radio(&root, "#pg-save-card");
    assert!(!save.checked(), "not saved unless the customer asks");
    save.click();
    assert!(save.checked());
    assert_eq!(calls.save.load(Ordering::SeqCst), 1);

    // A merchant who always saves says so instead of asking.
    let root = render_paying(
        customer_session("always"),
        paying(Method::Card, Phase::Ready, None),
        &calls,
    )
    .await;
    assert!(root.query_selector("#pg-save-card").unwrap().is_none());
    assert_eq!(
        text(&root, "#pg-save-note").as_deref(),
        Some(messages::CARD_WILL_BE_SAVED)
    );
}

#[wasm_bindgen_test]
async fn a_session_that_only_saves_a_card_charges_nothing_and_says_so() {
    let calls = Arc::new(Calls::default());
    let setup = session(&format!(
        r#"{{"id": "cs_setup", "merchant_name": "Corner Shop", "amount": "0.00",
            "currency": "USD", "amount_minor": 0, "line_items": [], "status": "open",
            "providers": {PROVIDERS}, "expires_at": 1900000000,
            "save_payment_method": "always", "saved_cards": [], "setup": true}}"#
    ));
    let root = render_paying(setup, paying(Method::Card, Phase::Ready, None), &calls).await;
    // No amount is shown as owed: nothing is charged, and the button saves the card.
    assert_eq!(
        text(&root, "#pg-amount").as_deref(),
        Some("No charge today")
    );
    assert_eq!(text(&root, "#pg-pay").as_deref(), Some("Save card"));
    assert_eq!(
        text(&root, "#pg-save-note").as_deref(),
        Some(messages::CARD_WILL_BE_SAVED)
    );
    // A payment session of the same customer still shows its amount and "Pay".
    let root = render_paying(
        customer_session("always"),
        paying(Method::Card, Phase::Ready, None),
        &calls,
    )
    .await;
    assert_eq!(text(&root, "#pg-amount").as_deref(), Some("$19.99"));
    assert_eq!(text(&root, "#pg-pay").as_deref(), Some("Pay $19.99"));
}
