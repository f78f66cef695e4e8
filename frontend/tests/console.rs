//! The admin console in headless Chromium. Parts are mounted on their own with fixed data
//! (totals, chart, detail, audit, webhook pages); whole flows mount [`ConsoleApp`] against a stand-in for the
//! browser's `fetch` that answers as the admin API does (bodies written as the JSON the server
//! sends, so these tests also pin the wire format) and records every request.
//!
//! Run: CHROMEDRIVER=/usr/bin/chromedriver \
//!      CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUNNER=wasm-bindgen-test-runner \
//!      cargo test -p paygate-frontend --target wasm32-unknown-unknown --test console
#![cfg(target_arch = "wasm32")]

use leptos::mount::mount_to;
use leptos::prelude::*;
use paygate_frontend::console::audit::{AuditPage as AuditLog, AuditTable};
use paygate_frontend::console::chart::{DailyChart, PLOT_HEIGHT};
use paygate_frontend::console::deliveries::EndpointPage;
use paygate_frontend::console::detail::{PaymentDetailView, PaymentPage};
use paygate_frontend::console::history::Totals;
use paygate_frontend::console::query::{export_csv_url, history_from_search, history_to_search};
use paygate_frontend::console::webhooks::WebhooksPage;
use paygate_frontend::console::{Console, Route, SessionState};
use paygate_frontend::ConsoleApp;
use shared::api::admin::{AuditPage, CurrencyTotal, DailyStats, HistoryQuery, PaymentDetail};
use shared::api::{PaymentStatus, ProviderName};
use std::cell::{Cell, RefCell};
use std::rc::Rc;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::{future_to_promise, JsFuture};
use wasm_bindgen_test::*;
use web_sys::{
    Event, EventInit, Headers, HtmlElement, HtmlInputElement, HtmlSelectElement, Request, Response,
    ResponseInit,
};

wasm_bindgen_test_configure!(run_in_browser);

// ---------------------------------------------------------------------------------------------
// DOM helpers

fn container() -> HtmlElement {
    let element = document().create_element("div").unwrap();
    document().body().unwrap().append_child(&element).unwrap();
    element.unchecked_into()
}

fn find(root: &HtmlElement, selector: &str) -> Option<web_sys::Element> {
    root.query_selector(selector).unwrap()
}

fn get<T: JsCast>(root: &HtmlElement, selector: &str) -> T {
    find(root, selector)
        .unwrap_or_else(|| panic!("no {selector} in {}", root.inner_html()))
        .unchecked_into()
}

fn text(root: &HtmlElement, selector: &str) -> String {
    find(root, selector)
        .unwrap_or_else(|| panic!("no {selector} in {}", root.inner_html()))
        .text_content()
        .unwrap_or_default()
}

fn texts(root: &HtmlElement, selector: &str) -> Vec<String> {
    let list = root.query_selector_all(selector).unwrap();
    (0..list.length())
        .filter_map(|i| list.item(i))
        .map(|node| node.text_content().unwrap_or_default())
        .collect()
}

fn attrs(root: &HtmlElement, selector: &str, name: &str) -> Vec<String> {
    let list = root.query_selector_all(selector).unwrap();
    (0..list.length())
        .filter_map(|i| list.item(i))
        .map(|node| {
            node.unchecked_into::<web_sys::Element>()
                .get_attribute(name)
                .unwrap_or_else(|| panic!("{selector} without {name}"))
        })
        .collect()
}

async fn sleep(ms: i32) {
    let promise = js_sys::Promise::new(&mut |resolve, _| {
        window()
            .set_timeout_with_callback_and_timeout_and_arguments_0(&resolve, ms)
            .unwrap();
    });
    JsFuture::from(promise).await.unwrap();
}

/// Waits (up to about 3 s of real time, never a fixed sleep) until `done` holds.
async fn until(what: &str, root: &HtmlElement, done: impl Fn() -> bool) {
    for _ in 0..600 {
        if done() {
            return;
        }
        sleep(5).await;
    }
    panic!("timed out waiting for {what}; DOM: {}", root.inner_html());
}

/// Waits until `selector` (inside `root`) has keyboard focus.
async fn until_focused(root: &HtmlElement, selector: &str) {
    let element = get::<web_sys::Element>(root, selector);
    until(&format!("focus on {selector}"), root, || {
        document().active_element().as_ref() == Some(&element)
    })
    .await;
}

/// Fires a bubbling event, as the browser does after a person's input.
fn fire(element: &web_sys::Element, kind: &str) {
    let init = EventInit::new();
    init.set_bubbles(true);
    let event = Event::new_with_event_init_dict(kind, &init).unwrap();
    element.dispatch_event(&event).unwrap();
}

fn type_into(root: &HtmlElement, selector: &str, value: &str) {
    let input: HtmlInputElement = get(root, selector);
    input.set_value(value);
    fire(&input, "input");
}

fn choose(root: &HtmlElement, selector: &str, value: &str) {
    let select: HtmlSelectElement = get(root, selector);
    select.set_value(value);
    fire(&select, "change");
}

fn click(root: &HtmlElement, selector: &str) {
    get::<HtmlElement>(root, selector).click();
}

fn location() -> (String, String) {
    let location = window().location();
    (location.pathname().unwrap(), location.search().unwrap())
}

/// Puts the test page at `url` for the app to read, and back where it was when dropped.
struct AtUrl(String);

impl AtUrl {
    fn new(url: &str) -> AtUrl {
        let original = window().location().href().unwrap();
        set_url(url);
        AtUrl(original)
    }
}

impl Drop for AtUrl {
    fn drop(&mut self) {
        set_url(&self.0);
    }
}

fn set_url(url: &str) {
    window()
        .history()
        .unwrap()
        .replace_state_with_url(&JsValue::NULL, "", Some(url))
        .unwrap();
}

// ---------------------------------------------------------------------------------------------
// A stand-in for `fetch`: the admin API as these tests need it

#[derive(Debug, Clone)]
struct Call {
    method: String,
    /// Path and query, without the origin.
    url: String,
    csrf: Option<String>,
    idempotency_key: Option<String>,
    credentials: String,
    body: String,
}

impl Call {
    fn path(&self) -> &str {
        self.url.split('?').next().unwrap_or_default()
    }

    fn is(&self, method: &str, path: &str) -> bool {
        self.method == method && self.path() == path
    }
}

struct Reply {
    status: u16,
    body: String,
    headers: Vec<(&'static str, String)>,
}

fn reply(status: u16, body: &str) -> Reply {
    Reply {
        status,
        body: body.to_string(),
        headers: vec![("content-type", "application/json".to_string())],
    }
}

fn problem(status: u16, code: &str, detail: &str, param: Option<&str>) -> Reply {
    let param = param
        .map(|p| format!(r#", "param": "{p}""#))
        .unwrap_or_default();
    reply(
        status,
        &format!(
            r#"{{"type": "https://paygate.dev/errors/{code}", "title": "Problem", "status": {status},
                "detail": "{detail}", "code": "{code}"{param}}}"#
        ),
    )
}

type Calls = Rc<RefCell<Vec<Call>>>;

/// Replaces `window.fetch` with `handler`; returns the log of requests.
fn serve(handler: impl Fn(&Call) -> Reply + 'static) -> Calls {
    let calls: Calls = Rc::default();
    let handler = Rc::new(handler);
    let log = calls.clone();
    let fetch = Closure::<dyn FnMut(JsValue) -> js_sys::Promise>::new(move |input: JsValue| {
        let request: Request = input.unchecked_into();
        let handler = handler.clone();
        let log = log.clone();
        future_to_promise(async move {
            let body = JsFuture::from(request.text()?)
                .await?
                .as_string()
                .unwrap_or_default();
            let origin = window().location().origin()?;
            let url = request.url();
            let call = Call {
                method: request.method(),
                url: url.strip_prefix(&origin).unwrap_or(&url).to_string(),
                csrf: request.headers().get("x-csrf-token")?,
                idempotency_key: request.headers().get("idempotency-key")?,
                credentials: format!("{:?}", request.credentials()),
                body,
            };
            log.borrow_mut().push(call.clone());
            let answer = handler(&call);
            let init = ResponseInit::new();
            init.set_status(answer.status);
            let headers = Headers::new()?;
            for (name, value) in &answer.headers {
                headers.set(name, value)?;
            }
            init.set_headers(&headers);
            let body = (answer.status != 204).then_some(answer.body.as_str());
            Ok(Response::new_with_opt_str_and_init(body, &init)?.into())
        })
    });
    js_sys::Reflect::set(&window(), &JsValue::from_str("fetch"), fetch.as_ref()).unwrap();
    fetch.forget();
    calls
}

fn calls_to(calls: &Calls, method: &str, path: &str) -> Vec<Call> {
    calls
        .borrow()
        .iter()
        .filter(|c| c.is(method, path))
        .cloned()
        .collect()
}

const SESSION: &str =
    r#"{"email": "ops@example.com", "csrf_token": "csrf_tok_1", "expires_at": 1893456000000}"#;

const HISTORY: &str = r#"{
    "data": [
      {"id": "pay_1", "provider": "stripe", "provider_reference": "pi_3ABC", "status": "succeeded",
       "amount": {"amount": "19.99", "currency": "USD", "amount_minor": 1999},
       "refunded_minor": 500, "description": "Blue mug", "customer_email": "ann@example.com",
       "created_at": 1793664000000},
      {"id": "pay_2", "provider": "paypal", "provider_reference": null, "status": "failed",
       "amount": {"amount": "1000", "currency": "JPY", "amount_minor": 1000},
       "refunded_minor": 0, "description": null, "customer_email": null,
       "created_at": 1793660000000}
    ],
    "next_cursor": "cur_2",
    "totals": [
      {"currency": "USD", "count": 1, "amount_minor": 1999, "captured_minor": 1999, "refunded_minor": 500},
      {"currency": "JPY", "count": 1, "amount_minor": 1000, "captured_minor": 0, "refunded_minor": 0}
    ]
}"#;

