//! SQL for payments. Every write goes through a transaction given by the caller, so the change,
//! its timeline entry and its outbox event commit together.

use super::record::{PaymentRecord, COLUMNS};
use super::timeline::{self, Cause};
use crate::db::{Db, Tx};
use crate::events;
use crate::providers::ProviderPayment;
use serde_json::json;
use shared::api::{ListPaymentsQuery, NextAction, PaymentError, PaymentStatus};

pub async fn insert(tx: &mut Tx, p: &PaymentRecord, cause: Cause) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO payments (id, provider, provider_reference, provider_authorization, provider_capture, status, currency, amount_minor, \
         captured_minor, refunded_minor, capture_mode, description, customer_id, \
         checkout_session_id, payment_link_id, last_error, next_action, metadata, created_at, updated_at, \
         payment_method_id) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21)",
    )
    .bind(&p.id)
    .bind(p.provider.as_str())
    .bind(&p.provider_reference)
    .bind(&p.provider_authorization)
    .bind(&p.provider_capture)
    .bind(p.status.as_str())
    .bind(p.money.currency().code())
    .bind(p.money.minor())
    .bind(p.captured_minor)
    .bind(p.refunded_minor)
    .bind(p.capture_mode.as_str())
    .bind(&p.description)
    .bind(&p.customer_id)
    .bind(&p.checkout_session_id)
    .bind(&p.payment_link_id)
    .bind(p.last_error.as_ref().map(|e| json!(e).to_string()))
    .bind(p.next_action.as_ref().map(|a| json!(a).to_string()))
    .bind(json!(p.metadata).to_string())
    .bind(p.created_at)
    .bind(p.updated_at)
    .bind(&p.payment_method_id)
    .execute(&mut **tx)
    .await?;
    timeline::append(
        tx,
        &p.id,
        p.created_at,
        cause,
        "created",
        None,
        Some(p.status),
        &json!({ "amount_minor": p.money.minor(), "currency": p.money.currency().code() }),
    )
    .await?;
    events::record(
        tx,
        "payment.created",
        &p.id,
        &json!(p.to_api()),
        p.created_at,
    )
    .await?;
    Ok(())
}

pub async fn get(db: &Db, id: &str) -> Result<Option<PaymentRecord>, sqlx::Error> {
    let row = sqlx::query(&format!("SELECT {COLUMNS} FROM payments WHERE id = $1"))
        .bind(id)
        .fetch_optional(&db.pool)
        .await?;
    row.as_ref().map(PaymentRecord::from_row).transpose()
}

pub async fn get_locked(
    db: &Db,
    tx: &mut Tx,
    id: &str,
) -> Result<Option<PaymentRecord>, sqlx::Error> {
    let row = sqlx::query(&format!(
        "SELECT {COLUMNS} FROM payments WHERE id = $1{}",
        db.for_update()
    ))
    .bind(id)
    .fetch_optional(&mut **tx)
    .await?;
    row.as_ref().map(PaymentRecord::from_row).transpose()
}

pub async fn find_by_reference(
    db: &Db,
    tx: &mut Tx,
    provider: shared::api::ProviderName,
    reference: &str,
) -> Result<Option<PaymentRecord>, sqlx::Error> {
    let row = sqlx::query(&format!(
        "SELECT {COLUMNS} FROM payments WHERE provider = $1 AND (provider_reference = $2 \
         OR provider_authorization = $3 OR provider_capture = $4){}",
        db.for_update()
    ))
    .bind(provider.as_str())
    .bind(reference)
    .bind(reference)
    .bind(reference)
    .fetch_optional(&mut **tx)
    .await?;
    row.as_ref().map(PaymentRecord::from_row).transpose()
}

/// A provider's report of a payment's state, to be applied through the state machine.
#[derive(Debug, Clone, Default)]
pub struct Update {
    pub reference: Option<String>,
    pub authorization: Option<String>,
    pub capture: Option<String>,
    pub status: Option<PaymentStatus>,
    pub captured_minor: Option<i64>,
    /// `Some(None)` clears the error.
    pub last_error: Option<Option<PaymentError>>,
    pub next_action: Option<Option<NextAction>>,
}

