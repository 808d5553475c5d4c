use super::records::{CsvRecord, CsvRecords};
use crate::domain::{FieldError, Raw, RejectCode, Row, Table};
use serde::de::{DeserializeSeed, MapAccess, SeqAccess, Visitor};

pub use vocab::MAX_BATCH_ROWS;

/// One incoming row: where it was, what it looked like, and whether it fits
/// the dictionary.
#[derive(Clone, Debug)]
pub struct Candidate {
    /// 0-based index in a request batch, or 1-based record number in a file.
    pub position: u64,
    /// The row as received, recorded when the row is rejected.
    pub raw: RawRow,
    /// The id as sent, when it is an integer, to echo in errors.
    pub id_hint: Option<i64>,
    pub parsed: Result<Row, FieldError>,
}

/// A row as received, kept as parsed and written out as text only when the
/// row is rejected: most rows never need it, and rendering every one was
/// the largest cost of parsing a batch.
#[derive(Clone, Debug)]
pub enum RawRow {
    Csv(csv::ByteRecord),
    /// Its members in the order sent, duplicates included.
    Json(Vec<(String, JsonValue)>),
}

impl RawRow {
    /// A CSV record as one CSV line, its field bytes exactly as sent
    /// (UTF-8 or not); a JSON row as compact JSON, its members in the order
    /// sent and numbers as written.
    pub fn render(&self) -> Vec<u8> {
        match self {
            RawRow::Csv(record) => raw_csv_line(record),
            RawRow::Json(members) => {
                let members: Vec<String> = members
                    .iter()
                    .map(|(key, value)| format!("{}:{}", json_string(key), value.render()))
                    .collect();
                format!("{{{}}}", members.join(",")).into_bytes()
            }
        }
    }
}

/// One value of a JSON row as sent: a scalar as written (a number keeps
/// its literal, so `1e400` or a 30-digit id is echoed, not rounded), an
/// array or object only by its kind, as any such value is a rejection.
#[derive(Clone, Debug, PartialEq)]
pub enum JsonValue {
    Null,
    Bool(bool),
    Number(String),
    String(String),
    /// A string literal that is not Unicode (it escapes a lone surrogate).
    NotUnicode(String),
    Array,
    Object,
}

impl JsonValue {
    /// Classifies one value from its JSON text (well-formed: the parser
    /// has read it).
    fn from_raw(raw: &serde_json::value::RawValue) -> JsonValue {
        let text = raw.get();
        match text.as_bytes().first() {
            Some(b'"') if !text.contains('\\') => {
                JsonValue::String(text[1..text.len() - 1].to_owned())
            }
            Some(b'"') => match serde_json::from_str(text) {
                Ok(string) => JsonValue::String(string),
                Err(_) => JsonValue::NotUnicode(text.to_owned()),
            },
            Some(b'[') => JsonValue::Array,
            Some(b'{') => JsonValue::Object,
            Some(b't') => JsonValue::Bool(true),
            Some(b'f') => JsonValue::Bool(false),
            Some(b'n') => JsonValue::Null,
            _ => JsonValue::Number(text.to_owned()),
        }
    }

    /// The value as the dictionary's rules read it.
    fn as_raw(&self) -> Raw<'_> {
        match self {
            JsonValue::Null => Raw::Missing,
            JsonValue::Bool(_) => Raw::Other("a boolean"),
            JsonValue::String(string) => Raw::String(string),
            JsonValue::NotUnicode(literal) => Raw::NotUnicode(literal),
            JsonValue::Array => Raw::Other("an array"),
            JsonValue::Object => Raw::Other("an object"),
            JsonValue::Number(literal) if literal.contains(['.', 'e', 'E']) => {
                Raw::Fraction(literal)
            }
            JsonValue::Number(literal) => literal
                .parse()
                .map_or(Raw::BigInteger(literal), Raw::Integer),
        }
    }

    fn render(&self) -> String {
        match self {
            JsonValue::Null => "null".to_owned(),
            JsonValue::Bool(value) => value.to_string(),
            JsonValue::Number(literal) | JsonValue::NotUnicode(literal) => literal.clone(),
            JsonValue::String(string) => json_string(string),
            JsonValue::Array => "[]".to_owned(),
            JsonValue::Object => "{}".to_owned(),
        }
    }
}

