//! What Stripe.js uses: the publishable key's reach, the stand-in and its card frame, and the
//! stand-in paying from a cross-origin page in Chromium.

use super::{start, Emu, PK};
use axum::http::StatusCode;
use paygate_tests::emulator::{merchant_page, s, serve_local};
use serde_json::json;
use std::sync::{Arc, Mutex};
use std::time::Duration;

#[tokio::test]
async fn publishable_key_reaches_only_what_stripe_js_needs() {
    let emu = start().await;
    let pi = emu.intent("1000", &[("metadata[order]", "9")]).await;
    let id = s(&pi["id"]);
    let secret = s(&pi["client_secret"]);
    let without = emu
        .send(
            emu.http
                .get(format!("{}/v1/payment_intents/{id}", emu.base))
                .bearer_auth(PK),
        )
        .await;
    assert_eq!(without.status, StatusCode::BAD_REQUEST);
    let wrong = emu
        .send(
            emu.http
                .get(format!(
                    "{}/v1/payment_intents/{id}?client_secret={id}_secret_nope",
                    emu.base
                ))
                .bearer_auth(PK),
        )
        .await;
    assert_eq!(wrong.status, StatusCode::BAD_REQUEST);
    let with = emu
        .send(
            emu.http
                .get(format!("{}/v1/payment_intents/{id}", emu.base))
                .query(&[("client_secret", secret)])
                .bearer_auth(PK),
        )
        .await;
    assert_eq!(with.status, StatusCode::OK);
    assert_eq!(with.body["status"], "requires_payment_method");
    assert!(with.body.get("metadata").is_none());
    assert!(with.body.get("customer").is_none());
    let list = emu
        .send(
            emu.http
                .get(format!("{}/v1/payment_intents", emu.base))
                .bearer_auth(PK),
        )
        .await;
    assert_eq!(list.status, StatusCode::UNAUTHORIZED);
    let confirm = emu
        .post_pk(
            &format!("/v1/payment_intents/{id}/confirm"),
            &[
                ("payment_method", "pm_card_visa"),
                ("client_secret", secret),
            ],
        )
        .await;
    assert_eq!(confirm.body["status"], "succeeded");
    // CORS for Stripe.js on merchant pages.
    let preflight = emu
        .http
        .request(
            reqwest::Method::OPTIONS,
            format!("{}/v1/payment_methods", emu.base),
        )
        .header("origin", "https://shop.example")
        .header("access-control-request-method", "POST")
        .header(
            "access-control-request-headers",
            "authorization,content-type",
        )
        .send()
        .await
        .unwrap();
    assert!(preflight.status().is_success());
    assert_eq!(preflight.headers()["access-control-allow-origin"], "*");
}

#[tokio::test]
async fn stripe_js_stand_in_and_card_frame_are_served_safely() {
    let emu = start().await;
    let js = emu
        .http
        .get(format!("{}/js/v3/", emu.base))
        .send()
        .await
        .unwrap();
    assert_eq!(js.status(), 200);
    assert!(js.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("application/javascript"));
    let text = js.text().await.unwrap();
    for name in [
        "confirmPayment",
        "retrievePaymentIntent",
        "elements",
        "mount",
        "postMessage",
    ] {
        assert!(text.contains(name), "{name}");
    }
    assert!(
        text.contains(&format!("\"{}\"", emu.base)),
        "the base URL is written in"
    );
    assert!(!text.contains("__PAYGATE_STRIPE_BASE__"));

    let frame = emu
        .http
        .get(format!("{}/js/elements-inner-card.html", emu.base))
        .send()
        .await
        .unwrap();
    let csp = frame.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_string();
    assert!(csp.contains("frame-ancestors *"));
    assert!(csp.contains("script-src 'self'"));
    assert!(!csp.contains("unsafe"));
    let html = frame.text().await.unwrap();
    let scripts: Vec<&str> = html.split("<script").skip(1).collect();
    assert!(!scripts.is_empty());
    assert!(
        scripts.iter().all(|s| s.trim_start().starts_with("src=")),
        "no inline script"
    );
    assert!(!html.contains("style=\""), "no inline styles");
    for asset in [
        "elements-inner-card.js",
        "elements-inner-card.css",
        "3ds.js",
        "3ds.css",
    ] {
        let r = emu
            .http
            .get(format!("{}/js/{asset}", emu.base))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200, "{asset}");
    }
}

