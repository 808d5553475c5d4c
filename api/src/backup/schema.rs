//! The Avro schema of each table: the data dictionary as a record.

use crate::domain::Table;
use apache_avro::Schema;
use apache_avro::schema::RecordSchema;

/// The Avro type a column is written with.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum ColumnType {
    Int,
    String,
}

fn column_type(column: &str) -> ColumnType {
    if column.ends_with("_id") {
        ColumnType::Int
    } else {
        ColumnType::String
    }
}

/// The schema backups of `table` are written with.
pub fn table_schema(table: Table) -> Schema {
    let (record, doc) = match table {
        Table::Departments => ("Department", "A department of the company."),
        Table::Jobs => ("Job", "A job title."),
        Table::Employees => (
            "Employee",
            "A hired employee; hiring_date is UTC, YYYY-MM-DDTHH:MM:SSZ.",
        ),
    };
    let fields: Vec<serde_json::Value> = table
        .columns()
        .iter()
        .map(|column| {
            let ty = match column_type(column) {
                ColumnType::Int => "int",
                ColumnType::String => "string",
            };
            serde_json::json!({"name": column, "type": ty})
        })
        .collect();
    let json = serde_json::json!({
        "type": "record",
        "name": record,
        "namespace": "hiring.v1",
        "doc": doc,
        "fields": fields,
    });
    Schema::parse_str(&json.to_string()).expect("the table schemas are valid Avro")
}

/// Checks that a file's writer schema holds exactly the table's columns with
/// compatible types (`int` or `long` for ids, `string` for text; a union with
/// `null` is allowed, a null value is then rejected row by row).
pub fn check_writer_schema(table: Table, schema: &Schema) -> Result<(), String> {
    let Schema::Record(RecordSchema { fields, name, .. }) = schema else {
        return Err("the file's schema is not a record".to_owned());
    };
    let columns = table.columns();
    let names: Vec<&str> = fields.iter().map(|f| f.name.as_str()).collect();
    let missing: Vec<&&str> = columns.iter().filter(|c| !names.contains(c)).collect();
    let extra: Vec<&&str> = names.iter().filter(|n| !columns.contains(n)).collect();
    if !missing.is_empty() || !extra.is_empty() {
        return Err(format!(
            "the file's record `{}` does not match {table} (columns {}): missing {missing:?}, unexpected {extra:?}",
            name.name(),
            columns.join(", "),
        ));
    }
    for field in fields {
        let compatible = |schema: &Schema| match column_type(&field.name) {
            ColumnType::Int => matches!(schema, Schema::Int | Schema::Long),
            ColumnType::String => matches!(schema, Schema::String),
        };
        let ok = match &field.schema {
            Schema::Union(union) => union
                .variants()
                .iter()
                .all(|v| matches!(v, Schema::Null) || compatible(v)),
            other => compatible(other),
        };
        if !ok {
            return Err(format!(
                "field `{}` has Avro type {:?}, expected {}",
                field.name,
                field.schema,
                match column_type(&field.name) {
                    ColumnType::Int => "int or long",
                    ColumnType::String => "string",
                }
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(json: &str) -> Schema {
        Schema::parse_str(json).unwrap()
    }

    #[test]
    fn each_table_accepts_its_own_schema_and_refuses_the_others() {
        for table in Table::ALL {
            for other in Table::ALL {
                let result = check_writer_schema(table, &table_schema(other));
                assert_eq!(
                    result.is_ok(),
                    table == other,
                    "{table} vs {other}: {result:?}"
                );
            }
        }
    }

    #[test]
    fn compatible_and_incompatible_field_types() {
        let ok = [
            r#"{"type":"record","name":"X","fields":[{"name":"job_id","type":"long"},{"name":"job_name","type":"string"}]}"#,
            r#"{"type":"record","name":"X","fields":[{"name":"job_name","type":"string"},{"name":"job_id","type":"int"}]}"#,
            r#"{"type":"record","name":"X","fields":[{"name":"job_id","type":["null","int"]},{"name":"job_name","type":"string"}]}"#,
        ];
        for json in ok {
            assert!(
                check_writer_schema(Table::Jobs, &parse(json)).is_ok(),
                "{json}"
            );
        }
        let bad = [
            r#"{"type":"record","name":"X","fields":[{"name":"job_id","type":"string"},{"name":"job_name","type":"string"}]}"#,
            r#"{"type":"record","name":"X","fields":[{"name":"job_id","type":"int"},{"name":"job_name","type":"bytes"}]}"#,
            r#"{"type":"record","name":"X","fields":[{"name":"job_id","type":"int"}]}"#,
            r#"{"type":"record","name":"X","fields":[{"name":"job_id","type":"int"},{"name":"job_name","type":"string"},{"name":"x","type":"int"}]}"#,
            r#""string""#,
        ];
        for json in bad {
            assert!(
                check_writer_schema(Table::Jobs, &parse(json)).is_err(),
                "{json}"
            );
        }
    }
}
