//! A real headless Chromium driven over WebDriver (chromedriver + fantoccini), started with the
//! flags of docs/TOOLCHAIN.md and a fresh profile. When Chromium or the built front-end is missing,
//! browser tests say so loudly and are skipped, unless `PAYGATE_REQUIRE_BROWSER=1` (set by
//! `.ci/run`), which makes them fail.
//!
//! Every browser test ends with [`Browser::close`], which fails on any Content-Security-Policy
//! violation any page or frame reported ([`Browser::assert_no_csp_violations`]); see
//! [`crate::csp`].

use crate::csp;
use fantoccini::actions::{InputSource, KeyAction, KeyActions};
use fantoccini::key::Key;
use fantoccini::wd::WindowHandle;
use fantoccini::{Client, ClientBuilder, Locator};
use hyper_util::client::legacy::connect::HttpConnector;
use serde_json::{json, Value};
use std::os::unix::process::CommandExt;
use std::process::{Child, Command, Stdio};
use std::sync::Mutex;
use std::time::Duration;

pub struct Browser {
    pub client: Client,
    driver: Child,
    _profile: tempfile::TempDir,
    /// Chrome's log file (in the profile folder).
    log: std::path::PathBuf,
    /// CSP findings already reported by an earlier check.
    reported: Mutex<usize>,
}

const CHROMIUM: &str = "/usr/bin/chromium";
/// How long a wait for something on a page may take (a debug build on a busy 2-core machine).
const WAIT: Duration = Duration::from_secs(30);
const CHROMEDRIVER: &str = "/usr/bin/chromedriver";

fn required() -> bool {
    std::env::var("PAYGATE_REQUIRE_BROWSER").is_ok_and(|v| v == "1")
}

/// Why this machine cannot run browser tests, if it cannot.
pub fn missing() -> Option<String> {
    [CHROMIUM, CHROMEDRIVER]
        .into_iter()
        .find(|p| !std::path::Path::new(p).exists())
        .map(str::to_string)
        .or_else(|| {
            let index = crate::app::assets_dir().join("widget/index.html");
            (!index.exists())
                .then(|| format!("{} (run scripts/build-frontend.sh)", index.display()))
        })
}

