//! Time to interactive of the checkout widget in headless Chromium (a benchmark, not a test):
//! paygate runs in sandbox mode in this process (fresh SQLite file, its Stripe and PayPal
//! emulators on their own port), Chromium is driven over WebDriver, and each run navigates to
//! a fresh checkout page (a new session each time). The page records, with `performance.now()`
//! (milliseconds since the navigation started), when it became usable:
//!
//! - `choice`: a session with Card and PayPal: the methods are offered (`data-state=ready`);
//! - `card`: a card-only session, where the widget opens the card form by itself: the Pay
//!   button is enabled (Stripe.js stand-in loaded, PaymentIntent created, card frame ready).
//!
//! The recorder is injected before the page's own scripts (CDP
//! `Page.addScriptToEvaluateOnNewDocument`) and polled afterwards, so polling does not bias the
//! numbers. The first run of each scenario starts with an empty HTTP cache (CDP
//! `Network.clearBrowserCache`); the others find the widget's files cached, as a returning
//! customer would.
//!
//!   cargo run --release -p paygate-tests --bin widget_tti -- --runs 30
//!
//! Needs `scripts/build-frontend.sh` first, and /usr/bin/chromium + /usr/bin/chromedriver.

use paygate_tests::browser::{self, Browser};
use paygate_tests::{spawn_app, AppOptions, TestApp, TestDb};
use serde_json::json;
use std::time::Duration;

const RECORDER: &str = r#"(function () {
  if (window.top !== window || !/^\/checkout\//.test(location.pathname)) return;
  var marks = {};
  Object.defineProperty(window, '__tti', { value: marks });
  function check() {
    var root = document.getElementById('pg-checkout');
    if (!root) return;
    var now = performance.now();
    if (!marks.choice && root.dataset.state === 'ready' && document.getElementById('pg-method-card')) {
      marks.choice = now;
    }
    var pay = document.getElementById('pg-pay');
    if (!marks.card && pay && !pay.disabled && !pay.closest('[hidden]')) marks.card = now;
  }
  new MutationObserver(check).observe(document, { subtree: true, childList: true, attributes: true });
})();"#;

struct Args {
    runs: usize,
}

fn parse_args() -> Args {
    let mut args = Args { runs: 20 };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        match flag.as_str() {
            "--runs" => {
                args.runs = it
                    .next()
                    .and_then(|v| v.parse().ok())
                    .filter(|n| *n >= 2)
                    .expect("--runs needs a number >= 2")
            }
            other => panic!("unknown argument {other} (--runs N)"),
        }
    }
    args
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let args = parse_args();
    let Some(browser) = browser::start().await else {
        eprintln!("widget_tti: needs Chromium, chromedriver and the built widget (see above)");
        std::process::exit(2);
    };
    browser.add_init_script(RECORDER).await;
    let db = TestDb::sqlite().await;
    let app = spawn_app(&db, AppOptions::default()).await;

    println!(
        "widget time to interactive: navigation start -> usable, headless Chromium, {} runs per scenario",
        args.runs
    );
    println!(
        "{:<8} {:>9} {:>9} {:>9} {:>9} {:>9}",
        "scenario", "first ms", "median ms", "p95 ms", "min ms", "max ms"
    );
    for (name, providers) in [
        ("choice", json!(["stripe", "paypal"])),
        ("card", json!(["stripe"])),
    ] {
        // The first run of each scenario starts with an empty HTTP (and code) cache.
        paygate_tests::csp::cdp(&browser.client, "Network.clearBrowserCache", json!({}))
            .await
            .expect("Network.clearBrowserCache");
        let mut times = Vec::with_capacity(args.runs);
        for _ in 0..args.runs {
            times.push(measure(&browser, &app, name, &providers).await);
        }
        let first = times[0];
        let mut warm = times[1..].to_vec();
        warm.sort_by(f64::total_cmp);
        println!(
            "{:<8} {:>9.0} {:>9.0} {:>9.0} {:>9.0} {:>9.0}",
            name,
            first,
            percentile(&warm, 50.0),
            percentile(&warm, 95.0),
            warm[0],
            warm[warm.len() - 1]
        );
    }
    println!("(median, p95, min and max over the warm runs, i.e. all but the first)");
    browser.close().await;
    app.stop().await;
}

async fn measure(
    browser: &Browser,
    app: &TestApp,
    mark: &str,
    providers: &serde_json::Value,
) -> f64 {
    let session = app
        .create_session(&json!({ "amount": "19.99", "currency": "USD", "providers": providers }))
        .await;
    browser
        .client
        .goto(session["url"].as_str().expect("url"))
        .await
        .expect("navigate");
    let script = format!("return window.__tti && window.__tti.{mark} || null");
    for _ in 0..3000 {
        if let Ok(value) = browser.client.execute(&script, Vec::new()).await {
            if let Some(ms) = value.as_f64() {
                return ms;
            }
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("the widget never became interactive ({mark})");
}

/// Nearest-rank percentile of sorted values.
fn percentile(sorted: &[f64], p: f64) -> f64 {
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}
