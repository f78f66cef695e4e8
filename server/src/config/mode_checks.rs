//! What each mode refuses, checked once the configuration is read. Sandbox mode must never
//! touch real money: it refuses live provider credentials. Live mode must keep none of the
//! sandbox's public defaults: no development API key, no published or made-up data key, no
//! test provider keys, no plain-HTTP public address, no unbounded webhook tolerance.

use super::{err, Config, ConfigError, SANDBOX_DATA_KEY};
use shared::api::ProviderName;
use std::time::Duration;

/// PayPal's live REST hosts (developer.paypal.com/api/rest/requests: live `api-m.paypal.com`,
/// sandbox `api-m.sandbox.paypal.com`; `api.paypal.com` is the older live name).
const PAYPAL_LIVE_HOSTS: [&str; 2] = ["api-m.paypal.com", "api.paypal.com"];
/// PayPal's sandbox REST host, the default for PayPal credentials in sandbox mode.
pub const PAYPAL_SANDBOX_API_BASE: &str = "https://api-m.sandbox.paypal.com";
/// The longest `Stripe-Signature` age live mode accepts (Stripe's libraries default to 300 s).
pub const LIVE_MAX_WEBHOOK_TOLERANCE: Duration = Duration::from_secs(600);
/// A data key drawn from a random source has about 30 distinct bytes of its 32; one with fewer
/// than this was typed by a person (`abab…`, `1111…`, a pattern from a doc or a test).
const MIN_DISTINCT_KEY_BYTES: usize = 16;

const GO_LIVE: &str = "set PAYGATE_MODE=live to take real payments";

/// Sandbox mode with a live key would charge real cards from a server that keeps the
/// sandbox's public development key and data key.
pub(super) fn sandbox(config: &Config) -> Result<(), ConfigError> {
    use secrecy::ExposeSecret;
    if let Some(key) = &config.stripe.secret_key {
        let key = key.expose_secret();
        if key.starts_with("sk_live_") || key.starts_with("rk_live_") {
            return Err(err(
                "STRIPE_SECRET_KEY",
                format!("a live Stripe key in sandbox mode: {GO_LIVE}"),
            ));
        }
    }
    if let Some(key) = &config.stripe.publishable_key {
        if key.starts_with("pk_live_") {
            return Err(err(
                "STRIPE_PUBLISHABLE_KEY",
                format!("a live Stripe key in sandbox mode: {GO_LIVE}"),
            ));
        }
    }
    if !config.paypal.emulated && is_paypal_live(&config.paypal.api_base) {
        return Err(err(
            "PAYPAL_API_BASE",
            format!(
                "PayPal credentials against PayPal's live host in sandbox mode: {GO_LIVE}, or use \
                 PayPal's sandbox ({PAYPAL_SANDBOX_API_BASE}, the default)"
            ),
        ));
    }
    Ok(())
}

