//! `add-records`: stream a CSV of any size to the API in batches of 1000.

use super::Context;
use crate::api::{Api, Failure};
use crate::output::{self, DataFormat, Printable, count};
use crate::table::Table;
use anyhow::Context as _;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use serde::Serialize;
use std::fs::File;
use std::io::{BufReader, BufWriter, IsTerminal, Read, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;
use vocab::{IngestResult, MAX_BATCH_ROWS, RejectCode, raw_fields};

const ATTEMPTS: u32 = 4;

/// What happened to the file.
#[derive(Debug, Serialize)]
pub struct Summary {
    pub table: Table,
    pub read: u64,
    pub inserted: u64,
    /// Rows stored already with the same values (a resend): nothing wrong.
    pub already_stored: u64,
    pub rejected: u64,
    /// Where the rejected rows were written; none when there were none.
    pub rejects_file: Option<PathBuf>,
    /// The file was only checked (`--dry-run`): `inserted` is what would
    /// have been stored, and nothing was.
    pub dry_run: bool,
}

impl Printable for Summary {
    fn rows(&self) -> (Vec<&'static str>, Vec<Vec<String>>) {
        let header = vec![
            "table",
            "read",
            "inserted",
            "already_stored",
            "rejected",
            "rejects_file",
            "dry_run",
        ];
        let row = vec![
            self.table.to_string(),
            self.read.to_string(),
            self.inserted.to_string(),
            self.already_stored.to_string(),
            self.rejected.to_string(),
            self.rejects_file
                .as_ref()
                .map(|file| file.display().to_string())
                .unwrap_or_default(),
            self.dry_run.to_string(),
        ];
        (header, vec![row])
    }

    fn sentences(&self) -> Option<String> {
        let (what, inserted) = if self.dry_run {
            ("dry run, nothing stored: ", "would be inserted")
        } else {
            ("", "inserted")
        };
        let mut text = format!(
            "{}: {what}{} read, {} {inserted}, {} already stored, {} rejected",
            self.table,
            count(self.read, "row"),
            self.inserted,
            self.already_stored,
            self.rejected
        );
        if let Some(file) = &self.rejects_file {
            text += &format!("\nrejected rows and their reasons: {}", file.display());
        }
        Some(text)
    }
}

/// What `add-records` takes.
#[derive(Debug, clap::Args)]
#[command(
    after_help = "Examples:\n  client add-records departments data/departments.csv\n  client add-records employees hired.csv --dry-run\n  cat jobs.csv | client add-records jobs -\n  client add-records employees   # reads $SHARED_DIR/incoming/employees.csv"
)]
pub struct Args {
    table: Table,
    /// The CSV, or `-` for standard input [default: $SHARED_DIR/incoming/<table>.csv].
    file: Option<PathBuf>,
    /// Where to write the rejected rows.
    #[arg(long)]
    rejects: Option<PathBuf>,
    /// Check every row as a real run would and write the rejects file,
    /// storing nothing. Each batch is checked against what is stored,
    /// not against the file's earlier batches.
    #[arg(long)]
    dry_run: bool,
}

/// `add-records`: sends the file and prints what became of it.
pub async fn command(
    api: &Api,
    args: Args,
    context: &Context,
    format: DataFormat,
) -> anyhow::Result<()> {
    let source = args
        .file
        .unwrap_or_else(|| default_source(&context.shared_dir, args.table));
    if context.verbose {
        eprintln!(
            "sending {} to {} at {}",
            source.display(),
            args.table,
            context.url
        );
    }
    let options = Options {
        table: args.table,
        source,
        rejects: args.rejects,
        quiet: context.quiet,
        dry_run: args.dry_run,
    };
    let summary = run(api, options).await?;
    output::print(format, &summary)
}

pub struct Options {
    pub table: Table,
    /// The CSV; `-` for standard input.
    pub source: PathBuf,
    /// Where rejected rows go; next to the source by default.
    pub rejects: Option<PathBuf>,
    pub quiet: bool,
    /// Check every batch as an ingest would, storing nothing.
    pub dry_run: bool,
}

