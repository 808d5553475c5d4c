//! The reports, and backups listed and restored.

use crate::{Cli, references};
use predicates::prelude::*;
use test_support::Engine;

#[test]
fn reports_print_what_the_api_computes() {
    let server = Cli::start(Engine::Sqlite, |dir| {
        references(dir);
        std::fs::write(
            dir.join("employees.csv"),
            "1,A,2021-01-01T00:00:00Z,1,1\n2,B,2021-05-01T00:00:00Z,1,2\n3,C,2021-05-01T00:00:00Z,2,1\n",
        )
        .unwrap();
    });

    let output = server
        .client()
        .args(["req1", "--format", "json"])
        .output()
        .unwrap();
    let printed: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(
        printed,
        server.api_json("/api/v1/reports/hires-by-quarter?year=2021")
    );
    let output = server
        .client()
        .args(["req2", "--format", "json"])
        .output()
        .unwrap();
    let printed: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(
        printed,
        server.api_json("/api/v1/reports/departments-above-mean?year=2021")
    );

    server.client().arg("req1").assert().success().stdout(
        predicate::str::contains("Sales")
            .and(predicate::str::contains("Manager"))
            .and(predicate::str::contains("Q4")),
    );
    server
        .client()
        .args(["req2", "--format", "csv"])
        .assert()
        .success()
        .stdout("id,department,hired\n1,Sales,2\n");
    let out = tempfile::tempdir().unwrap();
    let page = out.path().join("req2.html");
    server
        .client()
        .args(["req2", "--format", "html", "--output"])
        .arg(&page)
        .assert()
        .success();
    assert!(
        std::fs::read_to_string(page)
            .unwrap()
            .contains("<td>Sales</td>")
    );
}

#[test]
fn backup_list_and_restore_round_trip() {
    let server = Cli::start(Engine::Sqlite, references);

    server
        .client()
        .args(["backup", "all"])
        .assert()
        .success()
        .stdout(predicate::str::contains("jobs-"));
    server
        .client()
        .args(["backups", "jobs"])
        .assert()
        .success()
        .stdout(predicate::str::contains(".avro"));
    server
        .client()
        .args(["add-records", "jobs", "-"])
        .write_stdin("9,Temp\n")
        .current_dir(server.shared_dir())
        .assert()
        .success();
    server
        .client()
        .args(["restore", "jobs"])
        .assert()
        .failure()
        .stderr(predicate::str::contains("--yes"));
    server
        .client()
        .args(["restore", "jobs", "--yes"])
        .assert()
        .success()
        .stdout(predicate::str::contains("2 rows (it had 3)"))
        .stdout(predicate::str::contains(
            "to undo: client restore jobs --backup jobs-",
        ));
    server
        .client()
        .args(["restore", "jobs", "--yes", "--backup", "../../etc/passwd"])
        .assert()
        .failure()
        .stderr(predicate::str::contains("invalid_backup_name"));
}