const STATS: &str = r#"{"currency": "USD", "days": [
    {"day": "2026-11-01", "count": 2, "succeeded": 1, "failed": 1, "volume_minor": 1999},
    {"day": "2026-11-02", "count": 0, "succeeded": 0, "failed": 0, "volume_minor": 0}
]}"#;

fn detail_json(refunded_minor: i64, refundable_minor: i64, refunds: &str) -> String {
    let refundable = format!("{}.{:02}", refundable_minor / 100, refundable_minor % 100);
    format!(
        r#"{{
        "payment": {{"id": "pay_1", "provider": "stripe", "provider_reference": "pi_3ABC",
            "status": "succeeded", "amount": "19.99", "currency": "USD", "amount_minor": 1999,
            "captured_minor": 1999, "refunded_minor": {refunded_minor}, "capture_mode": "automatic",
            "description": "Blue mug", "customer": "cus_9", "metadata": {{"order": "A-17"}},
            "created": 1793664000, "updated": 1793664060}},
        "customer_email": "ann@example.com",
        "refundable": {{"amount": "{refundable}", "currency": "USD", "amount_minor": {refundable_minor}}},
        "timeline": [
            {{"at": 1793664000000, "cause": "api", "kind": "created", "from_status": null,
              "to_status": "requires_payment_method", "detail": {{}}}},
            {{"at": 1793664030000, "cause": "webhook", "kind": "status_changed",
              "from_status": "requires_payment_method", "to_status": "succeeded",
              "detail": {{"event": "evt_1"}}}},
            {{"at": 1793664060000, "cause": "admin", "kind": "refund_created", "from_status": null,
              "to_status": null, "detail": {{"refund": "re_1", "by": "ops@example.com"}}}}
        ],
        "refunds": [{refunds}],
        "provider_events": [
            {{"provider": "stripe", "event_id": "evt_1", "event_type": "payment_intent.succeeded",
              "received_at": 1793664030000, "processed_at": 1793664031000, "outcome": "applied",
              "payload": {{"id": "evt_1", "type": "payment_intent.succeeded",
                          "data": {{"object": {{"id": "pi_3ABC", "amount": 1999}}}}}}}},
            {{"provider": "stripe", "event_id": "evt_2", "event_type": "charge.refunded",
              "received_at": 1793664070000, "processed_at": 1793664071000, "outcome": "applied",
              "payload": {{"id": "evt_2", "type": "charge.refunded", "api_version": "2025-03-31.basil"}},
              "note": "Rendered at Stripe API version 2025-03-31.basil, not the pinned 2024-06-20: applied only from a re-read of its object."}}
        ]
    }}"#
    )
}

const REFUND_1: &str = r#"{"id": "re_1", "payment": "pay_1", "status": "succeeded",
    "amount": "5.00", "currency": "USD", "amount_minor": 500, "reason": "requested_by_customer",
    "provider_reference": "re_3XYZ", "created": 1793664060, "updated": 1793664060}"#;

/// The admin API of a signed-in admin, with the history, stats and detail above.
fn signed_in_api(call: &Call) -> Reply {
    match (call.method.as_str(), call.path()) {
        ("GET", "/admin/api/session") => reply(200, SESSION),
        ("GET", "/admin/api/payments") => reply(200, HISTORY),
        ("GET", "/admin/api/stats/daily") => reply(200, STATS),
        ("GET", "/admin/api/payments/pay_1") => reply(200, &detail_json(500, 1499, REFUND_1)),
        _ => problem(404, "resource_missing", "No such thing.", None),
    }
}

// ---------------------------------------------------------------------------------------------
// Filters in the URL

#[wasm_bindgen_test]
fn history_queries_round_trip_through_console_urls() {
    let queries = [
        HistoryQuery::default(),
        HistoryQuery {
            status: Some(PaymentStatus::RequiresCapture),
            provider: Some(ProviderName::Stripe),
            currency: Some("KWD".into()),
            from: Some("2026-11-01".into()),
            to: Some("2026-11-30".into()),
            amount_min: Some("1.000".into()),
            amount_max: Some("250.500".into()),
            email: Some("o'brien+vip@example.com".into()),
            q: Some("pay_a&b=c #1".into()),
            payment_link: Some("plink_a1".into()),
            cursor: Some("eyJ0IjoxfQ==".into()),
            limit: Some(25),
        },
    ];
    for query in queries {
        let href = Route::History(query.clone()).href();
        let (path, search) = href.split_once('?').unwrap_or((&href, ""));
        assert_eq!(path, "/admin");
        assert_eq!(Route::parse(path, search), Route::History(query.clone()));
        // The same string is what the browser's own URL parser reads back.
        let url = web_sys::Url::new_with_base(&href, "http://localhost/").unwrap();
        assert_eq!(history_from_search(&url.search()), query);
        assert_eq!(history_to_search(&history_from_search(search)), search);
    }
}

#[wasm_bindgen_test]
async fn filters_come_from_the_url_and_go_back_into_it() {
    let _url = AtUrl::new("/admin?status=succeeded&currency=USD&from=2026-11-01&cursor=cur_9");
    let calls = serve(signed_in_api);
    let root = container();
    let app = mount_to(root.clone(), ConsoleApp);

    until("the history table", &root, || {
        find(&root, "#pc-history-table").is_some()
    })
    .await;
    // The controls show the URL's filters...
    assert_eq!(
        get::<HtmlSelectElement>(&root, "#pc-f-status").value(),
        "succeeded"
    );
    assert_eq!(
        get::<HtmlSelectElement>(&root, "#pc-f-provider").value(),
        ""
    );
    assert_eq!(
        get::<HtmlInputElement>(&root, "#pc-f-currency").value(),
        "USD"
    );
    assert_eq!(
        get::<HtmlInputElement>(&root, "#pc-f-from").value(),
        "2026-11-01"
    );
    // ...and the API was asked for exactly them, page included; the chart for their range.
    let history = calls_to(&calls, "GET", "/admin/api/payments");
    assert_eq!(
        history[0].url,
        "/admin/api/payments?status=succeeded&currency=USD&from=2026-11-01&cursor=cur_9"
    );
    assert_eq!(history[0].credentials, "SameOrigin");
    until("the chart", &root, || find(&root, "#pc-chart").is_some()).await;
    assert_eq!(
        calls_to(&calls, "GET", "/admin/api/stats/daily")[0].url,
        "/admin/api/stats/daily?from=2026-11-01&currency=USD"
    );
    // The CSV export has the same filters, but not the page.
    let export = get::<web_sys::HtmlAnchorElement>(&root, "#pc-export");
    assert_eq!(
        export.get_attribute("href").as_deref(),
        Some("/admin/api/payments/export.csv?status=succeeded&currency=USD&from=2026-11-01")
    );
    assert!(export.has_attribute("download"));

    // Changing a filter updates the URL (from the first page) and asks the API again.
    choose(&root, "#pc-f-status", "failed");
    assert_eq!(
        location(),
        (
            "/admin".to_string(),
            "?status=failed&currency=USD&from=2026-11-01".to_string()
        )
    );
    until("the second request", &root, || {
        calls_to(&calls, "GET", "/admin/api/payments").len() == 2
    })
    .await;
    assert_eq!(
        calls_to(&calls, "GET", "/admin/api/payments")[1].url,
        "/admin/api/payments?status=failed&currency=USD&from=2026-11-01"
    );
    assert_eq!(
        export.get_attribute("href").as_deref(),
        Some("/admin/api/payments/export.csv?status=failed&currency=USD&from=2026-11-01")
    );
    // A text filter applies when committed, normalised as a URL would be.
    let currency: HtmlInputElement = get(&root, "#pc-f-currency");
    currency.set_value(" jpy ");
    fire(&currency, "change");
    assert_eq!(location().1, "?status=failed&currency=JPY&from=2026-11-01");
    until("the normalised value in the control", &root, || {
        currency.value() == "JPY"
    })
    .await;

    // Next page keeps the filters and adds the cursor; First page drops it again.
    until("the next page link", &root, || {
        find(&root, "#pc-next-page").is_some() && find(&root, "#pc-first-page").is_none()
    })
    .await;
    click(&root, "#pc-next-page");
    assert_eq!(
        location().1,
        "?status=failed&currency=JPY&from=2026-11-01&cursor=cur_2"
    );
    until("the first page link", &root, || {
        find(&root, "#pc-first-page").is_some()
    })
    .await;
    click(&root, "#pc-first-page");
    assert_eq!(location().1, "?status=failed&currency=JPY&from=2026-11-01");
    until("the first page", &root, || {
        find(&root, "#pc-first-page").is_none()
    })
    .await;

    // The browser's Back button returns to the second page (popstate), controls included.
    let requests = calls_to(&calls, "GET", "/admin/api/payments").len();
    window().history().unwrap().back().unwrap();
    until("the second page again", &root, || {
        find(&root, "#pc-first-page").is_some()
    })
    .await;
    assert_eq!(
        location().1,
        "?status=failed&currency=JPY&from=2026-11-01&cursor=cur_2"
    );
    until("the request for it", &root, || {
        calls_to(&calls, "GET", "/admin/api/payments").len() > requests
    })
    .await;
    assert_eq!(
        calls_to(&calls, "GET", "/admin/api/payments")
            .last()
            .unwrap()
            .url,
        "/admin/api/payments?status=failed&currency=JPY&from=2026-11-01&cursor=cur_2"
    );
    drop(app);
    root.remove();
}

