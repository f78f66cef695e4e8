//! Card numbers (PANs): Luhn validation, masking, and redaction of card numbers inside free text
//! (the log filter's content pass).
//!
//! paygate never receives card numbers (they go straight to the providers' fields); these
//! helpers exist for merchants' own use and to keep an accidental PAN out of logs.

use std::borrow::Cow;

/// The Luhn (mod 10) check over ASCII digits.
fn luhn(digits: &[u8]) -> bool {
    let sum: u32 = digits
        .iter()
        .rev()
        .enumerate()
        .map(|(i, &d)| {
            let d = u32::from(d - b'0');
            if i % 2 == 1 {
                let doubled = d * 2;
                if doubled > 9 {
                    doubled - 9
                } else {
                    doubled
                }
            } else {
                d
            }
        })
        .sum();
    sum.is_multiple_of(10)
}

/// Whether `number` is a plausible card number: 12 to 19 ASCII digits once spaces and dashes
/// are removed, nothing else, passing the Luhn check.
pub fn luhn_valid(number: &str) -> bool {
    let mut digits = [0u8; 19];
    let mut n = 0;
    for b in number.bytes() {
        match b {
            b' ' | b'-' => {}
            b'0'..=b'9' if n < digits.len() => {
                digits[n] = b;
                n += 1;
            }
            _ => return false,
        }
    }
    n >= 12 && luhn(&digits[..n])
}

/// How many leading and trailing digits of an `n`-digit number may be shown: the first 6 and
/// last 4 (PCI DSS allows no more) from 13 digits up; below that, the last 4 only, and for
/// very short inputs (under 8 digits) at most half of them, so most of the number stays hidden.
fn visible(n: usize) -> (usize, usize) {
    if n >= 13 {
        (6, 4)
    } else {
        (0, (n / 2).min(4))
    }
}

/// The digits of `number` (anything else is dropped) with all but the visible ones replaced by
/// `*`: `"4242424242424242"` → `"424242******4242"`, `"4242 4242 4242 4242"` → the same.
pub fn mask_pan(number: &str) -> String {
    let n = number.bytes().filter(u8::is_ascii_digit).count();
    let (head, tail) = visible(n);
    number
        .bytes()
        .filter(u8::is_ascii_digit)
        .enumerate()
        .map(|(i, d)| {
            if i < head || i >= n - tail {
                char::from(d)
            } else {
                '*'
            }
        })
        .collect()
}

/// The first digits a real card number can start with: 3 (Amex, Diners, JCB), 4 (Visa), 5
/// (Mastercard, Maestro), 6 (Discover, UnionPay, Maestro), and 2221–2720 (Mastercard's 2-series).
/// Leaving out 1, 7, 8, 9, 0 and the rest of 2 is what keeps Unix timestamps in milli-, micro-
/// or nanoseconds (`17…`) and compact dates (`2026…`) from being taken for cards.
fn card_prefix(digits: &[u8]) -> bool {
    match digits {
        [b'3'..=b'6', ..] => true,
        [b'2', a, b, c, ..] => {
            let iin = u32::from(a - b'0') * 100 + u32::from(b - b'0') * 10 + u32::from(c - b'0');
            (221..=720).contains(&iin)
        }
        _ => false,
    }
}

/// From `start` (the first byte of a digit group), the end of the longest span of whole digit
/// groups, joined by single spaces or dashes, that has 13–19 digits, a card prefix and a valid
/// Luhn check digit.
fn card_span_end(bytes: &[u8], start: usize) -> Option<usize> {
    let mut digits = [0u8; 19];
    let mut n = 0;
    let mut best = None;
    let mut i = start;
    loop {
        while i < bytes.len() && bytes[i].is_ascii_digit() {
            if n == digits.len() {
                return best; // more than 19 digits: no longer span can match
            }
            digits[n] = bytes[i];
            n += 1;
            i += 1;
        }
        // A group ends here: a candidate end.
        if n >= 13 && card_prefix(&digits[..n]) && luhn(&digits[..n]) {
            best = Some(i);
        }
        let joined =
            i + 1 < bytes.len() && matches!(bytes[i], b' ' | b'-') && bytes[i + 1].is_ascii_digit();
        if !joined {
            return best;
        }
        i += 1;
    }
}

/// The lengths a card number starting with `digits` can have, by its issuer range (ISO/IEC
/// 7812 IINs as the card schemes publish them; summarised in Wikipedia's "Payment card number"
/// table): Visa 16 or 19 (13-digit Visas are no longer issued), Amex 15, Diners 14 (and 16 in
/// the 36/38/39 ranges Discover accepts), Mastercard 16, JCB, UnionPay and Discover 16 to 19,
/// Maestro and other 5/6 ranges 16 or 19.
fn brand_lengths(digits: &[u8]) -> &'static [usize] {
    let two = digits.get(..2).unwrap_or(digits);
    match two {
        b"34" | b"37" => &[15],
        b"30" | b"36" | b"38" | b"39" => &[14, 16],
        b"35" | b"62" | b"60" | b"64" | b"65" => &[16, 17, 18, 19],
        [b'4', ..] => &[16, 19],
        [b'5', b'1'..=b'5'] | [b'2', ..] => &[16],
        _ => &[16, 19],
    }
}

