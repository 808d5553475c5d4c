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

use html::{departments_above_mean_html, hires_by_quarter_html};
pub use shape::{DepartmentHires, DepartmentsAboveMean, HiresByQuarter, QuarterHires};
use shape::{above_the_mean, pivot_by_quarter, to_csv};

use crate::db::{self, Db};
use crate::files::write_atomically;
use crate::telemetry;
use std::path::{Path, PathBuf};

/// The three renderings of a report, made together: a response is one of
/// them, and all three are saved under `$SHARED_DIR/reports/`.
pub struct Rendered<T> {
    pub report: T,
    pub csv: String,
    pub html: String,
}

/// req1 for `year`: counted by the database, shaped and drawn on a blocking
/// thread, and saved as `dir/hires-by-quarter-<year>.{json,csv,html}`.
#[tracing::instrument(skip_all, fields(year))]
pub async fn hires_by_quarter(
    db: &Db,
    dir: &Path,
    year: i32,
) -> anyhow::Result<Rendered<HiresByQuarter>> {
    let counts = {
        let mut conn = db.acquire().await?;
        db::hires_by_quarter(&mut conn, year).await?
    };
    render_and_save(dir, format!("hires-by-quarter-{year}"), move || {
        let (report, mut frame) = pivot_by_quarter(year, &counts)?;
        let csv = to_csv(&mut frame, &HiresByQuarter::CSV_HEADER)?;
        let html = hires_by_quarter_html(&report);
        Ok(Rendered { report, csv, html })
    })
    .await
}

/// req2 for `year`: as [`hires_by_quarter`], saved as
/// `dir/departments-above-mean-<year>.{json,csv,html}`.
#[tracing::instrument(skip_all, fields(year))]
pub async fn departments_above_mean(
    db: &Db,
    dir: &Path,
    year: i32,
) -> anyhow::Result<Rendered<DepartmentsAboveMean>> {
    let counts = {
        let mut conn = db.acquire().await?;
        db::hires_by_department(&mut conn, year).await?
    };
    render_and_save(dir, format!("departments-above-mean-{year}"), move || {
        let (report, mut frame) = above_the_mean(year, &counts)?;
        let csv = to_csv(&mut frame, &DepartmentsAboveMean::CSV_HEADER)?;
        let html = departments_above_mean_html(&report);
        Ok(Rendered { report, csv, html })
    })
    .await
}

/// Runs `render` on a blocking thread inside the current span (polars and
/// plotly are CPU work), then writes its three renderings to
/// `dir/<file>.{json,csv,html}`.
async fn render_and_save<T: serde::Serialize + Send + 'static>(
    dir: &Path,
    file: String,
    render: impl FnOnce() -> anyhow::Result<Rendered<T>> + Send + 'static,
) -> anyhow::Result<Rendered<T>> {
    let dir: PathBuf = dir.to_owned();
    telemetry::spawn_blocking(move || {
        let rendered = render()?;
        let json = serde_json::to_vec_pretty(&rendered.report)?;
        write_atomically(&dir, &format!("{file}.json"), &json)?;
        write_atomically(&dir, &format!("{file}.csv"), rendered.csv.as_bytes())?;
        write_atomically(&dir, &format!("{file}.html"), rendered.html.as_bytes())?;
        tracing::info!(dir = %dir.display(), %file, "report saved as JSON, CSV and HTML");
        Ok(rendered)
    })
    .await?
}
