//! `Stripe-Signature` verification: any header never panics and never verifies without the
//! secret; a header made with the secret for the same body always verifies.
#![no_main]
use hmac::{Hmac, Mac};
use libfuzzer_sys::fuzz_target;
use paygate::providers::stripe::signature::verify;
use secrecy::SecretString;
use sha2::Sha256;
use std::time::Duration;

const SECRET: &str = "whsec_fuzz";
const NOW: i64 = 1_780_000_000;

fuzz_target!(|data: &[u8]| {
    let split = data.iter().position(|&b| b == 0).unwrap_or(data.len());
    let (header, body) = data.split_at(split);
    let secrets = [SecretString::from(SECRET)];
    if let Ok(header) = std::str::from_utf8(header) {
        // A random header cannot carry a valid HMAC for this body.
        assert!(verify(Some(header), body, &secrets, Duration::from_secs(300), NOW).is_err());
    }
    let t = NOW - i64::from(body.first().copied().unwrap_or(0));
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(SECRET.as_bytes()).unwrap();
    mac.update(format!("{t}.").as_bytes());
    mac.update(body);
    let good = format!("t={t},v1={}", hex::encode(mac.finalize().into_bytes()));
    assert_eq!(
        verify(Some(&good), body, &secrets, Duration::from_secs(300), NOW),
        Ok(t)
    );
});
