//! HTTP endpoints, one `#[OpenApi]` struct per resource.

mod backups;
mod health;
mod payload;
mod reports;
mod tables;

pub use backups::BackupsApi;
pub use health::HealthApi;
pub use reports::ReportsApi;
pub use tables::TablesApi;

use crate::db::Db;
use crate::domain::Table;
use crate::ingest::RejectLog;
use crate::readiness::Readiness;
use poem_openapi::{OpenApiService, Tags};
use std::path::PathBuf;
use std::sync::Arc;

/// What every handler shares.
pub struct AppState {
    pub db: Db,
    pub rejects: RejectLog,
    /// Whether the data may be served yet.
    pub readiness: Readiness,
    /// `$SHARED_DIR/backups`.
    pub backups_dir: PathBuf,
    /// `$SHARED_DIR/reports`.
    pub reports_dir: PathBuf,
}

pub type Apis = (TablesApi, BackupsApi, ReportsApi, HealthApi);

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
            HealthApi { state },
        ),
        "Hiring data migration service",
        env!("CARGO_PKG_VERSION"),
    )
    .description(
        "Moves historical HR data (departments, jobs, hired employees) from CSV into SQL, \
         takes new rows in batches of 1 to 1000, and logs every rejected row with its reason. \
         Writes need `Authorization: Bearer <token>`.",
    )
}

#[derive(Tags)]
enum ApiTags {
    /// Rows of the three tables: ingest and read.
    Tables,
    /// Avro backups of each table, and restores from them.
    Backups,
    /// The two hiring reports, as JSON, CSV or an HTML chart.
    Reports,
    /// Liveness and readiness.
    Health,
}

/// The `{table}` path parameter: the closed set of tables.
#[derive(Clone, Copy, Debug, poem_openapi::Enum)]
#[oai(rename_all = "snake_case")]
pub enum TableName {
    Departments,
    Jobs,
    Employees,
}

impl From<TableName> for Table {
    fn from(name: TableName) -> Table {
        match name {
            TableName::Departments => Table::Departments,
            TableName::Jobs => Table::Jobs,
            TableName::Employees => Table::Employees,
        }
    }
}