// ---- the Stripe.js stand-in in a real browser ----------------------------------------------------

/// A merchant page (on `localhost`, another origin than the emulator's `127.0.0.1`) with a strict
/// CSP that allows only the emulator's origin, using the stand-in as a widget would.
const MERCHANT_JS: &str = r#"
(function () {
  'use strict';
  window.cspViolations = [];
  document.addEventListener('securitypolicyviolation', function (e) {
    window.cspViolations.push(e.violatedDirective + ' ' + e.blockedURI);
  });
  var d = document.body.dataset;
  var stripe = Stripe(d.pk);
  // A group without clientSecret or mode cannot make a Payment Element (thrown at once).
  try {
    stripe.elements({}).create('payment');
    window.integrationError = 'none';
  } catch (e) {
    window.integrationError = e.name + ': ' + e.message;
  }
  var elements = stripe.elements({ clientSecret: d.cs, appearance: { variables: { colorPrimary: '#ff0000', borderRadius: '9px' } } });
  var element = elements.create('payment', { layout: 'tabs' });
  window.changes = [];
  element.on('change', function (e) { window.changes.push(e); });
  element.on('ready', function () { document.getElementById('ready').textContent = 'ready'; });
  element.on('loaderror', function (e) {
    document.getElementById('ready').textContent = 'loaderror ' + e.elementType + ' ' + e.error.type;
  });
  element.mount('#payment-element');
  document.getElementById('pay').addEventListener('click', async function () {
    var r = await stripe.confirmPayment({ elements: elements, confirmParams: { return_url: location.href }, redirect: 'if_required' });
    var again = await stripe.retrievePaymentIntent(d.cs);
    document.getElementById('out').textContent = r.error
      ? 'error ' + r.error.type + ' ' + (r.error.code || '') + ' ' + (r.error.decline_code || '') + ' ' + (r.error.payment_intent ? r.error.payment_intent.status : '')
      : 'ok ' + r.paymentIntent.status + ' ' + again.paymentIntent.status;
  });
})();
"#;

async fn merchant_site(emulator_base: String, seen: Arc<Mutex<Vec<String>>>) -> u16 {
    use axum::extract::Request;
    let origin = emulator_base.trim_end_matches("/stripe").to_string();
    let base = emulator_base.clone();
    let csp = format!(
        "default-src 'none'; script-src 'self' {origin}; connect-src 'self' {origin}; \
         frame-src {origin}; style-src 'self'; img-src 'self'"
    );
    let app = merchant_page(csp, MERCHANT_JS, move |q| {
        format!(
            "<!doctype html><html><head><meta charset=\"utf-8\"><title>shop</title>\
             <script src=\"{base}/js/v3/\"></script></head>\
             <body data-pk=\"{}\" data-cs=\"{}\"><div id=\"payment-element\"></div>\
             <button id=\"pay\">Pay</button><p id=\"ready\"></p><p id=\"out\"></p>\
             <script src=\"/merchant.js\"></script></body></html>",
            q["pk"], q["cs"]
        )
    })
    .layer(axum::middleware::from_fn(
        move |req: Request, next: axum::middleware::Next| {
            let seen = seen.clone();
            async move {
                seen.lock().unwrap().push(req.uri().to_string());
                next.run(req).await
            }
        },
    ));
    serve_local(app).await.port()
}

