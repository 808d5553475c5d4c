use super::{FieldError, HiringDate, Name, Raw, RowId, Table};

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Department {
    pub id: RowId,
    pub name: Name,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Job {
    pub id: RowId,
    pub name: Name,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Employee {
    pub id: RowId,
    pub name: Name,
    pub hiring_date: HiringDate,
    pub department_id: RowId,
    pub job_id: RowId,
}

/// A row that satisfies the data dictionary (all but the checks that need
/// the database: references and uniqueness).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Row {
    Department(Department),
    Job(Job),
    Employee(Employee),
}

impl Row {
    /// Validates one row of `table` from its fields in column order.
    ///
    /// The first field that breaks its rule is reported.
    pub fn parse(table: Table, fields: &[Raw<'_>]) -> Result<Row, FieldError> {
        let columns = table.columns();
        if fields.len() != columns.len() {
            return Err(FieldError::wrong_field_count(table, fields.len()));
        }
        let at = |i: usize| (fields[i], columns[i]);
        Ok(match table {
            Table::Departments => Row::Department(Department {
                id: field(at(0), RowId::parse)?,
                name: field(at(1), Name::parse)?,
            }),
            Table::Jobs => Row::Job(Job {
                id: field(at(0), RowId::parse)?,
                name: field(at(1), Name::parse)?,
            }),
            Table::Employees => Row::Employee(Employee {
                id: field(at(0), RowId::parse)?,
                name: field(at(1), Name::parse)?,
                hiring_date: field(at(2), HiringDate::parse)?,
                department_id: field(at(3), RowId::parse)?,
                job_id: field(at(4), RowId::parse)?,
            }),
        })
    }

    pub fn id(&self) -> RowId {
        match self {
            Row::Department(d) => d.id,
            Row::Job(j) => j.id,
            Row::Employee(e) => e.id,
        }
    }
}

fn field<'a, T>(
    (raw, column): (Raw<'a>, &'static str),
    parse: impl FnOnce(Raw<'a>) -> Result<T, FieldError>,
) -> Result<T, FieldError> {
    parse(raw).map_err(|mut err| {
        err.field = Some(column);
        err
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::RejectCode;

    fn texts<'a>(fields: &[&'a str]) -> Vec<Raw<'a>> {
        fields.iter().map(|f| Raw::Text(f)).collect()
    }

    #[test]
    fn a_valid_employee_parses() {
        let row = Row::parse(
            Table::Employees,
            &texts(&["4", "Ana", "2021-03-31T23:30:00-02:00", "2", "7"]),
        )
        .unwrap();
        let Row::Employee(e) = row else {
            panic!("not an employee")
        };
        assert_eq!(e.id.get(), 4);
        assert_eq!(e.hiring_date.to_db_string(), "2021-04-01T01:30:00Z");
        assert_eq!((e.department_id.get(), e.job_id.get()), (2, 7));
    }

    #[test]
    fn the_first_bad_field_is_reported_with_its_column() {
        let cases: [(Table, &[&str], RejectCode, Option<&str>); 8] = [
            (
                Table::Departments,
                &["1"],
                RejectCode::WrongFieldCount,
                None,
            ),
            (
                Table::Jobs,
                &["1", "a", "b"],
                RejectCode::WrongFieldCount,
                None,
            ),
            (
                Table::Jobs,
                &["x", ""],
                RejectCode::InvalidInteger,
                Some("job_id"),
            ),
            (
                Table::Jobs,
                &["1", ""],
                RejectCode::MissingField,
                Some("job_name"),
            ),
            (
                Table::Employees,
                &["1", "Ana", "2021-01-01T00:00:00Z", "2", ""],
                RejectCode::MissingField,
                Some("job_id"),
            ),
            (
                Table::Employees,
                &["1", "Ana", "2021-01-01", "2", "3"],
                RejectCode::InvalidDatetime,
                Some("hiring_date"),
            ),
            (
                Table::Employees,
                &["1", "Ana", "2021-01-01T00:00:00Z", "0", "3"],
                RejectCode::OutOfRange,
                Some("department_id"),
            ),
            (
                Table::Employees,
                &["1", "", "", "", ""],
                RejectCode::MissingField,
                Some("employee_name"),
            ),
        ];
        for (table, fields, code, column) in cases {
            let err = Row::parse(table, &texts(fields)).unwrap_err();
            assert_eq!((err.code, err.field), (code, column), "{fields:?}");
        }
    }
}
