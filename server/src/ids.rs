//! Public ids: a type prefix and random base62 text (`pay_...`, `cs_...`). Checkout session ids
//! are capabilities (whoever holds one can pay it), so every id carries at least 128 random bits.

use rand::RngCore;

const ALPHABET: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
/// 24 base62 characters = 142.9 bits.
const RANDOM_CHARS: usize = 24;

pub fn new_id(prefix: &str) -> String {
    let mut out = String::with_capacity(prefix.len() + 1 + RANDOM_CHARS);
    out.push_str(prefix);
    out.push('_');
    // The operating system's randomness, fetched in one call for the whole id (drawing each
    // character from `OsRng` made one `getrandom` call per character, which showed in profiles
    // of the write path). A byte maps to a character only below 248 = 4 × 62, so each of the 62
    // is equally likely; the rare rejected byte is replaced from the next fetch.
    let mut bytes = [0u8; 2 * RANDOM_CHARS];
    let mut made = 0;
    while made < RANDOM_CHARS {
        rand::rngs::OsRng.fill_bytes(&mut bytes);
        for &b in bytes.iter().filter(|&&b| b < 248).take(RANDOM_CHARS - made) {
            out.push(ALPHABET[usize::from(b) % ALPHABET.len()] as char);
            made += 1;
        }
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

/// A list cursor `{created_at}.{id}` (the last row of the previous page) whose id has this
/// prefix; `None` for anything else.
pub fn decode_cursor(text: &str, prefix: &str) -> Option<(i64, String)> {
    let (at, id) = text.split_once('.')?;
    let at: i64 = at.parse().ok()?;
    has_shape(id, prefix).then(|| (at, id.to_string()))
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

    #[test]
    fn every_character_is_equally_likely() {
        // 48,000 characters: about 774 of each of the 62. A plain `byte % 62` would give the
        // first eight characters a quarter more (about 968); six standard deviations (28 each)
        // either side of the mean leave room only for chance.
        let mut counts = [0u32; 62];
        for _ in 0..2_000 {
            for b in new_id("x").bytes().skip(2) {
                let at = ALPHABET.iter().position(|&a| a == b).unwrap();
                counts[at] += 1;
            }
        }
        for (i, n) in counts.iter().enumerate() {
            assert!(
                (600..=950).contains(n),
                "character {} drawn {n} times",
                ALPHABET[i] as char
            );
        }
    }
}
