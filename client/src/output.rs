//! How data is printed: `--format table|json|csv` (and `html` for the
//! reports), one rendering function for each.

use anyhow::Context;
use clap::ValueEnum;
use comfy_table::presets::UTF8_FULL_CONDENSED;
use comfy_table::{CellAlignment, Table};
use serde::Serialize;
use std::borrow::Cow;

/// The `--format` flag: aligned tables and sentences for people, the API's
/// answer as pretty JSON, CSV with a header row, or the report's page with
/// its chart (req1 and req2 only). The values have no doc comments of their
/// own, which keeps `--help` on one line per option.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Format {
    Table,
    Json,
    Csv,
    Html,
}

impl Format {
    /// The format for a command that prints data other than a report.
    pub fn data(self) -> Result<DataFormat, clap::Error> {
        match self {
            Format::Table => Ok(DataFormat::Table),
            Format::Json => Ok(DataFormat::Json),
            Format::Csv => Ok(DataFormat::Csv),
            Format::Html => Err(clap::Error::raw(
                clap::error::ErrorKind::InvalidValue,
                "--format html is for the reports (req1, req2); this command prints table, json or csv\n",
            )),
        }
    }
}

/// How a command other than a report prints its data.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DataFormat {
    Table,
    Json,
    Csv,
}

/// What a command prints, in one place per answer: its JSON is the value
/// itself (the API's shape); its rows make both the CSV and the table for
/// people.
pub trait Printable: Serialize {
    /// The columns of the table for people, in their order, when not every
    /// one in the CSV's order (long ones, such as a checksum, left out);
    /// CSV and JSON have every one.
    const FOR_PEOPLE: Option<&'static [&'static str]> = None;

    /// The header (the JSON field names) and the rows.
    fn rows(&self) -> (Vec<&'static str>, Vec<Vec<String>>);

    /// What people read instead of a table, for an answer that reads better
    /// as sentences (a summary), without a final newline.
    fn sentences(&self) -> Option<String> {
        None
    }

    /// A line under the table for people.
    fn footer(&self) -> Option<String> {
        None
    }
}

/// `value` rendered in `format`, ending with a newline.
pub fn render<P: Printable>(format: DataFormat, value: &P) -> anyhow::Result<String> {
    Ok(match format {
        DataFormat::Json => {
            serde_json::to_string_pretty(value).context("cannot render the answer as JSON")? + "\n"
        }
        DataFormat::Csv => {
            let (header, rows) = value.rows();
            csv(&header, rows)?
        }
        DataFormat::Table => match value.sentences() {
            Some(text) => text + "\n",
            None => {
                let (header, rows) = value.rows();
                let shown: Vec<usize> = match P::FOR_PEOPLE {
                    None => (0..header.len()).collect(),
                    Some(columns) => columns
                        .iter()
                        .filter_map(|column| header.iter().position(|h| h == column))
                        .collect(),
                };
                let pick = |row: &[String]| shown.iter().map(|&i| row[i].clone()).collect();
                let header: Vec<&str> = shown.iter().map(|&i| header[i]).collect();
                let rows = rows.iter().map(|row| pick(row)).collect();
                let mut text = table(&header, rows) + "\n";
                if let Some(footer) = value.footer() {
                    text += &footer;
                    text.push('\n');
                }
                text
            }
        },
    })
}

/// Prints `value` to standard output in `format`.
pub fn print(format: DataFormat, value: &impl Printable) -> anyhow::Result<()> {
    Ok(stdout(render(format, value)?)?)
}

/// Writes `text` to standard output. A reader that stops early (`| head`)
/// shows as a broken pipe, which `main` ends quietly (see [`is_broken_pipe`]).
pub fn stdout(text: impl AsRef<[u8]>) -> std::io::Result<()> {
    use std::io::Write;
    let mut out = Stdout(std::io::stdout().lock());
    out.write_all(text.as_ref())?;
    out.flush()
}

/// Standard output, whose reader going away (`| head`) is told apart from
/// a broken pipe anywhere else (a `--rejects` FIFO, say): that one stays a
/// failure.
pub struct Stdout<W>(pub W);

/// The error of a write to standard output whose reader has gone.
#[derive(Debug)]
struct StdoutClosed;

impl std::fmt::Display for StdoutClosed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("standard output was closed")
    }
}

impl std::error::Error for StdoutClosed {}

impl<W: std::io::Write> std::io::Write for Stdout<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.write(buf).map_err(closed)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.0.flush().map_err(closed)
    }
}

