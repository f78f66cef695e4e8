//! Checks paygate's merchant webhook deliveries with the official Standard Webhooks verifiers
//! (the `standardwebhooks` packages from PyPI and npm, installed in `.tools/py` and
//! `.tools/node` by `scripts/setup.sh --browser`): code no one here wrote must accept every
//! delivery and refuse a tampered one. Where they are missing the tests that need them say
//! SKIPPED loudly, unless
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

fn tools() -> PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../.tools")
}

/// The two official verifiers: the command that runs each, with the script it is given.
struct Verifier {
    name: &'static str,
    program: PathBuf,
    args: Vec<String>,
}

fn installed() -> Option<Vec<Verifier>> {
    let python = tools().join("py/bin/python");
    let node_package = tools().join("node/node_modules/standardwebhooks");
    let python_ok = Command::new(&python)
        .args(["-c", "import standardwebhooks"])
        .status()
        .is_ok_and(|s| s.success());
    let node_ok = node_package.join("package.json").exists()
        && Command::new("node")
            .arg("--version")
            .status()
            .is_ok_and(|s| s.success());
    if python_ok && node_ok {
        return Some(vec![
            Verifier {
                name: "standardwebhooks (PyPI)",
                program: python,
                args: vec!["-c".into(), PYTHON.into()],
            },
            Verifier {
                name: "standardwebhooks (npm)",
                program: "node".into(),
                args: vec!["-e".into(), NODE.into(), node_package.display().to_string()],
            },
        ]);
    }
    if std::env::var("PAYGATE_REQUIRE_VERIFIERS").as_deref() == Ok("1") {
        panic!("the standardwebhooks verifiers (PyPI and npm) are required (run scripts/setup.sh --browser)");
    }
    eprintln!("SKIPPED: the official standardwebhooks verifiers are not installed (scripts/setup.sh --browser)");
    None
}

/// Python: the library reads the time with `datetime.now`; the receiver's clock stands in.
const PYTHON: &str = r#"
import json, sys
from datetime import datetime
import standardwebhooks.webhooks as library
from standardwebhooks.webhooks import Webhook

class ReceiverClock(datetime):
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

/// Node: the library reads the time with `Date.now`; the receiver's clock stands in.
const NODE: &str = r#"
const { Webhook } = require(process.argv[1]);
const realNow = Date.now;
let input = "";
process.stdin.on("data", (chunk) => (input += chunk));
process.stdin.on("end", () => {
  const out = JSON.parse(input).map((d) => {
    Date.now = d.now === null ? realNow : () => d.now * 1000;
    try {
      new Webhook(d.secret).verify(d.body, d.headers);
      return true;
    } catch (e) {
      return false;
    }
  });
  process.stdout.write(JSON.stringify(out));
});
"#;

/// Whether the official verifiers (the `standardwebhooks` packages from PyPI and from npm)
/// accept each delivery with `secret`; they must agree, delivery by delivery. `None` when they
/// are not installed (and not required).
pub fn verify(secret: &str, deliveries: &[Delivery]) -> Option<Vec<bool>> {
    let verifiers = installed()?;
    let input: Vec<Value> = deliveries
        .iter()
        .map(|d| {
            json!({ "secret": secret, "body": d.body, "now": d.received_at, "headers": {
                "webhook-id": d.id, "webhook-timestamp": d.timestamp, "webhook-signature": d.signature,
            }})
        })
        .collect();
    let input = serde_json::to_string(&input).unwrap();
    let mut answers = verifiers.iter().map(|v| (v.name, run(v, &input)));
    let (first_name, first) = answers.next().expect("a verifier");
    for (name, answer) in answers {
        assert_eq!(
            answer, first,
            "{name} and {first_name} disagree on the same deliveries"
        );
    }
    Some(first)
}

fn run(verifier: &Verifier, input: &str) -> Vec<bool> {
    let mut child = Command::new(&verifier.program)
        .args(&verifier.args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("{} runs: {e}", verifier.name));
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.as_bytes())
        .unwrap();
    let output = child.wait_with_output().unwrap();
    assert!(output.status.success(), "{} crashed", verifier.name);
    serde_json::from_slice(&output.stdout)
        .unwrap_or_else(|e| panic!("{}'s answer: {e}", verifier.name))
}
