//! Merchant authentication: `Authorization: Bearer <secret key>`.
//!
//! Keys are random 192-bit strings, so a fast SHA-256 hash is enough to store them (a slow
//! password hash protects low-entropy secrets; it would only slow every API call here). The
//! lookup is by hash and the found hash is compared again in constant time.

mod keys;
mod middleware;

pub use keys::{
    create_key, generate_key, list_keys, revoke_key, ApiKeyListing, ApiKeyRecord, Revocation,
};
pub use middleware::{require_merchant, Merchant};
