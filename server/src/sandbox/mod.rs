//! Sandbox mode (DESIGN.md §7): stateful emulators of the payment providers that paygate talks
//! to over real HTTP when it runs with `PAYGATE_MODE=sandbox`.
//!
//! Each emulator keeps its state in memory only: objects, idempotency keys and queued webhook
//! deliveries are gone when the process stops, as a fresh Stripe test account would be.

pub mod paypal;
pub mod stripe;
