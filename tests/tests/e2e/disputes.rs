//! Disputes over real HTTP, on SQLite and PostgreSQL, against the Stripe emulator: Stripe's
//! dispute test cards open a dispute (or an inquiry) on a captured payment; paygate records it
//! with its deadline and reason, holds its amount on the payment (`disputed_minor`), tells the
//! merchant (`dispute.*`, `payment.dispute_opened`), and passes the merchant's response to
//! Stripe: evidence that wins or loses (Stripe's `winning_evidence` / `losing_evidence`),
//! evidence only staged, or accepting the dispute. Bad input and answers to a closed dispute
//! change nothing.

use paygate_tests::admin::{create_admin, AdminClient, PASSWORD};
use paygate_tests::app::{eventually, json_with_status};
use paygate_tests::{on_both_databases, spawn_app, AppOptions, TestApp, TestDb};
use reqwest::Method;
use serde_json::{json, Value};
use std::time::Duration;

on_both_databases!(
    a_disputed_payment_is_recorded_and_won_with_evidence,
    accepting_a_dispute_loses_it_and_closed_disputes_take_no_answer,
    inquiries_hold_nothing_and_staged_evidence_is_not_submitted,
    disputes_are_listed_with_filters_and_a_cursor,
    the_console_answers_disputes_audited_and_shows_them_on_the_payment,
);

/// A card payment of `amount` USD confirmed with `card` through the merchant API: its id.
async fn paid_with(app: &TestApp, card: &str, amount: &str) -> String {
    let p = json_with_status(
        app.post(
            "/v1/payments",
            &json!({ "provider": "stripe", "amount": amount, "currency": "USD" }),
        )
        .await,
        201,
    )
    .await;
    let id = p["id"].as_str().unwrap().to_string();
    let confirmed = json_with_status(
        app.post(
            &format!("/v1/payments/{id}/confirm"),
            &json!({ "payment_method": card }),
        )
        .await,
        200,
    )
    .await;
    assert_eq!(confirmed["status"], "succeeded");
    id
}

/// Waits until the payment's dispute is recorded (from Stripe's webhook); the dispute.
async fn dispute_of(app: &TestApp, payment: &str) -> Value {
    let path = format!("/v1/disputes?payment={payment}");
    eventually("the dispute recorded", Duration::from_secs(10), || async {
        let list = json_with_status(app.get(&path).await, 200).await;
        !list["data"].as_array().unwrap().is_empty()
    })
    .await;
    json_with_status(app.get(&path).await, 200).await["data"][0].clone()
}

async fn payment(app: &TestApp, id: &str) -> Value {
    json_with_status(app.get(&format!("/v1/payments/{id}")).await, 200).await
}