/// One row of the batch being built: its line in the source and its bytes
/// as one CSV line (UTF-8 or not: the API judges and records every row).
struct Pending {
    line: u64,
    raw: Vec<u8>,
}

/// One line of the rejects file: where the row was, why the API refused
/// it, and the row (`raw_base64` too when its bytes are not UTF-8).
#[derive(Serialize)]
struct RejectLine<'a> {
    line: u64,
    id: Option<i64>,
    field: Option<&'a str>,
    code: RejectCode,
    message: &'a str,
    raw: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    raw_base64: Option<String>,
}

pub async fn run(api: &Api, options: Options) -> anyhow::Result<Summary> {
    api.has_token()?;
    let stdin = options.source.as_os_str() == "-";
    let (input, size): (Box<dyn Read>, Option<u64>) = if stdin {
        (Box::new(std::io::stdin().lock()), None)
    } else {
        let file = File::open(&options.source)
            .with_context(|| format!("cannot open {}", options.source.display()))?;
        let size = file.metadata().ok().map(|m| m.len());
        (Box::new(file), size)
    };
    // A dry run's rejects never overwrite a real run's.
    let suffix = if options.dry_run {
        ".dry-run.rejects.jsonl"
    } else {
        ".rejects.jsonl"
    };
    let rejects_path = options.rejects.clone().unwrap_or_else(|| {
        if stdin {
            PathBuf::from(format!("{}{suffix}", options.table))
        } else {
            let mut path = options.source.clone().into_os_string();
            path.push(suffix);
            PathBuf::from(path)
        }
    });

    let mut rejects = RejectsFile::open(rejects_path)?;
    let progress = progress_bar(size, options.quiet);
    let plain_lines = !options.quiet && !std::io::stderr().is_terminal();
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(BufReader::with_capacity(1 << 16, input));
    let mut record = csv::ByteRecord::new();
    let mut summary = Summary {
        table: options.table,
        read: 0,
        inserted: 0,
        already_stored: 0,
        rejected: 0,
        rejects_file: None,
        dry_run: options.dry_run,
    };
    let mut batch: Vec<Pending> = Vec::with_capacity(MAX_BATCH_ROWS);
    let mut number = 0;
    // Whatever happens, the rejects of the batches sent are kept (see
    // `RejectsFile`).
    let sent: anyhow::Result<()> = async {
        loop {
            let more = reader
                .read_byte_record(&mut record)
                .with_context(|| format!("cannot read {}", options.source.display()))?;
            if more {
                let line = record.position().map_or(summary.read + 1, |p| p.line());
                summary.read += 1;
                batch.push(Pending {
                    line,
                    raw: csv_line(&record),
                });
            }
            if batch.len() == MAX_BATCH_ROWS || (!more && !batch.is_empty()) {
                number += 1;
                let result = send(api, &options, &batch, &progress).await?;
                summary.inserted += result.inserted;
                summary.already_stored += result.already_stored;
                summary.rejected += result.rejected;
                for error in &result.errors {
                    // `send` checked that every index is within the batch.
                    let pending = &batch[error.row as usize];
                    let (raw, raw_base64) = raw_fields(&pending.raw);
                    let line = RejectLine {
                        line: pending.line,
                        id: error.id,
                        field: error.field.as_deref(),
                        code: error.code,
                        message: &error.message,
                        raw,
                        raw_base64,
                    };
                    rejects.write(&line)?;
                }
                if plain_lines {
                    let inserted = if options.dry_run {
                        "would be inserted"
                    } else {
                        "inserted"
                    };
                    eprintln!(
                        "batch {number}: {}, {} {inserted}, {} already stored, {} rejected",
                        count(batch.len() as u64, "row"),
                        result.inserted,
                        result.already_stored,
                        result.rejected
                    );
                }
                batch.clear();
                progress.set_position(reader.position().byte());
                progress.set_message(format!(
                    "{} inserted, {} rejected",
                    summary.inserted, summary.rejected
                ));
            }
            if !more {
                break;
            }
        }
        Ok(())
    }
    .await;
    progress.finish_and_clear();
    let rejects_file = rejects.finish(sent.is_ok());
    sent?;
    summary.rejects_file = rejects_file?;
    if summary.read == 0 {
        anyhow::bail!(
            "{} holds no rows: nothing was sent",
            if stdin {
                "standard input".to_owned()
            } else {
                options.source.display().to_string()
            }
        );
    }
    Ok(summary)
}

