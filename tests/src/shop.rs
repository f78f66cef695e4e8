//! Driving the checkout widget embedded in the merchant's page ([`crate::merchant`]) as a
//! customer does, and reading what the merchant's page and paygate's merchant API say.
//!
//! Frames: the merchant's page (top) holds paygate's iframe (`#pay iframe`, the widget), which
//! holds Stripe's card frame (`#pg-card iframe`), PayPal's button frame (`#pg-paypal iframe`)
//! and, during 3-D Secure, the challenge frame. Methods say which frame they leave the driver
//! in; most leave it in the widget's frame.

use crate::app::{json_with_status, TestApp};
use crate::browser::Browser;
use crate::merchant::MerchantSite;
use fantoccini::Locator;
use serde_json::{json, Value};

pub struct Shop<'a> {
    pub browser: &'a Browser,
    pub merchant: &'a MerchantSite,
    pub app: &'a TestApp,
}

impl Shop<'_> {
    // ---- paygate's merchant API ----------------------------------------------------------

    /// Opens a checkout session (201) and returns its id.
    pub async fn create_session(&self, body: Value) -> String {
        let s = self.app.create_session(&body).await;
        s["id"].as_str().expect("session id").to_owned()
    }

    /// `GET /v1/checkout/sessions/{id}`.
    /// The session is complete, paid by one succeeded `provider` payment of `minor` that is
    /// also the receipt's `reference` and the payment of the merchant page's last (`success`)
    /// event. Returns that payment, for the provider-side checks.
    pub async fn assert_paid(
        &self,
        sid: &str,
        provider: &str,
        minor: i64,
        reference: &str,
        events: &[Value],
    ) -> Value {
        let session = self.session(sid).await;
        assert_eq!(session["status"], "complete", "{session}");
        let payment = session["payment"].clone();
        assert_eq!(payment["id"], reference);
        assert_eq!(payment["provider"], provider);
        assert_eq!(payment["status"], "succeeded");
        assert_eq!(payment["captured_minor"], minor);
        let (kind, detail) = event(events.last().expect("an event"));
        assert_eq!(kind, "success", "{events:?}");
        assert_eq!(detail["session"], sid);
        assert_eq!(detail["payment"], reference);
        payment
    }

    pub async fn session(&self, id: &str) -> Value {
        json_with_status(
            self.app.get(&format!("/v1/checkout/sessions/{id}")).await,
            200,
        )
        .await
    }

    /// `GET /v1/payments/{id}`.
    pub async fn payment(&self, id: &str) -> Value {
        json_with_status(self.app.get(&format!("/v1/payments/{id}")).await, 200).await
    }

    /// The session's payments (newest first), from `GET /v1/payments`.
    pub async fn payments_of(&self, session: &str) -> Vec<Value> {
        let list = json_with_status(self.app.get("/v1/payments?limit=100").await, 200).await;
        list["data"]
            .as_array()
            .expect("payment list")
            .iter()
            .filter(|p| p["checkout_session"] == session)
            .cloned()
            .collect()
    }

    // ---- the merchant's page -------------------------------------------------------------

    /// Opens the merchant's checkout page mounting the widget for `session` with `options`
    /// (see [`crate::merchant`]), and enters the widget's frame once it shows the session.
    pub async fn open(&self, session: &str, options: Value) {
        self.browser
            .client
            .goto(&self.merchant.page(session, &options))
            .await
            .expect("merchant page");
        self.enter_widget().await;
        self.browser
            .wait_js(
                "the widget loaded its session",
                "var c = document.getElementById('pg-checkout'); \
                 return c && c.dataset.state !== 'loading' ? c.dataset.state : null",
            )
            .await;
    }

    /// From anywhere in the current window to the widget's frame.
    pub async fn enter_widget(&self) {
        self.browser.client.enter_frame(None).await.expect("top");
        let frame = self.browser.wait_for("#pay iframe").await;
        frame.enter_frame().await.expect("widget frame");
    }

    /// What the merchant's page received so far (`window.__events`); back in the widget.
    pub async fn events(&self) -> Vec<Value> {
        self.browser.client.enter_frame(None).await.expect("top");
        let events = self.browser.js("return window.__events").await;
        self.enter_widget().await;
        events.as_array().cloned().unwrap_or_default()
    }

    /// Waits until the merchant's page has received `count` events and returns them all.
    pub async fn wait_events(&self, count: usize) -> Vec<Value> {
        self.browser.client.enter_frame(None).await.expect("top");
        self.browser
            .wait_js(
                &format!("{count} events on the merchant's page"),
                &format!("return window.__events.length >= {count} ? window.__events : null"),
            )
            .await;
        let events = self.browser.js("return window.__events").await;
        self.enter_widget().await;
        events.as_array().cloned().unwrap_or_default()
    }

    /// The height of paygate's iframe on the merchant's page, in CSS pixels; back in the widget.
    pub async fn frame_height(&self) -> f64 {
        self.browser.client.enter_frame(None).await.expect("top");
        let h = self
            .browser
            .js("return document.querySelector('#pay iframe').getBoundingClientRect().height")
            .await;
        self.enter_widget().await;
        h.as_f64().expect("height")
    }

    // ---- inside the widget ---------------------------------------------------------------

    /// Waits for the widget's `data-state` (see CheckoutView) to be `state`.
    pub async fn wait_state(&self, state: &str) {
        self.browser
            .wait_js(
                &format!("widget state {state}"),
                &format!(
                    "var c = document.getElementById('pg-checkout'); \
                     return !!c && c.dataset.state === '{state}'"
                ),
            )
            .await;
    }

    /// The status region's text.
    pub async fn message(&self) -> String {
        self.browser
            .wait_for("#pg-message")
            .await
            .text()
            .await
            .expect("message text")
    }

    pub async fn choose(&self, method: &str) {
        self.browser
            .wait_for(&format!("#pg-method-{method}"))
            .await
            .click()
            .await
            .expect("choose method");
    }

    /// Types a card into Stripe's card frame (replacing what is there); back in the widget.
    pub async fn fill_card(&self, number: &str) {
        let frame = self.browser.wait_for("#pg-card iframe").await;
        frame.enter_frame().await.expect("card frame");
        for (field, text) in [("#number", number), ("#expiry", "12/34"), ("#cvc", "123")] {
            let input = self.browser.wait_for(field).await;
            input.clear().await.expect("clear");
            input.send_keys(text).await.expect("type");
        }
        self.browser
            .client
            .enter_parent_frame()
            .await
            .expect("widget frame");
    }

    /// Clicks Pay once the card form is ready.
    pub async fn pay(&self) {
        self.browser
            .wait_js(
                "the Pay button enabled",
                "var b = document.getElementById('pg-pay'); return !!b && !b.disabled",
            )
            .await;
        self.browser
            .client
            .find(Locator::Id("pg-pay"))
            .await
            .expect("pay button")
            .click()
            .await
            .expect("pay");
    }

    /// Waits for the receipt and returns `(amount, payment reference)` as shown.
    pub async fn receipt(&self) -> (String, String) {
        self.wait_state("succeeded").await;
        let amount = self
            .browser
            .wait_text("#pg-receipt-amount", |t| !t.is_empty())
            .await;
        let reference = self
            .browser
            .wait_text("#pg-receipt-reference", |t| t.starts_with("pay_"))
            .await;
        (amount, reference)
    }

    /// During 3-D Secure: the challenge frame Stripe.js opened over the widget. Clicks
    /// `button` (`#complete` or `#fail`) in it; back in the widget.
    pub async fn answer_challenge(&self, button: &str) {
        let frame = self.browser.wait_for(".__PaygateStripe3DS iframe").await;
        frame.enter_frame().await.expect("challenge frame");
        self.browser
            .wait_for(button)
            .await
            .click()
            .await
            .expect("challenge button");
        self.enter_widget().await;
    }

    // ---- PayPal --------------------------------------------------------------------------

    /// Clicks PayPal's button (in its frame) and switches to the approval window it opens.
    /// Returns the merchant page's window, to come back to.
    pub async fn open_paypal(&self) -> fantoccini::wd::WindowHandle {
        let main = self.browser.client.window().await.expect("window");
        let frame = self.browser.wait_for("#pg-paypal iframe").await;
        frame.enter_frame().await.expect("paypal frame");
        self.browser
            .wait_for("#paypal-button")
            .await
            .click()
            .await
            .expect("PayPal button");
        let popup = self
            .browser
            .wait_for_new_window(std::slice::from_ref(&main))
            .await;
        self.browser
            .client
            .switch_to_window(popup)
            .await
            .expect("approval window");
        main
    }

    /// In PayPal's approval window: clicks `button` (`#pay-balance`, `#pay-instrument-declined`,
    /// `#cancel`, ...).
    pub async fn paypal_choose(&self, button: &str) {
        self.browser
            .wait_for(button)
            .await
            .click()
            .await
            .expect("approval choice");
    }

    /// Back from PayPal's window to the widget.
    pub async fn back_to(&self, main: fantoccini::wd::WindowHandle) {
        self.browser
            .client
            .switch_to_window(main)
            .await
            .expect("merchant window");
        self.enter_widget().await;
    }

    /// Waits until PayPal's window has closed (the SDK closes it when the payment is settled).
    pub async fn wait_popup_closed(&self) {
        self.browser.wait_for_windows(1).await;
    }
}

/// The event's `kind` and `detail` (`{kind, detail}` as the merchant's page recorded it).
pub fn event(e: &Value) -> (&str, &Value) {
    (e["kind"].as_str().unwrap_or_default(), &e["detail"])
}

/// A session body with the defaults these tests use.
pub fn session_body(amount: &str, currency: &str, extra: Value) -> Value {
    let mut body =
        json!({ "amount": amount, "currency": currency, "description": "Sencha, 100 g" });
    if let (Some(body), Some(extra)) = (body.as_object_mut(), extra.as_object()) {
        for (k, v) in extra {
            body.insert(k.clone(), v.clone());
        }
    }
    body
}
