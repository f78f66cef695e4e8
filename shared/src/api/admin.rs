//! The admin console's API (`/admin/api/...`): sign-in, payment history, detail, refunds, audit,
//! merchant webhook endpoints and their deliveries (which use the merchant API's types).
//! Same-origin only, behind a session cookie; every state-changing call carries the session's
//! CSRF token in the `X-CSRF-Token` header.

use super::{Amount, Payment, PaymentStatus, ProviderName, Refund, RefundReason};
use serde::{Deserialize, Serialize};

/// The header that carries the CSRF token on every state-changing admin call.
pub const CSRF_HEADER: &str = "x-csrf-token";

/// Body of `POST /admin/api/session` (sign in). Its `Debug` never shows the password.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SignIn {
    pub email: String,
    pub password: String,
}

impl std::fmt::Debug for SignIn {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SignIn")
            .field("email", &self.email)
            .field("password", &"[redacted]")
            .finish()
    }
}

/// `GET /admin/api/session`, and the answer to a sign-in: who is signed in and the token to
/// send back in `X-CSRF-Token`. Its `Debug` never shows the token.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AdminSession {
    pub email: String,
    pub csrf_token: String,
    /// Unix milliseconds; the session also ends after a period without use.
    pub expires_at: i64,
}

impl std::fmt::Debug for AdminSession {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AdminSession")
            .field("email", &self.email)
            .field("csrf_token", &"[redacted]")
            .field("expires_at", &self.expires_at)
            .finish()
    }
}

/// Query of `GET /admin/api/payments` and `GET /admin/api/payments/export.csv`. Every field is
/// optional and lives in the console's URL under the same names, so a view can be shared.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HistoryQuery {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<PaymentStatus>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub provider: Option<ProviderName>,
    /// ISO 4217 code.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub currency: Option<String>,
    /// First day included, `YYYY-MM-DD` (UTC).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from: Option<String>,
    /// Last day included, `YYYY-MM-DD` (UTC).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub to: Option<String>,
    /// Decimal string in `currency` (required with an amount bound), inclusive.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub amount_min: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub amount_max: Option<String>,
    /// Customer email, exact match (case-insensitive).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    /// A paygate id (`pay_...`) or a provider reference (PaymentIntent id, PayPal order,
    /// authorization or capture id).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub q: Option<String>,
    /// Only payments of sessions opened from this payment link (`plink_...`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payment_link: Option<String>,
    /// The `next_cursor` of the previous page.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cursor: Option<String>,
    /// Page size, 1 to 200 (default 50).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<u32>,
}

/// One row of the history table.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HistoryRow {
    pub id: String,
    pub provider: ProviderName,
    pub provider_reference: Option<String>,
    pub status: PaymentStatus,
    pub amount: Amount,
    pub refunded_minor: i64,
    pub description: Option<String>,
    pub customer_email: Option<String>,
    /// Unix milliseconds.
    pub created_at: i64,
}

/// Totals of the whole filtered set, in one currency.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CurrencyTotal {
    pub currency: String,
    pub count: i64,
    /// Sum of the payments' amounts.
    pub amount_minor: i64,
    pub captured_minor: i64,
    pub refunded_minor: i64,
}

/// `GET /admin/api/payments`: one page, newest first, and the totals of every matching payment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HistoryPage {
    pub data: Vec<HistoryRow>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<String>,
    pub totals: Vec<CurrencyTotal>,
}

/// Query of `GET /admin/api/stats/daily`: a date range and one currency (volumes in different
/// currencies cannot be added up).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DailyStatsQuery {
    /// `YYYY-MM-DD`, default 30 days before `to`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from: Option<String>,
    /// `YYYY-MM-DD`, default today (UTC).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub to: Option<String>,
    /// Default: the currency with the most payments in the range.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub currency: Option<String>,
}

/// One day of the chart.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DailyStat {
    /// `YYYY-MM-DD`.
    pub day: String,
    /// Payments created that day.
    pub count: i64,
    pub succeeded: i64,
    pub failed: i64,
    /// Captured amount of that day's payments, minor units.
    pub volume_minor: i64,
}

