use super::Rejection;
use crate::domain::Table;
use crate::telemetry;
use anyhow::Context;
use serde::Serialize;
use std::collections::HashSet;
use std::io::BufRead;
use std::path::{Path, PathBuf};
use tokio::io::AsyncWriteExt;
use tokio::sync::Mutex;

/// Where a batch came from, for the reject log.
#[derive(Clone, Debug)]
pub enum Source<'a> {
    /// A REST request, with its request id.
    Request { request_id: &'a str },
    /// A historical CSV file, with its SHA-256.
    File { name: &'a str, sha256: &'a str },
}

/// Appends every rejected row, one JSON object per line, to
/// `$SHARED_DIR/logs/rejected.jsonl`.
pub struct RejectLog {
    path: PathBuf,
    file: Mutex<tokio::fs::File>,
}

#[derive(Serialize)]
struct Line<'a> {
    time: &'a str,
    table: &'static str,
    source: &'a str,
    request_id: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    file_sha256: Option<&'a str>,
    /// 0-based index in a request, 1-based record number in a file.
    row: u64,
    id: Option<i64>,
    field: Option<&'static str>,
    code: &'static str,
    message: &'a str,
    raw: &'a str,
}

impl RejectLog {
    pub async fn open(path: &Path) -> anyhow::Result<RejectLog> {
        if let Some(parent) = path.parent() {
            tokio::fs::create_dir_all(parent)
                .await
                .with_context(|| format!("cannot create {}", parent.display()))?;
        }
        let file = tokio::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .await
            .with_context(|| format!("cannot open the reject log {}", path.display()))?;
        Ok(RejectLog {
            path: path.to_owned(),
            file: Mutex::new(file),
        })
    }

    /// The rows of the file with this checksum that have a line in the log
    /// for `table`: a load resumed after a crash skips them, so a chunk that
    /// was logged but not committed is not logged twice. Reads the whole log
    /// (only when a load resumes).
    pub async fn logged_rows(&self, table: Table, sha256: &str) -> anyhow::Result<HashSet<u64>> {
        #[derive(serde::Deserialize)]
        struct Logged<'a> {
            table: &'a str,
            file_sha256: Option<&'a str>,
            row: u64,
        }
        let _appending = self.file.lock().await;
        let path = self.path.clone();
        let sha256 = sha256.to_owned();
        telemetry::spawn_blocking(move || -> anyhow::Result<HashSet<u64>> {
            let file = std::fs::File::open(&path)
                .with_context(|| format!("cannot read the reject log {}", path.display()))?;
            let mut rows = HashSet::new();
            for line in std::io::BufReader::new(file).lines() {
                let line = line?;
                if !line.contains(&sha256) {
                    continue;
                }
                if let Ok(logged) = serde_json::from_str::<Logged<'_>>(&line)
                    && logged.table == table.name()
                    && logged.file_sha256 == Some(sha256.as_str())
                {
                    rows.insert(logged.row);
                }
            }
            Ok(rows)
        })
        .await?
    }

    /// Writes the batch's rejects in one append.
    pub async fn append(
        &self,
        table: Table,
        source: &Source<'_>,
        rejections: &[Rejection],
    ) -> anyhow::Result<()> {
        if rejections.is_empty() {
            return Ok(());
        }
        let time = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
        let (source_name, request_id, file_sha256) = match source {
            Source::Request { request_id } => ("api", Some(*request_id), None),
            Source::File { name, sha256 } => (*name, None, Some(*sha256)),
        };
        let mut buffer = Vec::with_capacity(rejections.len() * 256);
        for rejection in rejections {
            let line = Line {
                time: &time,
                table: table.name(),
                source: source_name,
                request_id,
                file_sha256,
                row: rejection.position,
                id: rejection.id,
                field: rejection.field,
                code: rejection.code.as_str(),
                message: &rejection.message,
                raw: &rejection.raw,
            };
            serde_json::to_writer(&mut buffer, &line).context("cannot encode a reject")?;
            buffer.push(b'\n');
        }
        let mut file = self.file.lock().await;
        file.write_all(&buffer)
            .await
            .with_context(|| format!("cannot write to {}", self.path.display()))?;
        file.flush().await?;
        Ok(())
    }
}
