//! Saved payment methods and off-session charges, on SQLite and PostgreSQL against the Stripe
//! emulator over real HTTP: a card saved in a checkout (always, or as the customer chooses),
//! listed for its customer only, charged later without the customer (success, decline, and a
//! bank that wants authentication, completed on paygate's page), removed, and kept in step
//! with Stripe's `payment_method.*` events whatever their order.

use paygate_tests::app::{eventually, json_with_status};
use paygate_tests::webhooks_in::deliver_stripe;
use paygate_tests::{on_both_databases, spawn_app, AppOptions, TestApp, TestDb};
use serde_json::{json, Value};
use std::time::Duration;

on_both_databases!(
    a_card_saved_in_a_checkout_is_listed_and_charged_off_session,
    a_saved_card_is_recorded_when_its_checkout_completes,
    a_lost_off_session_charge_is_never_made_later,
    saving_follows_the_customers_choice,
    an_off_session_decline_leaves_the_payment_open_with_its_reason,
    a_bank_that_wants_authentication_gets_it_on_paygates_page,
    customers_never_see_or_use_each_others_cards,
    a_removed_card_cannot_be_charged,
    stripes_events_keep_saved_cards_in_step_whatever_their_order,
    bad_requests_change_nothing,
);

async fn saved_cards(app: &TestApp, customer: &str) -> Vec<Value> {
    let list = json_with_status(
        app.get(&format!("/v1/customers/{customer}/payment_methods"))
            .await,
        200,
    )
    .await;
    list["data"].as_array().unwrap().clone()
}

/// Pays a checkout session for `customer` in the widget with `card`, telling the server the
/// customer's answer to "save this card" first when `save` is given; the session's id.
async fn pay_checkout(
    app: &TestApp,
    customer: &str,
    save_setting: Option<&str>,
    save: Option<bool>,
    card: &str,
) -> String {
    let mut body = json!({ "amount": "20.00", "currency": "USD", "customer": customer });
    if let Some(setting) = save_setting {
        body["save_payment_method"] = json!(setting);
    }
    let s = app.create_session(&body).await;
    let sid = s["id"].as_str().unwrap().to_string();
    let intent = json_with_status(app.widget_post(&sid, "stripe/intent").await, 200).await;
    if let Some(save) = save {
        let res = save_choice(app, &sid, json!({ "save": save })).await;
        assert_eq!(json_with_status(res, 200).await["save"], save);
    }
    let confirmed = app
        .stripe_js_confirm(intent["client_secret"].as_str().unwrap(), card)
        .await;
    assert_eq!(confirmed["status"], "succeeded", "{confirmed}");
    let done = json_with_status(app.widget_post(&sid, "stripe/complete").await, 200).await;
    assert_eq!(done["session"], "complete", "{done}");
    sid
}

/// The widget's `POST .../stripe/save` with `body`.
async fn save_choice(app: &TestApp, session: &str, body: Value) -> reqwest::Response {
    app.client
        .post(format!(
            "{}/checkout/api/sessions/{session}/stripe/save",
            app.url
        ))
        .json(&body)
        .send()
        .await
        .unwrap()
}

/// A step of the authentication page's script (`start` or `complete`) for payment `id`,
/// with the link's token.
async fn page_step(app: &TestApp, id: &str, token: &str, step: &str) -> reqwest::Response {
    app.client
        .post(format!("{}/authenticate/{id}/{step}?t={token}", app.url))
        .send()
        .await
        .unwrap()
}

