//! The one path rows take into the tables, whatever their source: parse at
//! the edge (CSV or JSON), validate against the dictionary, check ids and
//! references in the database, store what passes, log what does not.

mod parse;
mod rejects;
mod store;

pub use parse::{
    BodyError, Candidate, MAX_BATCH_ROWS, RawRow, csv_candidate, csv_reader, parse_csv_body,
    parse_json_body,
};
pub use rejects::{RejectLog, Source};
pub use store::{Rejection, Stored, store};

use crate::db::{self, Db};
use crate::domain::Table;
use anyhow::Context;
use std::time::Duration;

/// Stores one batch in its own transaction, retrying when a concurrent writer
/// got in first, and logs the rejected rows before committing, so that a row
/// is never stored without its batch's rejects being on record.
pub async fn ingest_batch(
    db: &Db,
    log: &RejectLog,
    table: Table,
    source: &Source<'_>,
    candidates: &[Candidate],
) -> anyhow::Result<Stored> {
    const ATTEMPTS: u32 = 5;
    let _writer = db.write_guard().await;
    let mut attempt = 1;
    loop {
        let mut tx = db.begin().await.context("cannot begin a transaction")?;
        let result = store(&mut tx, table, candidates).await;
        match result {
            Ok(stored) => {
                log.append(table, source, &stored.rejections).await?;
                tx.commit().await.context("cannot commit the batch")?;
                return Ok(stored);
            }
            Err(err) if db::is_retryable(&err) && attempt < ATTEMPTS => {
                tracing::debug!(error = %err, attempt, "batch raced another writer; retrying");
                drop(tx);
                tokio::time::sleep(Duration::from_millis(10 * u64::from(attempt))).await;
                attempt += 1;
            }
            Err(err) => return Err(anyhow::Error::new(err).context("cannot store the batch")),
        }
    }
}
