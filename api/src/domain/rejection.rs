use vocab::{MAX_RAW_BYTES, RejectCode, RowError};

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

/// A row that was not stored, and why: the one shape a reject has inside
/// the service. The ingest answer's `RowError` and the stored
/// `RejectRecord` are made from it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Reject {
    /// 0-based index in a request, or 1-based line in a file.
    pub position: u64,
    /// The row's id as sent, when it was an integer.
    pub id: Option<i64>,
    pub why: FieldError,
    /// The row exactly as received, whatever its encoding, cut to
    /// [`MAX_RAW_BYTES`] with a marker.
    pub raw: Vec<u8>,
}

impl Reject {
    pub fn new(position: u64, id: Option<i64>, why: FieldError, raw: Vec<u8>) -> Reject {
        Reject {
            position,
            id,
            why,
            raw: cut_to_size(raw),
        }
    }

    /// The reject as an ingest answer lists it.
    pub fn to_row_error(&self) -> RowError {
        RowError {
            row: self.position,
            id: self.id,
            field: self.why.field.map(str::to_owned),
            code: self.why.code,
            message: self.why.message.clone(),
        }
    }
}

/// `raw` as recorded: whole up to [`MAX_RAW_BYTES`], else its first bytes
/// (at a character boundary, when it is text) and a marker saying how long
/// it was.
fn cut_to_size(mut raw: Vec<u8>) -> Vec<u8> {
    let total = raw.len();
    if total <= MAX_RAW_BYTES {
        return raw;
    }
    let mut end = MAX_RAW_BYTES;
    if std::str::from_utf8(&raw).is_ok() {
        // Continuation bytes are 0b10xxxxxx: back off to a character's start.
        while raw[end] & 0xC0 == 0x80 {
            end -= 1;
        }
    }
    raw.truncate(end);
    raw.extend_from_slice(format!("…[cut: {total} bytes in all]").as_bytes());
    raw
}

#[cfg(test)]
mod reject_tests {
    use super::*;

    #[test]
    fn raw_rows_are_cut_to_size_with_a_marker_text_at_a_character() {
        let short = b"1,Ops".to_vec();
        assert_eq!(cut_to_size(short.clone()), short);

        let text = "é".repeat(MAX_RAW_BYTES); // two bytes each
        let cut = String::from_utf8(cut_to_size(text.into_bytes())).unwrap();
        assert!(cut.ends_with(&format!("…[cut: {} bytes in all]", 2 * MAX_RAW_BYTES)));
        assert_eq!(cut.split('…').next().unwrap().len(), MAX_RAW_BYTES);

        let mut bytes = vec![b'x'; MAX_RAW_BYTES + 10];
        bytes[MAX_RAW_BYTES - 1] = 0xff;
        let cut = cut_to_size(bytes);
        assert_eq!(
            &cut[..MAX_RAW_BYTES],
            &[&vec![b'x'; MAX_RAW_BYTES - 1][..], &[0xff]].concat()[..]
        );
        assert!(cut.ends_with(format!("[cut: {} bytes in all]", MAX_RAW_BYTES + 10).as_bytes()));
    }
}
