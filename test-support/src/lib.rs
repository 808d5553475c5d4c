//! The harness every black-box test of the workspace uses: the api tests
//! call the server directly, the client tests run the `client` binary
//! against it.
//!
//! - [`TestDb`]: a fresh database per test, on SQLite or on MariaDB (the
//!   user `scripts/ensure-mariadb.sh` makes), dropped afterwards;
//! - [`TestApp`]: the real application on port 0 over that database, with
//!   typed calls ([`Answer`]) and raw ones for tests about the wire format;
//! - [`BlockingApp`]: the same, owning its runtime, for synchronous tests;
//! - [`engine_tests!`]: each test body once per engine;
//! - [`raw`]: HTTP/1.1 by hand, for requests that misbehave on purpose.

mod app;
mod blocking;
mod calls;
mod db;
pub mod raw;

pub use app::{
    TestApp, config, into_json, spawn_app, spawn_app_with_config, spawn_app_with_data, unstarted,
    wait_ready,
};
pub use blocking::BlockingApp;
pub use calls::Answer;
pub use db::{Engine, GALERA_NODES, TestDb};

use std::path::{Path, PathBuf};

/// The write token every test server accepts.
pub const TOKEN: &str = "test-token";

/// Runs each test body once on SQLite and once on MariaDB, in modules
/// `sqlite` and `mariadb`.
#[macro_export]
macro_rules! engine_tests {
    ($(#[doc = $doc:literal])* $(async fn $name:ident($engine:ident) $body:block)*) => {
        mod sqlite {
            #[allow(unused_imports)]
            use super::*;
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    let $engine = $crate::Engine::Sqlite;
                    $body
                }
            )*
        }
        mod mariadb {
            #[allow(unused_imports)]
            use super::*;
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    let $engine = $crate::Engine::MariaDb;
                    $body
                }
            )*
        }
    };
}

/// A port nobody listens on now (released before it is returned).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// The real `api` binary (`env!("CARGO_BIN_EXE_api")` in the api's tests)
/// on `db_url` and the given folders, listening at `127.0.0.1:port`, logging
/// warnings to nowhere; callers may override.
pub fn api_command(
    binary: &str,
    db_url: &str,
    port: u16,
    data: &Path,
    shared: &Path,
) -> std::process::Command {
    let mut command = std::process::Command::new(binary);
    command
        .env("DATABASE_URL", db_url)
        .env("API_ADDR", format!("127.0.0.1:{port}"))
        .env("DATA_DIR", data)
        .env("SHARED_DIR", shared)
        .env("API_TOKEN", TOKEN)
        .env("RUST_LOG", "warn")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null());
    command
}

/// A valid employee row as JSON.
pub fn employee(id: i64, name: &str, date: &str, department: i64, job: i64) -> serde_json::Value {
    serde_json::json!({
        "employee_id": id,
        "employee_name": name,
        "hiring_date": date,
        "department_id": department,
        "job_id": job,
    })
}

/// The shared public dataset of this problem, read in place from
/// `../shared` beside the checkout (or `CHALLENGE_FIXTURE_DIR`).
pub fn challenge_fixture() -> PathBuf {
    let candidates = [
        std::env::var_os("CHALLENGE_FIXTURE_DIR").map(PathBuf::from),
        Some(Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/fixtures/challenge")),
        Some(PathBuf::from("/work/shared/fixtures/challenge")),
    ];
    candidates
        .into_iter()
        .flatten()
        .find(|dir| dir.join("employees.csv").is_file())
        .expect("the challenge fixture is not in ../shared/fixtures/challenge; set CHALLENGE_FIXTURE_DIR")
}

/// What headless Chromium makes of `url` (a page of the API, or a file),
/// with every connection but loopback sent to a closed proxy port, so a
/// page that needs the network shows it: the DOM after `budget_ms` of
/// virtual time, and Chromium's stderr. `CHROMIUM` names the browser
/// (default `/usr/bin/chromium`, installed by `scripts/ensure-chromium.sh`).
pub fn chromium_dom(url: &str, budget_ms: u32) -> (String, String) {
    let chromium = std::env::var("CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".to_owned());
    assert!(
        Path::new(&chromium).exists(),
        "no Chromium at {chromium}; run scripts/ensure-chromium.sh"
    );
    let profile = tempfile::tempdir().unwrap();
    let output = std::process::Command::new(&chromium)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--proxy-server=http://127.0.0.1:9",
            "--dump-dom",
        ])
        .arg(format!("--virtual-time-budget={budget_ms}"))
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .arg(url)
        .output()
        .unwrap();
    (
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}
