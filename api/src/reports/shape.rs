use crate::db::{DepartmentCount, QuarterCount};
use polars::prelude::*;
pub use vocab::{DepartmentHires, DepartmentsAboveMean, HiresByQuarter, QuarterHires};

/// Pivots the (department, job, quarter) counts into one row per pair with a
/// column per quarter, sorted by department then job (byte order of UTF-8,
/// which is code-point order).
pub fn pivot_by_quarter(
    year: i32,
    counts: &[QuarterCount],
) -> PolarsResult<(HiresByQuarter, DataFrame)> {
    let frame = DataFrame::new(
        counts.len(),
        vec![
            Column::new(
                "department_id".into(),
                counts.iter().map(|c| c.department_id).collect::<Vec<_>>(),
            ),
            Column::new(
                "job_id".into(),
                counts.iter().map(|c| c.job_id).collect::<Vec<_>>(),
            ),
            Column::new(
                "department".into(),
                counts
                    .iter()
                    .map(|c| c.department.as_str())
                    .collect::<Vec<_>>(),
            ),
            Column::new(
                "job".into(),
                counts.iter().map(|c| c.job.as_str()).collect::<Vec<_>>(),
            ),
            Column::new(
                "quarter".into(),
                counts.iter().map(|c| c.quarter).collect::<Vec<_>>(),
            ),
            Column::new(
                "hired".into(),
                counts.iter().map(|c| c.hired).collect::<Vec<_>>(),
            ),
        ],
    )?;
    let quarter = |q: i64| {
        when(col("quarter").eq(lit(q)))
            .then(col("hired"))
            .otherwise(lit(0i64))
            .sum()
            .alias(format!("Q{q}"))
    };
    // Grouped by ids, which the names follow; sorted by the names, then the
    // ids, so that rows of equal names keep one order.
    let pivoted = frame
        .lazy()
        .group_by([col("department_id"), col("job_id")])
        .agg([
            col("department").first(),
            col("job").first(),
            quarter(1),
            quarter(2),
            quarter(3),
            quarter(4),
        ])
        .sort(
            ["department", "job", "department_id", "job_id"],
            SortMultipleOptions::default(),
        )
        .select([
            col("department"),
            col("job"),
            col("Q1"),
            col("Q2"),
            col("Q3"),
            col("Q4"),
        ])
        .collect()?;
    let departments = pivoted.column("department")?.str()?;
    let jobs = pivoted.column("job")?.str()?;
    let q = |name: &str| -> PolarsResult<&Int64Chunked> { pivoted.column(name)?.i64() };
    let (q1, q2, q3, q4) = (q("Q1")?, q("Q2")?, q("Q3")?, q("Q4")?);
    let rows = (0..pivoted.height())
        .map(|i| QuarterHires {
            department: departments.get(i).unwrap_or_default().to_owned(),
            job: jobs.get(i).unwrap_or_default().to_owned(),
            q1: q1.get(i).unwrap_or(0),
            q2: q2.get(i).unwrap_or(0),
            q3: q3.get(i).unwrap_or(0),
            q4: q4.get(i).unwrap_or(0),
        })
        .collect();
    Ok((HiresByQuarter { year, rows }, pivoted))
}

/// Keeps the departments above the mean (taken over all of them), sorted by
/// hires descending, then name.
pub fn above_the_mean(
    year: i32,
    counts: &[DepartmentCount],
) -> PolarsResult<(DepartmentsAboveMean, DataFrame)> {
    let frame = DataFrame::new(
        counts.len(),
        vec![
            Column::new("id".into(), counts.iter().map(|c| c.id).collect::<Vec<_>>()),
            Column::new(
                "department".into(),
                counts
                    .iter()
                    .map(|c| c.department.as_str())
                    .collect::<Vec<_>>(),
            ),
            Column::new(
                "hired".into(),
                counts.iter().map(|c| c.hired).collect::<Vec<_>>(),
            ),
        ],
    )?;
    let mean = frame
        .column("hired")?
        .as_materialized_series()
        .mean()
        .unwrap_or(0.0);
    let above = frame
        .lazy()
        .filter(col("hired").cast(DataType::Float64).gt(lit(mean)))
        .sort(
            ["hired", "department", "id"],
            SortMultipleOptions::default().with_order_descending_multi([true, false, false]),
        )
        .collect()?;
    let ids = above.column("id")?.i32()?;
    let names = above.column("department")?.str()?;
    let hired = above.column("hired")?.i64()?;
    let rows = (0..above.height())
        .map(|i| DepartmentHires {
            id: ids.get(i).unwrap_or_default(),
            department: names.get(i).unwrap_or_default().to_owned(),
            hired: hired.get(i).unwrap_or_default(),
        })
        .collect();
    Ok((DepartmentsAboveMean { year, mean, rows }, above))
}

/// The frame as CSV with the given header names (polars' writer). A text
/// cell that a spreadsheet would run as a formula gets a leading `'`.
pub fn to_csv(frame: &mut DataFrame, header: &[&str]) -> PolarsResult<String> {
    let names: Vec<PlSmallStr> = header.iter().map(|h| PlSmallStr::from(*h)).collect();
    frame.set_column_names(&names)?;
    let texts: Vec<PlSmallStr> = frame
        .columns()
        .iter()
        .filter(|column| column.dtype() == &DataType::String)
        .map(|column| column.name().clone())
        .collect();
    for name in texts {
        let defused: Vec<Option<String>> = frame
            .column(name.as_str())?
            .str()?
            .iter()
            .map(|cell| cell.map(|text| defuse(text).into_owned()))
            .collect();
        frame.replace(name.as_str(), Column::new(name.clone(), defused))?;
    }
    let mut out = Vec::new();
    polars_io::csv::write::CsvWriter::new(&mut out)
        .include_header(true)
        .finish(frame)?;
    Ok(String::from_utf8(out).expect("polars writes UTF-8"))
}

