//! The JSON shapes the API answers with: rows as stored and served, and
//! the results of ingest, listings and restores. They deserialize too, so
//! tests (and any Rust caller) read answers as these types.

use crate::domain::RejectCode;
use poem_openapi::{Object, Union};
use serde::{Deserialize, Serialize};

/// A department.
#[derive(Clone, Debug, PartialEq, Eq, Object, Serialize, Deserialize, sqlx::FromRow)]
#[oai(rename = "Department")]
pub struct DepartmentRecord {
    pub department_id: i32,
    pub department_name: String,
}

/// A job.
#[derive(Clone, Debug, PartialEq, Eq, Object, Serialize, Deserialize, sqlx::FromRow)]
#[oai(rename = "Job")]
pub struct JobRecord {
    pub job_id: i32,
    pub job_name: String,
}

/// A hired employee.
#[derive(Clone, Debug, PartialEq, Eq, Object, Serialize, Deserialize, sqlx::FromRow)]
#[oai(rename = "Employee")]
pub struct EmployeeRecord {
    pub employee_id: i32,
    pub employee_name: String,
    /// UTC, `YYYY-MM-DDTHH:MM:SSZ`.
    pub hiring_date: String,
    pub department_id: i32,
    pub job_id: i32,
}

/// A row of any of the tables.
#[derive(Clone, Debug, PartialEq, Eq, Union, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Record {
    Department(DepartmentRecord),
    Job(JobRecord),
    Employee(EmployeeRecord),
}

impl Record {
    pub fn id(&self) -> i32 {
        match self {
            Record::Department(d) => d.department_id,
            Record::Job(j) => j.job_id,
            Record::Employee(e) => e.employee_id,
        }
    }
}

/// A table and how many rows it holds.
#[derive(Clone, Debug, PartialEq, Eq, Object, Serialize, Deserialize)]
pub struct TableCount {
    pub name: String,
    pub rows: i64,
}

#[derive(Clone, Debug, PartialEq, Eq, Object, Serialize, Deserialize)]
pub struct TableList {
    pub tables: Vec<TableCount>,
}

/// What became of a batch: every row is either inserted or listed in `errors`.
#[derive(Clone, Debug, PartialEq, Eq, Object, Serialize, Deserialize)]
pub struct IngestResult {
    pub table: String,
    /// Rows in the request.
    pub received: u64,
    pub inserted: u64,
    /// Rows whose id was stored already with the very same values (a batch
    /// sent again): not stored twice, not rejected.
    pub already_stored: u64,
    pub rejected: u64,
    /// One entry per rejected row, in batch order.
    pub errors: Vec<RowError>,
    /// True for a dry run (`?dry_run=true`): the counts say what a real
    /// ingest would have done; nothing was stored or recorded.
    #[oai(default, skip_serializing_if = "is_false")]
    #[serde(default, skip_serializing_if = "is_false")]
    pub dry_run: bool,
}

fn is_false(value: &bool) -> bool {
    !*value
}

/// Why one row of the batch was not stored.
#[derive(Clone, Debug, PartialEq, Eq, Object, Serialize, Deserialize)]
pub struct RowError {
    /// 0-based index of the row in the batch.
    pub row: u64,
    /// The row's id as sent, when it was an integer.
    #[oai(skip_serializing_if_is_none)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<i64>,
    /// The column at fault, when there is one.
    #[oai(skip_serializing_if_is_none)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    pub code: RejectCode,
    pub message: String,
}

/// A page of rows in id order.
#[derive(Clone, Debug, PartialEq, Eq, Object, Serialize, Deserialize)]
pub struct RowPage {
    pub rows: Vec<Record>,
    /// Pass as `after_id` for the next page; absent on the last page.
    #[oai(skip_serializing_if_is_none)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_after_id: Option<i32>,
}

/// What is known of one backup file.
#[derive(Clone, Debug, PartialEq, Eq, Object, Serialize, Deserialize)]
pub struct BackupInfo {
    /// File name in the backups folder; pass it to restore.
    pub name: String,
    pub table: String,
    pub rows: u64,
    /// Size of the file.
    pub bytes: u64,
    /// SHA-256 of the file, checked again before a restore.
    pub sha256: String,
    /// Avro compression codec.
    pub codec: String,
    /// UTC, RFC 3339 with milliseconds.
    pub created_at: String,
    /// Set on the backup a restore takes of the table just before replacing
    /// it: the backup that restore put in. A restore without a name skips
    /// these and takes the newest other backup.
    #[oai(skip_serializing_if_is_none)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub before_restore_of: Option<String>,
}

/// A table's backups, newest first.
#[derive(Clone, Debug, PartialEq, Eq, Object, Serialize, Deserialize)]
pub struct BackupList {
    pub backups: Vec<BackupInfo>,
}

/// What a restore replaced.
#[derive(Clone, Debug, PartialEq, Eq, Object, Serialize, Deserialize)]
pub struct RestoreResult {
    pub table: String,
    pub backup: String,
    /// Rows now in the table.
    pub rows: u64,
    /// Rows the table held before.
    pub previous_rows: i64,
    /// The backup of the table as it was just before: restoring it undoes
    /// this restore.
    pub previous_backup: String,
}

/// Where a rejected row came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, poem_openapi::Enum, Serialize, Deserialize)]
#[oai(rename_all = "lowercase")]
#[serde(rename_all = "lowercase")]
pub enum RejectSource {
    /// A REST request.
    Api,
    /// A historical CSV file.
    File,
}

impl RejectSource {
    pub fn as_str(self) -> &'static str {
        match self {
            RejectSource::Api => "api",
            RejectSource::File => "file",
        }
    }
}

/// A rejected row, as recorded in its batch's transaction.
#[derive(Clone, Debug, PartialEq, Eq, Object, Serialize, Deserialize)]
pub struct RejectRecord {
    /// Keyset order: pass the last one as `after_id`.
    pub reject_id: i64,
    pub table: String,
    pub source: RejectSource,
    /// The request's id (source `api`).
    #[oai(skip_serializing_if_is_none)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
    /// The file's name (source `file`).
    #[oai(skip_serializing_if_is_none)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file_name: Option<String>,
    /// The file's SHA-256 (source `file`).
    #[oai(skip_serializing_if_is_none)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file_sha256: Option<String>,
    /// 1-based line in the file (source `file`).
    #[oai(skip_serializing_if_is_none)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub line: Option<i64>,
    /// 0-based index in the request's batch (source `api`).
    #[oai(skip_serializing_if_is_none)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub row: Option<i64>,
    /// The row's id, when it parsed as an integer.
    #[oai(skip_serializing_if_is_none)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<i64>,
    /// The column at fault, when there is one.
    #[oai(skip_serializing_if_is_none)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    pub code: RejectCode,
    pub message: String,
    /// The row as received (CSV line or JSON object), cut to 4 KiB with a
    /// marker.
    pub raw: String,
    /// UTC, RFC 3339 with milliseconds.
    pub created_at: String,
}

/// A page of rejects, oldest first.
#[derive(Clone, Debug, PartialEq, Eq, Object, Serialize, Deserialize)]
pub struct RejectPage {
    pub rejects: Vec<RejectRecord>,
    /// Pass as `after_id` for the next page; absent on the last page.
    #[oai(skip_serializing_if_is_none)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_after_id: Option<i64>,
}
