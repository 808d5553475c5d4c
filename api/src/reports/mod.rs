//! The two hiring reports: aggregated in SQL, shaped with polars, drawn with
//! plotly.
//!
//! - req1, hires by quarter: for a year, employees hired per (department,
//!   job) in each UTC quarter, pairs with hires only, sorted by department
//!   then job in code-point order.
//! - req2, departments above the mean: departments that hired more than the
//!   mean of hires per department that year (every department counts, zero
//!   included), sorted by hires descending, then name.

mod html;
mod shape;

pub(crate) use html::escape;
use html::{departments_above_mean_html, hires_by_quarter_html};
pub use shape::{DepartmentHires, DepartmentsAboveMean, HiresByQuarter, QuarterHires};
use shape::{above_the_mean, pivot_by_quarter, to_csv};

use crate::db::{self, Db};
use crate::files::write_atomically;
use crate::telemetry;
use futures::future::BoxFuture;
use polars::prelude::{DataFrame, PolarsResult};
use sha2::{Digest, Sha256};
use sqlx::AnyConnection;
use std::collections::HashMap;
use std::path::Path;
use std::sync::{Arc, Mutex};

/// The rendering a request asks for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Wanted {
    Json,
    Csv,
    Html,
}

/// One rendering of a report.
pub enum Rendering<T> {
    Json(T),
    Csv(String),
    Html(String),
}

/// What this process last saved under each report file name: a digest of
/// the counts it was made from. While the counts and the files stay the
/// same, a request renders only the format it asks for and writes nothing.
#[derive(Default)]
pub struct SavedReports(Mutex<HashMap<String, [u8; 32]>>);

impl SavedReports {
    fn is_current(&self, dir: &Path, file: &str, version: &[u8; 32]) -> bool {
        let saved = self.0.lock().unwrap_or_else(|p| p.into_inner());
        saved.get(file) == Some(version)
            && EXTENSIONS
                .iter()
                .all(|extension| dir.join(format!("{file}.{extension}")).is_file())
    }

    fn record(&self, file: String, version: [u8; 32]) {
        let mut saved = self.0.lock().unwrap_or_else(|p| p.into_inner());
        saved.insert(file, version);
    }
}

const EXTENSIONS: [&str; 3] = ["json", "csv", "html"];

/// A count of the database's, for a year.
type Count<T> = for<'c> fn(&'c mut AnyConnection, i32) -> BoxFuture<'c, sqlx::Result<T>>;

/// What `count` reads for `year`, read again (twice at most) when a restore
/// swapped a table in under the statement: MySQL's "table definition has
/// changed", or on a cluster a read the swap aborted.
async fn counted<T>(db: &Db, year: i32, count: Count<T>) -> anyhow::Result<T> {
    let mut attempt = 1;
    loop {
        let mut conn = db.acquire().await?;
        let err = match count(&mut conn, year).await {
            Ok(counts) => return Ok(counts),
            Err(err) => err,
        };
        match db::Conflict::of(&err) {
            Some(conflict @ (db::Conflict::TableChanged | db::Conflict::Deadlock))
                if attempt < 3 =>
            {
                db.note_conflict(conflict);
                attempt += 1;
            }
            _ => return Err(err.into()),
        }
    }
}

/// req1 for `year`: counted by the database, shaped and drawn on a blocking
/// thread, and saved as `dir/hires-by-quarter-<year>.{json,csv,html}` (when
/// the year has hires and the counts changed since this process saved them).
#[tracing::instrument(skip_all, fields(year))]
pub async fn hires_by_quarter(
    db: &Db,
    dir: &Path,
    saved: &Arc<SavedReports>,
    year: i32,
    wanted: Wanted,
) -> anyhow::Result<Rendering<HiresByQuarter>> {
    let counts = counted(db, year, |conn, year| {
        Box::pin(db::hires_by_quarter(conn, year))
    })
    .await?;
    let report = Report {
        file: format!("hires-by-quarter-{year}"),
        version: digest(&counts),
        any_hires: !counts.is_empty(),
        csv_header: &HiresByQuarter::CSV_HEADER,
        html: hires_by_quarter_html,
    };
    report
        .render(dir, saved, wanted, move || pivot_by_quarter(year, &counts))
        .await
}

/// req2 for `year`: as [`hires_by_quarter`], saved as
/// `dir/departments-above-mean-<year>.{json,csv,html}`.
#[tracing::instrument(skip_all, fields(year))]
pub async fn departments_above_mean(
    db: &Db,
    dir: &Path,
    saved: &Arc<SavedReports>,
    year: i32,
    wanted: Wanted,
) -> anyhow::Result<Rendering<DepartmentsAboveMean>> {
    let counts = counted(db, year, |conn, year| {
        Box::pin(db::hires_by_department(conn, year))
    })
    .await?;
    let report = Report {
        file: format!("departments-above-mean-{year}"),
        version: digest(&counts),
        any_hires: counts.iter().any(|count| count.hired > 0),
        csv_header: &DepartmentsAboveMean::CSV_HEADER,
        html: departments_above_mean_html,
    };
    report
        .render(dir, saved, wanted, move || above_the_mean(year, &counts))
        .await
}

/// The counts' digest: the data version of a report.
fn digest(counts: &impl std::fmt::Debug) -> [u8; 32] {
    Sha256::digest(format!("{counts:?}").as_bytes()).into()
}

/// One report request: its file name, the version of its data, and how
/// its CSV and HTML are made from its shaped rows.
struct Report<T> {
    file: String,
    version: [u8; 32],
    any_hires: bool,
    csv_header: &'static [&'static str],
    html: fn(&T) -> String,
}

impl<T: serde::Serialize + Send + 'static> Report<T> {
    /// Shapes the counts on a blocking thread inside the current span
    /// (polars and plotly are CPU work), then draws the wanted format alone
    /// when the saved files are current or the year has no hires; else all
    /// three, which are saved to `dir/<file>.{json,csv,html}`.
    async fn render(
        self,
        dir: &Path,
        saved: &Arc<SavedReports>,
        wanted: Wanted,
        shape: impl FnOnce() -> PolarsResult<(T, DataFrame)> + Send + 'static,
    ) -> anyhow::Result<Rendering<T>> {
        let (dir, saved) = (dir.to_owned(), Arc::clone(saved));
        telemetry::spawn_blocking(move || {
            let (report, mut frame) = shape()?;
            if !self.any_hires || saved.is_current(&dir, &self.file, &self.version) {
                return Ok(match wanted {
                    Wanted::Json => Rendering::Json(report),
                    Wanted::Csv => Rendering::Csv(to_csv(&mut frame, self.csv_header)?),
                    Wanted::Html => Rendering::Html((self.html)(&report)),
                });
            }
            let csv = to_csv(&mut frame, self.csv_header)?;
            let html = (self.html)(&report);
            let file = &self.file;
            write_atomically(
                &dir,
                &format!("{file}.json"),
                &serde_json::to_vec_pretty(&report)?,
            )?;
            write_atomically(&dir, &format!("{file}.csv"), csv.as_bytes())?;
            write_atomically(&dir, &format!("{file}.html"), html.as_bytes())?;
            saved.record(self.file.clone(), self.version);
            tracing::info!(dir = %dir.display(), %file, "report saved as JSON, CSV and HTML");
            Ok(match wanted {
                Wanted::Json => Rendering::Json(report),
                Wanted::Csv => Rendering::Csv(csv),
                Wanted::Html => Rendering::Html(html),
            })
        })
        .await?
    }
}
