//! Customers: personal data (email, name) encrypted at rest, with a keyed hash of the email
//! for exact-match search (DESIGN.md §6). The merchant API routes arrive with the Stripe
//! mirroring (PayPal's Orders API has no customer object).

pub mod repo;

pub use repo::{CustomerRecord, NewCustomer};
