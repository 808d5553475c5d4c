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
use std::time::Duration;
use vocab::IngestResult;

/// A client's name for one batch (`Idempotency-Key`), and the digest of
/// the body it came with, which tells a resend from another batch that
/// reuses the key.
#[derive(Clone, Debug)]
pub struct BatchKey {
    pub key: String,
    pub body_sha256: String,
}

impl BatchKey {
    /// The key `key` (1 to 255 visible ASCII characters: the operation's
    /// declared rule) of a batch whose body is `body`.
    pub fn new(key: String, body: &[u8]) -> BatchKey {
        let body_sha256 =
            crate::files::sha256_of(&mut &body[..]).expect("reading bytes in memory cannot fail");
        BatchKey { key, body_sha256 }
    }
}

/// A key sent before with another batch (another table or body).
#[derive(Debug, thiserror::Error)]
#[error(
    "the Idempotency-Key {0:?} was sent before with another batch; send a new batch with a new key"
)]
pub struct KeyReused(pub String);

/// The key was recorded by another attempt while this one ran.
#[derive(Debug, thiserror::Error)]
#[error("the Idempotency-Key was recorded meanwhile")]
struct KeyTaken;

/// How long a batch key is kept: a resend after that is a new batch.
pub const BATCH_KEYS_KEPT: Duration = Duration::from_secs(24 * 3600);

/// Forgets the batch keys recorded over [`BATCH_KEYS_KEPT`] ago: how many.
pub async fn forget_old_batch_keys(db: &Db) -> anyhow::Result<u64> {
    let before = chrono::Utc::now() - BATCH_KEYS_KEPT;
    let before = before.to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
    let mut conn = db.acquire().await?;
    Ok(db::forget_batches(&mut conn, &before).await?)
}

/// What a REST batch was answered.
#[derive(Debug)]
pub struct Answered {
    pub answer: IngestResult,
    /// True when the batch's key had been recorded already: the answer is
    /// that of the attempt that stored it, and nothing was done now.
    pub replayed: bool,
}

/// The answer to a batch of `received` rows.
pub fn answer(
    table: Table,
    received: usize,
    outcome: &BatchOutcome,
    dry_run: bool,
) -> IngestResult {
    IngestResult {
        table: table.name().to_owned(),
        received: received as u64,
        inserted: outcome.inserted,
        already_stored: outcome.already_stored,
        rejected: outcome.rejections.len() as u64,
        errors: outcome
            .rejections
            .iter()
            .map(|r| r.to_row_error())
            .collect(),
        dry_run,
    }
}

/// Stores one REST batch in its own transaction (see `commit_batch`).
/// With a key, a batch recorded under it before is answered as it was then
/// and nothing is stored or recorded again: so a client may resend a batch
/// whose answer it never got, even when the service could not tell whether
/// its commit happened (the connection died during COMMIT).
#[tracing::instrument(skip_all, fields(%table, rows = candidates.len()))]
pub async fn ingest_batch(
    db: &Db,
    table: Table,
    source: Source<'_>,
    candidates: &[Candidate],
    key: Option<&BatchKey>,
) -> anyhow::Result<Answered> {
    // The key is looked up only when this attempt finds it recorded: the
    // batch's own transaction writes it, so a first attempt (nearly every
    // batch) costs no extra query, and a resend is undone whole.
    let stored = commit_batch(
        db,
        table,
        source,
        candidates,
        Finish::Commit {
            progress: None,
            key,
        },
        async { Ok(()) },
    )
    .await;
    match (stored, key) {
        (Ok(outcome), _) => Ok(Answered {
            answer: answer(table, candidates.len(), &outcome, false),
            replayed: false,
        }),
        // Another attempt with the key committed first: answer as it was.
        (Err(err), Some(key)) if err.is::<KeyTaken>() => match replay(db, table, key).await? {
            Some(answer) => Ok(Answered {
                answer,
                replayed: true,
            }),
            None => anyhow::bail!(
                "the batch's Idempotency-Key is recorded, yet its answer cannot be read"
            ),
        },
        (Err(err), _) => Err(err),
    }
}

/// The answer recorded under `key`, if the batch was stored before.
async fn replay(db: &Db, table: Table, key: &BatchKey) -> anyhow::Result<Option<IngestResult>> {
    let mut conn = db.acquire().await?;
    let Some(stored) = db::stored_batch(&mut conn, &key.key).await? else {
        return Ok(None);
    };
    if stored.table_name != table.name() || stored.body_sha256 != key.body_sha256 {
        return Err(KeyReused(key.key.clone()).into());
    }
    let answer = serde_json::from_str(&stored.answer)
        .with_context(|| format!("the answer recorded under {:?} is not readable", key.key))?;
    Ok(Some(answer))
}

/// What [`ingest_batch`] would do with a batch, found the same way (the
/// rows are inserted), then undone: nothing is stored, no reject recorded.
#[tracing::instrument(skip_all, fields(%table, rows = candidates.len()))]
pub async fn dry_run_batch(
    db: &Db,
    table: Table,
    candidates: &[Candidate],
) -> anyhow::Result<IngestResult> {
    let outcome = commit_batch(
        db,
        table,
        // A dry run records nothing, so has no source to name.
        Source::Request { request_id: "" },
        candidates,
        Finish::Undo,
        async { Ok(()) },
    )
    .await?;
    Ok(answer(table, candidates.len(), &outcome, true))
}

