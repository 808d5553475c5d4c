use super::Db;
use super::dialect::{self, Dialect};
use crate::domain::{Row, Table};
use futures::stream::StreamExt;
use sqlx::sqlite::SqliteConnection;
use sqlx::{Any, AnyConnection, Connection, FromRow, QueryBuilder};
use std::collections::{HashMap, HashSet};
use tokio::sync::mpsc;
use vocab::{DepartmentRecord, EmployeeRecord, JobRecord, MAX_BATCH_ROWS, Record};

// Batch statements come in a few fixed shapes so that they stay in each
// connection's prepared-statement cache (100 entries by default). A statement
// used once and closed costs a round trip that, on MySQL over TCP, waits out
// Nagle's algorithm and the server's delayed ACK (~40 ms) because sqlx 0.9.0
// does not set TCP_NODELAY (transact-rs/sqlx#4335).

/// The ids among `ids` that exist in `table`.
pub async fn existing_ids(
    conn: &mut AnyConnection,
    table: Table,
    ids: &[i32],
) -> sqlx::Result<HashSet<i32>> {
    let id = table.id_column();
    let Some(mut query) = select_by_ids(id, table, ids) else {
        return Ok(HashSet::new());
    };
    let found: Vec<i32> = query.build_query_scalar().fetch_all(conn).await?;
    Ok(found.into_iter().collect())
}

/// The stored rows of `table` among `ids`, by id.
pub async fn stored_rows(
    conn: &mut AnyConnection,
    table: Table,
    ids: &[i32],
) -> sqlx::Result<HashMap<i32, Record>> {
    let columns = table.columns().join(", ");
    let Some(mut query) = select_by_ids(&columns, table, ids) else {
        return Ok(HashMap::new());
    };
    let rows = query.build().fetch_all(conn).await?;
    rows.iter()
        .map(|row| decode(table, row).map(|record| (record.id(), record)))
        .collect()
}

/// `SELECT {columns} FROM {table} WHERE id IN (ids)`, the list padded to a
/// power of two by repeating an id (at most 11 statement shapes, each kept
/// in the prepared-statement cache); `None` when `ids` is empty.
fn select_by_ids(columns: &str, table: Table, ids: &[i32]) -> Option<QueryBuilder<Any>> {
    let &first = ids.first()?;
    let padded = ids.len().next_power_of_two();
    let id = table.id_column();
    let mut query =
        QueryBuilder::<Any>::new(format!("SELECT {columns} FROM {table} WHERE {id} IN ("));
    let mut list = query.separated(", ");
    for value in ids
        .iter()
        .chain(std::iter::repeat_n(&first, padded - ids.len()))
    {
        list.push_bind(*value);
    }
    query.push(")");
    Some(query)
}

/// Inserts validated rows of one table with multi-row statements: one for a
/// full batch of 1000, else one per power of two in the count (at most 10).
pub async fn insert_rows(
    conn: &mut AnyConnection,
    table: Table,
    rows: &[&Row],
) -> sqlx::Result<()> {
    insert_rows_into(conn, table.name(), table, rows).await
}

/// As [`insert_rows`], into `target`, a table shaped like `table`.
pub(super) async fn insert_rows_into(
    conn: &mut AnyConnection,
    target: &str,
    table: Table,
    rows: &[&Row],
) -> sqlx::Result<()> {
    let mut rest = rows;
    while !rest.is_empty() {
        let size = if rest.len() == MAX_BATCH_ROWS {
            MAX_BATCH_ROWS
        } else {
            1 << rest.len().ilog2()
        };
        let (chunk, tail) = rest.split_at(size);
        insert_statement(conn, target, table, chunk).await?;
        rest = tail;
    }
    Ok(())
}

