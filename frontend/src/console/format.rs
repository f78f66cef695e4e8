//! Text for people: money (exact, from integer minor units), percentages (integer arithmetic),
//! dates in the browser's locale, and labels of statuses and causes.

use shared::api::{Amount, PaymentStatus};
use shared::{Currency, Money};

/// `minor` units of the currency `code`, as `Money::display` writes it (`"$1,234.56"`,
/// `"¥1,000"`, `"KWD 1.230"`). A code that paygate does not know (it never sends one) is shown
/// as the bare count of minor units with the code, never guessed at.
pub fn money(minor: i64, code: &str) -> String {
    match Currency::from_code(code) {
        Ok(currency) => Money::from_minor(minor, currency).display(),
        Err(_) => format!("{minor} {code} (minor units)"),
    }
}

/// An API amount for display; `amount_minor` is authoritative.
pub fn amount(amount: &Amount) -> String {
    amount.money().display()
}

/// `part` of `whole` in per mille, rounded half up; `None` when `whole` is not positive (no
/// attempts: no rate at all, rather than 0 % or a division by zero).
pub fn per_mille(part: i64, whole: i64) -> Option<i64> {
    if whole <= 0 {
        return None;
    }
    let part = i128::from(part.clamp(0, whole));
    let whole = i128::from(whole);
    // Rounded half up: (2·part·1000 + whole) / (2·whole). The result is at most 1000.
    i64::try_from((part * 2000 + whole) / (whole * 2)).ok()
}

/// A per-mille value as a percentage with at most one decimal: `1000` → `"100%"`, `667` →
/// `"66.7%"`, `5` → `"0.5%"`.
pub fn percent(per_mille: i64) -> String {
    let (int, frac) = (per_mille / 10, (per_mille % 10).abs());
    if frac == 0 {
        format!("{int}%")
    } else {
        format!("{int}.{frac}%")
    }
}

/// The success rate of a day or a range: succeeded / (succeeded + failed).
pub fn success_rate(succeeded: i64, failed: i64) -> Option<i64> {
    per_mille(succeeded, succeeded.saturating_add(failed))
}

/// `"requires_payment_method"` → `"Requires payment method"`.
pub fn status_label(status: PaymentStatus) -> String {
    words(status.as_str())
}

