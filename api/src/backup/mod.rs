//! Backups of each table as standard Avro object container files, and
//! restores from them.
//!
//! A backup is `$SHARED_DIR/backups/<table>-<UTC timestamp>-<random>.avro`
//! plus a sidecar `<name>.json` with its row count and sha256. Files are
//! written to a temp name, fsynced and then linked into place, so a reader
//! never sees half a file and a new backup never replaces an older one.

mod restore;
mod schema;
mod write;

pub use restore::{RestoreError, RestoreSummary, restore_backup};
pub use schema::{check_writer_schema, table_schema};
pub use write::create_backup;

use crate::db::Db;
use crate::domain::Table;
use crate::telemetry;
use anyhow::Context;
use std::path::{Path, PathBuf};
use vocab::BackupInfo;

const SIDECAR: &str = ".json";

/// The table's backups that have a sidecar, newest first.
pub fn list_backups(dir: &Path, table: Table) -> std::io::Result<Vec<BackupInfo>> {
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(err) => return Err(err),
    };
    let mut backups = Vec::new();
    for entry in entries {
        let path = entry?.path();
        let is_sidecar = path
            .file_name()
            .and_then(|n| n.to_str())
            .is_some_and(|n| n.ends_with(&format!(".avro{SIDECAR}")) && !n.starts_with('.'));
        if !is_sidecar {
            continue;
        }
        let Ok(text) = std::fs::read_to_string(&path) else {
            continue;
        };
        match serde_json::from_str::<BackupInfo>(&text) {
            Ok(info) if info.table == table.name() && dir.join(&info.name).is_file() => {
                backups.push(info);
            }
            Ok(_) => {}
            Err(err) => {
                tracing::warn!(path = %path.display(), error = %err, "unreadable backup sidecar")
            }
        }
    }
    backups.sort_by(|a, b| (&b.created_at, &b.name).cmp(&(&a.created_at, &a.name)));
    Ok(backups)
}

/// Why a backup name cannot be used.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum NameError {
    #[error(
        "backup names are file names in the backups folder ending in .avro, with letters, digits, `.`, `_` and `-` only"
    )]
    Invalid,
    #[error("there is no backup named `{0}`")]
    NotFound(String),
}

/// Resolves a backup name to its file, refusing anything that could point
/// outside the backups folder (separators, `..`, absolute paths, links out).
/// Removes the backups of `table` beyond the newest `keep` (0 keeps them
/// all), each file before its sidecar; returns the names removed. Skipped
/// while a restore of the table runs on any process (it may be reading
/// one of them): the next backup prunes instead.
pub async fn prune_backups(
    db: &Db,
    dir: &Path,
    table: Table,
    keep: u32,
) -> anyhow::Result<Vec<String>> {
    if keep == 0 {
        return Ok(Vec::new());
    }
    let Some(turn) = db.try_restore_turn(table).await else {
        tracing::info!(%table, "a restore of the table runs; old backups are kept for now");
        return Ok(Vec::new());
    };
    let dir = dir.to_owned();
    let removed = telemetry::spawn_blocking(move || -> std::io::Result<Vec<String>> {
        let mut removed = Vec::new();
        for old in list_backups(&dir, table)?.into_iter().skip(keep as usize) {
            let file = dir.join(&old.name);
            std::fs::remove_file(&file)?;
            std::fs::remove_file(sidecar_path(&file))?;
            removed.push(old.name);
        }
        Ok(removed)
    })
    .await?;
    drop(turn);
    let removed = removed.context("cannot remove old backups")?;
    if !removed.is_empty() {
        tracing::info!(%table, keep, removed = ?removed, "old backups pruned (BACKUP_KEEP)");
    }
    Ok(removed)
}

pub fn resolve_name(dir: &Path, name: &str) -> Result<PathBuf, NameError> {
    let well_formed = name.len() <= 255
        && name.ends_with(".avro")
        && !name.starts_with('.')
        && !name.contains("..")
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'));
    if !well_formed {
        return Err(NameError::Invalid);
    }
    let path = dir.join(name);
    let (Ok(file), Ok(folder)) = (path.canonicalize(), dir.canonicalize()) else {
        return Err(NameError::NotFound(name.to_owned()));
    };
    if file.parent() != Some(folder.as_path()) || !file.is_file() {
        return Err(NameError::Invalid);
    }
    Ok(file)
}

/// The sidecar of a backup file, when it has one.
pub fn read_sidecar(file: &Path) -> Option<BackupInfo> {
    let text = std::fs::read_to_string(sidecar_path(file)).ok()?;
    serde_json::from_str(&text).ok()
}

/// `<backup>.avro.json`, beside the backup.
fn sidecar_path(file: &Path) -> PathBuf {
    let mut sidecar = file.as_os_str().to_owned();
    sidecar.push(SIDECAR);
    PathBuf::from(sidecar)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_that_could_escape_the_folder_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("jobs-1.avro"), b"x").unwrap();
        let outside = tempfile::tempdir().unwrap();
        std::fs::write(outside.path().join("evil.avro"), b"x").unwrap();
        std::os::unix::fs::symlink(
            outside.path().join("evil.avro"),
            dir.path().join("link.avro"),
        )
        .unwrap();

        assert!(resolve_name(dir.path(), "jobs-1.avro").is_ok());
        for bad in [
            "../jobs-1.avro",
            "..avro",
            "/etc/passwd",
            "/tmp/jobs-1.avro",
            "sub/jobs-1.avro",
            "jobs-1.avro/",
            "jobs-1.json",
            ".hidden.avro",
            "jobs 1.avro",
            "",
            "link.avro",
        ] {
            assert_eq!(
                resolve_name(dir.path(), bad),
                Err(NameError::Invalid),
                "{bad:?}"
            );
        }
        assert_eq!(
            resolve_name(dir.path(), "jobs-2.avro"),
            Err(NameError::NotFound("jobs-2.avro".to_owned()))
        );
    }
}
