//! The JS SDK stand-in: its script and assets, and its popup flow in Chromium.

use super::{order_body, start, CLIENT_ID};
use paygate_tests::emulator::{merchant_page, serve_local};
use serde_json::{json, Value};
use std::time::Duration;

#[tokio::test]
async fn sdk_script_is_validated_and_assets_have_strict_csp() {
    let emu = start().await;
    let get = |q: String| emu.http.get(format!("{}/sdk/js?{q}", emu.base)).send();
    let r = get(format!(
        "client-id={CLIENT_ID}&currency=EUR&intent=authorize"
    ))
    .await
    .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    assert!(r.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("application/javascript"));
    let js = r.text().await.unwrap();
    assert!(
        js.contains(&format!("\"base\":\"{}\"", emu.base)),
        "{}",
        &js[..400]
    );
    assert!(js.contains("\"currency\":\"EUR\"") && js.contains("\"intent\":\"authorize\""));
    // Every eligible button unless disabled: Pay Later where its currency allows, the card
    // button, never Venmo in the sandbox; PayPal itself cannot be disabled.
    for (q, funding) in [
        ("currency=USD", r#""funding":["paypal","paylater","card"]"#),
        ("currency=JPY", r#""funding":["paypal","card"]"#),
        (
            "currency=USD&disable-funding=card,credit,paylater,venmo",
            r#""funding":["paypal"]"#,
        ),
        (
            "currency=USD&enable-funding=venmo",
            r#""funding":["paypal","paylater","card"]"#,
        ),
    ] {
        let js = get(format!("client-id={CLIENT_ID}&{q}"))
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(js.contains(funding), "{q}: {}", &js[..400.min(js.len())]);
    }
    assert!(!js.contains("__PAYGATE_PAYPAL_CONFIG__"));
    for (q, message) in [
        (
            "currency=USD".to_string(),
            "Expected client-id to be passed",
        ),
        (
            "client-id=someone-else".to_string(),
            "Invalid query value for client-id: someone-else",
        ),
        (
            format!("client-id={CLIENT_ID}&currency=KWD"),
            "Invalid query value for currency: KWD",
        ),
        (
            format!("client-id={CLIENT_ID}&intent=sale"),
            "Invalid query value for intent: sale",
        ),
        (
            format!("client-id={CLIENT_ID}&disable-funding=card,cash"),
            "Invalid query value for disable-funding: cash",
        ),
    ] {
        let r = get(q).await.unwrap();
        assert_eq!(r.status().as_u16(), 400);
        let text = r.text().await.unwrap();
        assert!(
            text.contains("throw new Error(")
                && text.contains("SDK Validation error")
                && text.contains(message),
            "{text}"
        );
    }
    let r = emu
        .http
        .get(format!("{}/sdk/buttons.html", emu.base))
        .send()
        .await
        .unwrap();
    let csp = r.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_string();
    assert!(
        csp.contains("script-src 'self'")
            && csp.contains("frame-ancestors *")
            && !csp.contains("unsafe"),
        "{csp}"
    );
    let html = r.text().await.unwrap();
    assert!(html.contains("<button type=\"button\" id=\"paypal-button\""));
    assert!(!html.contains("<script>") && !html.contains("style="));
    for path in [
        "/sdk/buttons.js",
        "/sdk/buttons.css",
        "/assets/checkout.css",
        "/assets/checkout-popup.js",
        "/checkoutnow/loading",
    ] {
        let r = emu
            .http
            .get(format!("{}{path}", emu.base))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status().as_u16(), 200, "{path}");
    }
    let r = emu
        .http
        .post(format!("{}/sdk/facilitator-token", emu.base))
        .body("client-id=nope")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 401);
}

/// The merchant's page script: PayPal's standard integration, capturing on its server and
/// restarting after INSTRUMENT_DECLINED.
const MERCHANT_JS: &str = r#"
(function () {
  'use strict';
  window.cspViolations = [];
  document.addEventListener('securitypolicyviolation', function (e) {
    window.cspViolations.push(e.violatedDirective + ' ' + e.blockedURI);
  });
  var out = document.getElementById('out');
  var currency = document.body.dataset.orderCurrency;
  window.approvals = 0;
  window.paymentSources = [];
  window.fundingSources = paypal.getFundingSources();
  paypal.Buttons({
    style: { color: 'blue', shape: 'pill', label: 'pay', height: 40 },
    createOrder: function (data) {
      window.paymentSources.push(data.paymentSource);
      return fetch('/create?currency=' + currency, { method: 'POST' }).then(function (r) { return r.json(); }).then(function (b) { return b.id; });
    },
    onApprove: async function (data, actions) {
      window.approvals += 1;
      var r = await fetch('/capture/' + data.orderID, { method: 'POST' });
      var b = await r.json();
      if (b.issue === 'INSTRUMENT_DECLINED') return actions.restart();
      var order = await actions.order.get();
      out.textContent = 'approved ' + data.orderID + ' ' + data.payerID + ' ' + b.status + ' ' + order.status + ' ' + (data.facilitatorAccessToken ? 'token' : 'no-token');
    },
    onCancel: function (data) { out.textContent = 'cancel ' + data.orderID; },
    onError: function (err) { out.textContent = 'error ' + err.message; }
  }).render('#paypal-button-container').then(function () {
    document.getElementById('ready').textContent = 'ready';
  });
})();
"#;