/// A snake_case word from the API (`"sign_in_failed"`, `"requested_by_customer"`) for people.
pub fn words(snake: &str) -> String {
    let spaced = snake.replace('_', " ");
    let mut chars = spaced.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// What caused a timeline entry (`api`, `webhook`, `admin`, `reconciliation`, `widget`).
pub fn cause_label(cause: &str) -> String {
    match cause {
        "api" => "API".to_string(),
        other => words(other),
    }
}

/// Timestamps of the admin API are Unix milliseconds. A value that could only be seconds (as
/// milliseconds it would fall before March 1973) is read as seconds, so that a timestamp in the
/// other unit is still shown at the right date rather than in 1970.
pub fn millis(timestamp: i64) -> i64 {
    if timestamp.unsigned_abs() < 100_000_000_000 {
        timestamp.saturating_mul(1000)
    } else {
        timestamp
    }
}

/// Date and time in the browser's locale and time zone (`Intl.DateTimeFormat`, medium date,
/// short time).
pub fn datetime(unix_ms: i64) -> String {
    locale_format(unix_ms, &[("dateStyle", "medium"), ("timeStyle", "short")])
}

/// Date and time with seconds, for timelines where events follow each other closely.
pub fn datetime_precise(unix_ms: i64) -> String {
    locale_format(unix_ms, &[("dateStyle", "medium"), ("timeStyle", "medium")])
}

/// A `YYYY-MM-DD` day of the API (a UTC day) as a short date in the browser's locale
/// (`"Nov 3"`); the day itself when it cannot be read.
pub fn day(day: &str) -> String {
    match day_ms(day) {
        Some(ms) => locale_format(
            ms,
            &[("month", "short"), ("day", "numeric"), ("timeZone", "UTC")],
        ),
        None => day.to_string(),
    }
}

/// A `YYYY-MM-DD` day as a long date (`"November 3, 2026"`), for summaries.
pub fn day_long(day: &str) -> String {
    match day_ms(day) {
        Some(ms) => locale_format(ms, &[("dateStyle", "long"), ("timeZone", "UTC")]),
        None => day.to_string(),
    }
}

/// The ISO 8601 form for `<time datetime>`.
pub fn iso(unix_ms: i64) -> String {
    let date = js_sys::Date::new(&wasm_bindgen::JsValue::from(unix_ms as f64));
    if date.get_time().is_nan() {
        return String::new();
    }
    date.to_iso_string().into()
}

/// Midnight UTC of a `YYYY-MM-DD` day, in Unix milliseconds.
fn day_ms(day: &str) -> Option<i64> {
    let mut parts = day.splitn(3, '-');
    let (y, m, d) = (parts.next()?, parts.next()?, parts.next()?);
    let (y, m, d) = (
        y.parse::<i32>().ok()?,
        m.parse::<u32>().ok()?,
        d.parse::<u32>().ok()?,
    );
    if !(1..=12).contains(&m) || !(1..=31).contains(&d) {
        return None;
    }
    Some(days_from_civil(y, m, d) * 86_400_000)
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
fn days_from_civil(y: i32, m: u32, d: u32) -> i64 {
    let y = i64::from(y) - i64::from(m <= 2);
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let m = i64::from(m);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn locale_format(unix_ms: i64, options: &[(&str, &str)]) -> String {
    use wasm_bindgen::JsValue;
    // Milliseconds since 1970 fit an f64 exactly for any date a payment can have; this is a
    // time, never an amount of money.
    let date = js_sys::Date::new(&JsValue::from(unix_ms as f64));
    if date.get_time().is_nan() {
        return String::new();
    }
    let opts = js_sys::Object::new();
    for (key, value) in options {
        let _ = js_sys::Reflect::set(&opts, &JsValue::from_str(key), &JsValue::from_str(value));
    }
    // An empty list of locales means the browser's own.
    let format = js_sys::Intl::DateTimeFormat::new(&js_sys::Array::new(), &opts).format();
    format
        .call1(&JsValue::NULL, &date)
        .ok()
        .and_then(|text| text.as_string())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn money_in_the_currency_s_minor_units() {
        assert_eq!(money(123_456, "USD"), "$1,234.56");
        assert_eq!(money(1000, "JPY"), "¥1,000");
        assert_eq!(money(1230, "KWD"), "KWD 1.230");
        assert_eq!(money(5, "usd"), "$0.05");
        assert_eq!(money(12, "ZZZ"), "12 ZZZ (minor units)");
    }

    #[test]
    fn rates_without_floats() {
        assert_eq!(per_mille(1, 3), Some(333));
        assert_eq!(per_mille(2, 3), Some(667));
        assert_eq!(per_mille(3, 3), Some(1000));
        assert_eq!(per_mille(0, 0), None);
        assert_eq!(per_mille(5, 0), None);
        assert_eq!(success_rate(4, 1), Some(800));
        assert_eq!(success_rate(0, 0), None);
        assert_eq!(percent(1000), "100%");
        assert_eq!(percent(667), "66.7%");
        assert_eq!(percent(5), "0.5%");
        assert_eq!(percent(0), "0%");
    }

    #[test]
    fn labels() {
        assert_eq!(
            status_label(PaymentStatus::RequiresPaymentMethod),
            "Requires payment method"
        );
        assert_eq!(words("sign_in_failed"), "Sign in failed");
        assert_eq!(words(""), "");
        assert_eq!(cause_label("api"), "API");
        assert_eq!(cause_label("reconciliation"), "Reconciliation");
    }

    #[test]
    fn days_and_timestamps() {
        assert_eq!(day_ms("1970-01-01"), Some(0));
        assert_eq!(day_ms("2026-11-03"), Some(1_793_664_000_000));
        assert_eq!(day_ms("2024-02-29"), Some(1_709_164_800_000));
        assert_eq!(day_ms("2026-13-01"), None);
        assert_eq!(day_ms("soon"), None);
        assert_eq!(millis(1_793_664_000), 1_793_664_000_000);
        assert_eq!(millis(1_793_664_000_000), 1_793_664_000_000);
    }
}
