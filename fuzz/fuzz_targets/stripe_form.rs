//! The Stripe emulator's form parser (nested keys `a[b][0]`, lists, metadata) on any body: never
//! panics, and its canonical text does not depend on the order of the pairs.
#![no_main]
use libfuzzer_sys::fuzz_target;
use paygate_sandbox::stripe::form::Params;

fuzz_target!(|data: &[u8]| {
    let Ok(body) = std::str::from_utf8(data) else {
        return;
    };
    let params = Params::parse(body);
    let canonical = params.canonical();
    let _ = params.expand();
    let _ = params.metadata("metadata");
    let _ = params.strings("payment_method_types");
    let _ = params.int("amount");
    // The same pairs in reverse order are the same parameters, when no key repeats once
    // decoded (a repeated scalar key keeps its last value, as Stripe does) and none is nested
    // (`[]` appends, so its order counts).
    let Ok(decoded) = serde_urlencoded::from_str::<Vec<(String, String)>>(body) else {
        return;
    };
    let mut keys: Vec<&str> = decoded.iter().map(|(k, _)| k.as_str()).collect();
    let count = keys.len();
    keys.sort_unstable();
    keys.dedup();
    if keys.len() == count && !keys.iter().any(|k| k.contains('[')) {
        let reversed: Vec<&str> = body.split('&').rev().collect();
        assert_eq!(Params::parse(&reversed.join("&")).canonical(), canonical);
    }
});