/// `GET /admin/api/stats/daily`: every day of the range, days without payments included.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DailyStats {
    /// `None` when the range holds no payment at all.
    pub currency: Option<String>,
    pub days: Vec<DailyStat>,
}

/// One entry of a payment's timeline.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TimelineItem {
    pub at: i64,
    /// `api`, `webhook`, `admin`, `reconciliation` or `widget`.
    pub cause: String,
    pub kind: String,
    pub from_status: Option<String>,
    pub to_status: Option<String>,
    pub detail: serde_json::Value,
}

/// A raw provider event received for a payment (the inbox row).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProviderEventItem {
    pub provider: ProviderName,
    pub event_id: String,
    pub event_type: String,
    pub received_at: i64,
    pub processed_at: Option<i64>,
    pub outcome: Option<String>,
    /// The body as received (already verified), parsed.
    pub payload: serde_json::Value,
    /// Something the admin should know about how it was applied (e.g. rendered at another
    /// provider API version, so applied only from a re-read).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// `GET /admin/api/payments/{id}`: everything about one payment.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PaymentDetail {
    pub payment: Payment,
    /// PayPal: the authorization id under the order (manual capture).
    #[serde(default)]
    pub provider_authorization: Option<String>,
    /// PayPal: the capture id under the order.
    #[serde(default)]
    pub provider_capture: Option<String>,
    pub customer_email: Option<String>,
    /// What can still be refunded (captured, minus succeeded and pending refunds).
    pub refundable: Amount,
    pub timeline: Vec<TimelineItem>,
    pub refunds: Vec<Refund>,
    pub provider_events: Vec<ProviderEventItem>,
    /// The payment's disputes, newest first.
    #[serde(default)]
    pub disputes: Vec<super::Dispute>,
}

/// Body of `POST /admin/api/payments/{id}/refunds` (also needs `Idempotency-Key` and
/// `X-CSRF-Token`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AdminRefund {
    /// Decimal string in the payment's currency; absent: everything refundable.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub amount: Option<String>,
    pub reason: RefundReason,
    /// Free text kept with the refund and in the audit log.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// One line of the audit log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditEntry {
    pub id: i64,
    pub at: i64,
    /// The admin's email, or `cli` for command-line changes.
    pub actor: String,
    /// `sign_in`, `sign_in_failed`, `sign_out`, `refund`, `refund_failed`, `export`,
    /// `webhook_resend`, `payment_link_create`, `payment_link_deactivate`,
    /// `payment_link_activate`, `dispute_evidence`, `dispute_accept`, `admin_created`,
    /// `admin_disabled`.
    pub action: String,
    pub target: Option<String>,
    pub detail: serde_json::Value,
    pub ip: Option<String>,
}

/// `GET /admin/api/audit`: newest first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditPage {
    pub data: Vec<AuditEntry>,
    /// Pass as `before` for the next page.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_before: Option<i64>,
}

/// Answer (202) of `POST /admin/api/webhook_endpoints/{endpoint}/deliveries/{delivery}/resend`
/// (needs `X-CSRF-Token`): the event is queued again for the endpoint; the relay sends it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WebhookResent {
    /// `whd_...`, now pending and due.
    pub delivery: String,
    /// `evt_...`
    pub event: String,
    /// `we_...`
    pub endpoint: String,
}

/// A provider webhook paygate stopped retrying (`GET /admin/api/provider_events/parked`): it is
/// about an object paygate never learned of, or its provider could not be read back, through
/// every attempt. Kept, and applied again by a replay.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ParkedProviderEvent {
    /// `stripe` or `paypal`.
    pub provider: String,
    /// The provider's event id (`evt_...`, `WH-...`).
    pub event_id: String,
    pub event_type: String,
    /// Unix milliseconds.
    pub received_at: i64,
    /// Unix milliseconds of the last attempt.
    pub parked_at: i64,
    pub attempts: i64,
    /// Why the last attempt could not apply it.
    pub reason: Option<String>,
}

/// Answer (202) of `POST /admin/api/provider_events/{provider}/{event_id}/replay` (needs
/// `X-CSRF-Token`): the event is due again, with a fresh set of attempts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProviderEventReplayed {
    pub provider: String,
    pub event_id: String,
}
