//! The two hiring reports' JSON shapes and CSV headers.

use serde::{Deserialize, Serialize};

/// req1: hires per department and job in each quarter of `year`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(poem_openapi::Object))]
pub struct HiresByQuarter {
    pub year: i32,
    pub rows: Vec<QuarterHires>,
}

impl HiresByQuarter {
    /// The header row of its CSV rendering.
    pub const CSV_HEADER: [&str; 6] = ["department", "job", "Q1", "Q2", "Q3", "Q4"];
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(poem_openapi::Object))]
pub struct QuarterHires {
    pub department: String,
    pub job: String,
    pub q1: i64,
    pub q2: i64,
    pub q3: i64,
    pub q4: i64,
}

/// req2: departments that hired more than the mean in `year`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(poem_openapi::Object))]
pub struct DepartmentsAboveMean {
    pub year: i32,
    /// Mean of hires per department, over every department.
    pub mean: f64,
    pub rows: Vec<DepartmentHires>,
}

impl DepartmentsAboveMean {
    /// The header row of its CSV rendering.
    pub const CSV_HEADER: [&str; 3] = ["id", "department", "hired"];
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(poem_openapi::Object))]
pub struct DepartmentHires {
    pub id: i32,
    pub department: String,
    pub hired: i64,
}
