use super::{FieldError, RejectCode};

/// One field as it arrived, before validation.
///
/// CSV fields are always text; JSON values keep their type so that, say, a
/// string where an integer belongs is reported instead of silently coerced.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Raw<'a> {
    /// The key was absent or the value was `null`.
    Missing,
    /// Untyped text, as every CSV field is: an id may be written in it.
    Text(&'a str),
    /// A JSON string: text, never a number.
    String(&'a str),
    Integer(i64),
    /// A JSON number that is not an `i64` (a fraction, an exponent, or too big).
    OtherNumber,
    /// A JSON value of another type; the name of that type.
    Other(&'static str),
}

impl<'a> Raw<'a> {
    /// The trimmed text of a text field. Absent or blank text is
    /// `missing_field`; any other JSON type is `wrong_type` for this field.
    pub fn non_empty_text(
        self,
        wrong_type: RejectCode,
        expected: &str,
    ) -> Result<&'a str, FieldError> {
        let text = match self {
            Raw::Text(text) | Raw::String(text) => text.trim(),
            Raw::Missing => "",
            other => {
                return Err(FieldError::new(
                    wrong_type,
                    None,
                    format!("expected {expected}, got {}", other.describe()),
                ));
            }
        };
        if text.is_empty() {
            return Err(FieldError::new(
                RejectCode::MissingField,
                None,
                "the value is empty",
            ));
        }
        Ok(text)
    }

    /// How the value is named in messages ("a string", "a boolean", ...).
    pub fn describe(&self) -> &'static str {
        match self {
            Raw::Missing => "nothing",
            Raw::Text(_) => "text",
            Raw::String(_) => "a string",
            Raw::Integer(_) => "an integer",
            Raw::OtherNumber => "a non-integer number",
            Raw::Other(kind) => kind,
        }
    }
}
