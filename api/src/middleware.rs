//! The HTTP surface: the API, Swagger UI and the spec behind the middleware
//! every request goes through (request id, logging, `Allow` on 405, errors
//! as JSON, the token checked from the headers, the readiness gate, the
//! body limit).

use crate::auth::{self, ApiToken};
use crate::config::Config;
use crate::error::{ApiError, ErrorCode, render_poem_error};
use crate::metrics::Metrics;
use crate::routes::{self, AppState, HeadRequest, payload};
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
    let rule = edge
        .routes
        .body_rule(request.method(), request.uri().path());
    let Some(rule) = rule.filter(|_| !is_read(request.method())) else {
        return Ok(next.call(request).await?.into_response());
    };
    let refusal = rule.refusal(request.headers());
    if let Some(Refusal {
        message,
        at_once: true,
    }) = refusal
    {
        return Ok(refuse_unread(
            &request,
            ApiError::UnsupportedMediaType(message),
        ));
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
    if let Some(refusal) = refusal.filter(|_| !bytes.is_empty()) {
        return Err(ApiError::UnsupportedMediaType(refusal.message).into());
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
    /// What each method's operation documents as its request body, in the
    /// order of `methods`.
    bodies: Vec<BodyRule>,
    allow: String,
}

/// The request body an operation documents: none, or one of these media
/// types (`type/subtype`). Whether it is required is the operation's to
/// check.
#[derive(Debug, Default)]
struct BodyRule {
    media_types: Vec<String>,
}

impl BodyRule {
    fn from_operation(operation: &serde_json::Value) -> BodyRule {
        let body = &operation["requestBody"];
        BodyRule {
            media_types: body["content"]
                .as_object()
                .into_iter()
                .flat_map(|content| content.keys().cloned())
                .collect(),
        }
    }

    /// Why a request whose head says this cannot be read as documented:
    /// an unsupported `Content-Encoding`, a body where none is documented,
    /// or a `Content-Type` (charset included) the operation does not read.
    /// A body declared empty needs no type (a missing required one is the
    /// operation's to refuse).
    fn refusal(&self, headers: &poem::http::HeaderMap) -> Option<Refusal> {
        use poem::http::header::{
            CONTENT_ENCODING, CONTENT_LENGTH, CONTENT_TYPE, TRANSFER_ENCODING,
        };
        let text = |name| headers.get(name).map(|v| v.to_str().unwrap_or("\u{fffd}"));
        if let Some(encoding) = text(CONTENT_ENCODING)
            && !encoding.trim().eq_ignore_ascii_case("identity")
        {
            let encoding = encoding.chars().take(40).collect::<String>();
            return Some(Refusal {
                message: format!(
                    "Content-Encoding `{encoding}` is not supported: send the body uncompressed"
                ),
                at_once: true,
            });
        }
        if text(CONTENT_LENGTH).is_some_and(|length| length.trim() == "0") {
            return None;
        }
        let documented = self.media_types.join(" or ");
        let message = match text(CONTENT_TYPE) {
            _ if self.media_types.is_empty() => "this endpoint takes no request body".to_owned(),
            None => format!("send the body with `Content-Type: {documented}`"),
            Some(given) if self.media_types.iter().any(|m| payload::fits(given, m)) => {
                return None;
            }
            Some(given) => format!(
                "`{}` is not a content type this endpoint reads: send {documented} (UTF-8)",
                given.chars().take(80).collect::<String>()
            ),
        };
        // Without a declared length, an HTTP/1.1 request has no body, but an
        // HTTP/2 one may: that is known once the body is read.
        let at_once =
            headers.contains_key(CONTENT_LENGTH) || headers.contains_key(TRANSFER_ENCODING);
        Some(Refusal { message, at_once })
    }
}

/// A request the edge refuses with 415: at once when its head says a body
/// follows, else only if one does.
struct Refusal {
    message: String,
    at_once: bool,
}

impl RouteTable {
    fn from_spec(spec: &str) -> RouteTable {
        let spec: serde_json::Value = serde_json::from_str(spec).unwrap_or_default();
        let paths = spec["paths"].as_object().into_iter().flatten();
        let mut routes: Vec<RouteMethods> = paths
            .map(|(template, operations)| {
                let operations: Vec<(Method, BodyRule)> = operations
                    .as_object()
                    .into_iter()
                    .flatten()
                    .filter_map(|(method, operation)| {
                        let method = method.to_uppercase().parse().ok()?;
                        Some((method, BodyRule::from_operation(operation)))
                    })
                    .collect();
                RouteMethods::new(template, operations)
            })
            .collect();
        let spec_itself = vec![(Method::GET, BodyRule::default())];
        routes.push(RouteMethods::new("/openapi.json", spec_itself));
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
        self.body_rule(method, path).is_some()
    }

    /// The body rule of the operation `method` on `path` reaches, if any.
    fn body_rule(&self, method: &Method, path: &str) -> Option<&BodyRule> {
        let method = if *method == Method::HEAD {
            &Method::GET
        } else {
            method
        };
        let route = self.of(path)?;
        let at = route.methods.iter().position(|m| m == method)?;
        route.bodies.get(at)
    }
}

impl RouteMethods {
    fn new(template: &str, operations: Vec<(Method, BodyRule)>) -> RouteMethods {
        let (methods, bodies): (Vec<Method>, Vec<BodyRule>) = operations.into_iter().unzip();
        let allow = methods
            .iter()
            .map(Method::as_str)
            .collect::<Vec<_>>()
            .join(", ");
        RouteMethods {
            template: template.to_owned(),
            methods,
            bodies,
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
