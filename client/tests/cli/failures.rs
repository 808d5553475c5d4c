//! Failures: one clear line and a non-zero exit, whether the user, the
//! network or an API of another shape is at fault.

use crate::{Cli, client, references};
use predicates::prelude::*;
use test_support::{Engine, TOKEN};

#[test]
fn failures_are_one_line_with_a_non_zero_exit() {
    let server = Cli::start(Engine::Sqlite, references);
    // (arguments, environment overrides, what the error says)
    type Case<'a> = (Vec<&'a str>, Vec<(&'a str, &'a str)>, &'a str);
    let cases: Vec<Case> = vec![
        (
            vec!["tables"],
            vec![("API_URL", "http://127.0.0.1:1")],
            "cannot reach the API",
        ),
        (
            vec!["backup", "jobs"],
            vec![("API_TOKEN", "wrong")],
            "403 forbidden",
        ),
        (
            vec!["add-records", "jobs", "/nonexistent/jobs.csv"],
            vec![],
            "cannot open /nonexistent/jobs.csv",
        ),
        (vec!["get", "jobs", "99"], vec![], "404 not_found"),
        (
            vec!["req1", "--year", "1800"],
            vec![],
            "400 invalid_parameter",
        ),
        (
            vec!["restore", "employees", "--yes"],
            vec![],
            "backup_not_found",
        ),
    ];
    for (args, env, message) in cases {
        let mut command = server.client();
        for (key, value) in env {
            command.env(key, value);
        }
        let assert = command
            .args(&args)
            .assert()
            .failure()
            .code(1)
            .stderr(predicate::str::contains(message));
        let stderr = String::from_utf8_lossy(&assert.get_output().stderr).into_owned();
        assert!(stderr.lines().count() <= 2, "{args:?}: {stderr}");
        assert!(!stderr.contains("panicked"), "{stderr}");
    }
    server
        .client()
        .args(["get", "robots", "1"])
        .assert()
        .failure()
        .code(2)
        .stderr(predicate::str::contains("invalid value 'robots'"));
    let mut no_token = server.client();
    no_token.env_remove("API_TOKEN");
    no_token
        .args(["backup", "jobs"])
        .assert()
        .failure()
        .stderr(predicate::str::contains("needs the API token"));
}

/// A stand-in API that answers every request with `status` and `body`,
/// whatever was asked: an API whose answers have another shape.
fn fake_api(status: u16, body: &'static str) -> String {
    use std::io::{BufRead, BufReader, Read, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(stream) = stream else { continue };
            let mut reader = BufReader::new(stream);
            let mut length = 0;
            let mut line = String::new();
            while reader.read_line(&mut line).is_ok_and(|n| n > 0) && line != "\r\n" {
                if let Some((name, value)) = line.split_once(':')
                    && name.eq_ignore_ascii_case("content-length")
                {
                    length = value.trim().parse().unwrap();
                }
                line.clear();
            }
            let mut request_body = vec![0; length];
            let _ = reader.read_exact(&mut request_body);
            let _ = write!(
                reader.get_mut(),
                "HTTP/1.1 {status} Whatever\r\ncontent-type: application/json\r\n\
                 content-length: {}\r\nconnection: close\r\n\r\n{body}",
                body.len()
            );
        }
    });
    url
}

#[test]
fn an_answer_of_another_shape_fails_naming_the_endpoint_instead_of_printing_defaults() {
    // (arguments, what the stand-in answers, what the error names)
    let cases: [(&[&str], &str, &[&str]); 6] = [
        (
            &["get", "jobs", "1"],
            r#"{"id":1,"name":"Dev"}"#,
            &["GET /api/v1/tables/jobs/rows/1", "job_id"],
        ),
        (
            &["tables"],
            r#"{"tables":[{"table":"jobs","count":2}]}"#,
            &["GET /api/v1/tables", "`name`"],
        ),
        (
            &["add-records", "jobs", "-"],
            r#"{"table":"jobs","received":1,"added":1,"rejected":0,"errors":[]}"#,
            &["POST /api/v1/tables/jobs/rows", "`inserted`"],
        ),
        (
            &["backups", "jobs"],
            r#"{"items":[]}"#,
            &["GET /api/v1/tables/jobs/backups", "`backups`"],
        ),
        (
            &["req2"],
            r#"{"year":2021,"rows":[]}"#,
            &["GET /api/v1/reports/departments-above-mean", "`mean`"],
        ),
        (
            &["health"],
            "<html>ready</html>",
            &["GET /ready", "not JSON"],
        ),
    ];
    for (args, body, names) in cases {
        let dir = tempfile::tempdir().unwrap();
        let assert = client()
            .env("API_URL", fake_api(200, body))
            .env("API_TOKEN", TOKEN)
            .current_dir(dir.path())
            .args(args)
            .write_stdin("1,Dev\n")
            .assert()
            .failure()
            .code(1);
        let stderr = String::from_utf8_lossy(&assert.get_output().stderr).into_owned();
        for name in names {
            assert!(stderr.contains(name), "{args:?}: {stderr}");
        }
        assert_eq!(stderr.lines().count(), 1, "{args:?}: {stderr}");
    }
}

