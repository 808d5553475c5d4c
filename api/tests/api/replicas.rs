//! Several real API processes on one MariaDB database and one shared
//! folder, as a user who outgrows one process runs them: every guarantee
//! holds across processes. And on SQLite, a second process is refused.

use serde_json::Value;
use std::path::Path;
use std::process::Child;
use std::time::Duration;
use tempfile::TempDir;
use test_support::{Engine, TOKEN, TestDb, api_command, free_port, into_json, wait_ready};

/// One API process and its address.
pub(crate) struct Replica {
    pub(crate) child: Child,
    pub(crate) base: String,
}

impl Drop for Replica {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts `n` API processes on `db`, `data` and `shared`, all at once.
pub(crate) fn start_replicas(n: usize, db: &TestDb, data: &Path, shared: &Path) -> Vec<Replica> {
    (0..n)
        .map(|_| {
            let port = free_port();
            let child = api_command(crate::API_BIN, &db.url, port, data, shared)
                .spawn()
                .unwrap();
            Replica {
                child,
                base: format!("http://127.0.0.1:{port}"),
            }
        })
        .collect()
}

/// A fresh MariaDB database, and data and shared folders whose historical
/// files hold `departments` and job 1.
pub(crate) async fn mariadb_and_folders(departments: &str) -> (TestDb, TempDir, TempDir) {
    let db = TestDb::create(Engine::MariaDb).await;
    let (data, shared) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    std::fs::write(data.path().join("departments.csv"), departments).unwrap();
    std::fs::write(data.path().join("jobs.csv"), "1,Dev\n").unwrap();
    (db, data, shared)
}

pub(crate) async fn all_ready(http: &reqwest::Client, replicas: &[Replica]) {
    for replica in replicas {
        wait_ready(http, &replica.base, Duration::from_secs(120)).await;
    }
}

pub(crate) async fn post(http: &reqwest::Client, url: String, body: Option<Value>) -> (u16, Value) {
    let request = http.post(url).bearer_auth(TOKEN);
    let request = match body {
        Some(body) => request.json(&body),
        None => request,
    };
    into_json(request.send().await.unwrap()).await
}

pub(crate) async fn query_pairs(db: &TestDb, sql: &'static str) -> Vec<(i64, String)> {
    let pool = db.pool().await;
    let rows = sqlx::query_as(sql).fetch_all(&pool).await.unwrap();
    pool.close().await;
    rows
}

/// No restore's staging or replaced table is left in the database.
pub(crate) async fn assert_no_staging_left(db: &TestDb) {
    let staging = db.staging_tables().await;
    assert!(staging.is_empty(), "{staging:?}");
}

pub(crate) async fn sqlx_exec(db: &TestDb, sql: &'static str) {
    let pool = db.pool().await;
    sqlx::query(sql).execute(&pool).await.unwrap();
    pool.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_replicas_starting_together_load_each_file_once_and_record_each_bad_row_once() {
    let (db, data, shared) = mariadb_and_folders("1,Sales\n2,Ops\nx,Bad\n").await;
    let employees: String = (1..=5000)
        .map(|id| {
            let department = if id % 500 == 0 { 9 } else { 1 + id % 2 };
            format!("{id},Person {id},2021-01-01T00:00:00Z,{department},1\n")
        })
        .collect();
    std::fs::write(data.path().join("employees.csv"), employees).unwrap();

    let replicas = start_replicas(3, &db, data.path(), shared.path());
    let http = reqwest::Client::new();
    all_ready(&http, &replicas).await;

    let counts = query_pairs(
        &db,
        "SELECT COUNT(*), 'departments' FROM departments UNION ALL \
         SELECT COUNT(*), 'employees' FROM employees UNION ALL \
         SELECT COUNT(*), 'loads' FROM historical_loads",
    )
    .await;
    let counts: Vec<i64> = counts.into_iter().map(|(n, _)| n).collect();
    assert_eq!(counts, [2, 4990, 3]);
    let rejects = query_pairs(
        &db,
        "SELECT line, code FROM rejects ORDER BY table_name, line",
    )
    .await;
    let mut expected = vec![(3, "invalid_integer".to_owned())];
    expected.extend(
        (500..=5000)
            .step_by(500)
            .map(|line| (line, "unknown_department".to_owned())),
    );
    assert_eq!(rejects, expected, "each bad row recorded exactly once");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_process_on_one_sqlite_file_is_refused_with_a_clear_message() {
    let db = TestDb::create(Engine::Sqlite).await;
    let (data, shared) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let first = start_replicas(1, &db, data.path(), shared.path());
    let http = reqwest::Client::new();
    all_ready(&http, &first).await;

    let second = api_command(
        crate::API_BIN,
        &db.url,
        free_port(),
        data.path(),
        shared.path(),
    )
    .stderr(std::process::Stdio::piped())
    .output()
    .unwrap();

    assert!(!second.status.success());
    let stderr = String::from_utf8_lossy(&second.stderr);
    assert!(
        stderr.contains("another API process already uses the SQLite database"),
        "{stderr}"
    );
    // The first one goes on serving.
    wait_ready(&http, &first[0].base, Duration::from_secs(5)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_replica_killed_mid_load_hands_the_load_to_the_one_waiting() {
    const EMPLOYEES: i64 = 60_000;
    let (db, data, shared) = mariadb_and_folders("1,Sales\n2,Ops\n").await;
    let employees: String = (1..=EMPLOYEES)
        .map(|id| {
            // Every 1000th row references a missing department.
            let department = if id % 1000 == 0 { 9 } else { 1 + id % 2 };
            format!("{id},Person {id},2021-01-01T00:00:00Z,{department},1\n")
        })
        .collect();
    std::fs::write(data.path().join("employees.csv"), employees).unwrap();

    let mut first = start_replicas(1, &db, data.path(), shared.path());
    // Once the first has committed part of the file, a second starts (and
    // waits for the load lock), and the first is killed.
    let mut loading = false;
    let pool = db.pool().await;
    for _ in 0..2000 {
        // An error is a table that migrations have not made yet.
        let progress: Option<(i64, String)> = sqlx::query_as(
            "SELECT rows_read, COALESCE(completed_at, '') FROM historical_loads \
             WHERE table_name = 'employees'",
        )
        .fetch_optional(&pool)
        .await
        .unwrap_or_default();
        if let Some((read, completed)) = &progress {
            assert!(completed.is_empty(), "the load finished before the kill");
            if *read > 0 {
                loading = true;
                break;
            }
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    pool.close().await;
    assert!(loading, "the load never started");
    let second = start_replicas(1, &db, data.path(), shared.path());
    first[0].child.kill().unwrap();
    first[0].child.wait().unwrap();
    first.clear();

    let http = reqwest::Client::new();
    all_ready(&http, &second).await;
    let stored = query_pairs(
        &db,
        "SELECT COUNT(DISTINCT employee_id), 'n' FROM employees",
    )
    .await;
    assert_eq!(stored[0].0, EMPLOYEES - EMPLOYEES / 1000);
    let rejects = query_pairs(&db, "SELECT line, code FROM rejects ORDER BY line").await;
    let lines: Vec<i64> = rejects.iter().map(|(line, _)| *line).collect();
    let expected: Vec<i64> = (1..=EMPLOYEES).filter(|id| id % 1000 == 0).collect();
    assert_eq!(lines, expected, "each bad row recorded exactly once");
    let loads = query_pairs(
        &db,
        "SELECT rows_read, COALESCE(completed_at, '') FROM historical_loads \
         WHERE table_name = 'employees'",
    )
    .await;
    assert_eq!(loads.len(), 1);
    assert_eq!(loads[0].0, EMPLOYEES);
    assert!(
        !loads[0].1.is_empty(),
        "the load is not recorded as complete"
    );
}
