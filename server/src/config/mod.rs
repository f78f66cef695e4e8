//! Typed configuration, read from environment variables and an optional TOML file.
//!
//! Loading is a pure function of a map of variable names to values ([`Config::from_vars`]), so it
//! is tested without touching the process environment. Secrets are held in `secrecy` types so
//! they cannot be logged by accident (`Debug` prints `[REDACTED]`).

mod mode_checks;
#[cfg(test)]
pub(crate) use mode_checks::random_data_key;

use crate::crypto::DataKey;
use crate::http::client_addr::TrustedProxies;
use secrecy::SecretString;
use shared::api::ProviderName;
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

/// Every variable paygate reads, with its meaning; printed by `paygate --help` and the README.
pub const VARIABLES: &[(&str, &str)] = &[
    ("PAYGATE_CONFIG", "Optional TOML file whose top-level keys are these variable names; the environment wins over it."),
    ("PAYGATE_MODE", "sandbox (default: serves the provider emulators, test keys have working defaults) or live."),
    ("PAYGATE_PROVIDERS", "Enabled providers, comma-separated (default: stripe,paypal)."),
    ("PAYGATE_LISTEN", "Address to listen on (default: 127.0.0.1:8080)."),
    ("PAYGATE_SANDBOX_LISTEN", "Sandbox mode: address of the provider emulators, a second origin like js.stripe.com (default: 127.0.0.1:8081)."),
    ("PAYGATE_SANDBOX_EMULATORS", "Sandbox mode: base URL of provider emulators run as their own process by `paygate sandbox serve` (e.g. http://127.0.0.1:8081); this instance then serves none itself, so several instances share one set of emulators (default: unset, the emulators run in-process on PAYGATE_SANDBOX_LISTEN)."),
    ("PAYGATE_PUBLIC_URL", "URL customers and merchants reach paygate at (default: http://<PAYGATE_LISTEN>; live mode: https)."),
    ("PAYGATE_ALLOW_HTTP_LOOPBACK", "Live mode: accept an http:// public URL and allowed origins on this machine (localhost, 127.0.0.0/8, ::1), to try a live build locally: true or false (default: false)."),
    ("DATABASE_URL", "sqlite://FILE (default: sqlite://paygate.db) or postgres://..."),
    ("PAYGATE_MERCHANT_NAME", "Merchant display name shown in the checkout (default: Demo Shop)."),
    ("PAYGATE_DEV_API_KEY", "Sandbox mode: a merchant secret key accepted without `paygate keys create` (default: sk_test_paygate_dev); refused in live mode."),
    ("PAYGATE_ALLOWED_ORIGINS", "Merchant site origins allowed to embed the widget, comma-separated (default: the public URL's origin)."),
    ("PAYGATE_DATA_KEY", "32-byte key (64 hex chars, e.g. `openssl rand -hex 32`) encrypting customer personal data at rest; required in live mode, where the sandbox's key and typed patterns are refused."),
    ("PAYGATE_DATA_KEYS_PREVIOUS", "Data keys (comma-separated, 64 hex chars each) that only decrypt: during a rotation first the new key (before it becomes PAYGATE_DATA_KEY on every instance), then the old one while `paygate keys rotate-data-key` re-encrypts its values; drop it once that reports nothing left (default: none)."),
    ("PAYGATE_ASSETS_DIR", "Folder holding the built widget and console (default: dist)."),
    ("PAYGATE_MERCHANT_RATE_LIMIT", "Merchant API requests per second per API key, 0 = unlimited (default: 100)."),
    ("PAYGATE_WIDGET_RATE_LIMIT", "Widget API requests per second per client address (IPv6: per /64), 0 = unlimited (default: 20); each checkout session also gets a burst of 30, then one a second."),
    ("PAYGATE_TRUSTED_PROXIES", "Reverse proxies (CIDRs or addresses, comma-separated) whose X-Forwarded-For names the client for rate and sign-in limits; the rightmost address that is not a trusted proxy counts (default: none, the TCP peer counts)."),
    ("PAYGATE_HEADER_TIMEOUT_SECS", "Time a client has to send a request's headers, the first on a connection and each after an idle keep-alive pause; then the connection is closed (default: 65, above nginx's 60 s upstream keep-alive, which must stay shorter)."),
    ("PAYGATE_REQUEST_TIMEOUT_SECS", "Time limit for one HTTP request (default: 90; provider work started by a request finishes regardless)."),
    ("PAYGATE_RECONCILE_AFTER_SECS", "Open payments idle this long are re-read from their provider (default: 900; at least 60 in live mode, 1 in sandbox mode)."),
    ("PAYGATE_RECONCILE_EVERY_SECS", "How often the reconciliation and session-expiry pass runs; with several instances one of them runs each pass (default: 60)."),
    ("PAYGATE_SHUTDOWN_GRACE_SECS", "On SIGTERM or Ctrl-C: stop accepting, then wait this long at most for the requests and background work under way to finish before exiting (default: 30)."),
    ("PAYGATE_PROVIDER_TIMEOUT_SECS", "Time limit for one call to Stripe or PayPal, before a retry (default: 15)."),
    ("PAYGATE_BODY_LIMIT_BYTES", "Largest accepted request body (default: 65536)."),
    ("PAYGATE_LOG", "tracing filter (default: info)."),
    ("PAYGATE_METRICS_TOKEN", "If set (16 characters or more), /metrics answers only requests with `Authorization: Bearer <token>` (default: unset, /metrics is open)."),
    ("STRIPE_SECRET_KEY", "Stripe secret key (sk_...); required in live mode when Stripe is enabled."),
    ("STRIPE_PUBLISHABLE_KEY", "Stripe publishable key (pk_...) given to the widget."),
    ("STRIPE_WEBHOOK_SECRET", "Stripe endpoint secret(s) (whsec_...), comma-separated during rotation."),
    ("STRIPE_WEBHOOK_TOLERANCE_SECS", "Accepted age of a Stripe-Signature timestamp (default: 300; live mode: at most 600)."),
    ("STRIPE_API_BASE", "Stripe API base URL (default: https://api.stripe.com)."),
    ("STRIPE_JS_URL", "Stripe.js URL (default: https://js.stripe.com/v3/)."),
    ("PAYPAL_CLIENT_ID", "PayPal REST client id; required in live mode when PayPal is enabled."),
    ("PAYPAL_CLIENT_SECRET", "PayPal REST client secret."),
    ("PAYPAL_WEBHOOK_ID", "PayPal webhook id, used to verify PayPal webhooks."),
    ("PAYPAL_API_BASE", "PayPal API base URL (default: https://api-m.paypal.com in live mode, https://api-m.sandbox.paypal.com with PayPal credentials in sandbox mode)."),
    ("PAYPAL_WEBHOOK_VERIFY", "How PayPal webhooks are verified: offline (certificate, default) or online (PayPal's verification API)."),
    ("PAYPAL_SDK_URL", "PayPal JS SDK URL (default: https://www.paypal.com/sdk/js)."),
    ("PAYGATE_WEBHOOK_ALLOW_LOCAL", "Let merchant webhook endpoints be on loopback, link-local or private addresses: true or false (default: true in sandbox mode, false in live mode)."),
    ("REDIS_URL", "redis:// or rediss:// URL of a Redis shared by every instance: the merchant, widget and checkout-session rate limits then hold across instances instead of per instance; while Redis is unreachable each instance limits on its own (default: none, per-instance limits)."),
    ("RABBITMQ_URL", "amqp:// or amqps:// URL of a RabbitMQ broker: every event is also published there (default: none, no bus)."),
    ("RABBITMQ_EXCHANGE", "The durable topic exchange events are published to, routing key = event type (default: paygate.events)."),
];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Sandbox,
    Live,
}

