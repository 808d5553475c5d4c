//! `rejects`: the rows the service did not store, with their reasons,
//! fetched a page at a time and written as they come (memory stays at one
//! page whatever the number of rejects).

use crate::api::Api;
use crate::output::{self, DataFormat};
use crate::table::Table;
use anyhow::Context;
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::PathBuf;
use vocab::{MAX_PAGE_ROWS, RejectPage, RejectRecord, RejectSource};

/// List the rows the service did not store, with their reasons.
#[derive(Debug, clap::Args)]
#[command(
    after_help = "Examples:\n  client rejects --table employees\n  client rejects --source file --format csv -o fix-me.csv"
)]
pub struct Args {
    /// Only this table's rejects.
    #[arg(long)]
    table: Option<Table>,
    /// Only rejects from requests (api) or historical files (file).
    #[arg(long, value_enum)]
    source: Option<RejectSource>,
    /// Write to this file instead of standard output.
    #[arg(long, short)]
    output: Option<PathBuf>,
}

/// Writes every reject of `table` and `source` (all when `None`), oldest
/// first, to `output` or standard output. CSV is the raw rows alone, one per
/// line and untouched, ready to fix and send again with `add-records`.
pub async fn run(api: &Api, args: Args, format: DataFormat) -> anyhow::Result<()> {
    let Args {
        table,
        source,
        output,
    } = args;
    let output = output.as_deref();
    let mut filters = String::new();
    if let Some(table) = table {
        filters.push_str(&format!("&table={table}"));
    }
    if let Some(source) = source {
        filters.push_str(&format!("&source={}", source.as_str()));
    }
    let path = |after_id: i64| {
        format!("/api/v1/rejects?limit={MAX_PAGE_ROWS}&after_id={after_id}{filters}")
    };
    // The file is made only once the API has answered: a failure leaves
    // an earlier file as it was.
    let mut page: RejectPage = api.get(&path(0)).await?;
    let mut out: Box<dyn Write> = match output {
        Some(path) => Box::new(BufWriter::new(
            File::create(path).with_context(|| format!("cannot create {}", path.display()))?,
        )),
        None => Box::new(BufWriter::new(output::Stdout(std::io::stdout().lock()))),
    };
    if format == DataFormat::Json {
        write!(out, "[")?;
    }
    let mut written = 0u64;
    loop {
        match format {
            DataFormat::Csv => {
                // The rows exactly as received, UTF-8 or not.
                for reject in &page.rejects {
                    out.write_all(&reject.raw_bytes())?;
                    out.write_all(b"\n")?;
                }
            }
            DataFormat::Json => {
                for (i, reject) in page.rejects.iter().enumerate() {
                    let first = written == 0 && i == 0;
                    let separator = if first { "\n  " } else { ",\n  " };
                    write!(out, "{separator}{}", serde_json::to_string(reject)?)?;
                }
            }
            DataFormat::Table if !page.rejects.is_empty() => {
                writeln!(out, "{}", human(&page.rejects))?;
            }
            DataFormat::Table => {}
        }
        written += page.rejects.len() as u64;
        match page.next_after_id {
            Some(next) => page = api.get(&path(next)).await?,
            None => break,
        }
    }
    if format == DataFormat::Json {
        writeln!(out, "{}]", if written == 0 { "" } else { "\n" })?;
    }
    out.flush()?;
    if written == 0 && format == DataFormat::Table {
        eprintln!("no rejects recorded");
    }
    Ok(())
}

/// One aligned table of a page: where each row came from and why it was
/// not stored.
fn human(rejects: &[RejectRecord]) -> String {
    let rows = rejects
        .iter()
        .map(|r| {
            let origin = match (&r.file_name, r.line, &r.request_id, r.row) {
                (Some(file), Some(line), _, _) => format!("{file}:{line}"),
                (_, _, Some(request), Some(row)) => format!("request {request}, row {row}"),
                _ => r.source.as_str().to_owned(),
            };
            vec![
                r.reject_id.to_string(),
                r.table.clone(),
                origin,
                r.code.to_string(),
                r.message.clone(),
            ]
        })
        .collect();
    output::table(&["reject", "table", "from", "code", "message"], rows)
}