#[wasm_bindgen_test]
async fn a_bad_filter_is_explained_next_to_the_filters() {
    let _url = AtUrl::new("/admin?amount_min=5");
    serve(|call| match call.path() {
        "/admin/api/session" => reply(200, SESSION),
        "/admin/api/payments" => problem(
            400,
            "invalid_request",
            "amount_min needs a currency.",
            Some("amount_min"),
        ),
        _ => reply(200, STATS),
    });
    let root = container();
    let app = mount_to(root.clone(), ConsoleApp);
    until("the filter error", &root, || {
        find(&root, "#pc-filter-error").is_some_and(|e| !e.text_content().unwrap().is_empty())
    })
    .await;
    assert_eq!(
        text(&root, "#pc-filter-error"),
        "amount_min needs a currency."
    );
    assert_eq!(
        attrs(&root, "#pc-f-amount-min", "aria-invalid"),
        ["true".to_string()]
    );
    assert!(find(&root, "#pc-f-currency[aria-invalid]").is_none());
    assert!(find(&root, "#pc-history-table").is_none());
    // Shown under the form only: no second alert (and no "Try again") in the results.
    assert!(find(&root, ".pc-results .pc-load-error").is_none());
    drop(app);
    root.remove();
}

// ---------------------------------------------------------------------------------------------
// Money, chart

#[wasm_bindgen_test]
async fn totals_are_formatted_in_each_currency_s_minor_units() {
    let totals = vec![
        CurrencyTotal {
            currency: "USD".into(),
            count: 12,
            amount_minor: 123_456,
            captured_minor: 120_000,
            refunded_minor: 1_999,
        },
        CurrencyTotal {
            currency: "JPY".into(),
            count: 1,
            amount_minor: 1_000,
            captured_minor: 1_000,
            refunded_minor: 0,
        },
        CurrencyTotal {
            currency: "KWD".into(),
            count: 3,
            amount_minor: 1_230,
            captured_minor: 1_230,
            refunded_minor: 5,
        },
    ];
    let root = container();
    std::mem::forget(mount_to(root.clone(), move || {
        view! { <Totals totals=totals.clone() /> }
    }));
    until("totals", &root, || find(&root, ".pc-total").is_some()).await;
    assert_eq!(
        texts(&root, ".pc-total-amount"),
        ["$1,234.56", "¥1,000", "KWD 1.230"]
    );
    assert_eq!(
        texts(&root, ".pc-total-captured"),
        ["$1,200.00", "¥1,000", "KWD 1.230"]
    );
    assert_eq!(
        texts(&root, ".pc-total-refunded"),
        ["$19.99", "¥0", "KWD 0.005"]
    );
    assert_eq!(
        texts(&root, ".pc-total-count"),
        ["12 payments", "1 payment", "3 payments"]
    );
    assert_eq!(
        attrs(&root, ".pc-total", "data-currency"),
        ["USD", "JPY", "KWD"]
    );
}

async fn chart(stats: &str) -> HtmlElement {
    let stats: DailyStats = serde_json::from_str(stats).unwrap();
    let root = container();
    std::mem::forget(mount_to(root.clone(), move || {
        view! { <DailyChart stats=stats.clone() /> }
    }));
    until("the chart", &root, || find(&root, "#pc-chart").is_some()).await;
    root
}

#[wasm_bindgen_test]
async fn chart_bars_are_proportional_and_the_rate_line_skips_days_without_attempts() {
    let root = chart(
        r#"{"currency": "USD", "days": [
            {"day": "2026-11-01", "count": 2, "succeeded": 1, "failed": 1, "volume_minor": 10000},
            {"day": "2026-11-02", "count": 0, "succeeded": 0, "failed": 0, "volume_minor": 0},
            {"day": "2026-11-03", "count": 4, "succeeded": 4, "failed": 0, "volume_minor": 20000},
            {"day": "2026-11-04", "count": 1, "succeeded": 0, "failed": 1, "volume_minor": 5000}
        ]}"#,
    )
    .await;
    let svg = get::<web_sys::Element>(&root, "#pc-chart").outer_html();
    assert!(!svg.contains("NaN") && !svg.contains("Infinity"), "{svg}");

    let plot = PLOT_HEIGHT / 10; // in viewBox units
    let heights: Vec<i64> = attrs(&root, ".pc-chart-bar", "height")
        .iter()
        .map(|h| h.parse::<f64>().unwrap().round() as i64)
        .collect();
    assert_eq!(heights, [plot / 2, 0, plot, plot / 4]);
    // Every bar stands on the same baseline.
    let bottoms: Vec<String> = attrs(&root, ".pc-chart-bar", "y")
        .iter()
        .zip(attrs(&root, ".pc-chart-bar", "height"))
        .map(|(y, h)| {
            format!(
                "{:.1}",
                y.parse::<f64>().unwrap() + h.parse::<f64>().unwrap()
            )
        })
        .collect();
    assert!(bottoms.windows(2).all(|w| w[0] == w[1]), "{bottoms:?}");
    // Bars go left to right in day order.
    let xs: Vec<f64> = attrs(&root, ".pc-chart-bar", "x")
        .iter()
        .map(|x| x.parse().unwrap())
        .collect();
    assert!(xs.windows(2).all(|w| w[0] < w[1]), "{xs:?}");

    // No point on the day without attempts; the line breaks there (two runs).
    assert_eq!(
        attrs(&root, ".pc-chart-point", "data-day"),
        ["2026-11-01", "2026-11-03", "2026-11-04"]
    );
    let path = attrs(&root, ".pc-chart-rate", "d").remove(0);
    assert_eq!(path.matches('M').count(), 2, "{path}");
    assert_eq!(path.matches('L').count(), 1, "{path}");
    // 100 % sits at the top of the plot, 0 % at its bottom.
    let cys: Vec<f64> = attrs(&root, ".pc-chart-point", "cy")
        .iter()
        .map(|y| y.parse().unwrap())
        .collect();
    assert!(cys[1] < cys[0] && cys[0] < cys[2], "{cys:?}");

    // Tooltips, axis labels, the summary and the figures table.
    let titles = texts(&root, ".pc-chart-day > title");
    assert_eq!(titles.len(), 4);
    assert!(titles[0].contains("$100.00 captured"), "{}", titles[0]);
    assert!(titles[0].contains("success rate 50%"), "{}", titles[0]);
    assert!(titles[1].contains("no attempts"), "{}", titles[1]);
    let volume_labels = texts(&root, ".pc-chart-volume-label");
    assert_eq!(volume_labels, ["$0.00", "$100.00", "$200.00"]);
    assert_eq!(texts(&root, ".pc-chart-rate-label"), ["0%", "50%", "100%"]);
    let summary = text(&root, "#pc-chart-summary");
    assert!(summary.contains("$350.00 captured"), "{summary}");
    assert!(
        summary.contains("7 payments, 5 succeeded and 2 failed"),
        "{summary}"
    );
    assert!(summary.contains("success rate 71.4%"), "{summary}");
    assert_eq!(
        attrs(&root, "#pc-chart", "aria-describedby"),
        ["pc-chart-summary"]
    );
    assert_eq!(
        root.query_selector_all("#pc-chart-table tbody tr")
            .unwrap()
            .length(),
        4
    );
}