#[derive(Debug, Clone)]
pub struct StripeConfig {
    /// Sandbox mode without Stripe keys: paygate's own Stripe emulator is used.
    pub emulated: bool,
    pub secret_key: Option<SecretString>,
    pub publishable_key: Option<String>,
    pub webhook_secrets: Vec<SecretString>,
    pub webhook_tolerance: Duration,
    pub api_base: String,
    pub js_url: String,
}

#[derive(Debug, Clone)]
pub struct PaypalConfig {
    /// Sandbox mode without PayPal credentials: paygate's own PayPal emulator is used.
    pub emulated: bool,
    /// Verify webhooks with the certificate (true) or through PayPal's API (false).
    pub verify_offline: bool,
    pub client_id: Option<String>,
    pub client_secret: Option<SecretString>,
    pub webhook_id: Option<String>,
    pub api_base: String,
    pub sdk_url: String,
}

#[derive(Debug, Clone)]
pub struct Config {
    pub mode: Mode,
    pub providers: Vec<ProviderName>,
    pub listen: SocketAddr,
    /// Where the sandbox emulators listen (sandbox mode only).
    pub sandbox_listen: SocketAddr,
    /// `PAYGATE_SANDBOX_EMULATORS`: emulators served by another process (`paygate sandbox
    /// serve`); this instance then starts none.
    pub sandbox_emulators: Option<String>,
    pub public_url: String,
    pub database_url: SecretString,
    pub merchant_name: String,
    pub dev_api_key: Option<SecretString>,
    pub allowed_origins: Vec<String>,
    pub data_key: DataKey,
    /// `PAYGATE_DATA_KEYS_PREVIOUS`: earlier data keys, for decrypting only, while
    /// `paygate keys rotate-data-key` moves their values to `data_key`.
    pub previous_data_keys: Vec<DataKey>,
    pub assets_dir: PathBuf,
    pub merchant_rate_limit: u32,
    pub widget_rate_limit: u32,
    /// `PAYGATE_TRUSTED_PROXIES`: only these peers' `X-Forwarded-For` is believed.
    pub trusted_proxies: TrustedProxies,
    pub request_timeout: Duration,
    /// `PAYGATE_HEADER_TIMEOUT_SECS`: header-read and keep-alive idle limit per connection.
    pub header_timeout: Duration,
    pub provider_timeout: Duration,
    pub reconcile_after: Duration,
    /// `PAYGATE_RECONCILE_EVERY_SECS`: the period of the reconciliation pass.
    pub reconcile_every: Duration,
    /// `PAYGATE_SHUTDOWN_GRACE_SECS`: how long a graceful shutdown may wait.
    pub shutdown_grace: Duration,
    pub body_limit: usize,
    pub log_filter: String,
    /// `PAYGATE_METRICS_TOKEN`: the bearer token `/metrics` requires, if any.
    pub metrics_token: Option<SecretString>,
    pub stripe: StripeConfig,
    pub paypal: PaypalConfig,
    /// Merchant webhook endpoints may be on this machine or a private network
    /// (`PAYGATE_WEBHOOK_ALLOW_LOCAL`): for development only, off by default in live mode.
    pub webhook_allow_local: bool,
    /// `REDIS_URL`: the Redis the instances share their rate limits through.
    pub redis_url: Option<SecretString>,
    /// The RabbitMQ event bus (`RABBITMQ_URL`); `None`: no bus, nothing about it runs.
    pub event_bus: Option<EventBusConfig>,
}

#[derive(Debug, Clone)]
pub struct EventBusConfig {
    /// `amqp://` or `amqps://`, with credentials: a secret.
    pub url: SecretString,
    /// The durable topic exchange events are published to.
    pub exchange: String,
}

/// `RABBITMQ_URL` and `RABBITMQ_EXCHANGE`: checked here so a typo stops the start, not the
/// first publication.
fn event_bus(get: &impl Fn(&str) -> Option<String>) -> Result<Option<EventBusConfig>, ConfigError> {
    let exchange = get("RABBITMQ_EXCHANGE").unwrap_or_else(|| "paygate.events".into());
    let Some(url) = get("RABBITMQ_URL") else {
        if get("RABBITMQ_EXCHANGE").is_some() {
            return Err(err("RABBITMQ_EXCHANGE", "set without RABBITMQ_URL"));
        }
        return Ok(None);
    };
    match url::Url::parse(&url) {
        Ok(u) if u.scheme() == "amqp" || u.scheme() == "amqps" => {}
        // The message never repeats the URL: it holds a password.
        _ => return Err(err("RABBITMQ_URL", "not an amqp:// or amqps:// URL")),
    }
    // AMQP exchange names: at most 255 of letters, digits, '-', '_', '.', ':'.
    if exchange.is_empty()
        || exchange.len() > 255
        || !exchange
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_.:".contains(c))
    {
        return Err(err(
            "RABBITMQ_EXCHANGE",
            "1 to 255 letters, digits, '-', '_', '.' or ':'",
        ));
    }
    Ok(Some(EventBusConfig {
        url: SecretString::from(url),
        exchange,
    }))
}

