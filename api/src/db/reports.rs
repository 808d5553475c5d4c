//! The two reports' aggregations, pushed down to SQL. Dates are UTC text
//! (`YYYY-MM-DDTHH:MM:SSZ`), so a year and its quarters are text ranges.
//! Both engines count over one `(department_id, job_id, hiring_date)`
//! index, so that each count is a seek and a walk over exactly the rows
//! counted, but each is asked in the form its planner runs well:
//! - SQLite counts, for each department and job, the hires within a
//!   quarter or a year, in correlated subqueries. Grouping the year's rows
//!   sorted them all instead (SQLite has no hash aggregation): 3.6 s for a
//!   year of 3.3 M hires, against 0.2 s now.
//! - MySQL runs correlated subqueries with `ref` access on the first two
//!   key parts only (every year of each pair is read: 7 s), and grouping the
//!   year's rows takes 2 s in a temporary table. It is given the
//!   catalogue's ids as lists instead, one quarter at a time: its range
//!   optimizer then reads one index range per department, job and quarter,
//!   in index order, and groups as it reads (0.75 s for both reports at
//!   10 M rows). Names are joined in Rust: MariaDB turned a join of names
//!   onto the grouping query into a "lateral derived" plan that read the
//!   whole table row by row (over 500 s at 10 M rows).

use super::dialect::{Counting, Dialect};
use sqlx::{Any, AnyConnection, Connection, QueryBuilder};
use std::collections::HashMap;

/// Hires of one (department, job) pair in one quarter of the year. The
/// pair is its ids; the names are labels (two departments may share one).
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct QuarterCount {
    pub department_id: i64,
    pub job_id: i64,
    pub department: String,
    pub job: String,
    pub quarter: i64,
    pub hired: i64,
}

/// Hires of one department in the year (zero included).
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct DepartmentCount {
    pub id: i32,
    pub department: String,
    pub hired: i64,
}

/// The first instants of the year's four quarters and of the next year.
fn bounds(year: i32) -> [String; 5] {
    let at = |year: i32, month: u32| format!("{year:04}-{month:02}-01T00:00:00Z");
    [
        at(year, 1),
        at(year, 4),
        at(year, 7),
        at(year, 10),
        at(year + 1, 1),
    ]
}

/// Hires per (department, job, quarter) in `year`, pairs with hires only.
pub async fn hires_by_quarter(
    conn: &mut AnyConnection,
    year: i32,
) -> sqlx::Result<Vec<QuarterCount>> {
    let [start, q2, q3, q4, end] = bounds(year);
    if Dialect::of(conn).counting() == Counting::IdLists {
        let counts = IdListCounts::read(conn, year).await?;
        let name =
            |names: &HashMap<i64, String>, id: i64| names.get(&id).cloned().unwrap_or_default();
        return Ok(counts
            .cells
            .into_iter()
            .map(|cell| QuarterCount {
                department_id: cell.department_id,
                job_id: cell.job_id,
                department: name(&counts.departments, cell.department_id),
                job: name(&counts.jobs, cell.job_id),
                quarter: cell.quarter,
                hired: cell.hired,
            })
            .collect());
    }
    let hires_between = "(SELECT COUNT(*) FROM employees e \
         WHERE e.department_id = d.department_id AND e.job_id = j.job_id \
           AND e.hiring_date >= ? AND e.hiring_date < ?)";
    let pairs: Vec<PairCounts> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT d.department_id, j.job_id, d.department_name AS department, \
                j.job_name AS job, {hires_between} AS q1, {hires_between} AS q2, \
                {hires_between} AS q3, {hires_between} AS q4 \
         FROM departments d CROSS JOIN jobs j"
    )))
    .bind(&start)
    .bind(&q2)
    .bind(&q2)
    .bind(&q3)
    .bind(&q3)
    .bind(&q4)
    .bind(&q4)
    .bind(&end)
    .fetch_all(conn)
    .await?;
    let mut counts = Vec::new();
    for pair in pairs {
        for (quarter, hired) in (1..).zip([pair.q1, pair.q2, pair.q3, pair.q4]) {
            if hired > 0 {
                counts.push(QuarterCount {
                    department_id: pair.department_id,
                    job_id: pair.job_id,
                    department: pair.department.clone(),
                    job: pair.job.clone(),
                    quarter,
                    hired,
                });
            }
        }
    }
    Ok(counts)
}

/// One (department, job) pair's hires in each quarter of a year.
#[derive(sqlx::FromRow)]
struct PairCounts {
    department_id: i64,
    job_id: i64,
    department: String,
    job: String,
    q1: i64,
    q2: i64,
    q3: i64,
    q4: i64,
}

