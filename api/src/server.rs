//! The connection side of the HTTP edge: hyper serves HTTP/1.1 and HTTP/2
//! to the poem endpoint, with the limits a service facing the network
//! needs. `MAX_CONNECTIONS` are served at once; over it a few more are let
//! in for one request each, answered only if it is `/health` or `/ready`
//! (anything else gets 503 with `Retry-After`) and sent within a second;
//! the rest are closed on accept. A connection that has not sent a
//! request's headers within `HEADER_TIMEOUT_SECS` (of connecting, or of its
//! previous response) is closed. HTTP/2 streams per connection are bounded.

use crate::error::ApiError;
use http_body_util::combinators::BoxBody;
use hyper::body::{Bytes, Incoming};
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use hyper_util::server::graceful::GracefulShutdown;
use poem::endpoint::BoxEndpoint;
use poem::web::{LocalAddr, RemoteAddr};
use poem::{Addr, IntoResponse, Response};
use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::sync::{Notify, OwnedSemaphorePermit, Semaphore};

/// The limits of [`serve`].
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    pub header_timeout: Duration,
    pub max_connections: usize,
    pub http2_max_streams: u32,
}

/// Connections let in over the limit, for the health checks alone.
const HEALTH_ONLY_CONNECTIONS: usize = 32;

/// How long a connection let in over the limit has to send its request:
/// short, so that idle ones do not keep the health checks out for long.
const HEALTH_ONLY_SILENCE: Duration = Duration::from_secs(1);

/// How long a graceful shutdown waits for requests in flight.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(30);

/// Paths answered on a connection let in over the limit.
fn is_health_check(path: &str) -> bool {
    matches!(path, "/health" | "/ready")
}

/// Serves `endpoint` on `listener` until `stop` completes, then lets the
/// requests in flight finish (up to 30 s).
pub async fn serve(
    listener: TcpListener,
    endpoint: BoxEndpoint<'static, Response>,
    limits: Limits,
    stop: impl Future<Output = ()>,
) {
    let endpoint = Arc::new(endpoint);
    let served = Arc::new(Semaphore::new(limits.max_connections));
    let health_only = Arc::new(Semaphore::new(HEALTH_ONLY_CONNECTIONS));
    let builder = Arc::new(builder(limits));
    let graceful = GracefulShutdown::new();
    tokio::pin!(stop);
    loop {
        let (socket, remote) = tokio::select! {
            () = &mut stop => break,
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(err) => {
                    // Out of file descriptors, or the peer left before the
                    // accept: pause rather than spin.
                    tracing::warn!(error = %err, "cannot accept a connection");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
        };
        let admission = match Arc::clone(&served).try_acquire_owned() {
            Ok(permit) => Admission::Served(permit),
            Err(_) => match Arc::clone(&health_only).try_acquire_owned() {
                Ok(permit) => Admission::HealthOnly(permit),
                Err(_) => {
                    tracing::warn!(%remote, "connection refused: MAX_CONNECTIONS reached");
                    continue;
                }
            },
        };
        let _ = socket.set_nodelay(true);
        let local = socket.local_addr().unwrap_or(remote);
        let requested = Arc::new(Notify::new());
        let service = Service {
            endpoint: Arc::clone(&endpoint),
            local,
            remote,
            health_only: matches!(admission, Admission::HealthOnly(_)),
            requested: Arc::clone(&requested),
        };
        let connection = builder
            .serve_connection(TokioIo::new(socket), service)
            .into_owned();
        let connection = graceful.watch(connection);
        let silence = match admission {
            Admission::Served(_) => limits.header_timeout,
            Admission::HealthOnly(_) => limits.header_timeout.min(HEALTH_ONLY_SILENCE),
        };
        tokio::spawn(async move {
            let _admission = admission;
            tokio::select! {
                served = connection => {
                    if let Err(err) = served {
                        tracing::debug!(%remote, error = %err, "connection ended with an error");
                    }
                }
                () = silent_for(&requested, silence) => {
                    tracing::debug!(%remote, "no request within HEADER_TIMEOUT_SECS; connection closed");
                }
            }
        });
    }
    drop(listener);
    if tokio::time::timeout(SHUTDOWN_GRACE, graceful.shutdown())
        .await
        .is_err()
    {
        tracing::warn!("requests still in flight after 30 s; stopping anyway");
    }
}

/// hyper's HTTP/1.1 closes a connection whose next request's headers take
/// longer than `header_timeout`; [`silent_for`] covers the first bytes,
/// before hyper knows which protocol it speaks.
fn builder(limits: Limits) -> auto::Builder<TokioExecutor> {
    let mut builder = auto::Builder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_timeout)
        .max_headers(100);
    builder
        .http2()
        .timer(TokioTimer::new())
        .max_concurrent_streams(limits.http2_max_streams)
        .max_pending_accept_reset_streams(20)
        .max_header_list_size(16 * 1024)
        .keep_alive_interval(limits.header_timeout)
        .keep_alive_timeout(limits.header_timeout);
    builder
}

/// Completes when the connection has had no request for `limit` since it
/// opened; never once a request has come (hyper's own header timeout
/// takes over from there).
async fn silent_for(requested: &Notify, limit: Duration) {
    if tokio::time::timeout(limit, requested.notified())
        .await
        .is_ok()
    {
        std::future::pending::<()>().await;
    }
}

/// Why a connection was let in; it holds its place until it closes.
enum Admission {
    Served(#[allow(dead_code)] OwnedSemaphorePermit),
    HealthOnly(#[allow(dead_code)] OwnedSemaphorePermit),
}

/// One connection's requests, handed to the poem endpoint.
#[derive(Clone)]
struct Service {
    endpoint: Arc<BoxEndpoint<'static, Response>>,
    local: SocketAddr,
    remote: SocketAddr,
    health_only: bool,
    requested: Arc<Notify>,
}

impl hyper::service::Service<hyper::Request<Incoming>> for Service {
    type Response = hyper::Response<BoxBody<Bytes, std::io::Error>>;
    type Error = std::convert::Infallible;
    type Future = std::pin::Pin<
        Box<dyn Future<Output = Result<Self::Response, Self::Error>> + Send + 'static>,
    >;

    fn call(&self, request: hyper::Request<Incoming>) -> Self::Future {
        self.requested.notify_one();
        let service = self.clone();
        Box::pin(async move {
            let refused = service.health_only && !is_health_check(request.uri().path());
            let mut response = if refused {
                ApiError::Overloaded.into_response()
            } else {
                let request = poem::Request::from((
                    request,
                    LocalAddr(Addr::SocketAddr(service.local)),
                    RemoteAddr(Addr::SocketAddr(service.remote)),
                    poem::http::uri::Scheme::HTTP,
                ));
                poem::Endpoint::get_response(&*service.endpoint, request).await
            };
            if service.health_only {
                response.headers_mut().insert(
                    poem::http::header::CONNECTION,
                    poem::http::HeaderValue::from_static("close"),
                );
            }
            Ok(response.into())
        })
    }
}
