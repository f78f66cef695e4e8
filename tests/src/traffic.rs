//! Mixed merchant and customer traffic through several paygate instances, kept in a ledger of
//! what paygate acknowledged, and the invariants checked afterwards against paygate's database
//! and the Stripe emulator's own records. Used by the three-instance test and the crash tests.
//!
//! Every request is retried as a client would after a lost answer: on a connection error, a
//! timeout or a 5xx it is sent again, with the same `Idempotency-Key` where the API takes one,
//! to the next instance, until it gets an answer (the instance it first went to may have been
//! killed mid-request). What got a 2xx goes into the ledger; the invariants say it exists
//! exactly once.

use crate::cluster::{EmulatorProcess, MERCHANT_KEY};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// What paygate answered with a 2xx, by the client's own names.
#[derive(Debug, Default)]
pub struct Ledger {
    /// Idempotency key -> checkout session id.
    pub sessions: BTreeMap<String, String>,
    /// Checkout sessions the client saw completed.
    pub completed_sessions: HashSet<String>,
    /// Idempotency key -> payment id (merchant API payments).
    pub payments: BTreeMap<String, String>,
    /// Idempotency key -> (refund id, amount in minor units).
    pub refunds: BTreeMap<String, (String, i64)>,
}

/// The instances' addresses, the emulators, and counters of what the clients went through.
pub struct Traffic {
    pub nodes: Vec<String>,
    pub emulators: Arc<EmulatorProcess>,
    pub ledger: Mutex<Ledger>,
    http: reqwest::Client,
    pub requests: AtomicU64,
    /// Requests sent again after a lost answer (connection cut, timeout, 5xx).
    pub retries: AtomicU64,
    /// The latest answers that made a request be sent again (for the report).
    pub retry_reasons: Mutex<Vec<String>>,
    run: String,
}

/// An answer that is not a retryable failure.
pub struct Answer {
    pub status: StatusCode,
    pub body: Value,
}

impl Traffic {
    pub fn new(nodes: Vec<String>, emulators: Arc<EmulatorProcess>, run: &str) -> Traffic {
        Traffic {
            nodes,
            emulators,
            ledger: Mutex::new(Ledger::default()),
            http: reqwest::Client::builder()
                .timeout(Duration::from_secs(30))
                .build()
                .expect("client"),
            requests: AtomicU64::new(0),
            retries: AtomicU64::new(0),
            retry_reasons: Mutex::new(Vec::new()),
            run: run.to_string(),
        }
    }

    /// Sends the request to instance `first`, then to the next ones in turn, until an answer
    /// other than a lost one (connection error, timeout, 5xx, an Idempotency-Key still in flight
    /// on a killed instance, or a payment whose creation may still be under way) comes back;
    /// gives up after five minutes.
    pub async fn call(
        &self,
        first: usize,
        method: Method,
        path: &str,
        body: Option<&Value>,
        key: Option<&str>,
        merchant: bool,
    ) -> Answer {
        let started = Instant::now();
        let mut attempt = 0usize;
        loop {
            let node = &self.nodes[(first + attempt) % self.nodes.len()];
            let mut req = self.http.request(method.clone(), format!("{node}{path}"));
            if merchant {
                req = req.bearer_auth(MERCHANT_KEY);
            }
            if let Some(key) = key {
                req = req.header("Idempotency-Key", key);
            }
            if let Some(body) = body {
                req = req.json(body);
            }
            self.requests.fetch_add(1, Ordering::Relaxed);
            let why = match req.send().await {
                Ok(res) if res.status().is_server_error() => {
                    format!("{} from {path}", res.status())
                }
                Ok(res) if res.status() == StatusCode::CONFLICT => {
                    let status = res.status();
                    let body: Value = res.json().await.unwrap_or(Value::Null);
                    // A key whose first request is still in flight (or was, on an instance
                    // that died): ask again once it is released or answered.
                    if body["code"] == "idempotency_in_flight"
                        || body["code"] == "payment_in_progress"
                    {
                        format!("409 {} from {path}", body["code"])
                    } else {
                        return Answer { status, body };
                    }
                }
                Ok(res) => {
                    let status = res.status();
                    let body = res.json().await.unwrap_or(Value::Null);
                    return Answer { status, body };
                }
                Err(e) => format!("{path}: {e}"),
            };
            self.retries.fetch_add(1, Ordering::Relaxed);
            {
                let mut reasons = self.retry_reasons.lock().unwrap();
                if reasons.len() >= 20 {
                    reasons.remove(0);
                }
                reasons.push(why.clone());
            }
            assert!(
                started.elapsed() < Duration::from_secs(300),
                "no answer for five minutes: {why}"
            );
            attempt += 1;
            tokio::time::sleep(Duration::from_millis(100 * attempt.min(10) as u64)).await;
        }
    }

