use super::{NameError, check_writer_schema, list_backups, read_sidecar, resolve_name};
use crate::config::BackupCodec;
use crate::db::{self, Db};
use crate::domain::{Raw, Row, Table};
use crate::files;
use crate::telemetry;
use anyhow::Context;
use apache_avro::Reader;
use apache_avro::types::Value;
use sqlx::Connection;
use std::io::{BufReader, Seek};
use std::path::Path;
use tokio::sync::mpsc;
use vocab::MAX_BATCH_ROWS;

/// What a restore replaced.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RestoreSummary {
    pub backup: String,
    pub rows: u64,
    pub previous_rows: i64,
    /// The backup of the table as it was just before the swap.
    pub previous_backup: String,
}

/// Why a restore did not happen. In every case the live table is untouched.
#[derive(Debug, thiserror::Error)]
pub enum RestoreError {
    #[error(transparent)]
    Name(#[from] NameError),
    #[error("there are no backups of {0} yet")]
    NoBackups(Table),
    /// The file cannot be restored: unreadable, corrupt, another table's,
    /// or rows that break the dictionary or a reference.
    #[error("{0}")]
    Invalid(String),
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

impl From<sqlx::Error> for RestoreError {
    fn from(err: sqlx::Error) -> Self {
        RestoreError::Internal(err.into())
    }
}

/// How long a restore waits for another restore of the same table (on any
/// API process) to finish.
const RESTORE_WAIT: std::time::Duration = std::time::Duration::from_secs(600);

/// Restores `table` from the backup `name` (the newest when `None`): the
/// file is checked, every record validated like an ingested row and loaded
/// into a staging table, references are checked, and the staging table is
/// swapped in atomically. On any failure the staging table is dropped and
/// the live table is exactly as before. Restores run one at a time.
#[tracing::instrument(skip_all, fields(%table))]
pub async fn restore_backup(
    db: &Db,
    dir: &Path,
    table: Table,
    name: Option<&str>,
    codec: BackupCodec,
) -> Result<RestoreSummary, RestoreError> {
    let mut one_restore_at_a_time = db.restore_turn(table, RESTORE_WAIT).await?;
    let name = match name {
        Some(name) => name.to_owned(),
        None => {
            // The newest backup, not one a restore took of what it replaced.
            let backups = list_backups(dir, table).context("cannot list the backups")?;
            backups
                .into_iter()
                .find(|backup| backup.before_restore_of.is_none())
                .ok_or(RestoreError::NoBackups(table))?
                .name
        }
    };
    let path = resolve_name(dir, &name)?;
    let sidecar = read_sidecar(&path);
    if let Some(info) = &sidecar
        && info.table != table.name()
    {
        return Err(RestoreError::Invalid(format!(
            "backup {name} is of table {}, not {table}",
            info.table
        )));
    }
    let file = {
        let name = name.clone();
        let expected = sidecar.map(|info| info.sha256);
        telemetry::spawn_blocking(move || open_checked(&path, &name, expected.as_deref()))
            .await
            .context("the checksum task stopped")??
    };

    let (sender, mut chunks) = mpsc::channel::<Result<Vec<Row>, RestoreError>>(2);
    let reader = {
        let name = name.clone();
        telemetry::spawn_blocking(move || read_rows(file, &name, table, &sender))
    };

    let mut conn = db.acquire().await?;
    let staging = db::Staging::new(table)?;
    {
        let _writer = db.write_guard().await.map_err(anyhow::Error::new)?;
        // With the turn, every other staging table of this one is left from
        // a restore that stopped (its process or its node died, or it lost
        // its turn): dropped here.
        db::drop_every_staging(&mut conn, db.dialect(), table).await?;
        db::create_staging(&mut conn, db.dialect(), &staging).await?;
    }
    let result: Result<RestoreSummary, RestoreError> = async {
        // The staging load commits every 20 chunks: far fewer log flushes
        // than one per statement, and SQLite writers wait only that long.
        const CHUNKS_PER_COMMIT: usize = 20;
        let started = std::time::Instant::now();
        let mut rows = 0u64;
        let mut done = false;
        while !done {
            let _writer = db.write_guard().await.map_err(anyhow::Error::new)?;
            let mut tx = conn.begin().await?;
            for _ in 0..CHUNKS_PER_COMMIT {
                let Some(chunk) = chunks.recv().await else {
                    done = true;
                    break;
                };
                let chunk = chunk?;
                let refs: Vec<&Row> = chunk.iter().collect();
                match db::insert_staging(&mut tx, &staging, &refs).await {
                    Err(sqlx::Error::Database(err)) if err.is_unique_violation() => {
                        return Err(RestoreError::Invalid(format!(
                            "backup {name} holds the same {} twice",
                            table.id_column()
                        )));
                    }
                    other => other?,
                }
                rows += chunk.len() as u64;
            }
            tx.commit().await?;
        }
        reader.await.context("the Avro reader panicked")?;
        tracing::debug!(rows, ms = started.elapsed().as_millis() as u64, "backup staged");
        db::index_staging(&mut conn, db.dialect(), &staging).await?;
        tracing::debug!(ms = started.elapsed().as_millis() as u64, "staging indexed");

        // No ingest between the reference check and the swap, in this
        // process or any other: an employee stored in between could point
        // at a row the swap removes.
        let _writers = db
            .exclusive_write_guard()
            .await
            .map_err(anyhow::Error::new)?;
        let mut gate = db.hold_write_gate().await?;
        if let Some(problem) = db::broken_reference(&mut conn, &staging).await? {
            return Err(RestoreError::Invalid(format!(
                "restoring {name} would break a reference: {problem}; restore the referenced tables first"
            )));
        }
        tracing::debug!(ms = started.elapsed().as_millis() as u64, "references checked");
        // The table as it is now, every acknowledged row in it (no writer
        // gets in until the swap), backed up before it is replaced: the
        // answer names the backup, and restoring it undoes this restore.
        let previous = super::create_backup(db, dir, table, codec, Some(&name))
            .await
            .context("cannot back the table up before replacing it")?;
        tracing::debug!(ms = started.elapsed().as_millis() as u64, "previous table backed up");
        // On a cluster the turn and the gate are leases: still this
        // restore's, and for a lease's life from now, or it stops here.
        one_restore_at_a_time.confirm().await?;
        gate.confirm().await?;
        db::swap_in_staging(&mut conn, db.dialect(), &staging, rows as i64).await?;
        gate.open().await;
        tracing::debug!(ms = started.elapsed().as_millis() as u64, "staging swapped in");
        Ok(RestoreSummary {
            backup: name.clone(),
            rows,
            previous_rows: previous.rows as i64,
            previous_backup: previous.name,
        })
    }
    .await;
    let result = match result {
        // A restore that lost its turn may fail in any step (its staging
        // table dropped by the next holder): that, not the step, is why.
        Err(RestoreError::Internal(err)) => match one_restore_at_a_time.confirm().await {
            Err(lost) if lost.is::<db::TurnLost>() => Err(RestoreError::Internal(lost)),
            _ => Err(RestoreError::Internal(err)),
        },
        other => other,
    };
    if result.is_err() {
        drop(chunks);
        // Without a turn, the staging table stays until the next restore of
        // the table or the next start.
        let dropped = match db.write_guard().await {
            Ok(_writer) => db::drop_staging(&mut conn, &staging)
                .await
                .map_err(anyhow::Error::new),
            Err(busy) => Err(anyhow::Error::new(busy)),
        };
        if let Err(err) = dropped {
            tracing::warn!(error = %err, "cannot drop the staging table");
        }
    } else {
        tracing::info!(backup = %name, "table restored");
    }
    result
}

/// Opens the backup once, checks its SHA-256 against `expected` (the
/// sidecar's) when there is one, and returns the same handle at its start:
/// a file put in its place meanwhile is neither checked nor read.
fn open_checked(
    path: &Path,
    name: &str,
    expected: Option<&str>,
) -> Result<std::fs::File, RestoreError> {
    let invalid = |message: String| RestoreError::Invalid(message);
    let mut file = std::fs::File::open(path)
        .map_err(|err| invalid(format!("cannot open backup {name}: {err}")))?;
    if let Some(expected) = expected {
        let sha256 = files::sha256_of(&mut file)
            .and_then(|sha256| file.rewind().map(|()| sha256))
            .map_err(|err| invalid(format!("cannot read backup {name}: {err}")))?;
        if sha256 != expected {
            return Err(invalid(format!(
                "backup {name} is corrupt: its SHA-256 differs from the one recorded when it was written"
            )));
        }
    }
    Ok(file)
}

/// Reads and validates the file's records, sending chunks of at most 1000
/// rows; stops at the first problem, which it sends instead.
fn read_rows(
    file: std::fs::File,
    name: &str,
    table: Table,
    sender: &mpsc::Sender<Result<Vec<Row>, RestoreError>>,
) {
    let send = |item| sender.blocking_send(item).is_ok();
    let invalid = |message: String| Err(RestoreError::Invalid(message));
    let reader = match Reader::new(BufReader::with_capacity(1 << 16, file)) {
        Ok(reader) => reader,
        Err(err) => {
            send(invalid(format!(
                "backup {name} is not a readable Avro file: {err}"
            )));
            return;
        }
    };
    if let Err(problem) = check_writer_schema(table, reader.writer_schema()) {
        send(invalid(format!(
            "backup {name} does not fit {table}: {problem}"
        )));
        return;
    }
    // Chunks of a full batch: the insert's fastest statement shape.
    let mut chunk = Vec::with_capacity(MAX_BATCH_ROWS);
    for (index, value) in reader.enumerate() {
        let record = index + 1;
        let row = value
            .map_err(|err| format!("backup {name} is damaged at record {record}: {err}"))
            .and_then(|value| {
                row_from_avro(table, &value).map_err(|err| {
                    format!(
                        "backup {name}, record {record}: {}: {} ({})",
                        err.field.unwrap_or("row"),
                        err.message,
                        err.code
                    )
                })
            });
        match row {
            Ok(row) => chunk.push(row),
            Err(message) => {
                send(invalid(message));
                return;
            }
        }
        if chunk.len() == MAX_BATCH_ROWS && !send(Ok(std::mem::take(&mut chunk))) {
            return;
        }
    }
    if !chunk.is_empty() {
        send(Ok(chunk));
    }
}

/// Validates one Avro record with the same rules as an ingested row.
fn row_from_avro(table: Table, value: &Value) -> Result<Row, crate::domain::FieldError> {
    let fields: &[(String, Value)] = match value {
        Value::Record(fields) => fields,
        _ => &[],
    };
    let raw: Vec<Raw<'_>> = table
        .columns()
        .iter()
        .map(|column| {
            fields
                .iter()
                .find(|(name, _)| name == column)
                .map_or(Raw::Missing, |(_, value)| raw_avro(value))
        })
        .collect();
    Row::parse(table, &raw)
}

fn raw_avro(value: &Value) -> Raw<'_> {
    match value {
        Value::Null => Raw::Missing,
        Value::Int(n) => Raw::Integer(i64::from(*n)),
        Value::Long(n) => Raw::Integer(*n),
        Value::String(s) => Raw::String(s),
        Value::Union(_, inner) => raw_avro(inner),
        _ => Raw::Other("an Avro value of another type"),
    }
}

#[cfg(test)]
mod fuzz {
    use super::*;
    use proptest::prelude::*;