/// Starts a browser, or returns None (after a loud message) when this machine cannot.
pub async fn start() -> Option<Browser> {
    if let Some(what) = missing() {
        if required() {
            panic!("browser tests required (PAYGATE_REQUIRE_BROWSER=1) but {what} is missing");
        }
        eprintln!("\n!!! SKIPPED browser test: {what} is missing. Set PAYGATE_REQUIRE_BROWSER=1 to make this a failure.\n");
        return None;
    }
    let port = free_port();
    // Its own process group, so that Chromium (its child) goes with it: see `stop_driver`.
    let driver = Command::new(CHROMEDRIVER)
        .arg(format!("--port={port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .process_group(0)
        .spawn()
        .expect("start chromedriver");
    let profile = tempfile::tempdir().expect("profile folder");
    let log = profile.path().join("chrome.log");
    let caps = json!({
        "goog:chromeOptions": {
            "binary": CHROMIUM,
            "args": [
                "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--disable-background-networking", "--disable-component-update", "--disable-sync",
                "--no-first-run", "--disable-quic", "--window-size=1024,900",
                format!("--user-data-dir={}", profile.path().display()),
                // Chrome's own log, with the console messages of every frame, out-of-process
                // (cross-site) iframes included: where CSP violations are found.
                "--enable-logging", "--log-level=0",
                format!("--log-file={}", log.display()),
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
                let browser = Browser {
                    client,
                    driver,
                    _profile: profile,
                    log,
                    reported: Mutex::new(0),
                };
                browser.add_init_script(csp::LISTENER).await;
                return Some(browser);
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
    /// Runs `source` in every document before the page's own scripts (Chrome DevTools Protocol
    /// `Page.addScriptToEvaluateOnNewDocument`, through chromedriver).
    pub async fn add_init_script(&self, source: &str) {
        csp::cdp(
            &self.client,
            "Page.addScriptToEvaluateOnNewDocument",
            json!({ "source": source }),
        )
        .await
        .expect("Page.addScriptToEvaluateOnNewDocument");
    }

    /// Runs a script in the current frame and returns its result.
    pub async fn js(&self, script: &str) -> Value {
        self.client
            .execute(script, Vec::new())
            .await
            .unwrap_or_else(|e| panic!("script failed: {e}\n{script}"))
    }

    /// Polls a script in the current frame until it returns something truthy, and returns it.
    pub async fn wait_js(&self, what: &str, script: &str) -> Value {
        let deadline = tokio::time::Instant::now() + WAIT;
        while tokio::time::Instant::now() < deadline {
            if let Ok(value) = self.client.execute(script, Vec::new()).await {
                let truthy = match &value {
                    Value::Null => false,
                    Value::Bool(b) => *b,
                    Value::String(s) => !s.is_empty(),
                    Value::Array(a) => !a.is_empty(),
                    _ => true,
                };
                if truthy {
                    return value;
                }
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        self.save_screenshot(what).await;
        panic!("timed out waiting for: {what}");
    }

    /// Waits for an element's text to satisfy `check`, returning the text.
    pub async fn wait_text(&self, css: &str, check: impl Fn(&str) -> bool) -> String {
        let mut last = String::new();
        let deadline = tokio::time::Instant::now() + WAIT;
        while tokio::time::Instant::now() < deadline {
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

    /// In the widget: types a card into Stripe's card frame (replacing what is there), then
    /// presses Pay once it is enabled.
    pub async fn fill_card_and_pay(&self, number: &str) {
        let frame = self.wait_for("#pg-card iframe").await;
        frame.enter_frame().await.unwrap();
        for (field, text) in [("#number", number), ("#expiry", "12/34"), ("#cvc", "123")] {
            let input = self.wait_for(field).await;
            input.clear().await.unwrap();
            input.send_keys(text).await.unwrap();
        }
        self.client.enter_parent_frame().await.unwrap();
        self.wait_js(
            "the Pay button enabled",
            "var b = document.getElementById('pg-pay'); return !!b && !b.disabled",
        )
        .await;
        self.wait_for("#pg-pay").await.click().await.unwrap();
    }

    /// Waits until an element matching `css` exists and returns it.
    pub async fn wait_for(&self, css: &str) -> fantoccini::elements::Element {
        let deadline = tokio::time::Instant::now() + WAIT;
        while tokio::time::Instant::now() < deadline {
            if let Ok(el) = self.client.find(Locator::Css(css)).await {
                return el;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        self.save_screenshot(css).await;
        panic!("element {css} never appeared");
    }

    /// Fails when the window is not narrow (at most 400 px) or the page scrolls sideways;
    /// `what` names the state checked.
    pub async fn assert_no_sideways_scroll(&self, what: &str) {
        let widths = self
            .js("var d = document.documentElement; return [d.scrollWidth, d.clientWidth, window.innerWidth]")
            .await;
        let width = |i: usize| widths[i].as_i64().expect("a width");
        assert!(width(2) <= 400, "the window is narrow: {widths}");
        assert!(
            width(0) <= width(1),
            "{what}: scrolls sideways ({} > {})",
            width(0),
            width(1)
        );
    }

    pub async fn exists(&self, css: &str) -> bool {
        self.client.find(Locator::Css(css)).await.is_ok()
    }

    /// Presses keys as a keyboard would, one after the other, into whatever has the focus:
    /// characters are typed, `Key::Tab`/`Key::Enter`/... are pressed.
    pub async fn press(&self, keys: &[char]) {
        let mut actions = KeyActions::new("keyboard".into());
        for &key in keys {
            actions = actions
                .then(KeyAction::Down { value: key })
                .then(KeyAction::Up { value: key });
        }
        self.client
            .perform_actions(actions)
            .await
            .expect("key actions");
    }

    pub async fn type_text(&self, text: &str) {
        self.press(&text.chars().collect::<Vec<_>>()).await;
    }

    pub async fn tab(&self) {
        self.press(&[Key::Tab.into()]).await;
    }

    /// Waits for a window other than `known` to open and returns it.
    pub async fn wait_for_new_window(&self, known: &[WindowHandle]) -> WindowHandle {
        let deadline = tokio::time::Instant::now() + WAIT;
        while tokio::time::Instant::now() < deadline {
            let windows = self.client.windows().await.expect("windows");
            if let Some(w) = windows.into_iter().find(|w| !known.contains(w)) {
                return w;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("no new window opened");
    }

    /// Waits until only `known` windows are left (a popup closed itself).
    pub async fn wait_for_windows(&self, count: usize) {
        let deadline = tokio::time::Instant::now() + WAIT;
        while tokio::time::Instant::now() < deadline {
            if self.client.windows().await.expect("windows").len() == count {
                return;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("expected {count} windows");
    }

    /// The console messages of every frame of every page so far (all levels), oldest first,
    /// from Chrome's log.
    pub fn console_messages(&self) -> Vec<String> {
        csp::console_messages(&std::fs::read_to_string(&self.log).unwrap_or_default())
    }

    /// Fails when any page or frame reported a Content-Security-Policy violation since the last
    /// check (see [`crate::csp`]).
    pub async fn assert_no_csp_violations(&self) {
        let findings: Vec<String> = self
            .console_messages()
            .into_iter()
            .filter(|m| csp::is_violation(m))
            .collect();
        let new = {
            let mut reported = self.reported.lock().expect("reported lock");
            let new = findings.get(*reported..).unwrap_or_default().to_vec();
            *reported = findings.len();
            new
        };
        if !new.is_empty() {
            self.save_screenshot("csp_violation").await;
            panic!(
                "Content-Security-Policy violations reported by the page:\n{}",
                new.join("\n")
            );
        }
    }

    pub async fn save_screenshot(&self, name: &str) {
        if let Ok(png) = self.client.screenshot().await {
            let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("artifacts");
            let _ = std::fs::create_dir_all(&dir);
            let file: String = name.chars().filter(|c| c.is_ascii_alphanumeric()).collect();
            let _ = std::fs::write(dir.join(format!("{file}.png")), png);
        }
    }

    /// Checks for CSP violations (every browser test ends here), then closes the browser.
    pub async fn close(self) {
        self.assert_no_csp_violations().await;
        let _ = self.client.clone().close().await;
        // Drop stops chromedriver.
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        // Also when a test failed before close(): chromedriver's process group (the one this
        // browser started: chromedriver and the Chromium it launched) is stopped by its id.
        let group = format!("-{}", self.driver.id());
        let _ = Command::new("kill")
            .args(["-KILL", "--", &group])
            .stderr(Stdio::null())
            .status();
        let _ = self.driver.wait();
    }
}
