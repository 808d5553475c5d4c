//! End-to-end: the real `client` binary against the real API on port 0.

use api::config::{Config, LogFormat, Secret};
use api::startup::Application;
use assert_cmd::Command;
use predicates::prelude::*;
use std::path::Path;
use tempfile::TempDir;

const TOKEN: &str = "cli-token";

struct Server {
    url: String,
    shared: TempDir,
    _data: TempDir,
    _db: TempDir,
    /// The MariaDB database to drop afterwards: (server URL, name).
    mariadb: Option<(String, String)>,
    runtime: tokio::runtime::Runtime,
}

/// Starts the API on SQLite with the given historical files.
fn server(write_data: impl FnOnce(&Path)) -> Server {
    server_with(false, 0, write_data)
}

/// Starts the API on SQLite or on a fresh MariaDB database (the user
/// `scripts/ensure-mariadb.sh` makes), on `port` (0: any).
fn server_with(mariadb: bool, port: u16, write_data: impl FnOnce(&Path)) -> Server {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let (db, data, shared) = (
        tempfile::tempdir().unwrap(),
        tempfile::tempdir().unwrap(),
        tempfile::tempdir().unwrap(),
    );
    write_data(data.path());
    let (database_url, mariadb) = if mariadb {
        let server = std::env::var("TEST_MYSQL_URL")
            .unwrap_or_else(|_| "mysql://hiring_test:hiring_test@127.0.0.1:3306".to_owned());
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos();
        let name = format!("c_{}_{nanos}", std::process::id());
        runtime.block_on(async {
            sqlx::any::install_default_drivers();
            let mut conn = <sqlx::AnyConnection as sqlx::Connection>::connect(&server)
                .await
                .expect("MariaDB is up (scripts/ensure-mariadb.sh)");
            let create =
                format!("CREATE DATABASE {name} CHARACTER SET utf8mb4 COLLATE utf8mb4_bin");
            sqlx::raw_sql(sqlx::AssertSqlSafe(create))
                .execute(&mut conn)
                .await
                .unwrap();
        });
        (format!("{server}/{name}"), Some((server, name)))
    } else {
        let file = db.path().join("t.db");
        (format!("sqlite://{}?mode=rwc", file.display()), None)
    };
    let config = Config {
        database_url: Some(Secret::new(database_url)),
        api_addr: format!("127.0.0.1:{port}").parse().unwrap(),
        data_dir: data.path().to_owned(),
        shared_dir: shared.path().to_owned(),
        api_token: Some(Secret::new(TOKEN)),
        reads_need_token: false,
        database_url_file: None,
        api_token_file: None,
        healthcheck: false,
        log_format: LogFormat::Text,
        max_body_bytes: 8 * 1024 * 1024,
    };
    let app = runtime.block_on(Application::build(config)).unwrap();
    let url = format!("http://127.0.0.1:{}", app.port());
    runtime.spawn(app.run_until(std::future::pending()));
    runtime.block_on(async {
        let ready = format!("{url}/ready");
        for _ in 0..6000 {
            match reqwest::get(&ready).await {
                Ok(response) if response.status().is_success() => return,
                _ => tokio::time::sleep(std::time::Duration::from_millis(20)).await,
            }
        }
        panic!("the API was not ready after two minutes");
    });
    Server {
        url,
        shared,
        _data: data,
        _db: db,
        mariadb,
        runtime,
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some((server, name)) = self.mariadb.take() {
            self.runtime.block_on(async {
                if let Ok(mut conn) =
                    <sqlx::AnyConnection as sqlx::Connection>::connect(&server).await
                {
                    let drop = format!("DROP DATABASE IF EXISTS {name}");
                    let _ = sqlx::raw_sql(sqlx::AssertSqlSafe(drop))
                        .execute(&mut conn)
                        .await;
                }
            });
        }
    }
}

fn references(dir: &Path) {
    std::fs::write(dir.join("departments.csv"), "1,Sales\n2,Ops\n3,R&D\n").unwrap();
    std::fs::write(dir.join("jobs.csv"), "1,Dev\n2,Manager\n").unwrap();
}

impl Server {
    fn client(&self) -> Command {
        let mut command = Command::cargo_bin("client").unwrap();
        command
            .env_clear()
            .env("API_URL", &self.url)
            .env("API_TOKEN", TOKEN)
            .env("SHARED_DIR", self.shared.path());
        command
    }

    fn api_json(&self, path: &str) -> serde_json::Value {
        let url = format!("{}{path}", self.url);
        self.runtime
            .block_on(async { reqwest::get(url).await.unwrap().json().await.unwrap() })
    }
}

#[test]
fn add_records_sends_2500_rows_in_three_batches_and_writes_the_rejects() {
    sends_2500_rows(false);
}

#[test]
fn add_records_sends_2500_rows_in_three_batches_and_writes_the_rejects_on_mariadb() {
    sends_2500_rows(true);
}