async fn merchant_site(emu_base: String, token: String) -> u16 {
    use axum::extract::{Path, Query};
    use std::collections::HashMap;
    let origin = emu_base.trim_end_matches("/paypal").to_string();
    let page_base = emu_base.clone();
    let create_base = emu_base.clone();
    let capture_base = emu_base;
    let create_token = token.clone();
    let http = reqwest::Client::new();
    let http2 = http.clone();
    let csp = format!(
        "default-src 'none'; script-src 'self' {origin}; frame-src {origin}; \
         connect-src 'self'; style-src 'self'; img-src 'self'"
    );
    let page = move |q: HashMap<String, String>| {
        format!(
            "<!doctype html><html><head><meta charset=\"utf-8\"><title>shop</title>\
             <script src=\"{page_base}/sdk/js?client-id={CLIENT_ID}&currency={}&intent=capture\"></script></head>\
             <body data-order-currency=\"{}\"><div id=\"paypal-button-container\"></div>\
             <p id=\"ready\"></p><p id=\"out\"></p><script src=\"/merchant.js\"></script></body></html>",
            q["sdk"], q["order"]
        )
    };
    let app = merchant_page(csp, MERCHANT_JS, page)
        .route(
            "/create",
            axum::routing::post(move |Query(q): Query<HashMap<String, String>>| {
                let (http, base, token) = (http.clone(), create_base.clone(), create_token.clone());
                async move {
                    let currency = q["currency"].clone();
                    let value = if currency == "JPY" { "1500" } else { "15.00" };
                    let body = order_body("CAPTURE", &currency, value, None);
                    let url = format!("{base}/v2/checkout/orders");
                    let r = post_json(&http, url, &token, &body).await;
                    axum::Json(json!({"id": r["id"]}))
                }
            }),
        )
        .route(
            "/capture/{id}",
            axum::routing::post(move |Path(id): Path<String>| {
                let (http, base, token) = (http2.clone(), capture_base.clone(), token.clone());
                async move {
                    let url = format!("{base}/v2/checkout/orders/{id}/capture");
                    let r = post_json(&http, url, &token, &json!({})).await;
                    axum::Json(json!({
                        "status": r["purchase_units"][0]["payments"]["captures"][0]["status"],
                        "issue": r["details"][0]["issue"],
                    }))
                }
            }),
        );
    serve_local(app).await.port()
}

/// What the merchant's server does: POSTs `body` to the emulator's `url` with its token; the JSON
/// answer.
async fn post_json(http: &reqwest::Client, url: String, token: &str, body: &Value) -> Value {
    let answer = http.post(url).bearer_auth(token).json(body).send().await;
    answer.unwrap().json().await.unwrap()
}

