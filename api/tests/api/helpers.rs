use api::config::{Config, LogFormat, Secret};
use api::startup::Application;
use serde_json::Value;
use std::path::{Path, PathBuf};
use tempfile::TempDir;

pub const TOKEN: &str = "test-token";

/// Which engine a test runs against.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Engine {
    Sqlite,
    MariaDb,
}

/// Runs each test body once on SQLite and once on MariaDB.
macro_rules! engine_tests {
    ($(#[doc = $doc:literal])* $(async fn $name:ident($engine:ident) $body:block)*) => {
        mod sqlite {
            #[allow(unused_imports)]
            use super::*;
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    let $engine = $crate::helpers::Engine::Sqlite;
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
                    let $engine = $crate::helpers::Engine::MariaDb;
                    $body
                }
            )*
        }
    };
}

/// A database made for one test and dropped after it.
pub struct TestDb {
    pub url: String,
    mysql: Option<(String, String)>,
    _dir: Option<TempDir>,
}

/// Where MariaDB tests connect; `scripts/ensure-mariadb.sh` creates this user.
fn mysql_server_url() -> String {
    std::env::var("TEST_MYSQL_URL")
        .unwrap_or_else(|_| "mysql://hiring_test:hiring_test@127.0.0.1:3306".to_owned())
}

impl TestDb {
    pub async fn create(engine: Engine) -> TestDb {
        match engine {
            Engine::Sqlite => {
                let dir = tempfile::tempdir().unwrap();
                let url = format!("sqlite://{}?mode=rwc", dir.path().join("test.db").display());
                TestDb {
                    url,
                    mysql: None,
                    _dir: Some(dir),
                }
            }
            Engine::MariaDb => {
                let server = mysql_server_url();
                let name = format!("t_{}", uuid::Uuid::new_v4().simple());
                sqlx::any::install_default_drivers();
                let mut conn = <sqlx::AnyConnection as sqlx::Connection>::connect(&server)
                    .await
                    .unwrap_or_else(|err| {
                        panic!(
                            "cannot reach MariaDB at TEST_MYSQL_URL ({err}); \
                             run scripts/ensure-mariadb.sh or set TEST_MYSQL_URL"
                        )
                    });
                sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
                    "CREATE DATABASE {name} CHARACTER SET utf8mb4 COLLATE utf8mb4_bin"
                )))
                .execute(&mut conn)
                .await
                .unwrap();
                TestDb {
                    url: format!("{server}/{name}"),
                    mysql: Some((server, name)),
                    _dir: None,
                }
            }
        }
    }

    /// A pool on the test database, to look behind the API's back.
    pub async fn pool(&self) -> sqlx::AnyPool {
        sqlx::any::install_default_drivers();
        sqlx::AnyPool::connect(&self.url).await.unwrap()
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        let Some((server, name)) = self.mysql.take() else {
            return;
        };
        // Drop runs outside async; a short-lived runtime drops the database.
        let _ = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            runtime.block_on(async {
                if let Ok(mut conn) =
                    <sqlx::AnyConnection as sqlx::Connection>::connect(&server).await
                {
                    let _ = sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
                        "DROP DATABASE IF EXISTS {name}"
                    )))
                    .execute(&mut conn)
                    .await;
                }
            });
        })
        .join();
    }
}

/// A running server and what a test needs to talk to it.
pub struct TestApp {
    pub address: String,
    pub http: reqwest::Client,
    pub db: TestDb,
    /// Where the server connects: the test database, unless a test points
    /// it elsewhere (through a proxy, say).
    pub database_url: String,
    pub shared_dir: TempDir,
    pub data_dir: TempDir,
    tweak: fn(&mut Config),
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    server: Option<tokio::task::JoinHandle<()>>,
}

pub fn config(db_url: &str, data_dir: &Path, shared_dir: &Path) -> Config {
    Config {
        database_url: Some(Secret::new(db_url)),
        api_addr: "127.0.0.1:0".parse().unwrap(),
        data_dir: data_dir.to_owned(),
        shared_dir: shared_dir.to_owned(),
        api_token: Some(Secret::new(TOKEN)),
        log_format: LogFormat::Text,
        max_body_bytes: 1024 * 1024,
        reads_need_token: false,
        database_url_file: None,
        api_token_file: None,
        healthcheck: false,
    }
}

/// Starts the server on a fresh database with no historical files.
pub async fn spawn_app(engine: Engine) -> TestApp {
    spawn_app_with_data(engine, |_| {}).await
}

/// Starts the server after `write_data` has filled its data folder.
pub async fn spawn_app_with_data(engine: Engine, write_data: impl FnOnce(&Path)) -> TestApp {
    spawn(engine, write_data, |_| {}).await
}

/// Starts the server with `tweak` applied to the test configuration.
pub async fn spawn_app_with_config(engine: Engine, tweak: fn(&mut Config)) -> TestApp {
    spawn(engine, |_| {}, tweak).await
}

async fn spawn(engine: Engine, write_data: impl FnOnce(&Path), tweak: fn(&mut Config)) -> TestApp {
    let mut app = unstarted(engine, write_data, tweak).await;
    app.start().await;
    app
}

