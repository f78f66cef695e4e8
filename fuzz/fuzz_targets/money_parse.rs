//! `Money::parse` on any text in any currency: never panics, and whatever it accepts formats back
//! to a decimal that parses to the same amount (exact, no rounding anywhere).
#![no_main]
use libfuzzer_sys::fuzz_target;
use shared::{Currency, Money};

fuzz_target!(|data: &[u8]| {
    let Some((&pick, text)) = data.split_first() else {
        return;
    };
    let currencies = Currency::all();
    let currency = currencies[usize::from(pick) % currencies.len()];
    let Ok(text) = std::str::from_utf8(text) else {
        return;
    };
    if let Ok(money) = Money::parse(text, currency) {
        let decimal = money.to_decimal_string();
        let again = Money::parse(&decimal, currency).expect("a formatted amount parses");
        assert_eq!(again, money, "{text:?} -> {decimal:?}");
        let _ = money.display();
    }
});
