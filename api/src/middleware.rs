//! The HTTP surface: the API, Swagger UI and the spec behind the middleware
//! every request goes through (request id, logging, `Allow` on 405, errors
//! as JSON, the token checked from the headers, the readiness gate, the
//! body limit).

use crate::auth::{self, ApiToken};
use crate::config::Config;
use crate::error::{ApiError, ErrorCode, render_poem_error};
use crate::metrics::Metrics;
use crate::routes::{self, AppState, HeadRequest};
use poem::http::Method;
use poem::middleware::{RequestId, ReuseId};
use poem::{Endpoint, EndpointExt, IntoResponse, Request, Response, Route};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;
use tokio::io::AsyncReadExt;

/// The whole HTTP surface: the API, Swagger UI, the spec, and the
/// middleware every request goes through.
pub fn endpoint(
    state: Arc<AppState>,
    token: ApiToken,
    config: &Config,
) -> impl Endpoint<Output = Response> + use<> {
    let api = routes::openapi(Arc::clone(&state));
    let docs = api.swagger_ui();
    let routes = Arc::new(RouteTable::from_spec(&api.spec()));
    let spec = api.spec_endpoint();
    let edge = Arc::new(Edge {
        routes: Arc::clone(&routes),
        max_body_bytes: config.max_body_bytes,
        reads_need_token: config.reads_need_token,
        request_timeout: config.request_timeout(),
    });
    let reading = Arc::clone(&edge);
    let request_timeout = config.request_timeout();
    let observed = (Arc::clone(&routes), Arc::clone(&state.metrics));
    let timed = Arc::clone(&routes);
    Route::new()
        .nest("/", api)
        .nest("/docs", docs)
        .at("/openapi.json", poem::get(spec))
        .around(move |next, request| read_body(next, request, Arc::clone(&reading)))
        .around(move |next, request| {
            let state = Arc::clone(&state);
            async move {
                let readiness = &state.readiness;
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
struct Edge {
    routes: Arc<RouteTable>,
    max_body_bytes: u64,
    reads_need_token: bool,
    request_timeout: Duration,
}

impl Edge {
    /// Whether the request reaches an operation that needs the token: every
    /// write, and with `READS_NEED_TOKEN` every read under `/api/` and the
    /// metrics. A path or
    /// method the API does not serve goes on to its 404 or 405.
    fn needs_token(&self, request: &Request) -> bool {
        let path = request.uri().path();
        if !self.routes.serves(request.method(), path) {
            return false;
        }
        !is_read(request.method())
            || (self.reads_need_token && (path.starts_with("/api/") || path == "/metrics"))
    }
}

fn is_read(method: &Method) -> bool {
    matches!(*method, Method::GET | Method::HEAD)
}

/// Checks the token from the headers alone: a request without the right
/// one is answered 401 or 403 at once, and its body is never read.
async fn authorize<E: Endpoint>(
    next: Arc<E>,
    request: Request,
    edge: Arc<Edge>,
) -> poem::Result<Response> {
    if edge.needs_token(&request)
        && let Err(err) = auth::check_request(&request)
    {
        return Ok(refuse_unread(&request, err));
    }
    Ok(next.call(request).await?.into_response())
}

/// Reads the body of a write the API serves, up to the limit, so that an
/// oversized upload gets 413 whether it declares its length or is chunked.
/// A declared length over the limit is refused before a byte is read; a
/// chunked body is read until it passes the limit. Either way the
/// connection is closed rather than drained. A read takes no body: one
/// sent anyway is never read (the connection is closed after the answer).
/// The body must arrive within `REQUEST_TIMEOUT_SECS` (408), also for the
/// operations [`limit_time`] lets run longer.
async fn read_body<E: Endpoint>(
    next: Arc<E>,
    mut request: Request,
    edge: Arc<Edge>,
) -> poem::Result<Response> {
    if is_read(request.method()) || !edge.routes.serves(request.method(), request.uri().path()) {
        return Ok(next.call(request).await?.into_response());
    }
    let max = edge.max_body_bytes;
    let declared = request
        .headers()
        .get(poem::http::header::CONTENT_LENGTH)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.parse::<u64>().ok());
    if declared.is_some_and(|length| length > max) {
        return Ok(refuse_unread(&request, ApiError::PayloadTooLarge(max)));
    }
    let mut reader = request.take_body().into_async_read().take(max + 1);
    let mut bytes = Vec::with_capacity(declared.unwrap_or(0) as usize);
    let reading = request.data::<BodyReading>().cloned();
    reading
        .iter()
        .for_each(|r| r.0.store(true, Ordering::Relaxed));
    let read = tokio::time::timeout(edge.request_timeout, reader.read_to_end(&mut bytes)).await;
    reading
        .iter()
        .for_each(|r| r.0.store(false, Ordering::Relaxed));
    let Ok(read) = read else {
        let late = ApiError::RequestTimeout(edge.request_timeout.as_secs());
        return Ok(refuse_unread(&request, late));
    };
    if let Err(err) = read {
        let message = format!("cannot read the body: {err}");
        return Err(ApiError::BadRequest(message, ErrorCode::BadBody).into());
    }
    if bytes.len() as u64 > max {
        return Ok(refuse_unread(&request, ApiError::PayloadTooLarge(max)));
    }
    request.set_body(bytes);
    Ok(next.call(request).await?.into_response())
}

/// Set while [`read_body`] waits for the body, so that a request that runs
/// out of time there is told its body was late (408), not its work.
#[derive(Clone, Default)]
struct BodyReading(Arc<AtomicBool>);

/// The operations whose work may outlast `REQUEST_TIMEOUT_SECS`: a backup or
/// a restore of a big table takes minutes, bounds its own waits, and is
/// better finished than stopped. Their bodies still must arrive in time.
const LONG_OPERATIONS: [(Method, &str); 2] = [
    (Method::POST, "/api/v1/tables/{table}/backups"),
    (Method::POST, "/api/v1/tables/{table}/restore"),
];

/// Bounds a whole request, body and work, by `REQUEST_TIMEOUT_SECS`: a body
/// still arriving then gets 408 and the connection is closed; work still
/// running is stopped (dropped: its transaction rolls back) and gets 503.
/// The work of [`LONG_OPERATIONS`] is not bounded here.
async fn limit_time<E: Endpoint>(
    next: Arc<E>,
    mut request: Request,
    limit: Duration,
    routes: Arc<RouteTable>,
) -> poem::Result<Response> {
    let template = routes.of(request.uri().path()).map(|r| r.template.as_str());
    let long = LONG_OPERATIONS
        .iter()
        .any(|(method, path)| method == request.method() && template == Some(*path));
    if long {
        return Ok(next.call(request).await?.into_response());
    }
    let reading = BodyReading::default();
    request.extensions_mut().insert(reading.clone());
    match tokio::time::timeout(limit, next.call(request)).await {
        Ok(response) => Ok(response?.into_response()),
        Err(_) if reading.0.load(Ordering::Relaxed) => {
            Ok(closing(ApiError::RequestTimeout(limit.as_secs())))
        }
        Err(_) => {
            tracing::warn!(
                limit_secs = limit.as_secs(),
                "request stopped: REQUEST_TIMEOUT_SECS"
            );
            Ok(ApiError::Timeout(limit.as_secs()).into_response())
        }
    }
}

/// The error's response, closing the connection when the request may have
/// a body that was not read: draining it would let a client without the
/// token, or with an oversized upload, keep the server reading.
fn refuse_unread(request: &Request, err: ApiError) -> Response {
    let headers = request.headers();
    let has_body = headers.contains_key(poem::http::header::TRANSFER_ENCODING)
        || headers
            .get(poem::http::header::CONTENT_LENGTH)
            .is_some_and(|length| length != "0");
    if has_body {
        closing(err)
    } else {
        err.into_response()
    }
}

/// The error's response with `Connection: close`: the body left unread is
/// never drained.
fn closing(err: ApiError) -> Response {
    let mut response = err.into_response();
    response.headers_mut().insert(
        poem::http::header::CONNECTION,
        poem::http::HeaderValue::from_static("close"),
    );
    response
}

async fn mark_head<E: Endpoint>(next: Arc<E>, mut request: Request) -> poem::Result<Response> {
    if request.method() == Method::HEAD {
        request.extensions_mut().insert(HeadRequest);
    }
    Ok(next.call(request).await?.into_response())
}

/// The longest incoming `x-request-id` that is reused.
const MAX_REQUEST_ID: usize = 64;

/// Keeps an incoming `x-request-id` only when it is short and made of
/// letters, digits, `-`, `_`, `.` and `:`; otherwise the request gets the
/// server's own id. The id goes into every log line of the request and
/// into the rejects, so it must not carry arbitrary text.
async fn drop_unsafe_request_id<E: Endpoint>(
    next: Arc<E>,
    mut request: Request,
) -> poem::Result<Response> {
    let safe = |id: &[u8]| {
        !id.is_empty()
            && id.len() <= MAX_REQUEST_ID
            && id
                .iter()
                .all(|b| b.is_ascii_alphanumeric() || b"-_.:".contains(b))
    };
    if let Some(id) = request.headers().get(REQUEST_ID)
        && !safe(id.as_bytes())
    {
        request.headers_mut().remove(REQUEST_ID);
    }
    Ok(next.call(request).await?.into_response())
}

const REQUEST_ID: &str = "x-request-id";

/// The methods of each path of the spec: which requests reach an
/// operation, and the `Allow` header that RFC 9110 asks of a 405.
struct RouteTable(Vec<RouteMethods>);

struct RouteMethods {
    template: String,
    methods: Vec<Method>,
    allow: String,
}

impl RouteTable {
    fn from_spec(spec: &str) -> RouteTable {
        let spec: serde_json::Value = serde_json::from_str(spec).unwrap_or_default();
        let paths = spec["paths"].as_object().into_iter().flatten();
        let mut routes: Vec<RouteMethods> = paths
            .map(|(template, operations)| {
                let methods: Vec<Method> = operations
                    .as_object()
                    .into_iter()
                    .flat_map(|o| o.keys())
                    .filter_map(|method| method.to_uppercase().parse().ok())
                    .collect();
                RouteMethods::new(template, methods)
            })
            .collect();
        routes.push(RouteMethods::new("/openapi.json", vec![Method::GET]));
        let table = RouteTable(routes);
        for (method, path) in &LONG_OPERATIONS {
            debug_assert!(
                table.serves(method, &path.replace("{table}", "jobs")),
                "{method} {path} is not in the spec"
            );
        }
        table
    }

    fn of(&self, path: &str) -> Option<&RouteMethods> {
        let matches = |template: &str| {
            let (mut wanted, mut given) = (template.split('/'), path.split('/'));
            loop {
                match (wanted.next(), given.next()) {
                    (None, None) => return true,
                    (Some(w), Some(g)) if w == g || w.starts_with('{') => {}
                    _ => return false,
                }
            }
        };
        self.0.iter().find(|route| matches(&route.template))
    }

    /// Whether `method` on `path` reaches an operation (HEAD is GET).
    fn serves(&self, method: &Method, path: &str) -> bool {
        let method = if *method == Method::HEAD {
            &Method::GET
        } else {
            method
        };
        self.of(path)
            .is_some_and(|route| route.methods.contains(method))
    }
}

impl RouteMethods {
    fn new(template: &str, methods: Vec<Method>) -> RouteMethods {
        let allow = methods
            .iter()
            .map(Method::as_str)
            .collect::<Vec<_>>()
            .join(", ");
        RouteMethods {
            template: template.to_owned(),
            methods,
            allow,
        }
    }
}

async fn allow_on_405<E: Endpoint>(
    next: Arc<E>,
    request: Request,
    routes: Arc<RouteTable>,
) -> poem::Result<Response> {
    let path = request.uri().path().to_owned();
    let mut response = next.call(request).await?.into_response();
    if response.status() == poem::http::StatusCode::METHOD_NOT_ALLOWED
        && let Some(route) = routes.of(&path)
        && let Ok(value) = poem::http::HeaderValue::from_str(&route.allow)
    {
        response
            .headers_mut()
            .insert(poem::http::header::ALLOW, value);
    }
    Ok(response)
}

/// Logs every request and counts it in the metrics, by its route's
/// template (never the raw path, whose values are unbounded).
async fn observe<E: Endpoint>(
    next: Arc<E>,
    request: Request,
    routes: Arc<RouteTable>,
    metrics: Arc<Metrics>,
) -> poem::Result<Response> {
    let method = request.method().clone();
    let path = request.uri().path().to_owned();
    let started = std::time::Instant::now();
    let response = next.call(request).await?.into_response();
    let took = started.elapsed();
    let status = response.status().as_u16();
    tracing::info!(
        %method,
        path,
        status,
        ms = took.as_millis() as u64,
        "request"
    );
    let route = routes.of(&path).map(|route| route.template.as_str());
    let route = route.or_else(|| path.starts_with("/docs").then_some("/docs"));
    metrics.request(method.as_str(), route, status, took);
    Ok(response)
}
