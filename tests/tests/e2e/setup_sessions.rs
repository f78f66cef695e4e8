//! Checkout sessions that only save a card (`mode: setup`, Stripe's SetupIntents), on SQLite and
//! PostgreSQL against the Stripe emulator over real HTTP: the card saved for the customer and
//! nothing charged; one SetupIntent per session however often the widget asks; a declined card
//! not saved; a bank that wants 3-D Secure; a session completed by Stripe's event when the
//! widget never reported, or at its deadline; an abandoned one expired with its SetupIntent
//! canceled; bad requests refused without a trace.

use paygate_tests::app::{eventually, json_with_status};
use paygate_tests::{on_both_databases, spawn_app, AppOptions, TestApp, TestDb};
use serde_json::{json, Value};
use std::time::Duration;

on_both_databases!(
    a_setup_session_saves_the_card_and_charges_nothing,
    a_declined_card_is_not_saved_and_another_can_be,
    a_card_whose_bank_wants_authentication_is_saved_after_it,
    stripes_event_completes_a_session_the_widget_never_reported,
    an_abandoned_setup_session_expires_and_its_setup_intent_is_canceled,
    a_setup_session_saved_just_before_its_deadline_completes,
    a_setup_intent_for_another_customer_completes_nothing,
    bad_setup_requests_change_nothing,
);

/// A setup session for `customer`.
async fn setup_session(app: &TestApp, customer: &str) -> Value {
    app.create_session(&json!({ "mode": "setup", "currency": "USD", "customer": customer }))
        .await
}

/// A setup session for `customer` whose card form the widget opened: the session's id, and the
/// widget's answer (`client_secret`, and the SetupIntent as `payment`).
async fn opened_card_form(app: &TestApp, customer: &str) -> (String, Value) {
    let sid = setup_session(app, customer).await["id"]
        .as_str()
        .unwrap()
        .to_string();
    let intent = json_with_status(app.widget_post(&sid, "stripe/intent").await, 200).await;
    (sid, intent)
}

async fn saved_cards(app: &TestApp, customer: &str) -> Vec<Value> {
    let list = json_with_status(
        app.get(&format!("/v1/customers/{customer}/payment_methods"))
            .await,
        200,
    )
    .await;
    list["data"].as_array().unwrap().clone()
}

async fn session(app: &TestApp, sid: &str) -> Value {
    json_with_status(app.get(&format!("/v1/checkout/sessions/{sid}")).await, 200).await
}

