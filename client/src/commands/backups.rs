use crate::api::Api;
use crate::output::table;
use crate::table::{Table, TableOrAll};
use crate::wire::{BackupInfo, BackupList, RestoreRequest, RestoreResult};

fn backup_row(b: BackupInfo) -> Vec<String> {
    vec![
        b.table,
        b.name,
        b.rows.to_string(),
        b.bytes.to_string(),
        b.created_at,
    ]
}

/// `backup <table|all>`: a new Avro backup of one or every table.
pub async fn backup(api: &Api, target: TableOrAll) -> anyhow::Result<()> {
    api.has_token()?;
    let mut rows = Vec::new();
    for table in target.tables() {
        let info: BackupInfo = api
            .post(&format!("/api/v1/tables/{table}/backups"), None::<&()>)
            .await?;
        rows.push(backup_row(info));
    }
    println!(
        "{}",
        table(&["table", "name", "rows", "bytes", "created at"], rows)
    );
    Ok(())
}

/// `backups <table>`: the table's backups, newest first.
pub async fn list(api: &Api, table_name: Table) -> anyhow::Result<()> {
    let list: BackupList = api
        .get(&format!("/api/v1/tables/{table_name}/backups"))
        .await?;
    let rows: Vec<Vec<String>> = list.backups.into_iter().map(backup_row).collect();
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
    table_name: Table,
    backup: Option<&str>,
    yes: bool,
) -> anyhow::Result<()> {
    if !yes {
        anyhow::bail!(
            "restore replaces every row of {table_name} with the backup's; run again with --yes to do it"
        );
    }
    let body = backup.map(|backup| RestoreRequest { backup });
    let result: RestoreResult = api
        .post(
            &format!("/api/v1/tables/{table_name}/restore"),
            body.as_ref(),
        )
        .await?;
    println!(
        "restored {} from {}: {} rows (it had {})",
        table_name, result.backup, result.rows, result.previous_rows
    );
    Ok(())
}