fn json_string(text: &str) -> String {
    serde_json::to_string(text).unwrap_or_default()
}

/// Why a whole request body was refused.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum BodyError {
    #[error("the batch is empty: send 1 to {MAX_BATCH_ROWS} rows")]
    Empty,
    #[error("the batch has more than {MAX_BATCH_ROWS} rows: split it")]
    TooManyRows,
    #[error("the body is not a JSON array of objects: {0}")]
    NotJsonRows(String),
}

/// A candidate from one CSV record (already split into fields; a record
/// cut by `CsvRecords` is the wrong width whatever its first fields hold).
pub fn csv_candidate(table: Table, position: u64, record: &CsvRecord) -> Candidate {
    let fields = &record.fields;
    if record.is_cut() {
        let mut raw = fields.clone();
        raw.push_field("…".as_bytes());
        return Candidate {
            position,
            raw: RawRow::Csv(raw),
            id_hint: None,
            parsed: Err(FieldError::wrong_field_count(table, record.width)),
        };
    }
    let raw = RawRow::Csv(fields.clone());
    let texts: Result<Vec<&str>, _> = fields.iter().map(std::str::from_utf8).collect();
    let Ok(texts) = texts else {
        // The first field that is not UTF-8 (a column's, or one past the
        // table's columns), and where in it.
        let (column, byte, at) = fields
            .iter()
            .enumerate()
            .find_map(|(i, field)| {
                let err = std::str::from_utf8(field).err()?;
                let at = err.valid_up_to();
                Some((table.columns().get(i).copied(), field[at], at + 1))
            })
            .unwrap_or((None, 0, 0));
        return Candidate {
            position,
            raw,
            id_hint: fields
                .get(0)
                .and_then(|id| std::str::from_utf8(id).ok())
                .and_then(|id| id.trim().parse().ok()),
            parsed: Err(FieldError::new(
                RejectCode::InvalidEncoding,
                column,
                format!(
                    "{} is not valid UTF-8 (byte 0x{byte:02X} at byte {at} of the field); \
                     send the file as UTF-8",
                    column.unwrap_or("a field")
                ),
            )),
        };
    };
    let fields: Vec<Raw<'_>> = texts.iter().map(|t| Raw::Text(t)).collect();
    Candidate {
        position,
        raw,
        id_hint: texts.first().and_then(|t| t.trim().parse().ok()),
        parsed: Row::parse(table, &fields),
    }
}

/// The CSV records of `table` in `input`: each kept to one field more than
/// the table has, so a wider one is rejected without being stored whole.
pub fn csv_records<R: std::io::BufRead>(table: Table, input: R) -> CsvRecords<R> {
    CsvRecords::new(input, table.columns().len() + 1)
}

/// Splits a headerless CSV body into candidates (1..=1000 records),
/// stopping at the 1001st. Any bytes are CSV: a record that is not UTF-8
/// is a candidate rejected as `invalid_encoding`, and kept as sent.
pub fn parse_csv_body(table: Table, body: &[u8]) -> Result<Vec<Candidate>, BodyError> {
    let mut records = csv_records(table, body);
    let mut record = CsvRecord::default();
    let mut candidates = Vec::new();
    // Reading from memory cannot fail, and the parser accepts any bytes.
    while records.read(&mut record).unwrap_or(false) {
        if candidates.len() == MAX_BATCH_ROWS {
            return Err(BodyError::TooManyRows);
        }
        let position = candidates.len() as u64;
        candidates.push(csv_candidate(table, position, &record));
    }
    if candidates.is_empty() {
        return Err(BodyError::Empty);
    }
    Ok(candidates)
}

