//! Card payments through Stripe's Payment Element (the sandbox's Stripe.js stand-in, its card
//! fields in their own frame on the emulator's origin).

use super::{messages, DECLINED, THREE_D_SECURE, VISA};
use fantoccini::key::Key;
use paygate::config::EMULATOR_STRIPE_SECRET_KEY;
use paygate_tests::shop::{event, session_body, Shop};
use serde_json::{json, Value};

/// The PaymentIntent behind a paygate payment, as the emulator has it.
fn intent(shop: &Shop<'_>, payment: &Value) -> Value {
    let pi = payment["provider_reference"]
        .as_str()
        .expect("PaymentIntent id");
    assert!(pi.starts_with("pi_"), "{payment}");
    shop.app
        .stripe
        .as_ref()
        .expect("sandbox")
        .payment_intent(pi)
        .unwrap_or_else(|| panic!("the emulator has {pi}"))
}

/// The session is complete with one succeeded card payment of `minor`, which is also the
/// receipt's reference and the merchant's `onSuccess` payment; Stripe has it succeeded.
async fn assert_paid_by_card(
    shop: &Shop<'_>,
    sid: &str,
    minor: i64,
    reference: &str,
    events: &[Value],
) {
    let payment = &shop
        .assert_paid(sid, "stripe", minor, reference, events)
        .await;
    let pi = intent(shop, payment);
    assert_eq!(pi["status"], "succeeded", "{pi}");
    assert_eq!(pi["amount_received"], minor);
}

/// A customer pays 4242… in a widget themed by the merchant: the theme reaches the widget's
/// CSS and Stripe's frame, values that are not plain colours or lengths do not.
pub async fn success_and_theme(shop: &Shop<'_>) -> String {
    let sid = shop
        .create_session(session_body("19.99", "USD", json!({})))
        .await;
    let theme = json!({
        "colorPrimary": "#0a7d5a",
        "radius": "3px",
        "fontFamily": "Georgia, serif",
        "colorText": "red;background:url(https://evil.example/x)",
        "shadow": "#000000"
    });
    shop.open(&sid, json!({ "theme": theme })).await;
    shop.wait_state("ready").await;

    // In the widget: the accepted values are its custom properties, the rest is its default.
    let style = shop
        .browser
        .js("var root = getComputedStyle(document.documentElement); \
             var card = getComputedStyle(document.getElementById('pg-checkout')); \
             return { primary: root.getPropertyValue('--pg-color-primary').trim(), \
                      radius: getComputedStyle(document.getElementById('pg-message')).borderTopLeftRadius, \
                      font: card.fontFamily, color: card.color, \
                      search: location.search }")
        .await;
    assert_eq!(style["primary"], "#0a7d5a", "{style}");
    assert_eq!(style["radius"], "3px", "{style}");
    assert_eq!(style["font"], "Georgia, serif", "{style}");
    assert_eq!(
        style["color"], "rgb(26, 29, 36)",
        "colorText was refused: {style}"
    );
    let search = style["search"].as_str().unwrap_or_default();
    assert!(
        !search.contains("evil") && !search.contains("shadow"),
        "the loader passed only known keys with plain values: {search}"
    );

    shop.choose("card").await;
    // In Stripe's frame: the same values, as appearance.variables.
    let frame = shop.browser.wait_for("#pg-card iframe").await;
    frame.enter_frame().await.expect("card frame");
    let inner = shop
        .browser
        .wait_js(
            "Stripe's frame themed",
            "var s = getComputedStyle(document.documentElement); \
             var v = { primary: s.getPropertyValue('--pg-color-primary').trim(), \
                       radius: s.getPropertyValue('--pg-border-radius').trim(), \
                       font: s.getPropertyValue('--pg-font-family').trim() }; \
             return v.primary ? v : null",
        )
        .await;
    assert_eq!(inner["primary"], "#0a7d5a", "{inner}");
    assert_eq!(inner["radius"], "3px", "{inner}");
    assert_eq!(inner["font"], "Georgia, serif", "{inner}");
    shop.browser
        .client
        .enter_parent_frame()
        .await
        .expect("widget");

    shop.fill_card(VISA).await;
    shop.pay().await;
    let (amount, reference) = shop.receipt().await;
    assert_eq!(amount, "$19.99");
    assert_eq!(shop.message().await, messages::SUCCEEDED);
    let events = shop.wait_events(1).await;
    assert_eq!(events.len(), 1, "{events:?}");
    assert_paid_by_card(shop, &sid, 1999, &reference, &events).await;
    sid
}

