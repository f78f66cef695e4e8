//! Every answer of a full flow, checked against PayPal's published OpenAPI documents
//! (`tests/fixtures/paypal-specs/`): an order created, read, approved, captured, the capture read
//! and refunded, the refund read, the order read again; an authorization made, read, captured in
//! part and voided. The schema of each answer is looked up in the document by method, path and
//! status, as a client generated from the spec would; nothing here comes from the emulator's
//! code. (The emulator's buyer id once broke the spec's `payer_id` pattern: this catches that.)

use super::{order_body, start};
use paygate_tests::emulator::{s, Reply};
use serde_json::{json, Value};

const ORDERS: &str = include_str!("../../../fixtures/paypal-specs/checkout_orders_v2.json");
const PAYMENTS: &str = include_str!("../../../fixtures/paypal-specs/payments_payment_v2.json");

/// Whether the spec's path template (`/v2/checkout/orders/{id}`) names `path`.
fn template_matches(template: &str, path: &str) -> bool {
    let (t, p): (Vec<&str>, Vec<&str>) = (template.split('/').collect(), path.split('/').collect());
    t.len() == p.len()
        && t.iter()
            .zip(&p)
            .all(|(t, p)| (t.starts_with('{') && t.ends_with('}') && !p.is_empty()) || t == p)
}

/// The JSON schema of the `status` answer to `method path` in the document `doc`, with the
/// document's components beside it so that its `$ref`s resolve.
fn response_schema(doc: &Value, method: &str, path: &str, status: u16) -> Option<Value> {
    let (_, operations) = doc["paths"]
        .as_object()?
        .iter()
        .find(|(template, _)| template_matches(template, path))?;
    let mut response =
        operations[method.to_ascii_lowercase()]["responses"][status.to_string()].clone();
    // A response may itself be a `$ref` into `#/components/responses`.
    if let Some(reference) = response.get("$ref").and_then(Value::as_str) {
        let pointer = reference.trim_start_matches('#');
        response = doc.pointer(pointer)?.clone();
    }
    let schema = response
        .pointer("/content/application~1json/schema")?
        .clone();
    Some(json!({ "components": doc["components"], "allOf": [schema] }))
}

struct Checked {
    docs: Vec<Value>,
    seen: usize,
}

impl Checked {
    fn new() -> Checked {
        Checked {
            docs: [ORDERS, PAYMENTS]
                .iter()
                .map(|text| serde_json::from_str(text).expect("PayPal's document parses"))
                .collect(),
            seen: 0,
        }
    }

    /// Checks `reply` against the spec's schema for `method path` and its status.
    fn check(&mut self, method: &str, path: &str, reply: &Reply) {
        let status = reply.status.as_u16();
        let schema = self
            .docs
            .iter()
            .find_map(|doc| response_schema(doc, method, path, status))
            .unwrap_or_else(|| panic!("no schema for {method} {path} {status} in PayPal's specs"));
        let validator = jsonschema::options()
            .with_draft(jsonschema::Draft::Draft4)
            .build(&schema)
            .unwrap_or_else(|e| panic!("the spec's schema for {method} {path}: {e}"));
        let errors: Vec<String> = validator
            .iter_errors(&reply.body)
            .map(|e| format!("{} at {}", e, e.instance_path()))
            .collect();
        assert!(
            errors.is_empty(),
            "{method} {path} {status} does not match PayPal's spec:\n{}\n{}",
            errors.join("\n"),
            reply.body
        );
        self.seen += 1;
    }
}

#[tokio::test]
async fn every_answer_of_a_full_flow_matches_paypals_specs() {
    let emu = start().await;
    let mut spec = Checked::new();

    // Capture intent: create, read, approve, capture, read the capture, refund, read it.
    let path = "/v2/checkout/orders";
    let created = emu
        .post_full(
            path,
            &order_body(
                "CAPTURE",
                "USD",
                "40.00",
                Some("https://shop.example/return"),
            ),
        )
        .await;
    spec.check("POST", path, &created);
    let id = s(&created.body["id"]).to_string();
    let order_path = format!("/v2/checkout/orders/{id}");
    spec.check("GET", &order_path, &emu.get(&order_path).await);
    assert_eq!(emu.approve(&id, "balance").await.status().as_u16(), 303);
    spec.check("GET", &order_path, &emu.get(&order_path).await);
    let capture_path = format!("{order_path}/capture");
    let captured = emu.post_full(&capture_path, &json!({})).await;
    spec.check("POST", &capture_path, &captured);
    let capture =
        s(&captured.body["purchase_units"][0]["payments"]["captures"][0]["id"]).to_string();
    let path = format!("/v2/payments/captures/{capture}");
    spec.check("GET", &path, &emu.get(&path).await);
    let refund_path = format!("{path}/refund");
    let refunded = emu
        .post_full(
            &refund_path,
            &json!({"amount": {"currency_code": "USD", "value": "15.00"}, "note_to_payer": "Sorry"}),
        )
        .await;
    spec.check("POST", &refund_path, &refunded);
    let path = format!("/v2/payments/refunds/{}", s(&refunded.body["id"]));
    spec.check("GET", &path, &emu.get(&path).await);
    spec.check("GET", &order_path, &emu.get(&order_path).await);

    // Authorize intent: create, approve, authorize, read, capture a part, void the rest.
    let created = emu
        .post_full(
            "/v2/checkout/orders",
            &order_body(
                "AUTHORIZE",
                "EUR",
                "30.00",
                Some("https://shop.example/return"),
            ),
        )
        .await;
    let id = s(&created.body["id"]).to_string();
    assert_eq!(emu.approve(&id, "balance").await.status().as_u16(), 303);
    let path = format!("/v2/checkout/orders/{id}/authorize");
    let authorized = emu.post_full(&path, &json!({})).await;
    spec.check("POST", &path, &authorized);
    let authorization =
        s(&authorized.body["purchase_units"][0]["payments"]["authorizations"][0]["id"]).to_string();
    let path = format!("/v2/payments/authorizations/{authorization}");
    spec.check("GET", &path, &emu.get(&path).await);
    let capture_path = format!("{path}/capture");
    let part = emu
        .post_full(
            &capture_path,
            &json!({"amount": {"currency_code": "EUR", "value": "10.00"}, "final_capture": false}),
        )
        .await;
    spec.check("POST", &capture_path, &part);
    let void_path = format!("{path}/void");
    let voided = emu.post_full(&void_path, &json!({})).await;
    spec.check("POST", &void_path, &voided);
    let order_path = format!("/v2/checkout/orders/{id}");
    spec.check("GET", &order_path, &emu.get(&order_path).await);

    assert_eq!(spec.seen, 13, "every answer was checked");
}