/// The events paygate emitted about `object`, oldest first.
async fn event_types_of(app: &TestApp, object: &str) -> Vec<String> {
    let page = json_with_status(
        app.get(&format!("/v1/events?object_id={object}")).await,
        200,
    )
    .await;
    let mut types: Vec<String> = page["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["type"].as_str().unwrap().to_string())
        .collect();
    types.reverse();
    types
}

async fn a_setup_session_saves_the_card_and_charges_nothing(db: TestDb) {
    let app = spawn_app(&db, AppOptions::default()).await;
    let stripe = app.stripe.clone().unwrap();
    let cus = app.create_customer(None).await;

    let s = setup_session(&app, &cus).await;
    let sid = s["id"].as_str().unwrap().to_string();
    assert_eq!(s["mode"], "setup", "{s}");
    assert_eq!(s["amount"], "0.00");
    assert_eq!(s["amount_minor"], 0);
    assert_eq!(s["providers"], json!(["stripe"]));
    assert_eq!(s["save_payment_method"], "always");
    assert!(s.get("setup_intent").is_none(), "{s}");
    let widget = app.widget_session(&sid).await;
    assert_eq!(widget["setup"], true, "{widget}");

    // One SetupIntent per session, however often the widget asks (a reload, a retry).
    let intent = json_with_status(app.widget_post(&sid, "stripe/intent").await, 200).await;
    let secret = intent["client_secret"].as_str().unwrap().to_string();
    let seti = intent["payment"].as_str().unwrap().to_string();
    assert!(seti.starts_with("seti_") && secret.starts_with(&format!("{seti}_secret_")));
    let again = json_with_status(app.widget_post(&sid, "stripe/intent").await, 200).await;
    assert_eq!(again["payment"], seti.as_str());
    assert_eq!(again["client_secret"], secret.as_str());
    let at_stripe = stripe_setup_intent(&app, &seti).await;
    assert_eq!(at_stripe["usage"], "off_session", "{at_stripe}");
    assert_eq!(
        at_stripe["metadata"]["paygate_checkout_session"],
        sid.as_str()
    );
    assert!(at_stripe["customer"].as_str().unwrap().starts_with("cus_"));
    assert_eq!(session(&app, &sid).await["setup_intent"], seti.as_str());

    // Before the customer confirmed, the widget's report finds nothing saved.
    let early = json_with_status(app.widget_post(&sid, "stripe/complete").await, 200).await;
    assert_eq!(early["session"], "open", "{early}");
    assert_eq!(early["payment_status"], "requires_payment_method");

    let confirmed = app.stripe_js_confirm(&secret, "pm_card_visa").await;
    assert_eq!(confirmed["status"], "succeeded", "{confirmed}");
    let done = json_with_status(app.widget_post(&sid, "stripe/complete").await, 200).await;
    assert_eq!(done["session"], "complete", "{done}");
    assert_eq!(done["payment_status"], "succeeded");

    let complete = session(&app, &sid).await;
    assert_eq!(complete["status"], "complete");
    let pm = complete["payment_method"].as_str().unwrap().to_string();
    assert!(pm.starts_with("pm_"), "{complete}");
    assert!(complete.get("payment").is_none(), "{complete}");
    // Recorded for the customer (brand, last four, expiry), and nothing was charged.
    let cards = saved_cards(&app, &cus).await;
    assert_eq!(cards.len(), 1, "{cards:?}");
    assert_eq!(cards[0]["id"], pm.as_str());
    assert_eq!(cards[0]["last4"], "4242");
    assert_eq!(stripe.charges_count(), 0);
    assert_eq!(app.count("SELECT COUNT(*) FROM payments").await, 0);
    assert_eq!(
        event_types_of(&app, &sid).await,
        vec!["checkout.session.created", "checkout.session.completed"]
    );
    // Reported again (a reload): the same answer, nothing more recorded.
    let repeat = json_with_status(app.widget_post(&sid, "stripe/complete").await, 200).await;
    assert_eq!(repeat["session"], "complete");
    let intent_after = app.widget_post(&sid, "stripe/intent").await;
    assert_eq!(
        json_with_status(intent_after, 409).await["code"],
        "session_complete"
    );

    // The saved card pays later without the customer.
    let charged = json_with_status(
        app.post(
            "/v1/payments",
            &json!({ "provider": "stripe", "amount": "9.00", "currency": "USD",
                     "customer": cus, "payment_method": pm, "off_session": true }),
        )
        .await,
        201,
    )
    .await;
    assert_eq!(charged["status"], "succeeded", "{charged}");
    assert_eq!(stripe.charges_count(), 1);
    app.stop().await;
}

/// The SetupIntent as the emulator has it (secret key).
async fn stripe_setup_intent(app: &TestApp, id: &str) -> Value {
    let res = app
        .stripe_api(reqwest::Method::GET, &format!("/v1/setup_intents/{id}"))
        .send()
        .await
        .unwrap();
    json_with_status(res, 200).await
}

async fn a_declined_card_is_not_saved_and_another_can_be(db: TestDb) {
    let app = spawn_app(&db, AppOptions::default()).await;
    let cus = app.create_customer(None).await;
    let (sid, intent) = opened_card_form(&app, &cus).await;
    let secret = intent["client_secret"].as_str().unwrap();

    // Stripe answers a decline at setup as at payment: 402 `card_error`, the SetupIntent back
    // to `requires_payment_method` with `last_setup_error`.
    let declined = app
        .stripe_js_confirm(secret, "pm_card_visa_chargeDeclined")
        .await;
    assert_eq!(declined["error"]["type"], "card_error", "{declined}");
    assert_eq!(declined["error"]["code"], "card_declined");
    assert_eq!(
        declined["error"]["setup_intent"]["status"],
        "requires_payment_method"
    );
    let told = json_with_status(app.widget_post(&sid, "stripe/complete").await, 200).await;
    assert_eq!(told["session"], "open", "{told}");
    assert_eq!(told["payment_status"], "requires_payment_method");
    assert_eq!(told["message"], "Your card was declined.");
    assert!(saved_cards(&app, &cus).await.is_empty());
    assert_eq!(session(&app, &sid).await["status"], "open");

    // Another card on the same SetupIntent.
    let confirmed = app.stripe_js_confirm(secret, "pm_card_mastercard").await;
    assert_eq!(confirmed["status"], "succeeded", "{confirmed}");
    let done = json_with_status(app.widget_post(&sid, "stripe/complete").await, 200).await;
    assert_eq!(done["session"], "complete");
    let cards = saved_cards(&app, &cus).await;
    assert_eq!(cards.len(), 1);
    assert_eq!(cards[0]["brand"], "mastercard");
    app.stop().await;
}

async fn a_card_whose_bank_wants_authentication_is_saved_after_it(db: TestDb) {
    let app = spawn_app(&db, AppOptions::default()).await;
    let cus = app.create_customer(None).await;
    let (sid, intent) = opened_card_form(&app, &cus).await;
    let secret = intent["client_secret"].as_str().unwrap();
    let seti = intent["payment"].as_str().unwrap();

    // 4000 0025 0000 3155: authentication on session; once set up, none off session.
    let confirmed = app
        .stripe_js_confirm(secret, "pm_card_authenticationRequiredOnSetup")
        .await;
    assert_eq!(confirmed["status"], "requires_action", "{confirmed}");
    assert_eq!(confirmed["next_action"]["type"], "use_stripe_sdk");
    let waiting = json_with_status(app.widget_post(&sid, "stripe/complete").await, 200).await;
    assert_eq!(waiting["session"], "open");
    assert_eq!(waiting["payment_status"], "requires_action");
    assert!(saved_cards(&app, &cus).await.is_empty());

    // The bank's challenge, completed on the emulator's page.
    let base = &app.state.config.stripe.api_base;
    let page = app
        .client
        .post(format!("{base}/3ds/{seti}/complete"))
        .form(&[("client_secret", secret)])
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 200);
    let done = json_with_status(app.widget_post(&sid, "stripe/complete").await, 200).await;
    assert_eq!(done["session"], "complete", "{done}");
    let pm = session(&app, &sid).await["payment_method"]
        .as_str()
        .unwrap()
        .to_string();

    // Set up for off-session use: charged later without asking the customer again.
    let charged = json_with_status(
        app.post(
            "/v1/payments",
            &json!({ "provider": "stripe", "amount": "4.00", "currency": "USD",
                     "customer": cus, "payment_method": pm, "off_session": true }),
        )
        .await,
        201,
    )
    .await;
    assert_eq!(charged["status"], "succeeded", "{charged}");

    // A failed challenge saves nothing: another session, the card refused authentication.
    let (sid2, intent2) = opened_card_form(&app, &cus).await;
    let secret2 = intent2["client_secret"].as_str().unwrap();
    let seti2 = intent2["payment"].as_str().unwrap();
    app.stripe_js_confirm(secret2, "pm_card_authenticationRequired")
        .await;
    app.client
        .post(format!("{base}/3ds/{seti2}/fail"))
        .form(&[("client_secret", secret2)])
        .send()
        .await
        .unwrap();
    let failed = json_with_status(app.widget_post(&sid2, "stripe/complete").await, 200).await;
    assert_eq!(failed["session"], "open", "{failed}");
    assert_eq!(failed["payment_status"], "requires_payment_method");
    assert!(failed["message"]
        .as_str()
        .unwrap()
        .contains("authentication"));
    assert_eq!(saved_cards(&app, &cus).await.len(), 1);
    // The customer has a saved card now; a session that saves one offers only the card form.
    assert_eq!(app.widget_session(&sid2).await["saved_cards"], json!([]));
    app.stop().await;
}