    /// Everything `read_rows` sends for the file holding `bytes`.
    fn read_all(bytes: &[u8]) -> Vec<Result<Vec<Row>, RestoreError>> {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f.avro");
        std::fs::write(&path, bytes).unwrap();
        let (sender, mut receiver) = mpsc::channel(1024);
        read_rows(
            std::fs::File::open(&path).unwrap(),
            "f.avro",
            Table::Jobs,
            &sender,
        );
        drop(sender);
        let mut items = Vec::new();
        while let Ok(item) = receiver.try_recv() {
            items.push(item);
        }
        items
    }

    /// A valid jobs file of a few rows.
    fn valid_file() -> Vec<u8> {
        let schema = crate::backup::table_schema(Table::Jobs);
        let mut writer = apache_avro::Writer::new(&schema, Vec::new()).unwrap();
        for id in 1..=20 {
            writer
                .append_ser(vocab::JobRecord {
                    job_id: id,
                    job_name: format!("Job {id}"),
                })
                .unwrap();
        }
        writer.into_inner().unwrap()
    }

    /// The handle whose checksum was checked is the one read: a file
    /// renamed into the backup's place afterwards is not read.
    #[test]
    fn the_checked_handle_is_the_one_read() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f.avro");
        let checked = valid_file();
        std::fs::write(&path, &checked).unwrap();
        let sha256 = crate::files::sha256_of(&mut checked.as_slice()).unwrap();
        let file = open_checked(&path, "f.avro", Some(&sha256)).unwrap();