async fn pay_in_browser(
    browser: &paygate_tests::browser::Browser,
    emu: &Emu,
    port: u16,
    number: &str,
) -> (String, String) {
    use fantoccini::Locator;
    let pi = emu.intent("1000", &[]).await;
    let cs = s(&pi["client_secret"]).to_string();
    let url = format!("http://localhost:{port}/?pk={PK}&cs={cs}");
    let c = &browser.client;
    c.goto(&url).await.unwrap();
    browser.wait_text("#ready", |t| t == "ready").await;
    let frame = c
        .find(Locator::Css("#payment-element iframe"))
        .await
        .unwrap();
    frame.enter_frame().await.unwrap();
    c.find(Locator::Id("number"))
        .await
        .unwrap()
        .send_keys(number)
        .await
        .unwrap();
    c.find(Locator::Id("expiry"))
        .await
        .unwrap()
        .send_keys("1234")
        .await
        .unwrap();
    c.find(Locator::Id("cvc"))
        .await
        .unwrap()
        .send_keys("123")
        .await
        .unwrap();
    // appearance.variables style the frame's fields.
    let color = c
        .execute(
            "return getComputedStyle(document.querySelector('.tab')).borderTopColor + ' ' + getComputedStyle(document.getElementById('number')).borderTopLeftRadius",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(color, json!("rgb(255, 0, 0) 9px"));
    c.enter_parent_frame().await.unwrap();
    let complete = c
        .execute(
            "return window.changes.length > 0 && window.changes[window.changes.length - 1].complete",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(complete, json!(true));
    c.find(Locator::Id("pay"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    (s(&pi["id"]).to_string(), cs)
}

#[tokio::test]
async fn the_stand_in_pays_from_a_cross_origin_page_in_chromium() {
    let Some(browser) = paygate_tests::browser::start().await else {
        return;
    };
    let emu = start().await;
    let seen = Arc::new(Mutex::new(Vec::new()));
    let port = merchant_site(emu.base.clone(), seen.clone()).await;

    // An element whose client secret Stripe refuses fails to load, saying so (`loaderror`),
    // and is never `ready`; a group made without clientSecret or mode refuses to make one.
    use fantoccini::Locator;
    let pi = emu.intent("1000", &[]).await;
    let wrong = format!("{}_secret_wrong", s(&pi["id"]));
    browser
        .client
        .goto(&format!("http://localhost:{port}/?pk={PK}&cs={wrong}"))
        .await
        .unwrap();
    let load = browser.wait_text("#ready", |t| !t.is_empty()).await;
    assert_eq!(load, "loaderror payment invalid_request_error");
    assert!(!browser.exists("#payment-element iframe").await);
    let thrown = browser
        .client
        .execute("return window.integrationError", vec![])
        .await
        .unwrap();
    assert!(
        thrown.as_str().is_some_and(|t| t.starts_with(
            "IntegrationError: In order to create a payment element, you must pass a clientSecret or mode"
        )),
        "{thrown}"
    );

    // A plain card.
    let (id, _) = pay_in_browser(&browser, &emu, port, "4242424242424242").await;
    let out = browser.wait_text("#out", |t| !t.is_empty()).await;
    assert_eq!(out, "ok succeeded succeeded");
    assert_eq!(
        emu.emulator.payment_intent(&id).unwrap()["status"],
        "succeeded"
    );

    // A declined card: the error has Stripe's shape.
    let (id, _) = pay_in_browser(&browser, &emu, port, "4000000000009995").await;
    let out = browser.wait_text("#out", |t| !t.is_empty()).await;
    assert_eq!(
        out,
        "error card_error card_declined insufficient_funds requires_payment_method"
    );
    assert_eq!(
        emu.emulator.payment_intent(&id).unwrap()["status"],
        "requires_payment_method"
    );

    // 3-D Secure 2: the fingerprint action's source goes to /v1/3ds2/authenticate, and the
    // challenge it names opens as a modal frame over the page.
    let (id, _) = pay_in_browser(&browser, &emu, port, "4000002500003155").await;
    let c = &browser.client;
    let mut modal = None;
    for _ in 0..100 {
        if let Ok(f) = c.find(Locator::Css(".__PaygateStripe3DS iframe")).await {
            modal = Some(f);
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    modal
        .expect("the challenge modal")
        .enter_frame()
        .await
        .unwrap();
    c.find(Locator::Id("complete"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    c.enter_parent_frame().await.unwrap();
    let out = browser.wait_text("#out", |t| !t.is_empty()).await;
    assert_eq!(out, "ok succeeded succeeded");
    assert_eq!(
        emu.emulator.payment_intent(&id).unwrap()["status"],
        "succeeded"
    );
    assert!(
        !browser.exists(".__PaygateStripe3DS").await,
        "the modal is gone"
    );
    let source = format!("source=payatt_{}", id.trim_start_matches("pi_"));
    assert!(
        emu.emulator
            .received_request_bodies()
            .iter()
            .any(|b| b.contains(&source)),
        "the stand-in authenticated the 3DS2 source"
    );

    let violations = c
        .execute("return window.cspViolations", vec![])
        .await
        .unwrap();
    assert_eq!(violations, json!([]));
    // Card data went to the emulator only, never to the merchant's site.
    let bodies = emu.emulator.received_request_bodies();
    assert!(bodies.iter().any(|b| b.contains("4242424242424242")));
    let merchant_saw = seen.lock().unwrap().join("\n");
    assert!(!merchant_saw.contains("4242"), "{merchant_saw}");
    browser.close().await;
}
