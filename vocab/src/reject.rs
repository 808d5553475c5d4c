use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use serde::{Deserialize, Serialize};
use std::borrow::Cow;
use std::fmt;

/// Stable, machine-readable reason a row was rejected.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(poem_openapi::Enum))]
#[cfg_attr(feature = "openapi", oai(rename_all = "snake_case"))]
pub enum RejectCode {
    /// A CSV record that is not valid UTF-8.
    InvalidEncoding,
    /// A CSV record with more or fewer fields than the table has columns.
    WrongFieldCount,
    /// A JSON object with a key that is not a column of the table.
    UnknownField,
    /// A JSON object that gives one key more than once.
    DuplicateField,
    /// A mandatory field is absent, null or empty.
    MissingField,
    /// An id that is not an integer.
    InvalidInteger,
    /// An integer id outside 1..=2^31-1.
    OutOfRange,
    /// A name that is too long or holds control characters, bidi controls
    /// or noncharacters.
    InvalidName,
    /// A hiring date that is not RFC 3339 with a zone.
    InvalidDatetime,
    /// The referenced department does not exist.
    UnknownDepartment,
    /// The referenced job does not exist.
    UnknownJob,
    /// The primary key exists already, in the table or earlier in the batch.
    DuplicateId,
}

impl RejectCode {
    pub fn as_str(self) -> &'static str {
        match self {
            RejectCode::InvalidEncoding => "invalid_encoding",
            RejectCode::WrongFieldCount => "wrong_field_count",
            RejectCode::UnknownField => "unknown_field",
            RejectCode::DuplicateField => "duplicate_field",
            RejectCode::MissingField => "missing_field",
            RejectCode::InvalidInteger => "invalid_integer",
            RejectCode::OutOfRange => "out_of_range",
            RejectCode::InvalidName => "invalid_name",
            RejectCode::InvalidDatetime => "invalid_datetime",
            RejectCode::UnknownDepartment => "unknown_department",
            RejectCode::UnknownJob => "unknown_job",
            RejectCode::DuplicateId => "duplicate_id",
        }
    }
}

impl RejectCode {
    pub const ALL: [RejectCode; 12] = [
        RejectCode::InvalidEncoding,
        RejectCode::WrongFieldCount,
        RejectCode::UnknownField,
        RejectCode::DuplicateField,
        RejectCode::MissingField,
        RejectCode::InvalidInteger,
        RejectCode::OutOfRange,
        RejectCode::InvalidName,
        RejectCode::InvalidDatetime,
        RejectCode::UnknownDepartment,
        RejectCode::UnknownJob,
        RejectCode::DuplicateId,
    ];
}

impl std::str::FromStr for RejectCode {
    type Err = ();

    fn from_str(s: &str) -> Result<Self, ()> {
        RejectCode::ALL
            .into_iter()
            .find(|code| code.as_str() == s)
            .ok_or(())
    }
}

impl fmt::Display for RejectCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Why one row of the batch was not stored.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(poem_openapi::Object))]
pub struct RowError {
    /// 0-based index of the row in the batch.
    pub row: u64,
    /// The row's id as sent, when it was an integer.
    #[cfg_attr(feature = "openapi", oai(skip_serializing_if_is_none))]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<i64>,
    /// The column at fault, when there is one.
    #[cfg_attr(feature = "openapi", oai(skip_serializing_if_is_none))]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    pub code: RejectCode,
    pub message: String,
}

/// Where a rejected row came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[cfg_attr(feature = "openapi", derive(poem_openapi::Enum))]
#[cfg_attr(feature = "openapi", oai(rename_all = "lowercase"))]
#[cfg_attr(feature = "clap", derive(clap::ValueEnum))]
pub enum RejectSource {
    /// REST requests.
    Api,
    /// Historical files.
    File,
}

impl RejectSource {
    pub fn as_str(self) -> &'static str {
        match self {
            RejectSource::Api => "api",
            RejectSource::File => "file",
        }
    }
}

