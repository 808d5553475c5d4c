//! The historical load: `$DATA_DIR/<table>.csv`, once per file content,
//! resumable after a crash.
//!
//! A file flows through four moving parts. Each is here for one reason,
//! written with the figure it buys (docs/benchmarks.md, "Historical load"):
//!
//! 1. **A reader thread** (`read_chunks`) parses and validates the file on
//!    a blocking thread, into a channel two chunks deep, while the async
//!    side stores. Memory stays at a few chunks whatever the file's size:
//!    67 MiB at 10 M rows, as at 1 M.
//! 2. **Chunks in flight** (the dialect's `load_chunks_in_flight`: 3 on
//!    MySQL, 1 on SQLite, which has one writer). One connection inserting
//!    1000-row statements kept the MySQL server on one core, at 0.52–0.63x
//!    the speed of `LOAD DATA` on the same file; two at once, 0.79–0.82x;
//!    three, 0.92–0.93x; four, no better.
//! 3. **A commit order** (`Committed`, one count of the chunks committed):
//!    each chunk inserts at once but commits only after the chunk before
//!    it. The recorded progress is then always a prefix of the file, so a
//!    load cut short resumes after its last committed row, with nothing
//!    doubled and no stored row reported as a reject. Correctness, at no cost: the
//!    inserts, the slow part, still overlap.
//! 4. **Id sets** (`chunk_ids`): a chunk that shares an id with a chunk in
//!    flight waits for it. The first occurrence of an id must win, and
//!    without this MariaDB hangs: the earlier chunk waits for the later
//!    one's row lock while the later one waits for its turn to commit, a
//!    wait InnoDB cannot see as a deadlock (a test in
//!    `api/tests/api/historical.rs` hangs without it). With one chunk in
//!    flight no ids are collected.
//!
//! If the load fails, every chunk in flight is stopped and awaited
//! (`AbortOnDrop`) before the error is returned, so no chunk commits
//! after the load gave up.

use super::BatchOutcome;
use super::{
    Candidate, CsvRecord, FileProgress, Finish, MAX_BATCH_ROWS, Source, commit_batch,
    csv_candidate, csv_records,
};
use crate::db::{self, Db};
use crate::domain::Table;
use crate::files::sha256_of_file;
use crate::metrics::{Metrics, RowSource};
use anyhow::Context;
use std::collections::{HashSet, VecDeque};
use std::io::BufReader;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use tokio::sync::{mpsc, watch};
use tokio::task::JoinHandle;
use tracing::Instrument;

/// What one file's load did (this run and earlier ones together).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoadSummary {
    pub table: Table,
    /// The file's record: rows read, inserted, already stored, rejected.
    pub counts: db::LoadRecord,
    /// False when the file had been loaded completely before this start.
    pub loaded_now: bool,
}

/// What the historical load found in `DATA_DIR` at this start.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LoadReport {
    /// The folder looked in, made absolute (so that a service started
    /// outside the checkout says where it looked).
    pub data_dir: PathBuf,
    /// Each file found, and what its load did.
    pub loads: Vec<LoadSummary>,
    /// The tables whose file was not there.
    pub missing: Vec<Table>,
}

/// Loads each table's file from `data_dir`, referenced tables first.
/// Missing files are skipped, and said so at WARN.
#[tracing::instrument(skip_all, fields(dir = %data_dir.display()))]
pub async fn load_all(db: &Db, data_dir: &Path, metrics: &Metrics) -> anyhow::Result<LoadReport> {
    let mut report = LoadReport {
        data_dir: std::path::absolute(data_dir).unwrap_or_else(|_| data_dir.to_owned()),
        ..LoadReport::default()
    };
    for table in Table::ALL {
        let path = data_dir.join(format!("{table}.csv"));
        if !path.is_file() {
            report.missing.push(table);
            continue;
        }
        let summary = load_file(db, table, &path, metrics)
            .await
            .with_context(|| format!("historical load of {} failed", path.display()))?;
        report.loads.push(summary);
    }
    if report.loads.is_empty() {
        tracing::warn!(
            dir = %report.data_dir.display(),
            "no historical data found: none of departments.csv, jobs.csv, employees.csv is in {} \
             (DATA_DIR); the tables start empty",
            report.data_dir.display()
        );
    } else {
        for table in &report.missing {
            tracing::warn!(
                dir = %report.data_dir.display(),
                "no historical file for {table}: {table}.csv is not in {} (DATA_DIR)",
                report.data_dir.display()
            );
        }
    }
    Ok(report)
}

