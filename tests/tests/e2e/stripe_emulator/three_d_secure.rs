//! 3-D Secure: the redirect flow, the Stripe.js flow, failed challenges, declines after
//! authentication, and off-session payments.

use super::{form, start};
use axum::http::StatusCode;
use paygate_tests::emulator::s;
use serde_json::Value;

#[tokio::test]
async fn three_d_secure_redirect_flow_completes_and_returns() {
    let emu = start().await;
    let pm = emu.card("4000002500003155").await.body;
    let pi = emu
        .post(
            "/v1/payment_intents",
            &[
                ("amount", "4200"),
                ("currency", "eur"),
                ("payment_method", s(&pm["id"])),
                ("confirm", "true"),
                ("return_url", "https://shop.example/return?order=7"),
            ],
        )
        .await;
    assert_eq!(pi.status, StatusCode::OK);
    assert_eq!(pi.body["status"], "requires_action");
    let action = &pi.body["next_action"];
    assert_eq!(action["type"], "redirect_to_url");
    assert_eq!(
        action["redirect_to_url"]["return_url"],
        "https://shop.example/return?order=7"
    );
    let url = s(&action["redirect_to_url"]["url"]).to_string();
    assert!(url.starts_with(&format!("{}/3ds/{}", emu.base, s(&pi.body["id"]))));
    let events = emu
        .get("/v1/events?type=payment_intent.requires_action")
        .await;
    assert_eq!(events.body["data"].as_array().unwrap().len(), 1);

    let page = emu.http.get(&url).send().await.unwrap();
    assert_eq!(page.status(), 200);
    let csp = page.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_string();
    assert!(!csp.contains("unsafe-inline"), "{csp}");
    assert!(csp.contains("form-action 'self'"), "{csp}");
    assert!(csp.contains("https://shop.example"), "{csp}");
    let html = page.text().await.unwrap();
    assert!(html.contains("Complete authentication"));
    assert!(html.contains("Fail authentication"));
    assert!(!html.contains("<script>"), "no inline script");

    // Without the client secret nothing moves.
    let id = s(&pi.body["id"]).to_string();
    let forged = emu
        .http
        .post(format!("{}/3ds/{id}/complete", emu.base))
        .header("content-type", "application/x-www-form-urlencoded")
        .body("client_secret=pi_wrong_secret_x")
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status(), 404);
    assert_eq!(
        emu.emulator.payment_intent(&id).unwrap()["status"],
        "requires_action"
    );

    let secret = s(&pi.body["client_secret"]).to_string();
    assert!(secret.starts_with(&format!("{id}_secret_")));
    let done = emu
        .http
        .post(format!("{}/3ds/{id}/complete", emu.base))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(form(&[("client_secret", &secret)]))
        .send()
        .await
        .unwrap();
    assert_eq!(done.status(), 303);
    let location = done.headers()["location"].to_str().unwrap();
    assert!(location.starts_with("https://shop.example/return?order=7&payment_intent="));
    assert!(location.contains("redirect_status=succeeded"));
    let after = emu.emulator.payment_intent(&id).unwrap();
    assert_eq!(after["status"], "succeeded");
    assert_eq!(after["next_action"], Value::Null);
    let charge = emu
        .get(&format!("/v1/charges/{}", s(&after["latest_charge"])))
        .await;
    assert_eq!(
        charge.body["payment_method_details"]["card"]["three_d_secure"]["result"],
        "authenticated"
    );
}

