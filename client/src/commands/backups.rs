//! `backup`, `backups` and `restore`.

use crate::api::Api;
use crate::output::{self, DataFormat, Printable, count};
use crate::table::{Table, TableOrAll};
use vocab::{BackupInfo, BackupList, RestoreRequest, RestoreResult};

/// Back a table (or all) up to a new Avro file on the server.
#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:\n  client backup employees\n  client backup all --format json")]
pub struct BackupArgs {
    target: TableOrAll,
}

/// List a table's backups, newest first.
#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:\n  client backups employees")]
pub struct ListArgs {
    table: Table,
}

/// Replace a table's rows with a backup's (the newest by default).
#[derive(Debug, clap::Args)]
#[command(
    after_help = "Examples:\n  client restore employees --yes\n  client restore jobs --backup jobs-20261125T063000.123Z-a1b2c3.avro --yes"
)]
pub struct RestoreArgs {
    table: Table,
    /// The backup's name, from `backups`.
    #[arg(long)]
    backup: Option<String>,
    /// Confirm: the table's current rows are replaced.
    #[arg(long)]
    yes: bool,
}

/// `backup <table|all>`: a new Avro backup of one or every table, printed
/// in the shape of the listing.
pub async fn backup(api: &Api, args: BackupArgs, format: DataFormat) -> anyhow::Result<()> {
    api.has_token()?;
    let mut backups = Vec::new();
    for table in args.target.tables() {
        let info: BackupInfo = api
            .post(&format!("/api/v1/tables/{table}/backups"), None::<&()>)
            .await?;
        backups.push(info);
    }
    output::print(format, &BackupList { backups })
}

/// `backups <table>`: the table's backups, newest first.
pub async fn list(api: &Api, args: ListArgs, format: DataFormat) -> anyhow::Result<()> {
    let table = args.table;
    let list: BackupList = api.get(&format!("/api/v1/tables/{table}/backups")).await?;
    if list.backups.is_empty() && format == DataFormat::Table {
        eprintln!("no backups of {table} yet; make one with `client backup {table}`");
        return Ok(());
    }
    output::print(format, &list)
}

/// `restore <table> [--backup NAME] --yes`.
pub async fn restore(api: &Api, args: RestoreArgs, format: DataFormat) -> anyhow::Result<()> {
    let table = args.table;
    if !args.yes {
        anyhow::bail!(
            "restore replaces every row of {table} with the backup's; run again with --yes to do it"
        );
    }
    let body = args.backup.map(|backup| RestoreRequest {
        backup: Some(backup),
    });
    let result: RestoreResult = api
        .post(&format!("/api/v1/tables/{table}/restore"), body.as_ref())
        .await?;
    output::print(format, &result)
}

impl Printable for BackupList {
    const FOR_PEOPLE: Option<&'static [&'static str]> = Some(&[
        "table",
        "name",
        "rows",
        "bytes",
        "created_at",
        "before_restore_of",
    ]);

    fn rows(&self) -> (Vec<&'static str>, Vec<Vec<String>>) {
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
    fn rows(&self) -> (Vec<&'static str>, Vec<Vec<String>>) {
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

    fn sentences(&self) -> Option<String> {
        Some(format!(
            "restored {} from {}: {} (it had {})\n\
             the table as it was is backed up as {}; to undo: client restore {} --backup {}",
            self.table,
            self.backup,
            count(self.rows, "row"),
            self.previous_rows,
            self.previous_backup,
            self.table,
            self.previous_backup
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn people_read_a_listing_table_first_without_the_checksum_and_csv_has_every_field() {
        let list = BackupList {
            backups: vec![BackupInfo {
                name: "jobs-20261203T070000.000Z-a1b2c3.avro".to_owned(),
                table: "jobs".to_owned(),
                rows: 40,
                bytes: 1234,
                sha256: "ab".repeat(32),
                codec: "deflate".to_owned(),
                created_at: "2026-12-03T07:00:00.000Z".to_owned(),
                before_restore_of: None,
            }],
        };
        let table = output::render(DataFormat::Table, &list).unwrap();
        let row = table.lines().find(|l| l.contains(".avro")).unwrap();
        let cells: Vec<&str> = row.trim_matches('│').split('┆').map(str::trim).collect();
        assert_eq!(
            &cells[..2],
            ["jobs", "jobs-20261203T070000.000Z-a1b2c3.avro"]
        );
        assert!(!table.contains(&"ab".repeat(32)), "{table}");
        let csv = output::render(DataFormat::Csv, &list).unwrap();
        assert!(
            csv.starts_with("name,table,rows,bytes,sha256,codec,created_at,before_restore_of\n")
        );
        assert!(csv.contains(&"ab".repeat(32)));
    }
}
