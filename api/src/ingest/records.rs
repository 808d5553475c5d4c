//! Headerless CSV records read with a bound on their width: a record is
//! kept up to one field more than the table has (enough to reject it as the
//! wrong width), and the rest of its fields are read past without being
//! stored. A record of a million commas costs no more memory than its bytes.
//!
//! The dialect is every input's: RFC 4180 quoting, any line ending, blank
//! lines skipped, a UTF-8 byte order mark at the start ignored.

use csv_core::{ReadRecordResult, Reader};
use std::io::BufRead;

/// One record as read.
#[derive(Clone, Debug, Default)]
pub struct CsvRecord {
    /// The first fields, at most the reader's `keep`.
    pub fields: csv::ByteRecord,
    /// How many fields the record has in all.
    pub width: usize,
    /// The line the record starts on (1-based), as the csv crate counts.
    pub line: u64,
}

impl CsvRecord {
    /// Whether fields were read past without being kept.
    pub fn is_cut(&self) -> bool {
        self.width > self.fields.len()
    }
}

/// Reads records from `input`, keeping at most `keep` fields of each.
pub struct CsvRecords<R> {
    input: R,
    core: Reader,
    /// Field bytes of the record being read.
    data: Vec<u8>,
    /// Field ends within `data` (csv-core counts them from the record's
    /// start); `keep` of them at most.
    ends: Vec<usize>,
    /// Where the fields past `keep` go, overwritten as they come. Kept
    /// here, not made per record: zeroing 6 KiB for every record was half
    /// the reader's time (bench/csv_reader.sh).
    spill: Box<[u8; 4096]>,
    spill_ends: Box<[usize; 256]>,
}

impl<R: BufRead> CsvRecords<R> {
    pub fn new(input: R, keep: usize) -> CsvRecords<R> {
        CsvRecords {
            input,
            core: Reader::new(),
            data: vec![0; 1024],
            ends: vec![0; keep.max(1)],
            spill: Box::new([0; 4096]),
            spill_ends: Box::new([0; 256]),
        }
    }

    /// Reads the next record into `record`; false at the end of the input.
    pub fn read(&mut self, record: &mut CsvRecord) -> std::io::Result<bool> {
        record.line = self.core.line();
        let (mut data_len, mut kept, mut skipped) = (0, 0, 0);
        loop {
            let input = self.input.fill_buf()?;
            let spilling = kept == self.ends.len();
            let (result, read, written, ended) = if spilling {
                self.core
                    .read_record(input, &mut self.spill[..], &mut self.spill_ends[..])
            } else {
                self.core
                    .read_record(input, &mut self.data[data_len..], &mut self.ends[kept..])
            };
            self.input.consume(read);
            if spilling {
                skipped += ended;
            } else {
                data_len += written;
                kept += ended;
            }
            match result {
                // More input, or (past `keep`) more room: read on.
                ReadRecordResult::InputEmpty | ReadRecordResult::OutputEndsFull => {}
                ReadRecordResult::OutputFull => {
                    if !spilling {
                        let grown = self.data.len() * 2;
                        self.data.resize(grown, 0);
                    }
                }
                ReadRecordResult::Record => {
                    record.fields.clear();
                    let mut start = 0;
                    for &end in &self.ends[..kept] {
                        record.fields.push_field(&self.data[start..end]);
                        start = end;
                    }
                    record.width = kept + skipped;
                    return Ok(true);
                }
                ReadRecordResult::End => return Ok(false),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read_all(input: &[u8], keep: usize) -> Vec<(Vec<String>, usize, u64)> {
        let mut reader = CsvRecords::new(std::io::BufReader::with_capacity(7, input), keep);
        let mut record = CsvRecord::default();
        let mut out = Vec::new();
        while reader.read(&mut record).unwrap() {
            let fields = record
                .fields
                .iter()
                .map(|f| String::from_utf8_lossy(f).into_owned())
                .collect();
            out.push((fields, record.width, record.line));
        }
        out
    }

    /// Small reads (7 bytes at a time) through quotes, line endings, a
    /// byte order mark, blank lines and a missing final newline give what
    /// the csv crate gives.
    #[test]
    fn records_match_the_csv_crate() {
        let input = "\u{feff}1,\"Sales, \"\"North\"\"\"\r\n\r\n2,Ops\n\n3,\"multi\nline\",x\r\n4";
        let ours = read_all(input.as_bytes(), 8);
        let mut theirs = Vec::new();
        let mut reader = csv::ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            .from_reader(input.as_bytes());
        for record in reader.byte_records() {
            let record = record.unwrap();
            let fields: Vec<String> = record
                .iter()
                .map(|f| String::from_utf8_lossy(f).into_owned())
                .collect();
            let width = fields.len();
            theirs.push((fields, width, record.position().unwrap().line()));
        }
        assert_eq!(ours, theirs);
        assert_eq!(ours[0].0, ["1", "Sales, \"North\""]);
    }

    /// A record wider than `keep` keeps its first fields and counts the
    /// rest, across reads and spill buffers; the records around it are
    /// untouched.
    #[test]
    fn wide_records_are_cut_and_counted() {
        let wide = format!("1,a{}\n", ",\"x\"".repeat(100_000));
        let input = format!("0,z\n{wide}2,b\n3,{}", ",".repeat(5000));
        let records = read_all(input.as_bytes(), 3);
        let widths: Vec<usize> = records.iter().map(|r| r.1).collect();
        assert_eq!(widths, [2, 100_002, 2, 5002]);
        assert_eq!(records[1].0, ["1", "a", "x"]);
        assert_eq!(records[2].0, ["2", "b"]);
        assert_eq!(records[3].0, ["3", "", ""]);
    }
}
