//! The real application on port 0, and the calls tests make to it.

use crate::{Engine, TOKEN, TestDb};
use api::backup::BackupInfo;
use api::config::{Config, LogFormat, Secret};
use api::error::{ErrorBody, ErrorCode};
use api::startup::Application;
use api::wire::{BackupList, IngestResult, Record, RestoreResult, RowPage, TableList};
use serde::de::DeserializeOwned;
use serde_json::Value;
use std::fmt::Debug;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;
use tempfile::TempDir;

/// A change to the test configuration, applied at every (re)start.
type Tweak = Arc<dyn Fn(&mut Config) + Send + Sync>;

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
    tweak: Tweak,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    server: Option<tokio::task::JoinHandle<()>>,
}

/// The test configuration: the given database and folders, port 0, the
/// test token, a 1 MiB body limit.
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

/// What a call answered: the typed body on success, the error body
/// otherwise. Tests about the wire format itself use the raw calls.
#[derive(Debug)]
pub struct Answer<T> {
    pub status: u16,
    pub result: Result<T, ErrorBody>,
}

impl<T: Debug> Answer<T> {
    /// The body of a success; panics with the error otherwise.
    #[track_caller]
    pub fn ok(self) -> T {
        match self.result {
            Ok(body) => body,
            Err(error) => panic!("expected a success, got {}: {error:?}", self.status),
        }
    }

    /// The status and code of a failure; panics on a success.
    #[track_caller]
    pub fn err(self) -> (u16, ErrorCode) {
        match self.result {
            Ok(body) => panic!("expected a failure, got {}: {body:?}", self.status),
            Err(error) => (self.status, error.code),
        }
    }
}

async fn answer<T: DeserializeOwned>(response: reqwest::Response) -> Answer<T> {
    let status = response.status().as_u16();
    let text = response.text().await.unwrap();
    let result = if (200..300).contains(&status) {
        Ok(serde_json::from_str(&text)
            .unwrap_or_else(|err| panic!("a {status} answer of another shape ({err}): {text}")))
    } else {
        Err(serde_json::from_str(&text)
            .unwrap_or_else(|err| panic!("a {status} error of another shape ({err}): {text}")))
    };
    Answer { status, result }
}

/// Starts the server on a fresh database with no historical files.
pub async fn spawn_app(engine: Engine) -> TestApp {
    spawn_app_with_data(engine, |_| {}).await
}

/// Starts the server after `write_data` has filled its data folder.
pub async fn spawn_app_with_data(engine: Engine, write_data: impl FnOnce(&Path)) -> TestApp {
    let mut app = unstarted(engine, write_data, |_| {}).await;
    app.start().await;
    app
}

/// Starts the server with `tweak` applied to the test configuration.
pub async fn spawn_app_with_config(
    engine: Engine,
    tweak: impl Fn(&mut Config) + Send + Sync + 'static,
) -> TestApp {
    let mut app = unstarted(engine, |_| {}, tweak).await;
    app.start().await;
    app
}

/// A test database and folders, with no server running yet.
pub async fn unstarted(
    engine: Engine,
    write_data: impl FnOnce(&Path),
    tweak: impl Fn(&mut Config) + Send + Sync + 'static,
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
        tweak: Arc::new(tweak),
        stop: None,
        server: None,
    }
}

impl TestApp {
    /// (Re)starts the server on the same database and folders, and waits
    /// until it is ready.
    pub async fn start(&mut self) {
        self.start_serving().await;
        self.wait_ready(Duration::from_secs(120)).await;
    }

