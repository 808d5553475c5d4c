//! Rows as stored and served: the wire shapes of the read endpoints.

use poem_openapi::{Object, Union};
use serde::Serialize;

/// A department.
#[derive(Clone, Debug, PartialEq, Eq, Object, Serialize, sqlx::FromRow)]
#[oai(rename = "Department")]
pub struct DepartmentRecord {
    pub department_id: i32,
    pub department_name: String,
}

/// A job.
#[derive(Clone, Debug, PartialEq, Eq, Object, Serialize, sqlx::FromRow)]
#[oai(rename = "Job")]
pub struct JobRecord {
    pub job_id: i32,
    pub job_name: String,
}

/// A hired employee.
#[derive(Clone, Debug, PartialEq, Eq, Object, Serialize, sqlx::FromRow)]
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
#[derive(Clone, Debug, PartialEq, Eq, Union, Serialize)]
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
