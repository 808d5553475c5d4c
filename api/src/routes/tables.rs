use super::payload::RowsBody;
use super::{ApiTags, AppState, TableParam};
use crate::db;
use crate::http::auth::WriteAccess;
use crate::http::error::{ApiError, ErrorCode};
use crate::ingest::{self, Source};
use crate::metrics::RowSource;
use poem::Request;
use poem::middleware::ReqId;
use poem_openapi::param::{Header, Path, Query};
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, OpenApi};
use std::sync::Arc;
use vocab::{IngestResult, Record, RowPage, TableCount, TableList};

pub struct TablesApi {
    pub state: Arc<AppState>,
}

#[derive(ApiResponse)]
enum RowFound {
    /// The row.
    #[oai(status = 200)]
    Ok(Json<Record>),
}

#[OpenApi(tag = "ApiTags::Tables")]
impl TablesApi {
    /// List the tables with their row counts.
    #[oai(path = "/api/v1/tables", method = "get", operation_id = "list_tables")]
    #[tracing::instrument(skip_all)]
    async fn list_tables(&self) -> Result<Json<TableList>, ApiError> {
        let mut conn = self.state.db.acquire().await?;
        let tables = db::table_counts(&mut conn)
            .await?
            .into_iter()
            .map(|(table, rows)| TableCount {
                name: table.name().to_owned(),
                rows,
            })
            .collect();
        Ok(Json(TableList { tables }))
    }

    /// Insert 1 to 1000 rows.
    ///
    /// Send a JSON array of objects (keys are the table's columns) or a
    /// headerless `text/csv` body. Each row is validated against the data
    /// dictionary: rows that pass are stored, the others are reported in
    /// `errors` by their 0-based index and recorded in the rejects (see
    /// `GET /api/v1/rejects`). A row whose id is stored already with the
    /// same values counts as `already_stored` (a batch sent twice stores
    /// nothing twice and reports nothing wrong); with other values it is
    /// rejected as `duplicate_id`.
    ///
    /// With `dry_run=true` the batch is checked exactly the same way
    /// (dictionary, references, stored ids, ids repeated in the batch) and
    /// the same report comes back, marked `"dry_run": true`, but nothing is
    /// stored and no reject is recorded.
    #[oai(
        path = "/api/v1/tables/:table/rows",
        method = "post",
        operation_id = "insert_rows"
    )]
    #[tracing::instrument(skip_all, fields(table = table.0.name()))]
    async fn insert_rows(
        &self,
        _auth: WriteAccess,
        /// One of `departments`, `jobs`, `employees`.
        table: Path<TableParam>,
        body: RowsBody,
        /// Check the batch and answer what an ingest would do, storing
        /// nothing.
        #[oai(default)]
        dry_run: Query<bool>,
        /// A name for this batch, unique to it (a UUID, say), to send it
        /// again safely: a batch stored before under the same key is
        /// answered as it was then, and nothing is stored or recorded
        /// again. Keys are kept for a day. The same key with another table
        /// or body is refused (409 `idempotency_key_reused`).
        #[oai(
            name = "Idempotency-Key",
            validator(min_length = 1, max_length = 255, pattern = r"^[!-~]*$")
        )]
        idempotency_key: Header<Option<String>>,
        request: &Request,
    ) -> Result<Json<IngestResult>, ApiError> {
        let table = table.0.table()?;
        let (candidates, body) = match &body {
            RowsBody::Json(json) => (ingest::parse_json_body(table, &json.0)?, &json.0),
            RowsBody::Csv(csv) => (ingest::parse_csv_body(table, &csv.0)?, &csv.0),
        };
        let dry_run = dry_run.0;
        let answered = if dry_run {
            ingest::dry_run_batch(&self.state.db, table, &candidates).await?
        } else {
            let key = idempotency_key
                .0
                .map(|key| ingest::BatchKey::new(key, body));
            let request_id = request
                .data::<ReqId>()
                .map(ToString::to_string)
                .unwrap_or_default();
            let source = Source::Request {
                request_id: &request_id,
            };
            let ingest::Answered { answer, replayed } =
                ingest::ingest_batch(&self.state.db, table, source, &candidates, key.as_ref())
                    .await?;
            if replayed {
                tracing::info!(%table, "batch sent again with its key; answered as before");
                return Ok(Json(answer));
            }
            self.state.metrics.rows(
                table,
                RowSource::api,
                answer.inserted,
                answer.already_stored,
                answer.rejected,
            );
            answer
        };
        tracing::info!(
            %table,
            dry_run,
            received = answered.received,
            inserted = answered.inserted,
            already_stored = answered.already_stored,
            rejected = answered.rejected,
            "batch checked"
        );
        Ok(Json(answered))
    }

    /// Get one row by id.
    #[oai(
        path = "/api/v1/tables/:table/rows/:id",
        method = "get",
        operation_id = "get_row"
    )]
    #[tracing::instrument(skip_all, fields(table = table.0.name(), id = id.0))]
    async fn get_row(
        &self,
        /// One of `departments`, `jobs`, `employees`.
        table: Path<TableParam>,
        /// The row's id.
        #[oai(validator(minimum(value = "1"), maximum(value = "2147483647")))]
        id: Path<i64>,
    ) -> Result<RowFound, ApiError> {
        let table = table.0.table()?;
        let mut conn = self.state.db.acquire().await?;
        // The validator keeps the id within i32.
        let id = i32::try_from(id.0).unwrap_or_default();
        match db::get_row(&mut conn, table, id).await? {
            Some(record) => Ok(RowFound::Ok(Json(record))),
            None => Err(ApiError::NotFound(
                format!("no row with id {id} in {table}"),
                ErrorCode::NotFound,
            )),
        }
    }

    /// List rows in id order, a page at a time.
    ///
    /// Start without `after_id`; pass the `next_after_id` of each page to
    /// get the next one.
    #[oai(
        path = "/api/v1/tables/:table/rows",
        method = "get",
        operation_id = "list_rows"
    )]
    #[tracing::instrument(skip_all, fields(table = table.0.name()))]
    async fn list_rows(
        &self,
        /// One of `departments`, `jobs`, `employees`.
        table: Path<TableParam>,
        /// Return rows with an id greater than this.
        #[oai(
            default,
            validator(minimum(value = "0"), maximum(value = "2147483647"))
        )]
        after_id: Query<i64>,
        /// Rows per page, 1 to 1000.
        #[oai(
            default = "default_limit",
            validator(minimum(value = "1"), maximum(value = "1000"))
        )]
        limit: Query<u32>,
    ) -> Result<Json<RowPage>, ApiError> {
        let table = table.0.table()?;
        let mut conn = self.state.db.acquire().await?;
        let after_id = i32::try_from(after_id.0).unwrap_or(i32::MAX);
        let rows = db::page_rows(&mut conn, table, after_id, limit.0).await?;
        let next_after_id = (rows.len() == limit.0 as usize)
            .then(|| rows.last().map(Record::id))
            .flatten();
        Ok(Json(RowPage {
            rows,
            next_after_id,
        }))
    }
}

fn default_limit() -> u32 {
    100
}
