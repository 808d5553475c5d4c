//! Backups and restores.

use serde::{Deserialize, Serialize};

/// What is known of one backup file.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(poem_openapi::Object))]
pub struct BackupInfo {
    /// File name in the backups folder; pass it to restore.
    pub name: String,
    pub table: String,
    pub rows: u64,
    /// Size of the file.
    pub bytes: u64,
    /// SHA-256 of the file, checked again before a restore.
    pub sha256: String,
    /// Avro compression codec.
    pub codec: String,
    /// UTC, RFC 3339 with milliseconds.
    pub created_at: String,
    /// Set on the backup a restore takes of the table just before replacing
    /// it: the backup that restore put in. A restore without a name skips
    /// these and takes the newest other backup.
    #[cfg_attr(feature = "openapi", oai(skip_serializing_if_is_none))]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub before_restore_of: Option<String>,
}

/// A table's backups, newest first.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(poem_openapi::Object))]
pub struct BackupList {
    pub backups: Vec<BackupInfo>,
}

/// What a restore replaced.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(poem_openapi::Object))]
pub struct RestoreResult {
    pub table: String,
    pub backup: String,
    /// Rows now in the table.
    pub rows: u64,
    /// Rows the table held before.
    pub previous_rows: i64,
    /// The backup of the table as it was just before: restoring it undoes
    /// this restore.
    pub previous_backup: String,
}

/// Which backup to restore.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(poem_openapi::Object))]
#[cfg_attr(feature = "openapi", oai(deny_unknown_fields))]
#[serde(deny_unknown_fields)]
pub struct RestoreRequest {
    /// A backup name from the list; the newest when absent.
    #[cfg_attr(
        feature = "openapi",
        oai(validator(
            max_length = 255,
            pattern = r"^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*\.avro$"
        ))
    )]
    #[serde(
        default,
        deserialize_with = "string_not_null",
        skip_serializing_if = "Option::is_none"
    )]
    pub backup: Option<String>,
}

/// A member that may be left out but, when present, is a string (not null).
fn string_not_null<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    <String as Deserialize>::deserialize(d).map(Some)
}