/// A chunk of at most 1000 candidates and how many records the file has
/// yielded up to and including it.
type Chunk = (i64, Vec<Candidate>);

#[tracing::instrument(skip_all, fields(table = %table, file = %path.display()))]
pub async fn load_file(
    db: &Db,
    table: Table,
    path: &Path,
    metrics: &Metrics,
) -> anyhow::Result<LoadSummary> {
    let sha256 = sha256_of_file(path.to_owned()).await?;
    let file_name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let now = || chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true);

    let record = {
        let mut conn = db.acquire().await?;
        db::load_record(&mut conn, table, &sha256).await?
    };
    let skip = match &record {
        Some(done) if done.completed_at.is_some() => {
            tracing::info!(rows = done.rows_read, "already loaded; skipping");
            metrics.load_progress(table, done.rows_read, true);
            return Ok(LoadSummary {
                table,
                counts: done.clone(),
                loaded_now: false,
            });
        }
        Some(partial) => {
            tracing::info!(rows_done = partial.rows_read, "resuming a load cut short");
            partial.rows_read
        }
        None => {
            let mut conn = db.acquire().await?;
            db::start_load(&mut conn, table, &sha256, &file_name, &now()).await?;
            0
        }
    };

    let (sender, mut chunks) = mpsc::channel::<anyhow::Result<Chunk>>(2);
    let reader_path = path.to_owned();
    let reader =
        crate::telemetry::spawn_blocking(move || read_chunks(&reader_path, table, skip, &sender));

    // The moving parts 2 to 4 of the module's documentation.
    let in_flight_max = db.dialect().load_chunks_in_flight();
    let file = Arc::new((file_name, sha256));
    let mut in_flight: VecDeque<InFlight> = VecDeque::new();
    let committed = Committed(Arc::new(watch::Sender::new(0)));
    let mut sequence: u64 = 0;
    let stored: anyhow::Result<()> = async {
        while let Some(chunk) = chunks.recv().await {
            let (rows_read, candidates) = chunk?;
            // One chunk at a time (SQLite) needs no ids to compare.
            let ids = if in_flight_max > 1 {
                chunk_ids(&candidates)
            } else {
                HashSet::new()
            };
            while in_flight.len() >= in_flight_max
                || in_flight.iter().any(|chunk| !chunk.ids.is_disjoint(&ids))
            {
                let done = in_flight.pop_front().expect("a chunk in flight");
                done.finish(table, metrics).await?;
            }
            let (db, file, committed) = (db.clone(), Arc::clone(&file), committed.clone());
            let number = sequence;
            sequence += 1;
            let task = tokio::spawn(
                async move {
                    let (name, sha256) = &*file;
                    let chunk = (rows_read, &*candidates);
                    let stored =
                        store_chunk(&db, table, (name, sha256), chunk, (&committed, number))
                            .await?;
                    committed.done(number);
                    Ok(stored)
                }
                .in_current_span(),
            );
            in_flight.push_back(InFlight {
                ids,
                rows_read,
                task: AbortOnDrop(task),
            });
        }
        while let Some(done) = in_flight.pop_front() {
            done.finish(table, metrics).await?;
        }
        Ok(())
    }
    .await;
    if let Err(err) = stored {
        // No chunk may still commit once the load has given up: stop each
        // and wait until it has stopped (a commit under way finishes).
        for chunk in in_flight.drain(..) {
            chunk.task.stop().await;
        }
        return Err(err);
    }
    let (_, sha256) = &*file;
    reader.await.context("the CSV reader stopped")?;

    let mut conn = db.acquire().await?;
    db::finish_load(&mut conn, table, sha256, &now()).await?;
    let done = db::load_record(&mut conn, table, sha256)
        .await?
        .context("the load record vanished")?;
    tracing::info!(
        rows = done.rows_read,
        inserted = done.inserted,
        already_stored = done.already_stored,
        rejected = done.rejected,
        "historical load complete"
    );
    metrics.load_progress(table, done.rows_read, true);
    Ok(LoadSummary {
        table,
        counts: done,
        loaded_now: true,
    })
}

