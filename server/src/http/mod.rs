//! HTTP plumbing shared by every route: extractors, idempotency, rate limits, metrics,
//! security headers.

pub mod client_addr;
pub mod detach;
pub mod extract;
pub mod idempotency;
pub mod metrics;
pub mod rate_limit;
pub mod security;
pub mod serve;
pub mod shared_limit;
