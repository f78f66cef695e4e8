//! Per-caller rate limits (GCRA, `governor`): merchant API per API key, widget API per client
//! address. Over the limit: 429 with `Retry-After` in the error envelope.

use crate::auth::Merchant;
use crate::error::ApiError;
use crate::state::AppState;
use axum::extract::{ConnectInfo, Request, State};
use axum::middleware::Next;
use axum::response::Response;
use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use std::net::{IpAddr, SocketAddr};
use std::num::NonZeroU32;

pub struct RateLimits {
    merchant: Option<DefaultKeyedRateLimiter<String>>,
    widget: Option<DefaultKeyedRateLimiter<IpAddr>>,
}

fn quota(per_second: u32) -> Option<Quota> {
    // The burst equals one second's worth, so a client may spend its budget at once.
    NonZeroU32::new(per_second).map(Quota::per_second)
}

impl RateLimits {
    /// `0` disables a limit.
    pub fn new(merchant_per_sec: u32, widget_per_sec: u32) -> RateLimits {
        RateLimits {
            merchant: quota(merchant_per_sec).map(RateLimiter::keyed),
            widget: quota(widget_per_sec).map(RateLimiter::keyed),
        }
    }

    /// Drops idle keys; called periodically so the maps stay small.
    pub fn clean(&self) {
        if let Some(l) = &self.merchant {
            l.retain_recent();
        }
        if let Some(l) = &self.widget {
            l.retain_recent();
        }
    }
}

fn refused(not_until: governor::NotUntil<governor::clock::QuantaInstant>) -> ApiError {
    let wait = not_until.wait_time_from(DefaultClock::default().now());
    ApiError::rate_limited(wait.as_secs() + u64::from(wait.subsec_nanos() > 0))
}

/// After authentication: one bucket per API key.
pub async fn limit_merchant(
    State(state): State<AppState>,
    request: Request,
    next: Next,
) -> Result<Response, ApiError> {
    if let (Some(limiter), Some(merchant)) = (
        &state.rate_limits.merchant,
        request.extensions().get::<Merchant>(),
    ) {
        limiter.check_key(&merchant.api_key_id).map_err(refused)?;
    }
    Ok(next.run(request).await)
}

/// One bucket per client address (the widget API has no key).
pub async fn limit_widget(
    State(state): State<AppState>,
    request: Request,
    next: Next,
) -> Result<Response, ApiError> {
    if let Some(limiter) = &state.rate_limits.widget {
        let ip = request
            .extensions()
            .get::<ConnectInfo<SocketAddr>>()
            .map(|c| c.0.ip())
            .unwrap_or(IpAddr::from([0, 0, 0, 0]));
        limiter.check_key(&ip).map_err(refused)?;
    }
    Ok(next.run(request).await)
}