/// Streams the file's records after the first `skip`, in chunks of at most
/// 1000, into `sender`; memory stays at two chunks whatever the file size.
fn read_chunks(path: &Path, table: Table, skip: i64, sender: &mpsc::Sender<anyhow::Result<Chunk>>) {
    let send = |item| sender.blocking_send(item).is_ok();
    let file = match std::fs::File::open(path) {
        Ok(file) => file,
        Err(err) => {
            send(Err(anyhow::Error::new(err).context("cannot open the file")));
            return;
        }
    };
    let mut records = csv_records(table, BufReader::with_capacity(1 << 16, file));
    let mut record = CsvRecord::default();
    let mut read: i64 = 0;
    let mut chunk = Vec::with_capacity(MAX_BATCH_ROWS);
    loop {
        match records.read(&mut record) {
            Ok(true) => {
                read += 1;
                if read <= skip {
                    continue;
                }
                chunk.push(csv_candidate(table, record.line, &record));
                if chunk.len() == MAX_BATCH_ROWS && !send(Ok((read, std::mem::take(&mut chunk)))) {
                    return;
                }
            }
            Ok(false) => break,
            Err(err) => {
                send(Err(anyhow::Error::new(err).context("cannot read the CSV")));
                return;
            }
        }
    }
    if !chunk.is_empty() {
        send(Ok((read, chunk)));
    }
}

/// The ids of a chunk's rows that parsed: the only ones it may store.
fn chunk_ids(candidates: &[Candidate]) -> HashSet<i32> {
    candidates
        .iter()
        .filter_map(|candidate| candidate.parsed.as_ref().ok())
        .map(|row| row.id().get())
        .collect()
}

/// Stores chunk `number` of the file `name` (content `sha256`): it commits
/// after the chunks before it, and waits for a write turn as long as it
/// takes (the load is not answering anyone: where a request gives up after
/// WRITE_WAIT_SECS, it waits on).
async fn store_chunk(
    db: &Db,
    table: Table,
    (name, sha256): (&str, &str),
    (rows_read, candidates): (i64, &[Candidate]),
    (committed, number): (&Committed, u64),
) -> anyhow::Result<BatchOutcome> {
    let source = Source::File { name, sha256 };
    loop {
        let finish = Finish::Commit {
            progress: Some(FileProgress { sha256, rows_read }),
            key: None,
        };
        let my_turn = committed.before(number);
        match commit_batch(db, table, source, candidates, finish, my_turn).await {
            Err(err) if crate::db::is_write_busy(&err) => {
                tracing::warn!(%table, "no write turn yet for the historical load; waiting on");
                tokio::time::sleep(std::time::Duration::from_millis(200)).await;
            }
            other => return other,
        }
    }
}

/// How many chunks of the load have committed: chunk `n` (from 0) commits
/// once `n` have. One count, shared by the chunks' tasks.
#[derive(Clone)]
struct Committed(Arc<watch::Sender<u64>>);

impl Committed {
    /// Waits until the chunks before chunk `n` have committed. (If one of
    /// them fails, it never comes: the load then stops this one.)
    async fn before(&self, n: u64) -> anyhow::Result<()> {
        self.0
            .subscribe()
            .wait_for(|&count| count >= n)
            .await
            .map(|_| ())
            .context("the load stopped before this chunk could commit")
    }

    /// Chunk `n` has committed: the next one may.
    fn done(&self, n: u64) {
        self.0.send_replace(n + 1);
    }
}

/// A chunk being stored.
struct InFlight {
    ids: HashSet<i32>,
    rows_read: i64,
    task: AbortOnDrop,
}

impl InFlight {
    /// Waits until the chunk is committed and counts it.
    async fn finish(mut self, table: Table, metrics: &Metrics) -> anyhow::Result<()> {
        let stored = (&mut self.task.0)
            .await
            .context("a chunk of the load stopped")??;
        metrics.rows(
            table,
            RowSource::file,
            stored.inserted,
            stored.already_stored,
            stored.rejections.len() as u64,
        );
        metrics.load_progress(table, self.rows_read, false);
        Ok(())
    }
}

/// A chunk's task, stopped (its transaction rolled back) if the load
/// returns before it is done.
struct AbortOnDrop(JoinHandle<anyhow::Result<BatchOutcome>>);

impl AbortOnDrop {
    async fn stop(mut self) {
        self.0.abort();
        let _ = (&mut self.0).await;
    }
}

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}
