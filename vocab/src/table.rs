use std::fmt;
use std::str::FromStr;

/// The `{table}` path parameter: the closed set of tables.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(poem_openapi::Enum))]
#[cfg_attr(
    feature = "openapi",
    oai(rename = "TableName", rename_all = "snake_case")
)]
#[cfg_attr(feature = "clap", derive(clap::ValueEnum))]
pub enum Table {
    Departments,
    Jobs,
    Employees,
}

impl Table {
    /// Every table, in load order: referenced tables come before employees.
    pub const ALL: [Table; 3] = [Table::Departments, Table::Jobs, Table::Employees];

    /// Its name in the API's paths and answers, and in SQL.
    pub fn name(self) -> &'static str {
        match self {
            Table::Departments => "departments",
            Table::Jobs => "jobs",
            Table::Employees => "employees",
        }
    }

    /// Column names in dictionary (and CSV) order; the first is the primary key.
    pub fn columns(self) -> &'static [&'static str] {
        match self {
            Table::Departments => &["department_id", "department_name"],
            Table::Jobs => &["job_id", "job_name"],
            Table::Employees => &[
                "employee_id",
                "employee_name",
                "hiring_date",
                "department_id",
                "job_id",
            ],
        }
    }

    pub fn id_column(self) -> &'static str {
        self.columns()[0]
    }
}

impl fmt::Display for Table {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The name given is not one of the tables.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnknownTable(pub String);

impl fmt::Display for UnknownTable {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "unknown table `{}`: expected one of departments, jobs, employees",
            self.0
        )
    }
}

impl std::error::Error for UnknownTable {}

impl FromStr for Table {
    type Err = UnknownTable;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Table::ALL
            .into_iter()
            .find(|t| t.name() == s)
            .ok_or_else(|| UnknownTable(s.to_owned()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_names_parse_and_nothing_else_does() {
        for table in Table::ALL {
            assert_eq!(table.name().parse::<Table>().unwrap(), table);
            assert_eq!(serde_json::to_value(table).unwrap(), table.name());
        }
        for bad in ["", "Departments", "employee", "jobs ", "users", "jobs;drop"] {
            assert!(bad.parse::<Table>().is_err(), "{bad:?} parsed");
        }
    }
}