    fn key(&self, what: &str, flow: u64) -> String {
        format!("{}-{what}-{flow}", self.run)
    }

    /// A customer's checkout: the merchant creates a session on one instance (and, every third
    /// flow, the same request again at once on another: one session), the widget asks for a
    /// PaymentIntent on the next, the buyer pays at Stripe (every fifth flow declined first),
    /// and the widget reports back on the third. The session must end complete.
    pub async fn checkout(&self, flow: u64) {
        let n = self.nodes.len();
        let i = flow as usize % n;
        let key = self.key("session", flow);
        let cents = 100 + (flow * 7919) % 9900;
        let body = json!({
            "amount": format!("{}.{:02}", cents / 100, cents % 100),
            "currency": "USD",
            "description": format!("order {key}"),
            "metadata": { "order": key },
        });
        let create = self.call(
            i,
            Method::POST,
            "/v1/checkout/sessions",
            Some(&body),
            Some(&key),
            true,
        );
        let session = if flow.is_multiple_of(3) {
            let again = self.call(
                i + 1,
                Method::POST,
                "/v1/checkout/sessions",
                Some(&body),
                Some(&key),
                true,
            );
            let (a, b) = tokio::join!(create, again);
            expect(&a, 201, "create a session");
            expect(&b, 201, "create a session again");
            assert_eq!(a.body["id"], b.body["id"], "one key, one session");
            a.body
        } else {
            let a = create.await;
            expect(&a, 201, "create a session");
            a.body
        };
        let sid = session["id"].as_str().expect("session id").to_string();
        self.ledger
            .lock()
            .unwrap()
            .sessions
            .insert(key.clone(), sid.clone());

        let intent_path = format!("/checkout/api/sessions/{sid}/stripe/intent");
        let intent = self
            .call(i + 1, Method::POST, &intent_path, None, None, false)
            .await;
        expect(&intent, 200, "the widget's PaymentIntent");
        let secret = intent.body["client_secret"]
            .as_str()
            .expect("client secret")
            .to_string();
        if flow.is_multiple_of(5) {
            let declined = self.confirm(&secret, "pm_card_visa_chargeDeclined").await;
            assert_eq!(
                declined["error"]["code"], "card_declined",
                "the decline card declines: {declined}"
            );
        }
        let paid = self.confirm(&secret, "pm_card_visa").await;
        assert!(
            paid["status"] == "succeeded"
                || paid["error"]["code"] == "payment_intent_unexpected_state",
            "the buyer's payment: {paid}"
        );
        let complete_path = format!("/checkout/api/sessions/{sid}/stripe/complete");
        let done = self
            .call(i + 2, Method::POST, &complete_path, None, None, false)
            .await;
        expect(&done, 200, "the widget's report");
        assert_eq!(done.body["session"], "complete", "{}", done.body);
        self.ledger.lock().unwrap().completed_sessions.insert(sid);
    }

