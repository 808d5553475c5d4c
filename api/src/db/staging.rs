//! A restore's staging table and swap. The statements that differ by engine
//! (staging DDL, the swap, listing tables) are the dialect's.

use super::Dialect;
use super::dialect::execute;
use crate::domain::{Row, Table};
use sqlx::AnyConnection;

/// The staging table of one restore of `table`: its name is the restore's
/// own (`<table>_restore_<random>`), so a restore never loads, checks or
/// drops another's, even one that lost its turn and runs on.
#[derive(Debug)]
pub struct Staging {
    table: Table,
    name: String,
}

impl Staging {
    /// A new name, for a restore of `table` about to begin.
    pub fn new(table: Table) -> anyhow::Result<Staging> {
        let mut random = [0u8; 6];
        getrandom::fill(&mut random)
            .map_err(|err| anyhow::anyhow!("no randomness for a staging table's name: {err}"))?;
        Ok(Staging {
            table,
            name: format!("{}{}", staging_prefix(table), hex::encode(random)),
        })
    }

    pub fn name(&self) -> &str {
        &self.name
    }
}

/// How every staging table of `table` is named, a restore's own part left
/// out (an older release named its one staging table `<table>_restore`).
fn staging_prefix(table: Table) -> String {
    format!("{table}_restore_")
}

/// Creates `staging`, an empty table shaped like its table (same key, so a
/// duplicate id in a backup fails the load), without the indexes it does
/// not need while it is loaded.
pub async fn create_staging(
    conn: &mut AnyConnection,
    dialect: Dialect,
    staging: &Staging,
) -> sqlx::Result<()> {
    dialect
        .create_staging(conn, staging.table, &staging.name)
        .await
}

pub async fn drop_staging(conn: &mut AnyConnection, staging: &Staging) -> sqlx::Result<()> {
    drop_table(conn, &staging.name).await
}

async fn drop_table(conn: &mut AnyConnection, name: &str) -> sqlx::Result<()> {
    execute(conn, format!("DROP TABLE IF EXISTS {name}")).await
}

/// Drops every staging table of `table` (and what a swap cut short left
/// of the table it replaced): for the holder of the table's restore turn
/// only, to whom they are all abandoned.
pub async fn drop_every_staging(
    conn: &mut AnyConnection,
    dialect: Dialect,
    table: Table,
) -> sqlx::Result<Vec<String>> {
    let names = dialect.table_names(conn).await?;
    let abandoned: Vec<String> = names
        .into_iter()
        .filter(|name| is_leftover(table, name))
        .collect();
    for name in &abandoned {
        drop_table(conn, name).await?;
    }
    Ok(abandoned)
}

/// Whether `name` is a staging table of `table` or a table a swap
/// replaced: `<table>_restore_<12 hex digits>`, with `_replaced` after it
/// or not, or what an older release named them (`<table>_restore`,
/// `<table>_replaced`). Nothing else, whatever it is called.
fn is_leftover(table: Table, name: &str) -> bool {
    if name == format!("{table}_restore") || name == format!("{table}_replaced") {
        return true;
    }
    let Some(own) = name.strip_prefix(&staging_prefix(table)) else {
        return false;
    };
    let own = own.strip_suffix("_replaced").unwrap_or(own);
    own.len() == 12
        && own
            .bytes()
            .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase())
}

pub async fn insert_staging(
    conn: &mut AnyConnection,
    staging: &Staging,
    rows: &[&Row],
) -> sqlx::Result<()> {
    super::rows::insert_rows_into(conn, &staging.name, staging.table, rows).await
}

/// Explains how the staged rows would break a reference, if they would:
/// employees whose department or job is missing, or departments/jobs whose
/// removal would orphan employees.
pub async fn broken_reference(
    conn: &mut AnyConnection,
    staging: &Staging,
) -> sqlx::Result<Option<String>> {
    let (table, staging) = (staging.table, &staging.name);
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
    staging: &Staging,
) -> sqlx::Result<()> {
    dialect
        .index_staging(conn, staging.table, &staging.name)
        .await
}

/// Replaces the live table with the staging table, which holds `rows`
/// rows, in one atomic step; the table's count follows.
pub async fn swap_in_staging(
    conn: &mut AnyConnection,
    dialect: Dialect,
    staging: &Staging,
    rows: i64,
) -> sqlx::Result<()> {
    dialect
        .swap_in_staging(conn, staging.table, &staging.name, rows)
        .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn leftovers_are_staging_and_replaced_tables_of_the_table_only() {
        let staging = Staging::new(Table::Employees).unwrap();
        assert!(is_leftover(Table::Employees, staging.name()));
        assert!(is_leftover(
            Table::Employees,
            &format!("{}_replaced", staging.name())
        ));
        for legacy in ["employees_restore", "employees_replaced"] {
            assert!(is_leftover(Table::Employees, legacy), "{legacy}");
        }
        for other in [
            "employees",
            "jobs_restore_0123456789ab",
            "employees_restore_notes",
            "employees_restore_0123456789AB",
            "employees_restore_0123456789abc",
            "employees_restore_0123456789ab_old",
        ] {
            assert!(!is_leftover(Table::Employees, other), "{other}");
        }
    }
}
