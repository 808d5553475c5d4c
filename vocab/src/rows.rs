//! Rows as stored and served, listings of them, and what became of an
//! ingest.

use crate::RowError;
use serde::{Deserialize, Serialize};

/// A department.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(poem_openapi::Object))]
#[cfg_attr(feature = "openapi", oai(rename = "Department"))]
#[cfg_attr(feature = "sqlx", derive(sqlx::FromRow))]
pub struct DepartmentRecord {
    pub department_id: i32,
    pub department_name: String,
}

/// A job.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(poem_openapi::Object))]
#[cfg_attr(feature = "openapi", oai(rename = "Job"))]
#[cfg_attr(feature = "sqlx", derive(sqlx::FromRow))]
pub struct JobRecord {
    pub job_id: i32,
    pub job_name: String,
}

/// A hired employee.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(poem_openapi::Object))]
#[cfg_attr(feature = "openapi", oai(rename = "Employee"))]
#[cfg_attr(feature = "sqlx", derive(sqlx::FromRow))]
pub struct EmployeeRecord {
    pub employee_id: i32,
    pub employee_name: String,
    /// UTC, `YYYY-MM-DDTHH:MM:SSZ`.
    pub hiring_date: String,
    pub department_id: i32,
    pub job_id: i32,
}

/// A row of any of the tables.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(poem_openapi::Union))]
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
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(poem_openapi::Object))]
pub struct TableCount {
    pub name: String,
    pub rows: i64,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(poem_openapi::Object))]
pub struct TableList {
    pub tables: Vec<TableCount>,
}

/// A page of rows in id order.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(poem_openapi::Object))]
pub struct RowPage {
    pub rows: Vec<Record>,
    /// Pass as `after_id` for the next page; absent on the last page.
    #[cfg_attr(feature = "openapi", oai(skip_serializing_if_is_none))]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_after_id: Option<i32>,
}

/// What became of a batch: every row is either inserted or listed in `errors`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(poem_openapi::Object))]
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
    #[cfg_attr(feature = "openapi", oai(default, skip_serializing_if = "is_false"))]
    #[serde(default, skip_serializing_if = "is_false")]
    pub dry_run: bool,
}

fn is_false(value: &bool) -> bool {
    !*value
}

/// `GET /ready`, `GET /health`: the service's state.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(poem_openapi::Object))]
pub struct Status {
    pub status: String,
}