/// Splits a JSON array of row objects into candidates (1..=1000 rows),
/// reading it as a stream: it stops at the 1001st row, keeps at most one
/// key more than the table has columns, and keeps no array or object
/// value (each is a rejection whatever it holds), so memory stays within
/// the body's size.
pub fn parse_json_body(table: Table, body: &[u8]) -> Result<Vec<Candidate>, BodyError> {
    let too_many = std::cell::Cell::new(false);
    let mut input = serde_json::Deserializer::from_slice(body);
    let rows = serde::Deserializer::deserialize_seq(
        &mut input,
        RowsVisitor {
            table,
            too_many: &too_many,
        },
    )
    .and_then(|rows| input.end().map(|()| rows));
    match rows {
        Err(_) if too_many.get() => Err(BodyError::TooManyRows),
        Err(err) => Err(BodyError::NotJsonRows(err.to_string())),
        Ok(rows) if rows.is_empty() => Err(BodyError::Empty),
        Ok(rows) => Ok(rows),
    }
}

/// The body's array: a candidate per object, up to [`MAX_BATCH_ROWS`].
struct RowsVisitor<'a> {
    table: Table,
    too_many: &'a std::cell::Cell<bool>,
}

impl<'de> Visitor<'de> for RowsVisitor<'_> {
    type Value = Vec<Candidate>;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("an array of row objects")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        let mut rows = Vec::new();
        let keep = self.table.columns().len() + 1;
        while let Some(object) = seq.next_element_seed(RowSeed { keep })? {
            if rows.len() == MAX_BATCH_ROWS {
                self.too_many.set(true);
                return Err(serde::de::Error::custom(format!(
                    "more than {MAX_BATCH_ROWS} rows"
                )));
            }
            rows.push(json_candidate(self.table, rows.len() as u64, object));
        }
        Ok(rows)
    }
}

/// One row object, keeping its first `keep` members (more than the table
/// has columns: such a row is rejected for its unknown or repeated key
/// anyway).
struct RowSeed {
    keep: usize,
}

impl<'de> DeserializeSeed<'de> for RowSeed {
    type Value = Vec<(String, JsonValue)>;

    fn deserialize<D: serde::Deserializer<'de>>(self, input: D) -> Result<Self::Value, D::Error> {
        input.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for RowSeed {
    type Value = Vec<(String, JsonValue)>;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a row object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut members = Vec::new();
        while let Some(key) = map.next_key::<String>()? {
            // Its text, borrowed from the body: nested values are read
            // past, not built.
            let value: &serde_json::value::RawValue = map.next_value()?;
            if members.len() < self.keep {
                members.push((key, JsonValue::from_raw(value)));
            }
        }
        Ok(members)
    }
}

fn json_candidate(table: Table, position: u64, members: Vec<(String, JsonValue)>) -> Candidate {
    let columns = table.columns();
    let value_of = |column: &str| {
        members
            .iter()
            .find(|(key, _)| key == column)
            .map(|(_, value)| value)
    };
    let id_hint = match value_of(columns[0]).map(JsonValue::as_raw) {
        Some(Raw::Integer(id)) => Some(id),
        _ => None,
    };
    let parsed = match shape_error(table, &members) {
        Some(error) => Err(error),
        None => {
            let fields: Vec<Raw<'_>> = columns
                .iter()
                .map(|c| value_of(c).map_or(Raw::Missing, JsonValue::as_raw))
                .collect();
            Row::parse(table, &fields)
        }
    };
    Candidate {
        position,
        raw: RawRow::Json(members),
        id_hint,
        parsed,
    }
}

/// The first key of a row that is not one of the table's columns, or that
/// is given twice (JSON leaves what a repeated key means to the reader).
fn shape_error(table: Table, members: &[(String, JsonValue)]) -> Option<FieldError> {
    let columns = table.columns();
    members.iter().enumerate().find_map(|(at, (key, _))| {
        let Some(column) = columns.iter().find(|c| **c == key.as_str()) else {
            return Some(FieldError::new(
                RejectCode::UnknownField,
                None,
                format!(
                    "`{}` is not a column of {table}; expected {}",
                    key.chars().take(40).collect::<String>(),
                    columns.join(", ")
                ),
            ));
        };
        members[..at]
            .iter()
            .any(|(earlier, _)| earlier == key)
            .then(|| {
                FieldError::new(
                    RejectCode::DuplicateField,
                    Some(column),
                    format!("`{key}` is given more than once in the row"),
                )
            })
    })
}