impl From<ProviderPayment> for Update {
    /// Everything the provider reported, to be applied through the state machine.
    fn from(pp: ProviderPayment) -> Update {
        Update {
            reference: Some(pp.reference),
            authorization: pp.authorization,
            capture: pp.capture,
            status: Some(pp.status),
            captured_minor: pp.captured_minor,
            last_error: Some(pp.last_error),
            next_action: Some(pp.next_action),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// The status moved (and other fields may have changed).
    Transitioned {
        from: PaymentStatus,
        to: PaymentStatus,
    },
    /// Same status; other fields changed.
    Updated,
    /// Nothing new.
    Unchanged,
    /// The state machine forbids the move (e.g. a late webhook after success): nothing changed
    /// but the timeline notes the refusal.
    Refused {
        from: PaymentStatus,
        to: PaymentStatus,
    },
}

/// Applies `update` to the locked payment row `current`, recording the timeline and the outbox
/// event in `tx`. Terminal states never move; captured totals never go down.
pub async fn apply_update(
    tx: &mut Tx,
    current: &PaymentRecord,
    update: Update,
    cause: Cause,
    detail: serde_json::Value,
    now_ms: i64,
) -> Result<(Outcome, PaymentRecord), sqlx::Error> {
    let mut next = current.clone();
    let target = update.status.unwrap_or(current.status);
    if target != current.status && !current.status.can_transition_to(target) {
        timeline::append(
            tx,
            &current.id,
            now_ms,
            cause,
            "transition_refused",
            Some(current.status),
            Some(target),
            &detail,
        )
        .await?;
        return Ok((
            Outcome::Refused {
                from: current.status,
                to: target,
            },
            next,
        ));
    }
    next.status = target;
    if let Some(reference) = update.reference {
        next.provider_reference = Some(reference);
    }
    if let Some(a) = update.authorization {
        next.provider_authorization = Some(a);
    }
    if let Some(c) = update.capture {
        next.provider_capture = Some(c);
    }
    if let Some(captured) = update.captured_minor {
        next.captured_minor = next.captured_minor.max(captured.min(next.money.minor()));
    }
    if let Some(err) = update.last_error {
        next.last_error = err;
    }
    if let Some(action) = update.next_action {
        next.next_action = action;
    }
    if target.is_terminal() {
        next.next_action = None;
    }
    if next == *current {
        return Ok((Outcome::Unchanged, next));
    }
    next.updated_at = now_ms;
    sqlx::query(
        "UPDATE payments SET provider_reference = $1, status = $2, captured_minor = $3, \
         last_error = $4, next_action = $5, updated_at = $6, provider_authorization = $7, \
         provider_capture = $8 WHERE id = $9",
    )
    .bind(&next.provider_reference)
    .bind(next.status.as_str())
    .bind(next.captured_minor)
    .bind(next.last_error.as_ref().map(|e| json!(e).to_string()))
    .bind(next.next_action.as_ref().map(|a| json!(a).to_string()))
    .bind(next.updated_at)
    .bind(&next.provider_authorization)
    .bind(&next.provider_capture)
    .bind(&next.id)
    .execute(&mut **tx)
    .await?;

    let outcome = if target != current.status {
        Outcome::Transitioned {
            from: current.status,
            to: target,
        }
    } else {
        Outcome::Updated
    };
    let kind = match outcome {
        Outcome::Transitioned { .. } => "status_changed",
        _ => "updated",
    };
    let mut detail = detail;
    if let (Some(obj), Some(err)) = (detail.as_object_mut(), &next.last_error) {
        obj.insert("last_error".into(), json!(err));
    }
    timeline::append(
        tx,
        &next.id,
        now_ms,
        cause,
        kind,
        Some(current.status),
        Some(next.status),
        &detail,
    )
    .await?;
    events::record(
        tx,
        event_type(current, &next),
        &next.id,
        &json!(next.to_api()),
        now_ms,
    )
    .await?;
    Ok((outcome, next))
}

/// The event a change from `before` to `after` emits: the new status, except that an attempt
/// that failed with a new error and left the payment waiting for a payment method (a decline)
/// is `payment.failed`, and a change without a new status is `payment.updated`.
fn event_type(before: &PaymentRecord, after: &PaymentRecord) -> &'static str {
    let new_error = after.last_error.is_some() && after.last_error != before.last_error;
    match after.status {
        PaymentStatus::RequiresPaymentMethod | PaymentStatus::Failed if new_error => {
            "payment.failed"
        }
        status if status == before.status => "payment.updated",
        PaymentStatus::RequiresPaymentMethod => "payment.requires_payment_method",
        PaymentStatus::RequiresConfirmation => "payment.requires_confirmation",
        PaymentStatus::RequiresAction => "payment.requires_action",
        PaymentStatus::Processing => "payment.processing",
        PaymentStatus::RequiresCapture => "payment.requires_capture",
        PaymentStatus::Succeeded => "payment.succeeded",
        PaymentStatus::Failed => "payment.failed",
        PaymentStatus::Canceled => "payment.canceled",
    }
}

/// Which of a checkout session's payments through one provider to find.
#[derive(Debug, Clone, Copy)]
pub enum SessionPayment<'a> {
    /// The newest one, whatever its state.
    Latest,
    /// The newest one the customer can still pay (created at the provider, not yet confirmed).
    Open,
    /// The one with this provider reference (a PayPal order id from the browser).
    Reference(&'a str),
    /// The newest one whose creation was never answered (no provider object recorded yet): the
    /// instance asking died, or the provider's answer was lost.
    Unanswered,
}

/// A checkout session's payment through `provider`, newest first.
pub async fn find_for_session(
    db: &Db,
    session_id: &str,
    provider: shared::api::ProviderName,
    which: SessionPayment<'_>,
) -> Result<Option<PaymentRecord>, sqlx::Error> {
    let condition = match which {
        SessionPayment::Latest => "",
        SessionPayment::Open => {
            " AND status IN ('requires_payment_method', 'requires_confirmation', 'requires_action') \
             AND provider_reference IS NOT NULL"
        }
        SessionPayment::Reference(_) => " AND provider_reference = $3",
        SessionPayment::Unanswered => {
            " AND status = 'requires_payment_method' AND provider_reference IS NULL"
        }
    };
    let sql = format!(
        "SELECT {COLUMNS} FROM payments WHERE checkout_session_id = $1 AND provider = $2{condition} \
         ORDER BY created_at DESC, id DESC LIMIT 1"
    );
    let mut q = sqlx::query(&sql).bind(session_id).bind(provider.as_str());
    if let SessionPayment::Reference(reference) = which {
        q = q.bind(reference);
    }
    let row = q.fetch_optional(&db.pool).await?;
    row.as_ref().map(PaymentRecord::from_row).transpose()
}

/// One page of payments, newest first, and whether more follow.
pub async fn list(
    db: &Db,
    query: &ListPaymentsQuery,
    cursor: Option<(i64, String)>,
    limit: u32,
) -> Result<(Vec<PaymentRecord>, bool), sqlx::Error> {
    let mut sql = format!("SELECT {COLUMNS} FROM payments WHERE 1 = 1");
    let mut n = 0;
    let mut next = || {
        n += 1;
        format!("${n}")
    };
    if query.status.is_some() {
        sql += &format!(" AND status = {}", next());
    }
    if query.provider.is_some() {
        sql += &format!(" AND provider = {}", next());
    }
    if query.created_gte.is_some() {
        sql += &format!(" AND created_at >= {}", next());
    }
    if query.created_lte.is_some() {
        sql += &format!(" AND created_at <= {}", next());
    }
    if cursor.is_some() {
        let (a, b, c) = (next(), next(), next());
        // A range plus a tie-break, so SQLite seeks the index to the cursor (see admin::history).
        sql += &format!(" AND created_at <= {a} AND (created_at < {b} OR id < {c})");
    }
    sql += &format!(" ORDER BY created_at DESC, id DESC LIMIT {}", next());

    let mut q = sqlx::query(&sql);
    if let Some(s) = query.status {
        q = q.bind(s.as_str());
    }
    if let Some(p) = query.provider {
        q = q.bind(p.as_str());
    }
    if let Some(t) = query.created_gte {
        q = q.bind(t.saturating_mul(1000));
    }
    if let Some(t) = query.created_lte {
        // Inclusive to the end of that second.
        q = q.bind(t.saturating_mul(1000).saturating_add(999));
    }
    if let Some((at, id)) = &cursor {
        q = q.bind(*at).bind(*at).bind(id.clone());
    }
    q = q.bind(i64::from(limit) + 1);
    let rows = q.fetch_all(&db.pool).await?;
    let mut out = rows
        .iter()
        .map(PaymentRecord::from_row)
        .collect::<Result<Vec<_>, _>>()?;
    let has_more = out.len() > limit as usize;
    out.truncate(limit as usize);
    Ok((out, has_more))
}

/// Opaque cursor of a list position: the last row's creation time and id.
pub fn encode_cursor(p: &PaymentRecord) -> String {
    format!("{}.{}", p.created_at, p.id)
}

pub fn decode_cursor(text: &str) -> Option<(i64, String)> {
    crate::ids::decode_cursor(text, "pay")
}

/// A checkout session's payments that exist at their provider and have not ended.
pub async fn unfinished_for_session(
    db: &Db,
    session_id: &str,
) -> Result<Vec<PaymentRecord>, sqlx::Error> {
    let rows = sqlx::query(&format!(
        "SELECT {COLUMNS} FROM payments WHERE checkout_session_id = $1 \
         AND provider_reference IS NOT NULL AND status IN ('requires_payment_method', \
         'requires_confirmation', 'requires_action', 'processing', 'requires_capture') ORDER BY created_at"
    ))
    .bind(session_id)
    .fetch_all(&db.pool)
    .await?;
    rows.iter().map(PaymentRecord::from_row).collect()
}

/// Payments that paid for a checkout session another payment completed (or that expired) and
/// have not been given back yet: captured ones without any refund, manual-capture ones still
/// holding their authorisation. Their give-back is retried until it is done.
pub async fn unreturned_duplicates(db: &Db, limit: i64) -> Result<Vec<PaymentRecord>, sqlx::Error> {
    let columns = COLUMNS
        .split(',')
        .map(|c| format!("p.{}", c.trim()))
        .collect::<Vec<_>>()
        .join(", ");
    let rows = sqlx::query(&format!(
        "SELECT {columns} FROM payments p JOIN checkout_sessions s ON s.id = p.checkout_session_id \
         WHERE s.status IN ('complete', 'expired') \
         AND (s.completed_payment_id IS NULL OR s.completed_payment_id <> p.id) \
         AND ((p.status = 'succeeded' AND NOT EXISTS (SELECT 1 FROM refunds r WHERE r.payment_id = p.id)) \
           OR (p.status = 'requires_capture' AND p.capture_mode = 'manual')) \
         ORDER BY p.updated_at LIMIT $1"
    ))
    .bind(limit)
    .fetch_all(&db.pool)
    .await?;
    rows.iter().map(PaymentRecord::from_row).collect()
}

/// Open payments idle since before `deadline` and not re-read since then, oldest first
/// (reconciliation).
pub async fn idle_open(
    db: &Db,
    deadline: i64,
    limit: i64,
) -> Result<Vec<PaymentRecord>, sqlx::Error> {
    let rows = sqlx::query(&format!(
        "SELECT {COLUMNS} FROM payments WHERE status IN \
         ('requires_payment_method', 'requires_confirmation', 'requires_action', 'processing', 'requires_capture') \
         AND updated_at < $1 AND (reconciled_at IS NULL OR reconciled_at < $2) ORDER BY updated_at LIMIT $3"
    ))
    .bind(deadline)
    .bind(deadline)
    .bind(limit)
    .fetch_all(&db.pool)
    .await?;
    rows.iter().map(PaymentRecord::from_row).collect()
}

/// Notes that reconciliation looked at the payment (it is not looked at again before the next
/// deadline).
pub async fn mark_reconciled(db: &Db, id: &str, now_ms: i64) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE payments SET reconciled_at = $1 WHERE id = $2")
        .bind(now_ms)
        .bind(id)
        .execute(&db.pool)
        .await
        .map(|_| ())
}
