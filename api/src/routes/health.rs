use super::{ApiTags, AppState};
use crate::http::error::ApiError;
use poem_openapi::payload::{Json, PlainText};
use poem_openapi::{ApiResponse, OpenApi};
use std::sync::Arc;
use vocab::Status;

pub struct HealthApi {
    pub state: Arc<AppState>,
}

/// The metrics exposition (its content type is `metrics::CONTENT_TYPE`).
#[derive(ApiResponse)]
enum MetricsText {
    /// Counters, gauges and histograms in the OpenMetrics text format.
    #[oai(
        status = 200,
        content_type = "application/openmetrics-text; version=1.0.0; charset=utf-8"
    )]
    Ok(PlainText<String>),
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

    /// Metrics for Prometheus: requests by route and status, latency, rows
    /// by table and outcome, backups, restores, the historical load's
    /// progress, database pool connections, write transactions run again
    /// after a conflict. Open like the reads
    /// (`READS_NEED_TOKEN` covers it too).
    #[oai(path = "/metrics", method = "get", operation_id = "metrics")]
    async fn metrics(&self) -> MetricsText {
        let (in_use, idle) = self.state.db.pool_connections();
        let retries = self
            .state
            .db
            .conflicts()
            .map(|(conflict, count)| (conflict.name(), count));
        MetricsText::Ok(PlainText(self.state.metrics.render(in_use, idle, retries)))
    }

    /// Readiness: the database answers, its migrations are applied and the
    /// historical files are loaded; on a Galera cluster, the replica's node
    /// is synced and in the primary component. A 503 says what the service
    /// waits for.
    #[oai(path = "/ready", method = "get", operation_id = "ready")]
    async fn ready(&self) -> Result<Json<Status>, ApiError> {
        let readiness = &self.state.readiness;
        if !readiness.is_ready() {
            return Err(ApiError::NotReady(readiness.status()));
        }
        if let Some(problem) = self.state.db.node_problem().await {
            return Err(ApiError::Unavailable(anyhow::anyhow!(problem)));
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