/// A test database and folders, with no server running yet.
pub async fn unstarted(
    engine: Engine,
    write_data: impl FnOnce(&Path),
    tweak: fn(&mut Config),
) -> TestApp {
    let db = TestDb::create(engine).await;
    let data_dir = tempfile::tempdir().unwrap();
    write_data(data_dir.path());
    let shared_dir = tempfile::tempdir().unwrap();
    TestApp {
        address: String::new(),
        http: reqwest::Client::new(),
        database_url: db.url.clone(),
        db,
        shared_dir,
        data_dir,
        tweak,
        stop: None,
        server: None,
    }
}

impl TestApp {
    /// (Re)starts the server on the same database and folders, and waits
    /// until it is ready.
    pub async fn start(&mut self) {
        self.start_serving().await;
        self.wait_ready(std::time::Duration::from_secs(120)).await;
    }

    /// Waits until `/ready` answers 200; panics after `limit`.
    pub async fn wait_ready(&self, limit: std::time::Duration) {
        wait_ready(&self.http, &self.address, limit).await;
    }

    /// (Re)starts the server without waiting for it to be ready.
    pub async fn start_serving(&mut self) {
        let mut config = config(
            &self.database_url,
            self.data_dir.path(),
            self.shared_dir.path(),
        );
        (self.tweak)(&mut config);
        let application = Application::build(config).await.expect("the app starts");
        self.address = format!("http://127.0.0.1:{}", application.port());
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        self.stop = Some(stop);
        self.server = Some(tokio::spawn(async move {
            application
                .run_until(async {
                    let _ = stopped.await;
                })
                .await
                .unwrap();
        }));
    }

    /// Stops the server gracefully and waits for it.
    pub async fn stop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(server) = self.server.take() {
            server.await.unwrap();
        }
    }

    pub async fn restart(&mut self) {
        self.stop().await;
        self.start().await;
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.address)
    }

    pub async fn get(&self, path: &str) -> (u16, Value) {
        into_json(self.http.get(self.url(path)).send().await.unwrap()).await
    }

    pub async fn post_json(&self, table: &str, body: &Value) -> (u16, Value) {
        let response = self
            .http
            .post(self.url(&format!("/api/v1/tables/{table}/rows")))
            .bearer_auth(TOKEN)
            .json(body)
            .send()
            .await
            .unwrap();
        into_json(response).await
    }

    pub async fn post_csv(&self, table: &str, body: &str) -> (u16, Value) {
        self.post_raw(table, "text/csv", body.as_bytes().to_vec())
            .await
    }

    pub async fn post_raw(&self, table: &str, content_type: &str, body: Vec<u8>) -> (u16, Value) {
        let response = self
            .http
            .post(self.url(&format!("/api/v1/tables/{table}/rows")))
            .bearer_auth(TOKEN)
            .header("content-type", content_type)
            .body(body)
            .send()
            .await
            .unwrap();
        into_json(response).await
    }

    /// Row counts per table, as the API reports them.
    pub async fn counts(&self) -> (i64, i64, i64) {
        let (status, body) = self.get("/api/v1/tables").await;
        assert_eq!(status, 200, "{body}");
        let count = |i: usize| body["tables"][i]["rows"].as_i64().unwrap();
        (count(0), count(1), count(2))
    }

    /// Every line of the reject log.
    pub fn rejected_log(&self) -> Vec<Value> {
        let path = self.shared_dir.path().join("logs").join("rejected.jsonl");
        std::fs::read_to_string(path)
            .unwrap_or_default()
            .lines()
            .map(|line| serde_json::from_str(line).expect("each log line is JSON"))
            .collect()
    }

    /// Seeds departments 1..=3 and jobs 1..=3 through the API.
    pub async fn seed_references(&self) {
        let (status, body) = self
            .post_csv("departments", "1,Sales\n2,Ops\n3,R&D\n")
            .await;
        assert_eq!(
            (status, body["inserted"].as_u64()),
            (200, Some(3)),
            "{body}"
        );
        let (status, body) = self.post_csv("jobs", "1,Dev\n2,Manager\n3,Analyst\n").await;
        assert_eq!(
            (status, body["inserted"].as_u64()),
            (200, Some(3)),
            "{body}"
        );
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

/// Waits until `{base}/ready` answers 200; panics after `limit` with the
/// last answer.
pub async fn wait_ready(http: &reqwest::Client, base: &str, limit: std::time::Duration) {
    let started = std::time::Instant::now();
    loop {
        let last = match http.get(format!("{base}/ready")).send().await {
            Ok(response) if response.status() == 200 => return,
            Ok(response) => format!("{:?}", into_json(response).await),
            Err(err) => err.to_string(),
        };
        assert!(
            started.elapsed() < limit,
            "not ready after {limit:?}: {last}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
}

/// A port nobody listens on now (released before it is returned).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// The real `api` binary on `db_url` and the given folders, listening at
/// `127.0.0.1:port`, logging warnings to nowhere; callers may override.
pub fn api_command(db_url: &str, port: u16, data: &Path, shared: &Path) -> std::process::Command {
    let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_api"));
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

pub async fn into_json(response: reqwest::Response) -> (u16, Value) {
    let status = response.status().as_u16();
    let text = response.text().await.unwrap();
    let body = serde_json::from_str(&text).unwrap_or(Value::String(text));
    (status, body)
}

/// A valid employee row as JSON.
pub fn employee(id: i64, name: &str, date: &str, department: i64, job: i64) -> Value {
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
