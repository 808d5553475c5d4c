//! The body rules and time limits of a request, applied from its head
//! before a handler reads anything.

use super::error::{ApiError, ErrorCode};
use super::route_table::{BodyRule, RouteTable};
use super::{Edge, is_read};
use poem::{Endpoint, IntoResponse, Request, Response};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;
use tokio::io::AsyncReadExt;

/// Reads the body of a write the API serves, up to the limit, so that an
/// oversized upload gets 413 whether it declares its length or is chunked.
/// A declared length over the limit is refused before a byte is read; a
/// chunked body is read until it passes the limit. Either way the
/// connection is closed rather than drained. A read takes no body: one
/// sent anyway is never read (the connection is closed after the answer).
/// The body must arrive within `REQUEST_TIMEOUT_SECS` (408), also for the
/// operations [`limit_time`] lets run longer.
pub(super) async fn read_body<E: Endpoint>(
    next: Arc<E>,
    mut request: Request,
    edge: Arc<Edge>,
) -> poem::Result<Response> {
    let rule = edge
        .routes
        .operation(request.method(), request.uri().path())
        .map(|operation| &operation.body);
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
pub(super) struct BodyReading(Arc<AtomicBool>);

/// Bounds a whole request, body and work, by `REQUEST_TIMEOUT_SECS`: a body
/// still arriving then gets 408 and the connection is closed; work still
/// running is stopped (dropped: its transaction rolls back) and gets 503.
/// The work of a long operation (see `route_table::LONG_OPERATIONS`) is not
/// bounded here.
pub(super) async fn limit_time<E: Endpoint>(
    next: Arc<E>,
    mut request: Request,
    limit: Duration,
    routes: Arc<RouteTable>,
) -> poem::Result<Response> {
    let long = routes
        .operation(request.method(), request.uri().path())
        .is_some_and(|operation| operation.long);
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
pub(super) fn refuse_unread(request: &Request, err: ApiError) -> Response {
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
pub(super) fn closing(err: ApiError) -> Response {
    let mut response = err.into_response();
    response.headers_mut().insert(
        poem::http::header::CONNECTION,
        poem::http::HeaderValue::from_static("close"),
    );
    response
}

impl BodyRule {
    /// Why a request whose head says this cannot be read as documented:
    /// an unsupported `Content-Encoding`, a body where none is documented,
    /// or a `Content-Type` (charset included) the operation does not read.
    /// A body declared empty needs no type (a missing required one is the
    /// operation's to refuse).
    pub(super) fn refusal(&self, headers: &poem::http::HeaderMap) -> Option<Refusal> {
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
            Some(given) if self.media_types.iter().any(|m| fits(given, m)) => {
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
pub(super) struct Refusal {
    message: String,
    at_once: bool,
}

/// Whether a `Content-Type` header names the `documented` media type
/// (`type/subtype`) with no charset or a UTF-8 (or ASCII) one: every body
/// the API reads is UTF-8. The one rule of content types: the edge refuses
/// a body that fits none of its operation's types (here, from the route
/// table), and a payload of `routes/` only uses it to pick its variant.
pub fn fits(content_type: &str, documented: &str) -> bool {
    let Ok(mime) = content_type.parse::<mime::Mime>() else {
        return false;
    };
    let utf8 = match mime.get_param(mime::CHARSET) {
        None => true,
        Some(charset) => {
            charset == mime::UTF_8 || charset.as_str().eq_ignore_ascii_case("us-ascii")
        }
    };
    utf8 && mime.essence_str().eq_ignore_ascii_case(documented)
}