#[wasm_bindgen_test]
async fn an_empty_range_draws_an_empty_chart() {
    let root = chart(r#"{"currency": null, "days": []}"#).await;
    let svg = get::<web_sys::Element>(&root, "#pc-chart").outer_html();
    assert!(!svg.contains("NaN"), "{svg}");
    assert!(find(&root, ".pc-chart-bar").is_none());
    assert_eq!(text(&root, "#pc-chart-summary"), "No days in this range.");
    assert!(find(&root, "#pc-chart-table").is_none());

    let root = chart(
        r#"{"currency": null, "days": [
            {"day": "2026-11-01", "count": 0, "succeeded": 0, "failed": 0, "volume_minor": 0}
        ]}"#,
    )
    .await;
    assert_eq!(attrs(&root, ".pc-chart-bar", "height"), ["0"]);
    assert!(find(&root, ".pc-chart-point").is_none());
    assert!(text(&root, "#pc-chart-summary").starts_with("No payments from "));
    assert!(!root.inner_html().contains("NaN"));
}

// ---------------------------------------------------------------------------------------------
// Sign-in and sign-out

#[wasm_bindgen_test]
async fn sign_in_shows_wrong_credentials_and_rate_limits_then_signs_in() {
    let _url = AtUrl::new("/admin/audit");
    let attempts = Rc::new(Cell::new(0));
    let counter = attempts.clone();
    let calls = serve(move |call| match (call.method.as_str(), call.path()) {
        ("GET", "/admin/api/session") => problem(401, "unauthorized", "Sign in first.", None),
        ("POST", "/admin/api/session") => {
            counter.set(counter.get() + 1);
            match counter.get() {
                1 => problem(401, "invalid_credentials", "Wrong email or password.", None),
                2 => Reply {
                    headers: vec![("retry-after", "30".to_string())],
                    ..problem(429, "rate_limited", "Too many sign-in attempts.", None)
                },
                _ => reply(200, SESSION),
            }
        }
        ("GET", "/admin/api/audit") => reply(200, r#"{"data": []}"#),
        ("DELETE", "/admin/api/session") => reply(204, ""),
        _ => problem(404, "resource_missing", "No such thing.", None),
    });
    let root = container();
    let app = mount_to(root.clone(), ConsoleApp);
    until("the sign-in form", &root, || {
        find(&root, "#pc-signin-form").is_some()
    })
    .await;
    assert!(
        find(&root, ".pc-header").is_none(),
        "no navigation before signing in"
    );

    type_into(&root, "#pc-email", " ops@example.com ");
    type_into(&root, "#pc-password", "hunter2");
    click(&root, "#pc-signin-submit");
    until("the first answer", &root, || {
        !text(&root, "#pc-signin-error").is_empty()
    })
    .await;
    assert_eq!(text(&root, "#pc-signin-error"), "Wrong email or password.");
    assert_eq!(attrs(&root, "#pc-signin-error", "role"), ["alert"]);
    assert_eq!(
        attrs(&root, "#pc-password", "aria-invalid"),
        ["true".to_string()]
    );
    assert_eq!(get::<HtmlInputElement>(&root, "#pc-password").value(), "");
    let posted: serde_json::Value =
        serde_json::from_str(&calls_to(&calls, "POST", "/admin/api/session")[0].body).unwrap();
    assert_eq!(
        posted,
        serde_json::json!({"email": "ops@example.com", "password": "hunter2"})
    );

    type_into(&root, "#pc-password", "hunter3");
    click(&root, "#pc-signin-submit");
    until("the rate limit", &root, || {
        text(&root, "#pc-signin-error").starts_with("Too many")
    })
    .await;
    assert_eq!(
        text(&root, "#pc-signin-error"),
        "Too many attempts, try again in 30 seconds."
    );

    type_into(&root, "#pc-password", "correct horse");
    click(&root, "#pc-signin-submit");
    until("the console", &root, || find(&root, ".pc-header").is_some()).await;
    // The page of the URL comes up, and the header says who is signed in.
    assert_eq!(text(&root, ".pc-account-email"), "ops@example.com");
    assert_eq!(text(&root, "#pc-main h1"), "Audit log");
    assert_eq!(
        attrs(&root, "#pc-nav-audit", "aria-current"),
        ["page".to_string()]
    );
    until_focused(&root, "#pc-main h1").await;
    assert_eq!(document().title(), "Audit log · paygate admin");

    // Signing out sends the CSRF token and brings the form back.
    click(&root, "#pc-sign-out");
    until("the sign-in form again", &root, || {
        find(&root, "#pc-signin-form").is_some()
    })
    .await;
    let deleted = calls_to(&calls, "DELETE", "/admin/api/session");
    assert_eq!(deleted.len(), 1);
    assert_eq!(deleted[0].csrf.as_deref(), Some("csrf_tok_1"));
    assert_eq!(text(&root, "#pc-signin-notice"), "You have signed out.");
    until_focused(&root, "#pc-signin-heading").await;
    assert_eq!(document().title(), "Sign in · paygate admin");
    drop(app);
    root.remove();
}

#[wasm_bindgen_test]
async fn an_ended_session_brings_back_the_sign_in_form() {
    let _url = AtUrl::new("/admin");
    serve(|call| match call.path() {
        "/admin/api/session" => reply(200, SESSION),
        _ => problem(401, "unauthorized", "Sign in first.", None),
    });
    let root = container();
    let app = mount_to(root.clone(), ConsoleApp);
    until("the sign-in form", &root, || {
        find(&root, "#pc-signin-form").is_some()
    })
    .await;
    assert_eq!(
        text(&root, "#pc-signin-notice"),
        "Your session has ended. Sign in again."
    );
    drop(app);
    root.remove();
}

// ---------------------------------------------------------------------------------------------
// Payment detail and refunds

#[wasm_bindgen_test]
async fn payment_detail_shows_facts_timeline_refunds_and_raw_events() {
    let detail: PaymentDetail = serde_json::from_str(&detail_json(500, 1499, REFUND_1)).unwrap();
    let root = container();
    std::mem::forget(mount_to(root.clone(), move || {
        let console = Console::new(Route::Payment("pay_1".into()), SessionState::Checking);
        provide_context(Console {
            use_history_api: false,
            ..console
        });
        view! { <PaymentDetailView detail=detail.clone() /> }
    }));
    until("the facts", &root, || find(&root, "#pc-facts").is_some()).await;

    assert_eq!(text(&root, "#pc-status"), "Succeeded");
    assert_eq!(text(&root, "#pc-amount"), "$19.99");
    assert_eq!(text(&root, "#pc-captured"), "$19.99");
    assert_eq!(text(&root, "#pc-refunded"), "$5.00");
    assert_eq!(text(&root, "#pc-refundable"), "$14.99");
    assert!(text(&root, "#pc-customer").contains("ann@example.com"));

    // The timeline, each entry with what caused it.
    assert_eq!(
        attrs(&root, "#pc-timeline > li", "data-cause"),
        ["api", "webhook", "admin"]
    );
    assert_eq!(
        texts(&root, "#pc-timeline .pc-cause"),
        ["API", "Webhook", "Admin"]
    );
    assert_eq!(
        texts(&root, "#pc-timeline .pc-change"),
        [
            "→ Requires payment method",
            "Requires payment method → Succeeded"
        ]
    );
    // An empty detail has no disclosure; the others do, collapsed.
    assert_eq!(
        root.query_selector_all("#pc-timeline details")
            .unwrap()
            .length(),
        2
    );
    assert!(find(&root, "#pc-timeline details[open]").is_none());
    let times = attrs(&root, "#pc-timeline time", "datetime");
    assert_eq!(times[0], "2026-11-03T00:00:00.000Z");

    // Refunds and provider references.
    assert_eq!(attrs(&root, "#pc-refunds tbody tr", "data-id"), ["re_1"]);
    assert_eq!(texts(&root, "#pc-refunds tbody td.pc-num"), ["$5.00"]);
    assert_eq!(texts(&root, "#pc-references dd"), ["pi_3ABC", "re_3XYZ"]);
    // The raw event, pretty-printed in a collapsed <details><pre>.
    let payload = text(&root, "#pc-events li[data-event-id='evt_1'] details pre");
    let parsed: serde_json::Value = serde_json::from_str(&payload).unwrap();
    assert_eq!(parsed["data"]["object"]["id"], "pi_3ABC");
    assert!(payload.contains('\n'), "pretty-printed: {payload}");
    assert!(text(&root, "#pc-events").contains("payment_intent.succeeded"));
    // An event of another API version says so; the others carry no note.
    assert_eq!(
        texts(&root, "#pc-events .pc-event-note"),
        ["Rendered at Stripe API version 2025-03-31.basil, not the pinned 2024-06-20: applied only from a re-read of its object."]
    );
    assert!(find(&root, "#pc-events li[data-event-id='evt_1'] .pc-event-note").is_none());
    // Something is refundable: the form is there.
    assert!(find(&root, "#pc-refund-form").is_some());
    assert!(find(&root, "#pc-no-refund").is_none());
}

#[wasm_bindgen_test]
async fn an_off_session_charge_waiting_for_its_customer_shows_their_page() {
    let json = detail_json(0, 0, "")
        .replace(r#""status": "succeeded""#, r#""status": "requires_action""#)
        .replace(
            r#""description": "Blue mug","#,
            r#""description": "Blue mug", "payment_method": "pm_1Saved",
            "next_action": {"type": "authenticate",
                "url": "https://pay.example/authenticate/pay_1?t=00112233445566778899aabbccddeeff"},"#,
        );
    let detail: PaymentDetail = serde_json::from_str(&json).unwrap();
    let root = container();
    std::mem::forget(mount_to(root.clone(), move || {
        provide_context(Console::new(
            Route::Payment("pay_1".into()),
            SessionState::Checking,
        ));
        view! { <PaymentDetailView detail=detail.clone() /> }
    }));
    until("the facts", &root, || find(&root, "#pc-facts").is_some()).await;
    assert_eq!(text(&root, "#pc-payment-method"), "pm_1Saved");
    assert!(text(&root, "#pc-next-action").starts_with("Authenticate"));
    assert_eq!(
        attrs(&root, "#pc-authenticate-link", "href"),
        ["https://pay.example/authenticate/pay_1?t=00112233445566778899aabbccddeeff"]
    );
}

#[wasm_bindgen_test]
async fn nothing_refundable_means_no_refund_form() {
    let detail: PaymentDetail = serde_json::from_str(&detail_json(1999, 0, REFUND_1)).unwrap();
    let root = container();
    std::mem::forget(mount_to(root.clone(), move || {
        provide_context(Console::new(
            Route::Payment("pay_1".into()),
            SessionState::Checking,
        ));
        view! { <PaymentDetailView detail=detail.clone() /> }
    }));
    until("the facts", &root, || find(&root, "#pc-facts").is_some()).await;
    assert!(find(&root, "#pc-refund-form").is_none());
    assert_eq!(
        text(&root, "#pc-no-refund"),
        "Nothing is left to refund on this payment."
    );
}

#[wasm_bindgen_test]
async fn a_refund_is_reviewed_then_confirmed_with_csrf_and_one_idempotency_key() {
    let _url = AtUrl::new("/admin");
    let refunded = Rc::new(Cell::new(false));
    let posts = Rc::new(Cell::new(0));
    let (state, count) = (refunded.clone(), posts.clone());
    let calls = serve(move |call| match (call.method.as_str(), call.path()) {
        ("POST", "/admin/api/payments/pay_1/refunds") => {
            count.set(count.get() + 1);
            if count.get() == 1 {
                // The first try fails as a retryable conflict.
                problem(
                    409,
                    "conflict",
                    "A refund for this payment is in progress.",
                    None,
                )
            } else {
                state.set(true);
                reply(
                    201,
                    r#"{"id": "re_2", "payment": "pay_1", "status": "pending",
                        "amount": "5.50", "currency": "USD", "amount_minor": 550,
                        "reason": "requested_by_customer", "created": 1793664100,
                        "updated": 1793664100}"#,
                )
            }
        }
        ("GET", "/admin/api/payments/pay_1") if state.get() => reply(
            200,
            &detail_json(
                1050,
                949,
                &format!(
                    r#"{REFUND_1}, {{"id": "re_2", "payment": "pay_1",
                "status": "pending", "amount": "5.50", "currency": "USD", "amount_minor": 550,
                "created": 1793664100, "updated": 1793664100}}"#
                ),
            ),
        ),
        _ => signed_in_api(call),
    });
    let root = container();
    let app = mount_to(root.clone(), ConsoleApp);

    // From the history table to the payment: the URL changes and focus goes to the heading.
    until("the history table", &root, || {
        find(&root, "#pc-history-table a[href='/admin/payments/pay_1']").is_some()
    })
    .await;
    click(&root, "#pc-history-table a[href='/admin/payments/pay_1']");
    assert_eq!(location().0, "/admin/payments/pay_1");
    until("the detail", &root, || {
        find(&root, "#pc-refund-form").is_some()
    })
    .await;
    until_focused(&root, "#pc-main h1").await;
    assert_eq!(text(&root, "#pc-main h1"), "Payment pay_1");

    // Too much is refused before anything is sent.
    type_into(&root, "#pc-refund-amount", "15.00");
    choose(&root, "#pc-refund-reason", "requested_by_customer");
    click(&root, "#pc-refund-review");
    until("the validation error", &root, || {
        !text(&root, "#pc-refund-error").is_empty()
    })
    .await;
    assert_eq!(
        text(&root, "#pc-refund-error"),
        "At most $14.99 can be refunded."
    );
    assert!(find(&root, "#pc-refund-question").is_none());

    // Review: the question names the amounts and the customer.
    type_into(&root, "#pc-refund-amount", "5.5");
    let note = get::<web_sys::HtmlTextAreaElement>(&root, "#pc-refund-note");
    note.set_value("Damaged in transit");
    fire(&note, "input");
    click(&root, "#pc-refund-review");
    until("the question", &root, || {
        find(&root, "#pc-refund-question").is_some()
    })
    .await;
    assert_eq!(
        text(&root, "#pc-refund-question"),
        "Refund $5.50 of $19.99 to ann@example.com?"
    );
    assert!(calls_to(&calls, "POST", "/admin/api/payments/pay_1/refunds").is_empty());

    // Confirm: a conflict is shown, and confirming again retries with the same key.
    click(&root, "#pc-refund-confirm");
    until("the conflict", &root, || {
        !text(&root, "#pc-refund-error").is_empty()
    })
    .await;
    assert_eq!(
        text(&root, "#pc-refund-error"),
        "A refund for this payment is in progress."
    );
    click(&root, "#pc-refund-confirm");
    until("the success message", &root, || {
        !text(&root, "#pc-refund-status").is_empty()
    })
    .await;
    assert_eq!(
        text(&root, "#pc-refund-status"),
        "Refund re_2 of $5.50 created (pending)."
    );

    let sent = calls_to(&calls, "POST", "/admin/api/payments/pay_1/refunds");
    assert_eq!(sent.len(), 2);
    for post in &sent {
        assert_eq!(post.csrf.as_deref(), Some("csrf_tok_1"));
        let body: serde_json::Value = serde_json::from_str(&post.body).unwrap();
        assert_eq!(
            body,
            serde_json::json!({"amount": "5.50", "reason": "requested_by_customer",
                               "note": "Damaged in transit"})
        );
    }
    let key = sent[0].idempotency_key.clone().expect("an Idempotency-Key");
    assert!(key.len() >= 32, "{key}");
    assert_eq!(sent[1].idempotency_key.as_deref(), Some(key.as_str()));

    // The detail is loaded again and shows the new refund.
    until("the reloaded detail", &root, || {
        find(&root, "#pc-refunds tr[data-id='re_2']").is_some()
    })
    .await;
    assert_eq!(text(&root, "#pc-refundable"), "$9.49");
    assert_eq!(
        calls_to(&calls, "GET", "/admin/api/payments/pay_1").len(),
        2
    );

    // A second refund gets a key of its own.
    type_into(&root, "#pc-refund-amount", "1");
    choose(&root, "#pc-refund-reason", "duplicate");
    click(&root, "#pc-refund-review");
    until("the question", &root, || {
        find(&root, "#pc-refund-question").is_some()
    })
    .await;
    click(&root, "#pc-refund-confirm");
    until("the third post", &root, || {
        calls_to(&calls, "POST", "/admin/api/payments/pay_1/refunds").len() == 3
    })
    .await;
    let third = calls_to(&calls, "POST", "/admin/api/payments/pay_1/refunds").remove(2);
    assert_ne!(third.idempotency_key, Some(key));

    // Back goes to the history with its filters.
    click(&root, "#pc-back");
    assert_eq!(location(), ("/admin".to_string(), String::new()));
    until("the history page", &root, || {
        find(&root, "#pc-filters").is_some()
    })
    .await;
    drop(app);
    root.remove();
}

