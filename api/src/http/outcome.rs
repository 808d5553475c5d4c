//! How the failures of the layers below (`db`, `ingest`) become answers:
//! they say what happened in their own terms (a body that is not rows, a
//! database that cannot be reached, no write turn in time), and this is the
//! one place that decides the status, so that `error` needs nothing of
//! theirs.

use super::error::{ApiError, ErrorCode};
use crate::db;
use crate::ingest::{BodyError, KeyReused};

impl ApiError {
    /// Classifies a failure: a batch key reused is a 409; a database that cannot be reached,
    /// or a write that found no turn in time, is a 503 the client may retry;
    /// anything else is a 500.
    pub fn internal(err: impl Into<anyhow::Error>) -> ApiError {
        let err = err.into();
        if let Some(reused) = err.downcast_ref::<KeyReused>() {
            ApiError::Conflict(reused.to_string(), ErrorCode::IdempotencyKeyReused)
        } else if db::is_write_busy(&err) {
            tracing::warn!(error = format!("{err:#}"), "write turn not found in time");
            ApiError::Busy
        } else if db::is_unreachable(&err) {
            ApiError::Unavailable(err)
        } else {
            ApiError::Internal(err)
        }
    }
}

impl From<sqlx::Error> for ApiError {
    fn from(err: sqlx::Error) -> Self {
        ApiError::internal(err)
    }
}

impl From<anyhow::Error> for ApiError {
    fn from(err: anyhow::Error) -> Self {
        ApiError::internal(err)
    }
}

impl From<BodyError> for ApiError {
    fn from(err: BodyError) -> Self {
        let message = err.to_string();
        match err {
            BodyError::Empty => ApiError::Unprocessable(message, ErrorCode::EmptyBatch),
            BodyError::TooManyRows => ApiError::Unprocessable(message, ErrorCode::TooManyRows),
            BodyError::NotJsonRows(_) => ApiError::BadRequest(message, ErrorCode::InvalidJson),
        }
    }
}