/// The record written back as one CSV line, as a reject records it.
fn raw_csv_line(record: &csv::ByteRecord) -> Vec<u8> {
    // A small buffer: the default 8 KiB is allocated and zeroed per row.
    let mut writer = csv::WriterBuilder::new()
        .terminator(csv::Terminator::Any(b'\n'))
        .buffer_capacity(256)
        .from_writer(Vec::new());
    // Writing to a Vec cannot fail.
    let _ = writer.write_byte_record(record);
    let mut bytes = writer.into_inner().unwrap_or_default();
    if bytes.last() == Some(&b'\n') {
        bytes.pop();
    }
    bytes
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(raw: &RawRow) -> String {
        String::from_utf8(raw.render()).unwrap()
    }

    fn codes(candidates: &[Candidate]) -> Vec<Option<RejectCode>> {
        candidates
            .iter()
            .map(|c| c.parsed.as_ref().err().map(|e| e.code))
            .collect()
    }

    #[test]
    fn csv_bodies_accept_bom_crlf_quotes_and_no_final_newline() {
        let body = "\u{feff}1,\"Sales, North\"\r\n2,\"Say \"\"hi\"\"\"\r\n3,Ops";
        let rows = parse_csv_body(Table::Departments, body.as_bytes()).unwrap();
        assert_eq!(codes(&rows), vec![None, None, None]);
        let names: Vec<_> = rows
            .iter()
            .map(|c| match c.parsed.as_ref().unwrap() {
                Row::Department(d) => d.name.as_str().to_owned(),
                _ => unreachable!(),
            })
            .collect();
        assert_eq!(names, ["Sales, North", "Say \"hi\"", "Ops"]);
        assert_eq!(rows[0].id_hint, Some(1));
    }

    #[test]
    fn csv_rows_of_the_wrong_width_are_row_level_rejects() {
        let rows = parse_csv_body(Table::Jobs, b"1,a\n2\n3,b,c\n4,d\n").unwrap();
        assert_eq!(
            codes(&rows),
            vec![
                None,
                Some(RejectCode::WrongFieldCount),
                Some(RejectCode::WrongFieldCount),
                None
            ]
        );
        assert_eq!(text(&rows[2].raw), "3,b,c");
    }

    #[test]
    fn a_raw_row_longer_than_the_writer_buffer_renders_whole() {
        let name = format!("a, \"b\" {}", "é".repeat(400));
        let line = format!("7,\"{}\",x\n", name.replace('"', "\"\""));
        let rows = parse_csv_body(Table::Jobs, line.as_bytes()).unwrap();
        assert_eq!(text(&rows[0].raw), line.trim_end());
    }

    #[test]
    fn csv_bodies_outside_1_to_1000_rows_or_not_utf8_are_refused() {
        assert_eq!(
            parse_csv_body(Table::Jobs, b"").unwrap_err(),
            BodyError::Empty
        );
        assert_eq!(
            parse_csv_body(Table::Jobs, b"\n\r\n").unwrap_err(),
            BodyError::Empty
        );
        let big: String = (1..=1001).map(|i| format!("{i},x\n")).collect();
        assert_eq!(
            parse_csv_body(Table::Jobs, big.as_bytes()).unwrap_err(),
            BodyError::TooManyRows
        );
        let max: String = (1..=1000).map(|i| format!("{i},x\n")).collect();
        assert_eq!(
            parse_csv_body(Table::Jobs, max.as_bytes()).unwrap().len(),
            1000
        );
        // Bytes that are not UTF-8 reject their record alone, kept as sent.
        let rows = parse_csv_body(Table::Jobs, b"1,\xff\xfe\n2,Dev\n3,a,\xe9\n").unwrap();
        assert_eq!(
            codes(&rows),
            vec![
                Some(RejectCode::InvalidEncoding),
                None,
                Some(RejectCode::InvalidEncoding)
            ]
        );
        assert_eq!(rows[0].raw.render(), b"1,\xff\xfe");
        let why = rows[0].parsed.as_ref().unwrap_err();
        assert_eq!(why.field, Some("job_name"));
        assert!(
            why.message
                .starts_with("job_name is not valid UTF-8 (byte 0xFF at byte 1"),
            "{}",
            why.message
        );
        assert_eq!(rows[0].id_hint, Some(1));
        assert_eq!(rows[2].parsed.as_ref().unwrap_err().field, None);
    }

    #[test]
    fn json_rows_keep_their_types() {
        let body = br#"[
            {"job_id": 1, "job_name": "Dev"},
            {"job_id": "2", "job_name": "Ops"},
            {"job_id": 3},
            {"job_id": 4, "job_name": "QA", "salary": 10},
            {"job_id": 5.5, "job_name": "X"},
            {"job_id": 6, "job_name": null},
            {"job_id": true, "job_name": "Y"}
        ]"#;
        let rows = parse_json_body(Table::Jobs, body).unwrap();
        assert_eq!(
            codes(&rows),
            vec![
                None,
                Some(RejectCode::InvalidInteger),
                Some(RejectCode::MissingField),
                Some(RejectCode::UnknownField),
                Some(RejectCode::InvalidInteger),
                Some(RejectCode::MissingField),
                Some(RejectCode::InvalidInteger),
            ]
        );
        assert_eq!(rows[3].id_hint, Some(4));
        assert_eq!(rows[1].id_hint, None);
    }

    #[test]
    fn json_rows_are_judged_on_what_was_sent() {
        let body = br#"[
            {"job_id": 905, "job_id": 906, "job_name": "Twice"},
            {"job_name": "A", "job_name": "B", "job_id": 7},
            {"job_id": 9223372036854775808, "job_name": "Big"},
            {"job_id": -100000000000000000000000000000, "job_name": "Bigger"},
            {"job_id": 1e400, "job_name": "Huge"},
            {"job_id": 8, "job_name": "\ud800"},
            {"job_id": 9, "job_name": "caf\u00e9 \ud83d\ude80"},
            {"job_id": 10, "job_name": "x", "job_id": 10}
        ]"#;
        let rows = parse_json_body(Table::Jobs, body).unwrap();
        let verdicts: Vec<_> = rows
            .iter()
            .map(|c| {
                let err = c.parsed.as_ref().err();
                (err.map(|e| e.code), err.and_then(|e| e.field))
            })
            .collect();
        use RejectCode::*;
        assert_eq!(
            verdicts,
            vec![
                (Some(DuplicateField), Some("job_id")),
                (Some(DuplicateField), Some("job_name")),
                (Some(OutOfRange), Some("job_id")),
                (Some(OutOfRange), Some("job_id")),
                (Some(InvalidInteger), Some("job_id")),
                (Some(InvalidName), Some("job_name")),
                (None, None),
                (Some(DuplicateField), Some("job_id")),
            ]
        );
        let message = |i: usize| rows[i].parsed.as_ref().unwrap_err().message.clone();
        assert_eq!(message(0), "`job_id` is given more than once in the row");
        assert_eq!(
            message(2),
            "`9223372036854775808` is outside 1..=2147483647"
        );
        assert!(
            message(3).starts_with("`-100000000000000000000000000000` is outside"),
            "{}",
            message(3)
        );
        assert_eq!(
            message(4),
            "expected an integer, got the number `1e400`, not an integer"
        );
        assert!(
            message(5).contains(r#"`"\ud800"`, which is not Unicode text"#),
            "{}",
            message(5)
        );
        let Ok(Row::Job(job)) = &rows[6].parsed else {
            panic!("{:?}", rows[6].parsed)
        };
        assert_eq!(job.name.as_str(), "café 🚀");
        // The raw copy is what was sent: keys in order, numbers as written.
        assert_eq!(
            text(&rows[0].raw),
            r#"{"job_id":905,"job_id":906,"job_name":"Twice"}"#
        );
        assert_eq!(text(&rows[4].raw), r#"{"job_id":1e400,"job_name":"Huge"}"#);
        assert_eq!(text(&rows[5].raw), r#"{"job_id":8,"job_name":"\ud800"}"#);
        assert_eq!(rows[0].id_hint, Some(905));
        assert_eq!(rows[2].id_hint, None);
    }

    #[test]
    fn json_bodies_stop_at_the_1001st_row_and_keep_no_more_than_they_need() {
        let many = format!("[{{}}{}]", ",{}".repeat(200_000));
        assert_eq!(
            parse_json_body(Table::Jobs, many.as_bytes()).unwrap_err(),
            BodyError::TooManyRows
        );
        let keys: String = (0..10_000).map(|i| format!(",\"k{i}\":{i}")).collect();
        let wide = format!("[{{\"job_id\":1,\"job_name\":\"x\"{keys}}}]");
        let rows = parse_json_body(Table::Jobs, wide.as_bytes()).unwrap();
        assert_eq!(codes(&rows), vec![Some(RejectCode::UnknownField)]);
        let RawRow::Json(kept) = &rows[0].raw else {
            unreachable!()
        };
        assert_eq!(kept.len(), 3);
        let nested = br#"[{"job_id": [1, [2, {"a": 3}]], "job_name": {"b": [4]}}]"#;
        let rows = parse_json_body(Table::Jobs, nested).unwrap();
        assert_eq!(codes(&rows), vec![Some(RejectCode::InvalidInteger)]);
        assert_eq!(text(&rows[0].raw), r#"{"job_id":[],"job_name":{}}"#);
        assert!(matches!(
            parse_json_body(Table::Jobs, b"[{\"job_id\":1}] trailing"),
            Err(BodyError::NotJsonRows(_))
        ));
    }

    #[test]
    fn a_csv_record_of_a_million_fields_is_one_wrong_width_reject() {
        let body = format!("1{}\n2,Dev\n", ",".repeat(1_000_000));
        let rows = parse_csv_body(Table::Jobs, body.as_bytes()).unwrap();
        assert_eq!(codes(&rows), vec![Some(RejectCode::WrongFieldCount), None]);
        let message = &rows[0].parsed.as_ref().unwrap_err().message;
        assert!(message.ends_with("got 1000001"), "{message}");
        assert_eq!(text(&rows[0].raw), "1,,,…");
    }

    #[test]
    fn json_bodies_that_are_not_arrays_of_objects_are_refused() {
        for body in [
            &b"{}"[..],
            b"[1,2]",
            b"[[]]",
            b"not json",
            b"",
            b"[{}, 3]",
            b"null",
        ] {
            assert!(
                matches!(
                    parse_json_body(Table::Jobs, body),
                    Err(BodyError::NotJsonRows(_))
                ),
                "{}",
                String::from_utf8_lossy(body)
            );
        }
        assert_eq!(
            parse_json_body(Table::Jobs, b"[]").unwrap_err(),
            BodyError::Empty
        );
    }
}

#[cfg(test)]
mod fuzz {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

        /// Any bytes as a CSV body: never a panic; a refusal is one of the
        /// request-level errors, and every row gets a verdict.
        #[test]
        fn any_csv_body_is_parsed_or_refused(body in prop::collection::vec(any::<u8>(), 0..600)) {
            for table in Table::ALL {
                match parse_csv_body(table, &body) {
                    Ok(rows) => prop_assert!((1..=MAX_BATCH_ROWS).contains(&rows.len())),
                    Err(err) => prop_assert!(matches!(err, BodyError::Empty | BodyError::TooManyRows)),
                }
            }
        }

        /// CSV-shaped text with quotes, separators and line breaks in odd places.
        #[test]
        fn csv_like_text_never_panics(body in "[0-9a-z,\"\r\n +:TZ-]{0,400}") {
            for table in Table::ALL {
                let _ = parse_csv_body(table, body.as_bytes());
            }
        }

        /// Any bytes as a JSON body, and JSON arrays of objects with values of
        /// every type: never a panic.
        #[test]
        fn any_json_body_is_parsed_or_refused(body in prop::collection::vec(any::<u8>(), 0..400)) {
            for table in Table::ALL {
                if let Err(err) = parse_json_body(table, &body) {
                    prop_assert!(matches!(err, BodyError::Empty | BodyError::NotJsonRows(_) | BodyError::TooManyRows));
                }
            }
        }

        /// Any JSON types in an employee's five fields: the verdict is the
        /// one the field rules give, in column order. A type check is the
        /// model's own (ids want integers, names and dates strings, null is
        /// missing); the text rules of names and dates are theirs.
        #[test]
        fn json_rows_of_any_value_types_get_the_verdict_of_their_first_bad_field(values in prop::collection::vec(
            prop_oneof![
                Just(serde_json::Value::Null),
                any::<bool>().prop_map(serde_json::Value::from),
                any::<i64>().prop_map(serde_json::Value::from),
                (1i64..=2_147_483_647).prop_map(serde_json::Value::from),
                any::<f64>().prop_map(serde_json::Value::from),
                ".{0,300}".prop_map(serde_json::Value::from),
                "[A-Za-z ]{0,12}".prop_map(serde_json::Value::from),
                "20[0-9]{2}-(0[1-9]|1[0-2])-[0-3][0-9]T[0-2][0-9]:00:00(Z|[+-]0[0-9]:00)"
                    .prop_map(serde_json::Value::from),
            ],
            5,
        )) {
            use serde_json::Value;
            let columns = Table::Employees.columns();
            let object: serde_json::Map<String, Value> = columns
                .iter()
                .zip(&values)
                .map(|(column, value)| (column.to_string(), value.clone()))
                .collect();
            let body = serde_json::to_vec(&vec![object]).unwrap();

            let rows = parse_json_body(Table::Employees, &body).unwrap();

            // The model: each field's verdict, the first failure wins.
            let verdict = |column: usize, value: &Value| -> Option<RejectCode> {
                let id = matches!(column, 0 | 3 | 4);
                match value {
                    Value::Null => Some(RejectCode::MissingField),
                    Value::Number(n) if id => match n.as_i64() {
                        Some(n) if (1..=2_147_483_647).contains(&n) => None,
                        Some(_) => Some(RejectCode::OutOfRange),
                        None => Some(RejectCode::InvalidInteger),
                    },
                    _ if id => Some(RejectCode::InvalidInteger),
                    Value::String(text) if column == 1 => {
                        crate::domain::Name::parse(Raw::String(text)).err().map(|e| e.code)
                    }
                    Value::String(text) => {
                        crate::domain::HiringDate::parse(Raw::String(text)).err().map(|e| e.code)
                    }
                    _ if column == 1 => Some(RejectCode::InvalidName),
                    _ => Some(RejectCode::InvalidDatetime),
                }
            };
            let expected = values
                .iter()
                .enumerate()
                .find_map(|(column, value)| verdict(column, value).map(|code| (columns[column], code)));
            prop_assert_eq!(rows.len(), 1);
            match (&rows[0].parsed, expected) {
                (Ok(Row::Employee(employee)), None) => {
                    prop_assert_eq!(Some(i64::from(employee.id.get())), values[0].as_i64());
                    prop_assert_eq!(Some(i64::from(employee.department_id.get())), values[3].as_i64());
                    prop_assert_eq!(Some(i64::from(employee.job_id.get())), values[4].as_i64());
                    let sent = crate::domain::Name::parse(Raw::String(values[1].as_str().unwrap())).unwrap();
                    prop_assert_eq!(employee.name.as_str(), sent.as_str());
                }
                (Err(error), Some((column, code))) => {
                    prop_assert_eq!(error.code, code, "{}", error.message);
                    prop_assert_eq!(error.field, Some(column));
                }
                (parsed, expected) => prop_assert!(false, "parsed {:?}, expected {:?}", parsed, expected),
            }
            prop_assert_eq!(rows[0].id_hint, values[0].as_i64());
        }
    }
}
