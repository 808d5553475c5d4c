//! The connection side of the HTTP edge: hyper serves HTTP/1.1 and HTTP/2
//! to the poem endpoint, with the limits a service facing the network
//! needs. `MAX_CONNECTIONS` are served at once; over it a few more are let
//! in for one request each, answered only if it is `/health` or `/ready`
//! (anything else gets 503 with `Retry-After`) and sent within a second,
//! over HTTP/1.1; the rest are closed on accept. A connection that has not
//! sent a request's headers within `HEADER_TIMEOUT_SECS` (of connecting, or
//! of its previous response) is closed, and so is one with nothing in
//! flight that moves no byte for as long (an idle HTTP/2 connection, a
//! client that stopped reading its answers). HTTP/2 streams per connection
//! are bounded. On shutdown, requests in flight get 30 s, then are dropped.

use crate::http::error::ApiError;
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
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
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
/// requests in flight finish (up to 30 s) and drops what is left.
pub async fn serve(
    listener: TcpListener,
    endpoint: BoxEndpoint<'static, Response>,
    limits: Limits,
    stop: impl Future<Output = ()>,
) {
    let endpoint = Arc::new(endpoint);
    let served = Arc::new(Semaphore::new(limits.max_connections));
    let health_only = Arc::new(Semaphore::new(HEALTH_ONLY_CONNECTIONS));
    let builders = Builders::new(limits);
    let graceful = GracefulShutdown::new();
    let (abort, aborted) = tokio::sync::watch::channel(false);
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
        let activity = Arc::new(Activity::new());
        let requested = Arc::new(Notify::new());
        let health_only = matches!(admission, Admission::HealthOnly(_));
        let service = Service {
            endpoint: Arc::clone(&endpoint),
            local,
            remote,
            health_only,
            requested: Arc::clone(&requested),
            activity: Arc::clone(&activity),
        };
        let io = TokioIo::new(Watched {
            inner: socket,
            activity: Arc::clone(&activity),
        });
        // Over the limit: HTTP/1.1 only, one request per connection.
        let builder = if health_only {
            &builders.health_only
        } else {
            &builders.served
        };
        let connection = graceful.watch(builder.serve_connection(io, service).into_owned());
        let quiet_limit = if health_only {
            limits.header_timeout.min(HEALTH_ONLY_SILENCE)
        } else {
            limits.header_timeout
        };
        let mut aborted = aborted.clone();
        tokio::spawn(async move {
            let _admission = admission;
            tokio::select! {
                served = connection => {
                    if let Err(err) = served {
                        tracing::debug!(%remote, error = %err, "connection ended with an error");
                    }
                }
                () = silent_for(&requested, quiet_limit) => {
                    tracing::debug!(%remote, "no request within HEADER_TIMEOUT_SECS; connection closed");
                }
                () = activity.idle_for(quiet_limit) => {
                    tracing::debug!(%remote, "idle for HEADER_TIMEOUT_SECS; connection closed");
                }
                _ = aborted.changed() => {}
            }
        });
    }
    drop(listener);
    if tokio::time::timeout(SHUTDOWN_GRACE, graceful.shutdown())
        .await
        .is_err()
    {
        tracing::warn!("requests still in flight after 30 s; stopping them");
        let _ = abort.send(true);
        tokio::task::yield_now().await;
    }
}

/// How connections are served: within the limit, HTTP/1.1 and HTTP/2;
/// over it, HTTP/1.1 alone without keep-alive (HTTP/2 would let one
/// health-only connection carry requests forever).
struct Builders {
    served: auto::Builder<TokioExecutor>,
    health_only: auto::Builder<TokioExecutor>,
}