/// A checkout for `customer` that lets them choose to save the card, with the widget's
/// PaymentIntent and its answers to the box (`answers`, in order) sent: the session's id and
/// the PaymentIntent's client secret.
async fn choose_saving(app: &TestApp, customer: &str, answers: &[bool]) -> (String, String) {
    let s = app
        .create_session(
            &json!({ "amount": "20.00", "currency": "USD", "customer": customer,
                                 "save_payment_method": "optional" }),
        )
        .await;
    let sid = s["id"].as_str().unwrap().to_string();
    let intent = json_with_status(app.widget_post(&sid, "stripe/intent").await, 200).await;
    for save in answers {
        let res = save_choice(app, &sid, json!({ "save": save })).await;
        assert_eq!(json_with_status(res, 200).await["save"], *save);
    }
    (sid, intent["client_secret"].as_str().unwrap().to_string())
}

/// `POST /v1/payments` charging `card` of `customer` off session.
async fn charge_off_session(app: &TestApp, customer: &str, card: &str) -> reqwest::Response {
    app.post(
        "/v1/payments",
        &json!({
            "provider": "stripe", "amount": "5.00", "currency": "USD",
            "customer": customer, "payment_method": card, "off_session": true,
        }),
    )
    .await
}

/// Every Stripe event the emulator sent about payment methods is processed.
async fn settled(app: &TestApp) {
    eventually(
        "payment method events applied",
        Duration::from_secs(15),
        || async {
            app.count(
                "SELECT COUNT(*) FROM provider_events WHERE processed_at IS NULL \
             AND event_type LIKE 'payment_method.%'",
            )
            .await
                == 0
        },
    )
    .await;
}

