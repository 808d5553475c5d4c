use crate::api::Api;
use crate::output::table;
use crate::table::Table;
use crate::wire::{Department, Employee, Job, Record, Status, TableList};

/// `tables`: each table with its row count.
pub async fn tables(api: &Api) -> anyhow::Result<()> {
    let list: TableList = api.get("/api/v1/tables").await?;
    let rows: Vec<Vec<String>> = list
        .tables
        .into_iter()
        .map(|t| vec![t.name, t.rows.to_string()])
        .collect();
    println!("{}", table(&["table", "rows"], rows));
    Ok(())
}

/// `get`: one row as JSON.
pub async fn get(api: &Api, table: Table, id: i64) -> anyhow::Result<()> {
    let path = format!("/api/v1/tables/{table}/rows/{id}");
    let row = match table {
        Table::Departments => Record::Department(api.get::<Department>(&path).await?),
        Table::Jobs => Record::Job(api.get::<Job>(&path).await?),
        Table::Employees => Record::Employee(api.get::<Employee>(&path).await?),
    };
    println!("{}", serde_json::to_string_pretty(&row)?);
    Ok(())
}

/// `health`: is the API up and its database ready?
pub async fn health(api: &Api) -> anyhow::Result<()> {
    let body: Status = api.get("/ready").await?;
    println!("{}", body.status);
    Ok(())
}