impl Builders {
    /// hyper's HTTP/1.1 closes a connection whose next request's headers
    /// take longer than `header_timeout`; [`silent_for`] covers the first
    /// bytes, before hyper knows which protocol it speaks, and
    /// [`Activity::idle_for`] a connection with nothing in flight that
    /// moves no bytes (an idle HTTP/2 connection, a client that stopped
    /// reading). HTTP/2 sends no keep-alive pings: they would keep an idle
    /// connection busy.
    fn new(limits: Limits) -> Builders {
        let mut served = auto::Builder::new(TokioExecutor::new());
        served
            .http1()
            .timer(TokioTimer::new())
            .header_read_timeout(limits.header_timeout)
            .max_headers(100);
        served
            .http2()
            .timer(TokioTimer::new())
            .max_concurrent_streams(limits.http2_max_streams)
            .max_pending_accept_reset_streams(20)
            .max_header_list_size(16 * 1024);
        let mut health_only = auto::Builder::new(TokioExecutor::new()).http1_only();
        health_only
            .http1()
            .timer(TokioTimer::new())
            .header_read_timeout(limits.header_timeout.min(HEALTH_ONLY_SILENCE))
            .keep_alive(false)
            .max_headers(100);
        Builders {
            served,
            health_only,
        }
    }
}

/// Completes when the connection has had no request for `limit` since it
/// opened; never once a request has come.
async fn silent_for(requested: &Notify, limit: Duration) {
    if tokio::time::timeout(limit, requested.notified())
        .await
        .is_ok()
    {
        std::future::pending::<()>().await;
    }
}

/// What a connection is doing: requests in flight, and when it last moved
/// a byte either way.
struct Activity {
    opened: tokio::time::Instant,
    /// Milliseconds from `opened` to the last byte moved or request ended.
    last_ms: AtomicU64,
    in_flight: AtomicUsize,
}

impl Activity {
    fn new() -> Activity {
        Activity {
            opened: tokio::time::Instant::now(),
            last_ms: AtomicU64::new(0),
            in_flight: AtomicUsize::new(0),
        }
    }

    fn touch(&self) {
        let now = self.opened.elapsed().as_millis() as u64;
        self.last_ms.store(now, Ordering::Relaxed);
    }

    /// Completes once nothing is in flight and no byte has moved for `limit`.
    async fn idle_for(&self, limit: Duration) {
        loop {
            let last = Duration::from_millis(self.last_ms.load(Ordering::Relaxed));
            let quiet = self.opened.elapsed().saturating_sub(last);
            let busy = self.in_flight.load(Ordering::Relaxed) > 0;
            if !busy && quiet >= limit {
                return;
            }
            let wait = if busy { limit } else { limit - quiet };
            tokio::time::sleep(wait.max(Duration::from_millis(50))).await;
        }
    }
}

/// A request in flight on its connection, until dropped (answered or
/// cancelled).
struct InFlight(Arc<Activity>);

impl InFlight {
    fn start(activity: &Arc<Activity>) -> InFlight {
        activity.in_flight.fetch_add(1, Ordering::Relaxed);
        InFlight(Arc::clone(activity))
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.touch();
        self.0.in_flight.fetch_sub(1, Ordering::Relaxed);
    }
}

/// The connection's socket, noting in [`Activity`] every byte it moves.
struct Watched {
    inner: TcpStream,
    activity: Arc<Activity>,
}

impl AsyncRead for Watched {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        let this = self.get_mut();
        let before = buf.filled().len();
        let polled = Pin::new(&mut this.inner).poll_read(cx, buf);
        if buf.filled().len() > before {
            this.activity.touch();
        }
        polled
    }
}

impl AsyncWrite for Watched {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        let this = self.get_mut();
        let polled = Pin::new(&mut this.inner).poll_write(cx, buf);
        if matches!(polled, Poll::Ready(Ok(n)) if n > 0) {
            this.activity.touch();
        }
        polled
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[std::io::IoSlice<'_>],
    ) -> Poll<std::io::Result<usize>> {
        let this = self.get_mut();
        let polled = Pin::new(&mut this.inner).poll_write_vectored(cx, bufs);
        if matches!(polled, Poll::Ready(Ok(n)) if n > 0) {
            this.activity.touch();
        }
        polled
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_shutdown(cx)
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
    activity: Arc<Activity>,
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
        let in_flight = InFlight::start(&self.activity);
        Box::pin(async move {
            let _in_flight = in_flight;
            let refused = service.health_only && !is_health_check(request.uri().path());
            let response = if refused {
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
            Ok(response.into())
        })
    }
}