/// A configuration problem, always naming the variable at fault.
#[derive(Debug, thiserror::Error)]
#[error("configuration error in {variable}: {message}")]
pub struct ConfigError {
    pub variable: &'static str,
    pub message: String,
}

/// `PAYGATE_DATA_KEYS_PREVIOUS`: each a valid key, none the current one, no two alike (a key id
/// must name one key).
fn previous_data_keys(text: Option<&str>, current: &DataKey) -> Result<Vec<DataKey>, ConfigError> {
    const VAR: &str = "PAYGATE_DATA_KEYS_PREVIOUS";
    let mut keys: Vec<DataKey> = Vec::new();
    for (n, part) in text
        .unwrap_or_default()
        .split(',')
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .enumerate()
    {
        let key = DataKey::from_hex(part).map_err(|m| err(VAR, format!("key {}: {m}", n + 1)))?;
        if key.id() == current.id() {
            return Err(err(
                VAR,
                format!("key {} is PAYGATE_DATA_KEY itself", n + 1),
            ));
        }
        if keys.iter().any(|k| k.id() == key.id()) {
            return Err(err(VAR, format!("key {} is listed twice", n + 1)));
        }
        keys.push(key);
    }
    Ok(keys)
}

fn err(variable: &'static str, message: impl Into<String>) -> ConfigError {
    ConfigError {
        variable,
        message: message.into(),
    }
}

/// The emulators' documented test keys and credentials (sandbox mode without provider keys),
/// defined once, by the emulators.
#[cfg(feature = "sandbox")]
pub use paygate_sandbox::defaults::{
    PAYPAL_CLIENT_ID as EMULATOR_PAYPAL_CLIENT_ID,
    PAYPAL_CLIENT_SECRET as EMULATOR_PAYPAL_CLIENT_SECRET,
    PAYPAL_WEBHOOK_ID as EMULATOR_PAYPAL_WEBHOOK_ID,
    STRIPE_PUBLISHABLE_KEY as EMULATOR_STRIPE_PUBLISHABLE_KEY,
    STRIPE_SECRET_KEY as EMULATOR_STRIPE_SECRET_KEY,
    STRIPE_WEBHOOK_SECRET as EMULATOR_STRIPE_WEBHOOK_SECRET,
};
// A live-only build has no emulators; sandbox mode is refused below, so these never serve.
#[cfg(not(feature = "sandbox"))]
const EMULATOR_STRIPE_SECRET_KEY: &str = "";
#[cfg(not(feature = "sandbox"))]
const EMULATOR_STRIPE_PUBLISHABLE_KEY: &str = "";
#[cfg(not(feature = "sandbox"))]
const EMULATOR_STRIPE_WEBHOOK_SECRET: &str = "";
#[cfg(not(feature = "sandbox"))]
const EMULATOR_PAYPAL_CLIENT_ID: &str = "";
#[cfg(not(feature = "sandbox"))]
const EMULATOR_PAYPAL_CLIENT_SECRET: &str = "";
#[cfg(not(feature = "sandbox"))]
const EMULATOR_PAYPAL_WEBHOOK_ID: &str = "";

/// The sandbox's documented development key: only ever accepted in sandbox mode.
pub const SANDBOX_DEV_API_KEY: &str = "sk_test_paygate_dev";
/// The sandbox's documented data key. Sandbox data is test data; live mode has no default and
/// refuses this one.
const SANDBOX_DATA_KEY: &str = "73616e64626f782d6f6e6c792d6b65792d6e6f742d666f722d6c6976652d7573";

impl Config {
    /// Reads the process environment, after the TOML file named by `PAYGATE_CONFIG` if any.
    pub fn from_env() -> Result<Config, ConfigError> {
        let mut vars: BTreeMap<String, String> = BTreeMap::new();
        if let Ok(path) = std::env::var("PAYGATE_CONFIG") {
            vars.extend(read_toml_file(&path)?);
        }
        for (name, _) in VARIABLES {
            if let Ok(value) = std::env::var(name) {
                vars.insert((*name).to_string(), value);
            }
        }
        Config::from_vars(&vars)
    }

