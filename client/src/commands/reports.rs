//! `req1` and `req2`: the reports, as a table, as the API's JSON (checked
//! against its shape), or as the API's own CSV or HTML rendering.

use crate::api::Api;
use crate::output::{Format, table};
use std::path::Path;
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

/// `req1` / `req2`: print or save a report.
pub async fn run(
    api: &Api,
    report: Report,
    year: i32,
    format: Format,
    output: Option<&Path>,
) -> anyhow::Result<()> {
    let path = report.path();
    let query = format!("{path}?year={year}&format=json");
    let text = match format {
        Format::Json => {
            let json = match report {
                Report::Req1 => {
                    serde_json::to_string_pretty(&api.get::<HiresByQuarter>(&query).await?)
                }
                Report::Req2 => {
                    serde_json::to_string_pretty(&api.get::<DepartmentsAboveMean>(&query).await?)
                }
            };
            json? + "\n"
        }
        Format::Csv => {
            api.get_text(&format!("{path}?year={year}&format=csv"))
                .await?
        }
        Format::Html => {
            api.get_text(&format!("{path}?year={year}&format=html"))
                .await?
        }
        Format::Table => match report {
            Report::Req1 => {
                let body: HiresByQuarter = api.get(&query).await?;
                let rows = body
                    .rows
                    .into_iter()
                    .map(|r| {
                        let quarters = [r.q1, r.q2, r.q3, r.q4].map(|q| q.to_string());
                        [r.department, r.job].into_iter().chain(quarters).collect()
                    })
                    .collect();
                let rendered = table(&["department", "job", "Q1", "Q2", "Q3", "Q4"], rows);
                format!("{rendered}\n")
            }
            Report::Req2 => {
                let body: DepartmentsAboveMean = api.get(&query).await?;
                let rows = body
                    .rows
                    .into_iter()
                    .map(|r| vec![r.id.to_string(), r.department, r.hired.to_string()])
                    .collect();
                let rendered = table(&["id", "department", "hired"], rows);
                format!(
                    "{rendered}\nmean of hires per department in {year}: {:.2}\n",
                    body.mean
                )
            }
        },
    };
    match output {
        Some(file) => {
            std::fs::write(file, &text)
                .map_err(|err| anyhow::anyhow!("cannot write {}: {err}", file.display()))?;
            eprintln!("wrote {}", file.display());
        }
        None => crate::output::stdout(text)?,
    }
    Ok(())
}
