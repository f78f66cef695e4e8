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

/// The widget's files go out gzipped to browsers that accept it (the size budget is for what
/// customers download), and plain to clients that do not.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_widget_files_are_served_gzipped() {
    let dir = paygate_tests::app::assets_dir().join("widget");
    let Some(wasm) = std::fs::read_dir(&dir).ok().and_then(|entries| {
        entries
            .filter_map(Result::ok)
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .find(|name| name.ends_with(".wasm"))
    }) else {
        if std::env::var("PAYGATE_REQUIRE_BROWSER").is_ok_and(|v| v == "1") {
            panic!("no built widget in {}", dir.display());
        }
        eprintln!("\n!!! SKIPPED: no built widget (run scripts/build-frontend.sh)\n");
        return;
    };
    let db = TestDb::sqlite().await;
    let app = spawn_app(&db, AppOptions::default()).await;
    let url = format!("{}/assets/widget/{wasm}", app.url);
    let gz = app
        .client
        .get(&url)
        .header("accept-encoding", "gzip")
        .send()
        .await
        .unwrap();
    assert_eq!(gz.status(), 200);
    assert_eq!(gz.headers()["content-encoding"], "gzip");
    assert_eq!(gz.headers()["content-type"], "application/wasm");
    let compressed = gz.bytes().await.unwrap();
    let plain = app.client.get(&url).send().await.unwrap();
    assert!(plain.headers().get("content-encoding").is_none());
    let raw = plain.bytes().await.unwrap();
    assert_eq!(
        raw.len() as u64,
        std::fs::metadata(dir.join(&wasm)).unwrap().len()
    );
    assert!(
        compressed.len() * 2 < raw.len(),
        "{} vs {}",
        compressed.len(),
        raw.len()
    );
    app.stop().await;
}