    pub fn from_vars(vars: &BTreeMap<String, String>) -> Result<Config, ConfigError> {
        let get = |name: &str| {
            vars.get(name)
                .map(|v| v.trim().to_string())
                .filter(|v| !v.is_empty())
        };
        if let Some(unknown) = vars
            .keys()
            .find(|k| k.starts_with("PAYGATE_") && !VARIABLES.iter().any(|(n, _)| n == k))
        {
            return Err(err(
                "PAYGATE_CONFIG",
                format!("unknown setting {unknown} (see paygate --help)"),
            ));
        }

        let mode = match get("PAYGATE_MODE").as_deref() {
            None | Some("sandbox") => Mode::Sandbox,
            Some("live") => Mode::Live,
            Some(other) => {
                return Err(err(
                    "PAYGATE_MODE",
                    format!("expected sandbox or live, got {other:?}"),
                ))
            }
        };
        let sandbox = mode == Mode::Sandbox;
        if sandbox && !cfg!(feature = "sandbox") {
            return Err(err(
                "PAYGATE_MODE",
                "this paygate was built without the sandbox (the `sandbox` feature); set PAYGATE_MODE=live".to_string(),
            ));
        }

        let providers = match get("PAYGATE_PROVIDERS") {
            None => ProviderName::ALL.to_vec(),
            Some(list) => {
                let mut out = Vec::new();
                for name in list.split(',').map(str::trim).filter(|s| !s.is_empty()) {
                    let p = ProviderName::parse(name).ok_or_else(|| {
                        err(
                            "PAYGATE_PROVIDERS",
                            format!("unknown provider {name:?} (stripe, paypal)"),
                        )
                    })?;
                    if !out.contains(&p) {
                        out.push(p);
                    }
                }
                if out.is_empty() {
                    return Err(err("PAYGATE_PROVIDERS", "enable at least one provider"));
                }
                out
            }
        };

        let listen: SocketAddr = get("PAYGATE_LISTEN")
            .unwrap_or_else(|| "127.0.0.1:8080".into())
            .parse()
            .map_err(|e| err("PAYGATE_LISTEN", format!("not an address:port ({e})")))?;
        let sandbox_listen: SocketAddr = get("PAYGATE_SANDBOX_LISTEN")
            .unwrap_or_else(|| "127.0.0.1:8081".into())
            .parse()
            .map_err(|e| {
                err(
                    "PAYGATE_SANDBOX_LISTEN",
                    format!("not an address:port ({e})"),
                )
            })?;
        let public_url = match get("PAYGATE_PUBLIC_URL") {
            Some(u) => parse_origin_url("PAYGATE_PUBLIC_URL", &u)?,
            None => format!("http://{listen}"),
        };
        let public_origin = origin_of(&public_url);
        let allowed_origins = match get("PAYGATE_ALLOWED_ORIGINS") {
            Some(list) => list
                .split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(|o| parse_origin_url("PAYGATE_ALLOWED_ORIGINS", o).map(|u| origin_of(&u)))
                .collect::<Result<Vec<_>, _>>()?,
            None => vec![public_origin],
        };

        let database_url = get("DATABASE_URL").unwrap_or_else(|| "sqlite://paygate.db".into());
        if !(database_url.starts_with("sqlite:")
            || database_url.starts_with("postgres://")
            || database_url.starts_with("postgresql://"))
        {
            return Err(err(
                "DATABASE_URL",
                "expected sqlite://FILE or postgres://...",
            ));
        }

        let dev_api_key = match get("PAYGATE_DEV_API_KEY") {
            Some(k) if k.len() < 16 => {
                return Err(err("PAYGATE_DEV_API_KEY", "must be at least 16 characters"))
            }
            Some(k) => Some(SecretString::from(k)),
            None if sandbox => Some(SecretString::from(SANDBOX_DEV_API_KEY)),
            None => None,
        };

        let data_key_hex = get("PAYGATE_DATA_KEY").unwrap_or_default();
        let data_key = match get("PAYGATE_DATA_KEY") {
            Some(k) => DataKey::from_hex(&k).map_err(|m| err("PAYGATE_DATA_KEY", m))?,
            None if sandbox => DataKey::from_hex(SANDBOX_DATA_KEY).expect("valid constant"),
            None => return Err(err("PAYGATE_DATA_KEY", "required in live mode")),
        };

        let previous_data_keys =
            previous_data_keys(get("PAYGATE_DATA_KEYS_PREVIOUS").as_deref(), &data_key)?;

        let number = |name: &'static str, default: u64| -> Result<u64, ConfigError> {
            match get(name) {
                None => Ok(default),
                Some(v) => v
                    .parse::<u64>()
                    .map_err(|_| err(name, format!("expected a whole number, got {v:?}"))),
            }
        };
        let merchant_rate_limit = number("PAYGATE_MERCHANT_RATE_LIMIT", 100)? as u32;
        let widget_rate_limit = number("PAYGATE_WIDGET_RATE_LIMIT", 20)? as u32;
        let trusted_proxies =
            TrustedProxies::parse(&get("PAYGATE_TRUSTED_PROXIES").unwrap_or_default())
                .map_err(|m| err("PAYGATE_TRUSTED_PROXIES", m))?;
        let request_timeout = Duration::from_secs(number("PAYGATE_REQUEST_TIMEOUT_SECS", 90)?);
        let provider_timeout = Duration::from_secs(number("PAYGATE_PROVIDER_TIMEOUT_SECS", 15)?);
        let reconcile_after = Duration::from_secs(number("PAYGATE_RECONCILE_AFTER_SECS", 900)?);
        // A live deployment must not re-read every young payment from its provider; the
        // sandbox allows short deadlines so crash tests see reconciliation finish their work.
        if !sandbox && reconcile_after < Duration::from_secs(60) {
            return Err(err(
                "PAYGATE_RECONCILE_AFTER_SECS",
                "must be at least 60 in live mode",
            ));
        }
        if reconcile_after.is_zero() {
            return Err(err("PAYGATE_RECONCILE_AFTER_SECS", "must be at least 1"));
        }
        let reconcile_every = Duration::from_secs(number("PAYGATE_RECONCILE_EVERY_SECS", 60)?);
        let shutdown_grace = Duration::from_secs(number("PAYGATE_SHUTDOWN_GRACE_SECS", 30)?);
        if reconcile_every.is_zero() {
            return Err(err("PAYGATE_RECONCILE_EVERY_SECS", "must be at least 1"));
        }
        if provider_timeout.is_zero() {
            return Err(err("PAYGATE_PROVIDER_TIMEOUT_SECS", "must be at least 1"));
        }
        let header_timeout = Duration::from_secs(number("PAYGATE_HEADER_TIMEOUT_SECS", 65)?);
        if header_timeout.is_zero() {
            return Err(err("PAYGATE_HEADER_TIMEOUT_SECS", "must be at least 1"));
        }
        if request_timeout.is_zero() {
            return Err(err("PAYGATE_REQUEST_TIMEOUT_SECS", "must be at least 1"));
        }
        let body_limit = number("PAYGATE_BODY_LIMIT_BYTES", 64 * 1024)? as usize;
        if body_limit < 1024 {
            return Err(err("PAYGATE_BODY_LIMIT_BYTES", "must be at least 1024"));
        }