async fn insert_statement(
    conn: &mut AnyConnection,
    target: &str,
    table: Table,
    rows: &[&Row],
) -> sqlx::Result<()> {
    // Every caller rolls its whole transaction back on an error: a verb
    // that keeps the rows before a refused one never commits half a batch.
    let verb = Dialect::of(conn).insert_verb();
    let mut query = QueryBuilder::<Any>::new(format!(
        "{verb} INTO {target} ({}) ",
        table.columns().join(", ")
    ));
    query.push_values(rows, |mut values, row| match row {
        Row::Department(d) => {
            values
                .push_bind(d.id.get())
                .push_bind(d.name.as_str().to_owned());
        }
        Row::Job(j) => {
            values
                .push_bind(j.id.get())
                .push_bind(j.name.as_str().to_owned());
        }
        Row::Employee(e) => {
            values
                .push_bind(e.id.get())
                .push_bind(e.name.as_str().to_owned())
                .push_bind(e.hiring_date.to_db_string())
                .push_bind(e.department_id.get())
                .push_bind(e.job_id.get());
        }
    });
    query.build().execute(conn).await?;
    Ok(())
}

pub async fn get_row(
    conn: &mut AnyConnection,
    table: Table,
    id: i32,
) -> sqlx::Result<Option<Record>> {
    let sql = format!(
        "SELECT {} FROM {table} WHERE {} = ?",
        table.columns().join(", "),
        table.id_column()
    );
    let row = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(id)
        .fetch_optional(conn)
        .await?;
    row.map(|row| decode(table, &row)).transpose()
}

/// Up to `limit` rows with an id above `after_id`, in id order.
pub async fn page_rows(
    conn: &mut AnyConnection,
    table: Table,
    after_id: i32,
    limit: u32,
) -> sqlx::Result<Vec<Record>> {
    let id = table.id_column();
    let sql = format!(
        "SELECT {} FROM {table} WHERE {id} > ? ORDER BY {id} LIMIT ?",
        table.columns().join(", ")
    );
    let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(after_id)
        .bind(i64::from(limit))
        .fetch_all(conn)
        .await?;
    rows.iter().map(|row| decode(table, row)).collect()
}

/// A row of `table`, from either driver.
pub(super) fn decode<'r, R: sqlx::Row>(table: Table, row: &'r R) -> sqlx::Result<Record>
where
    DepartmentRecord: FromRow<'r, R>,
    JobRecord: FromRow<'r, R>,
    EmployeeRecord: FromRow<'r, R>,
{
    Ok(match table {
        Table::Departments => Record::Department(DepartmentRecord::from_row(row)?),
        Table::Jobs => Record::Job(JobRecord::from_row(row)?),
        Table::Employees => Record::Employee(EmployeeRecord::from_row(row)?),
    })
}

/// Sends every row of `table` in id order, in chunks of 1000, from one
/// consistent snapshot (a read transaction); memory stays flat. Stops early,
/// without error, when the receiver is gone.
///
/// An embedded file's rows are read on a connection of their own, in pages
/// (see `dialect::send_sqlite_pages`).
pub async fn send_all_rows(
    db: &Db,
    table: Table,
    sender: &mpsc::Sender<Vec<Record>>,
) -> anyhow::Result<()> {
    match db.sqlite_reader() {
        Some(options) => {
            let mut conn = SqliteConnection::connect_with(options).await?;
            let mut tx = conn.begin().await?;
            dialect::send_sqlite_pages(&mut tx, table, sender).await?;
            tx.commit().await?;
        }
        None => {
            let sql = format!(
                "SELECT {} FROM {table} ORDER BY {}",
                table.columns().join(", "),
                table.id_column()
            );
            let mut tx = db.begin().await?;
            let rows = sqlx::query(sqlx::AssertSqlSafe(sql)).fetch(&mut *tx);
            send_chunks(rows.map(|row| decode(table, &row?)), sender).await?;
            tx.commit().await?;
        }
    }
    Ok(())
}

async fn send_chunks(
    rows: impl futures::Stream<Item = sqlx::Result<Record>>,
    sender: &mpsc::Sender<Vec<Record>>,
) -> sqlx::Result<()> {
    let mut chunks = std::pin::pin!(rows.chunks(1000));
    while let Some(chunk) = chunks.next().await {
        let chunk: Vec<Record> = chunk.into_iter().collect::<Result<_, _>>()?;
        if sender.send(chunk).await.is_err() {
            break; // the writer failed; its error is reported by the caller
        }
    }
    Ok(())
}
