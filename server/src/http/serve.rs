//! The accept loop of the public listener.
//!
//! `axum::serve` (0.8) builds its connections without a timer, and hyper's header-read timeout
//! only runs with one: a client that opens a connection and sends a header byte now and then
//! (or nothing) holds a connection and a task for as long as it likes. Ten thousand such
//! clients cost an attacker nothing. This loop serves the same router over HTTP/1.1 with
//! hyper's timer set, so each request head (the first one, and every one after an idle
//! keep-alive pause) must arrive within `PAYGATE_HEADER_TIMEOUT_SECS`, or the connection is
//! closed. A slow body is bounded by the request time limit (`app::time_limit`).
//!
//! The same timeout closes a keep-alive connection left idle that long, so a reverse proxy in
//! front must drop idle upstream connections sooner (nginx's `keepalive_timeout` in an
//! `upstream` block defaults to 60 s; the default here, 65 s, is above it) or it may send a
//! request on a connection paygate is closing.
//!
//! HTTP/1.1 only: HTTP/2 (like TLS) is the reverse proxy's job in front of paygate, which must
//! speak HTTP/1.1 to it (h2c is not served). hyper's automatic HTTP/2 detection would wait for
//! the connection preface without any timeout.

use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::Request;
use axum::Router;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use std::future::Future;
use std::time::Duration;
use tokio::net::TcpListener;
use tower::ServiceExt;

/// Serves `router` on `listener` until `shutdown` resolves, then waits for the connections
/// in flight to finish their requests.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    header_timeout: Duration,
    shutdown: impl Future<Output = ()>,
) -> std::io::Result<()> {
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(header_timeout);
    let graceful = GracefulShutdown::new();
    tokio::pin!(shutdown);
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                // The client gave up before it was accepted: nothing to do.
                Err(e) if is_connection_error(&e) => continue,
                Err(e) => {
                    // Out of file descriptors and the like: wait rather than spin (as
                    // axum::serve does), but not past a shutdown.
                    tracing::error!(error = %e, "accepting a connection failed");
                    tokio::select! {
                        () = tokio::time::sleep(Duration::from_secs(1)) => continue,
                        () = &mut shutdown => break,
                    }
                }
            },
            () = &mut shutdown => break,
        };
        let _ = stream.set_nodelay(true);
        let router = router.clone();
        let service = hyper::service::service_fn(move |mut request: Request<Incoming>| {
            // What `into_make_service_with_connect_info` would insert: the peer, read by
            // `http::client_addr` and the `ConnectInfo` extractor.
            request.extensions_mut().insert(ConnectInfo(peer));
            router.clone().oneshot(request.map(Body::new))
        });
        let connection = graceful.watch(http.serve_connection(TokioIo::new(stream), service));
        tokio::spawn(async move {
            if let Err(e) = connection.await {
                // A header timeout, a client that went away, a malformed request: the
                // client's problem, not paygate's.
                tracing::debug!(error = %e, "connection ended with an error");
            }
        });
    }
    drop(listener);
    graceful.shutdown().await;
    Ok(())
}

fn is_connection_error(e: &std::io::Error) -> bool {
    use std::io::ErrorKind::{ConnectionAborted, ConnectionRefused, ConnectionReset};
    matches!(
        e.kind(),
        ConnectionRefused | ConnectionAborted | ConnectionReset
    )
}
