//! Prometheus metrics: requests by route and status, a latency histogram by route, the merchant
//! webhook deliveries waiting, and (with `RABBITMQ_URL`) the event bus's backlog and state. The
//! backlogs are counted in the database at each scrape: they are the durable truth, shared by
//! every instance.

use crate::state::AppState;
use axum::extract::{MatchedPath, Request, State};
use axum::http::{header, HeaderValue};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{exponential_buckets, Histogram};
use prometheus_client::registry::Registry;
use std::sync::Mutex;
use std::time::Instant;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ProviderLabels {
    provider: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RequestLabels {
    method: String,
    route: String,
    status: u16,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RouteLabels {
    method: String,
    route: String,
}

pub struct Metrics {
    registry: Mutex<Registry>,
    requests: Family<RequestLabels, Counter>,
    latency: Family<RouteLabels, Histogram>,
    webhook_backlog: Gauge,
    other_api_version: Family<ProviderLabels, Counter>,
    bus: Option<BusGauges>,
    limits: Option<LimitGauges>,
    payment_own: Histogram,
}

/// With `REDIS_URL`: whether the shared limits are in force.
struct LimitGauges {
    redis_up: Gauge,
    fallbacks: Gauge,
}

struct BusGauges {
    connected: Gauge,
    backlog: Gauge,
    published: Gauge,
}

impl Default for Metrics {
    fn default() -> Self {
        Metrics::new(false, false)
    }
}

impl Metrics {
    /// `event_bus`: whether `RABBITMQ_URL` is set (the bus's gauges exist only then);
    /// `shared_limits`: whether `REDIS_URL` is (the shared limits' gauges, likewise).
    pub fn new(event_bus: bool, shared_limits: bool) -> Metrics {
        let mut registry = Registry::with_prefix("paygate");
        let requests = Family::<RequestLabels, Counter>::default();
        // 1 ms .. ~16 s; the histogram counts seconds, as Prometheus expects. Bucket bounds
        // are the crate's `f64` type; no money is involved.
        let latency = Family::<RouteLabels, Histogram>::new_with_constructor(|| {
            Histogram::new(exponential_buckets(0.001, 2.0, 15))
        });
        registry.register(
            "http_requests",
            "HTTP requests by route and status",
            requests.clone(),
        );
        registry.register(
            "http_request_duration_seconds",
            "HTTP request latency by route",
            latency.clone(),
        );
        let webhook_backlog = Gauge::default();
        registry.register(
            "webhook_deliveries_pending",
            "Merchant webhook deliveries not yet delivered or failed",
            webhook_backlog.clone(),
        );
        let other_api_version = Family::<ProviderLabels, Counter>::default();
        registry.register(
            "provider_events_other_api_version",
            "Provider webhooks rendered at another API version than the pinned one (applied only from a re-read of their object; set the endpoint's version)",
            other_api_version.clone(),
        );
        let bus = event_bus.then(|| {
            let gauges = BusGauges {
                connected: Gauge::default(),
                backlog: Gauge::default(),
                published: Gauge::default(),
            };
            registry.register(
                "event_bus_connected",
                "1 while the RabbitMQ event bus is connected, 0 otherwise",
                gauges.connected.clone(),
            );
            registry.register(
                "event_bus_backlog",
                "Events waiting to be published on the event bus",
                gauges.backlog.clone(),
            );
            registry.register(
                "event_bus_published",
                "Events this process published on the event bus (confirmed by the broker)",
                gauges.published.clone(),
            );
            gauges
        });
        // 50 µs .. ~2.3 s, each bound √2 above the last: paygate's own share of a payment
        // creation is small, and its goal (2 ms) must fall between close bounds.
        let payment_own =
            Histogram::new(exponential_buckets(0.00005, std::f64::consts::SQRT_2, 32));
        registry.register(
            "payment_own_seconds",
            "Time paygate spends creating a payment, not counting the provider's answer (the request's time minus its provider calls)",
            payment_own.clone(),
        );
        let limits = shared_limits.then(|| {
            let gauges = LimitGauges {
                redis_up: Gauge::default(),
                fallbacks: Gauge::default(),
            };
            registry.register(
                "rate_limit_redis_up",
                "1 while the rate limits are shared through Redis, 0 while each instance limits on its own because Redis cannot be reached",
                gauges.redis_up.clone(),
            );
            registry.register(
                "rate_limit_local_fallbacks",
                "Rate limit checks this process decided locally because Redis could not be asked",
                gauges.fallbacks.clone(),
            );
            gauges
        });
        Metrics {
            registry: Mutex::new(registry),
            requests,
            latency,
            webhook_backlog,
            other_api_version,
            bus,
            limits,
            payment_own,
        }
    }

    /// One provider event rendered at another API version was received (counted once, at its
    /// first attempt).
    pub fn count_other_api_version(&self, provider: &str) {
        self.other_api_version
            .get_or_create(&ProviderLabels {
                provider: provider.to_string(),
            })
            .inc();
    }

    /// A payment creation took `own` of paygate's time besides its provider calls.
    pub fn observe_payment_own(&self, own: std::time::Duration) {
        self.payment_own.observe(own.as_secs_f64());
    }

    pub fn encode(&self) -> String {
        let mut out = String::new();
        let registry = self.registry.lock().expect("metrics registry lock");
        prometheus_client::encoding::text::encode(&mut out, &registry)
            .expect("writing to a String");
        out
    }
}

/// Records every request under its route template (`/v1/payments/{id}`), never the raw path,
/// so ids do not explode the label space.
pub async fn track(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_string())
        .unwrap_or_else(|| "unmatched".to_string());
    let method = method_label(request.method()).to_string();
    let started = Instant::now();
    let response = next.run(request).await;
    let elapsed = started.elapsed();
    state
        .metrics
        .requests
        .get_or_create(&RequestLabels {
            method: method.clone(),
            route: route.clone(),
            status: response.status().as_u16(),
        })
        .inc();
    state
        .metrics
        .latency
        .get_or_create(&RouteLabels { method, route })
        .observe(elapsed.as_secs_f64());
    response
}

/// The method as a label: HTTP's standard methods by name, anything else (a client may send any
/// token as a method) as `other`, so callers cannot grow the label space.
fn method_label(method: &axum::http::Method) -> &'static str {
    use axum::http::Method;
    match *method {
        Method::GET => "GET",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::PATCH => "PATCH",
        Method::DELETE => "DELETE",
        Method::HEAD => "HEAD",
        Method::OPTIONS => "OPTIONS",
        _ => "other",
    }
}

