use super::{ApiTags, AppState, TableParam};
use crate::backup::{self, NameError, RestoreError};
use crate::http::auth::WriteAccess;
use crate::http::error::{ApiError, ErrorCode};
use crate::telemetry;
use poem::{Request, RequestBody};
use poem_openapi::param::Path;
use poem_openapi::payload::Json;
use poem_openapi::registry::{MetaMediaType, MetaRequest, MetaSchema, MetaSchemaRef, Registry};
use poem_openapi::types::Type;
use poem_openapi::{ApiExtractor, ApiExtractorType, ApiResponse, ExtractParamOptions, OpenApi};
use std::sync::Arc;
use std::time::Instant;
use vocab::RestoreRequest;
use vocab::{BackupInfo, BackupList, RestoreResult};

pub struct BackupsApi {
    pub state: Arc<AppState>,
}

#[derive(ApiResponse)]
enum BackupCreated {
    /// The backup was written.
    #[oai(status = 201)]
    Created(Json<BackupInfo>),
}

#[OpenApi(tag = "ApiTags::Backups")]
impl BackupsApi {
    /// Back a table up to a new Avro file.
    ///
    /// Rows are read from one consistent snapshot and written, compressed
    /// with `BACKUP_CODEC` (deflate unless set), to `$SHARED_DIR/backups/`.
    /// Earlier backups are kept, up to `BACKUP_KEEP` when it is set.
    #[oai(
        path = "/api/v1/tables/:table/backups",
        method = "post",
        operation_id = "create_backup"
    )]
    #[tracing::instrument(skip_all, fields(table = table.0.name()))]
    async fn create_backup(
        &self,
        _auth: WriteAccess,
        /// One of `departments`, `jobs`, `employees`.
        table: Path<TableParam>,
    ) -> Result<BackupCreated, ApiError> {
        let table = table.0.table()?;
        let started = Instant::now();
        let (db, dir) = (&self.state.db, &self.state.backups_dir);
        let info = backup::create_backup(db, dir, table, self.state.backup_codec, None).await;
        let rows = info.as_ref().ok().map(|info| info.rows);
        self.state.metrics.backup(table, started.elapsed(), rows);
        let info = info?;
        // The backup is made: a failure to prune is logged, not answered.
        if let Err(err) = backup::prune_backups(db, dir, table, self.state.backup_keep).await {
            tracing::warn!(error = format!("{err:#}"), "cannot prune old backups");
        }
        Ok(BackupCreated::Created(Json(info)))
    }

    /// List a table's backups, newest first.
    #[oai(
        path = "/api/v1/tables/:table/backups",
        method = "get",
        operation_id = "list_backups"
    )]
    #[tracing::instrument(skip_all, fields(table = table.0.name()))]
    async fn list_backups(
        &self,
        /// One of `departments`, `jobs`, `employees`.
        table: Path<TableParam>,
    ) -> Result<Json<BackupList>, ApiError> {
        let dir = self.state.backups_dir.clone();
        let table = table.0.table()?;
        let backups = telemetry::spawn_blocking(move || backup::list_backups(&dir, table))
            .await
            .map_err(anyhow::Error::new)?
            .map_err(anyhow::Error::new)?;
        Ok(Json(BackupList { backups }))
    }

    /// Restore a table from a backup.
    ///
    /// Send `{"backup": NAME}`, or no body for the newest backup. The file
    /// is checked (checksum, schema, every row validated like an ingested
    /// one, references) and loaded into a staging table that replaces the
    /// live table in one atomic step. Whatever fails, the table stays as it was.
    /// Just before the swap the table as it is is backed up; the answer
    /// names that backup (`previous_backup`): restoring it undoes this.
    #[oai(
        path = "/api/v1/tables/:table/restore",
        method = "post",
        operation_id = "restore_backup"
    )]
    #[tracing::instrument(skip_all, fields(table = table.0.name()))]
    async fn restore(
        &self,
        _auth: WriteAccess,
        /// One of `departments`, `jobs`, `employees`.
        table: Path<TableParam>,
        body: OptionalJson<RestoreRequest>,
    ) -> Result<Json<RestoreResult>, ApiError> {
        let table = table.0.table()?;
        let name = body.0.and_then(|request| request.backup);
        let started = Instant::now();
        let summary = backup::restore_backup(
            &self.state.db,
            &self.state.backups_dir,
            table,
            name.as_deref(),
            self.state.backup_codec,
        )
        .await;
        let rows = summary.as_ref().ok().map(|summary| summary.rows);
        self.state.metrics.restore(table, started.elapsed(), rows);
        let summary = summary.map_err(|err| match err {
            RestoreError::Name(NameError::Invalid) => {
                ApiError::BadRequest(err.to_string(), ErrorCode::InvalidBackupName)
            }
            RestoreError::Name(NameError::NotFound(_)) | RestoreError::NoBackups(_) => {
                ApiError::NotFound(err.to_string(), ErrorCode::BackupNotFound)
            }
            RestoreError::Invalid(message) => {
                ApiError::Unprocessable(message, ErrorCode::InvalidBackup)
            }
            RestoreError::Internal(err) => ApiError::internal(err),
        })?;
        Ok(Json(RestoreResult {
            table: table.name().to_owned(),
            backup: summary.backup,
            rows: summary.rows,
            previous_rows: summary.previous_rows,
            previous_backup: summary.previous_backup,
        }))
    }
}

/// A JSON object body that may be left out entirely. The edge has checked
/// its `Content-Type` against the spec; here it must be exactly one object
/// of `T`'s fields, each at most once (serde would also take an array for
/// a struct, and a JSON value would keep the last of two equal keys).
pub struct OptionalJson<T>(pub Option<T>);

impl<'a, T: serde::de::DeserializeOwned + Type> ApiExtractor<'a> for OptionalJson<T> {
    const TYPES: &'static [ApiExtractorType] = &[ApiExtractorType::RequestObject];
    type ParamType = ();
    type ParamRawType = ();

    fn register(registry: &mut Registry) {
        T::register(registry);
        // poem-openapi does not write `additionalProperties: false` for a
        // closed object; a schema no value meets says the same.
        if let Some(schema) = registry.schemas.get_mut(&*T::name()) {
            schema.additional_properties =
                Some(Box::new(MetaSchemaRef::Inline(Box::new(MetaSchema {
                    description: Some("No other member is allowed."),
                    min_length: Some(1),
                    max_length: Some(0),
                    ..MetaSchema::new("string")
                }))));
        }
    }

    fn request_meta() -> Option<MetaRequest> {
        Some(MetaRequest {
            description: None,
            content: vec![MetaMediaType {
                content_type: "application/json",
                schema: T::schema_ref(),
            }],
            required: false,
        })
    }

    async fn from_request(
        _request: &'a Request,
        body: &mut RequestBody,
        _options: ExtractParamOptions<Self::ParamType>,
    ) -> poem::Result<Self> {
        let bytes = body.take()?.into_vec().await?;
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return Ok(OptionalJson(None));
        }
        let refuse = |message: String| ApiError::BadRequest(message, ErrorCode::InvalidJson);
        if bytes.iter().find(|b| !b.is_ascii_whitespace()) != Some(&b'{') {
            return Err(refuse("the body must be a JSON object, or empty".to_owned()).into());
        }
        // serde, not the schema's validators: the handler checks the values
        // and answers with a code that says which one is wrong.
        let parsed = serde_json::from_slice(&bytes)
            .map_err(|err| refuse(format!("the body does not fit: {err}")))?;
        Ok(OptionalJson(Some(parsed)))
    }
}