/// 4000 0000 0000 0002 is declined: the customer is told, the merchant hears
/// `payment_declined`, nothing is paid; the customer types 4242… and pays.
pub async fn declined_then_good_card(shop: &Shop<'_>) {
    let sid = shop
        .create_session(session_body("7.50", "EUR", json!({})))
        .await;
    shop.open(&sid, json!({})).await;
    shop.choose("card").await;
    shop.fill_card(DECLINED).await;
    shop.pay().await;
    shop.wait_state("declined").await;
    let message = shop.message().await;
    assert!(message.contains("declined"), "{message}");
    assert!(shop.browser.exists("#pg-retry").await, "a way to try again");
    let events = shop.wait_events(1).await;
    let (kind, detail) = event(&events[0]);
    assert_eq!(
        (kind, detail["code"].as_str()),
        ("error", Some("payment_declined"))
    );
    let session = shop.session(&sid).await;
    assert_eq!(session["status"], "open");
    let payments = shop.payments_of(&sid).await;
    assert_eq!(payments.len(), 1, "{payments:?}");
    assert_eq!(payments[0]["status"], "requires_payment_method");
    assert_eq!(
        intent(shop, &payments[0])["status"],
        "requires_payment_method"
    );

    shop.fill_card(VISA).await;
    shop.wait_state("ready").await;
    shop.pay().await;
    let (amount, reference) = shop.receipt().await;
    assert_eq!(amount, "€7.50");
    let events = shop.wait_events(2).await;
    assert_eq!(events.len(), 2, "{events:?}");
    assert_eq!(
        reference, payments[0]["id"],
        "the same PaymentIntent, confirmed again"
    );
    assert_paid_by_card(shop, &sid, 750, &reference, &events).await;
}

/// Starts a payment with the 3-D Secure card and waits for Stripe.js's challenge; checks that
/// the merchant's frame grew so the challenge is shown whole.
async fn pay_into_challenge(shop: &Shop<'_>, amount: &str) -> String {
    let sid = shop
        .create_session(session_body(amount, "GBP", json!({})))
        .await;
    shop.open(&sid, json!({})).await;
    shop.choose("card").await;
    shop.fill_card(THREE_D_SECURE).await;
    shop.pay().await;
    shop.wait_state("three_d_secure").await;
    assert_eq!(shop.message().await, messages::THREE_D_SECURE);
    // The merchant's frame grows (the widget asks while the challenge is open), so the
    // challenge gets its full height instead of being squeezed into the checkout's.
    shop.browser
        .wait_js(
            "the challenge shown whole",
            "var box = document.querySelector('.__PaygateStripe3DS > div'); \
             return !!box && box.getBoundingClientRect().height >= 520",
        )
        .await;
    assert!(
        shop.frame_height().await >= 640.0,
        "the frame grew for the challenge"
    );
    sid
}

/// 4000 0025 0000 3155 asks for 3-D Secure; the customer completes it and the payment goes
/// through.
pub async fn three_d_secure_completed(shop: &Shop<'_>) {
    let sid = pay_into_challenge(shop, "25.00").await;
    shop.answer_challenge("#complete").await;
    let (amount, reference) = shop.receipt().await;
    assert_eq!(amount, "£25.00");
    let events = shop.wait_events(1).await;
    assert_eq!(events.len(), 1, "{events:?}");
    assert_paid_by_card(shop, &sid, 2500, &reference, &events).await;
}

/// The customer fails the challenge: told so, the merchant hears `payment_declined`, nothing
/// is paid.
pub async fn three_d_secure_failed(shop: &Shop<'_>) {
    let sid = pay_into_challenge(shop, "26.00").await;
    shop.answer_challenge("#fail").await;
    shop.wait_state("declined").await;
    assert_eq!(shop.message().await, messages::AUTHENTICATION_FAILED);
    let events = shop.wait_events(1).await;
    let (kind, detail) = event(&events[0]);
    assert_eq!(
        (kind, detail["code"].as_str()),
        ("error", Some("payment_declined"))
    );
    assert_eq!(shop.session(&sid).await["status"], "open");
    let payments = shop.payments_of(&sid).await;
    assert_eq!(payments.len(), 1, "{payments:?}");
    assert_eq!(
        payments[0]["status"], "requires_payment_method",
        "{payments:?}"
    );
    assert_eq!(payments[0]["captured_minor"], 0);
    let pi = intent(shop, &payments[0]);
    assert_eq!(pi["status"], "requires_payment_method", "{pi}");
    assert_eq!(
        pi["last_payment_error"]["code"], "payment_intent_authentication_failure",
        "{pi}"
    );
}

