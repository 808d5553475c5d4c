//! Each table's row count, kept beside its rows (`row_counts`, migration
//! 0009) in the transaction of every write that changes it, so that a
//! count is read without scanning the table. A count is the sum of its
//! table's slots; a batch adds to one slot, at random, so that concurrent
//! batches seldom wait for one another's row. A restore marks the count
//! (slot [`REPLACING`]) before its swap and replaces it after; a marked
//! count is read from the table itself, until the next start recounts it.

use super::Dialect;
use crate::domain::Table;
use sqlx::AnyConnection;

/// The slot that says a restore is replacing the table (or was, and was
/// cut short): its count is not to be trusted.
const REPLACING: i16 = -1;

/// Adds `rows` to `table`'s count, on the caller's transaction.
pub async fn add_to_count(conn: &mut AnyConnection, table: Table, rows: u64) -> sqlx::Result<()> {
    if rows == 0 {
        return Ok(());
    }
    let dialect = Dialect::of(conn);
    let mut random = [0u8; 2];
    // Without randomness every batch takes slot 0: slower, never wrong.
    let _ = getrandom::fill(&mut random);
    let slot = u16::from_le_bytes(random) % dialect.count_slots();
    sqlx::query(dialect.add_to_count())
        .bind(table.name())
        .bind(slot as i16)
        .bind(rows as i64)
        .execute(conn)
        .await?;
    Ok(())
}

/// Each table with its row count, in [`Table::ALL`] order: from the kept
/// counts, or for a table a restore is replacing, from the table.
pub async fn table_counts(conn: &mut AnyConnection) -> sqlx::Result<Vec<(Table, i64)>> {
    let kept: Vec<(String, i64, i64)> = sqlx::query_as(
        "SELECT table_name, CAST(SUM(row_count) AS SIGNED), CAST(MIN(slot) AS SIGNED) \
         FROM row_counts GROUP BY table_name",
    )
    .fetch_all(&mut *conn)
    .await?;
    let mut counts = Vec::with_capacity(Table::ALL.len());
    for table in Table::ALL {
        let count = match kept.iter().find(|(name, ..)| name == table.name()) {
            Some((_, rows, lowest)) if *lowest != i64::from(REPLACING) => *rows,
            _ => count_rows(conn, table).await?,
        };
        counts.push((table, count));
    }
    Ok(counts)
}

async fn count_rows(conn: &mut AnyConnection, table: Table) -> sqlx::Result<i64> {
    sqlx::query_scalar(sqlx::AssertSqlSafe(format!("SELECT COUNT(*) FROM {table}")))
        .fetch_one(conn)
        .await
}

/// Marks `table`'s count as being replaced, before a swap that cannot share
/// a transaction with the count (DDL on MySQL).
pub(super) async fn mark_replacing(conn: &mut AnyConnection, table: Table) -> sqlx::Result<()> {
    sqlx::query(Dialect::of(conn).add_to_count())
        .bind(table.name())
        .bind(REPLACING)
        .bind(0i64)
        .execute(conn)
        .await?;
    Ok(())
}

/// Sets `table`'s count to `rows` (every slot replaced, the mark too), on
/// the caller's transaction.
pub(super) async fn set_count(
    conn: &mut AnyConnection,
    table: Table,
    rows: i64,
) -> sqlx::Result<()> {
    sqlx::query("DELETE FROM row_counts WHERE table_name = ?")
        .bind(table.name())
        .execute(&mut *conn)
        .await?;
    sqlx::query("INSERT INTO row_counts (table_name, slot, row_count) VALUES (?, 0, ?)")
        .bind(table.name())
        .bind(rows)
        .execute(conn)
        .await?;
    Ok(())
}

/// Whether a restore cut short left `table`'s count marked.
pub(super) async fn is_marked(conn: &mut AnyConnection, table: Table) -> sqlx::Result<bool> {
    let marked: Option<i64> = sqlx::query_scalar(
        "SELECT CAST(row_count AS SIGNED) FROM row_counts WHERE table_name = ? AND slot = ?",
    )
    .bind(table.name())
    .bind(REPLACING)
    .fetch_optional(conn)
    .await?;
    Ok(marked.is_some())
}

/// Counts `table` and keeps the count, on the caller's transaction; the
/// caller keeps every writer out meanwhile.
pub(super) async fn recount(conn: &mut AnyConnection, table: Table) -> sqlx::Result<i64> {
    let rows = count_rows(conn, table).await?;
    set_count(conn, table, rows).await?;
    Ok(rows)
}
