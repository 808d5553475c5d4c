//! Bookkeeping of historical CSV loads.

use crate::domain::Table;
use sqlx::AnyConnection;

/// What is known of one historical file's load.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct LoadRecord {
    pub rows_read: i64,
    pub inserted: i64,
    pub already_stored: i64,
    pub rejected: i64,
    pub completed_at: Option<String>,
}

pub async fn load_record(
    conn: &mut AnyConnection,
    table: Table,
    sha256: &str,
) -> sqlx::Result<Option<LoadRecord>> {
    sqlx::query_as(
        "SELECT rows_read, inserted, already_stored, rejected, completed_at FROM historical_loads \
         WHERE table_name = ? AND sha256 = ?",
    )
    .bind(table.name())
    .bind(sha256)
    .fetch_optional(conn)
    .await
}

pub async fn start_load(
    conn: &mut AnyConnection,
    table: Table,
    sha256: &str,
    file_name: &str,
    now: &str,
) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO historical_loads \
         (table_name, sha256, file_name, rows_read, inserted, rejected, started_at) \
         VALUES (?, ?, ?, 0, 0, 0, ?)",
    )
    .bind(table.name())
    .bind(sha256)
    .bind(file_name)
    .bind(now)
    .execute(conn)
    .await?;
    Ok(())
}

/// How far a load got with one more batch.
#[derive(Clone, Copy, Debug)]
pub struct Progress {
    /// Records the file has yielded up to and including the batch.
    pub rows_read: i64,
    /// The batch's counts.
    pub inserted: i64,
    pub already_stored: i64,
    pub rejected: i64,
}

/// Records, in the same transaction as the rows, how far the load got.
pub async fn record_progress(
    conn: &mut AnyConnection,
    table: Table,
    sha256: &str,
    progress: Progress,
) -> sqlx::Result<()> {
    sqlx::query(
        "UPDATE historical_loads SET rows_read = ?, inserted = inserted + ?, \
         already_stored = already_stored + ?, rejected = rejected + ? \
         WHERE table_name = ? AND sha256 = ?",
    )
    .bind(progress.rows_read)
    .bind(progress.inserted)
    .bind(progress.already_stored)
    .bind(progress.rejected)
    .bind(table.name())
    .bind(sha256)
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn finish_load(
    conn: &mut AnyConnection,
    table: Table,
    sha256: &str,
    now: &str,
) -> sqlx::Result<()> {
    sqlx::query("UPDATE historical_loads SET completed_at = ? WHERE table_name = ? AND sha256 = ?")
        .bind(now)
        .bind(table.name())
        .bind(sha256)
        .execute(conn)
        .await?;
    Ok(())
}

/// One historical file's load, for people to read.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct LoadOverview {
    pub table_name: String,
    pub file_name: String,
    pub rows_read: i64,
    pub inserted: i64,
    pub already_stored: i64,
    pub rejected: i64,
    pub started_at: String,
    pub completed_at: Option<String>,
}

/// The newest `limit` historical loads, in the order they ran.
pub async fn latest_loads(conn: &mut AnyConnection, limit: u32) -> sqlx::Result<Vec<LoadOverview>> {
    // Loads of one start share a second: the tables' load order breaks the tie.
    let mut loads: Vec<LoadOverview> = sqlx::query_as(
        "SELECT table_name, file_name, rows_read, inserted, already_stored, rejected, \
                started_at, completed_at \
         FROM historical_loads \
         ORDER BY started_at DESC, \
                  CASE table_name WHEN 'departments' THEN 0 WHEN 'jobs' THEN 1 ELSE 2 END DESC \
         LIMIT ?",
    )
    .bind(i64::from(limit))
    .fetch_all(conn)
    .await?;
    loads.reverse();
    Ok(loads)
}
