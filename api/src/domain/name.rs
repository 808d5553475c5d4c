use super::raw::non_empty;
use super::{FieldError, Raw, RejectCode};

/// A department, job or employee name: 1..=255 characters once trimmed of
/// whitespace and invisible format characters at its ends; no control
/// characters, bidi controls or noncharacters anywhere. Kept as sent
/// otherwise: nothing is normalised.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Name(String);

impl Name {
    pub const MAX_CHARS: u64 = 255;

    pub fn parse(raw: Raw<'_>) -> Result<Self, FieldError> {
        let sent = raw.text(RejectCode::InvalidName, "a string")?;
        // Before trimming: a bidi control at an end still reorders the text
        // printed after the name.
        if let Some(c) = sent
            .chars()
            .find(|c| is_bidi_control(*c) || is_noncharacter(*c))
        {
            let kind = if is_bidi_control(c) {
                "the bidi control"
            } else {
                "the noncharacter"
            };
            return Err(invalid(format!("the name holds {kind} U+{:04X}", c as u32)));
        }
        let text = non_empty(sent.trim_matches(|c: char| c.is_whitespace() || is_invisible(c)))?;
        if !validator::ValidateLength::validate_length(text, None, Some(Self::MAX_CHARS), None) {
            return Err(invalid(format!(
                "the name has {} characters, more than {}",
                text.chars().count(),
                Self::MAX_CHARS
            )));
        }
        if let Some(c) = text.chars().find(|c| c.is_control()) {
            return Err(invalid(format!(
                "the name holds the control character U+{:04X}",
                c as u32
            )));
        }
        Ok(Name(text.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

fn invalid(message: String) -> FieldError {
    FieldError::new(RejectCode::InvalidName, None, message)
}

/// The explicit bidi embeddings, overrides and isolates (U+202A–U+202E,
/// U+2066–U+2069): in a name they reorder the text printed around it.
fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

/// Code points Unicode sets aside never to be characters: U+FDD0–U+FDEF and
/// the last two of every plane (U+FFFE, U+FFFF, U+1FFFE, ...).
fn is_noncharacter(c: char) -> bool {
    matches!(c, '\u{FDD0}'..='\u{FDEF}') || (c as u32) & 0xFFFE == 0xFFFE
}

/// Unicode's default-ignorable code points (DerivedCoreProperties.txt,
/// Default_Ignorable_Code_Point): format characters, fillers and variation
/// selectors that print as nothing, such as U+200B ZERO WIDTH SPACE, the
/// joiners U+200C and U+200D, and U+FEFF. Trimmed from a name's ends (a
/// name of nothing else is empty); inside a name they are kept, as
/// Persian and Indic names need the joiners.
fn is_invisible(c: char) -> bool {
    matches!(
        c,
        '\u{00AD}'
            | '\u{034F}'
            | '\u{061C}'
            | '\u{115F}'..='\u{1160}'
            | '\u{17B4}'..='\u{17B5}'
            | '\u{180B}'..='\u{180F}'
            | '\u{200B}'..='\u{200F}'
            | '\u{202A}'..='\u{202E}'
            | '\u{2060}'..='\u{206F}'
            | '\u{3164}'
            | '\u{FE00}'..='\u{FE0F}'
            | '\u{FEFF}'
            | '\u{FFA0}'
            | '\u{FFF0}'..='\u{FFF8}'
            | '\u{1BCA0}'..='\u{1BCA3}'
            | '\u{1D173}'..='\u{1D17A}'
            | '\u{E0000}'..='\u{E0FFF}'
    )
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
            // Invisible characters at the ends are trimmed, kept inside.
            ("\u{200B}Sales\u{FEFF}\u{200D}", "Sales"),
            ("\u{00AD} Ops \u{2060}", "Ops"),
            ("می\u{200C}خواهم", "می\u{200C}خواهم"),
            ("क्\u{200D}ष", "क्\u{200D}ष"),
            ("👩\u{200D}💻 Dev", "👩\u{200D}💻 Dev"),
            ("Ana\u{200B}María", "Ana\u{200B}María"),
            ("\u{200F}שלום\u{200F}", "שלום"),
            // Not normalised: a decomposed é stays two code points.
            ("Jose\u{0301}", "Jose\u{0301}"),
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
            (Raw::Text("\u{200B}"), RejectCode::MissingField),
            (
                Raw::String("\u{200B}\u{200B} \u{FEFF}"),
                RejectCode::MissingField,
            ),
            (
                Raw::Text("\u{2060}\u{00AD}\u{200D}\u{E0020}"),
                RejectCode::MissingField,
            ),
            (Raw::Text("Sales\u{202E}tfel"), RejectCode::InvalidName),
            (Raw::Text("\u{202A}Ops"), RejectCode::InvalidName),
            (Raw::Text("\u{202E}"), RejectCode::InvalidName),
            (Raw::Text("a\u{2066}b\u{2069}"), RejectCode::InvalidName),
            (Raw::Text("x\u{2068}"), RejectCode::InvalidName),
            (Raw::Text("bad\u{FFFE}"), RejectCode::InvalidName),
            (Raw::Text("bad\u{FFFF}"), RejectCode::InvalidName),
            (Raw::Text("\u{FDD0}x"), RejectCode::InvalidName),
            (Raw::Text("x\u{10FFFF}"), RejectCode::InvalidName),
            (Raw::Text("x\u{1FFFE}"), RejectCode::InvalidName),
            (Raw::NotUnicode("\"\\ud800\""), RejectCode::InvalidName),
            (Raw::Other("an array"), RejectCode::InvalidName),
        ];
        for (raw, code) in cases {
            assert_eq!(Name::parse(raw).unwrap_err().code, code, "{raw:?}");
        }
    }
}
