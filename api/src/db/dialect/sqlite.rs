//! SQLite: an embedded file, one API process, one writer at a time.

use super::execute;
use crate::domain::Table;
use anyhow::Context;
use sqlx::SqliteConnection;
use sqlx::{AnyConnection, Connection};
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::mpsc;
use vocab::Record;

/// Connections of the pool (readers beside the one writer).
pub(super) const MAX_CONNECTIONS: u32 = 4;

/// SQLite undoes a refused multi-row statement alone, by default, from a
/// statement journal: a copy of every page the statement touches, some
/// 4 MiB for 1000 employees, made whether anything is refused or not.
/// OR FAIL stops at a refused row and keeps the rows stored before it;
/// every caller rolls its whole transaction back on an error, so nothing
/// half-done is ever committed. 1000-row batches: ~25 % faster.
pub(super) const INSERT: &str = "INSERT OR FAIL";

/// Adds to a table's count (`?` table, `?` slot, `?` rows).
pub(super) const ADD_TO_COUNT: &str = "INSERT INTO row_counts (table_name, slot, row_count) \
     VALUES (?, ?, ?) ON CONFLICT (table_name, slot) DO UPDATE \
     SET row_count = row_count + excluded.row_count";

/// The file's write lock up front, waited for by the busy timeout, rather
/// than an upgrade from reading that may fail.
pub(super) const BEGIN_WRITE: &str = "BEGIN IMMEDIATE";

/// Every connection's settings. WAL lets readers run beside the one writer;
/// NORMAL sync is durable across application crashes (WAL is fsynced at
/// checkpoints) and much faster than FULL. A 1000-row batch of employees
/// dirties about a thousand pages of the date index, so the default
/// checkpoint (every 1000 WAL pages) ran after nearly every commit; every
/// 16384 pages (64 MiB of WAL) took the 1 M-row REST ingest from 33 k to
/// 43 k rows/s. A write waits for the file's lock at most `write_wait`.
/// Each connection caches 8 MiB of pages, with the OS's page cache under
/// it: with 32 MiB, five connections took the API from 124 to 180 MiB
/// between 1 M and 10 M rows; with 8 MiB it stays at 102-108 MiB, and
/// neither ingest nor the reports got slower (docs/benchmarks.md, "Memory
/// at 1 M and 10 M").
pub(super) fn session(write_wait: Duration) -> String {
    format!(
        "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; \
         PRAGMA busy_timeout = {}; PRAGMA cache_size = -8192; \
         PRAGMA wal_autocheckpoint = 16384;",
        write_wait.as_millis()
    )
}

pub(super) async fn version(conn: &mut AnyConnection) -> sqlx::Result<String> {
    let version: String = sqlx::query_scalar("SELECT sqlite_version()")
        .fetch_one(conn)
        .await?;
    Ok(format!("SQLite {version}"))
}

/// The table's own DDL under the staging name; SQLite keeps indexes apart
/// from it, so the staging table has none.
pub(super) async fn create_staging(
    conn: &mut AnyConnection,
    table: Table,
    staging: &str,
) -> sqlx::Result<()> {
    let ddl: String =
        sqlx::query_scalar("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = ?")
            .bind(table.name())
            .fetch_one(&mut *conn)
            .await?;
    let ddl = ddl.replacen(
        &format!("CREATE TABLE {table} "),
        &format!("CREATE TABLE {staging} "),
        1,
    );
    execute(conn, ddl).await
}

/// The tables of the file.
pub(super) async fn table_names(conn: &mut AnyConnection) -> sqlx::Result<Vec<String>> {
    sqlx::query_scalar("SELECT name FROM sqlite_master WHERE type = 'table'")
        .fetch_all(conn)
        .await
}

