//! `backup`, `backups` and `restore`.

use crate::api::Api;
use crate::output::{self, DataFormat, Printable};
use crate::table::{Table, TableOrAll};
use vocab::{BackupInfo, BackupList, RestoreRequest, RestoreResult};

/// `backup <table|all>`: a new Avro backup of one or every table, printed
/// in the shape of the listing.
pub async fn backup(api: &Api, target: TableOrAll, format: DataFormat) -> anyhow::Result<()> {
    api.has_token()?;
    let mut backups = Vec::new();
    for table in target.tables() {
        let info: BackupInfo = api
            .post(&format!("/api/v1/tables/{table}/backups"), None::<&()>)
            .await?;
        backups.push(info);
    }
    output::print(format, &BackupList { backups })
}

/// `backups <table>`: the table's backups, newest first.
pub async fn list(api: &Api, table: Table, format: DataFormat) -> anyhow::Result<()> {
    let list: BackupList = api.get(&format!("/api/v1/tables/{table}/backups")).await?;
    if list.backups.is_empty() && format == DataFormat::Table {
        eprintln!("no backups of {table} yet; make one with `client backup {table}`");
        return Ok(());
    }
    output::print(format, &list)
}

/// `restore <table> [--backup NAME] --yes`.
pub async fn restore(
    api: &Api,
    table: Table,
    backup: Option<&str>,
    yes: bool,
    format: DataFormat,
) -> anyhow::Result<()> {
    if !yes {
        anyhow::bail!(
            "restore replaces every row of {table} with the backup's; run again with --yes to do it"
        );
    }
    let body = backup.map(|backup| RestoreRequest {
        backup: Some(backup.to_owned()),
    });
    let result: RestoreResult = api
        .post(&format!("/api/v1/tables/{table}/restore"), body.as_ref())
        .await?;
    output::print(format, &result)
}

impl Printable for BackupList {
    fn human(&self) -> String {
        let rows = self
            .backups
            .iter()
            .map(|b| {
                vec![
                    b.table.clone(),
                    b.name.clone(),
                    b.rows.to_string(),
                    b.bytes.to_string(),
                    b.created_at.clone(),
                    b.before_restore_of
                        .as_ref()
                        .map_or_else(String::new, |of| format!("before restoring {of}")),
                ]
            })
            .collect();
        output::table(
            &["table", "name", "rows", "bytes", "created at", "note"],
            rows,
        )
    }

    fn csv(&self) -> (Vec<&'static str>, Vec<Vec<String>>) {
        let header = vec![
            "name",
            "table",
            "rows",
            "bytes",
            "sha256",
            "codec",
            "created_at",
            "before_restore_of",
        ];
        let rows = self
            .backups
            .iter()
            .map(|b| {
                vec![
                    b.name.clone(),
                    b.table.clone(),
                    b.rows.to_string(),
                    b.bytes.to_string(),
                    b.sha256.clone(),
                    b.codec.clone(),
                    b.created_at.clone(),
                    b.before_restore_of.clone().unwrap_or_default(),
                ]
            })
            .collect();
        (header, rows)
    }
}

impl Printable for RestoreResult {
    fn human(&self) -> String {
        format!(
            "restored {} from {}: {} (it had {})\n\
             the table as it was is backed up as {}; to undo: client restore {} --backup {}",
            self.table,
            self.backup,
            crate::output::count(self.rows, "row"),
            self.previous_rows,
            self.previous_backup,
            self.table,
            self.previous_backup
        )
    }

    fn csv(&self) -> (Vec<&'static str>, Vec<Vec<String>>) {
        let header = vec![
            "table",
            "backup",
            "rows",
            "previous_rows",
            "previous_backup",
        ];
        let row = vec![
            self.table.clone(),
            self.backup.clone(),
            self.rows.to_string(),
            self.previous_rows.to_string(),
            self.previous_backup.clone(),
        ];
        (header, vec![row])
    }
}