/// Live mode: `data_key_hex` is `PAYGATE_DATA_KEY` as given; `http_loopback` is the explicit
/// local-testing override (`PAYGATE_ALLOW_HTTP_LOOPBACK`).
pub(super) fn live(
    config: &Config,
    data_key_hex: &str,
    http_loopback: bool,
) -> Result<(), ConfigError> {
    use secrecy::ExposeSecret;
    if config.dev_api_key.is_some() {
        return Err(err(
            "PAYGATE_DEV_API_KEY",
            "development keys are for sandbox mode; create a live key with `paygate keys create`",
        ));
    }
    if !is_random_data_key(data_key_hex) {
        return Err(err(
            "PAYGATE_DATA_KEY",
            "this key is published or not random; make one with `openssl rand -hex 32`",
        ));
    }
    if config.providers.contains(&ProviderName::Stripe) {
        if let Some(key) = &config.stripe.secret_key {
            let key = key.expose_secret();
            if !(key.starts_with("sk_live_") || key.starts_with("rk_live_")) {
                return Err(err(
                    "STRIPE_SECRET_KEY",
                    "live mode takes a live key (sk_live_ or rk_live_); test keys are for sandbox mode",
                ));
            }
        }
        if let Some(key) = &config.stripe.publishable_key {
            if !key.starts_with("pk_live_") {
                return Err(err(
                    "STRIPE_PUBLISHABLE_KEY",
                    "live mode takes a live key (pk_live_); test keys are for sandbox mode",
                ));
            }
        }
    }
    if config.providers.contains(&ProviderName::Paypal)
        && host_of(&config.paypal.api_base).is_some_and(|h| h.ends_with(".sandbox.paypal.com"))
    {
        return Err(err(
            "PAYPAL_API_BASE",
            "PayPal's sandbox host in live mode; leave PAYPAL_API_BASE unset for the live host",
        ));
    }
    let tolerance = config.stripe.webhook_tolerance;
    if tolerance.is_zero() || tolerance > LIVE_MAX_WEBHOOK_TOLERANCE {
        return Err(err(
            "STRIPE_WEBHOOK_TOLERANCE_SECS",
            format!(
                "live mode takes 1 to {} seconds (Stripe's default is 300)",
                LIVE_MAX_WEBHOOK_TOLERANCE.as_secs()
            ),
        ));
    }
    secure_url("PAYGATE_PUBLIC_URL", &config.public_url, http_loopback)?;
    for origin in &config.allowed_origins {
        secure_url("PAYGATE_ALLOWED_ORIGINS", origin, http_loopback)?;
    }
    Ok(())
}

/// https, or with the override plain http to this machine only.
fn secure_url(variable: &'static str, url: &str, http_loopback: bool) -> Result<(), ConfigError> {
    let Ok(parsed) = url::Url::parse(url) else {
        return Err(err(variable, format!("{url:?} is not a URL")));
    };
    let loopback = match parsed.host() {
        Some(url::Host::Domain(d)) => d == "localhost",
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    };
    if parsed.scheme() == "https" || (http_loopback && loopback) {
        return Ok(());
    }
    Err(err(
        variable,
        format!(
            "{url} is not https: live mode sends customers and cookies only over https \
             (PAYGATE_ALLOW_HTTP_LOOPBACK=true allows http://localhost for a local test)"
        ),
    ))
}

fn host_of(url: &str) -> Option<String> {
    url::Url::parse(url)
        .ok()
        .and_then(|u| u.host_str().map(str::to_ascii_lowercase))
}

fn is_paypal_live(api_base: &str) -> bool {
    host_of(api_base).is_some_and(|h| PAYPAL_LIVE_HOSTS.contains(&h.as_str()))
}

/// Not the sandbox's published key, and random-looking (see [`MIN_DISTINCT_KEY_BYTES`]).
fn is_random_data_key(hex: &str) -> bool {
    let hex = hex.trim().to_ascii_lowercase();
    if hex == SANDBOX_DATA_KEY {
        return false;
    }
    let mut seen = [false; 256];
    let bytes = hex.as_bytes().chunks(2).filter_map(|pair| {
        std::str::from_utf8(pair)
            .ok()
            .and_then(|p| u8::from_str_radix(p, 16).ok())
    });
    for b in bytes {
        seen[b as usize] = true;
    }
    seen.iter().filter(|s| **s).count() >= MIN_DISTINCT_KEY_BYTES
}

/// A data key made now, as an operator would (`openssl rand -hex 32`), for tests of live mode:
/// a key written in the source would be refused.
#[cfg(test)]
pub(crate) fn random_data_key() -> String {
    use rand::Rng;
    let bytes: [u8; 32] = rand::thread_rng().gen();
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(all(test, feature = "sandbox"))]
mod tests {
    use super::super::{Config, Mode};
    use super::random_data_key;
    use std::collections::BTreeMap;

