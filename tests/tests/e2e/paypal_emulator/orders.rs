//! Orders v2: creation in both shapes, reading back, and validation with PayPal's issue codes.

use super::{assert_error_shape, order_body, start};
use axum::http::StatusCode;
use paygate_tests::emulator::s;
use serde_json::{json, Value};

#[tokio::test]
async fn orders_are_created_in_both_shapes_and_read_back() {
    let emu = start().await;

    // No payment source: CREATED with an approve link; minimal by default.
    let r = emu
        .post(
            "/v2/checkout/orders",
            &order_body("CAPTURE", "USD", "10", None),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let id = s(&r.body["id"]).to_string();
    assert_eq!(id.len(), 17);
    assert!(id
        .bytes()
        .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit()));
    assert_eq!(r.body["status"], "CREATED");
    assert!(
        r.body.get("purchase_units").is_none(),
        "minimal: {}",
        r.body
    );
    assert_eq!(
        r.link("approve").as_deref(),
        Some(format!("{}/checkoutnow?token={id}", emu.base).as_str())
    );
    assert_eq!(
        r.link("self").as_deref(),
        Some(format!("{}/v2/checkout/orders/{id}", emu.base).as_str())
    );
    assert!(r.link("capture").is_some());
    assert_eq!(r.headers["paypal-debug-id"].len(), 13, "{:?}", r.headers);

    // With payment_source.paypal: PAYER_ACTION_REQUIRED with a payer-action link.
    let r = emu
        .post(
            "/v2/checkout/orders",
            &order_body(
                "CAPTURE",
                "JPY",
                "1000",
                Some("https://shop.example/return"),
            ),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    assert_eq!(r.body["status"], "PAYER_ACTION_REQUIRED");
    assert_eq!(r.body["payment_source"], json!({"paypal": {}}));
    let payer_action = r.link("payer-action").unwrap();
    assert!(payer_action.starts_with(&format!("{}/checkoutnow?token=", emu.base)));
    assert!(r.link("approve").is_none());

    // return=representation: the full order, values in PayPal's format.
    let full = emu
        .create(&order_body("AUTHORIZE", "USD", "10.5", None))
        .await;
    assert_eq!(full["intent"], "AUTHORIZE");
    let unit = &full["purchase_units"][0];
    assert_eq!(
        unit["amount"],
        json!({"currency_code": "USD", "value": "10.50"})
    );
    assert_eq!(unit["reference_id"], "pay_123");
    assert_eq!(unit["custom_id"], "cs_abc");
    assert!(s(&unit["invoice_id"]).starts_with("inv-"));
    assert_eq!(
        unit["payee"]["merchant_id"],
        paygate_sandbox::paypal::MERCHANT_ID
    );
    assert!(s(&full["create_time"]).ends_with('Z'));
    assert!(full["links"]
        .as_array()
        .unwrap()
        .iter()
        .any(|l| l["rel"] == "authorize"));

    // GET: always the full order.
    let r = emu.get(&format!("/v2/checkout/orders/{id}")).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.body["purchase_units"][0]["amount"]["value"], "10.00");
    assert_eq!(emu.emulator.order(&id).unwrap()["status"], "CREATED");
    // A lone unit without reference_id is "default".
    let r = emu
        .post_full(
            "/v2/checkout/orders",
            &json!({"intent": "CAPTURE", "purchase_units": [{"amount": {"currency_code": "HUF", "value": "150"}}]}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    assert_eq!(r.body["purchase_units"][0]["reference_id"], "default");
    assert_eq!(r.body["purchase_units"][0]["amount"]["value"], "150");

    let r = emu.get("/v2/checkout/orders/0000000000000000X").await;
    assert_error_shape(
        &r,
        StatusCode::NOT_FOUND,
        "RESOURCE_NOT_FOUND",
        "INVALID_RESOURCE_ID",
    );
}

#[tokio::test]
async fn order_requests_are_validated_with_paypal_issue_codes() {
    let emu = start().await;
    let unit = json!({"amount": {"currency_code": "USD", "value": "10.00"}});
    let field = "/purchase_units/@reference_id=='default'/amount/value";
    let cases: Vec<(Value, StatusCode, &str, &str, Option<&str>)> = vec![
        (
            json!({"purchase_units": [unit]}),
            StatusCode::BAD_REQUEST,
            "INVALID_REQUEST",
            "MISSING_REQUIRED_PARAMETER",
            Some("/intent"),
        ),
        (
            json!({"intent": "SALE", "purchase_units": [unit]}),
            StatusCode::BAD_REQUEST,
            "INVALID_REQUEST",
            "INVALID_PARAMETER_VALUE",
            Some("/intent"),
        ),
        (
            json!({"intent": "CAPTURE"}),
            StatusCode::BAD_REQUEST,
            "INVALID_REQUEST",
            "MISSING_REQUIRED_PARAMETER",
            Some("/purchase_units"),
        ),
        (
            json!({"intent": "CAPTURE", "purchase_units": [{"amount": {"currency_code": "USD", "value": "1e3"}}]}),
            StatusCode::BAD_REQUEST,
            "INVALID_REQUEST",
            "INVALID_PARAMETER_SYNTAX",
            Some(field),
        ),
        (
            json!({"intent": "CAPTURE", "purchase_units": [{"amount": {"currency_code": "USD"}}]}),
            StatusCode::BAD_REQUEST,
            "INVALID_REQUEST",
            "MISSING_REQUIRED_PARAMETER",
            Some(field),
        ),
        // JPY takes no decimals: Orders v2 answer DECIMAL_PRECISION (its create errors do not
        // declare DECIMALS_NOT_SUPPORTED).
        (
            json!({"intent": "CAPTURE", "purchase_units": [{"amount": {"currency_code": "JPY", "value": "10.50"}}]}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "UNPROCESSABLE_ENTITY",
            "DECIMAL_PRECISION",
            Some(field),
        ),
        (
            json!({"intent": "CAPTURE", "purchase_units": [{"amount": {"currency_code": "USD", "value": "10.999"}}]}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "UNPROCESSABLE_ENTITY",
            "DECIMAL_PRECISION",
            Some(field),
        ),
        // Unsupported currencies (KWD, INR since 2021).
        (
            json!({"intent": "CAPTURE", "purchase_units": [{"amount": {"currency_code": "KWD", "value": "1.000"}}]}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "UNPROCESSABLE_ENTITY",
            "INVALID_CURRENCY_CODE",
            Some("/purchase_units/@reference_id=='default'/amount/currency_code"),
        ),
        (
            json!({"intent": "CAPTURE", "purchase_units": [{"amount": {"currency_code": "INR", "value": "100.00"}}]}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "UNPROCESSABLE_ENTITY",
            "INVALID_CURRENCY_CODE",
            None,
        ),
        (
            json!({"intent": "CAPTURE", "purchase_units": [{"amount": {"currency_code": "USD", "value": "0.00"}}]}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "UNPROCESSABLE_ENTITY",
            "CANNOT_BE_ZERO_OR_NEGATIVE",
            Some(field),
        ),
        (
            json!({"intent": "CAPTURE", "purchase_units": [{"amount": {"currency_code": "USD", "value": "10.00",
                "breakdown": {"item_total": {"currency_code": "USD", "value": "9.00"}}}}]}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "UNPROCESSABLE_ENTITY",
            "AMOUNT_MISMATCH",
            None,
        ),
        (
            json!({"intent": "CAPTURE", "purchase_units": [{"amount": {"currency_code": "USD", "value": "10.00"}}],
                   "payment_source": {"paypal": {"experience_context": {"shipping_preference": "SOMEWHERE"}}}}),
            StatusCode::BAD_REQUEST,
            "INVALID_REQUEST",
            "INVALID_PARAMETER_VALUE",
            Some("/payment_source/paypal/experience_context/shipping_preference"),
        ),
        (
            json!({"intent": "CAPTURE", "purchase_units": [{"amount": {"currency_code": "USD", "value": "10.00"}}],
                   "payment_source": {"paypal": {"experience_context": {"return_url": "not a url"}}}}),
            StatusCode::BAD_REQUEST,
            "INVALID_REQUEST",
            "INVALID_PARAMETER_SYNTAX",
            Some("/payment_source/paypal/experience_context/return_url"),
        ),
        (
            json!({"intent": "CAPTURE", "purchase_units": [{"amount": {"currency_code": "USD", "value": "10.00"}, "invoice_id": ""}]}),
            StatusCode::BAD_REQUEST,
            "INVALID_REQUEST",
            "INVALID_STRING_LENGTH",
            None,
        ),
    ];
    for (body, status, name, issue, field) in cases {
        let r = emu.post("/v2/checkout/orders", &body).await;
        assert_error_shape(&r, status, name, issue);
        if let Some(f) = field {
            assert_eq!(r.body["details"][0]["field"], f, "{}", r.body);
            assert_eq!(r.body["details"][0]["location"], "body");
        }
    }
    let r = emu
        .send(
            emu.http
                .post(emu.url("/v2/checkout/orders"))
                .bearer_auth(&emu.token)
                .header("content-type", "application/json")
                .body("{not json"),
        )
        .await;
    assert_error_shape(
        &r,
        StatusCode::BAD_REQUEST,
        "INVALID_REQUEST",
        "MALFORMED_REQUEST_JSON",
    );
    // The value that failed is echoed.
    let r = emu
        .post(
            "/v2/checkout/orders",
            &json!({"intent": "CAPTURE", "purchase_units": [{"amount": {"currency_code": "JPY", "value": "10.50"}}]}),
        )
        .await;
    assert_eq!(r.body["details"][0]["value"], "10.50");
    assert!(r.body["links"][0]["href"]
        .as_str()
        .unwrap()
        .ends_with("#error-DECIMAL_PRECISION"));
    // Nothing was created by any of them.
    assert_eq!(emu.state().await["orders"], json!({}));
}