/// `/metrics`, behind `PAYGATE_METRICS_TOKEN` when it is set.
pub async fn render(State(state): State<AppState>, headers: axum::http::HeaderMap) -> Response {
    if let Some(token) = &state.config.metrics_token {
        use secrecy::ExposeSecret;
        use subtle::ConstantTimeEq;
        let presented = headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .unwrap_or_default();
        let expected = token.expose_secret();
        // Compared in constant time (lengths aside, which the token's minimum makes moot).
        if !bool::from(presented.as_bytes().ct_eq(expected.as_bytes())) {
            return crate::error::ApiError::unauthorized(
                "Send Authorization: Bearer <PAYGATE_METRICS_TOKEN> to read /metrics.",
            )
            .into_response();
        }
    }
    // A database that cannot answer leaves the last values; the scrape itself still works.
    if let Ok(n) = crate::merchant_webhooks::repo::pending_count(&state.db).await {
        state.metrics.webhook_backlog.set(n);
    }
    if let Some(bus) = &state.metrics.bus {
        bus.connected.set(i64::from(state.bus_health.connected()));
        bus.published
            .set(i64::try_from(state.bus_health.published()).unwrap_or(i64::MAX));
        if let Ok(n) = crate::event_bus::repo::backlog(&state.db).await {
            bus.backlog.set(n);
        }
    }
    if let (Some(gauges), Some(shared)) = (&state.metrics.limits, &state.rate_limits.shared) {
        gauges.redis_up.set(i64::from(shared.is_up()));
        gauges
            .fallbacks
            .set(i64::try_from(shared.fallbacks()).unwrap_or(i64::MAX));
    }
    let mut res = state.metrics.encode().into_response();
    res.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/openmetrics-text; version=1.0.0; charset=utf-8"),
    );
    res
}