/// SQLite's DDL is transactional: one transaction swaps the rows and the
/// count.
pub(super) async fn swap_in_staging(
    conn: &mut AnyConnection,
    table: Table,
    staging: &str,
    rows: i64,
) -> sqlx::Result<()> {
    let columns = table.columns().join(", ");
    let mut tx = conn.begin().await?;
    execute(&mut tx, format!("DELETE FROM {table}")).await?;
    execute(
        &mut tx,
        format!("INSERT INTO {table} ({columns}) SELECT {columns} FROM {staging}"),
    )
    .await?;
    execute(&mut tx, format!("DROP TABLE {staging}")).await?;
    super::super::counts::set_count(&mut tx, table, rows).await?;
    tx.commit().await
}

/// SQLITE_BUSY_SNAPSHOT: a read snapshot went stale under a writer.
pub(super) fn is_stale_snapshot(db: &(dyn sqlx::error::DatabaseError + 'static)) -> bool {
    db.code().as_deref() == Some("517")
}

/// SQLITE_BUSY or SQLITE_LOCKED, after the busy timeout.
pub(super) fn is_busy(db: &(dyn sqlx::error::DatabaseError + 'static)) -> bool {
    matches!(db.code().as_deref(), Some("5" | "6"))
}

/// What an SQLite file needs beside the pool: every write goes through one
/// connection, whose page cache then stays warm (spread over the pool's
/// connections in turn, each write found its cache stale and read the index
/// pages it touched back from the file: 7-13 % of the ingest rate); backups
/// read through a read-only connection of their own; and the file is this
/// process's alone.
pub(in crate::db) struct EmbeddedFile {
    /// Held for its lock, for as long as the file is in use.
    pub _owner: Option<SqliteFile>,
    pub writer: sqlx::AnyPool,
    pub reader: Arc<sqlx::sqlite::SqliteConnectOptions>,
}

impl EmbeddedFile {
    pub(in crate::db) fn open(url: &str, write_wait: Duration) -> anyhow::Result<EmbeddedFile> {
        use std::str::FromStr;
        let owner = SqliteFile::claim(url)?;
        let writer = super::Dialect::Sqlite
            .pool_options(write_wait, 1, Arc::default())
            .connect_lazy(url)
            .context("DATABASE_URL is not a valid database address")?;
        let reader = Arc::new(
            sqlx::sqlite::SqliteConnectOptions::from_str(url)
                .context("DATABASE_URL is not a valid SQLite address")?
                .read_only(true)
                .create_if_missing(false)
                .row_buffer_size(1024),
        );
        Ok(EmbeddedFile {
            _owner: owner,
            writer,
            reader,
        })
    }
}

/// The locked `<file>.lock` that makes this process its SQLite file's only
/// API process, for as long as it is kept.
#[derive(Clone)]
pub(in crate::db) struct SqliteFile(#[allow(dead_code)] Arc<std::fs::File>);

impl SqliteFile {
    /// Creates the SQLite file's folders and takes `<file>.lock` for this
    /// process: SQLite is the single-node default, and a second API process
    /// on the same file would break the guarantees that hold only within
    /// one (one restore at a time, no ingest between a restore's check and
    /// swap). The lock goes with the process, however it ends. `None` for
    /// an in-memory database.
    pub(in crate::db) fn claim(url: &str) -> anyhow::Result<Option<SqliteFile>> {
        let Some(path) = file_of(url) else {
            return Ok(None);
        };
        if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            std::fs::create_dir_all(parent)
                .with_context(|| format!("cannot create the folder {}", parent.display()))?;
        }
        let mut lock_path = path.as_os_str().to_owned();
        lock_path.push(".lock");
        let lock_path = std::path::PathBuf::from(lock_path);
        let file = std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&lock_path)
            .with_context(|| format!("cannot open {}", lock_path.display()))?;
        match file.try_lock() {
            Ok(()) => Ok(Some(SqliteFile(Arc::new(file)))),
            Err(std::fs::TryLockError::WouldBlock) => anyhow::bail!(
                "another API process already uses the SQLite database {}: SQLite serves one \
                 process; stop the other one, or point DATABASE_URL at MySQL to run several",
                path.display()
            ),
            Err(std::fs::TryLockError::Error(err)) => {
                Err(err).with_context(|| format!("cannot lock {}", lock_path.display()))
            }
        }
    }
}

/// The file of an SQLite URL; `None` for an in-memory database.
fn file_of(url: &str) -> Option<&Path> {
    let path = url
        .trim_start_matches("sqlite:")
        .trim_start_matches("//")
        .split('?')
        .next()
        .unwrap_or_default();
    (!path.is_empty() && path != ":memory:").then(|| Path::new(path))
}

/// Rows in one page of [`send_pages`].
const SQLITE_PAGE_ROWS: usize = 8192;

/// Sends every row of `table` in id order, read on `conn` (inside the
/// caller's read transaction, so from one snapshot) in pages of
/// [`SQLITE_PAGE_ROWS`]: SQLite itself writes each page as one JSON array
/// of rows, handed over from sqlx's worker thread in one piece. Read row by
/// row, each row crossed threads on its own, was copied value by value and
/// looked up by column name: a zstandard backup of a million employees ran
/// at 0.6 M rows/s, and runs at 1.7 M (docs/benchmarks.md).
pub(in crate::db) async fn send_pages(
    conn: &mut SqliteConnection,
    table: Table,
    sender: &mpsc::Sender<Vec<Record>>,
) -> anyhow::Result<()> {
    let id = table.id_column();
    let columns = table.columns().join(", ");
    let page = format!(
        "SELECT json_group_array(json_array({columns})), max({id}) \
         FROM (SELECT {columns} FROM {table} WHERE {id} > ? ORDER BY {id} \
         LIMIT {SQLITE_PAGE_ROWS})"
    );
    let mut after = 0_i64;
    loop {
        let (rows, last): (String, Option<i64>) = sqlx::query_as(sqlx::AssertSqlSafe(&*page))
            .bind(after)
            .fetch_one(&mut *conn)
            .await?;
        let Some(last) = last else {
            return Ok(()); // past the last row
        };
        // A row of the JSON array is read as the record's fields in order.
        let mut records: Vec<Record> = match table {
            Table::Departments => from_json_rows(&rows, Record::Department)?,
            Table::Jobs => from_json_rows(&rows, Record::Job)?,
            Table::Employees => from_json_rows(&rows, Record::Employee)?,
        };
        // SQLite aggregates the ordered subquery's rows in order, but SQL
        // does not promise it (an ORDER BY inside the aggregate would, at
        // the cost of a sort): a sort makes sure, in one pass when sorted.
        records.sort_by_key(Record::id);
        if sender.send(records).await.is_err() {
            return Ok(()); // the writer failed; its error is reported by the caller
        }
        after = last;
    }
}

fn from_json_rows<T: serde::de::DeserializeOwned>(
    rows: &str,
    wrap: fn(T) -> Record,
) -> anyhow::Result<Vec<Record>> {
    let rows: Vec<T> = serde_json::from_str(rows)
        .map_err(|err| anyhow::anyhow!("SQLite sent a page of rows that does not read: {err}"))?;
    Ok(rows.into_iter().map(wrap).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// SQLite's own baseline in the benchmarks (Python's sqlite3) must run
    /// with the service's pragmas, or the comparison says nothing.
    #[test]
    fn the_benchmark_baseline_sets_the_same_pragmas() {
        let baseline = std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../bench/sqlite_inserts.py"
        ))
        .expect("bench/sqlite_inserts.py is readable");
        let session = session(Duration::from_secs(1));
        let pragmas: Vec<&str> = session
            .split(';')
            .map(str::trim)
            .filter(|pragma| !pragma.is_empty() && !pragma.contains("busy_timeout"))
            .collect();
        assert!(pragmas.len() >= 4, "{session}");
        for pragma in pragmas {
            assert!(
                baseline.contains(&format!("{pragma};")),
                "bench/sqlite_inserts.py does not set `{pragma}`"
            );
        }
    }
}
