//! The service on a real three-node MariaDB Galera cluster (started by
//! `scripts/galera.sh`, on loopback ports 3311-3313, HAProxy on 3310), in
//! both topologies: replicas on different nodes (multi-writer), and every
//! replica through HAProxy to one node, which is killed mid-run
//! (single-writer). The tests run one at a time: some kill nodes.

mod multi_writer;
mod single_writer;

use serde_json::Value;
use std::path::Path;
use std::process::Child;
use std::time::Duration;
use tempfile::TempDir;
use test_support::{Engine, TOKEN, TestDb, api_command, free_port, into_json, wait_ready};
use tokio::sync::{Mutex, MutexGuard};

/// The `api` binary this test build made.
const API_BIN: &str = env!("CARGO_BIN_EXE_api");

/// One test at a time on the cluster, in this process...
static CLUSTER: Mutex<()> = Mutex::const_new(());

/// ...and in any other (a second checkout's tests: they kill nodes too).
const CLUSTER_LOCK: &str = "/tmp/hiring-galera-tests.lock";

/// The cluster's turn: held until dropped.
struct Turn {
    _here: MutexGuard<'static, ()>,
    _anywhere: std::fs::File,
}

/// The cluster's turn, with every node up and synced.
async fn cluster() -> Turn {
    let here = CLUSTER.lock().await;
    let anywhere = tokio::task::spawn_blocking(|| {
        let file = std::fs::File::create(CLUSTER_LOCK).unwrap();
        file.lock().unwrap();
        file
    })
    .await
    .unwrap();
    galera(&["up"]);
    Turn {
        _here: here,
        _anywhere: anywhere,
    }
}

/// Runs `scripts/galera.sh` with `args`; panics when it fails.
fn galera(args: &[&str]) {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../scripts/galera.sh");
    let status = std::process::Command::new(script)
        .args(args)
        .stdout(std::process::Stdio::null())
        .status()
        .unwrap();
    assert!(status.success(), "scripts/galera.sh {args:?} failed");
}

/// One API process and its address; killed when dropped.
struct Replica {
    child: Child,
    base: String,
}

impl Drop for Replica {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Replica {
    /// Starts an API process on `db_url` and the given folders.
    fn start(db_url: &str, data: &Path, shared: &Path) -> Replica {
        let port = free_port();
        let child = api_command(API_BIN, db_url, port, data, shared)
            .spawn()
            .unwrap();
        Replica {
            child,
            base: format!("http://127.0.0.1:{port}"),
        }
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }
}

/// A fresh database on the cluster, and data and shared folders.
async fn database_and_folders() -> (TestDb, TempDir, TempDir) {
    let db = TestDb::create(Engine::Galera).await;
    (
        db,
        tempfile::tempdir().unwrap(),
        tempfile::tempdir().unwrap(),
    )
}

async fn all_ready(http: &reqwest::Client, replicas: &[Replica]) {
    for replica in replicas {
        wait_ready(http, &replica.base, Duration::from_secs(120)).await;
    }
}

/// `POST` with the token, of a JSON body or none.
async fn post(http: &reqwest::Client, url: String, body: Option<Value>) -> (u16, Value) {
    let request = http.post(url).bearer_auth(TOKEN);
    let request = match body {
        Some(body) => request.json(&body),
        None => request,
    };
    into_json(request.send().await.unwrap()).await
}

/// `POST` of CSV rows to `table`, with the token and an `Idempotency-Key`.
async fn post_csv(
    http: &reqwest::Client,
    replica: &Replica,
    table: &str,
    rows: &str,
    key: Option<&str>,
) -> Result<(u16, Value), reqwest::Error> {
    let mut request = http
        .post(replica.url(&format!("/api/v1/tables/{table}/rows")))
        .bearer_auth(TOKEN)
        .header("content-type", "text/csv")
        .body(rows.to_owned());
    if let Some(key) = key {
        request = request.header("idempotency-key", key);
    }
    Ok(into_json(request.send().await?).await)
}

/// One number from each node's copy of the test database, by `sql`, read
/// once the node has applied every commit acknowledged before.
async fn on_every_node(db: &TestDb, sql: &'static str) -> Vec<i64> {
    on_every_node_but(db, 0, sql).await
}

/// As [`on_every_node`], on every node but `skip` (0: skip none).
async fn on_every_node_but(db: &TestDb, skip: usize, sql: &'static str) -> Vec<i64> {
    use sqlx::Connection;
    sqlx::any::install_default_drivers();
    let mut values = Vec::new();
    for node in (1..=3).filter(|node| *node != skip) {
        let mut conn = sqlx::AnyConnection::connect(&db.node_url(node))
            .await
            .unwrap();
        sqlx::raw_sql("SET SESSION wsrep_sync_wait = 1")
            .execute(&mut conn)
            .await
            .unwrap();
        values.push(sqlx::query_scalar(sql).fetch_one(&mut conn).await.unwrap());
        conn.close().await.unwrap();
    }
    values
}

/// The historical files of departments and jobs that [`employees`] rows
/// reference: departments 1 and 2, job 1.
fn references(data: &Path) {
    std::fs::write(data.join("departments.csv"), "1,Sales\n2,Ops\n").unwrap();
    std::fs::write(data.join("jobs.csv"), "1,Dev\n").unwrap();
}

/// Employees `ids` as CSV, in departments 1 and 2 and job 1.
fn employees(ids: std::ops::Range<i64>) -> String {
    ids.map(|id| format!("{id},E{id},2021-01-01T00:00:00Z,{},1\n", 1 + id % 2))
        .collect()
}