    /// Stripe.js's confirmation at the emulator, retried on a lost connection (the emulator is
    /// never killed, but a test machine can be slow).
    async fn confirm(&self, secret: &str, payment_method: &str) -> Value {
        for _ in 0..5 {
            if let Ok(v) = self
                .emulators
                .stripe_js_confirm(secret, payment_method)
                .await
            {
                return v;
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        panic!("the Stripe emulator did not answer a confirmation");
    }

    /// A merchant's own payment flow through the API: create with manual capture, confirm
    /// with a card, capture part, then two partial refunds; the first refund is sent to two
    /// instances at once with one key (one refund), the second on its own. Every step on
    /// another instance than the one before.
    pub async fn merchant_payment(&self, flow: u64) {
        let n = self.nodes.len();
        let i = flow as usize % n;
        let key = self.key("payment", flow);
        let created = self
            .call(
                i,
                Method::POST,
                "/v1/payments",
                Some(&json!({ "provider": "stripe", "amount": "50.00", "currency": "USD", "capture_mode": "manual" })),
                Some(&key),
                true,
            )
            .await;
        expect(&created, 201, "create a payment");
        let id = created.body["id"].as_str().expect("payment id").to_string();
        self.ledger
            .lock()
            .unwrap()
            .payments
            .insert(key.clone(), id.clone());

        let confirmed = self
            .call(
                i + 1,
                Method::POST,
                &format!("/v1/payments/{id}/confirm"),
                Some(&json!({ "payment_method": "pm_card_visa" })),
                Some(&format!("{key}-confirm")),
                true,
            )
            .await;
        self.expect_state(&confirmed, &id, "requires_capture", "confirm")
            .await;

        let captured = self
            .call(
                i + 2,
                Method::POST,
                &format!("/v1/payments/{id}/capture"),
                Some(&json!({ "amount": "40.00" })),
                Some(&format!("{key}-capture")),
                true,
            )
            .await;
        self.expect_state(&captured, &id, "succeeded", "capture")
            .await;

        let first = json!({ "payment": id, "amount": "15.00" });
        let refund_key = format!("{key}-refund-1");
        let (a, b) = tokio::join!(
            self.call(
                i,
                Method::POST,
                "/v1/refunds",
                Some(&first),
                Some(&refund_key),
                true
            ),
            self.call(
                i + 1,
                Method::POST,
                "/v1/refunds",
                Some(&first),
                Some(&refund_key),
                true
            ),
        );
        expect(&a, 201, "a refund");
        expect(&b, 201, "the same refund");
        assert_eq!(a.body["id"], b.body["id"], "one key, one refund");
        self.record_refund(&refund_key, &a.body);

        let second = json!({ "payment": id, "amount": "10.00" });
        let refund_key = format!("{key}-refund-2");
        let r = self
            .call(
                i + 2,
                Method::POST,
                "/v1/refunds",
                Some(&second),
                Some(&refund_key),
                true,
            )
            .await;
        expect(&r, 201, "a second refund");
        self.record_refund(&refund_key, &r.body);
    }

    fn record_refund(&self, key: &str, refund: &Value) {
        let id = refund["id"].as_str().expect("refund id").to_string();
        let amount = refund["amount_minor"].as_i64().expect("refund amount");
        self.ledger
            .lock()
            .unwrap()
            .refunds
            .insert(key.to_string(), (id, amount));
    }

    /// A step's answer: 200, or (after a lost answer, the step having been done by the first
    /// try) a 409 whose payment is already in the state the step leads to.
    async fn expect_state(&self, answer: &Answer, id: &str, state: &str, step: &str) {
        if answer.status == StatusCode::OK {
            assert_eq!(answer.body["status"], state, "{step}: {}", answer.body);
            return;
        }
        assert_eq!(
            answer.status,
            StatusCode::CONFLICT,
            "{step}: {} {}",
            answer.status,
            answer.body
        );
        let now = self
            .call(
                0,
                Method::GET,
                &format!("/v1/payments/{id}"),
                None,
                None,
                true,
            )
            .await;
        assert_eq!(
            now.body["status"], state,
            "{step} answered {} and the payment is {}",
            answer.body, now.body
        );
    }
}

fn expect(answer: &Answer, status: u16, what: &str) {
    assert_eq!(
        answer.status.as_u16(),
        status,
        "{what}: {} {}",
        answer.status,
        answer.body
    );
}

/// What the invariant check counted; every `violations` entry is a broken invariant.
#[derive(Debug, Default)]
pub struct Report {
    pub sessions: usize,
    pub payments: usize,
    pub refunds: usize,
    pub payment_intents: usize,
    pub acknowledged_webhooks: usize,
    pub checks: usize,
    pub violations: Vec<String>,
}

impl Report {
    fn check(&mut self, ok: bool, violation: impl FnOnce() -> String) {
        self.checks += 1;
        if !ok {
            self.violations.push(violation());
        }
    }
}

/// The invariants, read from paygate's database and the emulator's records:
/// every acknowledged object exists once; no PaymentIntent carrying a paygate id is missing
/// from paygate or differs in status or amounts; no session paid twice; no refund made twice,
/// refunded never above captured; every webhook the emulator saw acknowledged applied; no
/// payment or refund left without its provider's object.
pub async fn check_invariants(
    pool: &sqlx::AnyPool,
    emulators: &EmulatorProcess,
    ledger: &Ledger,
) -> Report {
    let mut report = Report::default();

    // Sessions: what got a 2xx exists, exactly as many as keys, each paid once.
    let sessions: Vec<(String, String)> =
        sqlx::query_as("SELECT id, status FROM checkout_sessions")
            .fetch_all(pool)
            .await
            .expect("sessions");
    report.sessions = sessions.len();
    let session_status: HashMap<String, String> = sessions.into_iter().collect();
    report.check(session_status.len() == ledger.sessions.len(), || {
        format!(
            "{} checkout sessions for {} keys",
            session_status.len(),
            ledger.sessions.len()
        )
    });
    for (key, id) in &ledger.sessions {
        report.check(session_status.contains_key(id), || {
            format!("session {id} (key {key}) acknowledged but missing")
        });
    }
    for id in &ledger.completed_sessions {
        report.check(
            session_status.get(id).map(String::as_str) == Some("complete"),
            || {
                format!(
                    "session {id} reported complete is {:?}",
                    session_status.get(id)
                )
            },
        );
    }

    // Payments against the emulator's PaymentIntents.
    type PaymentRow = (
        String,
        Option<String>,
        String,
        i64,
        i64,
        i64,
        Option<String>,
    );
    let payments: Vec<PaymentRow> = sqlx::query_as(
        "SELECT id, provider_reference, status, amount_minor, captured_minor, refunded_minor, \
         checkout_session_id FROM payments WHERE provider = 'stripe'",
    )
    .fetch_all(pool)
    .await
    .expect("payments");
    report.payments = payments.len();
    let by_id: HashMap<&str, &PaymentRow> = payments.iter().map(|p| (p.0.as_str(), p)).collect();
    for (key, id) in &ledger.payments {
        report.check(by_id.contains_key(id.as_str()), || {
            format!("payment {id} (key {key}) acknowledged but missing")
        });
    }
    // One payment per checkout session and per merchant key: a retry after a lost answer
    // made no second one.
    report.check(
        payments.len() == ledger.payments.len() + ledger.sessions.len(),
        || {
            format!(
                "{} payments for {} merchant keys and {} sessions",
                payments.len(),
                ledger.payments.len(),
                ledger.sessions.len()
            )
        },
    );
    let intents = emulators.stripe_list("/v1/payment_intents").await;
    report.payment_intents = intents.len();
    let mut intents_by_payment: HashMap<String, Vec<&Value>> = HashMap::new();
    for pi in &intents {
        let Some(pid) = pi["metadata"]["paygate_payment_id"].as_str() else {
            continue;
        };
        intents_by_payment
            .entry(pid.to_string())
            .or_default()
            .push(pi);
    }
    for (pid, pis) in &intents_by_payment {
        report.check(pis.len() == 1, || {
            format!("{} PaymentIntents carry payment {pid}", pis.len())
        });
        let pi = pis[0];
        let Some(p) = by_id.get(pid.as_str()) else {
            report.check(false, || {
                format!(
                    "PaymentIntent {} of payment {pid} unknown to paygate",
                    pi["id"]
                )
            });
            continue;
        };
        report.check(p.1.as_deref() == pi["id"].as_str(), || {
            format!(
                "payment {pid} points at {:?}, its intent is {}",
                p.1, pi["id"]
            )
        });
        report.check(pi["status"] == p.2.as_str(), || {
            format!(
                "payment {pid} is {} at paygate, {} at Stripe",
                p.2, pi["status"]
            )
        });
        report.check(pi["amount"].as_i64() == Some(p.3), || {
            format!("payment {pid} amount {} vs {}", p.3, pi["amount"])
        });
        report.check(pi["amount_received"].as_i64() == Some(p.4), || {
            format!(
                "payment {pid} captured {} vs received {}",
                p.4, pi["amount_received"]
            )
        });
    }
    for p in &payments {
        report.check(p.1.is_some(), || {
            format!("payment {} ({}) never got its PaymentIntent", p.0, p.2)
        });
        report.check(intents_by_payment.contains_key(&p.0), || {
            format!("payment {} has no PaymentIntent at Stripe", p.0)
        });
        report.check(p.5 <= p.4, || {
            format!("payment {} refunded {} of {}", p.0, p.5, p.4)
        });
    }
    // No session paid twice (paygate's record and Stripe's).
    let mut paid_per_session: HashMap<&str, usize> = HashMap::new();
    for p in &payments {
        if let (Some(sid), "succeeded" | "requires_capture" | "processing") =
            (p.6.as_deref(), p.2.as_str())
        {
            *paid_per_session.entry(sid).or_default() += 1;
        }
    }
    for (sid, n) in &paid_per_session {
        report.check(*n == 1, || format!("session {sid} has {n} paid payments"));
    }
    let mut charged_per_session: HashMap<&str, usize> = HashMap::new();
    for pi in &intents {
        if let (Some(sid), Some(true)) = (
            pi["metadata"]["checkout_session"].as_str(),
            pi["status"].as_str().map(|s| s == "succeeded"),
        ) {
            *charged_per_session.entry(sid).or_default() += 1;
        }
    }
    for (sid, n) in &charged_per_session {
        report.check(*n == 1, || {
            format!("session {sid} was charged {n} times at Stripe")
        });
    }

    // Refunds against the emulator's.
    let refunds: Vec<(String, String, Option<String>, String, i64)> = sqlx::query_as(
        "SELECT r.id, r.payment_id, r.provider_reference, r.status, r.amount_minor \
         FROM refunds r JOIN payments p ON p.id = r.payment_id WHERE p.provider = 'stripe'",
    )
    .fetch_all(pool)
    .await
    .expect("refunds");
    report.refunds = refunds.len();
    let refund_by_id: HashMap<&str, _> = refunds.iter().map(|r| (r.0.as_str(), r)).collect();
    for (key, (id, amount)) in &ledger.refunds {
        report.check(
            refund_by_id.get(id.as_str()).map(|r| r.4) == Some(*amount),
            || format!("refund {id} (key {key}) of {amount} acknowledged but missing or changed"),
        );
    }
    let made = refunds.iter().filter(|r| r.3 != "failed").count();
    report.check(made == ledger.refunds.len(), || {
        format!("{made} refunds for {} refund keys", ledger.refunds.len())
    });
    let stripe_refunds = emulators.stripe_list("/v1/refunds").await;
    let mut seen_refunds: HashSet<String> = HashSet::new();
    let mut refunded_at_stripe: HashMap<String, i64> = HashMap::new();
    for r in &stripe_refunds {
        let Some(rid) = r["metadata"]["paygate_refund_id"].as_str() else {
            continue;
        };
        report.check(seen_refunds.insert(rid.to_string()), || {
            format!("refund {rid} made twice at Stripe")
        });
        if r["status"] == "succeeded" || r["status"] == "pending" {
            *refunded_at_stripe
                .entry(r["payment_intent"].as_str().unwrap_or_default().to_string())
                .or_default() += r["amount"].as_i64().unwrap_or(0);
        }
        match refund_by_id.get(rid) {
            Some(ours) => {
                report.check(ours.2.as_deref() == r["id"].as_str(), || {
                    format!(
                        "refund {rid} points at {:?}, Stripe's is {}",
                        ours.2, r["id"]
                    )
                });
                report.check(r["status"] == ours.3.as_str(), || {
                    format!(
                        "refund {rid} is {} at paygate, {} at Stripe",
                        ours.3, r["status"]
                    )
                });
                report.check(r["amount"].as_i64() == Some(ours.4), || {
                    format!("refund {rid} amount {} vs {}", ours.4, r["amount"])
                });
            }
            None => report.check(false, || {
                format!("Stripe refund {} of {rid} unknown to paygate", r["id"])
            }),
        }
    }
    for r in &refunds {
        report.check(r.3 == "failed" || seen_refunds.contains(&r.0), || {
            format!("refund {} ({}) has no refund at Stripe", r.0, r.3)
        });
    }
    for pi in &intents {
        let refunded = refunded_at_stripe
            .get(pi["id"].as_str().unwrap_or_default())
            .copied()
            .unwrap_or(0);
        let received = pi["amount_received"].as_i64().unwrap_or(0);
        report.check(refunded <= received, || {
            format!("{} refunded {refunded} of {received} at Stripe", pi["id"])
        });
    }

    // Every webhook the emulator saw acknowledged was applied.
    let state = emulators.stripe_state().await;
    let acknowledged: Vec<String> = state["acknowledged_events"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|v| v.as_str().map(String::from))
                .collect()
        })
        .unwrap_or_default();
    report.acknowledged_webhooks = acknowledged.len();
    let applied: Vec<(String, Option<i64>)> = sqlx::query_as(
        "SELECT event_id, processed_at FROM provider_events WHERE provider = 'stripe'",
    )
    .fetch_all(pool)
    .await
    .expect("provider events");
    let applied: HashMap<String, Option<i64>> = applied.into_iter().collect();
    for id in &acknowledged {
        report.check(matches!(applied.get(id), Some(Some(_))), || {
            format!(
                "acknowledged webhook {id} is {:?} in the inbox",
                applied.get(id)
            )
        });
    }
    report
}

/// `PRAGMA integrity_check` of a SQLite database: `ok` when sound.
pub async fn sqlite_integrity(pool: &sqlx::AnyPool) -> String {
    sqlx::query_scalar::<_, String>("PRAGMA integrity_check")
        .fetch_one(pool)
        .await
        .expect("integrity check")
}
