//! `GET /admin/api/payments`: the payment history, newest first, with keyset pagination (a page
//! never shifts when new payments arrive: they are newer than any cursor) and the totals of the
//! whole filtered set per currency.

use super::filters::{Bind, Filters, Sql};
use super::session::AdminAuth;
use crate::checkout::record::EMAIL_CONTEXT as SESSION_EMAIL;
use crate::customers::repo::EMAIL_CONTEXT as CUSTOMER_EMAIL;
use crate::db::Db;
use crate::error::{ApiError, ApiResult};
use crate::http::extract::Query;
use crate::payments::repo::decode_cursor;
use crate::state::AppState;
use axum::extract::State;
use axum::Json;
use shared::api::admin::{CurrencyTotal, HistoryPage, HistoryQuery, HistoryRow};
use shared::api::{Amount, PaymentStatus, ProviderName};
use shared::{Currency, Money};
use sqlx::Row;

pub const DEFAULT_LIMIT: u32 = 50;
pub const MAX_LIMIT: u32 = 200;

/// The columns of a history row (also the CSV export's).
pub const ROW_SELECT: &str =
    "SELECT p.id, p.provider, p.provider_reference, p.status, p.currency, \
    p.amount_minor, p.refunded_minor, p.description, p.created_at, \
    c.email_ciphertext AS customer_email, s.customer_email_ciphertext AS session_email \
    FROM payments p \
    LEFT JOIN customers c ON c.id = p.customer_id \
    LEFT JOIN checkout_sessions s ON s.id = p.checkout_session_id \
    WHERE 1 = 1";

pub async fn page(
    State(state): State<AppState>,
    _admin: AdminAuth,
    Query(query): Query<HistoryQuery>,
) -> ApiResult<Json<HistoryPage>> {
    let filters = Filters::parse(&query, &state.cipher)?;
    let limit = query.limit.unwrap_or(DEFAULT_LIMIT);
    if !(1..=MAX_LIMIT).contains(&limit) {
        return Err(ApiError::invalid(
            "limit",
            format!("The limit must be between 1 and {MAX_LIMIT}."),
        ));
    }
    let cursor = match query.cursor.as_deref().filter(|c| !c.is_empty()) {
        Some(text) => Some(
            decode_cursor(text).ok_or_else(|| ApiError::invalid("cursor", "Malformed cursor."))?,
        ),
        None => None,
    };
    // Totals first: how many rows match tells which index finds the page fastest.
    let totals = totals(&state.db, &filters).await?;
    let matching: i64 = totals.iter().map(|t| t.count).sum();
    let plan = if matching > FEW_MATCHES {
        Plan::NewestFirst
    } else {
        Plan::FewMatches
    };
    let (mut data, has_more) = rows(&state, &filters, cursor, limit, plan).await?;
    let next_cursor = has_more.then(|| {
        data.truncate(limit as usize);
        data.last().map(|r| format!("{}.{}", r.created_at, r.id))
    });
    Ok(Json(HistoryPage {
        data,
        next_cursor: next_cursor.flatten(),
        totals,
    }))
}

/// Below this many matching payments the page is read through the amount index and sorted;
/// above, by walking the newest payments (see [`Filters::push_payment_conditions`]).
const FEW_MATCHES: i64 = 5_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Plan {
    NewestFirst,
    FewMatches,
}

/// Up to `limit + 1` rows after `cursor` (the extra one tells whether more follow).
pub async fn rows(
    state: &AppState,
    filters: &Filters,
    cursor: Option<(i64, String)>,
    limit: u32,
    plan: Plan,
) -> Result<(Vec<HistoryRow>, bool), sqlx::Error> {
    let mut sql = Sql::new(ROW_SELECT);
    filters.push_payment_conditions(&mut sql, plan == Plan::FewMatches);
    if let Some((at, id)) = cursor {
        // Written as a range on created_at plus a tie-break (not `a < x OR (a = x AND ...)`),
        // so SQLite seeks the index to the cursor instead of scanning from the newest row.
        let a = sql.param(Bind::Int(at));
        let b = sql.param(Bind::Int(at));
        let c = sql.param(Bind::Text(id));
        sql.text += &format!(" AND p.created_at <= {a} AND (p.created_at < {b} OR p.id < {c})");
    }
    let l = sql.param(Bind::Int(i64::from(limit) + 1));
    sql.text += &format!(" ORDER BY p.created_at DESC, p.id DESC LIMIT {l}");
    let found = sql.query().fetch_all(&state.db.pool).await?;
    let has_more = found.len() > limit as usize;
    let rows = found
        .iter()
        .map(|r| to_row(state, r))
        .collect::<Result<Vec<_>, _>>()?;
    Ok((rows, has_more))
}

fn to_row(state: &AppState, r: &crate::db::Row) -> Result<HistoryRow, sqlx::Error> {
    let corrupt = |what: &str| sqlx::Error::Decode(format!("payments.{what} is not valid").into());
    let provider: String = r.try_get("provider")?;
    let status: String = r.try_get("status")?;
    let currency: String = r.try_get("currency")?;
    let currency = Currency::from_code(&currency).map_err(|_| corrupt("currency"))?;
    let customer_email = email_of_row(state, r)?;
    Ok(HistoryRow {
        id: r.try_get("id")?,
        provider: ProviderName::parse(&provider).ok_or_else(|| corrupt("provider"))?,
        provider_reference: r.try_get("provider_reference")?,
        status: PaymentStatus::parse(&status).ok_or_else(|| corrupt("status"))?,
        amount: Amount::from(Money::from_minor(r.try_get("amount_minor")?, currency)),
        refunded_minor: r.try_get("refunded_minor")?,
        description: r.try_get("description")?,
        customer_email,
        created_at: r.try_get("created_at")?,
    })
}

