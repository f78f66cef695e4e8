//! PayPal webhook header handling before any network call: the transmission headers, the
//! transmission-time window, the certificate-host allow-list and the certificate checks, on any
//! input. Never panics; an allowed URL is always https on a paypal.com host.
#![no_main]
use http::{HeaderMap, HeaderValue};
use libfuzzer_sys::fuzz_target;
use paygate::providers::paypal::trust::CertificateTrust;
use paygate::providers::paypal::webhook::{
    cert_url_allowed, check_transmission_time, signed_message, Transmission,
};
use std::sync::OnceLock;

const NAMES: [&str; 5] = [
    "paypal-transmission-id",
    "paypal-transmission-time",
    "paypal-transmission-sig",
    "paypal-cert-url",
    "paypal-auth-algo",
];

fuzz_target!(|data: &[u8]| {
    let parts: Vec<&[u8]> = data.split(|&b| b == b'\n').collect();
    let mut headers = HeaderMap::new();
    for (name, value) in NAMES.iter().zip(parts.iter()) {
        if let Ok(v) = HeaderValue::from_bytes(value) {
            headers.insert(*name, v);
        }
    }
    if let Ok(t) = Transmission::from_headers(&headers) {
        let _ = check_transmission_time(&t.time, 1_780_000_000);
        let _ = signed_message(&t.id, &t.time, "WH-1", data);
        if cert_url_allowed(&t.cert_url, &[]) {
            // What is fetched is what was checked: https, a plain *.paypal.com host.
            let host = t
                .cert_url
                .strip_prefix("https://")
                .and_then(|rest| rest.split(['/', '?', '#']).next())
                .unwrap_or_else(|| panic!("{}", t.cert_url));
            assert!(host.ends_with(".paypal.com"), "{}", t.cert_url);
            assert!(!host.contains(['@', ':', '\\', '%']), "{}", t.cert_url);
        }
    }
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = check_transmission_time(text, 1_780_000_000);
        static TRUST: OnceLock<CertificateTrust> = OnceLock::new();
        let trust = TRUST.get_or_init(CertificateTrust::live);
        assert!(
            trust.check(text, 1_780_000_000).is_err(),
            "no fuzzed PEM is PayPal's"
        );
    }
});