/// A rejected row, as recorded in its batch's transaction.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(poem_openapi::Object))]
pub struct RejectRecord {
    /// Keyset order: pass the last one as `after_id`.
    pub reject_id: i64,
    pub table: String,
    pub source: RejectSource,
    /// The request's id (source `api`).
    #[cfg_attr(feature = "openapi", oai(skip_serializing_if_is_none))]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
    /// The file's name (source `file`).
    #[cfg_attr(feature = "openapi", oai(skip_serializing_if_is_none))]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file_name: Option<String>,
    /// The file's SHA-256 (source `file`).
    #[cfg_attr(feature = "openapi", oai(skip_serializing_if_is_none))]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file_sha256: Option<String>,
    /// 1-based line in the file (source `file`).
    #[cfg_attr(feature = "openapi", oai(skip_serializing_if_is_none))]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub line: Option<i64>,
    /// 0-based index in the request's batch (source `api`).
    #[cfg_attr(feature = "openapi", oai(skip_serializing_if_is_none))]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub row: Option<i64>,
    /// The row's id, when it parsed as an integer.
    #[cfg_attr(feature = "openapi", oai(skip_serializing_if_is_none))]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<i64>,
    /// The column at fault, when there is one.
    #[cfg_attr(feature = "openapi", oai(skip_serializing_if_is_none))]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    pub code: RejectCode,
    pub message: String,
    /// The row as received (CSV line or JSON object), cut to 4 KiB with a
    /// marker. Bytes that are not UTF-8 show as U+FFFD here; `raw_base64`
    /// then has them exactly.
    pub raw: String,
    /// Only for a row whose bytes are not UTF-8 (`invalid_encoding`): the
    /// row exactly as received, cut like `raw`, in base64.
    #[cfg_attr(feature = "openapi", oai(skip_serializing_if_is_none))]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub raw_base64: Option<String>,
    /// UTC, RFC 3339 with milliseconds.
    pub created_at: String,
}

impl RejectRecord {
    /// The row exactly as it was received.
    pub fn raw_bytes(&self) -> Cow<'_, [u8]> {
        match self.raw_base64.as_deref().map(|text| BASE64.decode(text)) {
            Some(Ok(bytes)) => Cow::Owned(bytes),
            _ => Cow::Borrowed(self.raw.as_bytes()),
        }
    }
}

/// A row as received, as `raw` and `raw_base64` carry it: the text (bytes
/// that are not UTF-8 as U+FFFD) and, only when that text is not exact, the
/// bytes in base64.
pub fn raw_fields(bytes: &[u8]) -> (String, Option<String>) {
    match std::str::from_utf8(bytes) {
        Ok(text) => (text.to_owned(), None),
        Err(_) => (
            String::from_utf8_lossy(bytes).into_owned(),
            Some(BASE64.encode(bytes)),
        ),
    }
}

/// A page of rejects, oldest first.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(poem_openapi::Object))]
pub struct RejectPage {
    pub rejects: Vec<RejectRecord>,
    /// Pass as `after_id` for the next page; absent on the last page.
    #[cfg_attr(feature = "openapi", oai(skip_serializing_if_is_none))]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_after_id: Option<i64>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn raw_bytes_come_back_exactly_whatever_their_encoding() {
        for bytes in [&b"1,Ops"[..], b"1,Caf\xe9", b"\xff\xfe,x", b""] {
            let (raw, raw_base64) = raw_fields(bytes);
            assert_eq!(raw_base64.is_some(), std::str::from_utf8(bytes).is_err());
            let record = RejectRecord {
                reject_id: 1,
                table: "jobs".to_owned(),
                source: RejectSource::Api,
                request_id: None,
                file_name: None,
                file_sha256: None,
                line: None,
                row: None,
                id: None,
                field: None,
                code: RejectCode::InvalidEncoding,
                message: String::new(),
                raw,
                raw_base64,
                created_at: String::new(),
            };
            assert_eq!(&*record.raw_bytes(), bytes);
        }
        assert_eq!(raw_fields(b"1,Caf\xe9").0, "1,Caf\u{fffd}");
    }
}
