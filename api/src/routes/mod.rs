//! HTTP endpoints, one `#[OpenApi]` struct per resource.

mod backups;
mod health;
mod home;
pub(crate) mod payload;
mod rejects;
mod reports;
mod tables;

pub use backups::BackupsApi;
pub use health::HealthApi;
pub use home::HomeApi;
pub use rejects::RejectsApi;
pub use reports::ReportsApi;
pub use tables::TablesApi;

use crate::config::BackupCodec;
use crate::db::Db;
use crate::domain::{Table, UnknownTable};
use crate::http::error::ApiError;
use crate::http::readiness::Readiness;
use crate::metrics::Metrics;
use crate::reports::SavedReports;
use poem_openapi::registry::{MetaSchemaRef, Registry};
use poem_openapi::types::{ParseFromParameter, ParseResult, Type};
use poem_openapi::{OpenApiService, Tags};
use std::borrow::Cow;
use std::path::PathBuf;
use std::sync::Arc;

pub use crate::http::HeadRequest;

/// What every handler shares.
pub struct AppState {
    pub db: Db,
    /// Whether the data may be served yet.
    pub readiness: Arc<Readiness>,
    /// `$SHARED_DIR/backups`.
    pub backups_dir: PathBuf,
    /// `$SHARED_DIR/reports`.
    pub reports_dir: PathBuf,
    /// What this process last saved there.
    pub saved_reports: Arc<SavedReports>,
    /// `BACKUP_KEEP`: backups kept per table (0: all).
    pub backup_keep: u32,
    /// `BACKUP_CODEC`: how new backups are compressed.
    pub backup_codec: BackupCodec,
    pub metrics: Arc<Metrics>,
    /// `READS_NEED_TOKEN`: the home page shows nothing without the token.
    pub reads_need_token: bool,
    /// The engine and its version, and how the service uses it: asked of
    /// the database once, by the first page that shows it.
    pub engine: std::sync::OnceLock<(String, &'static str)>,
    /// What the historical load found at this start, once it has run.
    pub historical: std::sync::Mutex<Option<crate::ingest::LoadReport>>,
}

pub type Apis = (
    TablesApi,
    BackupsApi,
    ReportsApi,
    RejectsApi,
    HealthApi,
    HomeApi,
);

/// The OpenAPI service: every operation, documented.
pub fn openapi(state: Arc<AppState>) -> OpenApiService<Apis, ()> {
    OpenApiService::new(
        (
            TablesApi {
                state: Arc::clone(&state),
            },
            BackupsApi {
                state: Arc::clone(&state),
            },
            ReportsApi {
                state: Arc::clone(&state),
            },
            RejectsApi {
                state: Arc::clone(&state),
            },
            HealthApi {
                state: Arc::clone(&state),
            },
            HomeApi { state },
        ),
        "Hiring data migration service",
        env!("CARGO_PKG_VERSION"),
    )
    .description(format!(
        "Moves historical HR data (departments, jobs, hired employees) from CSV into SQL, \
         takes new rows in batches of 1 to {}, and records every rejected row with its reason. \
         Writes need `Authorization: Bearer <token>`.",
        vocab::MAX_BATCH_ROWS
    ))
}

#[derive(Tags)]
enum ApiTags {
    /// Rows of the three tables: ingest and read.
    Tables,
    /// Avro backups of each table, and restores from them.
    Backups,
    /// The two hiring reports, as JSON, CSV or an HTML chart.
    Reports,
    /// Rows that were not stored, with their reasons.
    Rejects,
    /// Liveness, readiness and metrics.
    Health,
}

/// The `{table}` path parameter, documented as [`Table`] (`TableName`). Parsing never
/// fails here, so poem-openapi's generic 400 never answers for it; the
/// handler asks [`TableParam::table`], which is a 404 `unknown_table` for
/// anything but the three names.
pub struct TableParam(Result<Table, UnknownTable>);

impl TableParam {
    pub fn table(self) -> Result<Table, ApiError> {
        self.0.map_err(|_| ApiError::UnknownTable)
    }

    /// The name as given, known or not (for spans and logs).
    pub fn name(&self) -> &str {
        match &self.0 {
            Ok(table) => table.name(),
            Err(UnknownTable(name)) => name,
        }
    }
}

impl Type for TableParam {
    const IS_REQUIRED: bool = true;
    type RawValueType = Self;
    type RawElementValueType = Self;

    fn name() -> Cow<'static, str> {
        <Table as Type>::name()
    }

    fn schema_ref() -> MetaSchemaRef {
        <Table as Type>::schema_ref()
    }

    fn register(registry: &mut Registry) {
        <Table as Type>::register(registry);
    }

    fn as_raw_value(&self) -> Option<&Self> {
        Some(self)
    }

    fn raw_element_iter<'a>(&'a self) -> Box<dyn Iterator<Item = &'a Self> + 'a> {
        Box::new(std::iter::once(self))
    }
}

impl ParseFromParameter for TableParam {
    fn parse_from_parameter(value: &str) -> ParseResult<Self> {
        Ok(TableParam(value.parse()))
    }
}
