//! Disputes as PayPal's Disputes API v1 shows them (developer.paypal.com/api/customer-disputes/v1,
//! developer.paypal.com/docs/disputes/webhooks): `GET /v1/customer/disputes/{id}`, and
//! `CUSTOMER.DISPUTE.CREATED`, `CUSTOMER.DISPUTE.UPDATED` and `CUSTOMER.DISPUTE.RESOLVED` events
//! whose resource is the dispute. A dispute names the capture it contests in
//! `disputed_transactions[].seller_transaction_id`; `status` is one of `OPEN`,
//! `WAITING_FOR_BUYER_RESPONSE`, `WAITING_FOR_SELLER_RESPONSE`, `UNDER_REVIEW`, `RESOLVED`,
//! `OTHER`; `dispute_life_cycle_stage` `INQUIRY` (up to 20 days between buyer and seller) or
//! `CHARGEBACK` (PayPal decides); `dispute_outcome.outcome_code` once resolved.
//!
//! The emulator opens, escalates and resolves disputes through its knobs (`emulator.rs`). The
//! merchant provides evidence (`provide-evidence`, multipart with a JSON `input` part; the case
//! goes `UNDER_REVIEW`) or accepts the claim (`accept-claim`: the capture is refunded and the
//! case resolved for the buyer); offers, messages, appeals and files are not emulated.

use super::error::ApiError;
use super::money::Amount;
use super::store::Store;
use super::util::rfc3339;
use super::App;
use axum::extract::{Path, State};
use serde_json::{json, Value};

#[derive(Debug, Clone)]
pub struct Dispute {
    pub id: String,
    pub capture_id: String,
    pub amount: Amount,
    pub reason: String,
    pub status: &'static str,
    pub stage: &'static str,
    pub outcome: Option<String>,
    pub created_ms: i64,
    pub updated_ms: i64,
    pub due_ms: i64,
}

/// A seller has 10 days to respond to a claim, 20 during an inquiry.
const RESPONSE_DAYS_CLAIM: i64 = 10;
const RESPONSE_DAYS_INQUIRY: i64 = 20;
const DAY_MS: i64 = 86_400_000;

pub fn dispute_json(base: &str, d: &Dispute) -> Value {
    let mut v = json!({
        "dispute_id": d.id,
        "create_time": rfc3339(d.created_ms, true),
        "update_time": rfc3339(d.updated_ms, true),
        "disputed_transactions": [{ "seller_transaction_id": d.capture_id }],
        "reason": d.reason,
        "status": d.status,
        "dispute_amount": d.amount.json(),
        "dispute_life_cycle_stage": d.stage,
        "dispute_channel": "INTERNAL",
        "seller_response_due_date": rfc3339(d.due_ms, true),
        "links": [{ "href": format!("{base}/v1/customer/disputes/{}", d.id), "rel": "self", "method": "GET" }],
    });
    if let Some(outcome) = &d.outcome {
        v["dispute_outcome"] = json!({ "outcome_code": outcome });
    }
    v
}

impl Store {
    pub fn emit_dispute(&mut self, event_type: &str, id: &str) {
        let Some(d) = self.disputes.get(id) else {
            return;
        };
        let summary = match event_type {
            "CUSTOMER.DISPUTE.CREATED" => format!("A new dispute opened with Case # {id}"),
            "CUSTOMER.DISPUTE.RESOLVED" => format!("A dispute was resolved with case # {id}"),
            _ => format!("A dispute was updated with case # {id}"),
        };
        let resource = dispute_json(&self.base, d);
        self.emit(event_type, "dispute", summary, resource);
    }

    /// A buyer opens a case about a completed capture (`INQUIRY`, or straight to a claim).
    pub fn open_dispute(
        &mut self,
        capture_id: &str,
        reason: &str,
        inquiry: bool,
    ) -> Result<String, String> {
        let now = self.now();
        let c = self
            .captures
            .get(capture_id)
            .ok_or_else(|| "no such capture".to_string())?;
        if !matches!(c.status, "COMPLETED" | "PARTIALLY_REFUNDED") {
            return Err(format!(
                "the capture is {}; only a completed capture can be disputed",
                c.status
            ));
        }
        let id = format!("PP-D-{}", 10_000 + self.disputes.len() as i64 + 1);
        let days = if inquiry {
            RESPONSE_DAYS_INQUIRY
        } else {
            RESPONSE_DAYS_CLAIM
        };
        let d = Dispute {
            id: id.clone(),
            capture_id: capture_id.to_string(),
            amount: c.amount.with_units(c.amount.units - c.refunded),
            reason: reason.to_string(),
            status: "WAITING_FOR_SELLER_RESPONSE",
            stage: if inquiry { "INQUIRY" } else { "CHARGEBACK" },
            outcome: None,
            created_ms: now,
            updated_ms: now,
            due_ms: now + days * DAY_MS,
        };
        self.disputes.insert(id.clone(), d);
        self.emit_dispute("CUSTOMER.DISPUTE.CREATED", &id);
        Ok(id)
    }

