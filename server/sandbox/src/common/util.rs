//! Small helpers both emulators use: origins, civil dates, random text, counts by status.

use rand::Rng;
use serde_json::{json, Map, Value};

/// The origin (`scheme://host:port`) of an absolute http(s) URL.
pub fn origin_of(url: &str) -> Option<String> {
    let u = url::Url::parse(url).ok()?;
    if u.scheme() != "http" && u.scheme() != "https" {
        return None;
    }
    Some(u.origin().ascii_serialization())
}

/// `(year, month 1–12, day 1–31)` of a day count since 1970-01-01 (Howard Hinnant's algorithm).
pub fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (if m <= 2 { y + 1 } else { y }, m, d)
}

/// `len` characters drawn uniformly from `alphabet` (the OS's random source).
pub fn random_text(alphabet: &[u8], len: usize) -> String {
    let mut rng = rand::rngs::OsRng;
    (0..len)
        .map(|_| alphabet[rng.gen_range(0..alphabet.len())] as char)
        .collect()
}

/// `{"status": count, ...}` for `GET /_emulator/state`.
pub fn count_by_status<'a>(statuses: impl Iterator<Item = &'a str>) -> Value {
    let mut m = Map::new();
    for s in statuses {
        let n = m.get(s).and_then(Value::as_u64).unwrap_or(0);
        m.insert(s.to_string(), json!(n + 1));
    }
    Value::Object(m)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn helpers() {
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        assert_eq!(civil_from_days(11_016), (2000, 2, 29));
        assert_eq!(
            origin_of("http://localhost:3000/x?y").as_deref(),
            Some("http://localhost:3000")
        );
        assert_eq!(origin_of("javascript:alert(1)"), None);
        let t = random_text(b"ab", 40);
        assert_eq!(t.len(), 40);
        assert!(t.bytes().all(|b| b == b'a' || b == b'b'));
        assert_eq!(
            count_by_status(["A", "B", "A"].into_iter()),
            json!({"A": 2, "B": 1})
        );
    }
}
