//! Small input checks shared by the request handlers; each names the field at fault.

use crate::error::ApiError;
use shared::api::Metadata;

pub fn optional_text(param: &str, value: Option<&str>, max_chars: usize) -> Result<(), ApiError> {
    if let Some(v) = value {
        if v.trim().is_empty() {
            return Err(ApiError::invalid(
                param,
                format!("{param} must not be blank."),
            ));
        }
        if v.chars().count() > max_chars {
            return Err(ApiError::invalid(
                param,
                format!("{param} must be at most {max_chars} characters."),
            ));
        }
        if v.chars().any(|c| c.is_control() && c != '\n') {
            return Err(ApiError::invalid(
                param,
                format!("{param} contains control characters."),
            ));
        }
    }
    Ok(())
}

/// Keys paygate adds to the provider's copy of an object (`paygate_payment_id`, ...): a
/// merchant's key must not take their place.
pub const RESERVED_METADATA_PREFIX: &str = "paygate_";
/// Stripe takes at most 50 keys (docs.stripe.com/metadata: "up to 50 keys"), and paygate adds
/// one of its own to each object it creates there, so a merchant has 49.
pub const MAX_METADATA_KEYS: usize = 49;

/// Stripe's limits less paygate's own key: 49 keys, keys up to 40 characters (none starting with
/// `paygate_`), values up to 500.
pub fn metadata(m: &Metadata) -> Result<(), ApiError> {
    if m.len() > MAX_METADATA_KEYS {
        return Err(ApiError::invalid(
            "metadata",
            format!(
                "metadata holds at most {MAX_METADATA_KEYS} keys (Stripe's 50 less the one paygate adds)."
            ),
        ));
    }
    for (k, v) in m {
        if k.starts_with(RESERVED_METADATA_PREFIX) {
            return Err(ApiError::invalid(
                format!("metadata[{k}]"),
                format!(
                    "metadata keys starting with {RESERVED_METADATA_PREFIX} are paygate's own."
                ),
            ));
        }
        if k.is_empty() || k.chars().count() > 40 || k.contains(['[', ']']) {
            return Err(ApiError::invalid(
                format!("metadata[{k}]"),
                "metadata keys are 1 to 40 characters, without square brackets.",
            ));
        }
        if v.chars().count() > 500 {
            return Err(ApiError::invalid(
                format!("metadata[{k}]"),
                "metadata values are at most 500 characters.",
            ));
        }
    }
    Ok(())
}

/// The key a payment made for a checkout session carries its session's id under
/// (`checkout/widget_payments.rs`).
pub const SESSION_METADATA_KEY: &str = "checkout_session";

/// A checkout session's metadata: copied onto each of its payments with the session's id added,
/// so one key fewer than [`metadata`] allows, and not that key.
pub fn session_metadata(m: &Metadata) -> Result<(), ApiError> {
    metadata(m)?;
    if m.len() > MAX_METADATA_KEYS - 1 {
        return Err(ApiError::invalid(
            "metadata",
            format!(
                "A checkout session's metadata holds at most {} keys (its payments add {SESSION_METADATA_KEY}).",
                MAX_METADATA_KEYS - 1
            ),
        ));
    }
    if m.contains_key(SESSION_METADATA_KEY) {
        return Err(ApiError::invalid(
            format!("metadata[{SESSION_METADATA_KEY}]"),
            format!(
                "metadata[{SESSION_METADATA_KEY}] is set by paygate on the session's payments."
            ),
        ));
    }
    Ok(())
}

pub fn http_url(param: &str, value: &str) -> Result<(), ApiError> {
    match url::Url::parse(value) {
        Ok(u)
            if matches!(u.scheme(), "http" | "https")
                && u.host_str().is_some()
                && value.len() <= 2048 =>
        {
            Ok(())
        }
        _ => Err(ApiError::invalid(
            param,
            format!("{param} must be an absolute http(s) URL."),
        )),
    }
}

/// A deliberately loose check (one '@', something on both sides, a dot in the domain): the
/// provider and the mailbox are the real judges.
pub fn email(param: &str, value: &str) -> Result<(), ApiError> {
    let v = value.trim();
    let ok = v.len() <= 254
        && v.split_once('@').is_some_and(|(local, domain)| {
            !local.is_empty()
                && !domain.contains('@')
                && domain.contains('.')
                && !domain.starts_with('.')
                && !domain.ends_with('.')
        })
        && !v.chars().any(|c| c.is_whitespace() || c.is_control());
    if ok {
        Ok(())
    } else {
        Err(ApiError::invalid(
            param,
            format!("{param} is not a valid email address."),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails() {
        assert!(email("e", "ada@example.com").is_ok());
        for bad in [
            "", "ada", "ada@", "@x.com", "a@b", "a b@c.de", "a@b@c.de", "a@.com",
        ] {
            assert_eq!(
                email("e", bad).unwrap_err().param.as_deref(),
                Some("e"),
                "{bad}"
            );
        }
    }

    #[test]
    fn urls_and_text() {
        assert!(http_url("u", "https://shop.example/ok").is_ok());
        assert!(http_url("u", "javascript:alert(1)").is_err());
        assert!(http_url("u", "/relative").is_err());
        assert!(optional_text("d", Some("  "), 10).is_err());
        assert!(optional_text("d", Some("12345678901"), 10).is_err());
        assert!(optional_text("d", Some("fine"), 10).is_ok());
        assert!(optional_text("d", None, 10).is_ok());
    }

    #[test]
    fn metadata_limits() {
        let mut m = Metadata::new();
        m.insert("order".into(), "42".into());
        assert!(metadata(&m).is_ok());
        m.insert("x".repeat(41), "v".into());
        assert!(metadata(&m).is_err());
        let mut m = Metadata::new();
        m.insert("k".into(), "v".repeat(501));
        assert_eq!(
            metadata(&m).unwrap_err().param.as_deref(),
            Some("metadata[k]")
        );
        let mut m = Metadata::new();
        m.insert("paygate_payment_id".into(), "pay_forged".into());
        assert_eq!(
            metadata(&m).unwrap_err().param.as_deref(),
            Some("metadata[paygate_payment_id]")
        );
        let full: Metadata = (0..49).map(|i| (format!("k{i}"), "v".into())).collect();
        assert!(metadata(&full).is_ok());
        let over: Metadata = (0..50).map(|i| (format!("k{i}"), "v".into())).collect();
        assert_eq!(
            metadata(&over).unwrap_err().param.as_deref(),
            Some("metadata")
        );
    }
}