    fn vars(pairs: &[(&str, String)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.clone()))
            .collect()
    }

    /// A complete, acceptable live configuration, with `changes` applied (an empty value
    /// removes the variable).
    fn live(changes: &[(&str, &str)]) -> BTreeMap<String, String> {
        let mut v = vars(&[
            ("PAYGATE_MODE", "live".into()),
            ("PAYGATE_PUBLIC_URL", "https://pay.shop.example".into()),
            ("PAYGATE_DATA_KEY", random_data_key()),
            ("STRIPE_SECRET_KEY", "sk_live_abc".into()),
            ("STRIPE_PUBLISHABLE_KEY", "pk_live_abc".into()),
            ("STRIPE_WEBHOOK_SECRET", "whsec_abc".into()),
            ("PAYPAL_CLIENT_ID", "live-client".into()),
            ("PAYPAL_CLIENT_SECRET", "live-secret".into()),
            ("PAYPAL_WEBHOOK_ID", "WH-LIVE".into()),
        ]);
        for (k, value) in changes {
            if value.is_empty() {
                v.remove(*k);
            } else {
                v.insert(k.to_string(), value.to_string());
            }
        }
        v
    }

    fn refused(v: &BTreeMap<String, String>) -> (&'static str, String) {
        let e = Config::from_vars(v).expect_err("refused");
        (e.variable, e.message)
    }

    #[test]
    fn a_complete_live_configuration_is_accepted() {
        let c = Config::from_vars(&live(&[])).unwrap();
        assert_eq!(c.mode, Mode::Live);
        assert!(c.dev_api_key.is_none());
        assert_eq!(c.paypal.api_base, "https://api-m.paypal.com");
        let restricted = live(&[("STRIPE_SECRET_KEY", "rk_live_abc")]);
        assert!(Config::from_vars(&restricted).is_ok());
    }

    #[test]
    fn sandbox_mode_refuses_live_stripe_keys_and_says_how_to_go_live() {
        for (name, key) in [
            ("STRIPE_SECRET_KEY", "sk_live_abc"),
            ("STRIPE_SECRET_KEY", "rk_live_abc"),
            ("STRIPE_PUBLISHABLE_KEY", "pk_live_abc"),
        ] {
            let (variable, message) = refused(&vars(&[(name, key.into())]));
            assert_eq!(variable, name);
            assert!(message.contains("PAYGATE_MODE=live"), "{message}");
        }
        // Test keys against the real Stripe are what sandbox mode is for.
        let c = Config::from_vars(&vars(&[
            ("STRIPE_SECRET_KEY", "sk_test_abc".into()),
            ("STRIPE_PUBLISHABLE_KEY", "pk_test_abc".into()),
        ]))
        .unwrap();
        assert!(!c.stripe.emulated);
    }

    #[test]
    fn sandbox_paypal_credentials_go_to_paypals_sandbox_and_never_the_live_host() {
        let creds = [
            ("PAYPAL_CLIENT_ID", "sb-client".to_string()),
            ("PAYPAL_CLIENT_SECRET", "sb-secret".into()),
            ("PAYPAL_WEBHOOK_ID", "WH-SB".into()),
        ];
        let c = Config::from_vars(&vars(&creds)).unwrap();
        assert!(!c.paypal.emulated);
        assert_eq!(c.paypal.api_base, "https://api-m.sandbox.paypal.com");
        for live_host in ["https://api-m.paypal.com", "https://API.paypal.com/"] {
            let mut v = vars(&creds);
            v.insert("PAYPAL_API_BASE".into(), live_host.into());
            let (variable, message) = refused(&v);
            assert_eq!(variable, "PAYPAL_API_BASE");
            assert!(message.contains("PAYGATE_MODE=live"), "{message}");
        }
    }

    #[test]
    fn live_mode_refuses_any_development_api_key() {
        for key in ["sk_test_paygate_dev", "a-long-made-up-development-key"] {
            let (variable, _) = refused(&live(&[("PAYGATE_DEV_API_KEY", key)]));
            assert_eq!(variable, "PAYGATE_DEV_API_KEY");
        }
    }

    #[test]
    fn live_mode_refuses_the_sandbox_data_key_and_typed_ones() {
        let sandbox_key = super::SANDBOX_DATA_KEY.to_ascii_uppercase();
        for key in [
            sandbox_key.as_str(),
            &"ab".repeat(32),
            &"11".repeat(32),
            &"0123456789abcdef".repeat(4),
        ] {
            let (variable, _) = refused(&live(&[("PAYGATE_DATA_KEY", key)]));
            assert_eq!(variable, "PAYGATE_DATA_KEY", "{key}");
        }
    }

    #[test]
    fn live_mode_refuses_test_provider_keys_and_paypals_sandbox() {
        for (name, value) in [
            ("STRIPE_SECRET_KEY", "sk_test_abc"),
            ("STRIPE_SECRET_KEY", "rk_test_abc"),
            ("STRIPE_SECRET_KEY", "something_else"),
            ("STRIPE_PUBLISHABLE_KEY", "pk_test_abc"),
            ("PAYPAL_API_BASE", "https://api-m.sandbox.paypal.com"),
        ] {
            let (variable, _) = refused(&live(&[(name, value)]));
            assert_eq!(variable, name, "{value}");
        }
        // Only the enabled providers' keys are checked.
        let stripe_only = live(&[
            ("PAYGATE_PROVIDERS", "paypal"),
            ("STRIPE_SECRET_KEY", "sk_test_abc"),
        ]);
        assert!(Config::from_vars(&stripe_only).is_ok());
    }

    #[test]
    fn live_mode_takes_https_only_unless_told_to_test_on_this_machine() {
        for (name, value) in [
            ("PAYGATE_PUBLIC_URL", "http://pay.shop.example"),
            (
                "PAYGATE_ALLOWED_ORIGINS",
                "https://shop.example,http://shop.example",
            ),
        ] {
            let (variable, message) = refused(&live(&[(name, value)]));
            assert_eq!(variable, name);
            assert!(message.contains("PAYGATE_ALLOW_HTTP_LOOPBACK"), "{message}");
        }
        let local = [
            ("PAYGATE_PUBLIC_URL", "http://127.0.0.1:8080"),
            (
                "PAYGATE_ALLOWED_ORIGINS",
                "http://localhost:3000,http://[::1]:4000",
            ),
        ];
        assert_eq!(refused(&live(&local)).0, "PAYGATE_PUBLIC_URL");
        let mut allowed = local.to_vec();
        allowed.push(("PAYGATE_ALLOW_HTTP_LOOPBACK", "true"));
        assert!(Config::from_vars(&live(&allowed)).is_ok());
        // The override is for this machine only.
        let public = [
            ("PAYGATE_PUBLIC_URL", "http://pay.shop.example"),
            ("PAYGATE_ALLOW_HTTP_LOOPBACK", "true"),
        ];
        assert_eq!(refused(&live(&public)).0, "PAYGATE_PUBLIC_URL");
    }

    #[test]
    fn live_mode_refuses_an_unbounded_webhook_tolerance() {
        for secs in ["0", "601", "86400"] {
            let (variable, _) = refused(&live(&[("STRIPE_WEBHOOK_TOLERANCE_SECS", secs)]));
            assert_eq!(variable, "STRIPE_WEBHOOK_TOLERANCE_SECS", "{secs}");
        }
        assert!(Config::from_vars(&live(&[("STRIPE_WEBHOOK_TOLERANCE_SECS", "600")])).is_ok());
        // A value too large to subtract from a timestamp is refused in any mode.
        let e = Config::from_vars(&vars(&[(
            "STRIPE_WEBHOOK_TOLERANCE_SECS",
            u64::MAX.to_string(),
        )]))
        .unwrap_err();
        assert_eq!(e.variable, "STRIPE_WEBHOOK_TOLERANCE_SECS");
    }
}