/// A historical file's place, committed with each of its batches so that a
/// load cut short resumes after the last committed one.
pub(crate) struct FileProgress<'a> {
    pub sha256: &'a str,
    /// Records the file has yielded up to and including this batch.
    pub rows_read: i64,
}

/// How a batch's transaction ends.
pub(crate) enum Finish<'a> {
    /// Records the rejects (and a file's progress, or the batch's key with
    /// its answer) and commits.
    Commit {
        progress: Option<FileProgress<'a>>,
        key: Option<&'a BatchKey>,
    },
    /// Rolls back: a dry run.
    Undo,
}

/// Stores one batch in its own transaction. The batch's rejects are
/// recorded in the same transaction (stored with the batch, exactly once,
/// or not at all), and so is a file's progress or the batch's key.
///
/// A transaction a concurrent one rolled back (a key stored meanwhile, a
/// deadlock, on a cluster a write that lost certification at COMMIT) is run
/// again whole, a bounded number of times: that is safe because a batch run
/// again finds what it stored, if anything, and stores nothing twice.
///
/// The rows are inserted first; the first attempt then waits for `turn`
/// before it records and commits, so that a load can insert one chunk
/// beside the one before and still commit them in file order. An error
/// from `turn` undoes the batch.
pub(crate) async fn commit_batch(
    db: &Db,
    table: Table,
    source: Source<'_>,
    candidates: &[Candidate],
    finish: Finish<'_>,
    turn: impl Future<Output = anyhow::Result<()>>,
) -> anyhow::Result<BatchOutcome> {
    // Five were too few for three replicas each writing over four
    // connections to its own node of a cluster (bench/galera.sh): a batch
    // lost certification five times in a row about once in two runs.
    const ATTEMPTS: u32 = 10;
    let _writer = db.write_guard().await?;
    let mut turn = Some(turn);
    let mut stored_ids = StoredIds::AssumeNew;
    let mut attempt = 1;
    loop {
        let run = run_batch(
            db, table, source, candidates, &finish, &mut turn, stored_ids,
        );
        let err = match run.await {
            Ok(outcome) => return Ok(outcome),
            Err(err) => err,
        };
        match db::Conflict::in_chain(&err) {
            // Some ids are stored already: start again, looking them up.
            // The whole transaction is undone rather than the refused
            // statement alone, so that SQLite needs no statement journal
            // (see `db::Dialect::insert_verb`).
            Some(db::Conflict::DuplicateKey) if stored_ids == StoredIds::AssumeNew => {
                stored_ids = StoredIds::LookUp;
            }
            Some(conflict) if attempt < ATTEMPTS => {
                db.note_conflict(conflict);
                tracing::debug!(error = %err, attempt, "batch rolled back by a concurrent one; running it again");
                tokio::time::sleep(backoff(attempt)).await;
                attempt += 1;
                if conflict == db::Conflict::DuplicateKey {
                    stored_ids = StoredIds::LookUp;
                }
            }
            _ => return Err(err),
        }
    }
}

/// The pause before attempt `attempt + 1`: 10 ms more each time, and a
/// part of it at random, so that two transactions that conflicted do not
/// run again in step.
fn backoff(attempt: u32) -> Duration {
    let step = 10 * u64::from(attempt);
    let mut random = [0u8; 2];
    let jitter = match getrandom::fill(&mut random) {
        Ok(()) => u64::from(u16::from_le_bytes(random)) % (step + 1),
        Err(_) => 0,
    };
    Duration::from_millis(step / 2 + jitter)
}

/// One attempt of [`commit_batch`]: begins a write transaction, checks and
/// inserts the batch, waits for `turn` (the first time), and finishes.
async fn run_batch<F>(
    db: &Db,
    table: Table,
    source: Source<'_>,
    candidates: &[Candidate],
    finish: &Finish<'_>,
    turn: &mut Option<F>,
    stored_ids: StoredIds,
) -> anyhow::Result<BatchOutcome>
where
    F: Future<Output = anyhow::Result<()>>,
{
    let mut tx = db
        .begin_write()
        .await
        .context("cannot begin a transaction")?;
    let outcome = check_and_insert(&mut tx, table, candidates, stored_ids)
        .await
        .context("cannot store the batch")?;
    let Finish::Commit { progress, key } = finish else {
        tx.rollback().await.context("cannot undo the dry run")?;
        return Ok(outcome);
    };
    if let Some(turn) = turn.take() {
        turn.await?;
    }
    let now = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
    db::record_rejects(&mut tx, table, source, &outcome.rejections, &now)
        .await
        .context("cannot record the batch's rejects")?;
    if let Some(file) = progress {
        let counts = db::Progress {
            rows_read: file.rows_read,
            inserted: outcome.inserted as i64,
            already_stored: outcome.already_stored as i64,
            rejected: outcome.rejections.len() as i64,
        };
        db::record_progress(&mut tx, table, file.sha256, counts).await?;
    }
    if let Some(key) = key {
        let answer = serde_json::to_string(&answer(table, candidates.len(), &outcome, false))
            .context("cannot write the batch's answer")?;
        match db::record_batch(&mut tx, &key.key, table, &key.body_sha256, &answer, &now).await {
            Err(err) if db::Conflict::of(&err) == Some(db::Conflict::DuplicateKey) => {
                return Err(KeyTaken.into());
            }
            other => other.context("cannot record the batch's key")?,
        }
    }
    // Last, so that the count's row is held only until the commit.
    db::add_to_count(&mut tx, table, outcome.inserted)
        .await
        .context("cannot count the batch's rows")?;
    tx.commit().await.context("cannot commit the batch")?;
    Ok(outcome)
}
