//! The edges of the command line: where the URL and token come from, input
//! with nothing in it, outputs nobody reads to the end, paths that cannot be
//! written.

use crate::{Cli, client, references};
use predicates::prelude::*;
use std::process::Stdio;
use test_support::{Engine, TOKEN};

#[test]
fn flags_win_over_the_environment_which_wins_over_the_token_files() {
    let server = Cli::start(Engine::Sqlite, references);
    let secrets = server.shared_dir().join("secrets");
    std::fs::create_dir_all(&secrets).unwrap();
    let token_file = server.shared_dir().join("token-file");
    let backup_jobs = |env: &[(&str, &str)], args: &[&str]| {
        let mut command = client();
        command
            .env("SHARED_DIR", server.shared_dir())
            .envs(env.iter().copied())
            .args(args)
            .args(["backup", "jobs"])
            .output()
            .unwrap()
    };
    let url = server.0.url();
    let closed = "http://127.0.0.1:1";

    // --url over API_URL.
    let output = backup_jobs(
        &[("API_URL", closed), ("API_TOKEN", TOKEN)],
        &["--url", url],
    );
    assert!(output.status.success(), "{output:?}");
    let output = backup_jobs(
        &[("API_URL", url), ("API_TOKEN", TOKEN)],
        &["--url", closed],
    );
    assert!(
        String::from_utf8_lossy(&output.stderr).contains("cannot reach the API"),
        "{output:?}"
    );

    // --token over API_TOKEN, API_TOKEN over API_TOKEN_FILE, which is over
    // $SHARED_DIR/secrets/api-token.
    std::fs::write(secrets.join("api-token"), "wrong-in-shared\n").unwrap();
    std::fs::write(&token_file, "wrong-in-file\n").unwrap();
    let file = token_file.to_str().unwrap();
    let wins = [
        (
            vec![("API_URL", url), ("API_TOKEN", "wrong-in-env")],
            vec!["--token", TOKEN],
        ),
        (
            vec![
                ("API_URL", url),
                ("API_TOKEN", TOKEN),
                ("API_TOKEN_FILE", file),
            ],
            vec![],
        ),
    ];
    for (env, args) in wins {
        let output = backup_jobs(&env, &args);
        assert!(output.status.success(), "{env:?} {args:?}: {output:?}");
    }
    std::fs::write(&token_file, format!("{TOKEN}\n")).unwrap();
    let output = backup_jobs(&[("API_URL", url), ("API_TOKEN_FILE", file)], &[]);
    assert!(output.status.success(), "API_TOKEN_FILE: {output:?}");
    let output = backup_jobs(&[("API_URL", url)], &[]);
    assert!(
        String::from_utf8_lossy(&output.stderr).contains("403 forbidden"),
        "the shared file's wrong token was not the one sent: {output:?}"
    );
    std::fs::write(secrets.join("api-token"), format!("{TOKEN}\n")).unwrap();
    let output = backup_jobs(&[("API_URL", url)], &[]);
    assert!(output.status.success(), "the shared file: {output:?}");
    // The token never shows, not even when it is refused.
    let output = backup_jobs(&[("API_URL", url)], &["--token", "wrong-and-secret"]);
    let printed = format!("{output:?}");
    assert!(!printed.contains("wrong-and-secret"), "{printed}");
}

#[test]
fn an_empty_input_is_an_error_and_sends_nothing() {
    let server = Cli::start(Engine::Sqlite, references);
    let dir = tempfile::tempdir().unwrap();
    let empty = dir.path().join("jobs.csv");
    std::fs::write(&empty, "").unwrap();

    server
        .client()
        .args(["add-records", "jobs"])
        .arg(&empty)
        .assert()
        .failure()
        .code(1)
        .stderr(predicate::str::contains("holds no rows: nothing was sent"));
    server
        .client()
        .args(["add-records", "jobs", "-"])
        .write_stdin("")
        .current_dir(dir.path())
        .assert()
        .failure()
        .code(1)
        .stderr(predicate::str::contains(
            "standard input holds no rows: nothing was sent",
        ));
    assert_eq!(server.api_json("/api/v1/tables")["tables"][1]["rows"], 2);
    assert!(!dir.path().join("jobs.csv.rejects.jsonl").exists());
    assert!(!dir.path().join("jobs.rejects.jsonl").exists());
}

