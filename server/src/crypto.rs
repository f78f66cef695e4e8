//! Personal data at rest: AES-256-GCM encryption, and a keyed hash (blind index) beside each
//! email so exact-match search works without decrypting.
//!
//! Two sub-keys are derived from each configured data key with HMAC-SHA256 under fixed labels,
//! so the encryption key and the index key are independent.
//!
//! Key rotation: a ciphertext names the key that made it (`v2:<key id>:<base64>`), so a
//! [`DataCipher`] holds the current key, which encrypts, and previous keys, which only decrypt
//! (`PAYGATE_DATA_KEYS_PREVIOUS`) until `paygate keys rotate-data-key` has re-encrypted every
//! value (see `crate::key_rotation`). Values written before key ids existed (`v1:`) are tried
//! with each key in turn.

use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Nonce};
use base64::Engine;
use hmac::{Hmac, Mac};
use rand::RngCore;
use sha2::Sha256;
use std::sync::Arc;

type HmacSha256 = Hmac<Sha256>;

/// A 32-byte master key (`PAYGATE_DATA_KEY`, or one of `PAYGATE_DATA_KEYS_PREVIOUS`).
#[derive(Clone)]
pub struct DataKey([u8; 32]);

impl std::fmt::Debug for DataKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "DataKey({}, [REDACTED])", self.id())
    }
}

impl DataKey {
    pub fn from_hex(text: &str) -> Result<DataKey, String> {
        let bytes = hex::decode(text.trim())
            .map_err(|_| "expected 64 hexadecimal characters (32 bytes)".to_string())?;
        let key: [u8; 32] = bytes
            .try_into()
            .map_err(|_| "expected 64 hexadecimal characters (32 bytes)".to_string())?;
        Ok(DataKey(key))
    }

    /// The key's public name inside ciphertexts: 8 hex characters of a keyed hash of the key
    /// under a label of its own (it reveals nothing of the key or of the two sub-keys).
    pub fn id(&self) -> String {
        hex::encode(&self.derive(b"paygate data key id v1")[..4])
    }

    fn derive(&self, label: &[u8]) -> [u8; 32] {
        let mut mac =
            <HmacSha256 as Mac>::new_from_slice(&self.0).expect("HMAC takes any key length");
        mac.update(label);
        mac.finalize().into_bytes().into()
    }
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum CryptoError {
    #[error("ciphertext is malformed")]
    Malformed,
    #[error("ciphertext does not decrypt with the configured PAYGATE_DATA_KEY")]
    WrongKey,
    #[error(
        "ciphertext was made with data key {0}, which is neither PAYGATE_DATA_KEY nor one of \
         PAYGATE_DATA_KEYS_PREVIOUS"
    )]
    UnknownKey(String),
}

/// One key's derived material.
struct KeyMaterial {
    id: String,
    aead: Aes256Gcm,
    index_key: [u8; 32],
}

impl KeyMaterial {
    fn new(key: &DataKey) -> KeyMaterial {
        KeyMaterial {
            id: key.id(),
            aead: Aes256Gcm::new_from_slice(&key.derive(b"paygate data encryption v1"))
                .expect("32-byte key"),
            index_key: key.derive(b"paygate blind index v1"),
        }
    }

    /// The nonce followed by the ciphertext and its tag.
    fn seal(&self, nonce: [u8; 12], plaintext: &str, context: &str) -> Vec<u8> {
        let ct = self
            .aead
            .encrypt(
                Nonce::from_slice(&nonce),
                Payload {
                    msg: plaintext.as_bytes(),
                    aad: context.as_bytes(),
                },
            )
            .expect("AES-GCM encryption does not fail for in-memory buffers");
        let mut out = nonce.to_vec();
        out.extend_from_slice(&ct);
        out
    }

    fn open(&self, nonce: &[u8], ct: &[u8], context: &str) -> Result<Vec<u8>, CryptoError> {
        self.aead
            .decrypt(
                Nonce::from_slice(nonce),
                Payload {
                    msg: ct,
                    aad: context.as_bytes(),
                },
            )
            .map_err(|_| CryptoError::WrongKey)
    }

    /// A keyed tag of `id` for `purpose`: a capability a link carries. NUL separates the
    /// parts (no email, purpose or id holds one), so no tag equals an email index or another
    /// purpose's tag.
    fn capability_mac(&self, purpose: &str, id: &str) -> HmacSha256 {
        let mut mac = <HmacSha256 as Mac>::new_from_slice(&self.index_key).expect("any key length");
        mac.update(b"capability\0");
        mac.update(purpose.as_bytes());
        mac.update(b"\0");
        mac.update(id.as_bytes());
        mac
    }

