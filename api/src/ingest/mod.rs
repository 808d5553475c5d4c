//! The one path rows take into the tables, whatever their source: parse at
//! the edge (CSV or JSON), validate against the dictionary, check ids and
//! references in the database, store what passes and record what does not
//! (the `rejects` table), in one transaction per batch. REST
//! batches and the historical load (`load`) both commit through
//! `commit_batch`.

mod batch;
pub mod load;
mod parse;
mod records;

pub use crate::db::Source;
pub use batch::{BatchOutcome, StoredIds, check_and_insert};
pub use load::{LoadReport, LoadSummary, load_all};
pub use parse::{
    BodyError, Candidate, MAX_BATCH_ROWS, RawRow, csv_candidate, csv_records, parse_csv_body,
    parse_json_body,
};
pub use records::CsvRecord;

use crate::db::{self, Db};
use crate::domain::Table;
use anyhow::Context;
use sqlx::{Any, Transaction};
use std::time::Duration;

/// Stores one REST batch in its own transaction; see `commit_batch`.
#[tracing::instrument(skip_all, fields(%table, rows = candidates.len()))]
pub async fn ingest_batch(
    db: &Db,
    table: Table,
    source: Source<'_>,
    candidates: &[Candidate],
) -> anyhow::Result<BatchOutcome> {
    commit_batch(db, table, source, candidates, None, async { Ok(()) }).await
}

/// What [`ingest_batch`] would do with a batch, found the same way (the
/// rows are inserted), then undone: nothing is stored, no reject recorded.
#[tracing::instrument(skip_all, fields(%table, rows = candidates.len()))]
pub async fn dry_run_batch(
    db: &Db,
    table: Table,
    candidates: &[Candidate],
) -> anyhow::Result<BatchOutcome> {
    let _writer = db.write_guard().await?;
    let (tx, outcome) = insert_batch(db, table, candidates).await?;
    tx.rollback().await.context("cannot undo the dry run")?;
    Ok(outcome)
}

/// A historical file's place, committed with each of its batches so that a
/// load cut short resumes after the last committed one.
pub(crate) struct FileProgress<'a> {
    pub sha256: &'a str,
    /// Records the file has yielded up to and including this batch.
    pub rows_read: i64,
}

/// Stores one batch in its own transaction, retrying when a concurrent writer
/// got in first. The batch's rejects are recorded in the same transaction
/// (stored with the batch, exactly once, or not at all), and so is a file's
/// progress.
///
/// The rows are inserted first; the transaction then waits for `turn`
/// before it records and commits, so that a load can insert one chunk
/// beside the one before and still commit them in file order. An error
/// from `turn` undoes the batch.
pub(crate) async fn commit_batch(
    db: &Db,
    table: Table,
    source: Source<'_>,
    candidates: &[Candidate],
    progress: Option<FileProgress<'_>>,
    turn: impl Future<Output = anyhow::Result<()>>,
) -> anyhow::Result<BatchOutcome> {
    let _writer = db.write_guard().await?;
    let (mut tx, outcome) = insert_batch(db, table, candidates).await?;
    turn.await?;
    let now = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
    db::record_rejects(&mut tx, table, source, &outcome.rejections, &now)
        .await
        .context("cannot record the batch's rejects")?;
    if let Some(file) = &progress {
        let counts = db::Progress {
            rows_read: file.rows_read,
            inserted: outcome.inserted as i64,
            already_stored: outcome.already_stored as i64,
            rejected: outcome.rejections.len() as i64,
        };
        db::record_progress(&mut tx, table, file.sha256, counts).await?;
    }
    tx.commit().await.context("cannot commit the batch")?;
    Ok(outcome)
}

/// Begins a write transaction and checks and inserts the batch in it,
/// retrying when a concurrent writer got in first; the caller commits or
/// rolls back. The caller holds a write turn.
async fn insert_batch(
    db: &Db,
    table: Table,
    candidates: &[Candidate],
) -> anyhow::Result<(Transaction<'static, Any>, BatchOutcome)> {
    const ATTEMPTS: u32 = 5;
    let mut attempt = 1;
    let mut stored_ids = StoredIds::AssumeNew;
    loop {
        let mut tx = db
            .begin_write()
            .await
            .context("cannot begin a transaction")?;
        match check_and_insert(&mut tx, table, candidates, stored_ids).await {
            Ok(outcome) => return Ok((tx, outcome)),
            // Some ids are stored already: start again, looking them up.
            // The whole transaction is undone rather than the refused
            // statement alone, so that SQLite needs no statement journal
            // (see `db::Dialect::insert_verb`).
            Err(err) if db::is_unique_violation(&err) && stored_ids == StoredIds::AssumeNew => {
                tx.rollback().await.context("cannot roll the batch back")?;
                stored_ids = StoredIds::LookUp;
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
