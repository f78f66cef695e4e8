//! Which certificates may sign PayPal webhooks: a chain to a pinned root, and PayPal's
//! message-verification host as the leaf's name.
//!
//! What PayPal serves at `PAYPAL-CERT-URL` is the signing certificate alone (a recorded answer
//! of `api.sandbox.paypal.com/v1/notifications/certs/...` in PayPal's node SDK,
//! `test/mocks/notification.js`: one PEM block). PayPal's SDKs that verify offline bring the
//! issuing CA themselves and check the name (PayPal-Java-SDK `SSLUtil.java`: the chain against
//! `DigiCertSHA2ExtendedValidationServerCA.crt`, and a CN that starts with
//! `messageverificationcerts` and ends with `.paypal.com`; PayPal-Python-SDK and PayPal-Ruby-SDK
//! the same with `DigiCertHighAssuranceEVRootCA` as the root). paygate does the same, stricter:
//! - the chain must reach one of the pinned roots: DigiCert High Assurance EV Root CA (the root
//!   of PayPal's webhook certificates in those SDKs) or DigiCert Global Root G2 (the root PayPal
//!   announced for its endpoints from October 2024); intermediates come from the served
//!   document and from the bundle (DigiCert SHA2 Extended Validation Server CA);
//! - the leaf must be valid now, for server authentication (as PayPal's is), and named
//!   `messageverificationcerts.paypal.com` (live) or `messageverificationcerts.sandbox.paypal.com`
//!   (PayPal's sandbox), checked against its subjectAltName by webpki;
//! - in sandbox mode with paygate's own emulator, the emulator's test root replaces DigiCert's.
//!
//! If PayPal moves its webhook certificates to a CA outside these and serves no chain, offline
//! verification refuses every delivery (fails closed; PayPal retries for days) until the
//! bundle is updated; `PAYPAL_WEBHOOK_VERIFY=online` verifies through PayPal's API meanwhile
//! (docs/SECURITY.md).

use crate::providers::ProviderError;
use rsa::pkcs8::DecodePublicKey;
use rsa::RsaPublicKey;
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, ServerName, TrustAnchor, UnixTime};
use std::time::Duration;
use x509_cert::der::{Decode, Encode};

const HIGH_ASSURANCE_EV_ROOT: &str = include_str!("trust/digicert-high-assurance-ev-root-ca.pem");
const SHA2_EV_SERVER_CA: &str =
    include_str!("trust/digicert-sha2-extended-validation-server-ca.pem");

/// The live host's name in PayPal's webhook certificates.
pub const LIVE_SUBJECT: &str = "messageverificationcerts.paypal.com";
/// The sandbox host's name.
pub const SANDBOX_SUBJECT: &str = "messageverificationcerts.sandbox.paypal.com";

/// The roots, bundled intermediates and leaf name a PayPal webhook certificate must match.
#[derive(Debug, Clone)]
pub struct CertificateTrust {
    roots: Vec<TrustAnchor<'static>>,
    intermediates: Vec<CertificateDer<'static>>,
    subject: ServerName<'static>,
}

fn certificates(pem: &str) -> Vec<CertificateDer<'static>> {
    CertificateDer::pem_slice_iter(pem.as_bytes())
        .filter_map(Result::ok)
        .collect()
}

fn anchor(pem: &str) -> TrustAnchor<'static> {
    let der = certificates(pem)
        .into_iter()
        .next()
        .expect("a bundled root is a PEM certificate");
    webpki::anchor_from_trusted_cert(&der)
        .expect("a bundled root parses")
        .to_owned()
}

fn name(host: &str) -> ServerName<'static> {
    ServerName::try_from(host.to_string()).expect("a valid DNS name")
}

impl CertificateTrust {
    /// PayPal's DigiCert roots, with the name of `host`'s certificates.
    fn digicert(subject: &str) -> CertificateTrust {
        let g2 = webpki_roots::TLS_SERVER_ROOTS
            .iter()
            .find(|a| {
                // The anchor's subject DER holds the common name as plain bytes.
                a.subject
                    .as_ref()
                    .windows(b"DigiCert Global Root G2".len())
                    .any(|w| w == b"DigiCert Global Root G2")
            })
            .expect("webpki-roots carries DigiCert Global Root G2")
            .clone();
        CertificateTrust {
            roots: vec![anchor(HIGH_ASSURANCE_EV_ROOT), g2],
            intermediates: certificates(SHA2_EV_SERVER_CA),
            subject: name(subject),
        }
    }

    /// Live PayPal (`api-m.paypal.com`).
    pub fn live() -> CertificateTrust {
        CertificateTrust::digicert(LIVE_SUBJECT)
    }

    /// PayPal's sandbox (`api-m.sandbox.paypal.com`): the same roots, the sandbox name.
    pub fn paypal_sandbox() -> CertificateTrust {
        CertificateTrust::digicert(SANDBOX_SUBJECT)
    }

    /// A root and intermediates of one's own (paygate's emulator in sandbox mode, tests), with
    /// the sandbox name.
    pub fn custom(root_pem: &str, intermediates_pem: &str) -> CertificateTrust {
        CertificateTrust {
            roots: vec![anchor(root_pem)],
            intermediates: certificates(intermediates_pem),
            subject: name(SANDBOX_SUBJECT),
        }
    }

