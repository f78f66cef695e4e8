//! A subscription's life after it starts, on SQLite and PostgreSQL against the Stripe emulator
//! over real HTTP: pausing and resuming payment collection (passed through to Stripe, which
//! keeps the subscription active), its invoices, first invoices that fail or need 3-D Secure
//! reaching the merchant as events, and Stripe's subscription and invoice events applied from
//! the object read back, so one that arrives late or out of order cannot undo a newer state.

use paygate::config::EMULATOR_STRIPE_SECRET_KEY;
use paygate_tests::admin::{create_admin, AdminClient, PASSWORD};
use paygate_tests::app::{eventually, json_with_status};
use paygate_tests::webhooks_in::deliver_stripe;
use paygate_tests::{on_both_databases, spawn_app, AppOptions, TestApp, TestDb};
use serde_json::{json, Value};
use std::time::Duration;

on_both_databases!(
    collection_pauses_and_resumes_at_stripe,
    bad_pauses_change_nothing,
    failed_and_unauthenticated_invoices_reach_the_merchant,
    the_console_lists_subscriptions_and_those_with_unpaid_invoices,
    a_price_change_prorates_as_stripe_does,
    a_new_billing_interval_starts_a_new_period_invoiced_at_once,
    late_and_reordered_events_cannot_undo_the_current_state,
    renewals_charge_the_card_and_a_failed_one_reaches_the_merchant,
    renewals_bill_pending_prorations_and_charge_nothing_while_paused,
);

/// A customer with `card` as default payment method, subscribed monthly: the subscription.
async fn subscribe(app: &TestApp, card: &str) -> Value {
    let c = json_with_status(
        app.post(
            "/v1/customers",
            &json!({ "email": "ada@example.com", "payment_method": card }),
        )
        .await,
        201,
    )
    .await;
    json_with_status(
        app.post(
            "/v1/subscriptions",
            &json!({ "customer": c["id"], "price": "price_paygate_pro_monthly" }),
        )
        .await,
        201,
    )
    .await
}

async fn get(app: &TestApp, id: &str) -> Value {
    json_with_status(app.get(&format!("/v1/subscriptions/{id}")).await, 200).await
}

