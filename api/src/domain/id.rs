use super::{FieldError, Raw, RejectCode};

/// A primary or foreign key: an integer in 1..=2^31-1.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct RowId(i32);

impl RowId {
    pub fn parse(raw: Raw<'_>) -> Result<Self, FieldError> {
        let value = match raw {
            Raw::Integer(n) => n,
            Raw::Text(text) => {
                let text = text.trim();
                if text.is_empty() {
                    return Err(missing());
                }
                text.parse::<i64>().map_err(|_| {
                    FieldError::new(
                        RejectCode::InvalidInteger,
                        None,
                        format!("`{}` is not an integer", shorten(text)),
                    )
                })?
            }
            Raw::Missing => return Err(missing()),
            other => {
                return Err(FieldError::new(
                    RejectCode::InvalidInteger,
                    None,
                    format!("expected an integer, got {}", other.describe()),
                ));
            }
        };
        Self::try_from(value)
    }

    pub fn get(self) -> i32 {
        self.0
    }
}

impl TryFrom<i64> for RowId {
    type Error = FieldError;

    fn try_from(value: i64) -> Result<Self, FieldError> {
        match i32::try_from(value) {
            Ok(id) if id >= 1 => Ok(RowId(id)),
            _ => Err(FieldError::new(
                RejectCode::OutOfRange,
                None,
                format!("{value} is outside 1..=2147483647"),
            )),
        }
    }
}

fn missing() -> FieldError {
    FieldError::new(RejectCode::MissingField, None, "the value is empty")
}

/// Quotes at most 40 characters of a bad value in a message.
pub(super) fn shorten(text: &str) -> String {
    const MAX: usize = 40;
    match text.char_indices().nth(MAX) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_in_range_are_accepted() {
        let cases = [
            (Raw::Text("1"), 1),
            (Raw::Text(" 42 "), 42),
            (Raw::Text("+7"), 7),
            (Raw::Text("2147483647"), i32::MAX),
            (Raw::Text("007"), 7),
            (Raw::Integer(1), 1),
            (Raw::Integer(2_147_483_647), i32::MAX),
        ];
        for (raw, expected) in cases {
            assert_eq!(RowId::parse(raw).unwrap().get(), expected, "{raw:?}");
        }
    }

    #[test]
    fn bad_ids_are_rejected_with_their_code() {
        let cases = [
            (Raw::Text(""), RejectCode::MissingField),
            (Raw::Text("   "), RejectCode::MissingField),
            (Raw::Missing, RejectCode::MissingField),
            (Raw::Text("abc"), RejectCode::InvalidInteger),
            (Raw::Text("1.0"), RejectCode::InvalidInteger),
            (Raw::Text("1e3"), RejectCode::InvalidInteger),
            (Raw::Text("0x10"), RejectCode::InvalidInteger),
            (Raw::Text("1 2"), RejectCode::InvalidInteger),
            (
                Raw::Text("99999999999999999999"),
                RejectCode::InvalidInteger,
            ),
            (Raw::OtherNumber, RejectCode::InvalidInteger),
            (Raw::Other("a boolean"), RejectCode::InvalidInteger),
            (Raw::String("12"), RejectCode::InvalidInteger),
            (Raw::Text("0"), RejectCode::OutOfRange),
            (Raw::Text("-1"), RejectCode::OutOfRange),
            (Raw::Text("2147483648"), RejectCode::OutOfRange),
            (Raw::Integer(0), RejectCode::OutOfRange),
            (Raw::Integer(i64::MAX), RejectCode::OutOfRange),
            (Raw::Integer(i64::MIN), RejectCode::OutOfRange),
        ];
        for (raw, code) in cases {
            assert_eq!(RowId::parse(raw).unwrap_err().code, code, "{raw:?}");
        }
    }

    #[test]
    fn long_bad_values_are_shortened_in_messages() {
        let long = "x".repeat(500);
        let err = RowId::parse(Raw::Text(&long)).unwrap_err();
        assert!(err.message.len() < 80, "{}", err.message);
    }
}
