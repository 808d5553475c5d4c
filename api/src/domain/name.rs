use super::{FieldError, Raw, RejectCode};

/// A department, job or employee name: trimmed, 1..=255 characters, no
/// control characters.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Name(String);

impl Name {
    pub const MAX_CHARS: u64 = 255;

    pub fn parse(raw: Raw<'_>) -> Result<Self, FieldError> {
        let text = raw.non_empty_text(RejectCode::InvalidName, "a string")?;
        if !validator::ValidateLength::validate_length(text, None, Some(Self::MAX_CHARS), None) {
            return Err(FieldError::new(
                RejectCode::InvalidName,
                None,
                format!(
                    "the name has {} characters, more than {}",
                    text.chars().count(),
                    Self::MAX_CHARS
                ),
            ));
        }
        if let Some(c) = text.chars().find(|c| c.is_control()) {
            return Err(FieldError::new(
                RejectCode::InvalidName,
                None,
                format!("the name holds the control character U+{:04X}", c as u32),
            ));
        }
        Ok(Name(text.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn good_names_are_trimmed_and_kept_verbatim() {
        let max = "é".repeat(255);
        let cases = [
            ("Sales", "Sales"),
            ("  Sales\t", "Sales"),
            ("Ana María Ñúñez", "Ana María Ñúñez"),
            ("李小龍", "李小龍"),
            (
                "Robert'); DROP TABLE employees;--",
                "Robert'); DROP TABLE employees;--",
            ),
            ("O'Brien, \"Bob\"", "O'Brien, \"Bob\""),
            ("🚀 Rocket", "🚀 Rocket"),
            ("a", "a"),
            (max.as_str(), max.as_str()),
        ];
        for (input, expected) in cases {
            assert_eq!(Name::parse(Raw::Text(input)).unwrap().as_str(), expected);
            assert_eq!(Name::parse(Raw::String(input)).unwrap().as_str(), expected);
        }
    }

    #[test]
    fn bad_names_are_rejected_with_their_code() {
        let too_long = "a".repeat(256);
        let too_long_wide = "é".repeat(256);
        let cases = [
            (Raw::Text(""), RejectCode::MissingField),
            (Raw::Text(" \t "), RejectCode::MissingField),
            (Raw::Missing, RejectCode::MissingField),
            (Raw::Text(&too_long), RejectCode::InvalidName),
            (Raw::Text(&too_long_wide), RejectCode::InvalidName),
            (Raw::Text("Sa\u{0}les"), RejectCode::InvalidName),
            (Raw::Text("line\nbreak"), RejectCode::InvalidName),
            (Raw::Text("bell\u{7}"), RejectCode::InvalidName),
            (Raw::Text("del\u{7f}"), RejectCode::InvalidName),
            (Raw::Text("c1\u{85}control"), RejectCode::InvalidName),
            (Raw::Integer(12), RejectCode::InvalidName),
            (Raw::Other("an array"), RejectCode::InvalidName),
        ];
        for (raw, code) in cases {
            assert_eq!(Name::parse(raw).unwrap_err().code, code, "{raw:?}");
        }
    }
}
