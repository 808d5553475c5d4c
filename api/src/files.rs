//! File helpers shared by the historical load, backups and reports.

use crate::telemetry;
use anyhow::Context;
use sha2::{Digest, Sha256};
use std::fs::File;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

/// SHA-256 of a file as lowercase hex, read in 64 KiB pieces on a blocking
/// thread.
pub async fn sha256_of_file(path: PathBuf) -> anyhow::Result<String> {
    telemetry::spawn_blocking(move || -> anyhow::Result<String> {
        let mut file =
            File::open(&path).with_context(|| format!("cannot open {}", path.display()))?;
        let mut hasher = Sha256::new();
        let mut buffer = vec![0; 1 << 16];
        loop {
            let n = file.read(&mut buffer)?;
            if n == 0 {
                break;
            }
            hasher.update(&buffer[..n]);
        }
        Ok(hex::encode(hasher.finalize()))
    })
    .await?
}

/// A temp file's path, removed when this is dropped: on every way out of
/// the code that writes it, a cancelled request included.
pub struct TempPath(PathBuf);

impl TempPath {
    pub fn new(path: PathBuf) -> TempPath {
        TempPath(path)
    }

    pub fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempPath {
    fn drop(&mut self) {
        // Gone already once it was linked into place and removed.
        let _ = std::fs::remove_file(&self.0);
    }
}

/// Writes `contents` to `dir/name` through a synced temp file and a rename,
/// so a reader sees the old file or the whole new one, never half of one.
pub fn write_atomically(dir: &Path, name: &str, contents: &[u8]) -> anyhow::Result<()> {
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let temp = dir.join(format!(".{name}.tmp"));
    let mut file =
        File::create(&temp).with_context(|| format!("cannot create {}", temp.display()))?;
    file.write_all(contents)
        .and_then(|()| file.sync_all())
        .with_context(|| format!("cannot write {}", temp.display()))?;
    std::fs::rename(&temp, dir.join(name))
        .with_context(|| format!("cannot rename {}", temp.display()))?;
    Ok(())
}