        let schema = crate::backup::table_schema(Table::Jobs);
        let mut other = apache_avro::Writer::new(&schema, Vec::new()).unwrap();
        let job = vocab::JobRecord {
            job_id: 99,
            job_name: "Swapped in".to_owned(),
        };
        other.append_ser(job).unwrap();
        std::fs::write(dir.path().join("other"), other.into_inner().unwrap()).unwrap();
        std::fs::rename(dir.path().join("other"), &path).unwrap();

        let (sender, mut receiver) = mpsc::channel(1024);
        read_rows(file, "f.avro", Table::Jobs, &sender);
        drop(sender);
        let rows = receiver.try_recv().unwrap().unwrap();
        assert_eq!(
            rows.len(),
            20,
            "the checked file's 20 rows, not the 1 swapped in"
        );

        assert!(matches!(
            open_checked(&path, "f.avro", Some(&sha256)),
            Err(RestoreError::Invalid(message)) if message.contains("corrupt")
        ));
    }

    #[test]
    fn the_valid_file_reads_whole() {
        let items = read_all(&valid_file());
        assert_eq!(items.len(), 1);
        assert_eq!(items[0].as_ref().unwrap().len(), 20);
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

        /// Random bytes: never a panic, always refused as an invalid backup.
        #[test]
        fn random_bytes_are_refused(bytes in prop::collection::vec(any::<u8>(), 0..2000)) {
            let items = read_all(&bytes);
            prop_assert!(matches!(items.last(), Some(Err(RestoreError::Invalid(_)))));
        }

        /// A valid file cut short or with a byte changed: never a panic;
        /// what is read is either refused or rows that passed validation.
        #[test]
        fn damaged_files_never_panic(cut in 0usize..1000, flip in 0usize..1000, mask in 1u8..=255) {
            let mut bytes = valid_file();
            let flip = flip % bytes.len();
            bytes[flip] ^= mask;
            bytes.truncate(cut.min(bytes.len()));
            for item in read_all(&bytes) {
                if let Err(err) = item {
                    prop_assert!(matches!(err, RestoreError::Invalid(_)));
                }
            }
        }
    }
}
