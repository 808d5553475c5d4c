//! `req1` and `req2`: the reports, as a table or the API's JSON (read as
//! their shapes), or as the API's own CSV or HTML rendering.

use crate::api::Api;
use crate::output::{self, DataFormat, Format, Printable};
use std::path::PathBuf;
use vocab::{DepartmentsAboveMean, HiresByQuarter};

/// Which report.
#[derive(Clone, Copy)]
pub enum Report {
    Req1,
    Req2,
}

impl Report {
    fn path(self) -> &'static str {
        match self {
            Report::Req1 => "/api/v1/reports/hires-by-quarter",
            Report::Req2 => "/api/v1/reports/departments-above-mean",
        }
    }
}

/// What `req1` and `req2` take.
#[derive(Debug, clap::Args)]
pub struct ReportArgs {
    /// The year.
    #[arg(long, default_value_t = 2021)]
    year: i32,
    /// Write to this file instead of standard output.
    #[arg(long, short)]
    output: Option<PathBuf>,
}

/// `req1` / `req2`: print or save a report.
pub async fn run(
    api: &Api,
    report: Report,
    args: ReportArgs,
    format: Format,
) -> anyhow::Result<()> {
    let path = report.path();
    let year = args.year;
    let query = |format: &str| format!("{path}?year={year}&format={format}");
    let data = |format| async move {
        match report {
            Report::Req1 => {
                output::render(format, &api.get::<HiresByQuarter>(&query("json")).await?)
            }
            Report::Req2 => output::render(
                format,
                &api.get::<DepartmentsAboveMean>(&query("json")).await?,
            ),
        }
    };
    let text = match format {
        Format::Json => data(DataFormat::Json).await?,
        Format::Table => data(DataFormat::Table).await?,
        // The API's own renderings: formulas defused, the chart offline.
        Format::Csv => api.get_text(&query("csv")).await?,
        Format::Html => api.get_text(&query("html")).await?,
    };
    match &args.output {
        Some(file) => {
            std::fs::write(file, &text)
                .map_err(|err| anyhow::anyhow!("cannot write {}: {err}", file.display()))?;
            eprintln!("wrote {}", file.display());
        }
        None => output::stdout(text)?,
    }
    Ok(())
}

impl Printable for HiresByQuarter {
    fn rows(&self) -> (Vec<&'static str>, Vec<Vec<String>>) {
        let rows = self
            .rows
            .iter()
            .map(|r| {
                let quarters = [r.q1, r.q2, r.q3, r.q4].map(|q| q.to_string());
                [r.department.clone(), r.job.clone()]
                    .into_iter()
                    .chain(quarters)
                    .collect()
            })
            .collect();
        (HiresByQuarter::CSV_HEADER.to_vec(), rows)
    }
}

impl Printable for DepartmentsAboveMean {
    fn rows(&self) -> (Vec<&'static str>, Vec<Vec<String>>) {
        let rows = self
            .rows
            .iter()
            .map(|r| vec![r.id.to_string(), r.department.clone(), r.hired.to_string()])
            .collect();
        (DepartmentsAboveMean::CSV_HEADER.to_vec(), rows)
    }

    fn footer(&self) -> Option<String> {
        Some(format!(
            "mean of hires per department in {}: {:.2}",
            self.year, self.mean
        ))
    }
}
