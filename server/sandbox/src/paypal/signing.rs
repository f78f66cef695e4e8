//! PayPal's webhook signature (developer.paypal.com/api/rest/webhooks/rest): SHA256withRSA (RSASSA-PKCS1-v1_5 with
//! SHA-256) over the UTF-8 message `transmission_id|transmission_time|webhook_id|crc32`, where
//! `crc32` is the CRC-32 (IEEE, as zlib) of the raw body written as an **unsigned** decimal;
//! the signature travels base64-encoded in `PAYPAL-TRANSMISSION-SIG`.
//!
//! The key pair is fixed (generated once with `openssl genpkey -algorithm RSA -pkeyopt
//! rsa_keygen_bits:2048` and `openssl req -new -x509 -days 36500 -sha256`), committed in
//! `keys/`, and public: it signs sandbox events only. Verification uses the public key of the
//! served certificate, as a receiver does.

use base64::Engine;
use rsa::pkcs1v15::{Signature, SigningKey, VerifyingKey};
use rsa::pkcs8::{DecodePrivateKey, DecodePublicKey};
use rsa::signature::{SignatureEncoding, Signer, Verifier};
use rsa::{RsaPrivateKey, RsaPublicKey};
use sha2::Sha256;
use std::sync::OnceLock;

/// The private key (PKCS#8 PEM) that signs the emulator's webhooks. Public test material.
pub const PRIVATE_KEY_PEM: &str = include_str!("keys/webhook-signing-key.pem");
/// The certificate of that key, served at `PAYPAL-CERT-URL`: like PayPal's, the leaf alone,
/// named `messageverificationcerts.sandbox.paypal.com`, issued by an intermediate CA that the
/// verifier must bring itself ([`TEST_INTERMEDIATE_PEM`]) under a root it trusts
/// ([`TEST_ROOT_PEM`], trusted by paygate only in sandbox mode with this emulator).
pub const CERTIFICATE_PEM: &str = include_str!("keys/webhook-signing-cert.pem");
/// The emulator's test root CA (public test material; its key was discarded after issuing).
pub const TEST_ROOT_PEM: &str = include_str!("keys/test-root-ca.pem");
/// The intermediate CA that issued [`CERTIFICATE_PEM`], as DigiCert's intermediate is to PayPal's.
pub const TEST_INTERMEDIATE_PEM: &str = include_str!("keys/test-intermediate-ca.pem");
/// The certificate's name in `{public_base}/v1/notifications/certs/{name}`.
pub const CERT_NAME: &str = "CERT-paygate-sandbox";
/// The only `PAYPAL-AUTH-ALGO` PayPal uses.
pub const AUTH_ALGO: &str = "SHA256withRSA";

fn signing_key() -> &'static SigningKey<Sha256> {
    static KEY: OnceLock<SigningKey<Sha256>> = OnceLock::new();
    KEY.get_or_init(|| {
        let key = RsaPrivateKey::from_pkcs8_pem(PRIVATE_KEY_PEM)
            .expect("the committed webhook signing key is a PKCS#8 RSA key");
        SigningKey::<Sha256>::new(key)
    })
}

/// The RSA public key inside [`CERTIFICATE_PEM`].
pub fn certificate_public_key() -> &'static RsaPublicKey {
    static KEY: OnceLock<RsaPublicKey> = OnceLock::new();
    KEY.get_or_init(|| {
        use x509_cert::der::{DecodePem, Encode};
        let cert = x509_cert::Certificate::from_pem(CERTIFICATE_PEM.as_bytes())
            .expect("the committed webhook certificate is PEM X.509");
        let spki = cert
            .tbs_certificate
            .subject_public_key_info
            .to_der()
            .expect("a certificate's public key re-encodes");
        RsaPublicKey::from_public_key_der(&spki).expect("the certificate holds an RSA key")
    })
}

/// CRC-32 (IEEE) of `body` as an unsigned decimal: `2771810304`, never negative.
pub fn crc32_decimal(body: &[u8]) -> String {
    crc32fast::hash(body).to_string()
}

/// The signed message: `transmission_id|transmission_time|webhook_id|crc32(body)`.
pub fn message(
    transmission_id: &str,
    transmission_time: &str,
    webhook_id: &str,
    body: &[u8],
) -> String {
    format!(
        "{transmission_id}|{transmission_time}|{webhook_id}|{}",
        crc32_decimal(body)
    )
}

/// The base64 `PAYPAL-TRANSMISSION-SIG` for one delivery.
pub fn sign(
    transmission_id: &str,
    transmission_time: &str,
    webhook_id: &str,
    body: &[u8],
) -> String {
    let msg = message(transmission_id, transmission_time, webhook_id, body);
    let signature: Signature = signing_key().sign(msg.as_bytes());
    base64::engine::general_purpose::STANDARD.encode(signature.to_bytes())
}

/// Whether `signature_b64` is a valid signature of the delivery with the certificate's key.
pub fn verify(
    transmission_id: &str,
    transmission_time: &str,
    webhook_id: &str,
    body: &[u8],
    signature_b64: &str,
) -> bool {
    let Ok(bytes) = base64::engine::general_purpose::STANDARD.decode(signature_b64.trim()) else {
        return false;
    };
    let Ok(signature) = Signature::try_from(bytes.as_slice()) else {
        return false;
    };
    let msg = message(transmission_id, transmission_time, webhook_id, body);
    VerifyingKey::<Sha256>::new(certificate_public_key().clone())
        .verify(msg.as_bytes(), &signature)
        .is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crc_is_unsigned_decimal() {
        // python3 -c 'import zlib;print(zlib.crc32(b"{\"id\":\"WH-TEST\",\"event_type\":\"PAYMENT.CAPTURE.COMPLETED\"}"))'
        assert_eq!(
            crc32_decimal(br#"{"id":"WH-TEST","event_type":"PAYMENT.CAPTURE.COMPLETED"}"#),
            "3391999205"
        );
        assert_eq!(crc32_decimal(b""), "0");
    }

    #[test]
    fn the_certificate_holds_the_signing_key() {
        let private = RsaPrivateKey::from_pkcs8_pem(PRIVATE_KEY_PEM).unwrap();
        assert_eq!(&private.to_public_key(), certificate_public_key());
        let body = br#"{"id":"WH-1"}"#;
        let sig = sign("t-1", "2024-01-01T00:00:00Z", "WHID", body);
        assert!(verify("t-1", "2024-01-01T00:00:00Z", "WHID", body, &sig));
        assert!(!verify("t-1", "2024-01-01T00:00:00Z", "OTHER", body, &sig));
        assert!(!verify(
            "t-1",
            "2024-01-01T00:00:00Z",
            "WHID",
            br#"{"id":"WH-2"}"#,
            &sig
        ));
        assert!(!verify(
            "t-1",
            "2024-01-01T00:00:00Z",
            "WHID",
            body,
            "not base64!"
        ));
    }
}
