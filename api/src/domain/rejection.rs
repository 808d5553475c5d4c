use serde::{Deserialize, Serialize};
use std::fmt;

/// Stable, machine-readable reason a row was rejected.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, poem_openapi::Enum)]
#[serde(rename_all = "snake_case")]
#[oai(rename_all = "snake_case")]
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

/// Why one row cannot be stored: the code, the field at fault (when there is
/// one) and a message for people.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FieldError {
    pub code: RejectCode,
    pub field: Option<&'static str>,
    pub message: String,
}

impl FieldError {
    pub fn new(code: RejectCode, field: Option<&'static str>, message: impl Into<String>) -> Self {
        Self {
            code,
            field,
            message: message.into(),
        }
    }

    /// A record of `got` fields for `table`, which has another number.
    pub fn wrong_field_count(table: super::Table, got: usize) -> Self {
        let columns = table.columns();
        FieldError::new(
            RejectCode::WrongFieldCount,
            None,
            format!(
                "expected {} fields ({}), got {got}",
                columns.len(),
                columns.join(",")
            ),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_code_reads_back_from_its_name_which_is_its_json_name() {
        for code in RejectCode::ALL {
            assert_eq!(code.as_str().parse::<RejectCode>(), Ok(code));
            assert_eq!(serde_json::to_value(code).unwrap(), code.as_str());
        }
        assert_eq!("no_such_code".parse::<RejectCode>(), Err(()));
    }
}
