//! `Stripe-Signature` verification (docs.stripe.com/webhooks#verify-manually):
//! `t=<unix>,v1=<hex>[,v1=...]`, HMAC-SHA256 over `"{t}.{raw body}"` keyed with the whole
//! `whsec_...` string, compared in constant time against every `v1` (several during secret
//! rotation) for every configured secret; only `v1` counts (ignoring `v0` prevents downgrades);
//! timestamps older than the tolerance are refused.

use hmac::{Hmac, Mac};
use secrecy::{ExposeSecret, SecretString};
use sha2::Sha256;
use std::time::Duration;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    #[error("missing Stripe-Signature header")]
    Missing,
    #[error("malformed Stripe-Signature header")]
    Malformed,
    #[error("no v1 signature")]
    NoV1,
    #[error("timestamp outside the tolerance")]
    Stale,
    #[error("no signature matches")]
    Mismatch,
    #[error("no webhook secret configured")]
    NoSecret,
}

pub fn verify(
    header: Option<&str>,
    body: &[u8],
    secrets: &[SecretString],
    tolerance: Duration,
    now_secs: i64,
) -> Result<i64, SignatureError> {
    if secrets.is_empty() {
        return Err(SignatureError::NoSecret);
    }
    let header = header.ok_or(SignatureError::Missing)?;
    let mut timestamp: Option<i64> = None;
    let mut v1: Vec<Vec<u8>> = Vec::new();
    for part in header.split(',') {
        let (k, v) = part
            .trim()
            .split_once('=')
            .ok_or(SignatureError::Malformed)?;
        match k {
            "t" => timestamp = Some(v.parse().map_err(|_| SignatureError::Malformed)?),
            "v1" => v1.push(hex::decode(v).map_err(|_| SignatureError::Malformed)?),
            _ => {} // v0 and future schemes are ignored on purpose.
        }
    }
    let t = timestamp.ok_or(SignatureError::Malformed)?;
    if v1.is_empty() {
        return Err(SignatureError::NoV1);
    }
    let mut matched = false;
    for secret in secrets {
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(secret.expose_secret().as_bytes())
            .expect("HMAC takes any key length");
        mac.update(t.to_string().as_bytes());
        mac.update(b".");
        mac.update(body);
        for candidate in &v1 {
            // `verify_slice` compares in constant time; every pair is checked, no early exit.
            matched |= mac.clone().verify_slice(candidate).is_ok();
        }
    }
    if !matched {
        return Err(SignatureError::Mismatch);
    }
    // Stripe's libraries refuse only old timestamps; a tolerance of 0 would disable the check,
    // so it is at least one second here.
    if t < now_secs - tolerance.as_secs().max(1) as i64 {
        return Err(SignatureError::Stale);
    }
    Ok(t)
}

#[cfg(test)]
mod tests {
    use super::*;

    // Vectors computed outside this code:
    // python3 -c 'import hmac,hashlib;print(hmac.new(b"whsec_test_secret",b"1700000000.{\"id\":\"evt_1\",\"object\":\"event\"}",hashlib.sha256).hexdigest())'
    const BODY: &[u8] = br#"{"id":"evt_1","object":"event"}"#;
    const SIG_TEST_SECRET: &str =
        "0c8670ed117751cc551a20e35839447075c42800ea3cf3e8a2fbda99cd1e6edd";
    const SIG_OLD_SECRET: &str = "921476aa6febf6d11353fcee45246000c9edf7b3938ae2d09a2d6ea5cb98d9db";

    fn secrets(list: &[&str]) -> Vec<SecretString> {
        list.iter()
            .map(|s| SecretString::from(s.to_string()))
            .collect()
    }

    const TOL: Duration = Duration::from_secs(300);

    #[test]
    fn valid_signature_within_tolerance() {
        let header = format!("t=1700000000,v1={SIG_TEST_SECRET},v0=deadbeef");
        assert_eq!(
            verify(
                Some(&header),
                BODY,
                &secrets(&["whsec_test_secret"]),
                TOL,
                1_700_000_100
            ),
            Ok(1_700_000_000)
        );
    }

    #[test]
    fn rotation_two_v1_values_and_two_secrets() {
        // Stripe signs with each active secret: either header order matches.
        let header = format!("t=1700000000,v1={SIG_OLD_SECRET},v1={SIG_TEST_SECRET}");
        assert!(verify(
            Some(&header),
            BODY,
            &secrets(&["whsec_test_secret"]),
            TOL,
            1_700_000_000
        )
        .is_ok());
        assert!(verify(
            Some(&header),
            BODY,
            &secrets(&["whsec_old_secret"]),
            TOL,
            1_700_000_000
        )
        .is_ok());
        let only_new = format!("t=1700000000,v1={SIG_TEST_SECRET}");
        assert!(verify(
            Some(&only_new),
            BODY,
            &secrets(&["whsec_old_secret", "whsec_test_secret"]),
            TOL,
            1_700_000_000
        )
        .is_ok());
    }

    #[test]
    fn failures() {
        let s = secrets(&["whsec_test_secret"]);
        let good = format!("t=1700000000,v1={SIG_TEST_SECRET}");
        assert_eq!(
            verify(None, BODY, &s, TOL, 1_700_000_000),
            Err(SignatureError::Missing)
        );
        assert_eq!(
            verify(Some("garbage"), BODY, &s, TOL, 1_700_000_000),
            Err(SignatureError::Malformed)
        );
        assert_eq!(
            verify(Some("t=1700000000,v0=00"), BODY, &s, TOL, 1_700_000_000),
            Err(SignatureError::NoV1)
        );
        assert_eq!(
            verify(Some(&good), b"{\"id\":\"evt_2\"}", &s, TOL, 1_700_000_000),
            Err(SignatureError::Mismatch)
        );
        assert_eq!(
            verify(
                Some(&good),
                BODY,
                &secrets(&["whsec_wrong"]),
                TOL,
                1_700_000_000
            ),
            Err(SignatureError::Mismatch)
        );
        assert_eq!(
            verify(Some(&good), BODY, &s, TOL, 1_700_000_301),
            Err(SignatureError::Stale)
        );
        let shifted = format!("t=1700000001,v1={SIG_TEST_SECRET}");
        assert_eq!(
            verify(Some(&shifted), BODY, &s, TOL, 1_700_000_000),
            Err(SignatureError::Mismatch)
        );
        assert_eq!(
            verify(Some(&good), BODY, &[], TOL, 1_700_000_000),
            Err(SignatureError::NoSecret)
        );
    }
}