/// `confirmPayment` with a payment that must leave the page: Stripe.js sends the widget's frame
/// to the bank's page, which returns to `return_url` (the widget) with `payment_intent` and
/// `redirect_status`; the widget then asks paygate, which re-reads the PaymentIntent. The
/// emulator's `redirect_next` knob hands the challenge out as `redirect_to_url`, as Stripe does
/// for redirect-based payment methods.
pub async fn redirect_and_return(shop: &Shop<'_>) {
    let stripe = shop.app.stripe.as_ref().expect("sandbox");
    let knob = shop
        .app
        .client
        .post(format!("{}/_emulator/faults", stripe.config().public_base))
        .bearer_auth(EMULATOR_STRIPE_SECRET_KEY)
        .json(&json!({ "redirect_next": 1 }))
        .send()
        .await
        .expect("emulator knob");
    assert_eq!(knob.status(), 200);
    let sid = shop
        .create_session(session_body("31.00", "USD", json!({})))
        .await;
    shop.open(&sid, json!({})).await;
    shop.choose("card").await;
    shop.fill_card(THREE_D_SECURE).await;
    shop.pay().await;
    // The frame now shows the bank's page (the emulator's origin) instead of the widget.
    let title = shop
        .browser
        .wait_js(
            "the bank's page in the frame",
            "return document.getElementById('complete') ? document.title : null",
        )
        .await;
    assert_eq!(title, "3D Secure 2 Test Page");
    shop.browser
        .wait_for("#complete")
        .await
        .click()
        .await
        .expect("complete");
    let (amount, reference) = shop.receipt().await;
    assert_eq!(amount, "$31.00");
    let search = shop.browser.js("return location.search").await;
    let search = search.as_str().unwrap_or_default();
    assert!(
        search.contains("redirect_status=succeeded") && search.contains("embed=1"),
        "back on the widget from the redirect: {search}"
    );
    let events = shop.wait_events(1).await;
    assert_eq!(events.len(), 1, "{events:?}");
    assert_paid_by_card(shop, &sid, 3100, &reference, &events).await;
}

/// A whole purchase with the keyboard alone: Tab into the widget, Space on "Card", Tab into
/// Stripe's fields, type, Tab to Pay, Enter. Focus lands on the receipt.
pub async fn keyboard_only(shop: &Shop<'_>) {
    let sid = shop
        .create_session(session_body("4.20", "USD", json!({})))
        .await;
    shop.open(&sid, json!({})).await;
    let focused = "var a = document.activeElement; return a ? a.id : null";
    shop.browser.client.enter_frame(None).await.expect("top");
    shop.browser.tab().await;
    shop.enter_widget().await;
    assert_eq!(shop.browser.js(focused).await, "pg-method-card");
    shop.browser.press(&[' ']).await;
    shop.browser
        .wait_js(
            "the card form ready",
            "var b = document.getElementById('pg-pay'); return !!b && !b.disabled",
        )
        .await;
    shop.browser.tab().await;
    let frame = shop.browser.wait_for("#pg-card iframe").await;
    frame.enter_frame().await.expect("card frame");
    assert_eq!(shop.browser.js(focused).await, "number");
    // The fields move on by themselves once complete, as Stripe's do.
    shop.browser.type_text(VISA).await;
    shop.browser.type_text("1234").await;
    shop.browser.type_text("123").await;
    assert_eq!(shop.browser.js(focused).await, "cvc");
    shop.browser.tab().await; // postal code
    shop.browser.tab().await; // out of Stripe's frame
    shop.enter_widget().await;
    assert_eq!(shop.browser.js(focused).await, "pg-pay");
    shop.browser.press(&[Key::Enter.into()]).await;
    let (amount, reference) = shop.receipt().await;
    assert_eq!(amount, "$4.20");
    shop.browser
        .wait_js(
            "focus on the receipt",
            "return document.activeElement.id === 'pg-receipt'",
        )
        .await;
    let events = shop.wait_events(1).await;
    assert_paid_by_card(shop, &sid, 420, &reference, &events).await;
}
