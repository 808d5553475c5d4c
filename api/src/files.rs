//! File helpers shared by the historical load, backups and reports.

use crate::telemetry;
use anyhow::Context;
use sha2::{Digest, Sha256};
use std::fs::File;
use std::io::{Read, Write};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

/// SHA-256 of a file as lowercase hex, read in 64 KiB pieces on a blocking
/// thread.
pub async fn sha256_of_file(path: PathBuf) -> anyhow::Result<String> {
    telemetry::spawn_blocking(move || -> anyhow::Result<String> {
        let mut file =
            File::open(&path).with_context(|| format!("cannot open {}", path.display()))?;
        Ok(sha256_of(&mut file)?)
    })
    .await?
}

/// SHA-256 of what is left to read in `input`, as lowercase hex.
pub fn sha256_of(input: &mut impl Read) -> std::io::Result<String> {
    let mut hasher = Sha256::new();
    let mut buffer = vec![0; 1 << 16];
    loop {
        let n = input.read(&mut buffer)?;
        if n == 0 {
            break;
        }
        hasher.update(&buffer[..n]);
    }
    Ok(hex::encode(hasher.finalize()))
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

/// Writes `contents` to `dir/name` through a synced temp file of its own
/// (a unique name, removed if anything fails) and a rename, so a reader
/// sees the old file or a whole new one, never half of one, and two
/// writers of one name never share a temp file.
pub fn write_atomically(dir: &Path, name: &str, contents: &[u8]) -> anyhow::Result<()> {
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let mut temp = tempfile::Builder::new()
        .prefix(&format!(".{name}."))
        .suffix(".tmp")
        // Readable like any file written here (temp files default to 0600).
        .permissions(std::fs::Permissions::from_mode(0o644))
        .tempfile_in(dir)
        .with_context(|| format!("cannot create a temp file in {}", dir.display()))?;
    temp.write_all(contents)
        .and_then(|()| temp.as_file().sync_all())
        .with_context(|| format!("cannot write {}", temp.path().display()))?;
    temp.persist(dir.join(name))
        .with_context(|| format!("cannot rename into {}", dir.join(name).display()))?;
    Ok(())
}
