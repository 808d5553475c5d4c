//! One error type for every failure a client sees, one JSON shape for all of
//! them: `{"code", "message"}`.

use poem::http::StatusCode;
use poem::{IntoResponse, Response};
use poem_openapi::ApiResponse;
use poem_openapi::payload::{Json, Payload};
use poem_openapi::registry::{MetaMediaType, MetaResponse, MetaResponses, Registry};
pub use vocab::{ErrorBody, ErrorCode};

/// Every outcome of a request that is not a success.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("{0}")]
    BadRequest(String, ErrorCode),
    #[error("this endpoint needs `Authorization: Bearer <token>`")]
    Unauthorized,
    #[error("the token is not valid for this endpoint")]
    Forbidden,
    #[error("unknown table: expected one of departments, jobs, employees")]
    UnknownTable,
    #[error("{0}")]
    NotFound(String, ErrorCode),
    #[error("{0}")]
    NotAcceptable(String),
    #[error("the request body is larger than {0} bytes")]
    PayloadTooLarge(u64),
    #[error("{0}")]
    UnsupportedMediaType(String),
    #[error("{0}")]
    Conflict(String, ErrorCode),
    #[error("{0}")]
    Unprocessable(String, ErrorCode),
    #[error("the request body did not arrive within {0} s (REQUEST_TIMEOUT_SECS)")]
    RequestTimeout(u64),
    #[error("the request took longer than {0} s (REQUEST_TIMEOUT_SECS) and was stopped")]
    Timeout(u64),
    #[error("the server is at its connection limit; retry shortly")]
    Overloaded,
    #[error("no turn to write came within WRITE_WAIT_SECS; retry shortly")]
    Busy,
    #[error("the database is unavailable; try again shortly")]
    Unavailable(#[source] anyhow::Error),
    /// The service is up but not serving data yet (the text says why).
    #[error("not ready yet: {0}; try again shortly")]
    NotReady(&'static str),
    /// Anything unexpected: the cause is logged, the client sees a fixed text.
    #[error("internal error")]
    Internal(#[source] anyhow::Error),
}

impl ApiError {
    pub fn status(&self) -> StatusCode {
        match self {
            ApiError::BadRequest(..) => StatusCode::BAD_REQUEST,
            ApiError::Unauthorized => StatusCode::UNAUTHORIZED,
            ApiError::Forbidden => StatusCode::FORBIDDEN,
            ApiError::UnknownTable | ApiError::NotFound(..) => StatusCode::NOT_FOUND,
            ApiError::NotAcceptable(_) => StatusCode::NOT_ACCEPTABLE,
            ApiError::PayloadTooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ApiError::Conflict(..) => StatusCode::CONFLICT,
            ApiError::Unprocessable(..) => StatusCode::UNPROCESSABLE_ENTITY,
            ApiError::RequestTimeout(_) => StatusCode::REQUEST_TIMEOUT,
            ApiError::Unavailable(_)
            | ApiError::NotReady(_)
            | ApiError::Timeout(_)
            | ApiError::Overloaded
            | ApiError::Busy => StatusCode::SERVICE_UNAVAILABLE,
            ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    pub fn code(&self) -> ErrorCode {
        match self {
            ApiError::BadRequest(_, code)
            | ApiError::Conflict(_, code)
            | ApiError::Unprocessable(_, code)
            | ApiError::NotFound(_, code) => *code,
            ApiError::Unauthorized => ErrorCode::Unauthorized,
            ApiError::Forbidden => ErrorCode::Forbidden,
            ApiError::UnknownTable => ErrorCode::UnknownTable,
            ApiError::PayloadTooLarge(_) => ErrorCode::PayloadTooLarge,
            ApiError::NotAcceptable(_) => ErrorCode::NotAcceptable,
            ApiError::UnsupportedMediaType(_) => ErrorCode::UnsupportedMediaType,
            ApiError::RequestTimeout(_) => ErrorCode::RequestTimeout,
            ApiError::Timeout(_) => ErrorCode::Timeout,
            ApiError::Overloaded => ErrorCode::Overloaded,
            ApiError::Busy => ErrorCode::Busy,
            ApiError::Unavailable(_) => ErrorCode::DatabaseUnavailable,
            ApiError::NotReady(_) => ErrorCode::NotReady,
            ApiError::Internal(_) => ErrorCode::Internal,
        }
    }

    /// Seconds after which a retry may succeed, for `Retry-After`.
    pub fn retry_after(&self) -> Option<u64> {
        match self {
            ApiError::Overloaded | ApiError::NotReady(_) | ApiError::Unavailable(_) => Some(1),
            ApiError::Busy => Some(2),
            _ => None,
        }
    }

    pub fn body(&self) -> ErrorBody {
        ErrorBody {
            code: self.code(),
            message: self.to_string(),
        }
    }
}

impl ApiError {
    /// The response, logging the cause of a server-side failure (once: every
    /// error becomes a response here).
    fn to_response(&self) -> Response {
        match self {
            ApiError::Internal(cause) => {
                tracing::error!(error = format!("{cause:#}"), status = 500, "request failed");
            }
            // The database is down or restarting: the operator's concern,
            // not a bug, and repeated on every request while it lasts.
            ApiError::Unavailable(cause) => {
                tracing::warn!(error = format!("{cause:#}"), status = 503, "request failed");
            }
            _ => {}
        }
        let mut response = Json(self.body()).with_status(self.status()).into_response();
        if let Some(seconds) = self.retry_after() {
            response.headers_mut().insert(
                poem::http::header::RETRY_AFTER,
                poem::http::HeaderValue::from(seconds),
            );
        }
        response
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        self.to_response()
    }
}

/// Lets middleware and extractors fail with an `ApiError`; it is rendered
/// by [`render_poem_error`].
impl From<ApiError> for poem::Error {
    fn from(err: ApiError) -> poem::Error {
        let status = err.status();
        poem::Error::new(err, status)
    }
}

const DOCUMENTED: [(u16, &str); 12] = [
    (
        400,
        "The request is malformed: not JSON rows, a bad parameter.",
    ),
    (401, "No bearer token was sent."),
    (403, "The bearer token is not valid."),
    (404, "Unknown table, or no such row or backup."),
    (
        406,
        "The Accept header rules out every format the report has (JSON, CSV, HTML).",
    ),
    (
        408,
        "The body did not arrive within REQUEST_TIMEOUT_SECS; the connection is closed.",
    ),
    (
        409,
        "The Idempotency-Key was sent before with another batch.",
    ),
    (413, "The body is larger than the limit."),
    (415, "The content type is not one the endpoint reads."),
    (
        422,
        "The batch is empty or has more than 1000 rows; or the backup cannot be restored.",
    ),
    (500, "An unexpected error; the cause is in the server log."),
    (
        503,
        "Retry after Retry-After: the database cannot be reached, the service is still starting or at its connection limit, no write turn came within WRITE_WAIT_SECS, or the work took longer than REQUEST_TIMEOUT_SECS.",
    ),
];

impl ApiResponse for ApiError {
    fn meta() -> MetaResponses {
        MetaResponses {
            responses: DOCUMENTED
                .iter()
                .map(|(status, description)| MetaResponse {
                    description,
                    status: Some(*status),
                    status_range: None,
                    content: vec![MetaMediaType {
                        content_type: "application/json; charset=utf-8",
                        schema: <Json<ErrorBody> as Payload>::schema_ref(),
                    }],
                    headers: vec![],
                })
                .collect(),
        }
    }

    fn register(registry: &mut Registry) {
        <Json<ErrorBody> as Payload>::register(registry);
    }
}

/// Turns any error poem raises before or around a handler (no such route,
/// a bad parameter, a missing token, a wrong content type) into the JSON shape.
pub async fn render_poem_error(err: poem::Error) -> Response {
    if let Some(api) = err.downcast_ref::<ApiError>() {
        return api.to_response();
    }
    let status = err.status();
    if let Some(param) = err.downcast_ref::<poem_openapi::error::ParsePathError>() {
        return ApiError::BadRequest(
            format!("a path segment is not valid: {}", param.reason),
            ErrorCode::InvalidParameter,
        )
        .into_response();
    }
    if let Some(param) = err.downcast_ref::<poem_openapi::error::ParseParamError>() {
        return ApiError::BadRequest(
            format!("parameter `{}`: {}", param.name, param.reason),
            ErrorCode::InvalidParameter,
        )
        .into_response();
    }
    let (code, message) = match status {
        StatusCode::NOT_FOUND => (ErrorCode::NotFound, "no such route".to_owned()),
        StatusCode::METHOD_NOT_ALLOWED => (
            ErrorCode::MethodNotAllowed,
            "this method is not allowed on this path".to_owned(),
        ),
        StatusCode::UNAUTHORIZED => return ApiError::Unauthorized.into_response(),
        StatusCode::UNSUPPORTED_MEDIA_TYPE => (ErrorCode::UnsupportedMediaType, err.to_string()),
        StatusCode::PAYLOAD_TOO_LARGE => (ErrorCode::PayloadTooLarge, err.to_string()),
        s if s.is_server_error() => {
            tracing::error!(error = %err, "request failed");
            (ErrorCode::Internal, "internal error".to_owned())
        }
        _ => (ErrorCode::BadRequest, err.to_string()),
    };
    Json(ErrorBody { code, message })
        .with_status(status)
        .into_response()
}
