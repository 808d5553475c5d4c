use super::raw::shorten;
use super::{FieldError, Raw, RejectCode};

/// A primary or foreign key: an integer in 1..=2^31-1.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct RowId(i32);

impl RowId {
    pub fn parse(raw: Raw<'_>) -> Result<Self, FieldError> {
        match raw {
            Raw::Integer(n) => Self::try_from(n),
            Raw::BigInteger(literal) => Err(out_of_range(literal)),
            Raw::Text(text) => {
                let text = text.trim();
                if text.is_empty() {
                    return Err(missing());
                }
                Self::from_literal(text)
            }
            Raw::Missing => Err(missing()),
            other => Err(FieldError::new(
                RejectCode::InvalidInteger,
                None,
                format!("expected an integer, got {}", other.describe()),
            )),
        }
    }

    /// An id written as text: an integer literal (digits, one optional
    /// sign) in range. A literal of any length outside the range is
    /// `out_of_range`; anything else is not an integer.
    fn from_literal(text: &str) -> Result<Self, FieldError> {
        let digits = text.strip_prefix(['+', '-']).unwrap_or(text);
        if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return Err(FieldError::new(
                RejectCode::InvalidInteger,
                None,
                format!("{} is not an integer", shorten(text)),
            ));
        }
        match text.parse::<i64>() {
            Ok(value) => Self::try_from(value),
            Err(_) => Err(out_of_range(text)),
        }
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
            _ => Err(out_of_range(&value.to_string())),
        }
    }
}

fn out_of_range(literal: &str) -> FieldError {
    FieldError::new(
        RejectCode::OutOfRange,
        None,
        format!("{} is outside 1..=2147483647", shorten(literal)),
    )
}

fn missing() -> FieldError {
    FieldError::new(RejectCode::MissingField, None, "the value is empty")
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
            (Raw::Text("--1"), RejectCode::InvalidInteger),
            (Raw::Text("+"), RejectCode::InvalidInteger),
            (Raw::Text("٣"), RejectCode::InvalidInteger),
            (Raw::Fraction("1e400"), RejectCode::InvalidInteger),
            (Raw::Fraction("2.0"), RejectCode::InvalidInteger),
            (Raw::NotUnicode("\"\\ud800\""), RejectCode::InvalidInteger),
            (Raw::Text("99999999999999999999"), RejectCode::OutOfRange),
            (
                Raw::Text("-99999999999999999999999999"),
                RejectCode::OutOfRange,
            ),
            (Raw::Text("9223372036854775808"), RejectCode::OutOfRange),
            (
                Raw::BigInteger("9223372036854775808"),
                RejectCode::OutOfRange,
            ),
            (
                Raw::BigInteger("-1000000000000000000000"),
                RejectCode::OutOfRange,
            ),
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
    fn ids_out_of_range_are_echoed_as_sent() {
        let big = "9".repeat(30);
        for (raw, echo) in [
            (Raw::Text(" 9223372036854775808 "), "`9223372036854775808`"),
            (
                Raw::BigInteger("18446744073709551616"),
                "`18446744073709551616`",
            ),
            (Raw::Integer(0), "`0`"),
            (Raw::Text(&big), "`999999999999999999999999999999`"),
        ] {
            let err = RowId::parse(raw).unwrap_err();
            assert_eq!(err.message, format!("{echo} is outside 1..=2147483647"));
        }
        let err = RowId::parse(Raw::Fraction("1e400")).unwrap_err();
        assert_eq!(
            err.message,
            "expected an integer, got the number `1e400`, not an integer"
        );
    }

    #[test]
    fn long_bad_values_are_shortened_in_messages() {
        let long = "x".repeat(500);
        let err = RowId::parse(Raw::Text(&long)).unwrap_err();
        assert!(err.message.len() < 80, "{}", err.message);
    }
}