// ---------------------------------------------------------------------------------------------
// Loading, failed, loaded

/// Waits until `selector` (inside `root`) is there.
async fn until_present(root: &HtmlElement, selector: &str) {
    until(selector, root, || find(root, selector).is_some()).await;
}

/// Clicks "Try again" in the load error inside `scope` and waits for `loaded`: the page asked a
/// second time, and the error is gone.
async fn try_again(root: &HtmlElement, scope: &str, calls: &Cell<u32>, loaded: &str) {
    click(root, &format!("{scope} .pc-load-error > button"));
    until_present(root, loaded).await;
    assert_eq!(calls.get(), 2);
    assert!(find(root, &format!("{scope} .pc-load-error")).is_none());
}

/// A proxy's error page: not a problem document.
fn bad_gateway() -> Reply {
    Reply {
        status: 502,
        body: "<html><body><h1>502 Bad Gateway</h1></body></html>".to_string(),
        headers: vec![("content-type", "text/html".to_string())],
    }
}

/// Mounts `page` alone, in a console, against an API whose first answer to `path` is a proxy's
/// error page and whose later ones are `then`. Checks the announced `loading` notice first,
/// then waits for the alert with its "Try again". Returns the count of calls to `path`.
async fn page_after_bad_gateway<V: IntoView + 'static>(
    path: &'static str,
    then: impl Fn() -> Reply + 'static,
    route: Route,
    loading: &str,
    page: impl Fn() -> V + 'static,
) -> (
    Rc<Cell<u32>>,
    HtmlElement,
    leptos::mount::UnmountHandle<V::State>,
) {
    let count = Rc::new(Cell::new(0));
    let counter = count.clone();
    serve(move |call| match call.path() {
        p if p == path => {
            counter.set(counter.get() + 1);
            if counter.get() == 1 {
                bad_gateway()
            } else {
                then()
            }
        }
        _ => reply(200, SESSION),
    });
    let root = container();
    let app = mount_to(root.clone(), move || {
        let console = Console::new(route.clone(), SessionState::Checking);
        provide_context(Console {
            use_history_api: false,
            ..console
        });
        page()
    });
    // Before any answer: an announced notice.
    assert_eq!(text(&root, "p.pc-notice[role='status']"), loading);
    until_present(&root, ".pc-load-error").await;
    // Not a problem document: the status is all there is to tell.
    assert_eq!(
        text(&root, ".pc-load-error > p.pc-error[role='alert']"),
        "paygate answered with HTTP status 502. Try again."
    );
    assert_eq!(
        texts(&root, ".pc-load-error > button.pc-button[type='button']"),
        ["Try again"]
    );
    (count, root, app)
}

