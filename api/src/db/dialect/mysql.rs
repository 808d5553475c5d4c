//! MySQL and MariaDB: a server that several API processes may share, so
//! their turns go through it.

use super::super::counts;
use super::execute;
use crate::domain::Table;
use sqlx::{AnyConnection, Connection};
use std::time::Duration;

/// Connections of the pool.
pub(super) const MAX_CONNECTIONS: u32 = 16;

/// Write transactions at once. Ingest of 1 M rows over 16 connections
/// (MariaDB, 2 cores): 140 k rows/s and a p99 batch of 270 ms with all 16
/// writing at once; 155 k rows/s and 145 ms with 4.
pub(super) const WRITERS: u32 = 4;

/// Chunks of a historical file inserted at once: see `ingest::load` for
/// what they buy.
pub(super) const LOAD_CHUNKS_IN_FLIGHT: usize = 3;

/// Every write transaction first reads the write gate under a shared lock:
/// a restore that holds it exclusively keeps writes out from its reference
/// check to its swap.
pub(super) const BEGIN_WRITE: &str =
    "BEGIN; SELECT name FROM write_gate WHERE name = 'tables' LOCK IN SHARE MODE";

/// Holds the write gate exclusively, until the transaction ends.
pub(super) const CLOSE_GATE: &str = "SELECT name FROM write_gate WHERE name = 'tables' FOR UPDATE";

/// Refreshes the statistics after a bulk load, so the reports' queries get
/// the right plan (measured: 1.5 s -> 0.13 s at 1 M rows). (SQLite is left
/// without statistics: with them its planner picked a slower index for the
/// reports, 0.3 s -> 1.1 s.)
pub(super) const ANALYZE: &str = "ANALYZE TABLE departments, jobs, employees";

/// A statement waits for a row lock (the write gate, say) at most
/// `write_wait`, not InnoDB's default 50 s.
pub(super) fn session(write_wait: Duration) -> String {
    format!(
        "SET SESSION innodb_lock_wait_timeout = {}",
        write_wait.as_secs().max(1)
    )
}

/// "MariaDB 10.11.6" (MariaDB says so in its version string,
/// "10.11.6-MariaDB-0+deb12u1"), or "MySQL 8.4.0".
pub(super) async fn version(conn: &mut AnyConnection) -> sqlx::Result<String> {
    let version: String = sqlx::query_scalar("SELECT VERSION()")
        .fetch_one(conn)
        .await?;
    Ok(match version.split_once("-MariaDB") {
        Some((number, _)) => format!("MariaDB {number}"),
        None => format!("MySQL {version}"),
    })
}

/// The server-wide name of the lock `name` (an SQL expression: a literal or
/// a placeholder) for this connection's database: named locks are global
/// to the server, and two deployments (or test databases) on one server
/// must not take each other's turns. `<name>@<16 hex of the database
/// name's SHA-1>` stays within the 64 characters a lock name may have.
pub fn lock_key(name: &str) -> String {
    format!("CONCAT({name}, '@', LEFT(SHA1(DATABASE()), 16))")
}

pub(super) fn take_lock() -> String {
    format!("SELECT GET_LOCK({}, ?)", lock_key("?"))
}

/// `name` is one of the service's own lock names (no quotes in it).
pub(super) fn release_lock(name: &str) -> String {
    format!("SELECT RELEASE_LOCK({})", lock_key(&format!("'{name}'")))
}

/// Adds to a table's count (`?` table, `?` slot, `?` rows).
pub(super) const ADD_TO_COUNT: &str = "INSERT INTO row_counts (table_name, slot, row_count) \
     VALUES (?, ?, ?) ON DUPLICATE KEY UPDATE row_count = row_count + VALUES(row_count)";

/// Secondary indexes of each table, as the migrations leave them. A
/// staging table is loaded without them and they are built once at the
/// end, which is several times faster than maintaining them row by row.
fn secondary_indexes(table: Table) -> &'static [(&'static str, &'static str)] {
    match table {
        Table::Employees => &[(
            "employees_pair_date",
            "(department_id, job_id, hiring_date)",
        )],
        Table::Departments | Table::Jobs => &[],
    }
}

pub(super) async fn create_staging(
    conn: &mut AnyConnection,
    table: Table,
    staging: &str,
) -> sqlx::Result<()> {
    execute(conn, format!("CREATE TABLE {staging} LIKE {table}")).await?;
    for (index, _) in secondary_indexes(table) {
        execute(conn, format!("ALTER TABLE {staging} DROP INDEX {index}")).await?;
    }
    Ok(())
}

pub(super) async fn index_staging(
    conn: &mut AnyConnection,
    table: Table,
    staging: &str,
) -> sqlx::Result<()> {
    let indexes = secondary_indexes(table);
    if indexes.is_empty() {
        return Ok(());
    }
    let adds: Vec<String> = indexes
        .iter()
        .map(|(name, columns)| format!("ADD INDEX {name} {columns}"))
        .collect();
    execute(conn, format!("ALTER TABLE {staging} {}", adds.join(", "))).await
}

/// RENAME TABLE swaps both names atomically; readers and writers see
/// either the old table or the new one. The replaced table is named after
/// the staging table, so it is the restore's own too. The count cannot
/// change in the same transaction as DDL: it is marked as being replaced
/// before, and replaced after.
pub(super) async fn swap_in_staging(
    conn: &mut AnyConnection,
    table: Table,
    staging: &str,
    rows: i64,
) -> sqlx::Result<()> {
    let old = format!("{staging}_replaced");
    counts::mark_replacing(conn, table).await?;
    execute(
        conn,
        format!("RENAME TABLE {table} TO {old}, {staging} TO {table}"),
    )
    .await?;
    let mut tx = conn.begin().await?;
    counts::set_count(&mut tx, table, rows).await?;
    tx.commit().await?;
    execute(conn, format!("DROP TABLE {old}")).await
}

