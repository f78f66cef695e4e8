//! Stripe-style object ids (`pi_...`, `evt_...`, `req_...`): a type prefix and random base62
//! text, the same format as paygate's own ids (`server/src/ids.rs`). PayPal's ids have shapes
//! of their own (`paypal::util`).

use rand::Rng;

const ALPHABET: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
/// 24 base62 characters = 142.9 bits.
const RANDOM_CHARS: usize = 24;

pub fn new_id(prefix: &str) -> String {
    let mut rng = rand::rngs::OsRng;
    let mut out = String::with_capacity(prefix.len() + 1 + RANDOM_CHARS);
    out.push_str(prefix);
    out.push('_');
    for _ in 0..RANDOM_CHARS {
        out.push(ALPHABET[rng.gen_range(0..ALPHABET.len())] as char);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_have_prefix_and_length() {
        let a = new_id("pi");
        assert_ne!(a, new_id("pi"));
        assert!(a.starts_with("pi_"));
        assert_eq!(a.len(), 3 + RANDOM_CHARS);
        assert!(a[3..].bytes().all(|b| b.is_ascii_alphanumeric()));
    }
}
