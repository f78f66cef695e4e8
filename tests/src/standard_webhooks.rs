//! Checks paygate's merchant webhook deliveries with the official Standard Webhooks verifier
//! (the `standardwebhooks` package from PyPI, installed in `.tools/py` by `scripts/setup.sh
//! --browser`): code no one here wrote must accept every delivery and refuse a tampered one.
//! Where the verifier is missing the tests that need it say SKIPPED loudly, unless
//! `PAYGATE_REQUIRE_VERIFIERS=1` (set by CI) makes that a failure.

use serde_json::{json, Value};
use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Stdio};

/// One delivery as the receiver saw it.
#[derive(Debug, Clone)]
pub struct Delivery {
    pub id: String,
    pub timestamp: String,
    pub signature: String,
    pub body: String,
    /// When the receiver got it, in unix seconds on the receiver's clock; `None` for real time.
    /// A test that moves paygate's clock receives on that clock, and the verifier's timestamp
    /// tolerance (5 minutes) is checked against it.
    pub received_at: Option<i64>,
}

impl Delivery {
    pub fn from_request(headers: axum::http::HeaderMap, body: String) -> Delivery {
        let h = |name: &str| {
            headers
                .get(name)
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default()
                .to_string()
        };
        Delivery {
            id: h("webhook-id"),
            timestamp: h("webhook-timestamp"),
            signature: h("webhook-signature"),
            body,
            received_at: None,
        }
    }
}

fn python() -> Option<PathBuf> {
    let py = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../.tools/py/bin/python");
    let ok = Command::new(&py)
        .args(["-c", "import standardwebhooks"])
        .status()
        .is_ok_and(|s| s.success());
    if ok {
        return Some(py);
    }
    if std::env::var("PAYGATE_REQUIRE_VERIFIERS").as_deref() == Ok("1") {
        panic!("the standardwebhooks verifier is required (run scripts/setup.sh --browser)");
    }
    eprintln!("SKIPPED: the official standardwebhooks verifier is not installed (scripts/setup.sh --browser)");
    None
}

/// Whether the official verifier accepts each delivery with `secret`; `None` when it is not
/// installed (and not required).
pub fn verify(secret: &str, deliveries: &[Delivery]) -> Option<Vec<bool>> {
    let py = python()?;
    let input: Vec<Value> = deliveries
        .iter()
        .map(|d| {
            json!({ "secret": secret, "body": d.body, "now": d.received_at, "headers": {
                "webhook-id": d.id, "webhook-timestamp": d.timestamp, "webhook-signature": d.signature,
            }})
        })
        .collect();
    let script = r#"
import json, sys
from datetime import datetime
import standardwebhooks.webhooks as library
from standardwebhooks.webhooks import Webhook

class ReceiverClock(datetime):
    """The library reads the time with datetime.now: this answers the receiver's time."""
    at = None
    @classmethod
    def now(cls, tz=None):
        return datetime.now(tz) if cls.at is None else datetime.fromtimestamp(cls.at, tz)

library.datetime = ReceiverClock
out = []
for d in json.load(sys.stdin):
    ReceiverClock.at = d["now"]
    try:
        Webhook(d["secret"]).verify(d["body"], d["headers"])
        out.append(True)
    except Exception:
        out.append(False)
print(json.dumps(out))
"#;
    let mut child = Command::new(py)
        .args(["-c", script])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("python runs");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(serde_json::to_string(&input).unwrap().as_bytes())
        .unwrap();
    let output = child.wait_with_output().unwrap();
    assert!(output.status.success(), "the verifier crashed");
    Some(serde_json::from_slice(&output.stdout).expect("the verifier's answer"))
}
