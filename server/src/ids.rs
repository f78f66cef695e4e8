//! Public ids: a type prefix and random base62 text (`pay_...`, `cs_...`). Checkout session ids
//! are capabilities (whoever holds one can pay it), so every id carries at least 128 random bits.

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

/// Whether `id` looks like one of ours with this prefix (cheap rejection before a lookup).
pub fn has_shape(id: &str, prefix: &str) -> bool {
    id.strip_prefix(prefix)
        .and_then(|rest| rest.strip_prefix('_'))
        .is_some_and(|rest| {
            (RANDOM_CHARS..=64).contains(&rest.len())
                && rest.bytes().all(|b| b.is_ascii_alphanumeric())
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_have_prefix_length_and_entropy() {
        let a = new_id("cs");
        let b = new_id("cs");
        assert_ne!(a, b);
        assert!(a.starts_with("cs_"));
        assert_eq!(a.len(), 3 + RANDOM_CHARS);
        // log2(62^24) > 128
        assert!((RANDOM_CHARS as u32) * 5954 / 1000 >= 128);
        assert!(has_shape(&a, "cs"));
        assert!(!has_shape(&a, "pay"));
        assert!(!has_shape("cs_short", "cs"));
        assert!(!has_shape("cs_aaaaaaaaaaaaaaaaaaaaaaa'", "cs"));
    }
}
