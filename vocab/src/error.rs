//! The one shape of every error answer.

/// The body of every error response.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "openapi", derive(poem_openapi::Object))]
#[cfg_attr(feature = "openapi", oai(rename = "Error"))]
pub struct ErrorBody {
    pub code: ErrorCode,
    /// What went wrong, for people.
    pub message: String,
}

/// Stable, machine-readable reason a request failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(poem_openapi::Enum))]
#[cfg_attr(feature = "openapi", oai(rename_all = "snake_case"))]
pub enum ErrorCode {
    /// 400: malformed in a way no more specific code names.
    BadRequest,
    /// 400: the body could not be read.
    BadBody,
    /// 400: the body is not the JSON the endpoint documents.
    InvalidJson,
    /// 400: a path or query parameter is not valid.
    InvalidParameter,
    /// 400: a backup name that is not a plain file name.
    InvalidBackupName,
    /// 401: no bearer token.
    Unauthorized,
    /// 403: the bearer token is not valid.
    Forbidden,
    /// 404: the `{table}` is not one of the three tables.
    UnknownTable,
    /// 404: no such route or row.
    NotFound,
    /// 404: no such backup, or none of the table yet.
    BackupNotFound,
    /// 405: the path exists with other methods.
    MethodNotAllowed,
    /// 406: the `Accept` header rules out every format the report has.
    NotAcceptable,
    /// 413: the body is larger than the limit.
    PayloadTooLarge,
    /// 415: a content type the endpoint does not read.
    UnsupportedMediaType,
    /// 422: a batch with no rows.
    EmptyBatch,
    /// 422: a batch with more than [`crate::MAX_BATCH_ROWS`] rows.
    TooManyRows,
    /// 422: the backup file cannot be restored.
    InvalidBackup,
    /// 409: the `Idempotency-Key` was sent before with another batch.
    IdempotencyKeyReused,
    /// 408: the body did not arrive within `REQUEST_TIMEOUT_SECS`.
    RequestTimeout,
    /// 503: the request's work took longer than `REQUEST_TIMEOUT_SECS` and
    /// was stopped; what it had not committed was rolled back.
    Timeout,
    /// 503: the server is at `MAX_CONNECTIONS`; retry after `Retry-After`.
    Overloaded,
    /// 503: no turn to write came within `WRITE_WAIT_SECS`; retry after
    /// `Retry-After`.
    Busy,
    /// 503: the database cannot be reached.
    DatabaseUnavailable,
    /// 503: the service is still starting.
    NotReady,
    /// 500: unexpected; the cause is in the server log.
    Internal,
}

impl std::fmt::Display for ErrorCode {
    /// Its name on the wire (`not_found`), from serde: said once.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match serde_json::to_value(self) {
            Ok(serde_json::Value::String(name)) => f.write_str(&name),
            _ => write!(f, "{self:?}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_code_prints_as_its_wire_name() {
        assert_eq!(ErrorCode::NotFound.to_string(), "not_found");
        assert_eq!(
            ErrorCode::DatabaseUnavailable.to_string(),
            "database_unavailable"
        );
    }
}
