//! The parts of both API layers around a handler: the body limit, the raw bodies kept for the
//! tests' audit, dropped connections, and execution in a task of its own. The order of the
//! checks around them (fault knobs, keys or tokens, idempotency) is each provider's and stays
//! in its own `http` module.

use axum::body::Body;
use axum::extract::Request;
use axum::http::response::Parts;
use axum::middleware::Next;
use axum::response::Response;
use bytes::Bytes;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::Duration;

/// Request bodies larger than this are refused (both providers' requests are small).
pub const MAX_BODY: usize = 1024 * 1024;

/// How many raw request bodies are kept.
const MAX_KEPT_BODIES: usize = 10_000;

/// Every non-empty raw request body received, oldest first; the last 10,000 are kept (tests
/// check that card numbers never reach a provider, and what paygate sent). Also counts every
/// API request, bodies or not (tests check that paygate did not call at all).
#[derive(Debug, Default)]
pub struct BodyLog {
    bodies: Mutex<Vec<String>>,
    requests: AtomicUsize,
}

impl BodyLog {
    pub fn record(&self, body: &[u8]) {
        self.requests.fetch_add(1, Ordering::Relaxed);
        if body.is_empty() {
            return;
        }
        let mut bodies = self.bodies.lock().expect("bodies lock");
        if bodies.len() >= MAX_KEPT_BODIES {
            bodies.remove(0);
        }
        bodies.push(String::from_utf8_lossy(body).into_owned());
    }

    pub fn all(&self) -> Vec<String> {
        self.bodies.lock().expect("bodies lock").clone()
    }

    pub fn requests(&self) -> usize {
        self.requests.load(Ordering::Relaxed)
    }
}

/// A response whose body fails at once: hyper then closes the connection without sending
/// anything, so the client sees a connection error instead of an answer.
pub fn dropped_connection() -> Response {
    let stream = futures::stream::once(async {
        Err::<Bytes, std::io::Error>(std::io::Error::new(
            std::io::ErrorKind::ConnectionReset,
            "emulated connection reset",
        ))
    });
    Response::new(Body::from_stream(stream))
}

/// Runs the handler after `latency` in a task of its own and buffers its answer, so that, as
/// at both providers, a request whose client went away still completes. `keep` runs in that
/// task with the answer before it is handed back (to save an idempotent result). `None` when
/// the handler panicked.
pub async fn run_detached(
    req: Request,
    next: Next,
    latency: Duration,
    keep: impl FnOnce(&Parts, &Bytes) + Send + 'static,
) -> Option<Response> {
    let task = tokio::spawn(async move {
        if !latency.is_zero() {
            tokio::time::sleep(latency).await;
        }
        let response = next.run(req).await;
        let (parts, body) = response.into_parts();
        let body = axum::body::to_bytes(body, usize::MAX)
            .await
            .unwrap_or_default();
        keep(&parts, &body);
        Response::from_parts(parts, Body::from(body))
    });
    task.await.ok()
}