/// Hires per department in `year`, every department included (on SQLite,
/// the sum of its counts per job).
pub async fn hires_by_department(
    conn: &mut AnyConnection,
    year: i32,
) -> sqlx::Result<Vec<DepartmentCount>> {
    if Dialect::of(conn).counting() == Counting::IdLists {
        let counts = IdListCounts::read(conn, year).await?;
        let mut hired: HashMap<i64, i64> = HashMap::new();
        for cell in &counts.cells {
            *hired.entry(cell.department_id).or_default() += cell.hired;
        }
        let mut departments: Vec<DepartmentCount> = counts
            .departments
            .into_iter()
            .map(|(id, department)| DepartmentCount {
                // Stored as INT: always in range.
                id: i32::try_from(id).unwrap_or_default(),
                department,
                hired: hired.get(&id).copied().unwrap_or(0),
            })
            .collect();
        departments.sort_by_key(|d| d.id);
        return Ok(departments);
    }
    let [start, _, _, _, end] = bounds(year);
    // CROSS JOIN keeps SQLite's join order: jobs, then a seek per job.
    let sql = "SELECT d.department_id AS id, d.department_name AS department, \
                (SELECT COUNT(*) FROM jobs j CROSS JOIN employees e \
                 WHERE e.department_id = d.department_id AND e.job_id = j.job_id \
                   AND e.hiring_date >= ? AND e.hiring_date < ?) AS hired \
         FROM departments d";
    sqlx::query_as(sql)
        .bind(start)
        .bind(end)
        .fetch_all(conn)
        .await
}

/// How much one MySQL count names: at most this many jobs, and as many
/// departments as keep the pairs (index ranges) under the second figure.
/// That stays well inside MySQL's 65,535 placeholders and is few enough
/// ranges for its range optimizer's memory; a larger catalogue takes more
/// statements, not different SQL.
const MAX_JOBS_PER_COUNT: usize = 1000;
const MAX_PAIRS_PER_COUNT: usize = 20_000;

/// The hires of one (department, job) pair in one quarter.
#[derive(sqlx::FromRow)]
struct Cell {
    department_id: i64,
    job_id: i64,
    #[sqlx(default)]
    quarter: i64,
    hired: i64,
}

/// A year's hires per department, job and quarter counted over lists of
/// the catalogue's ids ([`Counting::IdLists`]), with the catalogue's names,
/// all read in one transaction (one snapshot).
struct IdListCounts {
    departments: HashMap<i64, String>,
    jobs: HashMap<i64, String>,
    /// Pairs with hires only.
    cells: Vec<Cell>,
}

impl IdListCounts {
    async fn read(conn: &mut AnyConnection, year: i32) -> sqlx::Result<Self> {
        let dialect = Dialect::of(conn);
        let mut tx = conn.begin().await?;
        let departments: Vec<(i64, String)> =
            sqlx::query_as("SELECT department_id, department_name FROM departments")
                .fetch_all(&mut *tx)
                .await?;
        let jobs: Vec<(i64, String)> = sqlx::query_as("SELECT job_id, job_name FROM jobs")
            .fetch_all(&mut *tx)
            .await?;
        let department_ids: Vec<i64> = departments.iter().map(|(id, _)| *id).collect();
        let job_ids: Vec<i64> = jobs.iter().map(|(id, _)| *id).collect();
        let job_list = job_ids.len().clamp(1, MAX_JOBS_PER_COUNT);
        let department_list = (MAX_PAIRS_PER_COUNT / job_list).max(1);
        let bounds = bounds(year);
        let mut cells = Vec::new();
        for (quarter, range) in (1..).zip(bounds.windows(2)) {
            for departments in department_ids.chunks(department_list) {
                for jobs in job_ids.chunks(job_list) {
                    let mut query = QueryBuilder::<Any>::new(format!(
                        "SELECT department_id, job_id, COUNT(*) AS hired FROM {} \
                         WHERE department_id IN (",
                        dialect.force_index("employees", "employees_pair_date")
                    ));
                    let mut list = query.separated(", ");
                    for id in departments {
                        list.push_bind(*id);
                    }
                    query.push(") AND job_id IN (");
                    let mut list = query.separated(", ");
                    for id in jobs {
                        list.push_bind(*id);
                    }
                    query
                        .push(") AND hiring_date >= ")
                        .push_bind(range[0].clone())
                        .push(" AND hiring_date < ")
                        .push_bind(range[1].clone())
                        .push(" GROUP BY department_id, job_id");
                    let found: Vec<Cell> = query.build_query_as().fetch_all(&mut *tx).await?;
                    cells.extend(found.into_iter().map(|cell| Cell { quarter, ..cell }));
                }
            }
        }
        tx.commit().await?;
        Ok(Self {
            departments: departments.into_iter().collect(),
            jobs: jobs.into_iter().collect(),
            cells,
        })
    }
}
