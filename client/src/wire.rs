//! The API's answers as this client reads them: one type per response shape
//! (the server's are in `api/src/wire.rs` and
//! `api/src/reports/shape.rs`). A field the
//! server renamed or retyped fails the command with the endpoint's name
//! instead of reading as a default. Each type serializes back to the same
//! JSON for `--format json`.

use serde::{Deserialize, Serialize};

/// The body of every error response.
#[derive(Debug, Deserialize)]
pub struct ErrorBody {
    pub code: String,
    pub message: String,
}

/// `GET /ready`.
#[derive(Debug, Deserialize, Serialize)]
pub struct Status {
    pub status: String,
}

/// `GET /api/v1/tables`: each table with its row count.
#[derive(Debug, Deserialize, Serialize)]
pub struct TableList {
    pub tables: Vec<TableCount>,
}

#[derive(Debug, Deserialize, Serialize)]
pub struct TableCount {
    pub name: String,
    pub rows: i64,
}

/// `POST /api/v1/tables/{table}/rows`: what became of a batch.
#[derive(Debug, Deserialize)]
pub struct IngestResult {
    /// Rows in the request.
    pub received: u64,
    pub inserted: u64,
    /// Rows stored already with the same values (a batch sent again).
    pub already_stored: u64,
    pub rejected: u64,
    /// One entry per rejected row, in batch order.
    pub errors: Vec<RowError>,
    /// Set when the API only checked the batch (`?dry_run=true`).
    #[serde(default)]
    pub dry_run: bool,
}

/// Why one row of a batch was not stored.
#[derive(Debug, Deserialize)]
pub struct RowError {
    /// 0-based index of the row in the batch.
    pub row: u64,
    /// The row's id as sent, when it was an integer.
    pub id: Option<i64>,
    /// The column at fault, when there is one.
    pub field: Option<String>,
    pub code: String,
    pub message: String,
}

/// `GET /api/v1/tables/departments/rows/{id}`.
#[derive(Debug, Deserialize, Serialize)]
pub struct Department {
    pub department_id: i32,
    pub department_name: String,
}

/// `GET /api/v1/tables/jobs/rows/{id}`.
#[derive(Debug, Deserialize, Serialize)]
pub struct Job {
    pub job_id: i32,
    pub job_name: String,
}

/// `GET /api/v1/tables/employees/rows/{id}`.
#[derive(Debug, Deserialize, Serialize)]
pub struct Employee {
    pub employee_id: i32,
    pub employee_name: String,
    /// UTC, `YYYY-MM-DDTHH:MM:SSZ`.
    pub hiring_date: String,
    pub department_id: i32,
    pub job_id: i32,
}

/// A row of one of the tables; which one the request decides.
#[derive(Debug, Serialize)]
#[serde(untagged)]
pub enum Record {
    Department(Department),
    Job(Job),
    Employee(Employee),
}

/// One backup file: `POST /api/v1/tables/{table}/backups` answers one,
/// `GET` of the same path lists them in a [`BackupList`].
#[derive(Debug, Deserialize, Serialize)]
pub struct BackupInfo {
    /// File name in the backups folder; pass it to restore.
    pub name: String,
    pub table: String,
    pub rows: u64,
    pub bytes: u64,
    pub sha256: String,
    pub codec: String,
    /// UTC, RFC 3339 with milliseconds.
    pub created_at: String,
    /// On the backup a restore took just before replacing the table: the
    /// backup that restore put in.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub before_restore_of: Option<String>,
}

/// `GET /api/v1/tables/{table}/backups`: newest first.
#[derive(Debug, Deserialize, Serialize)]
pub struct BackupList {
    pub backups: Vec<BackupInfo>,
}

/// The body of `POST /api/v1/tables/{table}/restore` naming a backup.
#[derive(Debug, Serialize)]
pub struct RestoreRequest<'a> {
    pub backup: &'a str,
}

/// `POST /api/v1/tables/{table}/restore`: what a restore replaced.
#[derive(Debug, Deserialize, Serialize)]
pub struct RestoreResult {
    pub table: String,
    pub backup: String,
    /// Rows now in the table.
    pub rows: u64,
    /// Rows the table held before.
    pub previous_rows: i64,
    /// The backup of the table as it was just before (restore it to undo).
    pub previous_backup: String,
}

/// `GET /api/v1/reports/hires-by-quarter?format=json` (req1).
#[derive(Debug, Deserialize, Serialize)]
pub struct Req1 {
    pub year: i32,
    pub rows: Vec<Req1Row>,
}

#[derive(Debug, Deserialize, Serialize)]
pub struct Req1Row {
    pub department: String,
    pub job: String,
    pub q1: i64,
    pub q2: i64,
    pub q3: i64,
    pub q4: i64,
}

/// `GET /api/v1/reports/departments-above-mean?format=json` (req2).
#[derive(Debug, Deserialize, Serialize)]
pub struct Req2 {
    pub year: i32,
    /// Mean of hires per department, over every department.
    pub mean: f64,
    pub rows: Vec<Req2Row>,
}

#[derive(Debug, Deserialize, Serialize)]
pub struct Req2Row {
    pub id: i32,
    pub department: String,
    pub hired: i64,
}

/// `GET /api/v1/rejects`: a page of rejected rows, oldest first.
#[derive(Debug, Deserialize)]
pub struct RejectPage {
    pub rejects: Vec<Reject>,
    pub next_after_id: Option<i64>,
}

/// One rejected row and why.
#[derive(Debug, Deserialize, Serialize)]
pub struct Reject {
    pub reject_id: i64,
    pub table: String,
    pub source: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file_sha256: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub line: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub row: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    pub code: String,
    pub message: String,
    pub raw: String,
    pub created_at: String,
}
