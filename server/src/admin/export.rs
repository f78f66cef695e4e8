//! `GET /admin/api/payments/export.csv`: the filtered history as CSV, streamed in keyset-paged
//! chunks so a million rows never sit in memory (nor hold one long database transaction). Cells
//! that a spreadsheet would run as a formula are neutralised (OWASP "CSV Injection").

use super::audit;
use super::filters::Filters;
use super::history::{rows, Plan};
use super::session::AdminAuth;
use crate::error::ApiResult;
use crate::http::extract::Query;
use crate::state::AppState;
use axum::body::Body;
use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use serde_json::json;
use shared::api::admin::{HistoryQuery, HistoryRow};
use shared::Money;

const CHUNK: u32 = 1000;
const HEADER: [&str; 10] = [
    "id",
    "created_at",
    "status",
    "provider",
    "provider_reference",
    "currency",
    "amount",
    "refunded",
    "customer_email",
    "description",
];

/// Characters that make a spreadsheet read a cell as a formula when they start it.
const FORMULA_STARTS: [char; 6] = ['=', '+', '-', '@', '\t', '\r'];
/// Characters a spreadsheet may split cells or lines at when it imports the file (its locale's
/// separator may be `;`, a user may choose tab or `|`), so text after one can start a cell.
const SEPARATORS: [char; 6] = [',', ';', '\t', '|', '\r', '\n'];

/// A cell as a spreadsheet will not evaluate it: every place a cell could start (the beginning,
/// and after any separator) that holds `=`, `+`, `-`, `@`, tab or carriage return gets an
/// apostrophe before it (OWASP "CSV Injection").
pub fn neutralise(cell: &str) -> std::borrow::Cow<'_, str> {
    let mut could_start = true;
    let mut risky = false;
    for c in cell.chars() {
        if could_start && FORMULA_STARTS.contains(&c) {
            risky = true;
            break;
        }
        could_start = SEPARATORS.contains(&c);
    }
    if !risky {
        return cell.into();
    }
    let mut out = String::with_capacity(cell.len() + 4);
    let mut could_start = true;
    for c in cell.chars() {
        if could_start && FORMULA_STARTS.contains(&c) {
            out.push('\'');
        }
        out.push(c);
        could_start = SEPARATORS.contains(&c);
    }
    out.into()
}

fn csv_chunk(rows: &[HistoryRow], with_header: bool) -> Result<Bytes, csv::Error> {
    let mut w = csv::Writer::from_writer(Vec::with_capacity(rows.len() * 160));
    if with_header {
        w.write_record(HEADER)?;
    }
    for r in rows {
        let refunded = Money::from_minor(r.refunded_minor, r.amount.currency);
        let fields = [
            r.id.clone(),
            super::days::rfc3339(r.created_at),
            r.status.as_str().to_string(),
            r.provider.as_str().to_string(),
            r.provider_reference.clone().unwrap_or_default(),
            r.amount.currency.code().to_string(),
            r.amount.amount.clone(),
            refunded.to_decimal_string(),
            r.customer_email.clone().unwrap_or_default(),
            r.description.clone().unwrap_or_default(),
        ];
        w.write_record(fields.iter().map(|f| neutralise(f).into_owned()))?;
    }
    w.into_inner()
        .map(Bytes::from)
        .map_err(|e| csv::Error::from(e.into_error()))
}

pub async fn export(
    State(state): State<AppState>,
    admin: AdminAuth,
    Query(query): Query<HistoryQuery>,
) -> ApiResult<Response> {
    let filters = Filters::parse(&query, &state.cipher)?;
    audit::record(
        &state.db,
        &admin.email,
        "export",
        None,
        // The filters, but not a customer's email: emails are kept only encrypted.
        &json!({ "filters": HistoryQuery {
            cursor: None,
            limit: None,
            email: query.email.as_ref().map(|_| "(an email address)".to_string()),
            ..query
        } }),
        admin.ip.as_deref(),
        state.clock.now_ms(),
    )
    .await?;

    // State of the stream: the next cursor, or None once the last chunk went out.
    let start: Option<Option<(i64, String)>> = Some(None);
    let stream = futures::stream::unfold(start, move |position| {
        let state = state.clone();
        let filters = filters.clone();
        async move {
            let cursor = position?;
            let first = cursor.is_none();
            // One pass down the newest-first index, chunk after chunk.
            let result = rows(&state, &filters, cursor, CHUNK, Plan::NewestFirst).await;
            match result {
                Ok((mut page, has_more)) => {
                    page.truncate(CHUNK as usize);
                    let next = page
                        .last()
                        .filter(|_| has_more)
                        .map(|r| Some((r.created_at, r.id.clone())));
                    let bytes = csv_chunk(&page, first).map_err(std::io::Error::other);
                    Some((bytes, next))
                }
                Err(e) => {
                    // Headers are gone already; cutting the body short is the only signal left.
                    tracing::error!(error = %e, "CSV export failed midway");
                    Some((Err(std::io::Error::other("export failed")), None))
                }
            }
        }
    });
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8"),
            (
                header::CONTENT_DISPOSITION,
                "attachment; filename=\"paygate-payments.csv\"",
            ),
            (header::CACHE_CONTROL, "no-store"),
        ],
        Body::from_stream(stream),
    )
        .into_response())
}

#[cfg(test)]
mod tests {
    use super::neutralise;

    #[test]
    fn formula_cells_are_neutralised_and_others_kept() {
        for (cell, expected) in [
            ("=HYPERLINK(\"x\")", "'=HYPERLINK(\"x\")"),
            ("+1", "'+1"),
            ("-2+3", "'-2+3"),
            ("@SUM(A1)", "'@SUM(A1)"),
            ("\tcmd", "'\tcmd"),
            ("plain", "plain"),
            ("19.99", "19.99"),
            ("", ""),
            // After any separator a spreadsheet may split at, not only at the start.
            ("gift;=cmd|' /C calc'!A0", "gift;'=cmd|' /C calc'!A0"),
            ("a,+1", "a,'+1"),
            ("a|@SUM(A1)", "a|'@SUM(A1)"),
            ("first line\n-2+3", "first line\n'-2+3"),
            ("tab\t=1", "tab\t'=1"),
            ("=1;=2", "'=1;'=2"),
            // Not after a separator: kept as written.
            ("5-3", "5-3"),
            ("a, -5", "a, -5"),
            ("me@shop.example", "me@shop.example"),
        ] {
            assert_eq!(neutralise(cell), expected);
        }
    }
}
