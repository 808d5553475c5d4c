use crate::api::Api;
use crate::output::table;
use serde_json::{Value, json};

const TABLES: [&str; 3] = ["departments", "jobs", "employees"];

fn backup_row(b: &Value) -> Vec<String> {
    ["table", "name", "rows", "bytes", "created_at"]
        .iter()
        .map(|k| match &b[*k] {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        })
        .collect()
}

/// `backup <table|all>`: a new Avro backup of one or every table.
pub async fn backup(api: &Api, target: &str) -> anyhow::Result<()> {
    let tables: Vec<&str> = if target == "all" {
        TABLES.to_vec()
    } else {
        vec![target]
    };
    api.has_token()?;
    let mut rows = Vec::new();
    for table in tables {
        let info = api
            .post_json(&format!("/api/v1/tables/{table}/backups"), None)
            .await?;
        rows.push(backup_row(&info));
    }
    println!(
        "{}",
        table(&["table", "name", "rows", "bytes", "created at"], rows)
    );
    Ok(())
}

/// `backups <table>`: the table's backups, newest first.
pub async fn list(api: &Api, table_name: &str) -> anyhow::Result<()> {
    let body = api
        .get_json(&format!("/api/v1/tables/{table_name}/backups"))
        .await?;
    let rows: Vec<Vec<String>> = body["backups"]
        .as_array()
        .into_iter()
        .flatten()
        .map(backup_row)
        .collect();
    if rows.is_empty() {
        eprintln!("no backups of {table_name} yet; make one with `client backup {table_name}`");
        return Ok(());
    }
    println!(
        "{}",
        table(&["table", "name", "rows", "bytes", "created at"], rows)
    );
    Ok(())
}

/// `restore <table> [--backup NAME] --yes`.
pub async fn restore(
    api: &Api,
    table_name: &str,
    backup: Option<&str>,
    yes: bool,
) -> anyhow::Result<()> {
    if !yes {
        anyhow::bail!(
            "restore replaces every row of {table_name} with the backup's; run again with --yes to do it"
        );
    }
    let body = backup.map(|name| json!({ "backup": name }));
    let result = api
        .post_json(
            &format!("/api/v1/tables/{table_name}/restore"),
            body.as_ref(),
        )
        .await?;
    println!(
        "restored {} from {}: {} rows (it had {})",
        table_name,
        result["backup"].as_str().unwrap_or("?"),
        result["rows"],
        result["previous_rows"]
    );
    Ok(())
}
