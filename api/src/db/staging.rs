//! A restore's staging table and swap. The statements that differ by engine
//! (staging DDL, the swap) are the dialect's.

use super::Dialect;
use super::dialect::execute;
use crate::domain::{Row, Table};
use sqlx::AnyConnection;

/// The staging table a restore loads before it is swapped in.
pub fn staging_name(table: Table) -> String {
    format!("{table}_restore")
}

/// Creates an empty staging table shaped like `table` (same key, so a
/// duplicate id in a backup fails the load), without the indexes it does
/// not need while it is loaded.
pub async fn create_staging(
    conn: &mut AnyConnection,
    dialect: Dialect,
    table: Table,
) -> sqlx::Result<()> {
    drop_staging(conn, table).await?;
    dialect
        .create_staging(conn, table, &staging_name(table))
        .await
}

pub async fn drop_staging(conn: &mut AnyConnection, table: Table) -> sqlx::Result<()> {
    execute(
        conn,
        format!("DROP TABLE IF EXISTS {}", staging_name(table)),
    )
    .await
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

/// Builds the indexes the staging table was loaded without.
pub async fn index_staging(
    conn: &mut AnyConnection,
    dialect: Dialect,
    table: Table,
) -> sqlx::Result<()> {
    dialect
        .index_staging(conn, table, &staging_name(table))
        .await
}

/// Replaces the live table with the staging table in one atomic step.
pub async fn swap_in_staging(
    conn: &mut AnyConnection,
    dialect: Dialect,
    table: Table,
) -> sqlx::Result<()> {
    dialect
        .swap_in_staging(conn, table, &staging_name(table))
        .await
}
