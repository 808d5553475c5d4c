use crate::Format;
use crate::api::Api;
use crate::output::table;
use std::path::Path;

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
    let text = match format {
        Format::Json => {
            let body = api
                .get_json(&format!("{path}?year={year}&format=json"))
                .await?;
            serde_json::to_string_pretty(&body)? + "\n"
        }
        Format::Csv => {
            api.get_text(&format!("{path}?year={year}&format=csv"))
                .await?
        }
        Format::Html => {
            api.get_text(&format!("{path}?year={year}&format=html"))
                .await?
        }
        Format::Table => {
            let body = api
                .get_json(&format!("{path}?year={year}&format=json"))
                .await?;
            let rows = body["rows"].as_array().cloned().unwrap_or_default();
            let cell = |v: &serde_json::Value| match v {
                serde_json::Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            let rendered = match report {
                Report::Req1 => table(
                    &["department", "job", "Q1", "Q2", "Q3", "Q4"],
                    rows.iter()
                        .map(|r| {
                            ["department", "job", "q1", "q2", "q3", "q4"]
                                .iter()
                                .map(|k| cell(&r[*k]))
                                .collect()
                        })
                        .collect(),
                ),
                Report::Req2 => table(
                    &["id", "department", "hired"],
                    rows.iter()
                        .map(|r| {
                            ["id", "department", "hired"]
                                .iter()
                                .map(|k| cell(&r[*k]))
                                .collect()
                        })
                        .collect(),
                ),
            };
            let mean = match report {
                Report::Req2 => {
                    format!(
                        "mean of hires per department in {year}: {:.2}\n",
                        body["mean"].as_f64().unwrap_or(0.0)
                    )
                }
                Report::Req1 => String::new(),
            };
            format!("{rendered}\n{mean}")
        }
    };
    match output {
        Some(file) => {
            std::fs::write(file, &text)
                .map_err(|err| anyhow::anyhow!("cannot write {}: {err}", file.display()))?;
            eprintln!("wrote {}", file.display());
        }
        None => print!("{text}"),
    }
    Ok(())
}
