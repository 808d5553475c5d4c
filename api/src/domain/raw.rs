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
    /// A JSON integer literal too large for an `i64`, as sent.
    BigInteger(&'a str),
    /// A JSON number with a fraction or an exponent, as sent (`1.0`,
    /// `1e400`): whatever its value, not an integer literal.
    Fraction(&'a str),
    /// A JSON string that is not Unicode text (it escapes half of a UTF-16
    /// surrogate pair), as sent.
    NotUnicode(&'a str),
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
        non_empty(self.text(wrong_type, expected)?.trim())
    }

    /// The text of a text field as sent (absent is empty); any other JSON
    /// type is `wrong_type` for this field.
    pub fn text(self, wrong_type: RejectCode, expected: &str) -> Result<&'a str, FieldError> {
        match self {
            Raw::Text(text) | Raw::String(text) => Ok(text),
            Raw::Missing => Ok(""),
            other => Err(FieldError::new(
                wrong_type,
                None,
                format!("expected {expected}, got {}", other.describe()),
            )),
        }
    }

    /// How the value is named in messages ("a string", "the number 1e400",
    /// ...), quoting at most 40 characters of it.
    pub fn describe(&self) -> String {
        match self {
            Raw::Missing => "nothing".to_owned(),
            Raw::Text(_) => "text".to_owned(),
            Raw::String(_) => "a string".to_owned(),
            Raw::Integer(_) | Raw::BigInteger(_) => "an integer".to_owned(),
            Raw::Fraction(number) => format!("the number {}, not an integer", shorten(number)),
            Raw::NotUnicode(string) => format!(
                "{}, which is not Unicode text: it escapes half of a surrogate pair",
                shorten(string)
            ),
            Raw::Other(kind) => (*kind).to_owned(),
        }
    }
}

/// `text`, unless it is empty (`missing_field`).
pub(super) fn non_empty(text: &str) -> Result<&str, FieldError> {
    if text.is_empty() {
        return Err(FieldError::new(
            RejectCode::MissingField,
            None,
            "the value is empty",
        ));
    }
    Ok(text)
}

/// Quotes at most 40 characters of a bad value in a message.
pub(super) fn shorten(text: &str) -> String {
    const MAX: usize = 40;
    match text.char_indices().nth(MAX) {
        Some((cut, _)) => format!("`{}…`", &text[..cut]),
        None => format!("`{text}`"),
    }
}
