//! The HTTP layer: everything between a TCP connection and a handler of
//! `routes/`. One file per concern:
//!
//! - [`admission`]: hyper serves HTTP/1.1 and HTTP/2, bounding connections,
//!   header time and streams;
//! - `request_id`: the request's id (the caller's when it is safe) and
//!   HEAD marked as such;
//! - [`auth`]: the bearer token, checked from the headers alone;
//! - `body`: the body rules (content type, encoding, size) and the time
//!   limits, applied before a handler reads anything;
//! - `route_table`: which paths and methods the API serves, for the
//!   `Allow` header, auth, body rules and metric labels;
//! - `observe`: a log line and metrics per request;
//! - [`error`]: the one error type and its JSON shape, and `outcome`: how
//!   the errors of `db` and `ingest` map onto it;
//! - [`readiness`]: the gate that holds `/api/` until the data is ready;
//! - [`healthcheck`]: the `--healthcheck` client a container runs.

pub mod admission;
pub mod auth;
mod body;
pub mod error;
pub mod healthcheck;
mod observe;
mod outcome;
pub mod readiness;
mod request_id;
pub(crate) mod route_table;

pub use body::fits;
pub use request_id::HeadRequest;

use crate::config::Config;
use crate::metrics::Metrics;
use auth::{ApiToken, authorize};
use body::{limit_time, read_body};
use error::{ApiError, render_poem_error};
use observe::observe;
use poem::http::Method;
use poem::middleware::{RequestId, ReuseId};
use poem::{Endpoint, EndpointExt, IntoResponse, Request, Response, Route};
use poem_openapi::{OpenApi, OpenApiService};
use readiness::Readiness;
use request_id::{drop_unsafe_request_id, mark_head};
use route_table::{RouteTable, allow_on_405};
use std::sync::Arc;
use std::time::Duration;

/// The whole HTTP surface: the API, Swagger UI, the spec, and the
/// middleware every request goes through.
pub fn endpoint<A: OpenApi + 'static>(
    api: OpenApiService<A, ()>,
    readiness: Arc<Readiness>,
    metrics: Arc<Metrics>,
    token: ApiToken,
    config: &Config,
) -> impl Endpoint<Output = Response> + use<A> {
    let docs = api.swagger_ui();
    let routes = Arc::new(RouteTable::of::<A>());
    let spec = api.spec_endpoint();
    let edge = Arc::new(Edge {
        routes: Arc::clone(&routes),
        max_body_bytes: config.max_body_bytes,
        reads_need_token: config.reads_need_token,
        request_timeout: config.request_timeout(),
    });
    let reading = Arc::clone(&edge);
    let request_timeout = config.request_timeout();
    let observed = (Arc::clone(&routes), metrics);
    let timed = Arc::clone(&routes);
    Route::new()
        .nest("/", api)
        .nest("/docs", docs)
        .at("/openapi.json", poem::get(spec))
        .around(move |next, request| read_body(next, request, Arc::clone(&reading)))
        .around(move |next, request| {
            let readiness = Arc::clone(&readiness);
            async move {
                if request.uri().path().starts_with("/api/") && !readiness.is_ready() {
                    return Err(ApiError::NotReady(readiness.status()).into());
                }
                Ok(next.call(request).await?.into_response())
            }
        })
        .around(move |next, request| authorize(next, request, Arc::clone(&edge)))
        .data(token)
        .catch_all_error(render_poem_error)
        .around(move |next, request| limit_time(next, request, request_timeout, Arc::clone(&timed)))
        // Boxed here so that the type of the whole chain stays shallow
        // enough for the compiler.
        .boxed()
        .around(move |next, request| allow_on_405(next, request, Arc::clone(&routes)))
        .around(move |next, request| {
            let (routes, metrics) = (Arc::clone(&observed.0), Arc::clone(&observed.1));
            observe(next, request, routes, metrics)
        })
        .around(mark_head)
        .with(RequestId::default().reuse_id(ReuseId::Use))
        .around(drop_unsafe_request_id)
}

/// What the edge decides from a request's head, before any of its body is
/// read.
pub(super) struct Edge {
    routes: Arc<RouteTable>,
    max_body_bytes: u64,
    reads_need_token: bool,
    request_timeout: Duration,
}

impl Edge {
    /// Whether the request reaches an operation that needs the token: one
    /// that declares `WriteAccess` (every write), and with
    /// `READS_NEED_TOKEN` every read under `/api/` and the metrics. A path
    /// or method the API does not serve goes on to its 404 or 405.
    pub(super) fn needs_token(&self, request: &Request) -> bool {
        let path = request.uri().path();
        let Some(operation) = self.routes.operation(request.method(), path) else {
            return false; // on to its 404 or 405
        };
        operation.guarded
            || (self.reads_need_token && (path.starts_with("/api/") || path == "/metrics"))
    }
}

pub(super) fn is_read(method: &Method) -> bool {
    matches!(*method, Method::GET | Method::HEAD)
}
