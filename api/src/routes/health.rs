use super::{ApiTags, AppState};
use crate::error::ApiError;
use poem_openapi::payload::Json;
use poem_openapi::{Object, OpenApi};
use std::sync::Arc;

pub struct HealthApi {
    pub state: Arc<AppState>,
}

#[derive(Object)]
struct Status {
    status: String,
}

#[OpenApi(tag = "ApiTags::Health")]
impl HealthApi {
    /// Liveness: the process answers.
    #[oai(path = "/health", method = "get", operation_id = "health")]
    async fn health(&self) -> Json<Status> {
        Json(Status {
            status: "ok".to_owned(),
        })
    }

    /// Readiness: the database answers, its migrations are applied and the
    /// historical files are loaded. A 503 says what the service waits for.
    #[oai(path = "/ready", method = "get", operation_id = "ready")]
    async fn ready(&self) -> Result<Json<Status>, ApiError> {
        let readiness = &self.state.readiness;
        if !readiness.is_ready() {
            return Err(ApiError::NotReady(readiness.status()));
        }
        if self.state.db.is_ready().await {
            Ok(Json(Status {
                status: "ready".to_owned(),
            }))
        } else {
            Err(ApiError::Unavailable(anyhow::anyhow!(
                "readiness check: database unreachable or migrations missing"
            )))
        }
    }
}