fn sends_2500_rows(mariadb: bool) {
    let server = server_with(mariadb, 0, references);
    let dir = tempfile::tempdir().unwrap();
    let csv: String = (1..=2500)
        .map(|i| match i % 250 {
            0 => format!("{i},,2021-01-01T00:00:00Z,1,1\n"),
            1 => format!("{i},Bad Date {i},yesterday,1,1\n"),
            _ => format!(
                "{i},\"Person, {i}\",2021-0{}-01T00:00:00Z,{},{}\n",
                1 + i % 9,
                1 + i % 3,
                1 + i % 2
            ),
        })
        .collect();
    let file = dir.path().join("employees.csv");
    std::fs::write(&file, csv).unwrap();

    server
        .client()
        .args(["add-records", "employees"])
        .arg(&file)
        .assert()
        .success()
        .stdout(predicate::str::contains(
            "employees: 2500 rows read, 2480 inserted, 20 rejected",
        ))
        .stderr(predicate::str::contains("batch 3: 500 rows"));

    let rejects = std::fs::read_to_string(dir.path().join("employees.csv.rejects.jsonl")).unwrap();
    let lines: Vec<serde_json::Value> = rejects
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 20);
    assert_eq!(lines[0]["line"], 1);
    assert_eq!(lines[0]["code"], "invalid_datetime");
    assert_eq!(lines[1]["line"], 250);
    assert_eq!(lines[1]["code"], "missing_field");
    assert_eq!(lines[1]["raw"], "250,,2021-01-01T00:00:00Z,1,1");
    assert_eq!(server.api_json("/api/v1/tables")["tables"][2]["rows"], 2480);

    // Sending the same file again stores nothing twice.
    server
        .client()
        .args(["add-records", "employees", "--quiet"])
        .arg(&file)
        .assert()
        .success()
        .stdout(predicate::str::contains("0 inserted, 2500 rejected"));
    assert_eq!(server.api_json("/api/v1/tables")["tables"][2]["rows"], 2480);
}

#[test]
fn add_records_reads_the_shared_incoming_folder_and_standard_input() {
    let server = server(|_| {});
    std::fs::create_dir_all(server.shared.path().join("incoming")).unwrap();
    std::fs::write(
        server.shared.path().join("incoming/jobs.csv"),
        "1,Dev\n2,Ops\n",
    )
    .unwrap();

    server
        .client()
        .args(["add-records", "jobs"])
        .assert()
        .success()
        .stdout(predicate::str::contains("2 inserted"));
    server
        .client()
        .args(["add-records", "jobs", "-"])
        .write_stdin("3,QA\r\n4,\"Ops, Night\"")
        .current_dir(server.shared.path())
        .assert()
        .success()
        .stdout(predicate::str::contains("2 inserted, 0 rejected"));
    assert_eq!(
        server.api_json("/api/v1/tables/jobs/rows/4")["job_name"],
        "Ops, Night"
    );
}

#[test]
fn reports_print_what_the_api_computes() {
    let server = server(|dir| {
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
    let server = server(references);

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
        .current_dir(server.shared.path())
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
        .stdout(predicate::str::contains("2 rows (it had 3)"));
    server
        .client()
        .args(["restore", "jobs", "--yes", "--backup", "../../etc/passwd"])
        .assert()
        .failure()
        .stderr(predicate::str::contains("invalid_backup_name"));
}

#[test]
fn failures_are_one_line_with_a_non_zero_exit() {
    let server = server(references);
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

#[test]
fn help_text_is_stable() {
    let output = Command::cargo_bin("client")
        .unwrap()
        .env_clear()
        .arg("--help")
        .output()
        .unwrap();
    insta::assert_snapshot!("help", String::from_utf8(output.stdout).unwrap());
}

#[test]
fn add_records_retries_while_the_api_is_not_up_yet() {
    let port = {
        let probe = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        probe.local_addr().unwrap().port()
    };
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("jobs.csv");
    std::fs::write(&file, "1,Dev\n2,Ops\n").unwrap();
    let mut client = Command::cargo_bin("client").unwrap();
    client
        .env_clear()
        .env("API_URL", format!("http://127.0.0.1:{port}"))
        .env("API_TOKEN", TOKEN)
        .args(["add-records", "jobs"])
        .arg(&file);
    let running = std::thread::spawn(move || client.assert());

    // The first attempt fails to connect; the server is up before the retries run out.
    std::thread::sleep(std::time::Duration::from_millis(1500));
    let server = server_with(false, port, |_| {});

    running
        .join()
        .unwrap()
        .success()
        .stdout(predicate::str::contains("2 inserted, 0 rejected"))
        .stderr(predicate::str::contains("retrying"));
    assert_eq!(server.api_json("/api/v1/tables")["tables"][1]["rows"], 2);
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
        let assert = Command::cargo_bin("client")
            .unwrap()
            .env_clear()
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
        r#"{"table":"jobs","received":2,"inserted":2,"rejected":0,"errors":[]}"#,
    );
    let dir = tempfile::tempdir().unwrap();
    Command::cargo_bin("client")
        .unwrap()
        .env_clear()
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
                .and(predicate::str::contains("1 rows sent")),
        );
}

#[test]
fn an_error_answer_of_another_shape_still_gives_its_status() {
    let url = fake_api(502, "Bad Gateway");
    Command::cargo_bin("client")
        .unwrap()
        .env_clear()
        .env("API_URL", url)
        .arg("tables")
        .assert()
        .failure()
        .code(1)
        .stderr(predicate::str::contains("502").and(predicate::str::contains("Bad Gateway")));
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
        Command::cargo_bin("client")
            .unwrap()
            .env_clear()
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
fn every_command_that_prints_data_prints_json_and_csv_too() {
    let server = server(|dir| {
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
            .current_dir(server.shared.path());
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
        serde_json::json!({"table": "jobs", "read": 1, "inserted": 1, "rejected": 0, "rejects_file": null})
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
    assert_eq!(lines[0], "name,table,rows,bytes,sha256,codec,created_at");
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
    let server = server(references);
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
        .stdout("name,table,rows,bytes,sha256,codec,created_at\n");
}