/// Where the rejected rows go. They are written to a temp file beside the
/// target, made before anything is sent (a path that cannot be written
/// stops the run while nothing is stored) and put in place when the run
/// ends with a reject, also a run that failed midway (the rejects of the
/// batches it sent are real). An earlier file is never truncated before
/// that, and one that a complete run without rejects finds is removed: it
/// describes an older run. A target that is not a regular file
/// (`/dev/stderr`) is written directly.
struct RejectsFile {
    target: PathBuf,
    out: RejectsOut,
    written: bool,
}

enum RejectsOut {
    Temp(BufWriter<tempfile::NamedTempFile>),
    Direct(BufWriter<File>),
}

impl RejectsFile {
    fn open(target: PathBuf) -> anyhow::Result<RejectsFile> {
        let cannot = || format!("cannot create {}", target.display());
        let special = std::fs::metadata(&target).is_ok_and(|m| !m.is_file());
        let out = if special {
            let file = File::options().write(true).open(&target);
            RejectsOut::Direct(BufWriter::new(file.with_context(cannot)?))
        } else {
            let dir = match target.parent() {
                Some(dir) if !dir.as_os_str().is_empty() => dir,
                _ => Path::new("."),
            };
            let name = target.file_name().unwrap_or_default().to_string_lossy();
            let temp = tempfile::Builder::new()
                .prefix(&format!(".{name}."))
                .permissions(std::os::unix::fs::PermissionsExt::from_mode(0o644))
                .tempfile_in(dir)
                .with_context(cannot)?;
            RejectsOut::Temp(BufWriter::new(temp))
        };
        Ok(RejectsFile {
            target,
            out,
            written: false,
        })
    }

    fn write(&mut self, line: &RejectLine<'_>) -> anyhow::Result<()> {
        let out: &mut dyn Write = match &mut self.out {
            RejectsOut::Temp(out) => out,
            RejectsOut::Direct(out) => out,
        };
        serde_json::to_writer(&mut *out, line)?;
        writeln!(out)?;
        self.written = true;
        Ok(())
    }

    /// Ends the file (see [`RejectsFile`]); `completed` when the run read
    /// and sent its whole input. The target, when it holds this run's
    /// rejects.
    fn finish(self, completed: bool) -> anyhow::Result<Option<PathBuf>> {
        let target = self.target;
        let cannot = |what: &str| format!("cannot {what} {}", target.display());
        match self.out {
            RejectsOut::Direct(mut out) => {
                out.flush().with_context(|| cannot("write"))?;
            }
            RejectsOut::Temp(out) if self.written => {
                let temp = out.into_inner().map_err(|err| err.into_error());
                temp.with_context(|| cannot("write"))?
                    .persist(&target)
                    .map_err(|err| err.error)
                    .with_context(|| cannot("write"))?;
            }
            RejectsOut::Temp(_) => {
                if completed && std::fs::metadata(&target).is_ok_and(|m| m.is_file()) {
                    std::fs::remove_file(&target).with_context(|| cannot("remove the old"))?;
                }
                return Ok(None);
            }
        }
        Ok(self.written.then_some(target))
    }
}