    fn email_index(&self, email: &str) -> String {
        let mut mac = <HmacSha256 as Mac>::new_from_slice(&self.index_key).expect("any key length");
        mac.update(normalize_email(email).as_bytes());
        hex::encode(mac.finalize().into_bytes())
    }
}

/// The data keys in use: the first encrypts, every one decrypts.
#[derive(Clone)]
pub struct DataCipher {
    keys: Arc<[KeyMaterial]>,
}

impl std::fmt::Debug for DataCipher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("DataCipher([REDACTED])")
    }
}

/// Ciphertexts written before key ids: `v1:<base64 of nonce and ciphertext>`.
const V1: &str = "v1:";
/// Current ciphertexts: `v2:<key id>:<base64 of nonce and ciphertext>`.
const V2: &str = "v2:";

impl DataCipher {
    pub fn new(key: &DataKey) -> DataCipher {
        DataCipher::with_previous(key, &[])
    }

    /// `current` encrypts; `previous` keys (from an earlier `PAYGATE_DATA_KEY`) only decrypt.
    pub fn with_previous(current: &DataKey, previous: &[DataKey]) -> DataCipher {
        let keys: Vec<KeyMaterial> = std::iter::once(current)
            .chain(previous)
            .map(KeyMaterial::new)
            .collect();
        DataCipher { keys: keys.into() }
    }

    fn current(&self) -> &KeyMaterial {
        &self.keys[0]
    }

    /// The id of the key new values are encrypted with.
    pub fn current_key_id(&self) -> &str {
        &self.current().id
    }

    /// The ids of the decrypt-only keys, in configured order.
    pub fn previous_key_ids(&self) -> Vec<&str> {
        self.keys[1..].iter().map(|k| k.id.as_str()).collect()
    }

    /// Encrypts `plaintext` with the current key; `context` (e.g. "customers.email") is bound as
    /// associated data so a ciphertext copied into another column does not decrypt.
    pub fn encrypt(&self, plaintext: &str, context: &str) -> String {
        let key = self.current();
        let mut nonce = [0u8; 12];
        rand::thread_rng().fill_bytes(&mut nonce);
        format!(
            "{V2}{}:{}",
            key.id,
            base64::engine::general_purpose::STANDARD_NO_PAD
                .encode(key.seal(nonce, plaintext, context))
        )
    }

    pub fn decrypt(&self, stored: &str, context: &str) -> Result<String, CryptoError> {
        let plain = if let Some(rest) = stored.strip_prefix(V2) {
            let (id, body) = rest.split_once(':').ok_or(CryptoError::Malformed)?;
            let (nonce, ct) = split_sealed(body)?;
            let key = self
                .keys
                .iter()
                .find(|k| k.id == id)
                .ok_or_else(|| CryptoError::UnknownKey(id.to_string()))?;
            key.open(&nonce, &ct, context)?
        } else if let Some(body) = stored.strip_prefix(V1) {
            // No key id: whichever configured key opens it (GCM's tag tells a wrong key).
            let (nonce, ct) = split_sealed(body)?;
            self.keys
                .iter()
                .find_map(|k| k.open(&nonce, &ct, context).ok())
                .ok_or(CryptoError::WrongKey)?
        } else {
            return Err(CryptoError::Malformed);
        };
        String::from_utf8(plain).map_err(|_| CryptoError::Malformed)
    }

    /// For columns that held plaintext before they were encrypted (stored provider events,
    /// stored idempotent answers): a value in either ciphertext format is decrypted, anything
    /// else (JSON, which never starts with `v`) is an old plaintext value returned as it is.
    pub fn decrypt_or_plain(&self, stored: &str, context: &str) -> Result<String, CryptoError> {
        if is_ciphertext(stored) {
            self.decrypt(stored, context)
        } else {
            Ok(stored.to_string())
        }
    }

    /// Whether `stored` is a ciphertext under the current key (nothing for rotation to do).
    pub fn is_current(&self, stored: &str) -> bool {
        stored
            .strip_prefix(V2)
            .and_then(|rest| rest.split_once(':'))
            .is_some_and(|(id, _)| id == self.current_key_id())
    }

    /// Keyed hash of a normalised email (trimmed, lower-case) for exact-match lookups, under the
    /// current key: the value to store.
    pub fn email_index(&self, email: &str) -> String {
        self.current().email_index(email)
    }

    /// A token proving that paygate handed out a link to `id` for `purpose` (128 bits, hex):
    /// whoever holds the link may use it, and no one can make one for another id.
    pub fn capability(&self, purpose: &str, id: &str) -> String {
        let tag = self
            .current()
            .capability_mac(purpose, id)
            .finalize()
            .into_bytes();
        hex::encode(&tag[..16])
    }