/// From `start` (the first byte of a digit run), the end of a card number followed at once by
/// more digits (`4242424242424242123`: a card and a CVC pasted together): a prefix of the run
/// that has one of its brand's lengths, is shorter than the run and passes Luhn. Only
/// prefixes: any window of a long digit run passes Luhn one time in ten, so looking inside the
/// run would mask half of every long number.
fn card_prefix_end(bytes: &[u8], start: usize) -> Option<usize> {
    let run = bytes[start..]
        .iter()
        .take_while(|b| b.is_ascii_digit())
        .count();
    let digits = &bytes[start..start + run];
    if !card_prefix(digits) {
        return None;
    }
    brand_lengths(digits)
        .iter()
        .rev()
        .find(|&&len| len < run && luhn(&digits[..len]))
        .map(|&len| start + len)
}

/// `text` with every card-number-like digit run replaced by its [`mask_pan`] form: 13–19
/// digits, possibly in groups joined by single spaces or dashes, starting like a real card
/// number and passing Luhn; and a card number followed at once by more digits, when the run
/// starts with a prefix of its brand's length that passes Luhn ([`card_prefix_end`]; the
/// rest of that run is masked whole; a run that merely contains a Luhn-valid window is left
/// alone). Overlapping matches are masked as one.
///
/// One pass over the bytes; borrows `text` and allocates nothing when nothing matches.
pub fn redact_card_numbers(text: &str) -> Cow<'_, str> {
    let bytes = text.as_bytes();
    let mut out = String::new(); // stays empty (unallocated) until the first match
    let mut copied = 0; // text[..copied] is already in `out`
                        // A match not yet written, merged on overlap: text[start..card_end] is masked as a card,
                        // and every digit of text[card_end..end] (the rest of a run a card starts) becomes '*'.
    let mut pending: Option<(usize, usize, usize)> = None;
    let mut flush = |(start, card_end, end): (usize, usize, usize), out: &mut String| {
        if out.capacity() == 0 {
            out.reserve(text.len());
        }
        out.push_str(&text[copied..start]);
        out.push_str(&mask_pan(&text[start..card_end]));
        out.extend(
            text[card_end..end]
                .chars()
                .map(|c| if c.is_ascii_digit() { '*' } else { c }),
        );
        copied = end;
    };
    let mut i = 0;
    while i < bytes.len() {
        if !bytes[i].is_ascii_digit() || (i > 0 && bytes[i - 1].is_ascii_digit()) {
            i += 1;
            continue;
        }
        // `i` starts a digit group.
        if let Some(p) = pending.filter(|&(_, _, end)| i >= end) {
            flush(p, &mut out);
            pending = None;
        }
        // A card of whole groups; else a card that starts a longer run, whose other digits
        // (a CVC, an expiry, another card) are masked with it.
        let found = match card_span_end(bytes, i) {
            Some(end) => Some((end, end)),
            None => card_prefix_end(bytes, i).map(|card_end| {
                let run = bytes[i..].iter().take_while(|b| b.is_ascii_digit()).count();
                (card_end, i + run)
            }),
        };
        if let Some((card_end, end)) = found {
            pending = Some(match pending {
                Some((start, old_card_end, old_end)) => {
                    (start, old_card_end.max(card_end), old_end.max(end))
                }
                None => (i, card_end, end),
            });
        }
        i += 1;
    }
    if let Some(p) = pending {
        flush(p, &mut out);
    }
    if out.capacity() == 0 {
        return Cow::Borrowed(text);
    }
    out.push_str(&text[copied..]);
    Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn luhn_vectors() {
        assert!(luhn_valid("4242424242424242"));
        assert!(!luhn_valid("4242424242424241"));
        assert!(luhn_valid("4000 0025 0000 3155"));
        assert!(luhn_valid("4000-0000-0000-0002"));
        assert!(luhn_valid("378282246310005")); // Amex, 15 digits
        assert!(luhn_valid("6011111111111117"));
        assert!(luhn_valid("5555555555554444"));
        assert!(luhn_valid("000000000000")); // 12 digits, Luhn-valid
        assert!(!luhn_valid("00000000000")); // 11 digits
        assert!(!luhn_valid(&"0".repeat(20)));
        assert!(!luhn_valid(""));
        assert!(!luhn_valid("4242424242424242x"));
        assert!(!luhn_valid("4242.4242.4242.4242"));
        assert!(!luhn_valid("４242424242424242"));
    }

    #[test]
    fn masking() {
        assert_eq!(mask_pan("4242424242424242"), "424242******4242");
        assert_eq!(mask_pan("4242 4242 4242 4242"), "424242******4242");
        assert_eq!(mask_pan("378282246310005"), "378282*****0005");
        assert_eq!(mask_pan("4222222222222"), "422222***2222"); // 13 digits
        assert_eq!(mask_pan("4000000000000000006"), "400000*********0006"); // 19
        assert_eq!(mask_pan("123456789012"), "********9012"); // 12: last 4 only
        assert_eq!(mask_pan("12345678"), "****5678");
        assert_eq!(mask_pan("123456"), "***456");
        assert_eq!(mask_pan("1234"), "**34");
        assert_eq!(mask_pan("1"), "*");
        assert_eq!(mask_pan(""), "");
    }

    #[test]
    fn redaction_in_text() {
        assert_eq!(
            redact_card_numbers("card 4242 4242 4242 4242 declined"),
            "card 424242******4242 declined"
        );
        assert_eq!(
            redact_card_numbers("4000-0000-0000-0002"),
            "400000******0002"
        );
        assert_eq!(
            redact_card_numbers("pan=4242424242424242&cvc=123"),
            "pan=424242******4242&cvc=123"
        );
        assert_eq!(
            redact_card_numbers("x4242424242424242y"),
            "x424242******4242y"
        );
        // Card followed by an expiry in the same spaced run: still found.
        assert_eq!(
            redact_card_numbers("4242 4242 4242 4242 1226"),
            "424242******4242 1226"
        );
        // Two cards.
        assert_eq!(
            redact_card_numbers("a 5555555555554444, b 378282246310005."),
            "a 555555******4444, b 378282*****0005."
        );
        // Non-ASCII text around a card.
        assert_eq!(
            redact_card_numbers("carte «4242424242424242» refusée"),
            "carte «424242******4242» refusée"
        );
    }

    #[test]
    fn redaction_leaves_non_cards_alone() {
        for text in [
            "order 4242424242424241",                // fails Luhn
            "id 4242424242424241424242424",          // 25 digits, no card at its start
            "id 42424242424242410",                  // 17 digits; no 16-digit card first
            "ts 1732700000000 and 1732700000000123", // ms/µs timestamps (prefix 1)
            "at 2026-11-27 09:03:07.123 UTC",        // date and time
            "compact 20261127090307123",             // starts 2026: not a 2-series card
            "4242  4242 4242 4242",                  // double space breaks the run
            "4242.4242.4242.4242",                   // dots are not card separators
            "total 1,234,567.89 USD",
            "",
            "no digits at all",
        ] {
            assert!(
                matches!(redact_card_numbers(text), Cow::Borrowed(_)),
                "{text:?} -> {}",
                redact_card_numbers(text)
            );
        }
        // A 2-series Mastercard test number is a card.
        assert_eq!(redact_card_numbers("2223003122003222"), "222300******3222");
    }

    #[test]
    fn a_card_followed_by_more_digits_is_found() {
        // A card with its CVC or expiry pasted on, in one digit run: the card masked as a
        // card, the rest of the run masked whole (a CVC must never be logged).
        assert_eq!(
            redact_card_numbers("4242424242424242123"),
            "424242******4242***"
        );
        assert_eq!(
            redact_card_numbers("pan=42424242424242421226&x"),
            "pan=424242******4242****&x"
        );
        assert_eq!(
            redact_card_numbers("amex 3782822463100051234"),
            "amex 378282*****0005****"
        );
        assert_eq!(
            redact_card_numbers("mc 555555555555444412"),
            "mc 555555******4444**"
        );
        // A 19-digit Visa followed by digits: the longest brand length that passes.
        assert_eq!(
            redact_card_numbers("4000000000000000006999"),
            "400000*********0006***"
        );
        // Digits before the card are another story (an id and a card pasted together would
        // need a window search, which masks one long number in ten).
        assert!(matches!(
            redact_card_numbers("order 91234567890 done"),
            Cow::Borrowed(_)
        ));
        // The card part of a longer run is masked even when the run is an id that happens to
        // start like a card: masking an id costs less than leaking a card.
        assert_eq!(
            redact_card_numbers("id 4242424242424242424242424"),
            "id 424242******4242*********"
        );
        // Two cards pasted together: nothing of the second is left (the fuzz target
        // card_redaction found the second in clear, then a review found a first card whose
        // longest brand length ate into the second).
        assert_eq!(
            redact_card_numbers("49906958483040114483435261195537"),
            "499069*********1448*************"
        );
        assert_eq!(
            redact_card_numbers("42424242424242425555555555554444"),
            "424242******4242****************"
        );
        // Luhn-failing prefixes of every brand length are left alone.
        assert!(matches!(
            redact_card_numbers("4242424242424241125"),
            Cow::Borrowed(_)
        ));
    }

    #[test]
    fn overlapping_matches_are_masked_together() {
        // "4 5555 5555 5555" (13 digits) passes Luhn and overlaps the card that follows it;
        // masking it alone would leave "5555 4444" of the card in clear. The union is masked.
        assert!(luhn_valid("4555555555555"));
        assert!(!luhn_valid("45555555555554444"));
        assert_eq!(
            redact_card_numbers("x 4 5555 5555 5555 4444 y"),
            "x 455555*******4444 y"
        );
    }
}
