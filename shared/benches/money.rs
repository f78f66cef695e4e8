//! Hot paths: amount parsing and formatting on every request, provider encoding per charge,
//! and the log filters on every log line.

use criterion::{black_box, criterion_group, criterion_main, Criterion};
use serde_json::json;
use shared::card::redact_card_numbers;
use shared::providers::stripe;
use shared::sanitize::sanitize_json;
use shared::{Currency, Money};

fn money(c: &mut Criterion) {
    c.bench_function("Money::parse USD 1234.56", |b| {
        b.iter(|| Money::parse(black_box("1234.56"), Currency::USD))
    });
    let m = Money::from_minor(123_456_789, Currency::USD);
    c.bench_function("Money::to_decimal_string", |b| {
        b.iter(|| black_box(m).to_decimal_string())
    });
    c.bench_function("Money::display", |b| b.iter(|| black_box(m).display()));
    let isk = Money::from_minor(12_345, Currency::ISK);
    c.bench_function("stripe::encode_amount ISK", |b| {
        b.iter(|| stripe::encode_amount(black_box(isk)))
    });
}

/// A ~200-byte log line, once clean and once carrying a card number.
fn log_lines() -> (String, String) {
    let clean = "2026-11-27T09:03:07.123Z INFO paygate::checkout: created session \
                 cs_4f9a2b7c1d8e for merchant m_19 amount=19.99 currency=USD \
                 provider=stripe request_id=req_8c1e5f2a9b3d idempotency=ik_17a2 ok";
    let with_card = clean.replace("idempotency=ik_17a2", "pan=4242 4242 4242 4242");
    (clean.to_string(), with_card)
}

fn redaction(c: &mut Criterion) {
    let (clean, with_card) = log_lines();
    assert!(matches!(
        redact_card_numbers(&clean),
        std::borrow::Cow::Borrowed(_)
    ));
    assert!(matches!(
        redact_card_numbers(&with_card),
        std::borrow::Cow::Owned(_)
    ));
    c.bench_function("redact_card_numbers clean 200B", |b| {
        b.iter(|| redact_card_numbers(black_box(&clean)).len())
    });
    c.bench_function("redact_card_numbers with card 200B", |b| {
        b.iter(|| redact_card_numbers(black_box(&with_card)).len())
    });
    let payload = json!({
        "amount": "19.99",
        "currency": "USD",
        "customer": {"email": "a@example.com", "card_number": "4242424242424242"},
        "items": [{"sku": "tee", "qty": 2}, {"note": "card 4000 0000 0000 0002"}],
        "billing": {"cvc": "123", "exp_month": 12, "city": "Oslo"}
    });
    c.bench_function("sanitize_json small nested", |b| {
        b.iter(|| {
            let mut v = payload.clone();
            sanitize_json(&mut v);
            v
        })
    });
}

criterion_group!(benches, money, redaction);
criterion_main!(benches);