async fn events_of(app: &TestApp, id: &str) -> Vec<String> {
    let page = json_with_status(app.get(&format!("/v1/events?object_id={id}")).await, 200).await;
    let mut kinds: Vec<String> = page["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["type"].as_str().unwrap().to_string())
        .collect();
    kinds.reverse();
    kinds
}

/// Waits until every Stripe event the emulator sent about the subscription is processed.
async fn settled(app: &TestApp) {
    eventually("every webhook applied", Duration::from_secs(15), || async {
        app.count(
            "SELECT COUNT(*) FROM provider_events WHERE processed_at IS NULL \
             AND (event_type LIKE 'customer.subscription.%' OR event_type LIKE 'invoice.%')",
        )
        .await
            == 0
    })
    .await;
}

async fn collection_pauses_and_resumes_at_stripe(db: TestDb) {
    let app = spawn_app(&db, AppOptions::default()).await;
    let s = subscribe(&app, "pm_card_visa").await;
    let id = s["id"].as_str().unwrap();
    let reference = s["provider_reference"].as_str().unwrap();
    assert_eq!(s["status"], "active");
    assert!(s.get("pause_collection").is_none(), "{s}");

    let resumes = app.state.clock.now_secs() + 30 * 86_400;
    let paused = json_with_status(
        app.post(
            &format!("/v1/subscriptions/{id}/pause"),
            &json!({ "behavior": "mark_uncollectible", "resumes_at": resumes }),
        )
        .await,
        200,
    )
    .await;
    assert_eq!(paused["status"], "active", "a pause keeps it active");
    assert_eq!(paused["pause_collection"]["behavior"], "mark_uncollectible");
    assert_eq!(paused["pause_collection"]["resumes_at"], resumes);
    let at_stripe = app
        .stripe
        .as_ref()
        .unwrap()
        .subscription(reference)
        .unwrap();
    assert_eq!(
        at_stripe["pause_collection"]["behavior"],
        "mark_uncollectible"
    );
    assert_eq!(at_stripe["pause_collection"]["resumes_at"], resumes);
    settled(&app).await;
    assert_eq!(
        get(&app, id).await["pause_collection"],
        paused["pause_collection"]
    );

    let resumed = json_with_status(
        app.post(&format!("/v1/subscriptions/{id}/resume"), &json!({}))
            .await,
        200,
    )
    .await;
    assert!(resumed.get("pause_collection").is_none(), "{resumed}");
    let at_stripe = app
        .stripe
        .as_ref()
        .unwrap()
        .subscription(reference)
        .unwrap();
    assert!(at_stripe["pause_collection"].is_null(), "{at_stripe}");
    // The pause's webhook, applied after the resume, reads the subscription back: still
    // collecting.
    settled(&app).await;
    assert!(get(&app, id).await.get("pause_collection").is_none());
    let e = json_with_status(
        app.post(&format!("/v1/subscriptions/{id}/resume"), &json!({}))
            .await,
        409,
    )
    .await;
    assert_eq!(e["code"], "invalid_state");

    // A second pause is a change of its own at Stripe (not a replay of the first).
    let again = json_with_status(
        app.post(
            &format!("/v1/subscriptions/{id}/pause"),
            &json!({ "behavior": "void" }),
        )
        .await,
        200,
    )
    .await;
    assert_eq!(again["pause_collection"]["behavior"], "void");
    assert!(again["pause_collection"].get("resumes_at").is_none());

    let kinds = events_of(&app, id).await;
    let updates = kinds
        .iter()
        .filter(|k| *k == "subscription.updated")
        .count();
    assert!(updates >= 3, "{kinds:?}");

    // Its invoices at Stripe: the first one, paid.
    let invoices = json_with_status(
        app.get(&format!("/v1/subscriptions/{id}/invoices")).await,
        200,
    )
    .await;
    let data = invoices["data"].as_array().unwrap();
    assert_eq!(data.len(), 1, "{invoices}");
    assert_eq!(data[0]["status"], "paid");
    assert_eq!(data[0]["amount_due"]["amount"], "9.99");
    assert_eq!(data[0]["amount_paid_minor"], 999);
    assert!(data[0]["id"].as_str().unwrap().starts_with("in_"));
    app.stop().await;
}

async fn bad_pauses_change_nothing(db: TestDb) {
    let app = spawn_app(&db, AppOptions::default()).await;
    let s = subscribe(&app, "pm_card_visa").await;
    let id = s["id"].as_str().unwrap();
    let reference = s["provider_reference"].as_str().unwrap();
    let now = app.state.clock.now_secs();
    for body in [
        json!({ "behavior": "sometimes" }),
        json!({}),
        json!({ "behavior": "void", "resumes_at": now - 10 }),
        json!({ "behavior": "void", "resumes_at": now + 6 * 366 * 86_400 }),
        json!({ "behavior": "void", "extra": 1 }),
    ] {
        json_with_status(
            app.post(&format!("/v1/subscriptions/{id}/pause"), &body)
                .await,
            400,
        )
        .await;
    }
    json_with_status(
        app.post(
            "/v1/subscriptions/sub_000000000000000000000000/pause",
            &json!({ "behavior": "void" }),
        )
        .await,
        404,
    )
    .await;
    json_with_status(
        app.get("/v1/subscriptions/sub_000000000000000000000000/invoices")
            .await,
        404,
    )
    .await;
    let at_stripe = app
        .stripe
        .as_ref()
        .unwrap()
        .subscription(reference)
        .unwrap();
    assert!(at_stripe["pause_collection"].is_null());
    assert!(get(&app, id).await.get("pause_collection").is_none());

    // Canceled: nothing to pause.
    json_with_status(
        app.request(reqwest::Method::DELETE, &format!("/v1/subscriptions/{id}"))
            .send()
            .await
            .unwrap(),
        200,
    )
    .await;
    let e = json_with_status(
        app.post(
            &format!("/v1/subscriptions/{id}/pause"),
            &json!({ "behavior": "void" }),
        )
        .await,
        409,
    )
    .await;
    assert_eq!(e["code"], "invalid_state");
    app.stop().await;
}

async fn failed_and_unauthenticated_invoices_reach_the_merchant(db: TestDb) {
    let app = spawn_app(&db, AppOptions::default()).await;
    // A card the bank declines once attached (Stripe's 4000 0000 0000 0341): the first invoice
    // fails and the subscription is incomplete.
    let failed = subscribe(&app, "pm_card_chargeCustomerFail").await;
    let failed_id = failed["id"].as_str().unwrap();
    assert_eq!(failed["status"], "incomplete");
    // A card that always asks for 3-D Secure: the invoice waits for the customer.
    let action = subscribe(&app, "pm_card_authenticationRequired").await;
    let action_id = action["id"].as_str().unwrap();
    settled(&app).await;
    eventually("the merchant told", Duration::from_secs(10), || async {
        events_of(&app, failed_id)
            .await
            .contains(&"subscription.invoice_payment_failed".to_string())
            && events_of(&app, action_id)
                .await
                .contains(&"subscription.invoice_action_required".to_string())
    })
    .await;
    assert_eq!(get(&app, failed_id).await["latest_invoice_status"], "open");
    let invoices = json_with_status(
        app.get(&format!("/v1/subscriptions/{failed_id}/invoices"))
            .await,
        200,
    )
    .await;
    assert_eq!(invoices["data"][0]["status"], "open");
    assert_eq!(invoices["data"][0]["amount_paid_minor"], 0);
    app.stop().await;
}

async fn late_and_reordered_events_cannot_undo_the_current_state(db: TestDb) {
    let app = spawn_app(&db, AppOptions::default()).await;
    let s = subscribe(&app, "pm_card_visa").await;
    let id = s["id"].as_str().unwrap();
    let reference = s["provider_reference"].as_str().unwrap();
    settled(&app).await;
    let at_stripe = app
        .stripe
        .as_ref()
        .unwrap()
        .subscription(reference)
        .unwrap();
    let invoice = at_stripe["latest_invoice"].as_str().unwrap().to_string();

    // A late `customer.subscription.updated` saying past_due and paused, and a late
    // `invoice.payment_failed` for the invoice since paid, each at the pinned version.
    let mut stale = at_stripe.clone();
    stale["status"] = json!("past_due");
    stale["pause_collection"] = json!({ "behavior": "void", "resumes_at": null });
    stale["current_period_end"] = json!(1);
    deliver_stripe(
        &app,
        "evt_late_sub",
        "customer.subscription.updated",
        "2024-06-20",
        stale,
    )
    .await;
    deliver_stripe(
        &app,
        "evt_late_invoice",
        "invoice.payment_failed",
        "2024-06-20",
        json!({ "id": invoice, "object": "invoice", "status": "open", "subscription": reference }),
    )
    .await;
    // And the same as a newer API version renders it (read back as well).
    deliver_stripe(
        &app,
        "evt_new_version",
        "customer.subscription.deleted",
        "2026-09-30.endive",
        json!({ "id": reference, "object": "subscription", "status": "canceled" }),
    )
    .await;
    let now = get(&app, id).await;
    assert_eq!(now["status"], "active", "{now}");
    assert!(now.get("pause_collection").is_none(), "{now}");
    assert_ne!(now["current_period_end"], 1);
    assert_eq!(now["latest_invoice_status"], "paid");
    let kinds = events_of(&app, id).await;
    assert!(
        !kinds.contains(&"subscription.invoice_payment_failed".to_string()),
        "{kinds:?}"
    );

    // A real change at Stripe, told by an event with a stale body: the current state wins.
    json_with_status(
        app.request(
            reqwest::Method::DELETE,
            &format!("/v1/subscriptions/{id}?at_period_end=true"),
        )
        .send()
        .await
        .unwrap(),
        200,
    )
    .await;
    let mut old = at_stripe.clone();
    old["cancel_at_period_end"] = json!(false);
    deliver_stripe(
        &app,
        "evt_old_body",
        "customer.subscription.updated",
        "2024-06-20",
        old,
    )
    .await;
    assert_eq!(get(&app, id).await["cancel_at_period_end"], true);
    app.stop().await;
}

async fn the_console_lists_subscriptions_and_those_with_unpaid_invoices(db: TestDb) {
    let app = spawn_app(&db, AppOptions::default()).await;
    let paid = subscribe(&app, "pm_card_visa").await;
    let failed = subscribe(&app, "pm_card_chargeCustomerFail").await;
    let action = subscribe(&app, "pm_card_authenticationRequired").await;
    settled(&app).await;
    create_admin(&app, "ops@shop.example").await;
    let admin = AdminClient::sign_in(&app, "ops@shop.example", PASSWORD).await;
    let ids = |page: &Value| -> Vec<String> {
        page["data"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s["id"].as_str().unwrap().to_string())
            .collect()
    };
    let all = admin.get_json("/admin/api/subscriptions").await;
    let id = |s: &Value| s["id"].as_str().unwrap().to_string();
    assert_eq!(
        ids(&all),
        [id(&action), id(&failed), id(&paid)],
        "newest first"
    );
    let attention = admin
        .get_json("/admin/api/subscriptions?attention=true")
        .await;
    assert_eq!(ids(&attention), [id(&action), id(&failed)]);
    assert_eq!(attention["data"][1]["latest_invoice_status"], "open");

    // A page at a time.
    let first = admin.get_json("/admin/api/subscriptions?limit=2").await;
    assert_eq!(ids(&first), [id(&action), id(&failed)]);
    let cursor = first["next_cursor"].as_str().unwrap();
    let rest = admin
        .get_json(&format!("/admin/api/subscriptions?limit=2&cursor={cursor}"))
        .await;
    assert_eq!(ids(&rest), [id(&paid)]);
    assert!(rest["next_cursor"].is_null());
    for bad in ["limit=0", "cursor=nope", "attention=maybe"] {
        json_with_status(
            admin.get(&format!("/admin/api/subscriptions?{bad}")).await,
            400,
        )
        .await;
    }
    let res = app
        .client
        .get(format!("{}/admin/api/subscriptions", app.url))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 401);
    app.stop().await;
}