async fn event_types_of(app: &TestApp, object: &str) -> Vec<String> {
    let page = json_with_status(
        app.get(&format!("/v1/events?object_id={object}")).await,
        200,
    )
    .await;
    page["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["type"].as_str().unwrap().to_string())
        .collect()
}

async fn a_card_saved_in_a_checkout_is_listed_and_charged_off_session(db: TestDb) {
    let app = spawn_app(&db, AppOptions::default()).await;
    let stripe = app.stripe.clone().unwrap();
    let cus = app.create_customer(None).await;
    assert!(saved_cards(&app, &cus).await.is_empty());

    // Always saving: PayPal, which cannot save the card here, is not offered.
    let s = app
        .create_session(&json!({
            "amount": "20.00", "currency": "USD", "customer": cus,
            "save_payment_method": "always",
        }))
        .await;
    assert_eq!(s["providers"], json!(["stripe"]), "{s}");
    assert_eq!(s["customer"], cus);
    assert_eq!(s["save_payment_method"], "always");
    let sid = pay_checkout(&app, &cus, Some("always"), None, "pm_card_visa").await;
    let paid = json_with_status(app.get(&format!("/v1/checkout/sessions/{sid}")).await, 200).await;
    let pi = stripe
        .payment_intent(paid["payment"]["provider_reference"].as_str().unwrap())
        .unwrap();
    assert_eq!(pi["setup_future_usage"], "off_session", "{pi}");
    assert!(pi["customer"].as_str().unwrap().starts_with("cus_"), "{pi}");

    // Recorded (by the widget's report, or by Stripe's event when Stripe's webhook completed the
    // checkout first; the widget's path alone is tested without the inbox): brand, last four
    // digits and expiry, never the number.
    settled(&app).await;
    let cards = saved_cards(&app, &cus).await;
    assert_eq!(cards.len(), 1, "{cards:?}");
    let card = &cards[0];
    assert_eq!(card["brand"], "visa");
    assert_eq!(card["last4"], "4242");
    assert_eq!(card["exp_month"], 12);
    assert_eq!(card["customer"], cus);
    let pm = card["id"].as_str().unwrap().to_string();
    assert_eq!(
        stripe
            .events()
            .iter()
            .filter(|e| e["type"] == "payment_method.attached")
            .count(),
        1
    );
    // Recorded once, whichever path came first.
    assert_eq!(
        event_types_of(&app, &pm).await,
        vec!["payment_method.attached"]
    );

    // Charged later without the customer.
    let charged = json_with_status(charge_off_session(&app, &cus, &pm).await, 201).await;
    assert_eq!(charged["status"], "succeeded", "{charged}");
    assert_eq!(charged["payment_method"], pm);
    assert_eq!(charged["customer"], cus);
    let pi = stripe
        .payment_intent(charged["provider_reference"].as_str().unwrap())
        .unwrap();
    assert_eq!(pi["payment_method"], pm, "{pi}");
    assert_eq!(pi["amount_received"], 500);

    // A returning customer sees the card in the widget, masked, and pays with it.
    let s2 = app
        .create_session(&json!({ "amount": "7.50", "currency": "USD", "customer": cus }))
        .await;
    let sid2 = s2["id"].as_str().unwrap();
    let widget = app.widget_session(sid2).await;
    assert_eq!(
        widget["saved_cards"],
        json!([{ "id": pm, "label": format!("Visa •••• 4242, expires 12/{}", card["exp_year"]) }])
    );
    assert!(widget["save_payment_method"].is_null());
    let intent = json_with_status(app.widget_post(sid2, "stripe/intent").await, 200).await;
    let confirmed = app
        .stripe_js_confirm(intent["client_secret"].as_str().unwrap(), &pm)
        .await;
    assert_eq!(confirmed["status"], "succeeded", "{confirmed}");
    let done = json_with_status(app.widget_post(sid2, "stripe/complete").await, 200).await;
    assert_eq!(done["session"], "complete");
    // A session for nobody shows no one's cards.
    let anonymous = app
        .create_session(&json!({ "amount": "7.50", "currency": "USD" }))
        .await;
    let widget = app.widget_session(anonymous["id"].as_str().unwrap()).await;
    assert_eq!(widget["saved_cards"], json!([]));
    app.stop().await;
}

async fn saving_follows_the_customers_choice(db: TestDb) {
    let app = spawn_app(&db, AppOptions::default()).await;
    let cus = app.create_customer(None).await;
    // The customer leaves the box unticked: nothing is saved, at Stripe or in paygate.
    let sid = pay_checkout(&app, &cus, Some("optional"), Some(false), "pm_card_visa").await;
    let paid = json_with_status(app.get(&format!("/v1/checkout/sessions/{sid}")).await, 200).await;
    let pi = app
        .stripe
        .as_ref()
        .unwrap()
        .payment_intent(paid["payment"]["provider_reference"].as_str().unwrap())
        .unwrap();
    assert!(pi["setup_future_usage"].is_null(), "{pi}");
    settled(&app).await;
    assert!(saved_cards(&app, &cus).await.is_empty());

    // Ticked, then unticked again: the last answer counts, nothing is saved.
    let (undecided, secret) = choose_saving(&app, &cus, &[true, false]).await;
    let confirmed = app.stripe_js_confirm(&secret, "pm_card_visa").await;
    assert!(confirmed["setup_future_usage"].is_null(), "{confirmed}");
    json_with_status(app.widget_post(&undecided, "stripe/complete").await, 200).await;
    settled(&app).await;
    assert!(saved_cards(&app, &cus).await.is_empty());

    // Unticked, then ticked: saved.
    let (sid, secret) = choose_saving(&app, &cus, &[false, true]).await;
    let sid = sid.as_str();
    app.stripe_js_confirm(&secret, "pm_card_mastercard").await;
    json_with_status(app.widget_post(sid, "stripe/complete").await, 200).await;
    // Recorded by the widget's report or, when Stripe's webhook completed the checkout first,
    // by Stripe's `payment_method.attached` (the widget's own path alone is tested without the
    // inbox, below).
    settled(&app).await;
    let cards = saved_cards(&app, &cus).await;
    assert_eq!(cards.len(), 1, "{cards:?}");
    assert_eq!(cards[0]["brand"], "mastercard");
    assert_eq!(cards[0]["last4"], "4444");

    // Where saving is not offered, the widget cannot ask for it.
    let plain = app
        .create_session(&json!({ "amount": "20.00", "currency": "USD", "customer": cus }))
        .await;
    let plain_id = plain["id"].as_str().unwrap();
    json_with_status(app.widget_post(plain_id, "stripe/intent").await, 200).await;
    let refused = save_choice(&app, plain_id, json!({ "save": true })).await;
    let problem = json_with_status(refused, 400).await;
    assert_eq!(problem["code"], "save_not_offered");
    // A body that is not the choice is refused (on a session that does offer the choice).
    let open = app
        .create_session(
            &json!({ "amount": "20.00", "currency": "USD", "customer": cus,
                                 "save_payment_method": "optional" }),
        )
        .await;
    let open_id = open["id"].as_str().unwrap();
    json_with_status(app.widget_post(open_id, "stripe/intent").await, 200).await;
    for body in [
        json!({ "save": "yes" }),
        json!({}),
        json!({ "save": true, "x": 1 }),
    ] {
        let bad = save_choice(&app, open_id, body).await;
        assert_eq!(bad.status(), 400);
    }
    app.stop().await;
}

async fn an_off_session_decline_leaves_the_payment_open_with_its_reason(db: TestDb) {
    let app = spawn_app(&db, AppOptions::default()).await;
    // Stripe's 4000000000000341: attaches to a customer, then every charge is declined.
    let cus = app
        .create_customer(Some("pm_card_chargeCustomerFail"))
        .await;
    let cards = saved_cards(&app, &cus).await;
    assert_eq!(
        cards.len(),
        1,
        "recorded when the customer was made: {cards:?}"
    );
    assert_eq!(cards[0]["last4"], "0341");
    let pm = cards[0]["id"].as_str().unwrap().to_string();

    let declined = json_with_status(charge_off_session(&app, &cus, &pm).await, 402).await;
    assert_eq!(declined["code"], "payment_declined", "{declined}");
    let id: String = sqlx::query_scalar("SELECT id FROM payments WHERE payment_method_id = $1")
        .bind(&pm)
        .fetch_one(&app.state.db.pool)
        .await
        .unwrap();
    let payment = json_with_status(app.get(&format!("/v1/payments/{id}")).await, 200).await;
    assert_eq!(payment["status"], "requires_payment_method", "{payment}");
    assert_eq!(payment["last_error"]["code"], "card_declined");
    assert!(payment["next_action"].is_null());
    // The PaymentIntent Stripe made is recorded.
    assert!(payment["provider_reference"]
        .as_str()
        .unwrap()
        .starts_with("pi_"));
    assert!(event_types_of(&app, &id)
        .await
        .contains(&"payment.failed".to_string()));
    app.stop().await;
}

async fn a_bank_that_wants_authentication_gets_it_on_paygates_page(db: TestDb) {
    let app = spawn_app(&db, AppOptions::default()).await;
    // Stripe's 4000002760003184: every charge needs authentication, off session too.
    let cus = app
        .create_customer(Some("pm_card_authenticationRequired"))
        .await;
    let pm = saved_cards(&app, &cus).await[0]["id"]
        .as_str()
        .unwrap()
        .to_string();

    let open = json_with_status(charge_off_session(&app, &cus, &pm).await, 201).await;
    assert_eq!(open["status"], "requires_action", "{open}");
    assert_eq!(open["last_error"]["code"], "authentication_required");
    assert_eq!(open["next_action"]["type"], "authenticate");
    let id = open["id"].as_str().unwrap().to_string();
    let url = open["next_action"]["url"].as_str().unwrap().to_string();
    assert!(
        url.starts_with(&format!("{}/authenticate/{id}?t=", app.url)),
        "{url}"
    );
    // The merchant is told, with the page's address.
    let events = json_with_status(app.get(&format!("/v1/events?object_id={id}")).await, 200).await;
    let told = events["data"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["type"] == "payment.requires_action")
        .expect("payment.requires_action");
    assert_eq!(told["data"]["object"]["next_action"]["url"], url.as_str());

    // Only the link paygate handed out opens the page.
    let wrong = app
        .client
        .get(format!(
            "{}/authenticate/{id}?t=00112233445566778899aabbccddeeff",
            app.url
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status(), 404);
    let page = app.client.get(&url).send().await.unwrap();
    assert_eq!(page.status(), 200);
    assert!(page
        .headers()
        .get("content-security-policy")
        .is_some_and(|p| p.to_str().unwrap().contains("default-src 'none'")));
    let html = page.text().await.unwrap();
    assert!(html.contains("$5.00"), "{html}");
    assert!(html.contains("ending in 3184"), "{html}");

    // The page's script: the client secret and the card, then Stripe.js confirms (3-D Secure).
    let token = url.split("t=").nth(1).unwrap();
    let start = json_with_status(page_step(&app, &id, token, "start").await, 200).await;
    assert_eq!(start["payment_method"], pm.as_str());
    let secret = start["client_secret"].as_str().unwrap();
    let confirmed = app.stripe_js_confirm(secret, &pm).await;
    assert_eq!(confirmed["status"], "requires_action", "{confirmed}");
    // The customer closes the bank's window half-way: the payment still waits for them, and its
    // link still stands for the merchant to send again.
    let waiting = json_with_status(page_step(&app, &id, token, "complete").await, 200).await;
    assert_eq!(waiting["status"], "requires_action", "{waiting}");
    let payment = json_with_status(app.get(&format!("/v1/payments/{id}")).await, 200).await;
    assert_eq!(payment["next_action"]["type"], "authenticate", "{payment}");
    assert_eq!(payment["next_action"]["url"], url.as_str());
    let pi = open["provider_reference"].as_str().unwrap();
    let challenge = app
        .client
        .post(format!(
            "{}/3ds/{pi}/complete",
            app.state.config.stripe.api_base
        ))
        .form(&[("client_secret", secret)])
        .send()
        .await
        .unwrap();
    assert!(challenge.status().is_success() || challenge.status().is_redirection());
    let done = json_with_status(page_step(&app, &id, token, "complete").await, 200).await;
    assert_eq!(done["status"], "succeeded", "{done}");
    let payment = json_with_status(app.get(&format!("/v1/payments/{id}")).await, 200).await;
    assert_eq!(payment["status"], "succeeded");
    assert!(payment["next_action"].is_null());
    assert_eq!(payment["captured_minor"], 500);
    // Done: the page says so and hands out nothing more.
    let again = page_step(&app, &id, token, "start").await;
    assert_eq!(
        json_with_status(again, 409).await["code"],
        "payment_not_awaiting_authentication"
    );
    let html = app
        .client
        .get(&url)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(html.contains("This payment is complete"), "{html}");

    // A failed challenge: the payment waits for a payment method, and its link charges nothing
    // more (the merchant may charge the customer another way; a new charge makes a new link).
    let second = json_with_status(charge_off_session(&app, &cus, &pm).await, 201).await;
    let second_id = second["id"].as_str().unwrap();
    let second_url = second["next_action"]["url"].as_str().unwrap();
    assert_ne!(second_url, url);
    let second_token = second_url.split("t=").nth(1).unwrap();
    let start =
        json_with_status(page_step(&app, second_id, second_token, "start").await, 200).await;
    let secret = start["client_secret"].as_str().unwrap();
    app.stripe_js_confirm(secret, &pm).await;
    let pi = second["provider_reference"].as_str().unwrap();
    app.client
        .post(format!(
            "{}/3ds/{pi}/fail",
            app.state.config.stripe.api_base
        ))
        .form(&[("client_secret", secret)])
        .send()
        .await
        .unwrap();
    let failed = json_with_status(
        page_step(&app, second_id, second_token, "complete").await,
        200,
    )
    .await;
    assert_eq!(failed["status"], "requires_payment_method", "{failed}");
    let closed = page_step(&app, second_id, second_token, "start").await;
    assert_eq!(
        json_with_status(closed, 409).await["code"],
        "payment_not_awaiting_authentication"
    );
    app.stop().await;
}

async fn a_saved_card_is_recorded_when_its_checkout_completes(db: TestDb) {
    // Without the inbox worker Stripe's events are kept but not applied: what the list shows
    // was recorded when the widget reported the checkout complete.
    let app = spawn_app(
        &db,
        AppOptions {
            inbox_worker: false,
            ..AppOptions::default()
        },
    )
    .await;
    let cus = app.create_customer(None).await;
    pay_checkout(&app, &cus, Some("always"), None, "pm_card_visa").await;
    let cards = saved_cards(&app, &cus).await;
    assert_eq!(cards.len(), 1, "{cards:?}");
    assert_eq!(cards[0]["last4"], "4242");
    assert_eq!(
        app.count("SELECT COUNT(*) FROM provider_events WHERE processed_at IS NOT NULL")
            .await,
        0
    );
    app.stop().await;
}

async fn a_lost_off_session_charge_is_never_made_later(db: TestDb) {
    let app = spawn_app(&db, AppOptions::default()).await;
    let stripe = app.stripe.clone().unwrap();
    let cus = app.create_customer(Some("pm_card_visa")).await;
    let pm = saved_cards(&app, &cus).await[0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let charges = stripe.charges_count();
    // Stripe cannot be reached: the merchant is told the charge was not made.
    app.stripe_api(reqwest::Method::POST, "/_emulator/faults")
        .json(&json!({ "reset_next": 20 }))
        .send()
        .await
        .unwrap();
    let refused = charge_off_session(&app, &cus, &pm).await;
    assert!(refused.status().is_server_error(), "{}", refused.status());
    app.stripe_api(reqwest::Method::DELETE, "/_emulator/faults")
        .send()
        .await
        .unwrap();
    // Reconciliation finds nothing at Stripe and does not charge the card itself: the merchant
    // may have charged the customer another way since.
    app.state.clock.advance(Duration::from_secs(16 * 60));
    paygate::reconcile::reconcile_once(&app.state)
        .await
        .unwrap();
    assert_eq!(stripe.charges_count(), charges);
    let id: String = sqlx::query_scalar("SELECT id FROM payments WHERE payment_method_id = $1")
        .bind(&pm)
        .fetch_one(&app.state.db.pool)
        .await
        .unwrap();
    let payment = json_with_status(app.get(&format!("/v1/payments/{id}")).await, 200).await;
    assert!(payment["provider_reference"].is_null(), "{payment}");
    assert_ne!(payment["status"], "succeeded");
    app.stop().await;
}

async fn customers_never_see_or_use_each_others_cards(db: TestDb) {
    let app = spawn_app(&db, AppOptions::default()).await;
    let ada = app.create_customer(Some("pm_card_visa")).await;
    let bob = app.create_customer(Some("pm_card_mastercard")).await;
    let ada_cards = saved_cards(&app, &ada).await;
    let bob_cards = saved_cards(&app, &bob).await;
    assert_eq!(ada_cards.len(), 1);
    assert_eq!(bob_cards.len(), 1);
    assert_eq!(ada_cards[0]["brand"], "visa");
    assert_eq!(bob_cards[0]["brand"], "mastercard");
    let bobs = bob_cards[0]["id"].as_str().unwrap();

    // Ada's id with Bob's card: refused before Stripe hears of it.
    let charges_asked = || {
        app.stripe
            .as_ref()
            .unwrap()
            .received_request_bodies()
            .iter()
            .filter(|b| b.contains("off_session"))
            .count()
    };
    let refused = json_with_status(charge_off_session(&app, &ada, bobs).await, 400).await;
    assert_eq!(refused["param"], "payment_method", "{refused}");
    assert_eq!(charges_asked(), 0);
    assert_eq!(app.count("SELECT COUNT(*) FROM payments").await, 0);
    let not_adas = app
        .request(
            reqwest::Method::DELETE,
            &format!("/v1/customers/{ada}/payment_methods/{bobs}"),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(not_adas.status(), 404);
    assert_eq!(saved_cards(&app, &bob).await.len(), 1, "Bob's card stays");

    // A checkout for Ada shows only Ada's card.
    let s = app
        .create_session(&json!({ "amount": "3.00", "currency": "USD", "customer": ada }))
        .await;
    let widget = app.widget_session(s["id"].as_str().unwrap()).await;
    assert_eq!(widget["saved_cards"].as_array().unwrap().len(), 1);
    assert_eq!(widget["saved_cards"][0]["id"], ada_cards[0]["id"]);
    let missing = app
        .get("/v1/customers/cus_00000000000000000000000000/payment_methods")
        .await;
    assert_eq!(missing.status(), 404);
    app.stop().await;
}

async fn a_removed_card_cannot_be_charged(db: TestDb) {
    let app = spawn_app(&db, AppOptions::default()).await;
    let cus = app.create_customer(Some("pm_card_visa")).await;
    let pm = saved_cards(&app, &cus).await[0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let removed = json_with_status(
        app.request(
            reqwest::Method::DELETE,
            &format!("/v1/customers/{cus}/payment_methods/{pm}"),
        )
        .send()
        .await
        .unwrap(),
        200,
    )
    .await;
    assert_eq!(removed["id"], pm.as_str());
    assert!(saved_cards(&app, &cus).await.is_empty());
    // Detached at Stripe.
    let at_stripe: Value = app
        .stripe_api(reqwest::Method::GET, &format!("/v1/payment_methods/{pm}"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(at_stripe["customer"].is_null(), "{at_stripe}");
    let kinds = event_types_of(&app, &pm).await;
    assert_eq!(kinds[0], "payment_method.detached", "{kinds:?}");
    // Removing it again, or charging it: refused.
    let again = app
        .request(
            reqwest::Method::DELETE,
            &format!("/v1/customers/{cus}/payment_methods/{pm}"),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), 404);
    let refused = json_with_status(charge_off_session(&app, &cus, &pm).await, 400).await;
    assert_eq!(refused["param"], "payment_method");
    // Stripe's `payment_method.detached` for it changes nothing more.
    settled(&app).await;
    assert_eq!(
        event_types_of(&app, &pm).await,
        vec!["payment_method.detached", "payment_method.attached"]
    );
    app.stop().await;
}

async fn stripes_events_keep_saved_cards_in_step_whatever_their_order(db: TestDb) {
    let app = spawn_app(&db, AppOptions::default()).await;
    let cus = app.create_customer(Some("pm_card_visa")).await;
    let card = saved_cards(&app, &cus).await[0].clone();
    let pm = card["id"].as_str().unwrap().to_string();
    settled(&app).await;
    // A `payment_method.detached` whose body says detached, for a card that is attached at
    // Stripe (an event older than the card's state): the card is read back and stays.
    let at_stripe: Value = app
        .stripe_api(reqwest::Method::GET, &format!("/v1/payment_methods/{pm}"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let mut stale = at_stripe.clone();
    stale["customer"] = Value::Null;
    deliver_stripe(
        &app,
        "evt_stale_detach",
        "payment_method.detached",
        "2024-06-20",
        stale,
    )
    .await;
    assert_eq!(saved_cards(&app, &cus).await.len(), 1, "the card stays");
    // Removed in Stripe's dashboard (straight at Stripe): paygate learns it from the event.
    let detached: Value = app
        .stripe_api(
            reqwest::Method::POST,
            &format!("/v1/payment_methods/{pm}/detach"),
        )
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(detached["customer"].is_null());
    eventually("the card removed", Duration::from_secs(15), || async {
        saved_cards(&app, &cus).await.is_empty()
    })
    .await;
    // A late `payment_method.attached` (its body says attached) cannot bring it back: the card
    // is read back from Stripe, where it is detached.
    let mut stale = detached.clone();
    stale["customer"] = json!(app.stripe_customer_of(&cus).await);
    deliver_stripe(
        &app,
        "evt_late_attach",
        "payment_method.attached",
        "2024-06-20",
        stale,
    )
    .await;
    assert!(saved_cards(&app, &cus).await.is_empty());
    // An attachment made at Stripe to paygate's customer, told at a newer API version, is read
    // back and recorded.
    let other: Value = app
        .stripe_api(
            reqwest::Method::POST,
            "/v1/payment_methods/pm_card_amex/attach",
        )
        .form(&[("customer", app.stripe_customer_of(&cus).await)])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    deliver_stripe(
        &app,
        "evt_new_version_attach",
        "payment_method.attached",
        "2026-09-30.endive",
        json!({ "id": other["id"], "object": "payment_method" }),
    )
    .await;
    let cards = saved_cards(&app, &cus).await;
    assert_eq!(cards.len(), 1, "{cards:?}");
    assert_eq!(cards[0]["brand"], "amex");
    app.stop().await;
}

async fn bad_requests_change_nothing(db: TestDb) {
    let app = spawn_app(&db, AppOptions::default()).await;
    let cus = app.create_customer(Some("pm_card_visa")).await;
    let pm = saved_cards(&app, &cus).await[0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let sessions = app.count("SELECT COUNT(*) FROM checkout_sessions").await;
    for (body, param) in [
        (
            json!({ "amount": "1.00", "currency": "USD", "save_payment_method": "always" }),
            "save_payment_method",
        ),
        (
            json!({ "amount": "1.00", "currency": "USD", "customer": "bob" }),
            "customer",
        ),
        (
            json!({ "amount": "1.00", "currency": "USD", "customer": cus, "providers": ["paypal"] }),
            "customer",
        ),
    ] {
        let res = app.post("/v1/checkout/sessions", &body).await;
        let problem = json_with_status(res, 400).await;
        assert_eq!(problem["param"], param, "{body}: {problem}");
    }
    let unknown = app
        .post(
            "/v1/checkout/sessions",
            &json!({ "amount": "1.00", "currency": "USD",
                     "customer": "cus_00000000000000000000000000" }),
        )
        .await;
    json_with_status(unknown, 404).await;
    let bad_save = app
        .post(
            "/v1/checkout/sessions",
            &json!({ "amount": "1.00", "currency": "USD", "customer": cus,
                     "save_payment_method": "sometimes" }),
        )
        .await;
    assert_eq!(bad_save.status(), 400);
    assert_eq!(
        app.count("SELECT COUNT(*) FROM checkout_sessions").await,
        sessions
    );

    for (body, param) in [
        (
            json!({ "provider": "stripe", "amount": "1.00", "currency": "USD",
                    "customer": cus, "payment_method": pm }),
            "off_session",
        ),
        (
            json!({ "provider": "stripe", "amount": "1.00", "currency": "USD",
                    "customer": cus, "off_session": true }),
            "payment_method",
        ),
        (
            json!({ "provider": "stripe", "amount": "1.00", "currency": "USD",
                    "payment_method": pm, "off_session": true }),
            "customer",
        ),
        (
            json!({ "provider": "paypal", "amount": "1.00", "currency": "USD",
                    "customer": cus, "payment_method": pm, "off_session": true }),
            "provider",
        ),
        (
            json!({ "provider": "stripe", "amount": "1.00", "currency": "USD",
                    "customer": cus, "payment_method": "pm_card_visa", "off_session": true }),
            "payment_method",
        ),
    ] {
        let problem = json_with_status(app.post("/v1/payments", &body).await, 400).await;
        assert_eq!(problem["param"], param, "{body}: {problem}");
    }
    assert_eq!(app.count("SELECT COUNT(*) FROM payments").await, 0);
    app.stop().await;
}