#[wasm_bindgen_test]
async fn a_payment_that_failed_to_load_can_be_asked_for_again() {
    let (count, root, app) = page_after_bad_gateway(
        "/admin/api/payments/pay_1",
        || reply(200, &detail_json(0, 1999, "")),
        Route::Payment("pay_1".into()),
        "Loading the payment…",
        || view! { <PaymentPage id="pay_1".to_string() /> },
    )
    .await;
    assert!(find(&root, "p.pc-notice[role='status']").is_none());
    assert!(find(&root, "#pc-facts").is_none());

    try_again(&root, "", &count, "#pc-facts").await;
    assert_eq!(text(&root, "#pc-amount"), "$19.99");
    drop(app);
    root.remove();
}

#[wasm_bindgen_test]
async fn a_payment_that_does_not_exist_offers_no_retry() {
    serve(|call| match call.path() {
        "/admin/api/session" => reply(200, SESSION),
        _ => problem(404, "resource_missing", "There is no such payment.", None),
    });
    let root = container();
    let app = mount_to(root.clone(), || {
        provide_context(Console::new(
            Route::Payment("pay_404".into()),
            SessionState::Checking,
        ));
        view! { <PaymentPage id="pay_404".to_string() /> }
    });
    until_present(&root, ".pc-load-error").await;
    assert_eq!(
        text(&root, ".pc-load-error > p.pc-error[role='alert']"),
        "There is no such payment."
    );
    assert!(find(&root, ".pc-load-error button").is_none());
    drop(app);
    root.remove();
}

#[wasm_bindgen_test]
async fn history_and_chart_failures_show_where_they_happened() {
    let _url = AtUrl::new("/admin");
    let count = Rc::new(Cell::new(0));
    let counter = count.clone();
    serve(move |call| match call.path() {
        "/admin/api/session" => reply(200, SESSION),
        "/admin/api/payments" => {
            counter.set(counter.get() + 1);
            if counter.get() == 1 {
                problem(503, "unavailable", "The database is busy.", None)
            } else {
                reply(200, HISTORY)
            }
        }
        "/admin/api/stats/daily" => problem(500, "internal", "Something broke.", None),
        _ => problem(404, "resource_missing", "No such thing.", None),
    });
    let root = container();
    let app = mount_to(root.clone(), ConsoleApp);
    until("the errors", &root, || {
        find(&root, ".pc-results .pc-load-error").is_some()
            && find(&root, ".pc-chart-section .pc-error").is_some()
    })
    .await;
    assert_eq!(
        text(
            &root,
            ".pc-results .pc-load-error > p.pc-error[role='alert']"
        ),
        "The database is busy."
    );
    assert_eq!(attrs(&root, ".pc-results", "aria-busy"), ["false"]);
    assert_eq!(text(&root, "#pc-results-status"), "");
    // The chart is a secondary part: a plain line, no alert, no button.
    assert_eq!(
        text(&root, ".pc-chart-section p.pc-error"),
        "The chart could not be loaded: Something broke."
    );
    assert!(find(&root, ".pc-chart-section [role='alert']").is_none());
    assert!(find(&root, ".pc-chart-section button").is_none());
    assert!(find(&root, ".pc-chart-section .pc-load-error").is_none());

    try_again(&root, ".pc-results", &count, "#pc-history-table").await;
    assert_eq!(
        attrs(&root, "#pc-history-table tbody tr", "data-id"),
        ["pay_1", "pay_2"]
    );
    drop(app);
    root.remove();
}

#[wasm_bindgen_test]
async fn the_audit_log_says_it_is_loading_and_can_be_asked_for_again() {
    let (count, root, app) = page_after_bad_gateway(
        "/admin/api/audit",
        || reply(200, r#"{"data": []}"#),
        Route::Audit { before: None },
        "Loading the audit log…",
        || view! { <AuditLog before=Signal::stored(None::<i64>) /> },
    )
    .await;
    // The audit page's own loading line stays, empty.
    assert_eq!(texts(&root, "p.pc-notice[role='status']"), [""]);

    try_again(&root, "", &count, "nav.pc-paging").await;
    assert!(texts(&root, "p.pc-notice").contains(&"No entries.".to_string()));
    drop(app);
    root.remove();
}

// ---------------------------------------------------------------------------------------------
// Audit log

#[wasm_bindgen_test]
async fn the_audit_log_lists_who_did_what() {
    let page: AuditPage = serde_json::from_str(
        r#"{"data": [
            {"id": 42, "at": 1793664060000, "actor": "ops@example.com", "action": "refund",
             "target": "pay_1", "detail": {"amount": "5.00"}, "ip": "203.0.113.7"},
            {"id": 41, "at": 1793664000000, "actor": "cli", "action": "admin_created",
             "target": "ops@example.com", "detail": null, "ip": null}
        ], "next_before": 41}"#,
    )
    .unwrap();
    let root = container();
    std::mem::forget(mount_to(root.clone(), move || {
        let console = Console::new(Route::Audit { before: None }, SessionState::Checking);
        provide_context(Console {
            use_history_api: false,
            ..console
        });
        view! { <AuditTable page=page.clone() before=Signal::stored(None::<i64>) /> }
    }));
    until("the audit table", &root, || {
        find(&root, "#pc-audit-table").is_some()
    })
    .await;
    assert_eq!(
        attrs(&root, "#pc-audit-table tbody tr", "data-id"),
        ["42", "41"]
    );
    let first = texts(&root, "#pc-audit-table tbody tr:first-child td");
    assert_eq!(first[1], "ops@example.com");
    assert!(first[2].starts_with("Refund"), "{first:?}");
    assert_eq!(first[3], "pay_1");
    assert_eq!(first[4], "203.0.113.7");
    assert!(!first[0].is_empty(), "a date in the browser's locale");
    // A payment target links to the payment; other targets are plain text.
    assert_eq!(
        attrs(&root, "#pc-audit-table a", "href"),
        ["/admin/payments/pay_1"]
    );
    assert_eq!(
        attrs(&root, "#pc-audit-older", "href"),
        ["/admin/audit?before=41"]
    );
    assert!(find(&root, "#pc-audit-newest").is_none());
}

#[wasm_bindgen_test]
fn export_url_never_carries_the_page() {
    let query = HistoryQuery {
        provider: Some(ProviderName::Paypal),
        email: Some("ann@example.com".into()),
        cursor: Some("cur_3".into()),
        limit: Some(10),
        ..HistoryQuery::default()
    };
    assert_eq!(
        export_csv_url(&query),
        "/admin/api/payments/export.csv?provider=paypal&email=ann%40example.com"
    );
}

// ---------------------------------------------------------------------------------------------
// Webhook endpoints and their deliveries

const ENDPOINTS: &str = r#"{"data": [
    {"id": "we_1", "url": "https://shop.example/hooks", "description": "orders",
     "enabled_events": ["payment.*", "checkout.session.completed"], "status": "enabled",
     "failing_since": 1793664100, "created": 1793664000},
    {"id": "we_2", "url": "https://erp.example/in", "enabled_events": ["*"],
     "status": "disabled", "disabled_reason": "failing", "failing_since": 1793000000,
     "created": 1793660000}
], "has_more": false}"#;

const ENDPOINT_1: &str = r#"{"id": "we_1", "url": "https://shop.example/hooks",
    "description": "orders", "enabled_events": ["payment.*", "checkout.session.completed"],
    "status": "enabled", "created": 1793664000}"#;

