//! The sandbox's documented credentials (README, "Configuration"): what paygate's sandbox
//! configuration uses when no provider credentials are given, and what the emulators accept
//! unless configured otherwise. They are test values, public on purpose, and only ever
//! accepted by the emulators; live mode has no default.
//!
//! This is the one place they are written: the emulators' `sandbox()` configurations and
//! [`Emulators::with_defaults`](crate::Emulators::with_defaults) read them from here, and so
//! does paygate's configuration, which fills in the same values as its provider credentials
//! in sandbox mode (so that its clients and the emulators agree).

use std::time::Duration;

/// `sk_test_...`: the Stripe emulator's secret key.
pub const STRIPE_SECRET_KEY: &str = "sk_test_paygate_sandbox";
/// `pk_test_...`: the Stripe emulator's publishable key (Stripe.js stand-in).
pub const STRIPE_PUBLISHABLE_KEY: &str = "pk_test_paygate_sandbox";
/// `whsec_...`: signs the Stripe emulator's webhooks.
pub const STRIPE_WEBHOOK_SECRET: &str = "whsec_paygate_sandbox";

/// The PayPal emulator's client id (OAuth2 client credentials, the JS SDK's `client-id`).
pub const PAYPAL_CLIENT_ID: &str = "paygate-sandbox-client";
pub const PAYPAL_CLIENT_SECRET: &str = "paygate-sandbox-secret";
/// The id of the single webhook the PayPal emulator delivers to. PayPal's ids are
/// 17 × `[A-Z0-9]`, and `verify-webhook-signature` requires `^[a-zA-Z0-9]+$`, so no dashes.
pub const PAYPAL_WEBHOOK_ID: &str = "PAYGATESANDBOXWH1";
/// PayPal's access tokens live 9 hours (`expires_in` 32400).
pub const PAYPAL_TOKEN_TTL: Duration = Duration::from_secs(32_400);

/// Where [`Emulators::router`](crate::Emulators::router) serves each emulator on the sandbox
/// listener (like js.stripe.com, another origin than paygate's pages).
pub const STRIPE_PREFIX: &str = "/stripe";
pub const PAYPAL_PREFIX: &str = "/paypal";
