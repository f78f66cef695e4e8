//! What the Stripe and the PayPal emulator do the same way, written once: the webhook delivery
//! queue with its retries ([`webhooks`]), the fault knobs ([`faults`]), the store that replays
//! idempotent requests ([`replay`]), the parts of the API layer around a handler ([`http`]),
//! the headers of scripts, frames and pages ([`pages`]), and small helpers ([`util`]).
//!
//! Where the providers differ on purpose (their headers, error bodies, signatures, statuses,
//! retry schedules, idempotency rules), the provider passes its own as a parameter or through
//! a trait, and each module here says which. What stays in the provider modules is protocol:
//! the order of the checks in each API layer, authentication, the error shapes.

pub mod faults;
pub mod http;
pub mod pages;
pub mod replay;
pub mod util;
pub mod webhooks;