    /// Waits until `/ready` answers 200; panics after `limit`.
    pub async fn wait_ready(&self, limit: Duration) {
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

    pub fn backups_dir(&self) -> PathBuf {
        self.shared_dir.path().join("backups")
    }

    // Raw calls: status and JSON (or text) as sent.

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

    /// `POST /restore` with `body` as JSON, or with no body.
    pub async fn restore_raw(&self, table: &str, body: Option<Value>) -> (u16, Value) {
        let request = self
            .http
            .post(self.url(&format!("/api/v1/tables/{table}/restore")))
            .bearer_auth(TOKEN);
        let request = match body {
            Some(body) => request.json(&body),
            None => request,
        };
        into_json(request.send().await.unwrap()).await
    }

    // Typed calls.

    async fn typed_get<T: DeserializeOwned>(&self, path: &str) -> Answer<T> {
        answer(self.http.get(self.url(path)).send().await.unwrap()).await
    }

    /// Stores CSV rows (no header) in `table`.
    pub async fn ingest_csv(&self, table: &str, csv: &str) -> Answer<IngestResult> {
        let response = self
            .http
            .post(self.url(&format!("/api/v1/tables/{table}/rows")))
            .bearer_auth(TOKEN)
            .header("content-type", "text/csv")
            .body(csv.to_owned())
            .send()
            .await
            .unwrap();
        answer(response).await
    }

    /// Stores JSON rows in `table`.
    pub async fn ingest_json(&self, table: &str, rows: &Value) -> Answer<IngestResult> {
        let response = self
            .http
            .post(self.url(&format!("/api/v1/tables/{table}/rows")))
            .bearer_auth(TOKEN)
            .json(rows)
            .send()
            .await
            .unwrap();
        answer(response).await
    }

    pub async fn tables(&self) -> Answer<TableList> {
        self.typed_get("/api/v1/tables").await
    }

    pub async fn row(&self, table: &str, id: i64) -> Answer<Record> {
        self.typed_get(&format!("/api/v1/tables/{table}/rows/{id}"))
            .await
    }

    pub async fn page(&self, table: &str, after_id: i64, limit: u32) -> Answer<RowPage> {
        let path = format!("/api/v1/tables/{table}/rows?after_id={after_id}&limit={limit}");
        self.typed_get(&path).await
    }

    /// Every row of a table, through the paged read endpoint.
    pub async fn all_rows(&self, table: &str) -> Vec<Record> {
        let mut rows = Vec::new();
        let mut after = 0;
        loop {
            let page = self.page(table, after, 1000).await.ok();
            rows.extend(page.rows);
            match page.next_after_id {
                Some(next) => after = i64::from(next),
                None => return rows,
            }
        }
    }

    pub async fn backup(&self, table: &str) -> Answer<BackupInfo> {
        let response = self
            .http
            .post(self.url(&format!("/api/v1/tables/{table}/backups")))
            .bearer_auth(TOKEN)
            .send()
            .await
            .unwrap();
        answer(response).await
    }

    pub async fn backups(&self, table: &str) -> Answer<BackupList> {
        self.typed_get(&format!("/api/v1/tables/{table}/backups"))
            .await
    }

    /// Restores the named backup, or the newest when `name` is `None`.
    pub async fn restore(&self, table: &str, name: Option<&str>) -> Answer<RestoreResult> {
        let request = self
            .http
            .post(self.url(&format!("/api/v1/tables/{table}/restore")))
            .bearer_auth(TOKEN);
        let request = match name {
            Some(name) => request.json(&serde_json::json!({ "backup": name })),
            None => request,
        };
        answer(request.send().await.unwrap()).await
    }

    /// Row counts per table (departments, jobs, employees).
    pub async fn counts(&self) -> (i64, i64, i64) {
        let tables = self.tables().await.ok().tables;
        let count = |name: &str| {
            tables
                .iter()
                .find(|t| t.name == name)
                .map(|t| t.rows)
                .unwrap_or_else(|| panic!("no {name} in {tables:?}"))
        };
        (count("departments"), count("jobs"), count("employees"))
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
        let departments = self
            .ingest_csv("departments", "1,Sales\n2,Ops\n3,R&D\n")
            .await;
        assert_eq!(departments.ok().inserted, 3);
        let jobs = self
            .ingest_csv("jobs", "1,Dev\n2,Manager\n3,Analyst\n")
            .await;
        assert_eq!(jobs.ok().inserted, 3);
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
pub async fn wait_ready(http: &reqwest::Client, base: &str, limit: Duration) {
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
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Status and body: JSON when it parses, the text otherwise.
pub async fn into_json(response: reqwest::Response) -> (u16, Value) {
    let status = response.status().as_u16();
    let text = response.text().await.unwrap();
    let body = serde_json::from_str(&text).unwrap_or(Value::String(text));
    (status, body)
}
