//! The request's id, and HEAD marked as such.

use poem::http::Method;
use poem::{Endpoint, IntoResponse, Request, Response};
use std::sync::Arc;

/// Put in the request's data by the edge for a HEAD request: poem answers a
/// HEAD with the GET handler (and drops the body), so a handler that would
/// do costly work for the body asks for this to skip it.
#[derive(Clone, Copy, Debug)]
pub struct HeadRequest;

pub(super) async fn mark_head<E: Endpoint>(
    next: Arc<E>,
    mut request: Request,
) -> poem::Result<Response> {
    if request.method() == Method::HEAD {
        request.extensions_mut().insert(HeadRequest);
    }
    Ok(next.call(request).await?.into_response())
}

/// The longest incoming `x-request-id` that is reused.
pub(super) const MAX_REQUEST_ID: usize = 64;

/// Keeps an incoming `x-request-id` only when it is short and made of
/// letters, digits, `-`, `_`, `.` and `:`; otherwise the request gets the
/// server's own id. The id goes into every log line of the request and
/// into the rejects, so it must not carry arbitrary text.
pub(super) async fn drop_unsafe_request_id<E: Endpoint>(
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

pub(super) const REQUEST_ID: &str = "x-request-id";
