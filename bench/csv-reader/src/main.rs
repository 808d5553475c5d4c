//! Reads a headerless CSV file with one of two readers and prints what it
//! read and its peak RSS:
//!
//!   csv-reader-bench records FILE   api/src/ingest/records.rs, keep = 6
//!                                   (employees' 5 columns and one more)
//!   csv-reader-bench csv FILE       the csv crate's ByteRecord reader
//!
//! Output: `MODE records=N fields=N width=N cut=N peak_kib=N`, where fields
//! counts the fields kept, width the fields read, and cut the records wider
//! than what was kept.

// The service's own file, not a copy.
#[path = "../../../api/src/ingest/records.rs"]
mod records;

use records::{CsvRecord, CsvRecords};
use std::fs::File;
use std::io::BufReader;

/// As `csv_records` keeps for employees: its 5 columns and one more.
const KEEP: usize = 6;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let [_, mode, path] = args.as_slice() else {
        return Err("usage: csv-reader-bench records|csv FILE".into());
    };
    let file = File::open(path)?;
    let (mut records, mut fields, mut width, mut cut) = (0u64, 0u64, 0u64, 0u64);
    match mode.as_str() {
        "records" => {
            // As the historical load reads a file.
            let mut reader = CsvRecords::new(BufReader::with_capacity(1 << 16, file), KEEP);
            let mut record = CsvRecord::default();
            while reader.read(&mut record)? {
                records += 1;
                fields += record.fields.len() as u64;
                width += record.width as u64;
                cut += u64::from(record.is_cut());
            }
        }
        "csv" => {
            let mut reader = csv::ReaderBuilder::new()
                .has_headers(false)
                .flexible(true)
                .from_reader(file);
            let mut record = csv::ByteRecord::new();
            while reader.read_byte_record(&mut record)? {
                records += 1;
                fields += record.len() as u64;
                width += record.len() as u64;
            }
        }
        _ => return Err(format!("unknown mode {mode}: records or csv").into()),
    }
    println!(
        "{mode} records={records} fields={fields} width={width} cut={cut} peak_kib={}",
        peak_kib()?
    );
    Ok(())
}

/// This process's peak resident set (VmHWM), in KiB.
fn peak_kib() -> std::io::Result<u64> {
    let status = std::fs::read_to_string("/proc/self/status")?;
    Ok(status
        .lines()
        .find_map(|line| line.strip_prefix("VmHWM:"))
        .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0))
}
