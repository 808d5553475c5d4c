//! The two reports' aggregations, pushed down to SQL. Dates are UTC text
//! (`YYYY-MM-DDTHH:MM:SSZ`), so a year and its quarters are text ranges: the
//! same SQL on both engines. Employees are aggregated first, in a derived
//! table the covering `(hiring_date, department_id, job_id)` index answers
//! alone; names are joined to the few aggregate rows after.

use sqlx::AnyConnection;

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
    sqlx::query_as(
        "SELECT h.department_id, h.job_id, d.department_name AS department, \
                j.job_name AS job, h.quarter, h.hired \
         FROM (SELECT department_id, job_id, \
                      CASE WHEN hiring_date < ? THEN 1 WHEN hiring_date < ? THEN 2 \
                           WHEN hiring_date < ? THEN 3 ELSE 4 END AS quarter, \
                      COUNT(*) AS hired \
               FROM employees \
               WHERE hiring_date >= ? AND hiring_date < ? \
               GROUP BY department_id, job_id, quarter) h \
         JOIN departments d ON d.department_id = h.department_id \
         JOIN jobs j ON j.job_id = h.job_id",
    )
    .bind(q2)
    .bind(q3)
    .bind(q4)
    .bind(start)
    .bind(end)
    .fetch_all(conn)
    .await
}

/// Hires per department in `year`, every department included.
pub async fn hires_by_department(
    conn: &mut AnyConnection,
    year: i32,
) -> sqlx::Result<Vec<DepartmentCount>> {
    let [start, _, _, _, end] = bounds(year);
    sqlx::query_as(
        "SELECT d.department_id AS id, d.department_name AS department, \
                COALESCE(h.hired, 0) AS hired \
         FROM departments d \
         LEFT JOIN (SELECT department_id, COUNT(*) AS hired \
                    FROM employees \
                    WHERE hiring_date >= ? AND hiring_date < ? \
                    GROUP BY department_id) h ON h.department_id = d.department_id",
    )
    .bind(start)
    .bind(end)
    .fetch_all(conn)
    .await
}
