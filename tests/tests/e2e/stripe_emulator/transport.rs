//! API keys (secret and publishable, Bearer and Basic), unknown URLs, and form bodies: nesting,
//! lists, unsetting, and the parameter errors.

use super::{start, SK};
use axum::http::StatusCode;
use paygate_tests::emulator::s;
use serde_json::{json, Value};

#[tokio::test]
async fn keys_are_checked_with_stripes_401_body() {
    let emu = start().await;
    let none = emu
        .send(emu.http.get(format!("{}/v1/customers", emu.base)))
        .await;
    assert_eq!(none.status, StatusCode::UNAUTHORIZED);
    assert_eq!(none.error()["type"], "invalid_request_error");
    assert!(s(&none.error()["message"]).starts_with("You did not provide an API key."));
    assert!(none.headers["request-id"]
        .to_str()
        .unwrap()
        .starts_with("req_"));

    let wrong = emu
        .send(
            emu.http
                .get(format!("{}/v1/customers", emu.base))
                .bearer_auth("sk_test_wrong_key_abcdefgh1234"),
        )
        .await;
    assert_eq!(wrong.status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        s(&wrong.error()["message"]),
        format!("Invalid API Key provided: sk_test_{}1234", "*".repeat(18))
    );

    // HTTP Basic with the key as user name, as `curl -u sk_test_...:` sends it.
    let basic = emu
        .send(
            emu.http
                .get(format!("{}/v1/customers", emu.base))
                .basic_auth(SK, Some("")),
        )
        .await;
    assert_eq!(basic.status, StatusCode::OK);
    assert_eq!(basic.body["object"], "list");
    assert_eq!(basic.body["url"], "/v1/customers");

    // The publishable key only opens what Stripe.js uses.
    let pk = emu.post_pk("/v1/customers", &[("email", "a@b.c")]).await;
    assert_eq!(pk.status, StatusCode::UNAUTHORIZED);
    assert!(s(&pk.error()["message"]).contains("publishable API key"));
    let pk = emu
        .post_pk(
            "/v1/payment_intents",
            &[("amount", "100"), ("currency", "usd")],
        )
        .await;
    assert_eq!(pk.status, StatusCode::UNAUTHORIZED);

    let unknown = emu.get("/v1/nothing_here").await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND);
    assert!(s(&unknown.error()["message"])
        .starts_with("Unrecognized request URL (GET: /v1/nothing_here)"));
}

#[tokio::test]
async fn form_bodies_nest_and_unknown_parameters_are_refused() {
    let emu = start().await;
    let c = emu
        .post(
            "/v1/customers",
            &[
                ("email", "x@example.com"),
                ("metadata[order_id]", "42"),
                ("metadata[note]", "hello world & more"),
            ],
        )
        .await;
    assert_eq!(c.status, StatusCode::OK);
    assert_eq!(c.body["object"], "customer");
    assert_eq!(
        c.body["metadata"],
        json!({"order_id": "42", "note": "hello world & more"})
    );
    assert!(s(&c.body["id"]).starts_with("cus_"));

    // Unsetting one key, then all keys.
    let id = s(&c.body["id"]).to_string();
    let u = emu
        .post(&format!("/v1/customers/{id}"), &[("metadata[note]", "")])
        .await;
    assert_eq!(u.body["metadata"], json!({"order_id": "42"}));
    let u = emu
        .post(&format!("/v1/customers/{id}"), &[("metadata", "")])
        .await;
    assert_eq!(u.body["metadata"], json!({}));

    for list_form in ["payment_method_types[]", "payment_method_types[0]"] {
        let pi = emu
            .intent("1000", &[(list_form, "card"), ("expand[]", "customer")])
            .await;
        assert_eq!(pi.body_types(), vec!["card"]);
    }

    let unknown = emu
        .post(
            "/v1/payment_intents",
            &[("amuont", "1000"), ("amount", "1000"), ("currency", "usd")],
        )
        .await;
    assert_eq!(unknown.status, StatusCode::BAD_REQUEST);
    assert_eq!(unknown.error()["type"], "invalid_request_error");
    assert_eq!(unknown.error()["code"], "parameter_unknown");
    assert_eq!(unknown.error()["param"], "amuont");
    assert_eq!(
        unknown.error()["message"],
        "Received unknown parameter: amuont"
    );

    let nested = emu
        .post(
            "/v1/payment_intents",
            &[
                ("amount", "1000"),
                ("currency", "usd"),
                ("automatic_payment_methods[enabledd]", "true"),
            ],
        )
        .await;
    assert_eq!(
        nested.error()["param"],
        "automatic_payment_methods[enabledd]"
    );

    let missing = emu
        .post("/v1/payment_intents", &[("currency", "usd")])
        .await;
    assert_eq!(missing.status, StatusCode::BAD_REQUEST);
    assert_eq!(missing.error()["code"], "parameter_missing");
    assert_eq!(missing.error()["param"], "amount");

    let bad_int = emu
        .post(
            "/v1/payment_intents",
            &[("amount", "ten"), ("currency", "usd")],
        )
        .await;
    assert_eq!(bad_int.error()["code"], "parameter_invalid_integer");
    assert_eq!(bad_int.error()["message"], "Invalid integer: ten");

    let bad_enum = emu
        .post(
            "/v1/payment_intents",
            &[
                ("amount", "1000"),
                ("currency", "usd"),
                ("capture_method", "later"),
            ],
        )
        .await;
    assert_eq!(bad_enum.status, StatusCode::BAD_REQUEST);
    assert_eq!(bad_enum.error()["param"], "capture_method");

    let none = emu.get("/v1/payment_intents/pi_doesnotexist").await;
    assert_eq!(none.status, StatusCode::NOT_FOUND);
    assert_eq!(none.error()["code"], "resource_missing");
    assert_eq!(
        none.error()["message"],
        "No such payment_intent: 'pi_doesnotexist'"
    );
}

trait Types {
    fn body_types(&self) -> Vec<&str>;
}
impl Types for Value {
    fn body_types(&self) -> Vec<&str> {
        self["payment_method_types"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_str().unwrap())
            .collect()
    }
}
