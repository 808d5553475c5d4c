use super::{BackupInfo, sidecar_path, table_schema};
use crate::config::BackupCodec;
use crate::db::{self, Db};
use crate::domain::Table;
use crate::files::{self, Place};
use crate::telemetry;
use anyhow::Context;
use apache_avro::{Codec, DeflateSettings, Writer, ZstandardSettings};
use sha2::{Digest, Sha256};
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::Path;
use tokio::sync::mpsc;
use vocab::Record;

/// Avro block size: 64 KiB measured fastest and smallest for these rows.
const BLOCK_SIZE: usize = 64 * 1024;

/// The Avro codec of `codec`, with its settings.
fn avro_codec(codec: BackupCodec) -> Codec {
    match codec {
        BackupCodec::Null => Codec::Null,
        BackupCodec::Deflate => Codec::Deflate(DeflateSettings::new(DEFLATE_LEVEL)),
        BackupCodec::Snappy => Codec::Snappy,
        BackupCodec::Zstandard => Codec::Zstandard(ZstandardSettings::new(3)),
    }
}

/// Deflate's level: the fastest. At level 1 a backup writes about as fast
/// as with zstandard (MariaDB, 1 M rows: 0.83 M vs 0.86 M rows/s) in a file
/// 20 % larger; the default level 6 made files 23 % smaller still but wrote
/// at 0.53 M rows/s (docs/benchmarks.md, "Backup codecs").
const DEFLATE_LEVEL: miniz_oxide::deflate::CompressionLevel =
    miniz_oxide::deflate::CompressionLevel::BestSpeed;

/// Backs `table` up to a new file in `dir`: rows stream from one snapshot
/// (a read transaction) into an Avro writer on a blocking thread, to a temp
/// file that is fsynced, then linked under its final name.
#[tracing::instrument(skip_all, fields(%table))]
pub async fn create_backup(
    db: &Db,
    dir: &Path,
    table: Table,
    codec: BackupCodec,
    before_restore_of: Option<&str>,
) -> anyhow::Result<BackupInfo> {
    tokio::fs::create_dir_all(dir)
        .await
        .with_context(|| format!("cannot create {}", dir.display()))?;
    let now = chrono::Utc::now();
    let mut random = [0u8; 3];
    getrandom::fill(&mut random).map_err(|err| anyhow::anyhow!("no randomness: {err}"))?;
    let name = format!(
        "{table}-{}-{}.avro",
        now.format("%Y%m%dT%H%M%S%.3fZ"),
        hex::encode(random)
    );
    let created_at = now.to_rfc3339_opts(chrono::SecondsFormat::Millis, true);

    let (sender, receiver) = mpsc::channel::<Vec<Record>>(4);
    let final_path = dir.join(&name);
    // Removed if the backup fails or its request is dropped.
    let temp = files::temp_file(dir, &name, 0o644)?;
    let writer = {
        let file = temp
            .as_file()
            .try_clone()
            .with_context(|| format!("cannot write {}", temp.path().display()))?;
        telemetry::spawn_blocking(move || write_file(file, table, codec, receiver))
    };

    let streamed = db::send_all_rows(db, table, &sender).await;
    drop(sender);
    let written = writer.await.context("the Avro writer panicked")?;
    let (rows, bytes, sha256) = match (streamed, written) {
        (Ok(()), Ok(done)) => done,
        (Err(err), _) | (_, Err(err)) => return Err(err.context("backup failed")),
    };

    // A new name never replaces an existing file: names cannot collide.
    files::put_in_place(temp, dir, &name, Place::New)
        .with_context(|| format!("cannot create {}", final_path.display()))?;
    let info = BackupInfo {
        name,
        table: table.name().to_owned(),
        rows,
        bytes,
        sha256,
        codec: codec.name().to_owned(),
        created_at,
        before_restore_of: before_restore_of.map(str::to_owned),
    };
    write_sidecar(&final_path, &info)?;
    tracing::info!(name = %info.name, rows, bytes, "backup written");
    Ok(info)
}

/// Writes the Avro file; returns (rows, bytes, sha256).
fn write_file(
    file: File,
    table: Table,
    codec: BackupCodec,
    mut chunks: mpsc::Receiver<Vec<Record>>,
) -> anyhow::Result<(u64, u64, String)> {
    let schema = table_schema(table);
    let mut writer = Writer::builder()
        .schema(&schema)
        .writer(HashingWriter::new(BufWriter::with_capacity(1 << 16, file)))
        .codec(avro_codec(codec))
        .block_size(BLOCK_SIZE)
        .build()?;
    let mut rows = 0u64;
    while let Some(chunk) = chunks.blocking_recv() {
        for record in &chunk {
            match record {
                Record::Department(d) => writer.append_ser(d)?,
                Record::Job(j) => writer.append_ser(j)?,
                Record::Employee(e) => writer.append_ser(e)?,
            };
        }
        rows += chunk.len() as u64;
    }
    // Errors on drop are lost: flush and unwrap explicitly.
    writer.flush()?;
    let hashing = writer.into_inner()?;
    let (buffered, bytes, digest) = hashing.finish();
    // Flushed to the file; `files::put_in_place` syncs it.
    buffered.into_inner().map_err(|err| err.into_error())?;
    Ok((rows, bytes, hex::encode(digest)))
}

fn write_sidecar(file: &Path, info: &BackupInfo) -> anyhow::Result<()> {
    let sidecar = sidecar_path(file);
    let (Some(dir), Some(name)) = (sidecar.parent(), sidecar.file_name()) else {
        anyhow::bail!("{} has no folder or name", sidecar.display());
    };
    let json = serde_json::to_vec_pretty(info)?;
    files::write_atomically(dir, &name.to_string_lossy(), &json)
}

/// Counts and hashes what passes through.
struct HashingWriter<W> {
    inner: W,
    hasher: Sha256,
    bytes: u64,
}

impl<W: Write> HashingWriter<W> {
    fn new(inner: W) -> Self {
        HashingWriter {
            inner,
            hasher: Sha256::new(),
            bytes: 0,
        }
    }

    fn finish(self) -> (W, u64, [u8; 32]) {
        (self.inner, self.bytes, self.hasher.finalize().into())
    }
}

impl<W: Write> Write for HashingWriter<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.hasher.update(&buf[..n]);
        self.bytes += n as u64;
        Ok(n)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}
