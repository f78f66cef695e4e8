//! `GET /admin/api/stats/daily`: daily volume and outcomes for the console's chart, read from the
//! daily rollup (one row per day, currency, provider and status), every day of the range present.

use super::days;
use super::session::AdminAuth;
use crate::error::{ApiError, ApiResult};
use crate::http::extract::Query;
use crate::state::AppState;
use axum::extract::State;
use axum::Json;
use shared::api::admin::{DailyStat, DailyStats, DailyStatsQuery};
use shared::Currency;
use sqlx::Row;
use std::collections::BTreeMap;

/// Longest range one chart shows.
pub const MAX_DAYS: i64 = 366;

pub async fn daily(
    State(state): State<AppState>,
    _admin: AdminAuth,
    Query(query): Query<DailyStatsQuery>,
) -> ApiResult<Json<DailyStats>> {
    let to = match query.to.as_deref().filter(|t| !t.is_empty()) {
        Some(t) => days::parse(t, "to")?,
        None => days::of_ms(state.clock.now_ms()),
    };
    let from = match query.from.as_deref().filter(|t| !t.is_empty()) {
        Some(f) => days::parse(f, "from")?,
        None => (to - 29).max(0),
    };
    if from > to {
        return Err(ApiError::invalid(
            "from",
            format!("from must not be after to ({}).", days::format(to)),
        ));
    }
    if to - from + 1 > MAX_DAYS {
        return Err(ApiError::invalid(
            "from",
            format!("Choose at most {MAX_DAYS} days."),
        ));
    }
    let currency = match query.currency.as_deref().filter(|c| !c.is_empty()) {
        Some(c) => Some(
            Currency::from_code(c)
                .map_err(|e| ApiError::invalid("currency", e.to_string()))?
                .code()
                .to_string(),
        ),
        None => busiest_currency(&state, from, to).await?,
    };
    let mut by_day: BTreeMap<i64, DailyStat> = (from..=to)
        .map(|d| {
            (
                d,
                DailyStat {
                    day: days::format(d),
                    count: 0,
                    succeeded: 0,
                    failed: 0,
                    volume_minor: 0,
                },
            )
        })
        .collect();
    if let Some(currency) = &currency {
        let rows = sqlx::query(
            "SELECT day, status, CAST(SUM(count) AS BIGINT) AS n, CAST(SUM(captured_minor) AS BIGINT) AS captured \
             FROM payment_daily_totals WHERE currency = $1 AND day >= $2 AND day <= $3 \
             GROUP BY day, status",
        )
        .bind(currency)
        .bind(from)
        .bind(to)
        .fetch_all(&state.db.pool)
        .await?;
        for r in &rows {
            let day: i64 = r.try_get("day")?;
            let status: String = r.try_get("status")?;
            let n: i64 = r.try_get("n")?;
            let Some(stat) = by_day.get_mut(&day) else {
                continue;
            };
            stat.count += n;
            stat.volume_minor += r.try_get::<i64, _>("captured")?;
            match status.as_str() {
                "succeeded" => stat.succeeded += n,
                "failed" => stat.failed += n,
                _ => {}
            }
        }
    }
    Ok(Json(DailyStats {
        currency,
        days: by_day.into_values().collect(),
    }))
}

async fn busiest_currency(
    state: &AppState,
    from: i64,
    to: i64,
) -> Result<Option<String>, sqlx::Error> {
    let row = sqlx::query(
        "SELECT currency, CAST(SUM(count) AS BIGINT) AS n FROM payment_daily_totals \
         WHERE day >= $1 AND day <= $2 GROUP BY currency HAVING SUM(count) > 0 \
         ORDER BY n DESC, currency LIMIT 1",
    )
    .bind(from)
    .bind(to)
    .fetch_optional(&state.db.pool)
    .await?;
    row.map(|r| r.try_get("currency")).transpose()
}