#[test]
fn one_row_is_one_row() {
    let server = Cli::start(Engine::Sqlite, references);
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("jobs.csv");
    std::fs::write(&file, "7,Tester\n").unwrap();

    server
        .client()
        .args(["add-records", "jobs"])
        .arg(&file)
        .assert()
        .success()
        .stdout(predicate::str::contains(
            "jobs: 1 row read, 1 inserted, 0 already stored, 0 rejected",
        ))
        .stderr(predicate::str::contains("batch 1: 1 row,"));
}

#[test]
fn an_unwritable_rejects_path_stops_the_run_before_anything_is_sent() {
    let server = Cli::start(Engine::Sqlite, references);
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("jobs.csv");
    std::fs::write(&file, "7,Tester\n8,\n").unwrap();
    let nowhere = dir.path().join("no-such-folder/rejects.jsonl");

    server
        .client()
        .args(["add-records", "jobs"])
        .arg(&file)
        .arg("--rejects")
        .arg(&nowhere)
        .assert()
        .failure()
        .code(1)
        .stderr(predicate::str::contains(format!(
            "cannot create {}",
            nowhere.display()
        )));
    assert_eq!(server.api_json("/api/v1/tables")["tables"][1]["rows"], 2);
    assert_eq!(
        server.api_json("/api/v1/rejects")["rejects"],
        serde_json::json!([])
    );

    // A run with no reject leaves no rejects file, not even an old one.
    std::fs::write(&file, "7,Tester\n").unwrap();
    let old = dir.path().join("jobs.csv.rejects.jsonl");
    std::fs::write(&old, "{\"from\":\"an earlier run\"}\n").unwrap();
    server
        .client()
        .args(["add-records", "jobs"])
        .arg(&file)
        .assert()
        .success();
    assert!(!old.exists());
}

#[test]
fn a_reader_that_stops_early_is_not_a_failure() {
    // `client man | head`, and the same for a completion script: the reader
    // is gone before the client writes (closed at once, while the client
    // is still starting).
    for args in [&["man"][..], &["completions", "bash"]] {
        let mut child = std::process::Command::new(assert_cmd::cargo::cargo_bin("client"))
            .env_clear()
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        drop(child.stdout.take());
        let output = child.wait_with_output().unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(output.status.success(), "{args:?}: {stderr}");
        assert!(stderr.is_empty(), "{args:?}: {stderr}");
    }
}

#[test]
fn a_row_that_is_not_utf8_is_recorded_by_the_api_and_given_back_exactly() {
    let server = Cli::start(Engine::Sqlite, references);
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("jobs.csv");
    // A Latin-1 "Café" between two good rows.
    std::fs::write(&file, b"7,Tester\n8,Caf\xe9\n9,Ops\n").unwrap();

    server
        .client()
        .args(["add-records", "jobs"])
        .arg(&file)
        .assert()
        .success()
        .stdout(predicate::str::contains(
            "jobs: 3 rows read, 2 inserted, 0 already stored, 1 rejected",
        ));

    let line: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(dir.path().join("jobs.csv.rejects.jsonl")).unwrap(),
    )
    .unwrap();
    assert_eq!(line["code"], "invalid_encoding");
    assert_eq!(line["line"], 2);
    assert_eq!(line["id"], 8);
    assert_eq!(line["raw"], "8,Caf\u{fffd}");
    assert_eq!(line["raw_base64"], "OCxDYWbp");
    let rejects = server.api_json("/api/v1/rejects");
    assert_eq!(rejects["rejects"][0]["raw_base64"], "OCxDYWbp", "{rejects}");
    let csv = server
        .client()
        .args(["rejects", "--format", "csv"])
        .output()
        .unwrap();
    assert!(csv.status.success());
    assert_eq!(csv.stdout, b"8,Caf\xe9\n");
    server
        .client()
        .args(["rejects"])
        .assert()
        .success()
        .stdout(predicate::str::contains("invalid_encoding"));
}

#[test]
fn a_run_that_fails_leaves_an_earlier_rejects_file_as_it_was() {
    let server = Cli::start(Engine::Sqlite, references);
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("jobs.csv");
    std::fs::write(&file, "7,Tester\n8,\n").unwrap();
    let old = dir.path().join("jobs.csv.rejects.jsonl");
    std::fs::write(&old, "{\"from\":\"an earlier run\"}\n").unwrap();

    server
        .client()
        .env("API_TOKEN", "wrong")
        .args(["add-records", "jobs"])
        .arg(&file)
        .assert()
        .failure()
        .stderr(predicate::str::contains("403 forbidden"));

    assert_eq!(
        std::fs::read_to_string(&old).unwrap(),
        "{\"from\":\"an earlier run\"}\n"
    );
    // Nothing else is left beside it (no temp file).
    let names: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(names.len(), 2, "{names:?}");
}