    /// Whether `token` is [`DataCipher::capability`] of `id` under any configured key (a link
    /// handed out before a key rotation still works), compared in constant time.
    pub fn check_capability(&self, purpose: &str, id: &str, token: &str) -> bool {
        let Ok(given) = hex::decode(token) else {
            return false;
        };
        given.len() == 16
            && self.keys.iter().any(|k| {
                k.capability_mac(purpose, id)
                    .verify_truncated_left(&given)
                    .is_ok()
            })
    }

    /// The email's index under every configured key: what a lookup matches while a rotation has
    /// re-indexed some rows and not others.
    pub fn email_indexes(&self, email: &str) -> Vec<String> {
        self.keys.iter().map(|k| k.email_index(email)).collect()
    }
}

/// Whether a stored value is in one of the ciphertext formats.
pub fn is_ciphertext(stored: &str) -> bool {
    stored.starts_with(V1) || stored.starts_with(V2)
}

/// Base64 of a 12-byte nonce followed by ciphertext and 16-byte tag.
fn split_sealed(body: &str) -> Result<(Vec<u8>, Vec<u8>), CryptoError> {
    let mut raw = base64::engine::general_purpose::STANDARD_NO_PAD
        .decode(body)
        .map_err(|_| CryptoError::Malformed)?;
    if raw.len() < 12 + 16 {
        return Err(CryptoError::Malformed);
    }
    let ct = raw.split_off(12);
    Ok((raw, ct))
}

pub fn normalize_email(email: &str) -> String {
    email.trim().to_lowercase()
}

