//! `tables`, `get` and `health`: reading what the service holds.

use crate::api::Api;
use crate::output::{self, DataFormat, Printable};
use crate::table::Table;
use vocab::{DepartmentRecord, EmployeeRecord, JobRecord, Record, Status, TableList};

/// Print one row.
#[derive(Debug, clap::Args)]
#[command(
    after_help = "Examples:\n  client get employees 42\n  client get departments 3 --format json"
)]
pub struct GetArgs {
    table: Table,
    id: i64,
}

/// `tables`: each table with its row count.
pub async fn tables(api: &Api, format: DataFormat) -> anyhow::Result<()> {
    let list: TableList = api.get("/api/v1/tables").await?;
    output::print(format, &list)
}

/// `get`: one row.
pub async fn get(api: &Api, args: GetArgs, format: DataFormat) -> anyhow::Result<()> {
    let (table, id) = (args.table, args.id);
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
    fn rows(&self) -> (Vec<&'static str>, Vec<Vec<String>>) {
        let rows = self
            .tables
            .iter()
            .map(|t| vec![t.name.clone(), t.rows.to_string()])
            .collect();
        (vec!["name", "rows"], rows)
    }
}

impl Printable for Record {
    /// The table's columns, in dictionary order.
    fn rows(&self) -> (Vec<&'static str>, Vec<Vec<String>>) {
        let (table, row) = match self {
            Record::Department(d) => (
                Table::Departments,
                vec![d.department_id.to_string(), d.department_name.clone()],
            ),
            Record::Job(j) => (Table::Jobs, vec![j.job_id.to_string(), j.job_name.clone()]),
            Record::Employee(e) => (
                Table::Employees,
                vec![
                    e.employee_id.to_string(),
                    e.employee_name.clone(),
                    e.hiring_date.clone(),
                    e.department_id.to_string(),
                    e.job_id.to_string(),
                ],
            ),
        };
        (table.columns().to_vec(), vec![row])
    }
}

impl Printable for Status {
    fn rows(&self) -> (Vec<&'static str>, Vec<Vec<String>>) {
        (vec!["status"], vec![vec![self.status.clone()]])
    }

    fn sentences(&self) -> Option<String> {
        Some(self.status.clone())
    }
}
