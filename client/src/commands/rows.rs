//! `tables`, `get` and `health`: reading what the service holds.

use crate::api::Api;
use crate::output::{self, DataFormat, Printable};
use crate::table::Table;
use vocab::{DepartmentRecord, EmployeeRecord, JobRecord, Record, Status, TableList};

/// `tables`: each table with its row count.
pub async fn tables(api: &Api, format: DataFormat) -> anyhow::Result<()> {
    let list: TableList = api.get("/api/v1/tables").await?;
    output::print(format, &list)
}

/// `get`: one row.
pub async fn get(api: &Api, table: Table, id: i64, format: DataFormat) -> anyhow::Result<()> {
    let path = format!("/api/v1/tables/{table}/rows/{id}");
    let row = match table {
        Table::Departments => Record::Department(api.get::<DepartmentRecord>(&path).await?),
        Table::Jobs => Record::Job(api.get::<JobRecord>(&path).await?),
        Table::Employees => Record::Employee(api.get::<EmployeeRecord>(&path).await?),
    };
    output::print(format, &row)
}

/// `health`: is the API up and its database ready?
pub async fn health(api: &Api, format: DataFormat) -> anyhow::Result<()> {
    let status: Status = api.get("/ready").await?;
    output::print(format, &status)
}

impl Printable for TableList {
    fn human(&self) -> String {
        output::table(&["table", "rows"], self.csv().1)
    }

    fn csv(&self) -> (Vec<&'static str>, Vec<Vec<String>>) {
        let rows = self
            .tables
            .iter()
            .map(|t| vec![t.name.clone(), t.rows.to_string()])
            .collect();
        (vec!["name", "rows"], rows)
    }
}

impl Printable for Record {
    fn human(&self) -> String {
        let (header, rows) = self.csv();
        output::table(&header, rows)
    }

    fn csv(&self) -> (Vec<&'static str>, Vec<Vec<String>>) {
        let (header, row) = match self {
            Record::Department(d) => (
                vec!["department_id", "department_name"],
                vec![d.department_id.to_string(), d.department_name.clone()],
            ),
            Record::Job(j) => (
                vec!["job_id", "job_name"],
                vec![j.job_id.to_string(), j.job_name.clone()],
            ),
            Record::Employee(e) => (
                vec![
                    "employee_id",
                    "employee_name",
                    "hiring_date",
                    "department_id",
                    "job_id",
                ],
                vec![
                    e.employee_id.to_string(),
                    e.employee_name.clone(),
                    e.hiring_date.clone(),
                    e.department_id.to_string(),
                    e.job_id.to_string(),
                ],
            ),
        };
        (header, vec![row])
    }
}

impl Printable for Status {
    fn human(&self) -> String {
        self.status.clone()
    }

    fn csv(&self) -> (Vec<&'static str>, Vec<Vec<String>>) {
        (vec!["status"], vec![vec![self.status.clone()]])
    }
}
