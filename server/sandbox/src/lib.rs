//! paygate's sandbox: stateful stand-ins for the payment providers paygate talks
//! to, Stripe ([`stripe`]) and PayPal ([`paypal`]), with their browser scripts (a Stripe.js and
//! a PayPal JS SDK stand-in). paygate serves them over real HTTP on its second listener when it
//! runs with `PAYGATE_MODE=sandbox`, and the tests drive them directly; live mode never serves
//! them.
//!
//! The emulators must behave as the real providers do: the same requests, answers, error
//! bodies, headers, idempotency rules, webhook signatures and retries, as the provider
//! documentation cited in each module describes (docs.stripe.com/api; developer.paypal.com and
//! PayPal's OpenAPI specs, github.com/paypal/paypal-rest-api-specifications). Where the
//! providers document nothing the modules say what the emulator chose. Anything paygate gets
//! right against an emulator must be right against the provider.
//!
//! Each emulator keeps its state in memory only: objects, idempotency keys and queued webhook
//! deliveries are gone when the process stops, as a fresh test account would be.
//!
//! Layout: [`stripe`] and [`paypal`] are the emulators; `common` holds what both do the same
//! way (webhook queue and retries, fault knobs, the idempotent-replay store, asset and page
//! headers, small helpers); [`defaults`] the documented sandbox credentials; [`Emulators`]
//! both emulators as paygate's sandbox listener serves them; [`Clock`] the emulators' time.

mod clock;
mod common;
pub mod defaults;
mod emulators;
mod ids;
pub mod paypal;
pub mod stripe;

pub use clock::Clock;
pub use emulators::Emulators;