/// A recurring price made at the emulator, as a merchant makes one in Stripe's Dashboard.
async fn new_price(app: &TestApp, amount: i64, interval: &str) -> String {
    let price: Value = app
        .client
        .post(format!("{}/v1/prices", app.state.config.stripe.api_base))
        .bearer_auth(EMULATOR_STRIPE_SECRET_KEY)
        .form(&[
            ("currency", "usd".to_string()),
            ("unit_amount", amount.to_string()),
            ("recurring[interval]", interval.to_string()),
            ("product_data[name]", "Team".to_string()),
        ])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    price["id"].as_str().unwrap().to_string()
}

async fn invoices(app: &TestApp, id: &str) -> Vec<Value> {
    let list = json_with_status(
        app.get(&format!("/v1/subscriptions/{id}/invoices")).await,
        200,
    )
    .await;
    list["data"].as_array().unwrap().clone()
}

async fn change(app: &TestApp, id: &str, body: Value) -> Value {
    json_with_status(
        app.post(&format!("/v1/subscriptions/{id}"), &body).await,
        200,
    )
    .await
}

async fn a_price_change_prorates_as_stripe_does(db: TestDb) {
    let app = spawn_app(&db, AppOptions::default()).await;
    let team = new_price(&app, 1999, "month").await;
    let plus = new_price(&app, 2999, "month").await;
    let s = subscribe(&app, "pm_card_visa").await;
    let id = s["id"].as_str().unwrap();
    let reference = s["provider_reference"].as_str().unwrap().to_string();
    let emulator = app.stripe.as_ref().unwrap();
    let at_stripe = emulator.subscription(&reference).unwrap();
    let (start, end) = (
        at_stripe["current_period_start"].as_i64().unwrap(),
        at_stripe["current_period_end"].as_i64().unwrap(),
    );
    // A third of the way through the period.
    let elapsed = (end - start) / 3;
    app.state.clock.advance(Duration::from_secs(elapsed as u64));
    let left = end - app.state.clock.now_secs();
    let share = |amount: i64| (amount * left + (end - start) / 2) / (end - start);

    // Invoiced now: credit for 2/3 of 9.99, charge for 2/3 of 19.99, paid by the card.
    let changed = change(
        &app,
        id,
        json!({ "price": team, "proration_behavior": "always_invoice" }),
    )
    .await;
    assert_eq!(changed["price"], team.as_str());
    assert_eq!(changed["status"], "active");
    assert_eq!(changed["latest_invoice_status"], "paid");
    let items = emulator.subscription(&reference).unwrap()["items"]["data"].clone();
    assert_eq!(
        items.as_array().unwrap().len(),
        1,
        "the item changed, none added"
    );
    assert_eq!(items[0]["price"]["id"], team.as_str());
    let list = invoices(&app, id).await;
    assert_eq!(list.len(), 2);
    let due = list[0]["amount_due"]["amount_minor"].as_i64().unwrap();
    let expected = share(1999) - share(999);
    assert!((due - expected).abs() <= 1, "{due} vs {expected}");
    assert_eq!(list[0]["status"], "paid");
    assert_eq!(list[0]["amount_paid_minor"], due);

    // On the next invoice: nothing invoiced now; Stripe keeps the prorations pending.
    let changed = change(&app, id, json!({ "price": plus })).await;
    assert_eq!(changed["price"], plus.as_str());
    assert_eq!(invoices(&app, id).await.len(), 2);
    let pending: Value = app
        .client
        .get(format!(
            "{}/v1/invoiceitems?pending=true",
            app.state.config.stripe.api_base
        ))
        .bearer_auth(EMULATOR_STRIPE_SECRET_KEY)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let amounts: Vec<i64> = pending["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["amount"].as_i64().unwrap())
        .collect();
    assert_eq!(amounts.len(), 2, "{pending}");
    assert!(amounts.iter().any(|a| *a < 0) && amounts.iter().any(|a| *a > 0));

    // None: no proration at all.
    change(
        &app,
        id,
        json!({ "price": "price_paygate_pro_monthly", "proration_behavior": "none" }),
    )
    .await;
    assert_eq!(invoices(&app, id).await.len(), 2);
    assert_eq!(
        app.stripe
            .as_ref()
            .unwrap()
            .received_request_bodies()
            .iter()
            .filter(|b| b.contains("proration_behavior=none"))
            .count(),
        1
    );

    // Refused: the same price, an unknown one, a one-time price's shape, a bad behavior.
    for (body, status) in [
        (json!({ "price": "price_paygate_pro_monthly" }), 400),
        (json!({ "price": "plan_9" }), 400),
        (json!({ "price": team, "proration_behavior": "later" }), 400),
        (json!({ "price": "price_does_not_exist" }), 400),
    ] {
        json_with_status(
            app.post(&format!("/v1/subscriptions/{id}"), &body).await,
            status,
        )
        .await;
    }
    assert_eq!(get(&app, id).await["price"], "price_paygate_pro_monthly");
    settled(&app).await;
    let kinds = events_of(&app, id).await;
    assert!(
        kinds
            .iter()
            .filter(|k| *k == "subscription.updated")
            .count()
            >= 3,
        "{kinds:?}"
    );
    app.stop().await;
}

async fn a_new_billing_interval_starts_a_new_period_invoiced_at_once(db: TestDb) {
    let app = spawn_app(&db, AppOptions::default()).await;
    let paid = subscribe(&app, "pm_card_visa").await;
    let id = paid["id"].as_str().unwrap();
    let yearly = change(&app, id, json!({ "price": "price_paygate_pro_yearly" })).await;
    assert_eq!(yearly["status"], "active");
    assert_eq!(yearly["latest_invoice_status"], "paid");
    // A year from now, not a month.
    let year_end = yearly["current_period_end"].as_i64().unwrap();
    assert!(
        year_end - app.state.clock.now_secs() > 360 * 86_400,
        "{yearly}"
    );
    let list = invoices(&app, id).await;
    assert_eq!(list.len(), 2);
    // 99.00 for the year less the unused month (about 9.99).
    let due = list[0]["amount_due"]["amount_minor"].as_i64().unwrap();
    assert!((9900 - 999 - 1..=9900 - 999 + 1).contains(&due), "{due}");

    // A card the bank declines (Stripe's 4000 0000 0000 0341): the change stands, its invoice
    // unpaid, and the merchant is told.
    let failing = subscribe(&app, "pm_card_chargeCustomerFail").await;
    let fid = failing["id"].as_str().unwrap();
    let changed = change(&app, fid, json!({ "price": "price_paygate_pro_yearly" })).await;
    assert_eq!(changed["price"], "price_paygate_pro_yearly");
    assert_eq!(changed["latest_invoice_status"], "open");
    settled(&app).await;
    eventually("the failure told", Duration::from_secs(10), || async {
        events_of(&app, fid)
            .await
            .contains(&"subscription.invoice_payment_failed".to_string())
    })
    .await;
    app.stop().await;
}

/// Moves the clock past the subscription's period end and lets the emulator renew (it does on
/// its next API call, as Stripe does on its own clock).
async fn next_period(app: &TestApp, reference: &str) {
    app.state.clock.advance(Duration::from_secs(32 * 86_400));
    let res = app
        .client
        .get(format!(
            "{}/v1/subscriptions/{reference}",
            app.state.config.stripe.api_base
        ))
        .bearer_auth(EMULATOR_STRIPE_SECRET_KEY)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
}

/// Makes `card` the Stripe customer's default payment method, as a customer updating their
/// card in a billing portal would.
async fn switch_card(app: &TestApp, stripe_customer: &str, card: &str) {
    let base = &app.state.config.stripe.api_base;
    let pm: Value = app
        .client
        .post(format!("{base}/v1/payment_methods/{card}/attach"))
        .bearer_auth(EMULATOR_STRIPE_SECRET_KEY)
        .form(&[("customer", stripe_customer)])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let res = app
        .client
        .post(format!("{base}/v1/customers/{stripe_customer}"))
        .bearer_auth(EMULATOR_STRIPE_SECRET_KEY)
        .form(&[(
            "invoice_settings[default_payment_method]",
            pm["id"].as_str().unwrap(),
        )])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
}

async fn renewals_charge_the_card_and_a_failed_one_reaches_the_merchant(db: TestDb) {
    let app = spawn_app(&db, AppOptions::default()).await;
    let s = subscribe(&app, "pm_card_visa").await;
    let id = s["id"].as_str().unwrap();
    let reference = s["provider_reference"].as_str().unwrap().to_string();
    let first_end = s["current_period_end"].as_i64().unwrap();
    settled(&app).await;

    next_period(&app, &reference).await;
    settled(&app).await;
    let list = invoices(&app, id).await;
    assert_eq!(list.len(), 2, "{list:?}");
    assert_eq!(list[0]["status"], "paid");
    assert_eq!(list[0]["amount_paid_minor"], 999);
    assert_eq!(list[0]["period_start"], first_end);
    eventually(
        "the new period recorded",
        Duration::from_secs(10),
        || async { get(&app, id).await["current_period_end"].as_i64().unwrap() > first_end },
    )
    .await;
    assert_eq!(get(&app, id).await["status"], "active");

    // The card on file now declines: the next renewal fails, the subscription is past due and
    // the merchant is told.
    let customer = json_with_status(
        app.get(&format!(
            "/v1/customers/{}",
            s["customer"].as_str().unwrap()
        ))
        .await,
        200,
    )
    .await;
    switch_card(
        &app,
        customer["stripe_customer"].as_str().unwrap(),
        "pm_card_chargeCustomerFail",
    )
    .await;
    next_period(&app, &reference).await;
    settled(&app).await;
    eventually(
        "the failed renewal recorded",
        Duration::from_secs(10),
        || async {
            let now = get(&app, id).await;
            now["status"] == "past_due" && now["latest_invoice_status"] == "open"
        },
    )
    .await;
    let told = events_of(&app, id).await;
    assert!(
        told.contains(&"subscription.invoice_payment_failed".to_string()),
        "{told:?}"
    );
    let list = invoices(&app, id).await;
    assert_eq!(list.len(), 3);
    assert_eq!(list[0]["status"], "open");
    app.stop().await;
}

async fn renewals_bill_pending_prorations_and_charge_nothing_while_paused(db: TestDb) {
    let app = spawn_app(&db, AppOptions::default()).await;
    let team = new_price(&app, 1999, "month").await;
    let s = subscribe(&app, "pm_card_visa").await;
    let id = s["id"].as_str().unwrap();
    let reference = s["provider_reference"].as_str().unwrap().to_string();
    let at_stripe = app
        .stripe
        .as_ref()
        .unwrap()
        .subscription(&reference)
        .unwrap();
    let (start, end) = (
        at_stripe["current_period_start"].as_i64().unwrap(),
        at_stripe["current_period_end"].as_i64().unwrap(),
    );
    app.state
        .clock
        .advance(Duration::from_secs(((end - start) / 2) as u64));
    let left = end - app.state.clock.now_secs();
    let share = |amount: i64| (amount * left + (end - start) / 2) / (end - start);
    // Moved to 19.99 half-way through, prorations left for the next invoice.
    change(&app, id, json!({ "price": team })).await;
    assert_eq!(invoices(&app, id).await.len(), 1);

    next_period(&app, &reference).await;
    settled(&app).await;
    let list = invoices(&app, id).await;
    assert_eq!(list.len(), 2);
    let due = list[0]["amount_due"]["amount_minor"].as_i64().unwrap();
    let expected = 1999 + share(1999) - share(999);
    assert!((due - expected).abs() <= 1, "{due} vs {expected}");
    assert_eq!(list[0]["status"], "paid");

    // Paused with void: the renewal's invoice is voided and nothing is charged.
    let charges_before = app.stripe.as_ref().unwrap().captured_charges_count();
    change(
        &app,
        id,
        json!({ "price": "price_paygate_pro_monthly", "proration_behavior": "none" }),
    )
    .await;
    json_with_status(
        app.post(
            &format!("/v1/subscriptions/{id}/pause"),
            &json!({ "behavior": "void" }),
        )
        .await,
        200,
    )
    .await;
    next_period(&app, &reference).await;
    settled(&app).await;
    let list = invoices(&app, id).await;
    assert_eq!(list.len(), 3);
    assert_eq!(list[0]["status"], "void");
    assert_eq!(
        app.stripe.as_ref().unwrap().captured_charges_count(),
        charges_before
    );
    assert_eq!(get(&app, id).await["status"], "active");
    app.stop().await;
}
