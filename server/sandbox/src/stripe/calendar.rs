//! Calendar arithmetic on unix seconds (UTC) for billing periods and card expiry: civil dates
//! from day counts (Howard Hinnant's algorithms), months added with the day clamped to the
//! month's end, as Stripe bills on the 31st.

use crate::common::util::civil_from_days;

const DAY: i64 = 86_400;

pub fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = if m > 2 { m - 3 } else { m + 9 };
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn days_in_month(y: i64, m: i64) -> i64 {
    let next = if m == 12 {
        days_from_civil(y + 1, 1, 1)
    } else {
        days_from_civil(y, m + 1, 1)
    };
    next - days_from_civil(y, m, 1)
}

/// `(year, month)` of a unix time.
pub fn year_month(t: i64) -> (i64, i64) {
    let (y, m, _) = civil_from_days(t.div_euclid(DAY));
    (y, m)
}

pub fn add_months(t: i64, months: i64) -> i64 {
    let days = t.div_euclid(DAY);
    let secs = t.rem_euclid(DAY);
    let (y, m, d) = civil_from_days(days);
    let total = y * 12 + (m - 1) + months;
    let (ny, nm) = (total.div_euclid(12), total.rem_euclid(12) + 1);
    let nd = d.min(days_in_month(ny, nm));
    days_from_civil(ny, nm, nd) * DAY + secs
}

/// The end of a billing period of `count` × `interval` starting at `t`.
pub fn add_interval(t: i64, interval: &str, count: i64) -> i64 {
    match interval {
        "day" => t + count * DAY,
        "week" => t + count * 7 * DAY,
        "year" => add_months(t, 12 * count),
        _ => add_months(t, count),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn months_clamp_to_month_end() {
        // 2024-01-31 12:00 UTC
        let jan31 = days_from_civil(2024, 1, 31) * DAY + 43_200;
        assert_eq!(
            civil_from_days(add_months(jan31, 1).div_euclid(DAY)),
            (2024, 2, 29)
        );
        assert_eq!(
            civil_from_days(add_months(jan31, 13).div_euclid(DAY)),
            (2025, 2, 28)
        );
        assert_eq!(add_months(jan31, 1).rem_euclid(DAY), 43_200);
        assert_eq!(year_month(1_700_000_000), (2023, 11));
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        assert_eq!(add_interval(0, "week", 2), 14 * DAY);
        assert_eq!(add_interval(0, "year", 1), 365 * DAY);
    }
}
