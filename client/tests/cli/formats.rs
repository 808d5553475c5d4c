//! --format table|json|csv on every command that prints data.

use crate::{Cli, references};
use predicates::prelude::*;
use test_support::Engine;

#[test]
fn every_command_that_prints_data_prints_json_and_csv_too() {
    let server = Cli::start(Engine::Sqlite, |dir| {
        references(dir);
        std::fs::write(
            dir.join("employees.csv"),
            "1,A,2021-01-01T00:00:00Z,1,1\n2,B,2021-05-01T00:00:00Z,1,2\n",
        )
        .unwrap();
    });
    let stdout = |args: &[&str]| -> String {
        let mut client = server.client();
        client
            .args(args)
            .write_stdin("3,=cmd|' /C calc'!A0\n")
            .current_dir(server.shared_dir());
        let output = client.assert().success().get_output().stdout.clone();
        String::from_utf8(output).unwrap()
    };
    let json =
        |args: &[&str]| -> serde_json::Value { serde_json::from_str(&stdout(args)).unwrap() };

    // get: the row as the API sends it, as CSV, or as a table.
    assert_eq!(
        json(&["get", "jobs", "2", "--format", "json"]),
        server.api_json("/api/v1/tables/jobs/rows/2")
    );
    assert_eq!(
        stdout(&["--format", "csv", "get", "employees", "2"]),
        "employee_id,employee_name,hiring_date,department_id,job_id\n\
         2,B,2021-05-01T00:00:00Z,1,2\n"
    );
    let table = stdout(&["get", "jobs", "2"]);
    assert!(table.contains("job_name") && table.contains("Manager") && table.contains('│'));

    // tables, health, add-records: a CSV cell that would be a formula is defused.
    assert_eq!(
        json(&["tables", "--format", "json"]),
        server.api_json("/api/v1/tables")
    );
    assert_eq!(stdout(&["health", "--format", "csv"]), "status\nready\n");
    let added = json(&["add-records", "jobs", "-", "--format", "json", "--quiet"]);
    assert_eq!(
        added,
        serde_json::json!({"table": "jobs", "read": 1, "inserted": 1, "already_stored": 0, "rejected": 0, "rejects_file": null, "dry_run": false})
    );
    assert_eq!(
        stdout(&["get", "jobs", "3", "--format", "csv"]),
        "job_id,job_name\n3,'=cmd|' /C calc'!A0\n"
    );
    assert_eq!(
        stdout(&["tables", "--format", "csv"]),
        "name,rows\ndepartments,3\njobs,3\nemployees,2\n"
    );

    // backup all, backups, restore.
    let made = stdout(&["backup", "all", "--format", "csv"]);
    let lines: Vec<&str> = made.lines().collect();
    assert_eq!(
        lines[0],
        "name,table,rows,bytes,sha256,codec,created_at,before_restore_of"
    );
    let tables: Vec<&str> = lines[1..]
        .iter()
        .map(|l| l.split(',').nth(1).unwrap())
        .collect();
    assert_eq!(tables, ["departments", "jobs", "employees"]);
    let listed = json(&["backups", "jobs", "--format", "json"]);
    assert_eq!(listed, server.api_json("/api/v1/tables/jobs/backups"));
    assert_eq!(listed["backups"][0]["rows"], 3);
    assert_eq!(
        stdout(&["backups", "jobs", "--format", "csv"]),
        format!("{}\n{}\n", lines[0], lines[2])
    );
    assert_eq!(
        json(&["backups", "departments", "--format", "json"])["backups"][0]["table"],
        "departments"
    );
    let restored = json(&["--format", "json", "restore", "jobs", "--yes"]);
    assert_eq!(restored["rows"], 3);
    assert_eq!(restored["backup"], listed["backups"][0]["name"]);

    // A report: the API's CSV, the typed JSON, and html still reaches the reports only.
    assert_eq!(
        stdout(&["--format", "csv", "req1"]),
        "department,job,Q1,Q2,Q3,Q4\nSales,Dev,1,0,0,0\nSales,Manager,0,1,0,0\n"
    );
    assert_eq!(
        json(&["req1", "--format", "json"]),
        server.api_json("/api/v1/reports/hires-by-quarter?year=2021")
    );
    server
        .client()
        .args(["tables", "--format", "html"])
        .assert()
        .failure()
        .code(2)
        .stderr(predicate::str::contains("--format html is for the reports"));
}

#[test]
fn an_empty_listing_is_a_hint_for_people_and_data_for_scripts() {
    let server = Cli::start(Engine::Sqlite, references);
    server
        .client()
        .args(["backups", "jobs"])
        .assert()
        .success()
        .stdout("")
        .stderr(predicate::str::contains("no backups of jobs yet"));
    server
        .client()
        .args(["backups", "jobs", "--format", "json"])
        .assert()
        .success()
        .stdout("{\n  \"backups\": []\n}\n");
    server
        .client()
        .args(["backups", "jobs", "--format", "csv"])
        .assert()
        .success()
        .stdout("name,table,rows,bytes,sha256,codec,created_at,before_restore_of\n");
}
