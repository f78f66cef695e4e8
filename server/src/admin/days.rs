//! Calendar days of the history filters and the chart: `YYYY-MM-DD` (UTC) to and from the day
//! number stored in `payment_daily_totals` (whole days since 1970-01-01).

use crate::error::ApiError;
use time::macros::format_description;
use time::{Date, Duration, OffsetDateTime};

pub const DAY_MS: i64 = 86_400_000;

fn epoch() -> Date {
    Date::from_calendar_date(1970, time::Month::January, 1).expect("valid date")
}

/// Parses `YYYY-MM-DD` into a day number; `param` names the field in the error.
pub fn parse(text: &str, param: &str) -> Result<i64, ApiError> {
    let date =
        Date::parse(text.trim(), format_description!("[year]-[month]-[day]")).map_err(|_| {
            ApiError::invalid(param, format!("{param} must be a date written YYYY-MM-DD."))
        })?;
    if !(1970..=9999).contains(&date.year()) {
        return Err(ApiError::invalid(
            param,
            format!("{param} must be a date between 1970 and 9999."),
        ));
    }
    Ok((date - epoch()).whole_days())
}

/// `YYYY-MM-DD` of a day number; days outside what `time` can represent (never produced by
/// [`parse`]) are written as the nearest representable date rather than panicking.
pub fn format(day: i64) -> String {
    let date = epoch()
        .checked_add(Duration::days(day))
        .unwrap_or(if day < 0 { Date::MIN } else { Date::MAX });
    date.format(format_description!("[year]-[month]-[day]"))
        .unwrap_or_default()
}

pub fn of_ms(at_ms: i64) -> i64 {
    at_ms.div_euclid(DAY_MS)
}

/// RFC 3339 UTC time of a Unix-milliseconds timestamp (the CSV export's time column).
pub fn rfc3339(at_ms: i64) -> String {
    OffsetDateTime::from_unix_timestamp_nanos(i128::from(at_ms) * 1_000_000)
        .ok()
        .and_then(|t| {
            t.format(&time::format_description::well_known::Rfc3339)
                .ok()
        })
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn days_round_trip_and_reject_bad_dates() {
        assert_eq!(parse("1970-01-01", "from").unwrap(), 0);
        assert_eq!(parse("2026-11-27", "from").unwrap(), 20_784);
        assert_eq!(format(20_784), "2026-11-27");
        assert_eq!(of_ms(20_784 * DAY_MS + DAY_MS - 1), 20_784);
        for bad in [
            "2026-02-30",
            "27/11/2026",
            "2026-11-27T00:00",
            "",
            "-9999-01-01",
            "1969-12-31",
        ] {
            assert!(parse(bad, "to").is_err(), "{bad:?}");
        }
        assert_eq!(rfc3339(1_764_201_600_123), "2025-11-27T00:00:00.123Z");
    }
}
