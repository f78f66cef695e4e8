//! The history filters in the URL and in API requests: [`HistoryQuery`] to and from a query
//! string, under the same names as the API's (so a console URL can be shared and its query
//! passed on as is).

use shared::api::admin::{DailyStatsQuery, HistoryQuery};
use shared::api::{PaymentStatus, ProviderName};

/// Percent-encodes a query-string component: everything but the unreserved characters
/// (RFC 3986) is escaped, so `&`, `=`, `+`, `#` and spaces in a value cannot change the query.
pub fn encode(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for byte in value.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'_' | b'.' | b'~') {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

/// Decodes an `application/x-www-form-urlencoded` component (`+` is a space). A malformed
/// escape is kept as written; invalid UTF-8 becomes U+FFFD.
pub fn decode(value: &str) -> String {
    let bytes = value.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < bytes.len() => match (hex(bytes[i + 1]), hex(bytes[i + 2])) {
                (Some(hi), Some(lo)) => {
                    out.push(hi * 16 + lo);
                    i += 2;
                }
                _ => out.push(b'%'),
            },
            byte => out.push(byte),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn hex(byte: u8) -> Option<u8> {
    char::from(byte)
        .to_digit(16)
        .and_then(|digit| u8::try_from(digit).ok())
}

/// The `key=value` pairs of a query string (with or without its leading `?`), decoded.
pub fn pairs(search: &str) -> impl Iterator<Item = (String, String)> + '_ {
    search
        .trim_start_matches('?')
        .split('&')
        .filter(|pair| !pair.is_empty())
        .map(|pair| match pair.split_once('=') {
            Some((key, value)) => (decode(key), decode(value)),
            None => (decode(pair), String::new()),
        })
}

/// `key=value&...` of the non-empty pairs, encoded; empty when there are none.
pub fn join(pairs: &[(&str, String)]) -> String {
    pairs
        .iter()
        .filter(|(_, value)| !value.is_empty())
        .map(|(key, value)| format!("{}={}", encode(key), encode(value)))
        .collect::<Vec<_>>()
        .join("&")
}

/// Reads the filters from a query string. Lenient, as a URL is typed or pasted by people:
/// unknown parameters are ignored, empty values are absent, and a status or provider that does
/// not exist is dropped rather than failing the page (the server judges everything else and
/// answers a 400 the console shows).
pub fn history_from_search(search: &str) -> HistoryQuery {
    let mut query = HistoryQuery::default();
    for (key, value) in pairs(search) {
        let value = value.trim().to_string();
        if value.is_empty() {
            continue;
        }
        match key.as_str() {
            "status" => query.status = PaymentStatus::parse(&value),
            "provider" => query.provider = ProviderName::parse(&value),
            "currency" => query.currency = Some(value.to_ascii_uppercase()),
            "from" => query.from = Some(value),
            "to" => query.to = Some(value),
            "amount_min" => query.amount_min = Some(value),
            "amount_max" => query.amount_max = Some(value),
            "email" => query.email = Some(value),
            "q" => query.q = Some(value),
            "payment_link" => query.payment_link = Some(value),
            "cursor" => query.cursor = Some(value),
            "limit" => query.limit = value.parse().ok(),
            _ => {}
        }
    }
    query
}

/// The filters as a query string without the `?` (empty without filters), in a fixed order so
/// that equal filters give equal URLs.
pub fn history_to_search(query: &HistoryQuery) -> String {
    join(&history_pairs(query, true))
}

fn history_pairs(query: &HistoryQuery, paging: bool) -> Vec<(&'static str, String)> {
    let text = |value: &Option<String>| value.clone().unwrap_or_default();
    let mut pairs = vec![
        (
            "status",
            query
                .status
                .map(|s| s.as_str().to_string())
                .unwrap_or_default(),
        ),
        (
            "provider",
            query
                .provider
                .map(|p| p.as_str().to_string())
                .unwrap_or_default(),
        ),
        ("currency", text(&query.currency)),
        ("from", text(&query.from)),
        ("to", text(&query.to)),
        ("amount_min", text(&query.amount_min)),
        ("amount_max", text(&query.amount_max)),
        ("email", text(&query.email)),
        ("q", text(&query.q)),
        ("payment_link", text(&query.payment_link)),
    ];
    if paging {
        pairs.push(("cursor", text(&query.cursor)));
        pairs.push((
            "limit",
            query.limit.map(|l| l.to_string()).unwrap_or_default(),
        ));
    }
    pairs
}

fn with_search(path: &str, search: String) -> String {
    if search.is_empty() {
        path.to_string()
    } else {
        format!("{path}?{search}")
    }
}

/// The non-empty pairs of a list, for a request builder's query.
fn present(pairs: Vec<(&'static str, String)>) -> Vec<(&'static str, String)> {
    pairs.into_iter().filter(|(_, v)| !v.is_empty()).collect()
}

/// The query of `GET /admin/api/payments` for these filters and page.
pub fn history_api_query(query: &HistoryQuery) -> Vec<(&'static str, String)> {
    present(history_pairs(query, true))
}

/// `/admin/api/payments/export.csv?...`: the same filters, without the page (the export is the
/// whole filtered set).
pub fn export_csv_url(query: &HistoryQuery) -> String {
    with_search(
        "/admin/api/payments/export.csv",
        join(&history_pairs(query, false)),
    )
}

/// The filters without the page position: what changing a filter starts again from.
pub fn without_cursor(query: &HistoryQuery) -> HistoryQuery {
    HistoryQuery {
        cursor: None,
        ..query.clone()
    }
}

/// Whether any filter (not the page position) is set.
pub fn has_filters(query: &HistoryQuery) -> bool {
    !history_pairs(query, false)
        .iter()
        .all(|(_, value)| value.is_empty())
}

/// The chart's range and currency follow the history filters' date range and currency; the
/// server fills in what is absent (the last 30 days, the busiest currency).
pub fn stats_query(query: &HistoryQuery) -> DailyStatsQuery {
    DailyStatsQuery {
        from: query.from.clone(),
        to: query.to.clone(),
        currency: query.currency.clone(),
    }
}

/// The query of `GET /admin/api/stats/daily`.
pub fn stats_api_query(query: &DailyStatsQuery) -> Vec<(&'static str, String)> {
    let text = |value: &Option<String>| value.clone().unwrap_or_default();
    present(vec![
        ("from", text(&query.from)),
        ("to", text(&query.to)),
        ("currency", text(&query.currency)),
    ])
}

/// The query of `GET /admin/api/audit`: 50 entries older than `before` (the newest without it).
pub fn audit_api_query(before: Option<i64>) -> Vec<(&'static str, String)> {
    let before = before.map(|b| b.to_string()).unwrap_or_default();
    present(vec![("before", before), ("limit", "50".to_string())])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn full() -> HistoryQuery {
        HistoryQuery {
            status: Some(PaymentStatus::Succeeded),
            provider: Some(ProviderName::Paypal),
            currency: Some("USD".into()),
            from: Some("2026-11-01".into()),
            to: Some("2026-11-30".into()),
            amount_min: Some("10.00".into()),
            amount_max: Some("99.99".into()),
            email: Some("ann+test@example.com".into()),
            q: Some("pi_3 & co=1#x".into()),
            payment_link: Some("plink_1".into()),
            cursor: Some("c/1==".into()),
            limit: Some(20),
        }
    }

    #[test]
    fn round_trip() {
        let query = full();
        let search = history_to_search(&query);
        assert_eq!(
            search,
            "status=succeeded&provider=paypal&currency=USD&from=2026-11-01&to=2026-11-30\
             &amount_min=10.00&amount_max=99.99&email=ann%2Btest%40example.com\
             &q=pi_3%20%26%20co%3D1%23x&payment_link=plink_1&cursor=c%2F1%3D%3D&limit=20"
        );
        assert_eq!(history_from_search(&search), query);
        assert_eq!(history_from_search(&format!("?{search}")), query);
        assert_eq!(history_to_search(&HistoryQuery::default()), "");
        assert_eq!(history_from_search(""), HistoryQuery::default());
    }

    #[test]
    fn lenient_reading() {
        let query =
            history_from_search("status=paid&provider=&currency=eur&x=1&q=a+b&limit=no&=&&");
        assert_eq!(
            query,
            HistoryQuery {
                currency: Some("EUR".into()),
                q: Some("a b".into()),
                ..HistoryQuery::default()
            }
        );
        assert_eq!(decode("%zz%4"), "%zz%4");
        assert_eq!(decode("%C3%A9"), "é");
        assert_eq!(decode("%FF"), "\u{FFFD}");
    }

    fn owned(pairs: &[(&'static str, &str)]) -> Vec<(&'static str, String)> {
        pairs.iter().map(|(k, v)| (*k, v.to_string())).collect()
    }

    #[test]
    fn api_urls() {
        let query = full();
        assert_eq!(history_api_query(&query).len(), 12);
        assert_eq!(
            history_api_query(&query)[0],
            ("status", "succeeded".to_string())
        );
        assert!(history_api_query(&HistoryQuery::default()).is_empty());
        let csv = export_csv_url(&query);
        assert!(csv.starts_with("/admin/api/payments/export.csv?status=succeeded&"));
        assert!(!csv.contains("cursor"), "{csv}");
        assert!(!csv.contains("limit"), "{csv}");
        assert_eq!(
            export_csv_url(&HistoryQuery::default()),
            "/admin/api/payments/export.csv"
        );
        assert_eq!(
            stats_api_query(&stats_query(&query)),
            owned(&[
                ("from", "2026-11-01"),
                ("to", "2026-11-30"),
                ("currency", "USD")
            ])
        );
        assert_eq!(audit_api_query(None), owned(&[("limit", "50")]));
        assert_eq!(
            audit_api_query(Some(41)),
            owned(&[("before", "41"), ("limit", "50")])
        );
        assert!(has_filters(&query));
        assert!(!has_filters(&HistoryQuery {
            cursor: Some("c".into()),
            ..HistoryQuery::default()
        }));
    }
}