        let secret = |name: &str| get(name).map(SecretString::from);
        // Subtracted from a timestamp when a Stripe signature is checked: a day at most in any
        // mode (live mode allows less, see `mode_checks`).
        if number("STRIPE_WEBHOOK_TOLERANCE_SECS", 300)? > 86_400 {
            return Err(err(
                "STRIPE_WEBHOOK_TOLERANCE_SECS",
                "at most 86400 seconds (Stripe's default is 300)",
            ));
        }
        // Sandbox mode without Stripe keys: everything points at the emulator on the sandbox
        // address, with its documented test keys.
        let stripe_emulated = sandbox && get("STRIPE_SECRET_KEY").is_none();
        let sandbox_emulators = match get("PAYGATE_SANDBOX_EMULATORS") {
            Some(_) if !sandbox => {
                return Err(err(
                    "PAYGATE_SANDBOX_EMULATORS",
                    "the provider emulators are for sandbox mode only",
                ))
            }
            Some(u) => Some(
                parse_origin_url("PAYGATE_SANDBOX_EMULATORS", &u)?
                    .trim_end_matches('/')
                    .to_string(),
            ),
            None => None,
        };
        let emulators_root = sandbox_emulators
            .clone()
            .unwrap_or_else(|| format!("http://{sandbox_listen}"));
        let emulator_base = format!("{emulators_root}/stripe");
        let stripe = StripeConfig {
            emulated: stripe_emulated,
            secret_key: secret("STRIPE_SECRET_KEY").or_else(|| {
                stripe_emulated.then(|| SecretString::from(EMULATOR_STRIPE_SECRET_KEY))
            }),
            publishable_key: get("STRIPE_PUBLISHABLE_KEY")
                .or_else(|| stripe_emulated.then(|| EMULATOR_STRIPE_PUBLISHABLE_KEY.to_string())),
            webhook_secrets: get("STRIPE_WEBHOOK_SECRET")
                .map(|list| {
                    list.split(',')
                        .map(str::trim)
                        .filter(|s| !s.is_empty())
                        .map(|s| SecretString::from(s.to_string()))
                        .collect()
                })
                .unwrap_or_else(|| {
                    if stripe_emulated {
                        vec![SecretString::from(EMULATOR_STRIPE_WEBHOOK_SECRET)]
                    } else {
                        Vec::new()
                    }
                }),
            webhook_tolerance: Duration::from_secs(number("STRIPE_WEBHOOK_TOLERANCE_SECS", 300)?),
            api_base: match get("STRIPE_API_BASE") {
                Some(u) => parse_origin_url("STRIPE_API_BASE", &u)?,
                None if stripe_emulated => emulator_base.clone(),
                None => "https://api.stripe.com".into(),
            },
            js_url: match get("STRIPE_JS_URL") {
                Some(u) => parse_origin_url("STRIPE_JS_URL", &u)?,
                None if stripe_emulated => format!("{emulator_base}/js/v3/"),
                None => "https://js.stripe.com/v3/".into(),
            },
        };
        let paypal_emulated = sandbox && get("PAYPAL_CLIENT_ID").is_none();
        let paypal_emulator_base = format!("{emulators_root}/paypal");
        let paypal = PaypalConfig {
            emulated: paypal_emulated,
            verify_offline: match get("PAYPAL_WEBHOOK_VERIFY").as_deref() {
                None | Some("offline") => true,
                Some("online") => false,
                Some(other) => {
                    return Err(err(
                        "PAYPAL_WEBHOOK_VERIFY",
                        format!("expected offline or online, got {other:?}"),
                    ))
                }
            },
            client_id: get("PAYPAL_CLIENT_ID")
                .or_else(|| paypal_emulated.then(|| EMULATOR_PAYPAL_CLIENT_ID.to_string())),
            client_secret: secret("PAYPAL_CLIENT_SECRET").or_else(|| {
                paypal_emulated.then(|| SecretString::from(EMULATOR_PAYPAL_CLIENT_SECRET))
            }),
            webhook_id: get("PAYPAL_WEBHOOK_ID")
                .or_else(|| paypal_emulated.then(|| EMULATOR_PAYPAL_WEBHOOK_ID.to_string())),
            api_base: match get("PAYPAL_API_BASE") {
                Some(u) => parse_origin_url("PAYPAL_API_BASE", &u)?,
                None if paypal_emulated => paypal_emulator_base.clone(),
                // Sandbox credentials belong to PayPal's sandbox, never to its live host.
                None if sandbox => mode_checks::PAYPAL_SANDBOX_API_BASE.into(),
                None => "https://api-m.paypal.com".into(),
            },
            sdk_url: match get("PAYPAL_SDK_URL") {
                Some(u) => parse_origin_url("PAYPAL_SDK_URL", &u)?,
                None if paypal_emulated => format!("{paypal_emulator_base}/sdk/js"),
                None => "https://www.paypal.com/sdk/js".into(),
            },
        };

        if mode == Mode::Live {
            if providers.contains(&ProviderName::Stripe) {
                for (name, present) in [
                    ("STRIPE_SECRET_KEY", stripe.secret_key.is_some()),
                    ("STRIPE_PUBLISHABLE_KEY", stripe.publishable_key.is_some()),
                    ("STRIPE_WEBHOOK_SECRET", !stripe.webhook_secrets.is_empty()),
                ] {
                    if !present {
                        return Err(err(name, "required in live mode when Stripe is enabled"));
                    }
                }
            }
            if providers.contains(&ProviderName::Paypal) {
                for (name, present) in [
                    ("PAYPAL_CLIENT_ID", paypal.client_id.is_some()),
                    ("PAYPAL_CLIENT_SECRET", paypal.client_secret.is_some()),
                    ("PAYPAL_WEBHOOK_ID", paypal.webhook_id.is_some()),
                ] {
                    if !present {
                        return Err(err(name, "required in live mode when PayPal is enabled"));
                    }
                }
            }
        }

        let event_bus = event_bus(&get)?;
        let redis_url = match get("REDIS_URL") {
            Some(u) => {
                let parsed = url::Url::parse(&u)
                    .map_err(|e| err("REDIS_URL", format!("not a URL ({e})")))?;
                if !matches!(parsed.scheme(), "redis" | "rediss") || parsed.host_str().is_none() {
                    return Err(err(
                        "REDIS_URL",
                        "expected redis://host[:port] or rediss://...",
                    ));
                }
                Some(SecretString::from(u))
            }
            None => None,
        };
        let webhook_allow_local = match get("PAYGATE_WEBHOOK_ALLOW_LOCAL").as_deref() {
            None => sandbox,
            Some("true") => true,
            Some("false") => false,
            Some(other) => {
                return Err(err(
                    "PAYGATE_WEBHOOK_ALLOW_LOCAL",
                    format!("expected true or false, got {other:?}"),
                ))
            }
        };

        let http_loopback = match get("PAYGATE_ALLOW_HTTP_LOOPBACK").as_deref() {
            None | Some("false") => false,
            Some("true") => true,
            Some(other) => {
                return Err(err(
                    "PAYGATE_ALLOW_HTTP_LOOPBACK",
                    format!("expected true or false, got {other:?}"),
                ))
            }
        };

