//! The catalogue: the demo products and prices, and new ones.

use super::start;
use axum::http::StatusCode;
use paygate_tests::emulator::s;

#[tokio::test]
async fn demo_prices_exist_and_prices_can_be_created() {
    let emu = start().await;
    let monthly = emu.get("/v1/prices/price_paygate_pro_monthly").await;
    assert_eq!(monthly.body["unit_amount"], 999);
    assert_eq!(monthly.body["currency"], "usd");
    assert_eq!(monthly.body["recurring"]["interval"], "month");
    assert_eq!(monthly.body["product"], "prod_paygate_pro");
    let yearly = emu.get("/v1/prices/price_paygate_pro_yearly").await;
    assert_eq!(yearly.body["unit_amount"], 9900);
    let product = emu.get("/v1/products/prod_paygate_pro").await;
    assert_eq!(product.body["name"], "paygate Pro");

    let p = emu.post("/v1/products", &[("name", "Gold")]).await;
    let price = emu
        .post(
            "/v1/prices",
            &[
                ("product", s(&p.body["id"])),
                ("unit_amount", "1500"),
                ("currency", "eur"),
                ("recurring[interval]", "week"),
                ("lookup_key", "gold_weekly"),
            ],
        )
        .await;
    assert_eq!(price.status, StatusCode::OK, "{}", price.body);
    assert_eq!(price.body["type"], "recurring");
    let found = emu.get("/v1/prices?lookup_keys[]=gold_weekly").await;
    assert_eq!(found.body["data"][0]["id"], price.body["id"]);
    let dup = emu
        .post(
            "/v1/prices",
            &[
                ("product", s(&p.body["id"])),
                ("unit_amount", "1"),
                ("currency", "eur"),
                ("lookup_key", "gold_weekly"),
            ],
        )
        .await;
    assert_eq!(dup.status, StatusCode::BAD_REQUEST);
}