/// The tables of the connection's database.
pub(super) async fn table_names(conn: &mut AnyConnection) -> sqlx::Result<Vec<String>> {
    sqlx::query_scalar(
        "SELECT CAST(table_name AS CHAR) FROM information_schema.tables \
         WHERE table_schema = DATABASE()",
    )
    .fetch_all(conn)
    .await
}

/// Finishes the migration a process killed mid-way left behind, if one
/// did: its version. MySQL commits each schema statement on its own, so
/// sqlx marks a migration `success = FALSE` before running it and TRUE
/// after; a kill in between leaves it so, part applied, and sqlx then
/// refuses every start ("dirty"). Here it is run again, a statement at a
/// time, skipping each that had taken effect (the table, column, index or
/// row is there already; the one dropped is gone), and marked applied. The
/// caller holds the migration turn.
pub(super) async fn finish_cut_short_migration(
    conn: &mut AnyConnection,
    migrator: &sqlx::migrate::Migrator,
) -> anyhow::Result<Option<i64>> {
    let dirty: Option<i64> = match sqlx::query_scalar(
        "SELECT version FROM _sqlx_migrations WHERE success = FALSE ORDER BY version LIMIT 1",
    )
    .fetch_optional(&mut *conn)
    .await
    {
        Ok(dirty) => dirty,
        // No migration ever ran here.
        Err(sqlx::Error::Database(err)) if number(&*err) == Some(1146) => None,
        Err(err) => return Err(err.into()),
    };
    let Some(version) = dirty else {
        return Ok(None);
    };
    let Some(migration) = migrator.iter().find(|m| m.version == version) else {
        anyhow::bail!(
            "migration {version} was cut short, and this release does not know it: \
             finish it with the release that began it"
        );
    };
    for statement in statements(migration.sql.as_str()) {
        match execute(conn, statement.clone()).await {
            Err(sqlx::Error::Database(err)) if took_effect_before(&*err) => {
                tracing::info!(version, statement = %statement, "had taken effect");
            }
            other => other.map_err(|err| {
                anyhow::Error::new(err).context(format!(
                    "cannot finish migration {version}, which a stopped process began"
                ))
            })?,
        }
    }
    sqlx::query("UPDATE _sqlx_migrations SET success = TRUE WHERE version = ?")
        .bind(version)
        .execute(conn)
        .await?;
    Ok(Some(version))
}

/// A migration's statements: its `--` comment lines left out, split at each
/// `;` (the MySQL migrations put none inside a string or a comment's text).
fn statements(sql: &str) -> Vec<String> {
    let code: Vec<&str> = sql
        .lines()
        .filter(|line| !line.trim_start().starts_with("--"))
        .collect();
    code.join("\n")
        .split(';')
        .map(str::trim)
        .filter(|statement| !statement.is_empty())
        .map(str::to_owned)
        .collect()
}

/// A statement that failed because it had run before: the table, column,
/// index or row exists (1050, 1060, 1061, 1062), or what it drops does not
/// (1091).
fn took_effect_before(db: &(dyn sqlx::error::DatabaseError + 'static)) -> bool {
    matches!(number(db), Some(1050 | 1060 | 1061 | 1062 | 1091))
}

/// MySQL's error number (its `code()` is the coarser SQLSTATE).
fn number(db: &(dyn sqlx::error::DatabaseError + 'static)) -> Option<u16> {
    db.try_downcast_ref::<sqlx::mysql::MySqlDatabaseError>()
        .map(|err| err.number())
}

/// Too many connections, server shutting down, connection killed; a
/// Galera node that is not part of the primary component (1047, "WSREP has
/// not yet prepared node for application use").
pub(super) fn is_unreachable(db: &(dyn sqlx::error::DatabaseError + 'static)) -> bool {
    matches!(number(db), Some(1040 | 1047 | 1053 | 1927))
}

/// A deadlock: the transaction was rolled back.
pub(super) fn is_deadlock(db: &(dyn sqlx::error::DatabaseError + 'static)) -> bool {
    number(db) == Some(1213)
}

/// A table's definition changed under the statement (a `RENAME TABLE`).
pub(super) fn is_table_changed(db: &(dyn sqlx::error::DatabaseError + 'static)) -> bool {
    number(db) == Some(1412)
}

/// A lock wait that ran out.
pub(super) fn is_lock_wait_timeout(db: &(dyn sqlx::error::DatabaseError + 'static)) -> bool {
    number(db) == Some(1205)
}

/// A lock wait that ran out, or a deadlock still there after the retries.
pub(super) fn is_lock_wait(db: &(dyn sqlx::error::DatabaseError + 'static)) -> bool {
    matches!(number(db), Some(1205 | 1213))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_migration_splits_into_its_statements() {
        let counts: Vec<(i64, usize)> = super::super::Dialect::MySql
            .migrator()
            .iter()
            .map(|m| (m.version, statements(m.sql.as_str()).len()))
            .collect();
        assert_eq!(
            counts,
            [
                (1, 4),
                (2, 1),
                (3, 1),
                (4, 1),
                (5, 2),
                (6, 1),
                (7, 1),
                (8, 1),
                (9, 2)
            ]
        );
        let gate = super::super::Dialect::MySql
            .migrator()
            .iter()
            .nth(4)
            .unwrap();
        assert!(statements(gate.sql.as_str())[1].starts_with("INSERT INTO write_gate"));
    }
}