/// Posts one batch, retrying when the API could not be reached. Every
/// attempt carries the batch's own `Idempotency-Key`, so a retry of a batch
/// the API did store (its answer lost on the way) is answered as the first
/// attempt was, and stores and records nothing twice. The answer must
/// account for every row sent, once.
async fn send(
    api: &Api,
    options: &Options,
    batch: &[Pending],
    progress: &ProgressBar,
) -> anyhow::Result<IngestResult> {
    let table = options.table;
    let path = if options.dry_run {
        format!("/api/v1/tables/{table}/rows?dry_run=true")
    } else {
        format!("/api/v1/tables/{table}/rows")
    };
    // A dry run stores nothing, so needs no key.
    let key = (!options.dry_run).then(|| uuid::Uuid::new_v4().to_string());
    let result = post_batch(api, &path, batch, key.as_deref(), progress).await?;
    if options.dry_run && !result.dry_run {
        anyhow::bail!(
            "the API did not treat POST {path} as a dry run (an older API?): \
             this batch of {} may have been stored",
            count(batch.len() as u64, "row")
        );
    }
    let sent = batch.len() as u64;
    let adds_up = result.received == sent
        && result.rejected == result.errors.len() as u64
        && result.inserted + result.already_stored + result.rejected == sent
        && result.errors.iter().all(|e| e.row < sent);
    if !adds_up {
        anyhow::bail!(
            "the API's answer to POST {path} does not add up: {} sent, {} received, \
             {} inserted, {} already stored, {} rejected, {} errors listed",
            count(sent, "row"),
            result.received,
            result.inserted,
            result.already_stored,
            result.rejected,
            result.errors.len()
        );
    }
    Ok(result)
}

async fn post_batch(
    api: &Api,
    path: &str,
    batch: &[Pending],
    key: Option<&str>,
    progress: &ProgressBar,
) -> anyhow::Result<IngestResult> {
    let mut body = Vec::with_capacity(batch.len() * 64);
    for row in batch {
        body.extend_from_slice(&row.raw);
        body.push(b'\n');
    }
    let mut attempt = 1;
    loop {
        match api.post_csv(path, body.clone(), key).await {
            Ok(result) => return Ok(result),
            Err(Failure::Transient(message)) if attempt < ATTEMPTS => {
                let wait = Duration::from_secs(1 << (attempt - 1));
                progress.suspend(|| eprintln!("{message}; retrying in {}s", wait.as_secs()));
                tokio::time::sleep(wait).await;
                attempt += 1;
            }
            Err(failure) => return Err(failure.into()),
        }
    }
}

fn progress_bar(size: Option<u64>, quiet: bool) -> ProgressBar {
    let bar = match size {
        Some(size) => ProgressBar::new(size).with_style(
            ProgressStyle::with_template("{bar:40} {bytes}/{total_bytes} {msg}")
                .expect("a valid template"),
        ),
        None => ProgressBar::new_spinner().with_style(
            ProgressStyle::with_template("{spinner} {bytes} {msg}").expect("a valid template"),
        ),
    };
    if quiet || !std::io::stderr().is_terminal() {
        bar.set_draw_target(ProgressDrawTarget::hidden());
    }
    bar
}

/// The record as one CSV line, quoted as needed, its bytes as they were.
fn csv_line(record: &csv::ByteRecord) -> Vec<u8> {
    // A small buffer: the default 8 KiB is allocated and zeroed per row.
    let mut writer = csv::WriterBuilder::new()
        .terminator(csv::Terminator::Any(b'\n'))
        .buffer_capacity(256)
        .from_writer(Vec::new());
    let _ = writer.write_byte_record(record);
    let mut bytes = writer.into_inner().unwrap_or_default();
    if bytes.last() == Some(&b'\n') {
        bytes.pop();
    }
    bytes
}

/// Where `add-records` reads when no file is given: the shared volume's
/// `incoming/` folder (the `docker cp` flow).
pub fn default_source(shared_dir: &Path, table: Table) -> PathBuf {
    shared_dir.join("incoming").join(format!("{table}.csv"))
}
