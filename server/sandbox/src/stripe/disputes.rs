//! Responding to disputes (docs.stripe.com/api/disputes, docs.stripe.com/disputes/api):
//! - `POST /v1/disputes/{id}` stages `evidence[...]` (text fields) and, unless `submit=false`,
//!   submits it: the dispute goes `under_review` (`warning_under_review` for an inquiry) and
//!   can no longer be changed. In test mode the evidence decides the outcome
//!   (docs.stripe.com/testing#disputes): `uncategorized_text` `winning_evidence` wins
//!   (`won`, funds reinstated), `losing_evidence` loses (`lost`); anything else stays under
//!   review. Each change is `charge.dispute.updated`, each end `charge.dispute.closed`.
//! - `POST /v1/disputes/{id}/close` accepts the dispute: `lost` (`warning_closed` for an
//!   inquiry), `charge.dispute.closed`.
//!
//! File evidence (receipts, images) is not emulated: only the text fields are accepted.

use super::customers::previous_attributes;
use super::error::{ok, ApiError, ApiResult};
use super::form::Params;
use super::http::Ctx;
use super::store::{Origin, Store};
use super::App;
use axum::extract::{Path, State};
use axum::Extension;
use serde_json::{Map, Value};
use std::collections::BTreeMap;

/// The text evidence fields Stripe's dispute object has. The emulator keeps its own list (it
/// stands for Stripe, and paygate's `DISPUTE_TEXT_EVIDENCE` is what paygate accepts): a field
/// paygate passes that Stripe does not know fails here as it would at Stripe.
pub const TEXT_EVIDENCE: &[&str] = &[
    "access_activity_log",
    "billing_address",
    "cancellation_policy_disclosure",
    "cancellation_rebuttal",
    "customer_email_address",
    "customer_name",
    "customer_purchase_ip",
    "duplicate_charge_explanation",
    "duplicate_charge_id",
    "product_description",
    "refund_policy_disclosure",
    "refund_refusal_explanation",
    "service_date",
    "shipping_address",
    "shipping_carrier",
    "shipping_date",
    "shipping_tracking_number",
    "uncategorized_text",
];

/// The `evidence` object: every text field, null where none was given.
pub fn evidence_json(given: &BTreeMap<String, String>) -> Value {
    let mut out = Map::new();
    for field in TEXT_EVIDENCE {
        out.insert(
            (*field).to_string(),
            given
                .get(*field)
                .map_or(Value::Null, |v| Value::String(v.clone())),
        );
    }
    Value::Object(out)
}

fn open_for_response(status: &str) -> bool {
    matches!(status, "needs_response" | "warning_needs_response")
}

fn closed_error() -> ApiError {
    ApiError::invalid(
        "This dispute is not awaiting a response: its evidence was submitted or it is closed.",
    )
}

/// Moves the dispute to `status`, emitting `charge.dispute.updated` (or `.closed` for an end,
/// and `.funds_reinstated` after a win).
fn set_status(store: &mut Store, origin: &Origin, id: &str, status: &'static str) {
    let before = store.dispute_json(&store.disputes[id]);
    store.disputes.get_mut(id).expect("dispute").status = status;
    let after = store.dispute_json(&store.disputes[id]);
    let previous = previous_attributes(&before, &after);
    let kind = match status {
        "won" | "lost" | "warning_closed" => "charge.dispute.closed",
        _ => "charge.dispute.updated",
    };
    store.emit(origin, kind, after.clone(), Some(Value::Object(previous)));
    if status == "won" {
        store.emit(origin, "charge.dispute.funds_reinstated", after, None);
    }
}

pub async fn update(
    State(app): State<App>,
    Extension(ctx): Extension<Ctx>,
    Extension(p): Extension<Params>,
    Path(id): Path<String>,
) -> ApiResult {
    ctx.require_secret()?;
    let mut allowed: Vec<String> = TEXT_EVIDENCE
        .iter()
        .map(|f| format!("evidence.{f}"))
        .collect();
    allowed.extend(["submit".into(), "metadata.*".into(), "expand.#".into()]);
    let allowed: Vec<&str> = allowed.iter().map(String::as_str).collect();
    p.check_allowed(&allowed)?;
    let mut evidence = Vec::new();
    for field in TEXT_EVIDENCE {
        if let Some(value) = p.str(&format!("evidence.{field}"))? {
            if value.chars().count() > 20_000 {
                return Err(ApiError::invalid_param(
                    &format!("evidence[{field}]"),
                    "Evidence text is at most 20,000 characters.".to_string(),
                ));
            }
            evidence.push(((*field).to_string(), value.to_string()));
        }
    }
    let submit = p.bool("submit")?.unwrap_or(true);
    let metadata = p.metadata("metadata")?;
    let origin = ctx.origin();
    app.run(|store| {
        let d = store
            .disputes
            .get(&id)
            .ok_or_else(|| ApiError::no_such("dispute", &id, "dispute"))?;
        if !open_for_response(d.status) {
            return Err(closed_error());
        }
        let inquiry = d.status == "warning_needs_response";
        let before = store.dispute_json(d);
        let d = store.disputes.get_mut(&id).expect("dispute");
        for (field, value) in &evidence {
            if value.is_empty() {
                d.evidence.remove(field);
            } else {
                d.evidence.insert(field.clone(), value.clone());
            }
        }
        if let Some(m) = &metadata {
            m.apply(&mut d.metadata);
        }
        if !submit {
            let after = store.dispute_json(&store.disputes[&id]);
            let previous = previous_attributes(&before, &after);
            if !previous.is_empty() {
                store.emit(
                    &origin,
                    "charge.dispute.updated",
                    after.clone(),
                    Some(Value::Object(previous)),
                );
            }
            return ok(after);
        }
        d.submission_count += 1;
        let verdict = d.evidence.get("uncategorized_text").cloned();
        set_status(
            store,
            &origin,
            &id,
            if inquiry {
                "warning_under_review"
            } else {
                "under_review"
            },
        );
        match verdict.as_deref() {
            Some("winning_evidence") => set_status(
                store,
                &origin,
                &id,
                if inquiry { "warning_closed" } else { "won" },
            ),
            Some("losing_evidence") => set_status(
                store,
                &origin,
                &id,
                if inquiry { "warning_closed" } else { "lost" },
            ),
            _ => {}
        }
        ok(store.dispute_json(&store.disputes[&id]))
    })
}

pub async fn close(
    State(app): State<App>,
    Extension(ctx): Extension<Ctx>,
    Extension(p): Extension<Params>,
    Path(id): Path<String>,
) -> ApiResult {
    ctx.require_secret()?;
    p.check_allowed(&["expand.#"])?;
    let origin = ctx.origin();
    app.run(|store| {
        let d = store
            .disputes
            .get(&id)
            .ok_or_else(|| ApiError::no_such("dispute", &id, "dispute"))?;
        if !open_for_response(d.status) {
            return Err(closed_error());
        }
        let end = if d.status == "warning_needs_response" {
            "warning_closed"
        } else {
            "lost"
        };
        set_status(store, &origin, &id, end);
        ok(store.dispute_json(&store.disputes[&id]))
    })
}
