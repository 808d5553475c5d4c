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

/// How a file written through [`temp_file`] takes its name.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Place {
    /// Replacing a file of that name, if there is one (a saved report, a
    /// backup's sidecar): a reader sees the old file or the new one whole.
    Replace,
    /// Never replacing one (a backup, the first-start token): when the name
    /// is taken, [`put_in_place`] fails with `AlreadyExists` and the temp
    /// file is removed. Two writers of one name cannot both win.
    New,
}

/// A temp file of its own in `dir`, named `.{name}.<random>.tmp` and
/// created with `mode`; removed when it is dropped, so on every way out of
/// the code that writes it (an error, a cancelled request) nothing is left.
/// Every file the service writes goes through one: see [`put_in_place`].
pub fn temp_file(dir: &Path, name: &str, mode: u32) -> anyhow::Result<tempfile::NamedTempFile> {
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    tempfile::Builder::new()
        .prefix(&format!(".{name}."))
        .suffix(".tmp")
        .permissions(std::fs::Permissions::from_mode(mode))
        .tempfile_in(dir)
        .with_context(|| format!("cannot create a temp file in {}", dir.display()))
}

/// Syncs `temp` (made by [`temp_file`] in `dir`) and gives it `name` there
/// as `place` says, then syncs the folder, so that the name survives a
/// crash too. A reader never sees half a file.
pub fn put_in_place(
    temp: tempfile::NamedTempFile,
    dir: &Path,
    name: &str,
    place: Place,
) -> std::io::Result<()> {
    temp.as_file().sync_all()?;
    let target = dir.join(name);
    let placed = match place {
        Place::Replace => temp.persist(&target),
        Place::New => temp.persist_noclobber(&target),
    };
    // On failure the temp file is dropped with the error: removed.
    placed.map_err(|err| err.error)?;
    // The file is in place now: a folder that cannot be synced is said,
    // not made a failure of a write that happened.
    if let Err(err) = File::open(dir).and_then(|dir| dir.sync_all()) {
        tracing::warn!(error = %err, dir = %dir.display(), "cannot sync the folder after a write");
    }
    Ok(())
}

/// Writes `contents` to `dir/name`, replacing the file there, through a
/// temp file of its own: a reader sees the old file or a whole new one,
/// and two writers of one name never share a temp file.
pub fn write_atomically(dir: &Path, name: &str, contents: &[u8]) -> anyhow::Result<()> {
    let mut temp = temp_file(dir, name, 0o644)?;
    temp.write_all(contents)
        .with_context(|| format!("cannot write {}", temp.path().display()))?;
    put_in_place(temp, dir, name, Place::Replace)
        .with_context(|| format!("cannot write {}", dir.join(name).display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The names in `dir`, sorted.
    fn names(dir: &Path) -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    }

    #[test]
    fn a_new_file_never_replaces_one_and_leaves_no_temp_file() {
        let dir = tempfile::tempdir().unwrap();
        let mut first = temp_file(dir.path(), "x.avro", 0o644).unwrap();
        first.write_all(b"first").unwrap();
        let mut second = temp_file(dir.path(), "x.avro", 0o644).unwrap();
        second.write_all(b"second").unwrap();
        assert_ne!(first.path(), second.path());

        put_in_place(first, dir.path(), "x.avro", Place::New).unwrap();
        let lost = put_in_place(second, dir.path(), "x.avro", Place::New).unwrap_err();

        assert_eq!(lost.kind(), std::io::ErrorKind::AlreadyExists);
        assert_eq!(std::fs::read(dir.path().join("x.avro")).unwrap(), b"first");
        assert_eq!(names(dir.path()), ["x.avro"]);
    }

    #[test]
    fn a_replacement_is_whole_and_a_dropped_temp_file_is_gone() {
        let dir = tempfile::tempdir().unwrap();
        write_atomically(dir.path(), "r.csv", b"old").unwrap();
        write_atomically(dir.path(), "r.csv", b"new").unwrap();
        assert_eq!(std::fs::read(dir.path().join("r.csv")).unwrap(), b"new");

        let mut abandoned = temp_file(dir.path(), "r.csv", 0o600).unwrap();
        abandoned.write_all(b"half").unwrap();
        assert_eq!(names(dir.path()).len(), 2);
        drop(abandoned);
        assert_eq!(names(dir.path()), ["r.csv"]);
        let mode = std::fs::metadata(dir.path().join("r.csv"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o644);
    }
}
