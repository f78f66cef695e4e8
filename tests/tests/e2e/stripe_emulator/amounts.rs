//! Amounts and currencies: zero- and three-decimal currencies, minimums and maximums.

use super::start;
use axum::http::StatusCode;

#[tokio::test]
async fn amounts_follow_stripes_currency_rules() {
    let emu = start().await;
    let jpy = emu
        .post(
            "/v1/payment_intents",
            &[("amount", "1000"), ("currency", "jpy")],
        )
        .await;
    assert_eq!(jpy.status, StatusCode::OK);
    assert_eq!(jpy.body["amount"], 1000);
    assert_eq!(jpy.body["currency"], "jpy");
    let usd = emu
        .post(
            "/v1/payment_intents",
            &[("amount", "50"), ("currency", "USD")],
        )
        .await;
    assert_eq!(usd.body["currency"], "usd");
    let kwd_ok = emu
        .post(
            "/v1/payment_intents",
            &[("amount", "1230"), ("currency", "kwd")],
        )
        .await;
    assert_eq!(kwd_ok.status, StatusCode::OK);
    let kwd_bad = emu
        .post(
            "/v1/payment_intents",
            &[("amount", "1234"), ("currency", "kwd")],
        )
        .await;
    assert_eq!(kwd_bad.status, StatusCode::BAD_REQUEST);
    assert_eq!(kwd_bad.error()["param"], "amount");
    let small = emu
        .post(
            "/v1/payment_intents",
            &[("amount", "49"), ("currency", "usd")],
        )
        .await;
    assert_eq!(small.status, StatusCode::BAD_REQUEST);
    assert_eq!(small.error()["code"], "amount_too_small");
    assert_eq!(
        small.error()["message"],
        "Amount must be at least $0.50 usd"
    );
    let jpy_small = emu
        .post(
            "/v1/payment_intents",
            &[("amount", "49"), ("currency", "jpy")],
        )
        .await;
    assert_eq!(jpy_small.error()["code"], "amount_too_small");
    let large = emu
        .post(
            "/v1/payment_intents",
            &[("amount", "100000000"), ("currency", "usd")],
        )
        .await;
    assert_eq!(large.error()["code"], "amount_too_large");
    let max = emu
        .post(
            "/v1/payment_intents",
            &[("amount", "99999999"), ("currency", "usd")],
        )
        .await;
    assert_eq!(max.status, StatusCode::OK);
    let currency = emu
        .post(
            "/v1/payment_intents",
            &[("amount", "1000"), ("currency", "xyz")],
        )
        .await;
    assert_eq!(currency.error()["param"], "currency");
    let isk = emu
        .post(
            "/v1/payment_intents",
            &[("amount", "550"), ("currency", "isk")],
        )
        .await;
    assert_eq!(isk.status, StatusCode::BAD_REQUEST);
    let isk_ok = emu
        .post(
            "/v1/payment_intents",
            &[("amount", "500"), ("currency", "isk")],
        )
        .await;
    assert_eq!(isk_ok.status, StatusCode::OK);
}