    /// An inquiry escalated to a claim PayPal reviews (`CUSTOMER.DISPUTE.UPDATED`).
    pub fn escalate_dispute(&mut self, id: &str) -> Result<(), String> {
        let now = self.now();
        let d = self
            .disputes
            .get_mut(id)
            .ok_or_else(|| "no such dispute".to_string())?;
        if d.status == "RESOLVED" {
            return Err("the dispute is resolved".into());
        }
        d.stage = "CHARGEBACK";
        d.status = "UNDER_REVIEW";
        d.updated_ms = now;
        self.emit_dispute("CUSTOMER.DISPUTE.UPDATED", id);
        Ok(())
    }

    /// PayPal decides (`CUSTOMER.DISPUTE.RESOLVED`): `RESOLVED_BUYER_FAVOUR`,
    /// `RESOLVED_SELLER_FAVOUR` or `CANCELED_BY_BUYER`.
    pub fn resolve_dispute(&mut self, id: &str, outcome: &str) -> Result<(), String> {
        if !matches!(
            outcome,
            "RESOLVED_BUYER_FAVOUR" | "RESOLVED_SELLER_FAVOUR" | "CANCELED_BY_BUYER"
        ) {
            return Err(format!("unknown outcome {outcome}"));
        }
        let now = self.now();
        let d = self
            .disputes
            .get_mut(id)
            .ok_or_else(|| "no such dispute".to_string())?;
        if d.status == "RESOLVED" {
            return Err("the dispute is resolved".into());
        }
        d.status = "RESOLVED";
        d.outcome = Some(outcome.to_string());
        d.updated_ms = now;
        self.emit_dispute("CUSTOMER.DISPUTE.RESOLVED", id);
        Ok(())
    }
}

/// `GET /v1/customer/disputes/{id}`.
pub async fn get(State(app): State<App>, Path(id): Path<String>) -> super::error::ApiResult {
    let store = app.store.lock().expect("store lock");
    let d = store
        .disputes
        .get(&id)
        .ok_or_else(|| ApiError::not_found(super::error::Api::Disputes))?;
    Ok(super::http::json_response(
        axum::http::StatusCode::OK,
        dispute_json(&store.base, d),
    ))
}

/// The evidence types the Disputes API takes (the `evidence_type` enum).
const EVIDENCE_TYPES: &[&str] = &[
    "PROOF_OF_FULFILLMENT",
    "PROOF_OF_REFUND",
    "PROOF_OF_DELIVERY_SIGNATURE",
    "PROOF_OF_RECEIPT_COPY",
    "RETURN_POLICY",
    "BILLING_AGREEMENT",
    "PROOF_OF_RESHIPMENT",
    "ITEM_DESCRIPTION",
    "POLICE_REPORT",
    "AFFIDAVIT",
    "PAID_WITH_OTHER_METHOD",
    "COPY_OF_CONTRACT",
    "TERMINAL_ATM_RECEIPT",
    "PRICE_DIFFERENCE_REASON",
    "SOURCE_CONVERSION_RATE",
    "BANK_STATEMENT",
    "CREDIT_DUE_REASON",
    "REQUEST_CREDIT_RECEIPT",
    "PROOF_OF_RETURN",
    "CREATE",
    "CHANGE_REASON",
    "PROOF_OF_REFUND_OUTSIDE_PAYPAL",
    "RECEIPT_OF_MERCHANDISE",
    "CUSTOMS_DOCUMENT",
    "PROOF_OF_SHIPMENT_POSTAGE",
    "OTHER",
];

fn cannot(action: &str, status: &str) -> ApiError {
    ApiError::unprocessable(
        super::error::Api::Disputes,
        None,
        None,
        "NOT_AUTHORIZED_TO_PERFORM_ACTION",
        &format!("You cannot {action} a dispute in status {status}."),
    )
}

