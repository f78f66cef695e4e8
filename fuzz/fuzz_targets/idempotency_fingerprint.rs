//! The idempotency fingerprint: never panics; a JSON body and the same JSON written another way
//! (re-serialised pretty) have one fingerprint; another method or path never shares it.
#![no_main]
use libfuzzer_sys::fuzz_target;
use paygate::http::idempotency::fingerprint;

fuzz_target!(|data: &[u8]| {
    let print = fingerprint("POST", "/v1/payments", data);
    assert_eq!(print.len(), 64);
    if let Ok(value) = serde_json::from_slice::<serde_json::Value>(data) {
        let pretty = serde_json::to_vec_pretty(&value).unwrap();
        assert_eq!(fingerprint("POST", "/v1/payments", &pretty), print);
    }
    assert_ne!(fingerprint("POST", "/v1/refunds", data), print);
    assert_ne!(fingerprint("PUT", "/v1/payments", data), print);
});
