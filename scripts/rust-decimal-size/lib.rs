//! Built by scripts/measure-rust-decimal.sh, not part of the workspace.
//! Measures what rust_decimal adds to a wasm32 bundle that parses and formats amounts, against
//! paygate's own exact parser (shared::Money). Both variants export the same two functions.
use shared::Currency;
#[cfg(not(feature = "decimal"))]
use shared::Money;

fn input(ptr: *const u8, len: usize) -> &'static str {
    unsafe { std::str::from_utf8_unchecked(std::slice::from_raw_parts(ptr, len)) }
}

#[cfg(not(feature = "decimal"))]
#[no_mangle]
pub extern "C" fn parse(ptr: *const u8, len: usize, cur: *const u8) -> i64 {
    let c = Currency::from_code(input(cur, 3)).unwrap();
    Money::parse(input(ptr, len), c).map(|m| m.minor()).unwrap_or(-1)
}

#[cfg(not(feature = "decimal"))]
#[no_mangle]
pub extern "C" fn format(minor: i64, cur: *const u8, out: *mut u8) -> usize {
    let c = Currency::from_code(input(cur, 3)).unwrap();
    let s = Money::from_minor(minor, c).to_decimal_string();
    unsafe { std::ptr::copy_nonoverlapping(s.as_ptr(), out, s.len()) };
    s.len()
}

/// The same with rust_decimal: exact parse (no rounding), scale checked against the currency's
/// exponent, mantissa to minor units; formatting through Decimal's Display.
#[cfg(feature = "decimal")]
#[no_mangle]
pub extern "C" fn parse(ptr: *const u8, len: usize, cur: *const u8) -> i64 {
    use rust_decimal::Decimal;
    let c = Currency::from_code(input(cur, 3)).unwrap();
    let Ok(mut d) = Decimal::from_str_exact(input(ptr, len)) else { return -1 };
    if d.is_sign_negative() || d.scale() > u32::from(c.exponent()) { return -1; }
    d.rescale(u32::from(c.exponent()));
    i64::try_from(d.mantissa()).unwrap_or(-1)
}

#[cfg(feature = "decimal")]
#[no_mangle]
pub extern "C" fn format(minor: i64, cur: *const u8, out: *mut u8) -> usize {
    let c = Currency::from_code(input(cur, 3)).unwrap();
    let s = rust_decimal::Decimal::new(minor, u32::from(c.exponent())).to_string();
    unsafe { std::ptr::copy_nonoverlapping(s.as_ptr(), out, s.len()) };
    s.len()
}