fn invalid(field: &str, description: &str) -> ApiError {
    ApiError::invalid(
        super::error::Api::Disputes,
        field,
        None,
        "INVALID_INPUT",
        description,
    )
}

/// `POST /v1/customer/disputes/{id}/provide-evidence`: `multipart/form-data` whose `input`
/// part is JSON `{"evidences": [{"evidence_type", "notes"?, ...}]}` (files are not
/// emulated). Only while the dispute waits for the seller; the case goes under review.
pub async fn provide_evidence(
    State(app): State<App>,
    Path(id): Path<String>,
    mut form: axum::extract::Multipart,
) -> super::error::ApiResult {
    let mut input: Option<Value> = None;
    while let Some(field) = form
        .next_field()
        .await
        .map_err(|_| invalid("input", "The body is not multipart/form-data."))?
    {
        if field.name() == Some("input") {
            let bytes = field
                .bytes()
                .await
                .map_err(|_| invalid("input", "The input part could not be read."))?;
            input = Some(
                serde_json::from_slice(&bytes)
                    .map_err(|_| invalid("input", "The input part is not JSON."))?,
            );
        }
    }
    let input = input.ok_or_else(|| invalid("input", "The input part is missing."))?;
    let evidences = input
        .get("evidences")
        .and_then(Value::as_array)
        .filter(|e| !e.is_empty())
        .ok_or_else(|| invalid("/evidences", "Give at least one evidence."))?;
    for (i, e) in evidences.iter().enumerate() {
        let kind = e.get("evidence_type").and_then(Value::as_str).unwrap_or("");
        if !EVIDENCE_TYPES.contains(&kind) {
            return Err(invalid(
                &format!("/evidences/{i}/evidence_type"),
                "Unknown evidence type.",
            ));
        }
        if e.get("notes")
            .and_then(Value::as_str)
            .is_some_and(|n| n.chars().count() > 2000)
        {
            return Err(invalid(
                &format!("/evidences/{i}/notes"),
                "Notes are at most 2000 characters.",
            ));
        }
    }
    app.run(|store| {
        let now = store.now();
        let d = store
            .disputes
            .get_mut(&id)
            .ok_or_else(|| ApiError::not_found(super::error::Api::Disputes))?;
        if d.status != "WAITING_FOR_SELLER_RESPONSE" {
            return Err(cannot("provide evidence for", d.status));
        }
        d.status = "UNDER_REVIEW";
        d.updated_ms = now;
        store.emit_dispute("CUSTOMER.DISPUTE.UPDATED", &id);
        Ok(())
    })?;
    let store = app.store.lock().expect("store lock");
    Ok(super::http::json_response(
        axum::http::StatusCode::OK,
        json!({ "links": [{ "href": format!("{}/v1/customer/disputes/{id}", store.base), "rel": "self", "method": "GET" }] }),
    ))
}

/// `POST /v1/customer/disputes/{id}/accept-claim` `{"note", ...}`: the merchant accepts; PayPal
/// refunds the disputed amount from the capture (`PAYMENT.CAPTURE.REFUNDED`) and resolves the
/// case for the buyer (`CUSTOMER.DISPUTE.RESOLVED`).
pub async fn accept_claim(
    State(app): State<App>,
    Path(id): Path<String>,
    body: bytes::Bytes,
) -> super::error::ApiResult {
    let input: Value =
        serde_json::from_slice(&body).map_err(|_| invalid("/", "The body is not JSON."))?;
    if input
        .get("note")
        .and_then(Value::as_str)
        .is_none_or(str::is_empty)
    {
        return Err(invalid("/note", "A note is required."));
    }
    app.run(|store| {
        let d = store
            .disputes
            .get(&id)
            .ok_or_else(|| ApiError::not_found(super::error::Api::Disputes))?
            .clone();
        if d.status == "RESOLVED" {
            return Err(cannot("accept the claim of", d.status));
        }
        let amount = d.amount.json();
        let _ = super::payments::refund_capture(
            store,
            &d.capture_id,
            Some(&amount),
            Some("Dispute claim accepted".into()),
            None,
            None,
        );
        store
            .resolve_dispute(&id, "RESOLVED_BUYER_FAVOUR")
            .map_err(|e| invalid("/", &e))?;
        Ok(())
    })?;
    let store = app.store.lock().expect("store lock");
    Ok(super::http::json_response(
        axum::http::StatusCode::OK,
        json!({ "links": [{ "href": format!("{}/v1/customer/disputes/{id}", store.base), "rel": "self", "method": "GET" }] }),
    ))
}
