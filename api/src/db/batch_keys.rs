//! The batches sent with an `Idempotency-Key`: what each was answered,
//! written in the batch's own transaction (see `ingest::commit_batch`).

use crate::domain::Table;
use sqlx::AnyConnection;

/// A stored batch: its table, its body's digest and its answer (JSON).
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct StoredBatch {
    pub table_name: String,
    pub body_sha256: String,
    pub answer: String,
}

/// The batch stored under `key`, if any.
pub async fn stored_batch(
    conn: &mut AnyConnection,
    key: &str,
) -> sqlx::Result<Option<StoredBatch>> {
    sqlx::query_as(
        "SELECT table_name, body_sha256, answer FROM batch_keys WHERE idempotency_key = ?",
    )
    .bind(key)
    .fetch_optional(conn)
    .await
}

/// Records the batch `key` and its answer; fails with a unique violation
/// when another transaction recorded the key first.
pub async fn record_batch(
    conn: &mut AnyConnection,
    key: &str,
    table: Table,
    body_sha256: &str,
    answer: &str,
    now: &str,
) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO batch_keys (idempotency_key, table_name, body_sha256, answer, created_at) \
         VALUES (?, ?, ?, ?, ?)",
    )
    .bind(key)
    .bind(table.name())
    .bind(body_sha256)
    .bind(answer)
    .bind(now)
    .execute(conn)
    .await?;
    Ok(())
}

/// Forgets the batches recorded before `before` (RFC 3339, UTC): how many.
pub async fn forget_batches(conn: &mut AnyConnection, before: &str) -> sqlx::Result<u64> {
    let done = sqlx::query("DELETE FROM batch_keys WHERE created_at < ?")
        .bind(before)
        .execute(conn)
        .await?;
    Ok(done.rows_affected())
}
