//! The real application on port 0: start, stop, restart, wait until ready.

use crate::{Engine, TOKEN, TestDb};
use api::config::{Config, LogFormat, Secret};
use api::startup::Application;
use serde_json::Value;
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
        header_timeout_secs: 10,
        request_timeout_secs: 120,
        max_connections: 1024,
        http2_max_streams: 64,
        write_wait_secs: 30,
        backup_keep: 0,
        backup_codec: api::config::BackupCodec::Deflate,
    }
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
