//! A real headless Chromium driven over WebDriver (chromedriver + fantoccini), started with the
//! flags of TOOLCHAIN.md and a fresh profile. When Chromium or the built front-end is missing,
//! browser tests say so loudly and are skipped, unless `PAYGATE_REQUIRE_BROWSER=1` (set by
//! `.ci/run`), which makes them fail.

use fantoccini::{Client, ClientBuilder, Locator};
use hyper_util::client::legacy::connect::HttpConnector;
use serde_json::json;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

pub struct Browser {
    pub client: Client,
    driver: Child,
    _profile: tempfile::TempDir,
}

const CHROMIUM: &str = "/usr/bin/chromium";
const CHROMEDRIVER: &str = "/usr/bin/chromedriver";

fn required() -> bool {
    std::env::var("PAYGATE_REQUIRE_BROWSER").is_ok_and(|v| v == "1")
}

/// Starts a browser, or returns None (after a loud message) when this machine cannot.
pub async fn start() -> Option<Browser> {
    let missing = [CHROMIUM, CHROMEDRIVER]
        .into_iter()
        .find(|p| !std::path::Path::new(p).exists())
        .map(str::to_string)
        .or_else(|| {
            let index = crate::app::assets_dir().join("widget/index.html");
            (!index.exists())
                .then(|| format!("{} (run scripts/build-frontend.sh)", index.display()))
        });
    if let Some(what) = missing {
        if required() {
            panic!("browser tests required (PAYGATE_REQUIRE_BROWSER=1) but {what} is missing");
        }
        eprintln!("\n!!! SKIPPED browser test: {what} is missing. Set PAYGATE_REQUIRE_BROWSER=1 to make this a failure.\n");
        return None;
    }
    let port = free_port();
    let driver = Command::new(CHROMEDRIVER)
        .arg(format!("--port={port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start chromedriver");
    let profile = tempfile::tempdir().expect("profile folder");
    let caps = json!({
        "goog:chromeOptions": {
            "binary": CHROMIUM,
            "args": [
                "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--disable-background-networking", "--disable-component-update", "--disable-sync",
                "--no-first-run", "--disable-quic", "--window-size=1024,900",
                format!("--user-data-dir={}", profile.path().display()),
            ]
        }
    });
    let caps = caps.as_object().cloned().expect("object");
    let url = format!("http://127.0.0.1:{port}");
    let mut last_err = String::new();
    for _ in 0..100 {
        // Plain HTTP to the local chromedriver: no TLS stack needed.
        match ClientBuilder::new(HttpConnector::new())
            .capabilities(caps.clone())
            .connect(&url)
            .await
        {
            Ok(client) => {
                return Some(Browser {
                    client,
                    driver,
                    _profile: profile,
                })
            }
            Err(e) => {
                last_err = e.to_string();
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
    }
    panic!("could not start a WebDriver session: {last_err}");
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("free port")
}

impl Browser {
    /// Waits for an element's text to satisfy `check`, returning the text.
    pub async fn wait_text(&self, css: &str, check: impl Fn(&str) -> bool) -> String {
        let mut last = String::new();
        for _ in 0..200 {
            if let Ok(el) = self.client.find(Locator::Css(css)).await {
                if let Ok(text) = el.text().await {
                    if check(&text) {
                        return text;
                    }
                    last = text;
                }
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        self.save_screenshot(css).await;
        panic!("element {css} never matched; last text: {last:?}");
    }

    /// Waits until an element matching `css` exists and returns it.
    pub async fn wait_for(&self, css: &str) -> fantoccini::elements::Element {
        for _ in 0..300 {
            if let Ok(el) = self.client.find(Locator::Css(css)).await {
                return el;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        self.save_screenshot(css).await;
        panic!("element {css} never appeared");
    }

    pub async fn exists(&self, css: &str) -> bool {
        self.client.find(Locator::Css(css)).await.is_ok()
    }

    async fn save_screenshot(&self, name: &str) {
        if let Ok(png) = self.client.screenshot().await {
            let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("artifacts");
            let _ = std::fs::create_dir_all(&dir);
            let file: String = name.chars().filter(|c| c.is_ascii_alphanumeric()).collect();
            let _ = std::fs::write(dir.join(format!("{file}.png")), png);
        }
    }

    pub async fn close(mut self) {
        let _ = self.client.clone().close().await;
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}