#[test]
fn an_add_records_answer_that_does_not_add_up_fails() {
    // One row sent; the answer accounts for two.
    let url = fake_api(
        200,
        r#"{"table":"jobs","received":2,"inserted":2,"already_stored":0,"rejected":0,"errors":[]}"#,
    );
    let dir = tempfile::tempdir().unwrap();
    client()
        .env("API_URL", url)
        .env("API_TOKEN", TOKEN)
        .current_dir(dir.path())
        .args(["add-records", "jobs", "-"])
        .write_stdin("1,Dev\n")
        .assert()
        .failure()
        .code(1)
        .stderr(
            predicate::str::contains("POST /api/v1/tables/jobs/rows")
                .and(predicate::str::contains("1 row sent")),
        );
}

#[test]
fn an_error_answer_of_another_shape_still_gives_its_status() {
    let url = fake_api(500, "Internal Server Error");
    client()
        .env("API_URL", url)
        .arg("tables")
        .assert()
        .failure()
        .code(1)
        .stderr(
            predicate::str::contains("500").and(predicate::str::contains("Internal Server Error")),
        );
}

#[test]
fn an_error_code_this_client_does_not_know_still_shows_with_its_message() {
    let url = fake_api(
        409,
        r#"{"code":"something_newer","message":"the API says why"}"#,
    );
    client()
        .env("API_URL", url)
        .arg("tables")
        .assert()
        .failure()
        .code(1)
        .stderr(
            predicate::str::contains("409 something_newer")
                .and(predicate::str::contains("the API says why")),
        );
}

#[test]
fn a_table_is_one_of_the_three_and_all_only_where_every_table_makes_sense() {
    let one = "[possible values: departments, jobs, employees]";
    let or_all = "[possible values: departments, jobs, employees, all]";
    let cases: [(&[&str], &str); 6] = [
        (&["get", "robots", "1"], one),
        (&["add-records", "hired_employees"], one),
        (&["backups", "all"], one),
        (&["restore", "all", "--yes"], one),
        (&["get", "all", "1"], one),
        (&["backup", "robots"], or_all),
    ];
    for (args, values) in cases {
        client()
            .env("API_URL", "http://127.0.0.1:1")
            .args(args)
            .assert()
            .failure()
            .code(2)
            .stderr(
                predicate::str::contains("invalid value").and(predicate::str::contains(values)),
            );
    }
}

#[test]
fn a_dry_run_the_api_does_not_mark_as_one_fails() {
    // An API that ignores `dry_run=true` stores the batch and says so.
    let url = fake_api(
        200,
        r#"{"table":"jobs","received":1,"inserted":1,"already_stored":0,"rejected":0,"errors":[]}"#,
    );
    let dir = tempfile::tempdir().unwrap();
    client()
        .env("API_URL", url)
        .env("API_TOKEN", TOKEN)
        .current_dir(dir.path())
        .args(["add-records", "jobs", "-", "--dry-run"])
        .write_stdin("1,Dev\n")
        .assert()
        .failure()
        .code(1)
        .stderr(predicate::str::contains(
            "did not treat POST /api/v1/tables/jobs/rows?dry_run=true as a dry run",
        ));
}

/// A load balancer in front of several replicas answers 502 when the replica
/// it chose dies mid-request: the batch is sent again, under the same
/// `Idempotency-Key`, and the second answer counts.
#[test]
fn add_records_resends_a_batch_a_load_balancer_answered_502_under_the_same_key() {
    use std::io::{BufRead, BufReader, Read, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let keys = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let seen = keys.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(stream) = stream else { continue };
            let mut reader = BufReader::new(stream);
            let (mut length, mut line) = (0, String::new());
            while reader.read_line(&mut line).is_ok_and(|n| n > 0) && line != "\r\n" {
                if let Some((name, value)) = line.split_once(':') {
                    if name.eq_ignore_ascii_case("content-length") {
                        length = value.trim().parse().unwrap();
                    } else if name.eq_ignore_ascii_case("idempotency-key") {
                        seen.lock().unwrap().push(value.trim().to_owned());
                    }
                }
                line.clear();
            }
            let _ = reader.read_exact(&mut vec![0; length]);
            let (status, body) = if seen.lock().unwrap().len() == 1 {
                (
                    "502 Bad Gateway",
                    "<html><body><h1>502 Bad Gateway</h1></body></html>",
                )
            } else {
                (
                    "200 OK",
                    r#"{"table":"jobs","received":2,"inserted":2,"already_stored":0,"rejected":0,"errors":[]}"#,
                )
            };
            let _ = write!(
                reader.get_mut(),
                "HTTP/1.1 {status}\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                body.len()
            );
        }
    });
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("jobs.csv");
    std::fs::write(&file, "1,Dev\n2,Ops\n").unwrap();
    client()
        .env("API_URL", &url)
        .env("API_TOKEN", TOKEN)
        .args(["add-records", "jobs"])
        .arg(&file)
        .assert()
        .success()
        .stdout(predicate::str::contains(
            "2 inserted, 0 already stored, 0 rejected",
        ))
        .stderr(predicate::str::contains("retrying"));
    let keys = keys.lock().unwrap();
    assert_eq!(keys.len(), 2, "{keys:?}");
    assert_eq!(
        keys[0], keys[1],
        "the resend carries the first attempt's key"
    );
}
