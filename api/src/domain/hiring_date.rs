use super::raw::shorten;
use super::{FieldError, Raw, RejectCode};
use chrono::format::ParseErrorKind;
use chrono::{DateTime, Datelike, SecondsFormat, Timelike, Utc};

/// When an employee was hired: RFC 3339 with a zone on the way in, stored and
/// shown as UTC `YYYY-MM-DDTHH:MM:SSZ` (fractions of a second are dropped).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct HiringDate(DateTime<Utc>);

impl HiringDate {
    pub fn parse(raw: Raw<'_>) -> Result<Self, FieldError> {
        let text = raw.non_empty_text(RejectCode::InvalidDatetime, "an RFC 3339 string")?;
        let invalid = || {
            FieldError::new(
                RejectCode::InvalidDatetime,
                None,
                format!(
                    "{} is not an RFC 3339 date-time with a zone, like 2021-07-27T16:02:08Z or 2021-07-27T18:02:08+02:00",
                    shorten(text)
                ),
            )
        };
        // Written as RFC 3339 asks, zone included, but no real moment: say
        // so, rather than that the form is wrong.
        let impossible = |what: &str| {
            FieldError::new(
                RejectCode::InvalidDatetime,
                None,
                format!("{} is not a real date and time ({what})", shorten(text)),
            )
        };
        let parsed = DateTime::parse_from_rfc3339(text).map_err(|err| match err.kind() {
            ParseErrorKind::OutOfRange | ParseErrorKind::Impossible => {
                impossible("a month, day, hour, minute, second or zone out of range")
            }
            _ => invalid(),
        })?;
        let utc = parsed.with_timezone(&Utc);
        if !(1..=9999).contains(&utc.year()) {
            return Err(impossible("in UTC it falls outside the years 1 to 9999"));
        }
        // Whole seconds only: the stored form has no fraction.
        Ok(HiringDate(utc.with_nanosecond(0).unwrap_or(utc)))
    }

    /// The stored form, `YYYY-MM-DDTHH:MM:SSZ`.
    pub fn to_db_string(self) -> String {
        self.0.to_rfc3339_opts(SecondsFormat::Secs, true)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_with_a_zone_are_normalised_to_utc() {
        let cases = [
            ("2021-11-07T02:48:42Z", "2021-11-07T02:48:42Z"),
            ("2021-11-07t02:48:42z", "2021-11-07T02:48:42Z"),
            ("2021-11-07 02:48:42Z", "2021-11-07T02:48:42Z"),
            (" 2021-11-07T02:48:42Z ", "2021-11-07T02:48:42Z"),
            ("2021-03-31T23:30:00-02:00", "2021-04-01T01:30:00Z"),
            ("2021-01-01T01:00:00+05:30", "2020-12-31T19:30:00Z"),
            ("2021-06-30T12:00:00.999Z", "2021-06-30T12:00:00Z"),
            ("2020-02-29T00:00:00+00:00", "2020-02-29T00:00:00Z"),
            ("2021-07-27T16:02:08-00:00", "2021-07-27T16:02:08Z"),
        ];
        for (input, expected) in cases {
            let date = HiringDate::parse(Raw::Text(input)).unwrap();
            assert_eq!(date.to_db_string(), expected, "{input}");
        }
    }

    #[test]
    fn bad_dates_are_rejected_with_their_code() {
        let cases = [
            (Raw::Text(""), RejectCode::MissingField),
            (Raw::Missing, RejectCode::MissingField),
            (Raw::Text("2021-11-07"), RejectCode::InvalidDatetime),
            (
                Raw::Text("2021-11-07T02:48:42"),
                RejectCode::InvalidDatetime,
            ),
            (
                Raw::Text("2021-11-07T02:48:42+0200"),
                RejectCode::InvalidDatetime,
            ),
            (
                Raw::Text("2021-02-29T00:00:00Z"),
                RejectCode::InvalidDatetime,
            ),
            (
                Raw::Text("2021-13-01T00:00:00Z"),
                RejectCode::InvalidDatetime,
            ),
            (
                Raw::Text("2021-11-07T25:00:00Z"),
                RejectCode::InvalidDatetime,
            ),
            (Raw::Text("07/11/2021 02:48"), RejectCode::InvalidDatetime),
            (Raw::Text("yesterday"), RejectCode::InvalidDatetime),
            (
                Raw::Text("0000-01-01T00:00:00+01:00"),
                RejectCode::InvalidDatetime,
            ),
            (Raw::Integer(1_636_253_322), RejectCode::InvalidDatetime),
        ];
        for (raw, code) in cases {
            assert_eq!(HiringDate::parse(raw).unwrap_err().code, code, "{raw:?}");
        }
    }

    #[test]
    fn the_message_tells_a_wrong_form_from_an_impossible_date() {
        let message = |text| HiringDate::parse(Raw::Text(text)).unwrap_err().message;
        for wrong_form in [
            "2021-11-07T02:48:42",
            "2021-11-07",
            "2021-11-07T02:48:42+0200",
            "yesterday",
        ] {
            let said = message(wrong_form);
            assert!(said.contains("with a zone, like"), "{wrong_form}: {said}");
        }
        for impossible in [
            "2021-02-29T00:00:00Z",
            "2021-13-01T00:00:00Z",
            "2021-11-07T25:00:00+01:00",
            "2021-11-07T10:00:00+24:00",
            "0000-01-01T00:00:00+01:00",
        ] {
            let said = message(impossible);
            assert!(
                said.contains("is not a real date and time") && !said.contains("zone, like"),
                "{impossible}: {said}"
            );
        }
    }
}
