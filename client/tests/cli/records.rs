//! add-records: batches, rejects, sources, retries.

use crate::{Cli, client, references};
use predicates::prelude::*;
use test_support::{Engine, TOKEN};

#[test]
fn add_records_sends_2500_rows_in_three_batches_and_writes_the_rejects() {
    sends_2500_rows(Engine::Sqlite);
}

#[test]
fn add_records_sends_2500_rows_in_three_batches_and_writes_the_rejects_on_mariadb() {
    sends_2500_rows(Engine::MariaDb);
}

#[test]
fn add_records_dry_run_checks_a_file_and_stores_nothing() {
    dry_run(Engine::Sqlite);
}

#[test]
fn add_records_dry_run_checks_a_file_and_stores_nothing_on_mariadb() {
    dry_run(Engine::MariaDb);
}

fn dry_run(engine: Engine) {
    let server = Cli::start(engine, references);
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("employees.csv");
    let csv: String = (1..=1500)
        .map(|i| match i {
            7 => format!("{i},Nowhere,2021-01-01T00:00:00Z,9,1\n"),
            1200 => format!("{i},,2021-01-01T00:00:00Z,1,1\n"),
            _ => format!("{i},Person {i},2021-01-01T00:00:00Z,1,1\n"),
        })
        .collect();
    std::fs::write(&file, csv).unwrap();

    server
        .client()
        .args(["add-records", "employees", "--dry-run"])
        .arg(&file)
        .assert()
        .success()
        .stdout(predicate::str::contains(
            "employees: dry run, nothing stored: 1500 rows read, 1498 would be inserted, 0 already stored, 2 rejected",
        ))
        .stderr(predicate::str::contains("batch 2: 500 rows, 499 would be inserted"));

    assert!(!dir.path().join("employees.csv.rejects.jsonl").exists());
    let rejects =
        std::fs::read_to_string(dir.path().join("employees.csv.dry-run.rejects.jsonl")).unwrap();
    let codes: Vec<(i64, String)> = rejects
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
        .map(|r| {
            (
                r["line"].as_i64().unwrap(),
                r["code"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert_eq!(
        codes,
        [
            (7, "unknown_department".to_owned()),
            (1200, "missing_field".to_owned())
        ]
    );
    assert_eq!(server.api_json("/api/v1/tables")["tables"][2]["rows"], 0);
    assert_eq!(
        server.api_json("/api/v1/rejects")["rejects"],
        serde_json::json!([])
    );
}

fn sends_2500_rows(engine: Engine) {
    let server = Cli::start(engine, references);
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
            "employees: 2500 rows read, 2480 inserted, 0 already stored, 20 rejected",
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
        .stdout(predicate::str::contains(
            "0 inserted, 2480 already stored, 20 rejected",
        ));
    assert_eq!(server.api_json("/api/v1/tables")["tables"][2]["rows"], 2480);
}

#[test]
fn add_records_reads_the_shared_incoming_folder_and_standard_input() {
    let server = Cli::start(Engine::Sqlite, |_| {});
    std::fs::create_dir_all(server.shared_dir().join("incoming")).unwrap();
    std::fs::write(
        server.shared_dir().join("incoming/jobs.csv"),
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
        .current_dir(server.shared_dir())
        .assert()
        .success()
        .stdout(predicate::str::contains(
            "2 inserted, 0 already stored, 0 rejected",
        ));
    assert_eq!(
        server.api_json("/api/v1/tables/jobs/rows/4")["job_name"],
        "Ops, Night"
    );
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
    let mut client = client();
    client
        .env("API_URL", format!("http://127.0.0.1:{port}"))
        .env("API_TOKEN", TOKEN)
        .args(["add-records", "jobs"])
        .arg(&file);
    let running = std::thread::spawn(move || client.assert());

    // The first attempt fails to connect; the server is up before the retries run out.
    std::thread::sleep(std::time::Duration::from_millis(1500));
    let server = Cli::start_on(port, |_| {});

    running
        .join()
        .unwrap()
        .success()
        .stdout(predicate::str::contains(
            "2 inserted, 0 already stored, 0 rejected",
        ))
        .stderr(predicate::str::contains("retrying"));
    assert_eq!(server.api_json("/api/v1/tables")["tables"][1]["rows"], 2);
}