async fn stripes_event_completes_a_session_the_widget_never_reported(db: TestDb) {
    let app = spawn_app(&db, AppOptions::default()).await;
    let cus = app.create_customer(None).await;
    let (sid, intent) = opened_card_form(&app, &cus).await;
    // The customer saved the card and closed the page: no report from the widget.
    let confirmed = app
        .stripe_js_confirm(intent["client_secret"].as_str().unwrap(), "pm_card_visa")
        .await;
    assert_eq!(confirmed["status"], "succeeded");

    eventually(
        "the setup session completed by setup_intent.succeeded",
        Duration::from_secs(15),
        || async { session(&app, &sid).await["status"] == "complete" },
    )
    .await;
    let complete = session(&app, &sid).await;
    let pm = complete["payment_method"].as_str().unwrap();
    assert_eq!(complete["setup_intent"], intent["payment"]);
    let cards = saved_cards(&app, &cus).await;
    assert_eq!(cards.len(), 1);
    assert_eq!(cards[0]["id"], pm);
    // The widget's late report agrees, and nothing is recorded twice.
    let late = json_with_status(app.widget_post(&sid, "stripe/complete").await, 200).await;
    assert_eq!(late["session"], "complete");
    assert_eq!(
        event_types_of(&app, &sid).await,
        vec!["checkout.session.created", "checkout.session.completed"]
    );
    assert_eq!(
        event_types_of(&app, pm).await,
        vec!["payment_method.attached"]
    );
    app.stop().await;
}

