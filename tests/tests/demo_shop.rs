//! The sandbox demo shop and the embed loader as served.

use paygate_tests::app::json_with_status;
use paygate_tests::{spawn_app, AppOptions, TestDb};
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_shop_prices_the_cart_on_the_server() {
    let db = TestDb::sqlite().await;
    let app = spawn_app(&db, AppOptions::default()).await;
    let s = json_with_status(
        app.client
            .post(format!("{}/demo/checkout", app.url))
            .json(&json!({ "items": [{ "sku": "mug", "quantity": 3 }, { "sku": "tea", "quantity": 7 }] }))
            .send()
            .await
            .unwrap(),
        200,
    )
    .await;
    let id = s["id"].as_str().unwrap();
    let session =
        json_with_status(app.get(&format!("/v1/checkout/sessions/{id}")).await, 200).await;
    assert_eq!(session["amount_minor"], 2633, "3 × 8.10 + 7 × 0.29");
    for bad in [
        json!({ "items": [{ "sku": "yacht", "quantity": 1 }] }),
        json!({ "items": [{ "sku": "tea", "quantity": 1, "price": "0.01" }] }),
    ] {
        let res = app
            .client
            .post(format!("{}/demo/checkout", app.url))
            .json(&bad)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 400, "{bad}");
    }
    let page = app.client.get(&app.url).send().await.unwrap();
    let csp = page.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_string();
    assert!(
        csp.contains("script-src 'self'") && !csp.contains("unsafe-inline"),
        "{csp}"
    );
    let html = page.text().await.unwrap();
    assert!(html.contains("4242 4242 4242 4242"));
    assert_eq!(
        html.matches("<script").count(),
        html.matches("<script src=").count(),
        "no inline scripts"
    );
    let js = app
        .client
        .get(format!("{}/embed.js", app.url))
        .send()
        .await
        .unwrap();
    assert!(js.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/javascript"));
    let body = js.text().await.unwrap();
    assert!(
        body.contains("Paygate") && body.len() < 8 * 1024,
        "a small loader"
    );
    app.stop().await;
}
