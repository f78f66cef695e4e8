//! Noticing Content-Security-Policy violations from a test, without any help from the pages.
//!
//! - **Chrome's log** (`--enable-logging --log-file=...`, see [`crate::browser`]): the browser
//!   process writes every console message of every frame there, out-of-process iframes
//!   included: Chrome's own "... violates the following Content Security Policy directive ..."
//!   errors, `frame-ancestors` refusals (logged for the embedding page) and the listener's lines.
//!   This is the detector that sees everything: paygate's widget is a cross-site iframe in the
//!   merchant's page, which Chrome runs in another process, out of reach of the next one.
//! - **A listener**, [`LISTENER`], injected before the page's own scripts through the Chrome
//!   DevTools Protocol (`Page.addScriptToEvaluateOnNewDocument`, sent with chromedriver's
//!   `goog/cdp/execute`): it logs each `securitypolicyviolation` event (with the directive, the
//!   blocked URL and the source location) and keeps it in `window.__cspViolations`. CDP reaches
//!   the top-level page and same-process frames only, so it adds detail where it can.

use fantoccini::wd::WebDriverCompatibleCommand;
use fantoccini::Client;
use serde_json::{json, Value};

/// Prefix of the lines the listener writes.
pub const PREFIX: &str = "paygate-test CSP violation:";

/// Records every violation reported to the document (capture phase: nothing on the page can
/// stop it first).
pub const LISTENER: &str = r#"(function () {
  var seen = [];
  try { Object.defineProperty(window, '__cspViolations', { value: seen }); } catch (e) { return; }
  document.addEventListener('securitypolicyviolation', function (e) {
    var line = 'paygate-test CSP violation: ' + e.effectiveDirective + ' blocked ' +
      (e.blockedURI || '(inline)') + ' in ' + e.documentURI +
      (e.sourceFile ? ' (' + e.sourceFile + ':' + e.lineNumber + ')' : '') +
      (e.sample ? ' sample: ' + e.sample : '');
    seen.push(line);
    console.error(line);
  }, true);
})();"#;

/// Whether a console line reports a CSP violation (or a policy the browser had to ignore).
pub fn is_violation(line: &str) -> bool {
    line.contains(PREFIX)
        || line.contains("Content Security Policy")
        || line.contains("Content-Security-Policy")
}

#[derive(Debug)]
struct Raw {
    path: &'static str,
    body: Value,
}

impl WebDriverCompatibleCommand for Raw {
    fn endpoint(
        &self,
        base_url: &url::Url,
        session_id: Option<&str>,
    ) -> Result<url::Url, url::ParseError> {
        base_url.join(&format!(
            "session/{}/{}",
            session_id.unwrap_or_default(),
            self.path
        ))
    }

    fn method_and_body(&self, _request_url: &url::Url) -> (http::Method, Option<String>) {
        (http::Method::POST, Some(self.body.to_string()))
    }
}

/// A Chrome DevTools Protocol command on the session's page.
pub async fn cdp(
    client: &Client,
    cmd: &'static str,
    params: Value,
) -> Result<Value, fantoccini::error::CmdError> {
    client
        .issue_cmd(Raw {
            path: "goog/cdp/execute",
            body: json!({ "cmd": cmd, "params": params }),
        })
        .await
}

/// The console messages in Chrome's log text: entries whose header reads
/// `[pid:tid:time:LEVEL:CONSOLE(:line)...]`, continuation lines included.
pub fn console_messages(log: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut in_console = false;
    for line in log.lines() {
        if line.starts_with('[') {
            in_console = line
                .split_once(']')
                .is_some_and(|(header, _)| header.contains(":CONSOLE"));
            if in_console {
                out.push(line.to_owned());
            }
        } else if in_console {
            if let Some(last) = out.last_mut() {
                last.push('\n');
                last.push_str(line);
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::{console_messages, is_violation};

    #[test]
    fn reads_console_entries_of_chromes_log() {
        let log = "[1:1:1127/125711.5:INFO:CONSOLE:18] \"hello\", source: http://a/ (18)\n\
                   [1:1:1127/125711.6:INFO:chrome_main.cc(12)] not a console line\n\
                   [1:1:1127/125713.6:INFO:CONSOLE:0] \"Framing 'http://b/' violates the following Content Security Policy directive: \"frame-ancestors 'self'\". The request has been blocked.\n\
                   \", source:  (0)\n";
        let messages = console_messages(log);
        assert_eq!(messages.len(), 2, "{messages:?}");
        assert!(!is_violation(&messages[0]));
        assert!(is_violation(&messages[1]) && messages[1].ends_with("(0)"));
    }
}
