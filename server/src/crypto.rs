//! Customer personal data at rest: AES-256-GCM encryption, and a keyed hash
//! (blind index) beside each email so exact-match search works without decrypting.
//!
//! Two sub-keys are derived from the configured data key with HMAC-SHA256 under fixed labels, so
//! the encryption key and the index key are independent.

use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Nonce};
use base64::Engine;
use hmac::{Hmac, Mac};
use rand::RngCore;
use sha2::Sha256;

type HmacSha256 = Hmac<Sha256>;

/// The 32-byte master key from `PAYGATE_DATA_KEY`.
#[derive(Clone)]
pub struct DataKey([u8; 32]);

impl std::fmt::Debug for DataKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("DataKey([REDACTED])")
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
}

#[derive(Clone)]
pub struct DataCipher {
    aead: Aes256Gcm,
    index_key: [u8; 32],
}

impl std::fmt::Debug for DataCipher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("DataCipher([REDACTED])")
    }
}

/// Version prefix of stored ciphertexts, so the format can change later.
const PREFIX: &str = "v1:";

impl DataCipher {
    pub fn new(key: &DataKey) -> DataCipher {
        let enc = key.derive(b"paygate data encryption v1");
        DataCipher {
            aead: Aes256Gcm::new_from_slice(&enc).expect("32-byte key"),
            index_key: key.derive(b"paygate blind index v1"),
        }
    }

    /// Encrypts `plaintext`; `context` (e.g. "customers.email") is bound as associated data so a
    /// ciphertext copied into another column does not decrypt.
    pub fn encrypt(&self, plaintext: &str, context: &str) -> String {
        let mut nonce = [0u8; 12];
        rand::thread_rng().fill_bytes(&mut nonce);
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
        format!(
            "{PREFIX}{}",
            base64::engine::general_purpose::STANDARD_NO_PAD.encode(out)
        )
    }

    pub fn decrypt(&self, stored: &str, context: &str) -> Result<String, CryptoError> {
        let body = stored.strip_prefix(PREFIX).ok_or(CryptoError::Malformed)?;
        let raw = base64::engine::general_purpose::STANDARD_NO_PAD
            .decode(body)
            .map_err(|_| CryptoError::Malformed)?;
        if raw.len() < 12 + 16 {
            return Err(CryptoError::Malformed);
        }
        let (nonce, ct) = raw.split_at(12);
        let plain = self
            .aead
            .decrypt(
                Nonce::from_slice(nonce),
                Payload {
                    msg: ct,
                    aad: context.as_bytes(),
                },
            )
            .map_err(|_| CryptoError::WrongKey)?;
        String::from_utf8(plain).map_err(|_| CryptoError::Malformed)
    }

    /// Keyed hash of a normalised email (trimmed, lower-case) for exact-match lookups.
    pub fn email_index(&self, email: &str) -> String {
        let mut mac = <HmacSha256 as Mac>::new_from_slice(&self.index_key).expect("any key length");
        mac.update(normalize_email(email).as_bytes());
        hex::encode(mac.finalize().into_bytes())
    }
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
        assert_eq!(format!("{:?}", DataKey([7; 32])), "DataKey([REDACTED])");
    }
}
