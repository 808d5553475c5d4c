//! A restore's staging table and swap. The statements that differ by engine
//! (staging DDL, the swap) sit side by side here.

use super::Engine;
use crate::domain::{Row, Table};
use sqlx::{AnyConnection, Connection};

/// The staging table a restore loads before it is swapped in.
pub fn staging_name(table: Table) -> String {
    format!("{table}_restore")
}

/// Secondary indexes of each table, as the migrations leave them. A MySQL
/// staging table is loaded without them and they are built once at the end,
/// which is several times faster than maintaining them row by row.
fn secondary_indexes(table: Table) -> &'static [(&'static str, &'static str)] {
    match table {
        Table::Employees => &[(
            "employees_pair_date",
            "(department_id, job_id, hiring_date)",
        )],
        Table::Departments | Table::Jobs => &[],
    }
}

/// Creates an empty staging table shaped like `table` (same key, so a
/// duplicate id in a backup fails the load).
pub async fn create_staging(
    conn: &mut AnyConnection,
    engine: Engine,
    table: Table,
) -> sqlx::Result<()> {
    drop_staging(conn, table).await?;
    let staging = staging_name(table);
    match engine {
        Engine::MySql => {
            execute(conn, format!("CREATE TABLE {staging} LIKE {table}")).await?;
            for (index, _) in secondary_indexes(table) {
                execute(conn, format!("ALTER TABLE {staging} DROP INDEX {index}")).await?;
            }
        }
        Engine::Sqlite => {
            // The table's own DDL under the staging name; SQLite keeps
            // indexes apart from it, so the staging table has none.
            let ddl: String = sqlx::query_scalar(
                "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = ?",
            )
            .bind(table.name())
            .fetch_one(&mut *conn)
            .await?;
            let ddl = ddl.replacen(
                &format!("CREATE TABLE {table} "),
                &format!("CREATE TABLE {staging} "),
                1,
            );
            execute(conn, ddl).await?;
        }
    }
    Ok(())
}

pub async fn drop_staging(conn: &mut AnyConnection, table: Table) -> sqlx::Result<()> {
    execute(
        conn,
        format!("DROP TABLE IF EXISTS {}", staging_name(table)),
    )
    .await
}

/// Runs one statement; never several in one string.
async fn execute(conn: &mut AnyConnection, sql: String) -> sqlx::Result<()> {
    sqlx::raw_sql(sqlx::AssertSqlSafe(sql))
        .execute(conn)
        .await?;
    Ok(())
}

pub async fn insert_staging(
    conn: &mut AnyConnection,
    table: Table,
    rows: &[&Row],
) -> sqlx::Result<()> {
    super::rows::insert_rows_into(conn, &staging_name(table), table, rows).await
}

/// Explains how the staged rows would break a reference, if they would:
/// employees whose department or job is missing, or departments/jobs whose
/// removal would orphan employees.
pub async fn broken_reference(
    conn: &mut AnyConnection,
    table: Table,
) -> sqlx::Result<Option<String>> {
    let staging = staging_name(table);
    let found = match table {
        Table::Employees => {
            let department = first_pair(
                conn,
                format!(
                    "SELECT s.employee_id, s.department_id FROM {staging} s WHERE NOT EXISTS \
                 (SELECT 1 FROM departments d WHERE d.department_id = s.department_id) LIMIT 1"
                ),
            )
            .await?;
            if let Some((employee, department)) = department {
                return Ok(Some(format!(
                    "employee {employee} references department {department}, which does not exist"
                )));
            }
            first_pair(
                conn,
                format!(
                    "SELECT s.employee_id, s.job_id FROM {staging} s WHERE NOT EXISTS \
                 (SELECT 1 FROM jobs j WHERE j.job_id = s.job_id) LIMIT 1"
                ),
            )
            .await?
            .map(|(employee, job)| {
                format!("employee {employee} references job {job}, which does not exist")
            })
        }
        Table::Departments | Table::Jobs => {
            let id = table.id_column();
            first_pair(
                conn,
                format!(
                    "SELECT e.employee_id, e.{id} FROM employees e WHERE NOT EXISTS \
                 (SELECT 1 FROM {staging} s WHERE s.{id} = e.{id}) LIMIT 1"
                ),
            )
            .await?
            .map(|(employee, missing)| {
                format!("the backup has no {id} {missing}, which employee {employee} references")
            })
        }
    };
    Ok(found)
}

async fn first_pair(conn: &mut AnyConnection, sql: String) -> sqlx::Result<Option<(i32, i32)>> {
    sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .fetch_optional(conn)
        .await
}

/// Builds the indexes the staging table was loaded without (MySQL).
pub async fn index_staging(
    conn: &mut AnyConnection,
    engine: Engine,
    table: Table,
) -> sqlx::Result<()> {
    let indexes = secondary_indexes(table);
    if engine == Engine::Sqlite || indexes.is_empty() {
        return Ok(());
    }
    let adds: Vec<String> = indexes
        .iter()
        .map(|(name, columns)| format!("ADD INDEX {name} {columns}"))
        .collect();
    let sql = format!("ALTER TABLE {} {}", staging_name(table), adds.join(", "));
    execute(conn, sql).await
}

/// Replaces the live table with the staging table in one atomic step.
pub async fn swap_in_staging(
    conn: &mut AnyConnection,
    engine: Engine,
    table: Table,
) -> sqlx::Result<()> {
    let staging = staging_name(table);
    match engine {
        Engine::MySql => {
            // RENAME TABLE swaps both names atomically; readers and writers
            // see either the old table or the new one.
            let old = format!("{table}_replaced");
            execute(conn, format!("DROP TABLE IF EXISTS {old}")).await?;
            execute(
                conn,
                format!("RENAME TABLE {table} TO {old}, {staging} TO {table}"),
            )
            .await?;
            execute(conn, format!("DROP TABLE {old}")).await?;
        }
        Engine::Sqlite => {
            // SQLite's DDL is transactional: one transaction swaps the rows.
            let columns = table.columns().join(", ");
            let mut tx = conn.begin().await?;
            execute(&mut tx, format!("DELETE FROM {table}")).await?;
            execute(
                &mut tx,
                format!("INSERT INTO {table} ({columns}) SELECT {columns} FROM {staging}"),
            )
            .await?;
            execute(&mut tx, format!("DROP TABLE {staging}")).await?;
            tx.commit().await?;
        }
    }
    Ok(())
}
