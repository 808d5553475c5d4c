//! The service's tables, named once: their command-line values are their
//! names in the API's paths (`/api/v1/tables/{table}/...`).

use clap::ValueEnum;
use clap::builder::PossibleValue;
use std::sync::LazyLock;
pub use vocab::Table;

/// A table, or `all` of them: for the commands where every table makes sense.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TableOrAll {
    One(Table),
    All,
}

impl TableOrAll {
    /// The tables it stands for.
    pub fn tables(self) -> Vec<Table> {
        match self {
            TableOrAll::One(table) => vec![table],
            TableOrAll::All => Table::ALL.to_vec(),
        }
    }
}

/// The tables' values, then `all`.
static TABLE_OR_ALL: LazyLock<Vec<TableOrAll>> = LazyLock::new(|| {
    Table::ALL
        .into_iter()
        .map(TableOrAll::One)
        .chain([TableOrAll::All])
        .collect()
});

impl ValueEnum for TableOrAll {
    fn value_variants<'a>() -> &'a [Self] {
        &TABLE_OR_ALL
    }

    fn to_possible_value(&self) -> Option<PossibleValue> {
        match self {
            TableOrAll::One(table) => table.to_possible_value(),
            TableOrAll::All => Some(PossibleValue::new("all")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn command_line_values_are_the_api_names() {
        for table in Table::ALL {
            let value = table.to_possible_value().unwrap();
            assert_eq!(value.get_name(), table.name());
            assert_eq!(Table::from_str(table.name(), false), Ok(table));
            assert_eq!(serde_json::to_value(table).unwrap(), table.name());
        }
    }

    #[test]
    fn all_stands_for_every_table_and_is_not_a_table() {
        assert_eq!(
            TableOrAll::from_str("all", false).unwrap().tables(),
            [Table::Departments, Table::Jobs, Table::Employees]
        );
        assert_eq!(
            TableOrAll::from_str("jobs", false).unwrap().tables(),
            [Table::Jobs]
        );
        assert!(Table::from_str("all", false).is_err());
        assert!(TableOrAll::from_str("robots", false).is_err());
    }
}
