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

pub use html::{req1_html, req2_html};
pub use shape::{Req1, Req1Row, Req2, Req2Row, req1, req2, to_csv};

use anyhow::Context;
use std::path::Path;

/// Writes `contents` to `dir/name` through a temp file and a rename, so a
/// reader never sees half a report.
pub fn write_atomically(dir: &Path, name: &str, contents: &[u8]) -> anyhow::Result<()> {
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let temp = dir.join(format!(".{name}.tmp"));
    std::fs::write(&temp, contents).with_context(|| format!("cannot write {}", temp.display()))?;
    std::fs::rename(&temp, dir.join(name))
        .with_context(|| format!("cannot rename {}", temp.display()))?;
    Ok(())
}