/// SHA-256 hex digest (API key hashes, request fingerprints).
pub fn sha256_hex(data: &[u8]) -> String {
    use sha2::Digest;
    hex::encode(Sha256::digest(data))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cipher(byte: u8) -> DataCipher {
        DataCipher::new(&DataKey([byte; 32]))
    }

    #[test]
    fn capabilities_name_one_id_and_purpose_and_survive_a_rotation() {
        let c = cipher(1);
        let token = c.capability("authenticate-payment", "pay_1");
        assert_eq!(token.len(), 32);
        assert!(c.check_capability("authenticate-payment", "pay_1", &token));
        assert!(!c.check_capability("authenticate-payment", "pay_2", &token));
        assert!(!c.check_capability("other", "pay_1", &token));
        assert!(!c.check_capability("authenticate-payment", "pay_1", ""));
        assert!(!c.check_capability("authenticate-payment", "pay_1", &token[..30]));
        assert!(!c.check_capability("authenticate-payment", "pay_1", "zz"));
        assert!(!cipher(2).check_capability("authenticate-payment", "pay_1", &token));
        // After a rotation the old key only checks: links handed out before still open.
        let rotated = DataCipher::with_previous(&DataKey([2; 32]), &[DataKey([1; 32])]);
        assert!(rotated.check_capability("authenticate-payment", "pay_1", &token));
        assert_ne!(rotated.capability("authenticate-payment", "pay_1"), token);
    }

    #[test]
    fn round_trip_and_randomised() {
        let c = cipher(1);
        let a = c.encrypt("ada@example.com", "customers.email");
        let b = c.encrypt("ada@example.com", "customers.email");
        assert_ne!(a, b, "a fresh nonce per encryption");
        assert!(!a.contains("ada"));
        assert_eq!(c.decrypt(&a, "customers.email").unwrap(), "ada@example.com");
    }

    #[test]
    fn wrong_key_or_context_or_tampering_fails() {
        let a = cipher(1).encrypt("x@y.z", "customers.email");
        assert_eq!(
            cipher(2).decrypt(&a, "customers.email"),
            Err(CryptoError::UnknownKey(DataKey([1; 32]).id()))
        );
        // A ciphertext relabelled with another configured key's id fails its tag.
        let relabelled = a.replacen(&DataKey([1; 32]).id(), &DataKey([2; 32]).id(), 1);
        assert_eq!(
            cipher(2).decrypt(&relabelled, "customers.email"),
            Err(CryptoError::WrongKey)
        );
        assert_eq!(
            cipher(1).decrypt(&a, "customers.name"),
            Err(CryptoError::WrongKey)
        );
        let mut tampered = a.clone();
        let last = tampered.pop().unwrap();
        tampered.push(if last == 'A' { 'B' } else { 'A' });
        assert!(cipher(1).decrypt(&tampered, "customers.email").is_err());
        assert_eq!(
            cipher(1).decrypt("plain", "customers.email"),
            Err(CryptoError::Malformed)
        );
        assert_eq!(
            cipher(1).decrypt("v2:nocolon", "customers.email"),
            Err(CryptoError::Malformed)
        );
    }

    #[test]
    fn blind_index_is_keyed_and_normalised() {
        let c = cipher(1);
        assert_eq!(
            c.email_index(" Ada@Example.com "),
            c.email_index("ada@example.com")
        );
        assert_ne!(
            c.email_index("ada@example.com"),
            cipher(2).email_index("ada@example.com")
        );
        assert_ne!(
            c.email_index("ada@example.com"),
            sha256_hex(b"ada@example.com")
        );
    }

    #[test]
    fn data_key_parsing() {
        assert!(DataKey::from_hex(&"0f".repeat(32)).is_ok());
        assert!(DataKey::from_hex(&"0f".repeat(31)).is_err());
        assert!(DataKey::from_hex(&"zz".repeat(32)).is_err());
        let key = DataKey([7; 32]);
        assert_eq!(
            format!("{key:?}"),
            format!("DataKey({}, [REDACTED])", key.id())
        );
        assert!(!format!("{key:?}").contains("0707"));
    }

    /// A value as versions before key ids wrote it.
    fn seal_v1(key: &DataKey, plaintext: &str, context: &str) -> String {
        let sealed = KeyMaterial::new(key).seal([9; 12], plaintext, context);
        format!(
            "v1:{}",
            base64::engine::general_purpose::STANDARD_NO_PAD.encode(sealed)
        )
    }

    #[test]
    fn ciphertexts_name_their_key_and_previous_keys_still_decrypt() {
        let (old, new) = (DataKey([1; 32]), DataKey([2; 32]));
        assert_ne!(old.id(), new.id());
        assert_eq!(old.id().len(), 8);
        let before = DataCipher::new(&old).encrypt("ada@example.com", "customers.email");
        assert!(before.starts_with(&format!("v2:{}:", old.id())), "{before}");

        let rotating = DataCipher::with_previous(&new, std::slice::from_ref(&old));
        assert_eq!(rotating.current_key_id(), new.id());
        assert_eq!(rotating.previous_key_ids(), vec![old.id().as_str()]);
        assert_eq!(
            rotating.decrypt(&before, "customers.email").unwrap(),
            "ada@example.com"
        );
        assert!(!rotating.is_current(&before));
        let after = rotating.encrypt("ada@example.com", "customers.email");
        assert!(after.starts_with(&format!("v2:{}:", new.id())), "{after}");
        assert!(rotating.is_current(&after));

        // Once the old key is dropped from the configuration its values are named, not guessed.
        let rotated = DataCipher::new(&new);
        assert_eq!(
            rotated.decrypt(&before, "customers.email"),
            Err(CryptoError::UnknownKey(old.id()))
        );
        assert_eq!(
            rotated.decrypt(&after, "customers.email").unwrap(),
            "ada@example.com"
        );
    }

    #[test]
    fn values_from_before_key_ids_decrypt_with_any_configured_key() {
        let (old, new) = (DataKey([1; 32]), DataKey([2; 32]));
        let legacy = seal_v1(&old, "Ada Lovelace", "customers.name");
        let rotating = DataCipher::with_previous(&new, std::slice::from_ref(&old));
        assert_eq!(
            rotating.decrypt(&legacy, "customers.name").unwrap(),
            "Ada Lovelace"
        );
        assert!(!rotating.is_current(&legacy));
        assert_eq!(
            DataCipher::new(&new).decrypt(&legacy, "customers.name"),
            Err(CryptoError::WrongKey)
        );
        assert_eq!(
            rotating.decrypt(&legacy, "customers.email"),
            Err(CryptoError::WrongKey)
        );
    }

    #[test]
    fn formerly_plaintext_columns_accept_both_forms() {
        let c = cipher(1);
        let sealed = c.encrypt(r#"{"id":"evt_1"}"#, "provider_events.payload");
        assert_eq!(
            c.decrypt_or_plain(&sealed, "provider_events.payload")
                .unwrap(),
            r#"{"id":"evt_1"}"#
        );
        assert_eq!(
            c.decrypt_or_plain(r#"{"id":"evt_0"}"#, "provider_events.payload")
                .unwrap(),
            r#"{"id":"evt_0"}"#
        );
        // A ciphertext that fails is an error, never passed through as "plaintext".
        assert!(cipher(2)
            .decrypt_or_plain(&sealed, "provider_events.payload")
            .is_err());
        assert!(is_ciphertext(&sealed) && !is_ciphertext("{}"));
    }

    #[test]
    fn lookups_match_the_index_under_every_configured_key() {
        let (old, new) = (DataKey([1; 32]), DataKey([2; 32]));
        let rotating = DataCipher::with_previous(&new, std::slice::from_ref(&old));
        let indexes = rotating.email_indexes("Ada@Example.com");
        assert_eq!(
            indexes,
            vec![
                DataCipher::new(&new).email_index("ada@example.com"),
                DataCipher::new(&old).email_index("ada@example.com"),
            ]
        );
        assert_eq!(rotating.email_index("ada@example.com"), indexes[0]);
    }
}