        let metrics_token = match get("PAYGATE_METRICS_TOKEN") {
            Some(t) if t.len() < 16 => {
                return Err(err(
                    "PAYGATE_METRICS_TOKEN",
                    "must be at least 16 characters",
                ))
            }
            t => t.map(SecretString::from),
        };

        let config = Config {
            mode,
            providers,
            listen,
            sandbox_listen,
            sandbox_emulators,
            public_url,
            database_url: SecretString::from(database_url),
            merchant_name: get("PAYGATE_MERCHANT_NAME").unwrap_or_else(|| "Demo Shop".into()),
            dev_api_key,
            allowed_origins,
            data_key,
            previous_data_keys,
            assets_dir: PathBuf::from(get("PAYGATE_ASSETS_DIR").unwrap_or_else(|| "dist".into())),
            merchant_rate_limit,
            widget_rate_limit,
            trusted_proxies,
            request_timeout,
            header_timeout,
            provider_timeout,
            reconcile_after,
            reconcile_every,
            shutdown_grace,
            body_limit,
            log_filter: get("PAYGATE_LOG").unwrap_or_else(|| "info".into()),
            metrics_token,
            stripe,
            paypal,
            webhook_allow_local,
            redis_url,
            event_bus,
        };
        match mode {
            Mode::Sandbox => mode_checks::sandbox(&config)?,
            Mode::Live => mode_checks::live(&config, &data_key_hex, http_loopback)?,
        }
        Ok(config)
    }

    /// The data keys as a cipher: `data_key` encrypts, every key decrypts.
    pub fn data_cipher(&self) -> crate::crypto::DataCipher {
        crate::crypto::DataCipher::with_previous(&self.data_key, &self.previous_data_keys)
    }

    /// After binding the sandbox listener (port 0 in tests): the emulator URLs name the port
    /// actually bound.
    pub fn rebind_sandbox(&mut self, bound: SocketAddr) {
        let from = format!("http://{}/", self.sandbox_listen);
        let to = format!("http://{bound}/");
        let mut urls: Vec<&mut String> = Vec::new();
        if self.stripe.emulated {
            urls.extend([&mut self.stripe.api_base, &mut self.stripe.js_url]);
        }
        if self.paypal.emulated {
            urls.extend([&mut self.paypal.api_base, &mut self.paypal.sdk_url]);
        }
        for url in urls {
            if url.starts_with(&from) {
                *url = url.replacen(from.trim_end_matches('/'), to.trim_end_matches('/'), 1);
            }
        }
        self.sandbox_listen = bound;
    }

    /// A sandbox configuration for tests and tools: SQLite at `database_url`, everything else
    /// defaulted.
    pub fn sandbox(database_url: &str) -> Config {
        let mut vars = BTreeMap::new();
        vars.insert("DATABASE_URL".to_string(), database_url.to_string());
        Config::from_vars(&vars).expect("sandbox defaults are valid")
    }
}

fn read_toml_file(path: &str) -> Result<BTreeMap<String, String>, ConfigError> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| err("PAYGATE_CONFIG", format!("cannot read {path}: {e}")))?;
    let table: toml::Table = text
        .parse()
        .map_err(|e| err("PAYGATE_CONFIG", format!("{path} is not valid TOML: {e}")))?;
    let mut out = BTreeMap::new();
    for (key, value) in table {
        if !VARIABLES.iter().any(|(n, _)| *n == key) {
            return Err(err(
                "PAYGATE_CONFIG",
                format!("{path}: unknown setting {key} (see paygate --help)"),
            ));
        }
        let text = match value {
            toml::Value::String(s) => s,
            toml::Value::Integer(i) => i.to_string(),
            toml::Value::Array(items) => items
                .iter()
                .map(|v| {
                    v.as_str()
                        .map(str::to_string)
                        .unwrap_or_else(|| v.to_string())
                })
                .collect::<Vec<_>>()
                .join(","),
            other => {
                return Err(err(
                    "PAYGATE_CONFIG",
                    format!("{path}: {key} must be a string, a number or a list, got {other}"),
                ))
            }
        };
        out.insert(key, text);
    }
    Ok(out)
}

/// Accepts an absolute http(s) URL and returns it without a trailing slash.
fn parse_origin_url(variable: &'static str, value: &str) -> Result<String, ConfigError> {
    let parsed = url::Url::parse(value)
        .map_err(|e| err(variable, format!("{value:?} is not a URL ({e})")))?;
    if !matches!(parsed.scheme(), "http" | "https") || parsed.host_str().is_none() {
        return Err(err(variable, format!("{value:?} must be an http(s) URL")));
    }
    Ok(value.trim_end_matches('/').to_string())
}

/// `scheme://host[:port]` of a URL (what browsers send in `Origin`).
pub fn origin_of(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(u) => u.origin().ascii_serialization(),
        Err(_) => url.to_string(),
    }
}

#[cfg(all(test, feature = "sandbox"))]
mod tests {
    use super::*;

