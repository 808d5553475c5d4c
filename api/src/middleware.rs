//! The HTTP surface: the API, Swagger UI and the spec behind the middleware
//! every request goes through (request id, logging, `Allow` on 405, errors
//! as JSON, the read guard, the readiness gate, the body limit).

use crate::auth::{self, ApiToken};
use crate::config::Config;
use crate::error::{ApiError, ErrorCode, render_poem_error};
use crate::routes::{self, AppState};
use poem::middleware::{RequestId, ReuseId};
use poem::{Endpoint, EndpointExt, IntoResponse, Request, Response, Route};
use std::sync::Arc;
use tokio::io::AsyncReadExt;

/// The whole HTTP surface: the API, Swagger UI, the spec, and the
/// middleware every request goes through.
pub fn endpoint(
    state: Arc<AppState>,
    token: ApiToken,
    config: &Config,
) -> impl Endpoint<Output = Response> + use<> {
    let max_body_bytes = config.max_body_bytes;
    let reads_need_token = config.reads_need_token;
    let api = routes::openapi(Arc::clone(&state));
    let docs = api.swagger_ui();
    let allowed = Arc::new(AllowedMethods::from_spec(&api.spec()));
    let spec = api.spec_endpoint();
    Route::new()
        .nest("/", api)
        .nest("/docs", docs)
        .at("/openapi.json", poem::get(spec))
        .around(move |next, request| limit_body(next, request, max_body_bytes))
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
        .around(move |next, request| async move {
            if reads_need_token {
                auth::guard_reads(next, request).await
            } else {
                Ok(next.call(request).await?.into_response())
            }
        })
        .data(token)
        .catch_all_error(render_poem_error)
        .around(move |next, request| allow_on_405(next, request, Arc::clone(&allowed)))
        .around(log_request)
        .around(mark_head)
        .with(RequestId::default().reuse_id(ReuseId::Use))
        .around(drop_unsafe_request_id)
}

/// In the request's data of a HEAD request: poem answers a HEAD with the
/// GET handler (and drops the body), so a handler that would do costly work
/// for the body asks for this to skip it.
#[derive(Clone, Copy, Debug)]
pub struct HeadRequest;

async fn mark_head<E: Endpoint>(next: Arc<E>, mut request: Request) -> poem::Result<Response> {
    if request.method() == poem::http::Method::HEAD {
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

/// Reads the body up front with a cap, so an oversized upload gets 413
/// whether it declares its length or is chunked. Some more of an oversized
/// body is read and dropped (up to four times the cap) before answering, so
/// that a client still sending can read the 413 instead of a reset.
async fn limit_body<E: Endpoint>(
    next: Arc<E>,
    mut request: Request,
    max: u64,
) -> poem::Result<Response> {
    let mut reader = request.take_body().into_async_read();
    let mut bytes = Vec::new();
    if let Err(err) = (&mut reader).take(max + 1).read_to_end(&mut bytes).await {
        let message = format!("cannot read the body: {err}");
        return Err(ApiError::BadRequest(message, ErrorCode::BadBody).into());
    }
    if bytes.len() as u64 > max {
        let _ = tokio::io::copy(
            &mut reader.take(max.saturating_mul(4)),
            &mut tokio::io::sink(),
        )
        .await;
        return Err(ApiError::PayloadTooLarge(max).into());
    }
    request.set_body(bytes);
    Ok(next.call(request).await?.into_response())
}

/// The methods of each path of the spec, for the `Allow` header that
/// RFC 9110 asks of a 405.
struct AllowedMethods(Vec<(String, String)>);

impl AllowedMethods {
    fn from_spec(spec: &str) -> AllowedMethods {
        let spec: serde_json::Value = serde_json::from_str(spec).unwrap_or_default();
        let paths = spec["paths"].as_object().into_iter().flatten();
        let mut allowed: Vec<(String, String)> = paths
            .map(|(template, operations)| {
                let methods: Vec<String> = operations
                    .as_object()
                    .into_iter()
                    .flat_map(|o| o.keys())
                    .map(|method| method.to_uppercase())
                    .collect();
                (template.clone(), methods.join(", "))
            })
            .collect();
        allowed.push(("/openapi.json".to_owned(), "GET".to_owned()));
        AllowedMethods(allowed)
    }

    fn of(&self, path: &str) -> Option<&str> {
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
        self.0
            .iter()
            .find(|(template, _)| matches(template))
            .map(|(_, methods)| methods.as_str())
    }
}

async fn allow_on_405<E: Endpoint>(
    next: Arc<E>,
    request: Request,
    allowed: Arc<AllowedMethods>,
) -> poem::Result<Response> {
    let path = request.uri().path().to_owned();
    let mut response = next.call(request).await?.into_response();
    if response.status() == poem::http::StatusCode::METHOD_NOT_ALLOWED
        && let Some(methods) = allowed.of(&path)
        && let Ok(value) = poem::http::HeaderValue::from_str(methods)
    {
        response
            .headers_mut()
            .insert(poem::http::header::ALLOW, value);
    }
    Ok(response)
}

async fn log_request<E: Endpoint>(next: Arc<E>, request: Request) -> poem::Result<Response> {
    let method = request.method().clone();
    let path = request.uri().path().to_owned();
    let started = std::time::Instant::now();
    let response = next.call(request).await?.into_response();
    tracing::info!(
        %method,
        path,
        status = response.status().as_u16(),
        ms = started.elapsed().as_millis() as u64,
        "request"
    );
    Ok(response)
}