/// Clicks the PayPal button (inside its frame) on the main window.
async fn click_button(
    browser: &paygate_tests::browser::Browser,
    main: &fantoccini::wd::WindowHandle,
) {
    use fantoccini::Locator;
    let c = &browser.client;
    c.switch_to_window(main.clone()).await.unwrap();
    c.enter_parent_frame().await.ok();
    browser.wait_text("#ready", |t| t == "ready").await;
    let frame = c
        .find(Locator::Css("#paypal-button-container iframe"))
        .await
        .unwrap();
    frame.enter_frame().await.unwrap();
    c.find(Locator::Id("paypal-button"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    c.enter_parent_frame().await.unwrap();
}

/// Clicks the PayPal button and switches to the window it opens.
async fn click_and_enter_popup(
    browser: &paygate_tests::browser::Browser,
    main: &fantoccini::wd::WindowHandle,
) {
    click_button(browser, main).await;
    let c = &browser.client;
    for _ in 0..200 {
        let windows = c.windows().await.unwrap();
        if let Some(popup) = windows.into_iter().find(|w| w != main) {
            c.switch_to_window(popup).await.unwrap();
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("the PayPal window never opened");
}

/// In the PayPal window: waits for `css`, then clicks it.
async fn popup_click(browser: &paygate_tests::browser::Browser, css: &str) {
    use fantoccini::Locator;
    for _ in 0..200 {
        if let Ok(el) = browser.client.find(Locator::Css(css)).await {
            if el.click().await.is_ok() {
                return;
            }
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("{css} never appeared in the PayPal window");
}

async fn back_to(browser: &paygate_tests::browser::Browser, main: &fantoccini::wd::WindowHandle) {
    browser.client.switch_to_window(main.clone()).await.unwrap();
}

async fn popup_gone(
    browser: &paygate_tests::browser::Browser,
    main: &fantoccini::wd::WindowHandle,
) {
    for _ in 0..200 {
        let windows = browser.client.windows().await.unwrap();
        if windows.len() == 1 && &windows[0] == main {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("the PayPal window stayed open");
}

#[tokio::test]
async fn the_sdk_stand_in_runs_the_popup_flow_in_chromium() {
    let Some(browser) = paygate_tests::browser::start().await else {
        return;
    };
    let emu = start().await;
    let port = merchant_site(emu.base.clone(), emu.token.clone()).await;
    let c = &browser.client;
    c.goto(&format!("http://localhost:{port}/?sdk=USD&order=USD"))
        .await
        .unwrap();
    let main = c.window().await.unwrap();

    // Approve with PayPal balance: onApprove captures on the server and reads the order.
    click_and_enter_popup(&browser, &main).await;
    popup_click(&browser, "#pay-balance").await;
    back_to(&browser, &main).await;
    let out = browser.wait_text("#out", |t| !t.is_empty()).await;
    let parts: Vec<&str> = out.split(' ').collect();
    assert_eq!(parts[0], "approved", "{out}");
    assert_eq!(
        &parts[2..],
        [
            paygate_sandbox::paypal::BUYER_PAYER_ID,
            "COMPLETED",
            "COMPLETED",
            "token"
        ],
        "{out}"
    );
    assert_eq!(emu.emulator.order(parts[1]).unwrap()["status"], "COMPLETED");
    popup_gone(&browser, &main).await;
    assert_eq!(emu.emulator.captures_count(), 1);
    // The page disabled no funding source: the frame shows PayPal, Pay Later and the card
    // button, and createOrder was told which one was pressed.
    let sources = c
        .execute(
            "return [window.fundingSources, window.paymentSources]",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(sources, json!([["paypal", "paylater", "card"], ["paypal"]]));
    let frame = c
        .find(fantoccini::Locator::Css("#paypal-button-container iframe"))
        .await
        .unwrap();
    frame.enter_frame().await.unwrap();
    let shown = c
        .execute(
            "return Array.from(document.querySelectorAll('button')).filter(function (b) { return !b.hidden && b.offsetHeight > 0; }).map(function (b) { return b.id; })",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(
        shown,
        json!(["paypal-button", "paylater-button", "card-button"])
    );
    c.enter_parent_frame().await.unwrap();

    // Declined at capture: the merchant restarts, the same window shows the approval page
    // again, the buyer picks another source, and the capture completes.
    c.execute("document.getElementById('out').textContent = ''", vec![])
        .await
        .unwrap();
    click_and_enter_popup(&browser, &main).await;
    popup_click(&browser, "#pay-instrument-declined").await;
    popup_click(&browser, "#again ~ form #pay-balance").await;
    back_to(&browser, &main).await;
    let out = browser.wait_text("#out", |t| !t.is_empty()).await;
    assert!(
        out.starts_with("approved ") && out.contains(" COMPLETED COMPLETED "),
        "{out}"
    );
    let approvals = c.execute("return window.approvals", vec![]).await.unwrap();
    assert_eq!(
        approvals,
        json!(3),
        "onApprove ran twice for the restarted order"
    );
    popup_gone(&browser, &main).await;
    assert_eq!(emu.emulator.captures_count(), 2);

    // Cancel on the approval page: onCancel with the order id, the window closes.
    c.execute("document.getElementById('out').textContent = ''", vec![])
        .await
        .unwrap();
    click_and_enter_popup(&browser, &main).await;
    popup_click(&browser, "#cancel").await;
    back_to(&browser, &main).await;
    let out = browser.wait_text("#out", |t| !t.is_empty()).await;
    assert!(out.starts_with("cancel "), "{out}");
    let cancelled = out.trim_start_matches("cancel ");
    assert_eq!(emu.emulator.order(cancelled).unwrap()["status"], "CREATED");
    popup_gone(&browser, &main).await;

    let violations = c
        .execute("return window.cspViolations", vec![])
        .await
        .unwrap();
    assert_eq!(violations, json!([]));

    // The SDK URL says USD but the order is EUR: onError, as the real SDK.
    c.goto(&format!("http://localhost:{port}/?sdk=USD&order=EUR"))
        .await
        .unwrap();
    let main = c.window().await.unwrap();
    click_button(&browser, &main).await;
    let out = browser.wait_text("#out", |t| !t.is_empty()).await;
    assert!(
        out.starts_with("error Expected currency from order api call to be USD, got EUR. Please ensure you are passing currency=EUR to the sdk url."),
        "{out}"
    );
    popup_gone(&browser, &main).await;
    let violations = c
        .execute("return window.cspViolations", vec![])
        .await
        .unwrap();
    assert_eq!(violations, json!([]));
    browser.close().await;
}
