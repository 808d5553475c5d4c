use super::{ApiTags, AppState};
use crate::db;
use crate::domain::Table;
use crate::http::error::ApiError;
use poem_openapi::OpenApi;
use poem_openapi::param::Query;
use poem_openapi::payload::Json;
use std::sync::Arc;
use vocab::{RejectPage, RejectSource};

pub struct RejectsApi {
    pub state: Arc<AppState>,
}

#[OpenApi(tag = "ApiTags::Rejects")]
impl RejectsApi {
    /// List rejected rows, oldest first, a page at a time.
    ///
    /// Every row that was not stored, from a request or a historical file,
    /// with its reason and the row as received. Start without `after_id`;
    /// pass the `next_after_id` of each page to get the next one.
    #[oai(
        path = "/api/v1/rejects",
        method = "get",
        operation_id = "list_rejects"
    )]
    #[tracing::instrument(skip_all)]
    async fn list_rejects(
        &self,
        /// Only this table's rejects.
        table: Query<Option<Table>>,
        /// Only rejects from requests (`api`) or from historical files (`file`).
        source: Query<Option<RejectSource>>,
        /// Return rejects with a `reject_id` greater than this.
        #[oai(default, validator(minimum(value = "0")))]
        after_id: Query<i64>,
        /// Rejects per page, 1 to 1000.
        #[oai(
            default = "default_limit",
            validator(minimum(value = "1"), maximum(value = "1000"))
        )]
        limit: Query<u32>,
    ) -> Result<Json<RejectPage>, ApiError> {
        let table = table.0;
        let mut conn = self.state.db.acquire().await?;
        let rejects = db::page_rejects(&mut conn, table, source.0, after_id.0, limit.0).await?;
        let next_after_id = (rejects.len() == limit.0 as usize)
            .then(|| rejects.last().map(|r| r.reject_id))
            .flatten();
        Ok(Json(RejectPage {
            rejects,
            next_after_id,
        }))
    }
}

fn default_limit() -> u32 {
    100
}