/// Spreadsheets run a cell that starts with `=`, `+`, `-`, `@`, tab or CR
/// as a formula; a leading `'` makes it text. A plain number is left alone.
pub fn defuse(cell: &str) -> std::borrow::Cow<'_, str> {
    let number = cell.parse::<f64>().is_ok() && !cell.starts_with(['\t', '\r']);
    if cell.starts_with(['=', '+', '-', '@', '\t', '\r']) && !number {
        format!("'{cell}").into()
    } else {
        cell.into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn count(department: &str, job: &str, quarter: i64, hired: i64) -> QuarterCount {
        let id = |name: &str| name.bytes().map(i64::from).sum();
        QuarterCount {
            department_id: id(department),
            job_id: id(job),
            department: department.to_owned(),
            job: job.to_owned(),
            quarter,
            hired,
        }
    }

    #[test]
    fn req1_pivots_quarters_and_sorts_by_code_point() {
        let counts = [
            count("sales", "b", 2, 1),
            count("Sales", "b", 1, 3),
            count("Sales", "a", 4, 2),
            count("Sales", "b", 4, 1),
            count("Ängel", "x", 3, 5),
        ];
        let (report, _) = pivot_by_quarter(2021, &counts).unwrap();
        let rows: Vec<(&str, &str, [i64; 4])> = report
            .rows
            .iter()
            .map(|r| {
                (
                    r.department.as_str(),
                    r.job.as_str(),
                    [r.q1, r.q2, r.q3, r.q4],
                )
            })
            .collect();
        assert_eq!(
            rows,
            [
                ("Sales", "a", [0, 0, 0, 2]),
                ("Sales", "b", [3, 0, 0, 1]),
                ("sales", "b", [0, 1, 0, 0]),
                ("Ängel", "x", [0, 0, 5, 0]),
            ]
        );
    }

    #[test]
    fn req2_keeps_departments_above_the_mean_of_all() {
        let dept = |id: i32, name: &str, hired: i64| DepartmentCount {
            id,
            department: name.to_owned(),
            hired,
        };
        // Mean (4 + 4 + 1 + 0 + 1) / 5 = 2.
        let counts = [
            dept(1, "b", 4),
            dept(2, "a", 4),
            dept(3, "c", 1),
            dept(4, "z", 0),
            dept(5, "d", 1),
        ];
        let (report, _) = above_the_mean(2021, &counts).unwrap();
        assert_eq!(report.mean, 2.0);
        let rows: Vec<(i32, i64)> = report.rows.iter().map(|r| (r.id, r.hired)).collect();
        assert_eq!(rows, [(2, 4), (1, 4)]);
        let (empty, _) = above_the_mean(2021, &[]).unwrap();
        assert!(empty.rows.is_empty());
    }

    /// Two departments (or jobs) of one name stay two rows: rows are
    /// grouped by ids, and equal names are ordered by id.
    #[test]
    fn req1_groups_by_ids_not_names() {
        let at = |department_id: i64, job_id: i64, quarter: i64| QuarterCount {
            department_id,
            job_id,
            department: "Ops".to_owned(),
            job: "Dev".to_owned(),
            quarter,
            hired: 1,
        };
        let counts = [at(7, 1, 1), at(2, 1, 2), at(2, 9, 3), at(7, 1, 4)];
        let (report, _) = pivot_by_quarter(2021, &counts).unwrap();
        let quarters: Vec<[i64; 4]> = report
            .rows
            .iter()
            .map(|r| [r.q1, r.q2, r.q3, r.q4])
            .collect();
        assert_eq!(quarters, [[0, 1, 0, 0], [0, 0, 1, 0], [1, 0, 0, 1]]);
    }

    #[test]
    fn csv_cells_that_spreadsheets_would_run_are_defused() {
        let counts = [
            count("=HYPERLINK(\"http://x\")", "+1", 1, 1),
            count("@SUM", "-cmd", 1, 1),
            count("\tTab", "-1.5", 1, 1),
        ];
        let (_, mut frame) = pivot_by_quarter(2021, &counts).unwrap();
        let csv = to_csv(&mut frame, &HiresByQuarter::CSV_HEADER).unwrap();
        assert_eq!(
            csv,
            "department,job,Q1,Q2,Q3,Q4\n\
             '\tTab,-1.5,1,0,0,0\n\
             \"'=HYPERLINK(\"\"http://x\"\")\",+1,1,0,0,0\n\
             '@SUM,'-cmd,1,0,0,0\n"
        );
    }

    #[test]
    fn csv_headers_are_the_contracts() {
        let (_, mut frame) = pivot_by_quarter(2021, &[count("S", "j", 1, 1)]).unwrap();
        let csv = to_csv(&mut frame, &["department", "job", "Q1", "Q2", "Q3", "Q4"]).unwrap();
        assert_eq!(csv, "department,job,Q1,Q2,Q3,Q4\nS,j,1,0,0,0\n");
    }
}