/// The first page of we_1's deliveries, newest first, as the server writes it; whd_1's status
/// is `whd_1_status` (pending again after a resend).
fn deliveries_page_1(whd_1_status: &str) -> String {
    let next = if whd_1_status == "pending" {
        r#""next_attempt_at": 1793667700,"#
    } else {
        ""
    };
    format!(
        r#"{{"data": [
        {{"id": "whd_2", "endpoint": "we_1", "event": "evt_2", "event_type": "payment.failed",
          "status": "pending", "next_attempt_at": 1793667600,
          "attempts": [{{"at": 1793664100000, "error": "connection refused", "latency_ms": 3}}],
          "created": 1793664100}},
        {{"id": "whd_1", "endpoint": "we_1", "event": "evt_1", "event_type": "payment.succeeded",
          "status": "{whd_1_status}", {next}
          "attempts": [
            {{"at": 1793664000000, "http_status": 500, "latency_ms": 41, "response_body": "oops"}},
            {{"at": 1793664060000, "http_status": 200, "latency_ms": 12,
              "response_body": "{{\"received\": true}}"}}
          ],
          "created": 1793664000}}
    ], "has_more": true, "next_cursor": "1793664000000:whd_1"}}"#
    )
}

const DELIVERIES_PAGE_2: &str = r#"{"data": [
    {"id": "whd_0", "endpoint": "we_1", "event": "evt_0", "event_type": "checkout.session.completed",
     "status": "failed", "attempts": [{"at": 1793600000000, "http_status": 410, "latency_ms": 8}],
     "created": 1793600000}
], "has_more": false}"#;

#[wasm_bindgen_test]
async fn webhook_endpoints_are_listed_and_lead_to_their_deliveries() {
    let _url = AtUrl::new("/admin/webhooks");
    let calls = serve(|call| match (call.method.as_str(), call.path()) {
        ("GET", "/admin/api/session") => reply(200, SESSION),
        ("GET", "/admin/api/webhook_endpoints") => reply(200, ENDPOINTS),
        ("GET", "/admin/api/webhook_endpoints/we_1") => reply(200, ENDPOINT_1),
        ("GET", "/admin/api/webhook_endpoints/we_1/deliveries") => {
            reply(200, &deliveries_page_1("delivered"))
        }
        _ => problem(404, "resource_missing", "No such thing.", None),
    });
    let root = container();
    let app = mount_to(root.clone(), ConsoleApp);
    until_present(&root, "#pc-endpoints").await;
    assert_eq!(text(&root, "#pc-main h1"), "Webhook endpoints");
    assert_eq!(document().title(), "Webhooks · paygate admin");
    assert_eq!(
        attrs(&root, "#pc-nav-webhooks", "aria-current"),
        ["page".to_string()]
    );
    assert_eq!(
        attrs(&root, "#pc-endpoints tbody tr", "data-id"),
        ["we_1", "we_2"]
    );
    assert_eq!(
        texts(&root, "#pc-endpoints .pc-badge"),
        ["Enabled", "Disabled"]
    );
    assert_eq!(
        attrs(&root, "#pc-endpoints .pc-badge", "data-status"),
        ["enabled", "disabled"]
    );
    assert_eq!(
        texts(&root, "#pc-endpoints .pc-endpoint-events"),
        ["payment.*, checkout.session.completed", "*"]
    );
    // One failing for now, one paygate disabled after five days of failures.
    let health = texts(&root, "#pc-endpoints .pc-endpoint-health");
    assert_eq!(health.len(), 2, "{health:?}");
    assert!(health[0].starts_with("Failing since "), "{health:?}");
    assert_eq!(
        health[1],
        "Disabled by paygate: every delivery failed for 5 days."
    );
    let first = texts(&root, "#pc-endpoints tbody tr:first-child td");
    assert!(first[0].contains("https://shop.example/hooks"), "{first:?}");
    assert_eq!(first[1], "orders");
    assert_eq!(
        attrs(&root, "#pc-endpoints a", "href"),
        ["/admin/webhooks/we_1", "/admin/webhooks/we_2"]
    );
    assert_eq!(
        calls_to(&calls, "GET", "/admin/api/webhook_endpoints")[0].credentials,
        "SameOrigin"
    );

    // The endpoint's page: its facts, then its deliveries.
    click(&root, "#pc-endpoints a[href='/admin/webhooks/we_1']");
    assert_eq!(location().0, "/admin/webhooks/we_1");
    until_present(&root, "#pc-deliveries").await;
    until_focused(&root, "#pc-main h1").await;
    assert_eq!(text(&root, "#pc-main h1"), "Webhook endpoint we_1");
    assert_eq!(
        text(&root, "#pc-endpoint-url"),
        "https://shop.example/hooks"
    );
    assert_eq!(text(&root, "#pc-endpoint-status"), "Enabled");
    assert_eq!(
        attrs(&root, "#pc-deliveries tbody.pc-delivery", "data-id"),
        ["whd_2", "whd_1"]
    );
    assert_eq!(
        calls_to(
            &calls,
            "GET",
            "/admin/api/webhook_endpoints/we_1/deliveries"
        )[0]
        .url,
        "/admin/api/webhook_endpoints/we_1/deliveries"
    );
    // Back to the list.
    click(&root, "#pc-back");
    assert_eq!(location().0, "/admin/webhooks");
    until_present(&root, "#pc-endpoints").await;
    drop(app);
    root.remove();
}