/// The customer's email of a [`ROW_SELECT`] row: the customer's, else the checkout
/// session's. One that no longer decrypts (wrong key) shows as absent rather than failing.
pub fn email_of_row(state: &AppState, r: &crate::db::Row) -> Result<Option<String>, sqlx::Error> {
    let customer: Option<String> = r.try_get("customer_email")?;
    let session: Option<String> = r.try_get("session_email")?;
    Ok(customer
        .and_then(|ct| state.cipher.decrypt(&ct, CUSTOMER_EMAIL).ok())
        .or_else(|| session.and_then(|ct| state.cipher.decrypt(&ct, SESSION_EMAIL).ok())))
}

/// Below this many payments outside an amount range, totals are the rollup's minus the
/// payments outside the range (a broad range then costs what its few outsiders cost).
const FEW_OUTSIDERS: i64 = 20_000;

/// Per-currency totals of everything the filters match: from the daily rollup when it can
/// answer (status, provider, currency and whole days); for an amount range, from the rollup
/// minus the payments outside the range when those are few; else summed over the matching rows.
pub async fn totals(db: &Db, filters: &Filters) -> Result<Vec<CurrencyTotal>, sqlx::Error> {
    if filters.rollup_answers() {
        return rollup_totals(db, filters).await;
    }
    let outside = filters.outside_amount_range();
    if filters.email_indexes.is_none()
        && filters.search.is_none()
        && filters.payment_link.is_none()
        && !outside.is_empty()
    {
        let mut few = true;
        for f in &outside {
            if count_capped(db, f, FEW_OUTSIDERS).await? >= FEW_OUTSIDERS {
                few = false;
                break;
            }
        }
        if few {
            let mut totals = rollup_totals(db, &filters.without_amount_range()).await?;
            for f in &outside {
                for o in summed_totals(db, f).await? {
                    if let Some(t) = totals.iter_mut().find(|t| t.currency == o.currency) {
                        t.count -= o.count;
                        t.amount_minor -= o.amount_minor;
                        t.captured_minor -= o.captured_minor;
                        t.refunded_minor -= o.refunded_minor;
                    }
                }
            }
            totals.retain(|t| t.count > 0);
            return Ok(totals);
        }
    }
    summed_totals(db, filters).await
}

/// How many payments match, counting no further than `cap`.
async fn count_capped(db: &Db, filters: &Filters, cap: i64) -> Result<i64, sqlx::Error> {
    let mut sql = Sql::new("SELECT COUNT(*) AS n FROM (SELECT 1 FROM payments p WHERE 1 = 1");
    filters.push_payment_conditions(&mut sql, true);
    let l = sql.param(Bind::Int(cap));
    sql.text += &format!(" LIMIT {l}) capped");
    let row = sql.query().fetch_one(&db.pool).await?;
    row.try_get("n")
}

async fn rollup_totals(db: &Db, filters: &Filters) -> Result<Vec<CurrencyTotal>, sqlx::Error> {
    let mut sql = Sql::new(
        "SELECT currency, CAST(SUM(count) AS BIGINT) AS n, CAST(SUM(amount_minor) AS BIGINT) AS amount, \
         CAST(SUM(captured_minor) AS BIGINT) AS captured, CAST(SUM(refunded_minor) AS BIGINT) AS refunded \
         FROM payment_daily_totals WHERE 1 = 1",
    );
    filters.push_rollup_conditions(&mut sql);
    grouped(db, sql).await
}

async fn summed_totals(db: &Db, filters: &Filters) -> Result<Vec<CurrencyTotal>, sqlx::Error> {
    let mut sql = Sql::new(
        "SELECT p.currency AS currency, CAST(COUNT(*) AS BIGINT) AS n, CAST(SUM(p.amount_minor) AS BIGINT) AS amount, \
         CAST(SUM(p.captured_minor) AS BIGINT) AS captured, CAST(SUM(p.refunded_minor) AS BIGINT) AS refunded \
         FROM payments p WHERE 1 = 1",
    );
    // Sums read the covering amount index when there is an amount range.
    filters.push_payment_conditions(&mut sql, true);
    grouped(db, sql).await
}

async fn grouped(db: &Db, mut sql: Sql) -> Result<Vec<CurrencyTotal>, sqlx::Error> {
    sql.text += " GROUP BY currency ORDER BY currency";
    let found = sql.query().fetch_all(&db.pool).await?;
    let mut out = Vec::with_capacity(found.len());
    for r in &found {
        let count: i64 = r.try_get("n")?;
        if count == 0 {
            continue;
        }
        out.push(CurrencyTotal {
            currency: r.try_get("currency")?,
            count,
            amount_minor: r.try_get("amount")?,
            captured_minor: r.try_get("captured")?,
            refunded_minor: r.try_get("refunded")?,
        });
    }
    Ok(out)
}