    fn vars(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn sandbox_defaults_work_without_any_variable() {
        let c = Config::from_vars(&BTreeMap::new()).unwrap();
        assert_eq!(c.mode, Mode::Sandbox);
        assert_eq!(
            c.providers,
            vec![ProviderName::Stripe, ProviderName::Paypal]
        );
        assert_eq!(c.public_url, "http://127.0.0.1:8080");
        assert_eq!(c.allowed_origins, vec!["http://127.0.0.1:8080".to_string()]);
        assert!(c.dev_api_key.is_some());
        assert!(c.stripe.emulated);
        assert_eq!(c.stripe.api_base, "http://127.0.0.1:8081/stripe");
        assert_eq!(c.stripe.js_url, "http://127.0.0.1:8081/stripe/js/v3/");
    }

    #[test]
    fn the_event_bus_is_off_unless_configured_and_checked_when_it_is() {
        assert!(Config::from_vars(&BTreeMap::new())
            .unwrap()
            .event_bus
            .is_none());
        let on = Config::from_vars(&vars(&[("RABBITMQ_URL", "amqp://u:p@127.0.0.1:5672/%2f")]))
            .unwrap()
            .event_bus
            .unwrap();
        assert_eq!(on.exchange, "paygate.events");
        for (pairs, variable) in [
            (
                vec![("RABBITMQ_URL", "http://u:hunter2@broker")],
                "RABBITMQ_URL",
            ),
            (vec![("RABBITMQ_EXCHANGE", "x")], "RABBITMQ_EXCHANGE"),
            (
                vec![("RABBITMQ_URL", "amqp://b"), ("RABBITMQ_EXCHANGE", "a b")],
                "RABBITMQ_EXCHANGE",
            ),
        ] {
            let e = Config::from_vars(&vars(&pairs)).unwrap_err();
            assert_eq!(e.variable, variable);
            assert!(!e.to_string().contains("hunter2"), "{e}");
        }
    }

    #[test]
    fn previous_data_keys_only_decrypt_and_are_checked() {
        let (a, b) = ("aa".repeat(32), "bb".repeat(32));
        let c = Config::from_vars(&vars(&[
            ("PAYGATE_DATA_KEY", &a),
            ("PAYGATE_DATA_KEYS_PREVIOUS", &format!(" {b} ,")),
        ]))
        .unwrap();
        assert_eq!(c.previous_data_keys.len(), 1);
        let cipher = c.data_cipher();
        assert_eq!(
            cipher.current_key_id(),
            crate::crypto::DataKey::from_hex(&a).unwrap().id()
        );
        let old = crate::crypto::DataCipher::new(&crate::crypto::DataKey::from_hex(&b).unwrap());
        assert_eq!(
            cipher.decrypt(&old.encrypt("x", "t.c"), "t.c").unwrap(),
            "x"
        );
        for bad in [
            "abcd".to_string(),
            a.clone(),
            format!("{b},{b}"),
            format!("{b},zz"),
        ] {
            let e = Config::from_vars(&vars(&[
                ("PAYGATE_DATA_KEY", &a),
                ("PAYGATE_DATA_KEYS_PREVIOUS", &bad),
            ]))
            .unwrap_err();
            assert_eq!(e.variable, "PAYGATE_DATA_KEYS_PREVIOUS", "{bad}");
            assert!(
                !e.to_string().contains(&b[..16]),
                "no key in the error: {e}"
            );
        }
        assert!(Config::from_vars(&BTreeMap::new())
            .unwrap()
            .previous_data_keys
            .is_empty());
    }

    /// A complete live configuration (Stripe only) with `extra` set.
    fn live_vars(extra: &[(&str, &str)]) -> BTreeMap<String, String> {
        let key = mode_checks::random_data_key();
        let mut v = vars(&[
            ("PAYGATE_MODE", "live"),
            ("PAYGATE_PUBLIC_URL", "https://pay.shop.example"),
            ("PAYGATE_DATA_KEY", &key),
            ("PAYGATE_PROVIDERS", "stripe"),
            ("STRIPE_SECRET_KEY", "sk_live_x"),
            ("STRIPE_PUBLISHABLE_KEY", "pk_live_x"),
            ("STRIPE_WEBHOOK_SECRET", "whsec_a"),
        ]);
        for (k, value) in extra {
            v.insert(k.to_string(), value.to_string());
        }
        v
    }

    #[test]
    fn emulators_run_elsewhere_are_used_in_sandbox_mode_only() {
        let c = Config::from_vars(&vars(&[(
            "PAYGATE_SANDBOX_EMULATORS",
            "http://127.0.0.1:9100/",
        )]))
        .unwrap();
        assert_eq!(
            c.sandbox_emulators.as_deref(),
            Some("http://127.0.0.1:9100")
        );
        assert_eq!(c.stripe.api_base, "http://127.0.0.1:9100/stripe");
        assert_eq!(c.stripe.js_url, "http://127.0.0.1:9100/stripe/js/v3/");
        assert_eq!(c.paypal.api_base, "http://127.0.0.1:9100/paypal");
        assert_eq!(c.paypal.sdk_url, "http://127.0.0.1:9100/paypal/sdk/js");
        let e = Config::from_vars(&vars(&[("PAYGATE_SANDBOX_EMULATORS", "ftp://x")])).unwrap_err();
        assert_eq!(e.variable, "PAYGATE_SANDBOX_EMULATORS");
        assert!(Config::from_vars(&live_vars(&[])).is_ok());
        let live = live_vars(&[("PAYGATE_SANDBOX_EMULATORS", "http://127.0.0.1:9100")]);
        let e = Config::from_vars(&live).unwrap_err();
        assert_eq!(e.variable, "PAYGATE_SANDBOX_EMULATORS");
    }

    #[test]
    fn reconciliation_deadlines_short_in_sandbox_mode_only() {
        let c = Config::from_vars(&vars(&[
            ("PAYGATE_RECONCILE_AFTER_SECS", "3"),
            ("PAYGATE_RECONCILE_EVERY_SECS", "1"),
        ]))
        .unwrap();
        assert_eq!(c.reconcile_after, Duration::from_secs(3));
        assert_eq!(c.reconcile_every, Duration::from_secs(1));
        for (name, value) in [
            ("PAYGATE_RECONCILE_AFTER_SECS", "0"),
            ("PAYGATE_RECONCILE_EVERY_SECS", "0"),
        ] {
            let e = Config::from_vars(&vars(&[(name, value)])).unwrap_err();
            assert_eq!(e.variable, name);
        }
        let live = live_vars(&[("PAYGATE_RECONCILE_AFTER_SECS", "59")]);
        let e = Config::from_vars(&live).unwrap_err();
        assert_eq!(e.variable, "PAYGATE_RECONCILE_AFTER_SECS");
    }

    #[test]
    fn redis_url_must_be_a_redis_url() {
        let c = Config::from_vars(&vars(&[("REDIS_URL", "redis://127.0.0.1:6379")])).unwrap();
        assert!(c.redis_url.is_some());
        assert!(Config::from_vars(&vars(&[])).unwrap().redis_url.is_none());
        for bad in ["http://127.0.0.1:6379", "redis://", "not a url"] {
            let e = Config::from_vars(&vars(&[("REDIS_URL", bad)])).unwrap_err();
            assert_eq!(e.variable, "REDIS_URL", "{bad}");
        }
    }

    #[test]
    fn sandbox_port_zero_is_rebound() {
        let mut c = Config::from_vars(&vars(&[("PAYGATE_SANDBOX_LISTEN", "127.0.0.1:0")])).unwrap();
        c.rebind_sandbox("127.0.0.1:4567".parse().unwrap());
        assert_eq!(c.stripe.api_base, "http://127.0.0.1:4567/stripe");
        assert_eq!(c.paypal.api_base, "http://127.0.0.1:4567/paypal");
        assert_eq!(c.paypal.sdk_url, "http://127.0.0.1:4567/paypal/sdk/js");
        assert_eq!(c.stripe.js_url, "http://127.0.0.1:4567/stripe/js/v3/");
    }

    #[test]
    fn real_stripe_keys_in_sandbox_mode_use_the_real_api() {
        let c = Config::from_vars(&vars(&[("STRIPE_SECRET_KEY", "sk_test_real")])).unwrap();
        assert!(!c.stripe.emulated);
        assert_eq!(c.stripe.api_base, "https://api.stripe.com");
    }

    #[test]
    fn live_mode_names_the_first_missing_secret() {
        let e = Config::from_vars(&vars(&[
            ("PAYGATE_MODE", "live"),
            ("PAYGATE_DATA_KEY", &"ab".repeat(32)),
            ("PAYGATE_PROVIDERS", "paypal"),
            ("PAYPAL_CLIENT_ID", "id"),
        ]))
        .unwrap_err();
        assert_eq!(e.variable, "PAYPAL_CLIENT_SECRET");
        let e = Config::from_vars(&vars(&[("PAYGATE_MODE", "live")])).unwrap_err();
        assert_eq!(e.variable, "PAYGATE_DATA_KEY");
    }

    #[test]
    fn live_mode_has_no_dev_key_by_default() {
        let c = Config::from_vars(&vars(&[
            ("PAYGATE_MODE", "live"),
            ("PAYGATE_PUBLIC_URL", "https://pay.shop.example"),
            ("PAYGATE_DATA_KEY", &mode_checks::random_data_key()),
            ("PAYGATE_PROVIDERS", "stripe"),
            ("STRIPE_SECRET_KEY", "sk_live_x"),
            ("STRIPE_PUBLISHABLE_KEY", "pk_live_x"),
            ("STRIPE_WEBHOOK_SECRET", "whsec_a, whsec_b"),
        ]))
        .unwrap();
        assert!(c.dev_api_key.is_none());
        assert_eq!(c.stripe.webhook_secrets.len(), 2);
        assert!(
            !c.webhook_allow_local,
            "live mode keeps webhooks off local addresses"
        );
    }

    #[test]
    fn local_webhook_destinations_are_a_sandbox_default_and_an_explicit_setting() {
        assert!(
            Config::from_vars(&BTreeMap::new())
                .unwrap()
                .webhook_allow_local
        );
        let off = vars(&[("PAYGATE_WEBHOOK_ALLOW_LOCAL", "false")]);
        assert!(!Config::from_vars(&off).unwrap().webhook_allow_local);
        let e = Config::from_vars(&vars(&[("PAYGATE_WEBHOOK_ALLOW_LOCAL", "yes")])).unwrap_err();
        assert_eq!(e.variable, "PAYGATE_WEBHOOK_ALLOW_LOCAL");
    }

    #[test]
    fn invalid_values_name_their_variable() {
        for (name, value) in [
            ("PAYGATE_MODE", "production"),
            ("PAYGATE_PROVIDERS", "stripe,adyen"),
            ("PAYGATE_LISTEN", "localhost"),
            ("PAYGATE_PUBLIC_URL", "ftp://x"),
            ("DATABASE_URL", "mysql://x"),
            ("PAYGATE_DATA_KEY", "abcd"),
            ("PAYGATE_WIDGET_RATE_LIMIT", "-3"),
            ("PAYGATE_DEV_API_KEY", "short"),
            ("STRIPE_API_BASE", "not a url"),
        ] {
            let e = Config::from_vars(&vars(&[(name, value)])).unwrap_err();
            assert_eq!(e.variable, name, "{name}={value}: {e}");
        }
    }

    #[test]
    fn unknown_paygate_variable_is_refused() {
        let e = Config::from_vars(&vars(&[("PAYGATE_MODDE", "live")])).unwrap_err();
        assert!(e.message.contains("PAYGATE_MODDE"));
    }

    #[test]
    fn debug_output_never_shows_secrets() {
        let c = Config::from_vars(&vars(&[
            ("STRIPE_SECRET_KEY", "sk_test_supersecret"),
            ("DATABASE_URL", "postgres://u:hunter2@localhost/db"),
        ]))
        .unwrap();
        let text = format!("{c:?}");
        assert!(!text.contains("supersecret"));
        assert!(!text.contains("hunter2"));
        assert!(!text.contains(SANDBOX_DEV_API_KEY));
    }

    #[test]
    fn toml_file_keys_must_be_known() {
        let dir = std::env::temp_dir().join(format!("paygate-cfg-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let good = dir.join("good.toml");
        std::fs::write(&good, "PAYGATE_MERCHANT_NAME = \"Acme\"\nPAYGATE_PROVIDERS = [\"stripe\"]\nPAYGATE_WIDGET_RATE_LIMIT = 5\n").unwrap();
        let read = read_toml_file(good.to_str().unwrap()).unwrap();
        let c = Config::from_vars(&read).unwrap();
        assert_eq!(c.merchant_name, "Acme");
        assert_eq!(c.providers, vec![ProviderName::Stripe]);
        assert_eq!(c.widget_rate_limit, 5);
        let bad = dir.join("bad.toml");
        std::fs::write(&bad, "MERCHANT = \"x\"\n").unwrap();
        assert_eq!(
            read_toml_file(bad.to_str().unwrap()).unwrap_err().variable,
            "PAYGATE_CONFIG"
        );
    }
}

/// A live-only build (`--no-default-features`) has no emulators, so it cannot run in sandbox
/// mode; CI runs these with the feature off.
#[cfg(all(test, not(feature = "sandbox")))]
mod live_only_tests {
    use super::*;

    #[test]
    fn a_build_without_the_sandbox_refuses_sandbox_mode() {
        let e = Config::from_vars(&BTreeMap::new()).unwrap_err();
        assert_eq!(e.variable, "PAYGATE_MODE");
        assert!(e.message.contains("without the sandbox"), "{e}");
    }
}