fn closed(err: std::io::Error) -> std::io::Error {
    if err.kind() == std::io::ErrorKind::BrokenPipe {
        std::io::Error::new(std::io::ErrorKind::BrokenPipe, StdoutClosed)
    } else {
        err
    }
}

/// Whether `err` comes from writing to standard output after its reader
/// went away: not a failure of the command (`client man | head`).
pub fn is_broken_pipe(err: &anyhow::Error) -> bool {
    err.chain().any(|cause| {
        cause
            .downcast_ref::<std::io::Error>()
            .and_then(|io| io.get_ref())
            .is_some_and(|inner| inner.is::<StdoutClosed>())
    })
}

/// `n` and the noun, plural unless `n` is 1: "1 row", "2 rows".
pub fn count(n: u64, noun: &str) -> String {
    if n == 1 {
        format!("1 {noun}")
    } else {
        format!("{n} {noun}s")
    }
}

/// An aligned table; a column of numbers (after the first) is right-aligned.
pub fn table(header: &[&str], rows: Vec<Vec<String>>) -> String {
    let numeric: Vec<bool> = (0..header.len())
        .map(|i| {
            i > 0
                && !rows.is_empty()
                && rows
                    .iter()
                    .all(|row| row.get(i).is_some_and(|cell| is_number(cell)))
        })
        .collect();
    let mut out = Table::new();
    out.load_preset(UTF8_FULL_CONDENSED)
        .set_header(header.to_vec());
    for row in rows {
        out.add_row(row);
    }
    for (column, numeric) in out.column_iter_mut().zip(numeric) {
        if numeric {
            column.set_cell_alignment(CellAlignment::Right);
        }
    }
    out.to_string()
}

fn is_number(cell: &str) -> bool {
    let digits = cell.strip_prefix('-').unwrap_or(cell);
    !digits.is_empty() && digits.chars().all(|c| c.is_ascii_digit() || c == '.')
}

/// CSV with a header row. A cell that a spreadsheet would run as a formula
/// (starting with `=`, `+`, `-`, `@`, tab or CR) gets a leading `'`.
pub fn csv(header: &[&str], rows: Vec<Vec<String>>) -> anyhow::Result<String> {
    let mut writer = csv::WriterBuilder::new()
        .terminator(csv::Terminator::Any(b'\n'))
        .from_writer(Vec::new());
    writer.write_record(header)?;
    for row in rows {
        let row: Vec<Cow<'_, str>> = row.iter().map(|cell| defuse(cell)).collect();
        writer.write_record(row.iter().map(|cell| cell.as_bytes()))?;
    }
    let bytes = writer.into_inner().context("cannot render the CSV")?;
    Ok(String::from_utf8(bytes)?)
}

fn defuse(cell: &str) -> Cow<'_, str> {
    if cell.starts_with(['=', '+', '-', '@', '\t', '\r']) && !is_number(cell) {
        format!("'{cell}").into()
    } else {
        cell.into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_has_a_header_quotes_as_needed_and_defuses_formulas() {
        let rows = vec![
            vec!["1".to_owned(), "Ops, Night".to_owned()],
            vec!["2".to_owned(), "=HYPERLINK(\"x\")".to_owned()],
            vec!["-3".to_owned(), "@SUM".to_owned()],
            vec!["4".to_owned(), "Plain".to_owned()],
        ];
        assert_eq!(
            csv(&["id", "name"], rows).unwrap(),
            "id,name\n1,\"Ops, Night\"\n2,\"'=HYPERLINK(\"\"x\"\")\"\n-3,'@SUM\n4,Plain\n"
        );
    }

    #[test]
    fn columns_of_numbers_after_the_first_are_right_aligned() {
        let rendered = table(
            &["id", "name", "rows"],
            vec![
                vec!["1".to_owned(), "a".to_owned(), "5".to_owned()],
                vec!["22".to_owned(), "bbbb".to_owned(), "100".to_owned()],
            ],
        );
        let rows: Vec<&str> = rendered.lines().skip(3).take(2).collect();
        assert_eq!(rows, ["│ 1  ┆ a    ┆    5 │", "│ 22 ┆ bbbb ┆  100 │"]);
    }

    #[test]
    fn counts_are_singular_for_one_only() {
        assert_eq!(count(0, "row"), "0 rows");
        assert_eq!(count(1, "row"), "1 row");
        assert_eq!(count(1000, "row"), "1000 rows");
    }

    #[test]
    fn html_is_refused_outside_the_reports() {
        assert_eq!(Format::Csv.data().unwrap(), DataFormat::Csv);
        assert!(Format::Html.data().is_err());
    }
}
