//! `rejects`: what was not stored, why, and the raw rows to fix and resend.

use crate::Cli;
use predicates::prelude::*;
use test_support::Engine;

#[test]
fn rejects_list_why_and_give_back_the_raw_rows_to_fix_and_resend() {
    let server = Cli::start(Engine::Sqlite, |dir| {
        std::fs::write(dir.join("departments.csv"), "1,Sales\nx,Bad\n").unwrap();
        std::fs::write(dir.join("jobs.csv"), "1,Dev\n").unwrap();
    });
    server
        .client()
        .args(["add-records", "jobs", "-", "--quiet"])
        .write_stdin("2,\n3,\"QA, night\"\n4,\n")
        .current_dir(server.shared_dir())
        .assert()
        .success()
        .stdout(predicate::str::contains(
            "1 inserted, 0 already stored, 2 rejected",
        ));

    // The raw rows, untouched, ready to fix and send again.
    server
        .client()
        .args(["rejects", "--table", "jobs", "--format", "csv"])
        .assert()
        .success()
        .stdout("2,\n4,\n");
    let out = tempfile::tempdir().unwrap();
    let file = out.path().join("departments.jsonl");
    server
        .client()
        .args([
            "rejects", "--source", "file", "--format", "json", "--output",
        ])
        .arg(&file)
        .assert()
        .success()
        .stdout("");
    let listed: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
    assert_eq!(listed.as_array().unwrap().len(), 1, "{listed}");
    assert_eq!(listed[0]["file_name"], "departments.csv");
    assert_eq!(listed[0]["line"], 2);
    assert_eq!(listed[0]["code"], "invalid_integer");
    assert_eq!(listed[0]["raw"], "x,Bad");

    // For people: where each one came from and why.
    server.client().arg("rejects").assert().success().stdout(
        predicate::str::contains("departments.csv:2")
            .and(predicate::str::contains("missing_field"))
            .and(predicate::str::contains("row 2")),
    );
    server
        .client()
        .args(["rejects", "--table", "employees"])
        .assert()
        .success()
        .stdout("")
        .stderr(predicate::str::contains("no rejects recorded"));
    server
        .client()
        .args(["rejects", "--table", "employees", "--format", "json"])
        .assert()
        .success()
        .stdout("[]\n");
}

#[test]
fn a_failed_rejects_listing_leaves_an_earlier_output_file_as_it_was() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("rejects.csv");
    std::fs::write(&file, "2,fixed\n").unwrap();
    crate::client()
        .env("API_URL", "http://127.0.0.1:1")
        .args(["rejects", "--format", "csv", "--output"])
        .arg(&file)
        .assert()
        .failure()
        .code(1)
        .stderr(predicate::str::contains("cannot reach the API"));
    assert_eq!(std::fs::read_to_string(&file).unwrap(), "2,fixed\n");
}