async fn kinds(app: &TestApp, object: &str) -> Vec<String> {
    let page = json_with_status(
        app.get(&format!("/v1/events?object_id={object}")).await,
        200,
    )
    .await;
    let mut kinds: Vec<String> = page["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["type"].as_str().unwrap().to_string())
        .collect();
    kinds.reverse();
    kinds
}

/// Waits until every Stripe dispute event is processed.
async fn settled(app: &TestApp) {
    eventually(
        "dispute webhooks applied",
        Duration::from_secs(15),
        || async {
            app.count(
                "SELECT COUNT(*) FROM provider_events WHERE processed_at IS NULL \
             AND event_type LIKE 'charge.dispute.%'",
            )
            .await
                == 0
        },
    )
    .await;
}

async fn a_disputed_payment_is_recorded_and_won_with_evidence(db: TestDb) {
    let app = spawn_app(&db, AppOptions::default()).await;
    let pay = paid_with(&app, "pm_card_createDispute", "42.00").await;
    let d = dispute_of(&app, &pay).await;
    let id = d["id"].as_str().unwrap().to_string();
    assert!(id.starts_with("dsp_"), "{d}");
    assert!(d["provider_reference"].as_str().unwrap().starts_with("du_"));
    assert_eq!(d["status"], "needs_response");
    assert_eq!(d["needs_response"], true);
    assert_eq!(d["reason"], "fraudulent");
    assert_eq!(d["amount_minor"], 4200);
    let due = d["evidence_due_by"].as_i64().unwrap();
    let now = app.state.clock.now_secs();
    assert!(
        (now + 6 * 86_400..=now + 7 * 86_400 + 60).contains(&due),
        "{d}"
    );
    settled(&app).await;
    assert_eq!(payment(&app, &pay).await["disputed_minor"], 4200);
    let told = kinds(&app, &pay).await;
    assert!(
        told.contains(&"payment.dispute_opened".to_string()),
        "{told:?}"
    );
    // created, then funds withdrawn: one dispute, not two.
    assert_eq!(app.count("SELECT COUNT(*) FROM disputes").await, 1);

    // Evidence Stripe's test mode judges winning: under review, then won; funds back.
    let answered = json_with_status(
        app.post(
            &format!("/v1/disputes/{id}"),
            &json!({ "evidence": {
                "uncategorized_text": "winning_evidence",
                "customer_name": "Ada Lovelace",
                "product_description": "A mug"
            } }),
        )
        .await,
        200,
    )
    .await;
    assert_eq!(answered["status"], "won", "{answered}");
    assert_eq!(answered["needs_response"], false);
    assert_eq!(answered["submission_count"], 1);
    settled(&app).await;
    let now = json_with_status(app.get(&format!("/v1/disputes/{id}")).await, 200).await;
    assert_eq!(
        now["status"], "won",
        "late webhooks do not undo the outcome"
    );
    assert_eq!(payment(&app, &pay).await["disputed_minor"], 0);
    let told = kinds(&app, &id).await;
    assert_eq!(
        told.first().map(String::as_str),
        Some("dispute.created"),
        "{told:?}"
    );
    assert!(told.contains(&"dispute.closed".to_string()), "{told:?}");
    assert_eq!(
        told.iter().filter(|k| *k == "dispute.closed").count(),
        1,
        "{told:?}"
    );
    let evidence_sent = app
        .stripe
        .as_ref()
        .unwrap()
        .received_request_bodies()
        .iter()
        .any(|b| {
            b.contains("evidence%5Bcustomer_name%5D=Ada+Lovelace")
                || b.contains("evidence[customer_name]=Ada")
        });
    assert!(evidence_sent, "the evidence went to Stripe");
    // The timeline shows the dispute from opening to close.
    let steps: Vec<String> = paygate::payments::timeline::list(&app.state.db, &pay)
        .await
        .unwrap()
        .iter()
        .map(|t| t.kind.clone())
        .collect();
    assert!(steps.contains(&"dispute_opened".to_string()), "{steps:?}");
    assert!(steps.contains(&"dispute_closed".to_string()), "{steps:?}");
    app.stop().await;
}

async fn accepting_a_dispute_loses_it_and_closed_disputes_take_no_answer(db: TestDb) {
    let app = spawn_app(&db, AppOptions::default()).await;
    let pay = paid_with(&app, "pm_card_createDisputeProductNotReceived", "15.00").await;
    let d = dispute_of(&app, &pay).await;
    let id = d["id"].as_str().unwrap();
    assert_eq!(d["reason"], "product_not_received");

    // Bad responses change nothing.
    for (body, param) in [
        (json!({ "evidence": {} }), "evidence"),
        (
            json!({ "evidence": { "shoe_size": "42" } }),
            "evidence[shoe_size]",
        ),
        (
            json!({ "evidence": { "uncategorized_text": "x".repeat(20_001) } }),
            "evidence[uncategorized_text]",
        ),
    ] {
        let e = json_with_status(app.post(&format!("/v1/disputes/{id}"), &body).await, 400).await;
        assert_eq!(e["param"], param);
    }
    json_with_status(
        app.post(
            &format!("/v1/disputes/{id}"),
            &json!({ "evidence": { "customer_name": "x" }, "extra": 1 }),
        )
        .await,
        400,
    )
    .await;
    json_with_status(
        app.post(
            "/v1/disputes/dsp_000000000000000000000000/close",
            &json!({}),
        )
        .await,
        404,
    )
    .await;
    assert_eq!(
        json_with_status(app.get(&format!("/v1/disputes/{id}")).await, 200).await["status"],
        "needs_response"
    );

    let lost = json_with_status(
        app.post(&format!("/v1/disputes/{id}/close"), &json!({}))
            .await,
        200,
    )
    .await;
    assert_eq!(lost["status"], "lost");
    assert_eq!(
        payment(&app, &pay).await["disputed_minor"],
        1500,
        "a lost dispute keeps the money"
    );
    // Closed: no more answers, and Stripe is not asked.
    for path in [
        format!("/v1/disputes/{id}/close"),
        format!("/v1/disputes/{id}"),
    ] {
        let e = json_with_status(
            app.post(&path, &json!({ "evidence": { "customer_name": "late" } }))
                .await,
            409,
        )
        .await;
        assert_eq!(e["code"], "invalid_state");
    }
    let sent_late = app
        .stripe
        .as_ref()
        .unwrap()
        .received_request_bodies()
        .iter()
        .any(|b| b.contains("late"));
    assert!(!sent_late, "Stripe was not asked");
    app.stop().await;
}

async fn inquiries_hold_nothing_and_staged_evidence_is_not_submitted(db: TestDb) {
    let app = spawn_app(&db, AppOptions::default()).await;
    let pay = paid_with(&app, "pm_card_createDisputeInquiry", "8.00").await;
    let d = dispute_of(&app, &pay).await;
    let id = d["id"].as_str().unwrap();
    assert_eq!(d["status"], "warning_needs_response");
    settled(&app).await;
    assert_eq!(
        payment(&app, &pay).await["disputed_minor"],
        0,
        "an inquiry withdraws nothing"
    );

    let staged = json_with_status(
        app.post(
            &format!("/v1/disputes/{id}"),
            &json!({ "evidence": { "product_description": "A mug" }, "submit": false }),
        )
        .await,
        200,
    )
    .await;
    assert_eq!(staged["status"], "warning_needs_response");
    assert_eq!(staged["submission_count"], 0);
    assert_eq!(staged["needs_response"], true);
    let submitted = json_with_status(
        app.post(
            &format!("/v1/disputes/{id}"),
            &json!({ "evidence": { "uncategorized_text": "losing_evidence" } }),
        )
        .await,
        200,
    )
    .await;
    assert_eq!(submitted["status"], "warning_closed");
    assert_eq!(submitted["submission_count"], 1);
    app.stop().await;
}

async fn disputes_are_listed_with_filters_and_a_cursor(db: TestDb) {
    let app = spawn_app(&db, AppOptions::default()).await;
    let mut made = Vec::new();
    for amount in ["3.00", "4.00", "5.00"] {
        let pay = paid_with(&app, "pm_card_createDispute", amount).await;
        made.push(
            dispute_of(&app, &pay).await["id"]
                .as_str()
                .unwrap()
                .to_string(),
        );
        app.state.clock.advance(Duration::from_millis(5));
    }
    json_with_status(
        app.post(&format!("/v1/disputes/{}/close", made[0]), &json!({}))
            .await,
        200,
    )
    .await;
    let mut seen = Vec::new();
    let mut path = "/v1/disputes?limit=2".to_string();
    loop {
        let page = json_with_status(app.get(&path).await, 200).await;
        for d in page["data"].as_array().unwrap() {
            seen.push(d["id"].as_str().unwrap().to_string());
        }
        match page["next_cursor"].as_str() {
            Some(c) => path = format!("/v1/disputes?limit=2&starting_after={c}"),
            None => break,
        }
    }
    let newest_first: Vec<String> = made.iter().rev().cloned().collect();
    assert_eq!(seen, newest_first);
    let lost = json_with_status(app.get("/v1/disputes?status=lost").await, 200).await;
    assert_eq!(lost["data"].as_array().unwrap().len(), 1);
    assert_eq!(lost["data"][0]["id"], made[0].as_str());
    for bad in ["limit=0", "starting_after=nope", "colour=red"] {
        json_with_status(app.get(&format!("/v1/disputes?{bad}")).await, 400).await;
    }
    json_with_status(
        app.get("/v1/disputes/dsp_000000000000000000000000").await,
        404,
    )
    .await;
    app.stop().await;
}

async fn the_console_answers_disputes_audited_and_shows_them_on_the_payment(db: TestDb) {
    let app = spawn_app(&db, AppOptions::default()).await;
    create_admin(&app, "ops@shop.example").await;
    let admin = AdminClient::sign_in(&app, "ops@shop.example", PASSWORD).await;
    let first = paid_with(&app, "pm_card_createDispute", "20.00").await;
    let second = paid_with(&app, "pm_card_createDispute", "30.00").await;
    let won = dispute_of(&app, &first).await["id"]
        .as_str()
        .unwrap()
        .to_string();
    let accepted = dispute_of(&app, &second).await["id"]
        .as_str()
        .unwrap()
        .to_string();
    settled(&app).await;

    let open = admin
        .get_json("/admin/api/disputes?status=needs_response")
        .await;
    assert_eq!(open["data"].as_array().unwrap().len(), 2);
    let detail = admin
        .get_json(&format!("/admin/api/payments/{first}"))
        .await;
    assert_eq!(detail["disputes"][0]["id"], won.as_str());
    assert_eq!(detail["payment"]["disputed_minor"], 2000);

    // Without the CSRF token: refused before Stripe hears of it.
    let told_stripe = |app: &TestApp| {
        app.stripe
            .as_ref()
            .unwrap()
            .received_request_bodies()
            .iter()
            .any(|b| b.contains("winning_evidence"))
    };
    let res = app
        .client
        .post(format!("{}/admin/api/disputes/{won}/evidence", app.url))
        .header("cookie", &admin.cookie)
        .json(&json!({ "evidence": { "uncategorized_text": "winning_evidence" } }))
        .send()
        .await
        .unwrap();
    assert_eq!(
        json_with_status(res, 403).await["code"],
        "csrf_token_invalid"
    );
    assert!(!told_stripe(&app));

    let res = admin
        .request(Method::POST, &format!("/admin/api/disputes/{won}/evidence"))
        .json(&json!({ "evidence": { "uncategorized_text": "winning_evidence", "customer_name": "Ada" } }))
        .send()
        .await
        .unwrap();
    assert_eq!(json_with_status(res, 200).await["status"], "won");
    let res = admin
        .request(
            Method::POST,
            &format!("/admin/api/disputes/{accepted}/close"),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(json_with_status(res, 200).await["status"], "lost");

    let audit = admin.get_json("/admin/api/audit?limit=50").await;
    let entries: Vec<&Value> = audit["data"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["action"].as_str().unwrap().starts_with("dispute_"))
        .collect();
    assert_eq!(entries.len(), 2, "{audit}");
    assert_eq!(entries[0]["action"], "dispute_accept");
    assert_eq!(entries[0]["target"], accepted.as_str());
    assert_eq!(entries[1]["action"], "dispute_evidence");
    assert_eq!(
        entries[1]["detail"]["fields"],
        json!(["customer_name", "uncategorized_text"])
    );
    assert!(
        !entries[1].to_string().contains("Ada"),
        "evidence text stays out of the audit log"
    );
    app.stop().await;
}