async fn an_abandoned_setup_session_expires_and_its_setup_intent_is_canceled(db: TestDb) {
    let app = spawn_app(&db, AppOptions::default()).await;
    let cus = app.create_customer(None).await;
    let s = app
        .create_session(
            &json!({ "mode": "setup", "currency": "USD", "customer": cus,
                                 "expires_in": 60 }),
        )
        .await;
    let sid = s["id"].as_str().unwrap().to_string();
    let intent = json_with_status(app.widget_post(&sid, "stripe/intent").await, 200).await;
    let seti = intent["payment"].as_str().unwrap().to_string();
    let secret = intent["client_secret"].as_str().unwrap().to_string();
    // The customer is in the bank's challenge when the deadline passes.
    let confirmed = app
        .stripe_js_confirm(&secret, "pm_card_authenticationRequired")
        .await;
    assert_eq!(confirmed["status"], "requires_action", "{confirmed}");

    app.state.clock.advance(Duration::from_secs(61));
    assert_eq!(
        paygate::checkout::expiry::sweep(&app.state).await.unwrap(),
        1
    );
    // The SetupIntent was canceled before the session expired: finishing the challenge now
    // saves nothing.
    let base = &app.state.config.stripe.api_base;
    app.client
        .post(format!("{base}/3ds/{seti}/complete"))
        .form(&[("client_secret", secret.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(session(&app, &sid).await["status"], "expired");
    let at_stripe = stripe_setup_intent(&app, &seti).await;
    assert_eq!(at_stripe["status"], "canceled", "{at_stripe}");
    assert_eq!(at_stripe["cancellation_reason"], "abandoned");
    // The card form can no longer save a card.
    let late = app
        .stripe_js_confirm(intent["client_secret"].as_str().unwrap(), "pm_card_visa")
        .await;
    assert_eq!(
        late["error"]["code"], "setup_intent_unexpected_state",
        "{late}"
    );
    let refused = app.widget_post(&sid, "stripe/intent").await;
    assert_eq!(
        json_with_status(refused, 409).await["code"],
        "session_expired"
    );
    assert!(saved_cards(&app, &cus).await.is_empty());
    app.stop().await;
}

async fn a_setup_session_saved_just_before_its_deadline_completes(db: TestDb) {
    // Stripe's events are not applied here (no inbox worker): only the sweep's re-read can
    // tell.
    let app = spawn_app(
        &db,
        AppOptions {
            inbox_worker: false,
            ..AppOptions::default()
        },
    )
    .await;
    let cus = app.create_customer(None).await;
    let s = app
        .create_session(
            &json!({ "mode": "setup", "currency": "USD", "customer": cus,
                                 "expires_in": 60 }),
        )
        .await;
    let sid = s["id"].as_str().unwrap().to_string();
    let intent = json_with_status(app.widget_post(&sid, "stripe/intent").await, 200).await;
    let confirmed = app
        .stripe_js_confirm(intent["client_secret"].as_str().unwrap(), "pm_card_visa")
        .await;
    assert_eq!(confirmed["status"], "succeeded");

    app.state.clock.advance(Duration::from_secs(61));
    assert_eq!(
        paygate::checkout::expiry::sweep(&app.state).await.unwrap(),
        0
    );
    let complete = session(&app, &sid).await;
    assert_eq!(complete["status"], "complete", "{complete}");
    assert_eq!(saved_cards(&app, &cus).await.len(), 1);
    app.stop().await;
}

async fn bad_setup_requests_change_nothing(db: TestDb) {
    let app = spawn_app(&db, AppOptions::default()).await;
    let cus = app.create_customer(None).await;
    let cases = [
        (
            json!({ "mode": "setup", "currency": "USD", "customer": cus, "amount": "5.00" }),
            "amount",
        ),
        (
            json!({ "mode": "setup", "currency": "USD", "customer": cus,
                    "line_items": [{ "name": "x", "unit_amount": "1.00", "quantity": 1 }] }),
            "line_items",
        ),
        (json!({ "mode": "setup", "currency": "USD" }), "customer"),
        (
            json!({ "mode": "setup", "currency": "USD", "customer": cus,
                    "save_payment_method": "optional" }),
            "save_payment_method",
        ),
        (
            json!({ "mode": "setup", "currency": "USD", "customer": cus,
                    "providers": ["stripe", "paypal"] }),
            "providers",
        ),
        (
            json!({ "mode": "setup", "currency": "USD", "customer": cus,
                    "capture_mode": "manual" }),
            "capture_mode",
        ),
        (
            json!({ "mode": "setup", "currency": "XYZ", "customer": cus }),
            "currency",
        ),
    ];
    for (body, param) in cases {
        let res = app.post("/v1/checkout/sessions", &body).await;
        let problem = json_with_status(res, 400).await;
        assert_eq!(problem["param"], param, "{body}: {problem}");
    }
    let unknown_mode = app
        .post(
            "/v1/checkout/sessions",
            &json!({ "mode": "subscription", "currency": "USD", "customer": cus }),
        )
        .await;
    assert_eq!(unknown_mode.status(), 400);
    // A customer that does not exist.
    let missing = app
        .post(
            "/v1/checkout/sessions",
            &json!({ "mode": "setup", "currency": "USD", "customer": "cus_00000000000000000000000000" }),
        )
        .await;
    assert_eq!(missing.status(), 404);
    assert_eq!(app.count("SELECT COUNT(*) FROM checkout_sessions").await, 0);
    // A payment session still needs its amount.
    let no_amount = app
        .post("/v1/checkout/sessions", &json!({ "currency": "USD" }))
        .await;
    assert_eq!(json_with_status(no_amount, 400).await["param"], "amount");
    app.stop().await;
}

async fn a_setup_intent_for_another_customer_completes_nothing(db: TestDb) {
    let app = spawn_app(&db, AppOptions::default()).await;
    let cus = app.create_customer(None).await;
    let other = app.create_customer(None).await;
    let sid = setup_session(&app, &cus).await["id"]
        .as_str()
        .unwrap()
        .to_string();
    // A SetupIntent made at Stripe for another customer, naming this session in its metadata
    // (by mistake, or by someone with the account's key), saves a card for them.
    let other_stripe: String =
        sqlx::query_scalar("SELECT stripe_customer_id FROM customers WHERE id = $1")
            .bind(&other)
            .fetch_one(&app.state.db.pool)
            .await
            .unwrap();
    let made = app
        .stripe_api(reqwest::Method::POST, "/v1/setup_intents")
        .form(&[
            ("customer", other_stripe.as_str()),
            ("payment_method", "pm_card_visa"),
            ("confirm", "true"),
            ("metadata[paygate_checkout_session]", sid.as_str()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(json_with_status(made, 200).await["status"], "succeeded");
    // Its events are applied (the card is recorded for its own customer) ...
    eventually(
        "the other customer's card recorded",
        Duration::from_secs(15),
        || async { saved_cards(&app, &other).await.len() == 1 },
    )
    .await;
    eventually(
        "Stripe's events applied",
        Duration::from_secs(15),
        || async {
            app.count(
                "SELECT COUNT(*) FROM provider_events WHERE processed_at IS NULL \
             AND event_type = 'setup_intent.succeeded'",
            )
            .await
                == 0
        },
    )
    .await;
    // ... and this session stays open, with no card of anyone's.
    let open = session(&app, &sid).await;
    assert_eq!(open["status"], "open", "{open}");
    assert!(open.get("payment_method").is_none(), "{open}");
    assert!(saved_cards(&app, &cus).await.is_empty());
    app.stop().await;
}
