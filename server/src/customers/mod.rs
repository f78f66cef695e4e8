//! Customers: personal data (email, name) encrypted at rest, with a keyed hash of the email
//! for exact-match search. Mirrored at Stripe (PayPal's Orders API has no
//! customer object).

pub mod payment_methods;
pub mod repo;
pub mod routes;

pub use repo::{CustomerRecord, NewCustomer};
