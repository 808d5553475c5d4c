use vocab::RejectCode;

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