    /// The trust for the PayPal API at `api_base`: the sandbox name for PayPal's sandbox host,
    /// the live name otherwise.
    pub fn for_api_base(api_base: &str) -> CertificateTrust {
        let sandbox = url::Url::parse(api_base)
            .ok()
            .and_then(|u| u.host_str().map(|h| h.ends_with(".sandbox.paypal.com")))
            .unwrap_or(false);
        if sandbox {
            CertificateTrust::paypal_sandbox()
        } else {
            CertificateTrust::live()
        }
    }

    /// The RSA key of the first certificate in `pem` (the leaf; any further ones are offered
    /// as intermediates) once its chain, usage, name and dates check out at `now` (Unix
    /// seconds), and the time its validity ends.
    pub fn check(&self, pem: &str, now: u64) -> Result<(RsaPublicKey, u64), ProviderError> {
        let served = certificates(pem);
        let Some((leaf, extra)) = served.split_first() else {
            return Err(ProviderError::Unverified(
                "the certificate document holds no PEM certificate".into(),
            ));
        };
        let intermediates: Vec<CertificateDer<'static>> = extra
            .iter()
            .cloned()
            .chain(self.intermediates.iter().cloned())
            .collect();
        let end_entity = webpki::EndEntityCert::try_from(leaf)
            .map_err(|e| ProviderError::Unverified(format!("not a certificate: {e:?}")))?;
        end_entity
            .verify_for_usage(
                webpki::ALL_VERIFICATION_ALGS,
                &self.roots,
                &intermediates,
                UnixTime::since_unix_epoch(Duration::from_secs(now)),
                webpki::KeyUsage::server_auth(),
                None,
                None,
            )
            .map_err(|e| {
                ProviderError::Unverified(format!("certificate chain not trusted: {e:?}"))
            })?;
        end_entity
            .verify_is_valid_for_subject_name(&self.subject)
            .map_err(|e| {
                ProviderError::Unverified(format!("certificate is not PayPal's: {e:?}"))
            })?;
        // webpki checked the signature chain; the key and end of validity are read here.
        let cert = x509_cert::Certificate::from_der(leaf.as_ref())
            .map_err(|e| ProviderError::Unverified(format!("not a certificate: {e}")))?;
        let not_after = cert
            .tbs_certificate
            .validity
            .not_after
            .to_unix_duration()
            .as_secs();
        let spki = cert
            .tbs_certificate
            .subject_public_key_info
            .to_der()
            .map_err(|e| ProviderError::Unverified(format!("certificate key: {e}")))?;
        let key = RsaPublicKey::from_public_key_der(&spki)
            .map_err(|e| ProviderError::Unverified(format!("certificate key is not RSA: {e}")))?;
        Ok((key, not_after))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// PayPal's own sandbox webhook certificate of 2017 (from PayPal-Java-SDK's test resources),
    /// issued by DigiCert SHA2 Extended Validation Server CA under DigiCert High Assurance EV
    /// Root CA: the real structure the checks must accept.
    const PAYPAL_SANDBOX_2017: &str = include_str!("trust/paypal-sandbox-webhook-cert-2017.pem");
    /// 2018-06-26, inside that certificate's validity (2017-02-18 to 2019-04-26).
    const IN_2018: u64 = 1_530_000_000;

    #[test]
    fn paypal_s_real_sandbox_certificate_chains_to_the_pinned_digicert_root() {
        let (_, not_after) = CertificateTrust::paypal_sandbox()
            .check(PAYPAL_SANDBOX_2017, IN_2018)
            .expect("PayPal's certificate is trusted");
        assert_eq!(not_after, 1_556_280_000); // 2019-04-26T12:00:00Z
    }

    #[test]
    fn the_same_certificate_is_refused_for_the_live_host_expired_or_under_another_root() {
        assert!(CertificateTrust::live()
            .check(PAYPAL_SANDBOX_2017, IN_2018)
            .is_err());
        // 2026: expired.
        assert!(CertificateTrust::paypal_sandbox()
            .check(PAYPAL_SANDBOX_2017, 1_790_000_000)
            .is_err());
        // Without DigiCert's intermediate, the chain does not reach a root.
        let no_intermediate = CertificateTrust {
            intermediates: Vec::new(),
            ..CertificateTrust::paypal_sandbox()
        };
        assert!(no_intermediate.check(PAYPAL_SANDBOX_2017, IN_2018).is_err());
        // Served with its intermediate, it does.
        let chain = format!("{PAYPAL_SANDBOX_2017}\n{SHA2_EV_SERVER_CA}");
        assert!(no_intermediate.check(&chain, IN_2018).is_ok());
    }

    #[test]
    fn the_api_base_chooses_the_name() {
        let sandbox = CertificateTrust::for_api_base("https://api-m.sandbox.paypal.com");
        assert_eq!(sandbox.subject, name(SANDBOX_SUBJECT));
        let live = CertificateTrust::for_api_base("https://api-m.paypal.com");
        assert_eq!(live.subject, name(LIVE_SUBJECT));
        assert!(CertificateTrust::live()
            .check("no certificate here", IN_2018)
            .is_err());
    }
}