#[tokio::test]
async fn three_d_secure_can_fail_and_cards_can_decline_after_it() {
    let emu = start().await;
    // Stripe.js flow (use_stripe_sdk), failed challenge.
    let pi = emu.intent("1000", &[]).await;
    let id = s(&pi["id"]).to_string();
    let secret = s(&pi["client_secret"]).to_string();
    let r = emu
        .post_pk(
            &format!("/v1/payment_intents/{id}/confirm"),
            &[
                ("payment_method", "pm_card_authenticationRequired"),
                ("client_secret", &secret),
                ("use_stripe_sdk", "true"),
                ("return_url", "https://shop.example/back"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.body["status"], "requires_action");
    assert_eq!(r.body["next_action"]["type"], "use_stripe_sdk");
    assert!(
        r.body.get("metadata").is_none(),
        "publishable view is reduced"
    );
    // A 3-D Secure 2 card answers with a fingerprint action (Stripe's `PI_VISA_3DS2_JSON`
    // fixture), which carries no URL: Stripe.js sends its source to /v1/3ds2/authenticate, and
    // that answer names the challenge.
    let sdk = &r.body["next_action"]["use_stripe_sdk"];
    assert_eq!(sdk["type"], "stripe_3ds2_fingerprint", "{sdk}");
    assert_eq!(sdk["directory_server_name"], "visa");
    assert!(sdk.get("stripe_js").is_none(), "{sdk}");
    let source = s(&sdk["three_d_secure_2_source"]).to_string();
    let auth = emu
        .post_pk(
            "/v1/3ds2/authenticate",
            &[
                ("source", &source),
                ("browser", "{\"threeDSCompInd\":\"U\"}"),
            ],
        )
        .await;
    assert_eq!(auth.status, StatusCode::OK, "{}", auth.body);
    assert_eq!(auth.body["state"], "challenge_required");
    assert_eq!(
        auth.body["ares"]["threeDSServerTransID"], sdk["server_transaction_id"],
        "{}",
        auth.body
    );
    let challenge = s(&auth.body["ares"]["acsURL"]).to_string();
    let page = emu.http.get(&challenge).send().await.unwrap();
    assert_eq!(page.status(), 200);
    assert!(page.text().await.unwrap().contains("3D Secure 2 Test Page"));
    let unknown = emu
        .post_pk("/v1/3ds2/authenticate", &[("source", "payatt_nothing")])
        .await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND, "{}", unknown.body);
    assert_eq!(unknown.body["error"]["code"], "resource_missing");
    let fail = emu
        .http
        .post(format!("{}/3ds/{id}/fail", emu.base))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(form(&[
            ("client_secret", &secret),
            ("origin", "https://shop.example"),
        ]))
        .send()
        .await
        .unwrap();
    assert_eq!(fail.status(), 200, "no redirect in the Stripe.js flow");
    let html = fail.text().await.unwrap();
    assert!(html.contains("data-origin=\"https://shop.example\""));
    assert!(html.contains("/js/3ds.js"));
    let after = emu.emulator.payment_intent(&id).unwrap();
    assert_eq!(after["status"], "requires_payment_method");
    assert_eq!(
        after["last_payment_error"]["code"],
        "payment_intent_authentication_failure"
    );

    // Authenticates, then declines for insufficient funds.
    let pi = emu
        .intent(
            "1000",
            &[(
                "payment_method",
                "pm_card_authenticationRequiredChargeDeclinedInsufficientFunds",
            )],
        )
        .await;
    assert_eq!(pi["status"], "requires_confirmation");
    let id = s(&pi["id"]).to_string();
    let r = emu
        .post(&format!("/v1/payment_intents/{id}/confirm"), &[])
        .await;
    assert_eq!(r.body["status"], "requires_action");
    let done = emu
        .http
        .post(format!("{}/3ds/{id}/complete", emu.base))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(form(&[("client_secret", s(&pi["client_secret"]))]))
        .send()
        .await
        .unwrap();
    assert_eq!(done.status(), 200);
    let after = emu.emulator.payment_intent(&id).unwrap();
    assert_eq!(after["status"], "requires_payment_method");
    assert_eq!(
        after["last_payment_error"]["decline_code"],
        "insufficient_funds"
    );

    // Manual capture after 3-D Secure.
    let pi = emu
        .intent(
            "1000",
            &[
                ("capture_method", "manual"),
                ("payment_method", "pm_card_threeDSecure2Required"),
                ("confirm", "true"),
            ],
        )
        .await;
    let id = s(&pi["id"]).to_string();
    emu.http
        .post(format!("{}/3ds/{id}/complete", emu.base))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(form(&[("client_secret", s(&pi["client_secret"]))]))
        .send()
        .await
        .unwrap();
    assert_eq!(
        emu.emulator.payment_intent(&id).unwrap()["status"],
        "requires_capture"
    );

    // Off-session payments with a card that needs authentication are declined.
    let off = emu
        .post(
            "/v1/payment_intents",
            &[
                ("amount", "1000"),
                ("currency", "usd"),
                ("payment_method", "pm_card_authenticationRequiredOnSetup"),
                ("confirm", "true"),
                ("off_session", "true"),
            ],
        )
        .await;
    assert_eq!(off.status, StatusCode::PAYMENT_REQUIRED);
    assert_eq!(off.error()["decline_code"], "authentication_required");
}

/// docs.stripe.com/testing, "Authentication and setup": 4000003800000446 "requires
/// authentication for one-time and other on-session payments. However, all off-session payments
/// succeed as if the card has been previously set up"; 4000002500003155 "requires
/// authentication for off-session payments unless you set it up for future payments. After you
/// set it up, off-session payments no longer require authentication. However, on-session
/// payments with this card always require authentication"; 4000002760003184 "requires
/// authentication on all transactions, regardless of how the card is set up".
#[tokio::test]
async fn test_cards_authenticate_as_stripe_documents() {
    let emu = start().await;
    let customer = emu
        .post("/v1/customers", &[("email", "ada@example.com")])
        .await;
    let cus = s(&customer.body["id"]).to_string();
    let saved = |number: &'static str| {
        let (emu, cus) = (&emu, cus.clone());
        async move {
            let pm = emu.card(number).await;
            let id = s(&pm.body["id"]).to_string();
            let attached = emu
                .post(
                    &format!("/v1/payment_methods/{id}/attach"),
                    &[("customer", &cus)],
                )
                .await;
            assert_eq!(attached.status, StatusCode::OK, "{}", attached.body);
            id
        }
    };
    let pay = |pm: String, extra: &'static [(&'static str, &'static str)]| {
        let (emu, cus) = (&emu, cus.clone());
        async move {
            let mut pairs = vec![
                ("amount", "1000"),
                ("currency", "usd"),
                ("customer", cus.as_str()),
                ("payment_method", pm.as_str()),
                ("confirm", "true"),
                ("return_url", "https://shop.example/return"),
            ];
            pairs.extend_from_slice(extra);
            emu.post("/v1/payment_intents", &pairs).await
        }
    };
    const OFF: &[(&str, &str)] = &[("off_session", "true")];
    // An on-session payment that sets the card up for later off-session ones, authenticated.
    let set_up = |pm: String| {
        let emu = &emu;
        let pay = &pay;
        async move {
            let pi = pay(pm, &[("setup_future_usage", "off_session")]).await;
            assert_eq!(pi.body["status"], "requires_action", "{}", pi.body);
            let id = s(&pi.body["id"]).to_string();
            let done = emu
                .http
                .post(format!("{}/3ds/{id}/complete", emu.base))
                .header("content-type", "application/x-www-form-urlencoded")
                .body(form(&[("client_secret", s(&pi.body["client_secret"]))]))
                .send()
                .await
                .unwrap();
            assert_eq!(done.status(), 303);
            assert_eq!(
                emu.emulator.payment_intent(&id).unwrap()["status"],
                "succeeded"
            );
        }
    };

    let already = saved("4000003800000446").await;
    assert_eq!(
        pay(already.clone(), &[]).await.body["status"],
        "requires_action"
    );
    assert_eq!(pay(already, OFF).await.body["status"], "succeeded");

    let on_setup = saved("4000002500003155").await;
    let off = pay(on_setup.clone(), OFF).await;
    assert_eq!(off.status, StatusCode::PAYMENT_REQUIRED);
    assert_eq!(off.error()["decline_code"], "authentication_required");
    set_up(on_setup.clone()).await;
    assert_eq!(pay(on_setup.clone(), OFF).await.body["status"], "succeeded");
    assert_eq!(pay(on_setup, &[]).await.body["status"], "requires_action");

    let always = saved("4000002760003184").await;
    set_up(always.clone()).await;
    let off = pay(always, OFF).await;
    assert_eq!(off.status, StatusCode::PAYMENT_REQUIRED);
    assert_eq!(off.error()["decline_code"], "authentication_required");
}