#[wasm_bindgen_test]
async fn no_webhook_endpoints_says_so() {
    serve(|call| match call.path() {
        "/admin/api/webhook_endpoints" => reply(200, r#"{"data": [], "has_more": false}"#),
        _ => reply(200, SESSION),
    });
    let root = container();
    let app = mount_to(root.clone(), || {
        provide_context(Console::new(Route::Webhooks, SessionState::Checking));
        view! { <WebhooksPage /> }
    });
    until_present(&root, "#pc-no-endpoints").await;
    assert_eq!(text(&root, "#pc-no-endpoints"), "No webhook endpoints yet.");
    assert!(find(&root, "#pc-endpoints").is_none());
    drop(app);
    root.remove();
}

#[wasm_bindgen_test]
async fn deliveries_open_to_their_attempts_page_on_filter_and_resend_with_csrf() {
    let _url = AtUrl::new("/admin/webhooks/we_1");
    let resent = Rc::new(Cell::new(false));
    let state = resent.clone();
    let calls = serve(move |call| match (call.method.as_str(), call.path()) {
        ("GET", "/admin/api/session") => reply(200, SESSION),
        ("GET", "/admin/api/webhook_endpoints/we_1") => reply(200, ENDPOINT_1),
        ("GET", "/admin/api/webhook_endpoints/we_1/deliveries") => {
            if call.url.contains("starting_after=") {
                reply(200, DELIVERIES_PAGE_2)
            } else if call.url.contains("status=failed") {
                reply(200, r#"{"data": [], "has_more": false}"#)
            } else if state.get() {
                reply(200, &deliveries_page_1("pending"))
            } else {
                reply(200, &deliveries_page_1("delivered"))
            }
        }
        ("POST", "/admin/api/webhook_endpoints/we_1/deliveries/whd_1/resend") => {
            state.set(true);
            reply(
                202,
                r#"{"delivery": "whd_1", "event": "evt_1", "endpoint": "we_1"}"#,
            )
        }
        ("POST", "/admin/api/webhook_endpoints/we_1/deliveries/whd_2/resend") => {
            problem(404, "resource_missing", "No such webhook delivery.", None)
        }
        _ => problem(404, "resource_missing", "No such thing.", None),
    });
    let root = container();
    let app = mount_to(root.clone(), ConsoleApp);
    until_present(&root, "#pc-deliveries").await;
    assert_eq!(document().title(), "Webhook endpoint we_1 · paygate admin");

    // Each delivery: event type, event, status, attempts count, next attempt.
    let row = |id: &str| format!("#pc-deliveries tbody[data-id='{id}']");
    assert_eq!(
        texts(&root, "#pc-deliveries .pc-delivery-type"),
        ["payment.failed", "payment.succeeded"]
    );
    assert_eq!(
        texts(&root, "#pc-deliveries .pc-delivery-event"),
        ["evt_2", "evt_1"]
    );
    assert_eq!(
        texts(&root, "#pc-deliveries tbody > tr:first-child .pc-badge"),
        ["Pending", "Delivered"]
    );
    assert_eq!(
        texts(&root, "#pc-deliveries .pc-attempts-toggle"),
        ["1 attempt", "2 attempts"]
    );
    assert_eq!(
        attrs(
            &root,
            &format!("{} .pc-next-attempt time", row("whd_2")),
            "datetime"
        ),
        ["2026-11-03T01:00:00.000Z"]
    );
    assert_eq!(
        text(&root, &format!("{} .pc-next-attempt", row("whd_1"))),
        "—"
    );

    // Attempts are hidden until the delivery is opened.
    let attempts = format!("{} tr.pc-attempts", row("whd_1"));
    let toggle = format!("{} .pc-attempts-toggle", row("whd_1"));
    assert!(get::<HtmlElement>(&root, &attempts).hidden());
    assert_eq!(attrs(&root, &toggle, "aria-expanded"), ["false"]);
    assert_eq!(
        attrs(&root, &toggle, "aria-controls"),
        [get::<HtmlElement>(&root, &attempts).id()]
    );
    click(&root, &toggle);
    until("the attempts", &root, || {
        !get::<HtmlElement>(&root, &attempts).hidden()
    })
    .await;
    assert_eq!(attrs(&root, &toggle, "aria-expanded"), ["true"]);
    assert_eq!(
        texts(&root, &format!("{attempts} .pc-attempt-result")),
        ["HTTP 500", "HTTP 200"]
    );
    assert_eq!(
        attrs(&root, &format!("{attempts} tr.pc-attempt"), "data-ok"),
        ["false", "true"]
    );
    assert_eq!(
        texts(&root, &format!("{attempts} .pc-attempt-latency")),
        ["41 ms", "12 ms"]
    );
    assert_eq!(
        texts(&root, &format!("{attempts} .pc-attempt-response")),
        ["oops", r#"{"received": true}"#]
    );
    assert_eq!(
        attrs(&root, &format!("{attempts} time"), "datetime"),
        ["2026-11-03T00:00:00.000Z", "2026-11-03T00:01:00.000Z"]
    );
    // An attempt without an answer says why.
    let other = format!("{} tr.pc-attempts", row("whd_2"));
    assert!(get::<HtmlElement>(&root, &other).hidden());
    click(&root, &format!("{} .pc-attempts-toggle", row("whd_2")));
    until("the other attempts", &root, || {
        !get::<HtmlElement>(&root, &other).hidden()
    })
    .await;
    assert_eq!(
        texts(&root, &format!("{other} .pc-attempt-result")),
        ["connection refused"]
    );

    // "More deliveries" appends the next page, asked for with the cursor.
    click(&root, "#pc-deliveries-more");
    until("the second page", &root, || {
        find(&root, &row("whd_0")).is_some()
    })
    .await;
    assert_eq!(
        attrs(&root, "#pc-deliveries tbody.pc-delivery", "data-id"),
        ["whd_2", "whd_1", "whd_0"]
    );
    let deliveries = calls_to(
        &calls,
        "GET",
        "/admin/api/webhook_endpoints/we_1/deliveries",
    );
    assert_eq!(
        deliveries[1].url,
        "/admin/api/webhook_endpoints/we_1/deliveries?starting_after=1793664000000%3Awhd_1"
    );
    assert!(
        find(&root, "#pc-deliveries-more").is_none(),
        "the last page"
    );

    // Resend: a POST with the CSRF token and no body; the page says so and reloads.
    let before = deliveries.len();
    click(&root, &format!("{} .pc-resend", row("whd_1")));
    until("the resend message", &root, || {
        !text(&root, "#pc-resend-status").is_empty()
    })
    .await;
    assert_eq!(
        text(&root, "#pc-resend-status"),
        "Event evt_1 is queued for delivery again."
    );
    let posts = calls_to(
        &calls,
        "POST",
        "/admin/api/webhook_endpoints/we_1/deliveries/whd_1/resend",
    );
    assert_eq!(posts.len(), 1);
    assert_eq!(posts[0].csrf.as_deref(), Some("csrf_tok_1"));
    assert_eq!(posts[0].credentials, "SameOrigin");
    assert_eq!(posts[0].body, "");
    until("the reloaded deliveries", &root, || {
        text(&root, &format!("{} tr:first-child .pc-badge", row("whd_1"))) == "Pending"
    })
    .await;
    assert!(
        calls_to(
            &calls,
            "GET",
            "/admin/api/webhook_endpoints/we_1/deliveries"
        )
        .len()
            > before
    );
    // Opened deliveries stay open across the reload.
    assert!(!get::<HtmlElement>(&root, &attempts).hidden());
    assert_eq!(text(&root, "#pc-resend-error"), "");

    // A resend the server refuses is explained.
    click(&root, &format!("{} .pc-resend", row("whd_2")));
    until("the resend error", &root, || {
        !text(&root, "#pc-resend-error").is_empty()
    })
    .await;
    assert_eq!(
        text(&root, "#pc-resend-error"),
        "Resending failed: No such webhook delivery."
    );
    assert_eq!(text(&root, "#pc-resend-status"), "");

    // The status filter lives in the URL and in the request.
    choose(&root, "#pc-d-status", "failed");
    assert_eq!(
        location(),
        (
            "/admin/webhooks/we_1".to_string(),
            "?status=failed".to_string()
        )
    );
    until_present(&root, "#pc-no-deliveries").await;
    assert_eq!(
        text(&root, "#pc-no-deliveries"),
        "No deliveries with this status."
    );
    assert_eq!(
        calls_to(
            &calls,
            "GET",
            "/admin/api/webhook_endpoints/we_1/deliveries"
        )
        .last()
        .unwrap()
        .url,
        "/admin/api/webhook_endpoints/we_1/deliveries?status=failed"
    );
    drop(app);
    root.remove();
}

#[wasm_bindgen_test]
async fn a_webhook_endpoint_that_does_not_exist_offers_no_retry() {
    let calls = serve(|call| match call.path() {
        "/admin/api/session" => reply(200, SESSION),
        _ => problem(404, "resource_missing", "No such webhook endpoint.", None),
    });
    let root = container();
    let app = mount_to(root.clone(), || {
        provide_context(Console::new(
            Route::WebhookEndpoint {
                id: "we_404".into(),
                status: None,
            },
            SessionState::Checking,
        ));
        view! { <EndpointPage id="we_404".to_string() status=Signal::stored(None::<String>) /> }
    });
    until_present(&root, ".pc-load-error").await;
    assert_eq!(
        text(&root, ".pc-load-error > p.pc-error[role='alert']"),
        "No such webhook endpoint."
    );
    assert!(find(&root, ".pc-load-error button").is_none());
    // One error, not two: the deliveries are not asked for.
    assert!(calls_to(
        &calls,
        "GET",
        "/admin/api/webhook_endpoints/we_404/deliveries"
    )
    .is_empty());
    drop(app);
    root.remove();
}

// ---------------------------------------------------------------------------------------------
// Parked provider events

#[wasm_bindgen_test]
async fn parked_events_are_listed_with_their_reason_and_replayed_with_csrf() {
    let _url = AtUrl::new("/admin/inbox");
    let replayed = Rc::new(Cell::new(false));
    let state = replayed.clone();
    let calls = serve(move |call| match (call.method.as_str(), call.path()) {
        ("GET", "/admin/api/session") => reply(200, SESSION),
        ("GET", "/admin/api/provider_events/parked") if state.get() => {
            reply(200, r#"{"data": [], "has_more": false}"#)
        }
        ("GET", "/admin/api/provider_events/parked") => reply(
            200,
            r#"{"data": [{"provider": "stripe", "event_id": "evt_stray",
                "event_type": "payment_intent.succeeded", "received_at": 1793664000000,
                "parked_at": 1793750400000, "attempts": 36,
                "reason": "no payment with this provider reference yet"}],
                "has_more": false}"#,
        ),
        ("POST", "/admin/api/provider_events/stripe/evt_stray/replay") => {
            state.set(true);
            reply(202, r#"{"provider": "stripe", "event_id": "evt_stray"}"#)
        }
        _ => problem(404, "resource_missing", "No such thing.", None),
    });
    let root = container();
    let app = mount_to(root.clone(), ConsoleApp);
    until_present(&root, "#pc-parked").await;
    assert_eq!(document().title(), "Parked events · paygate admin");
    assert_eq!(attrs(&root, "#pc-nav-parked", "aria-current"), ["page"]);
    assert_eq!(
        attrs(&root, "#pc-parked tbody tr", "data-id"),
        ["evt_stray"]
    );
    let row = text(&root, "#pc-parked tbody tr");
    assert!(row.contains("payment_intent.succeeded"), "{row}");
    assert!(row.contains("after 36 attempts"), "{row}");
    assert!(
        row.contains("no payment with this provider reference yet"),
        "{row}"
    );

    click(&root, "#pc-parked .pc-replay");
    until("the replay message", &root, || {
        !text(&root, "#pc-replay-status").is_empty()
    })
    .await;
    assert_eq!(
        text(&root, "#pc-replay-status"),
        "Event evt_stray is queued to be applied again."
    );
    let posts = calls_to(
        &calls,
        "POST",
        "/admin/api/provider_events/stripe/evt_stray/replay",
    );
    assert_eq!(posts.len(), 1);
    assert_eq!(posts[0].csrf.as_deref(), Some("csrf_tok_1"));
    assert_eq!(posts[0].body, "");
    until_present(&root, "#pc-no-parked").await;
    assert_eq!(text(&root, "#pc-replay-error"), "");
    drop(app);
    root.remove();
}
