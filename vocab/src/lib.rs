//! The vocabulary the service (`api`), its command-line client and the
//! tests share, each word said once: the tables, the reject codes, the
//! limits of a request, and every JSON shape a request or an answer has.
//!
//! The types are plain data with serde both ways. Server-only derives sit
//! behind features: `openapi` (poem-openapi schemas, so the OpenAPI
//! document is generated from these very types) and `sqlx` (rows read
//! straight into them); the client turns on `clap` only.

mod backup;
mod error;
mod reject;
mod report;
mod rows;
mod table;

pub use backup::{BackupInfo, BackupList, RestoreRequest, RestoreResult};
pub use error::{ErrorBody, ErrorCode};
pub use reject::{RejectCode, RejectPage, RejectRecord, RejectSource, RowError, raw_fields};
pub use report::{DepartmentHires, DepartmentsAboveMean, HiresByQuarter, QuarterHires};
pub use rows::{
    DepartmentRecord, EmployeeRecord, IngestResult, JobRecord, Record, RowPage, Status, TableCount,
    TableList,
};
pub use table::{Table, UnknownTable};

/// Most rows one ingest request may carry (and the client sends at once).
pub const MAX_BATCH_ROWS: usize = 1000;

/// Most rows, or rejects, one page of a listing holds (`limit`). The
/// OpenAPI document states it as a literal (a validator cannot name a
/// constant); a test of the api holds the two together.
pub const MAX_PAGE_ROWS: u32 = 1000;

/// Most bytes of a rejected row kept as `raw`; a longer row is cut there,
/// with a marker saying how long it was.
pub const MAX_RAW_BYTES: usize = 4096;
