//! The database down at start and going away mid-run (MariaDB, through a
//! proxy the test cuts and restores): `/ready` says so, requests get a 503
//! with the error shape, and the service recovers without a restart,
//! losing and doubling nothing.
//!
//! SQLite is embedded in the process: it cannot be "down" apart from it.

use serde_json::Value;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use test_support::{Engine, TestApp, employee, unstarted};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;

/// A TCP proxy in front of MariaDB. While cut, it closes every connection
/// it has carried and hangs up on new ones at once.
struct Proxy {
    port: u16,
    up: Arc<AtomicBool>,
    carried: Arc<Mutex<Vec<JoinHandle<()>>>>,
    accepting: JoinHandle<()>,
}

impl Proxy {
    async fn start(target: String, up: bool) -> Proxy {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let up = Arc::new(AtomicBool::new(up));
        let carried = Arc::new(Mutex::new(Vec::new()));
        let accepting = tokio::spawn({
            let (up, carried) = (Arc::clone(&up), Arc::clone(&carried));
            async move {
                while let Ok((mut client, _)) = listener.accept().await {
                    if !up.load(Ordering::SeqCst) {
                        continue; // dropped: the connection is closed
                    }
                    let target = target.clone();
                    carried.lock().unwrap().push(tokio::spawn(async move {
                        if let Ok(mut server) = TcpStream::connect(&target).await {
                            let _ = tokio::io::copy_bidirectional(&mut client, &mut server).await;
                        }
                    }));
                }
            }
        });
        Proxy {
            port,
            up,
            carried,
            accepting,
        }
    }

    fn cut(&self) {
        self.up.store(false, Ordering::SeqCst);
        for connection in self.carried.lock().unwrap().drain(..) {
            connection.abort();
        }
    }

    fn restore(&self) {
        self.up.store(true, Ordering::SeqCst);
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.cut();
        self.accepting.abort();
    }
}

/// `host:port` of a MariaDB url.
fn authority(url: &str) -> &str {
    let at = url.rfind('@').expect("the MariaDB url has credentials") + 1;
    let end = at + url[at..].find('/').expect("the url names a database");
    &url[at..end]
}

/// The test's MariaDB database, reached through `proxy`.
fn through(app: &TestApp, proxy: &Proxy) -> String {
    let url = &app.db.url;
    url.replacen(authority(url), &format!("127.0.0.1:{}", proxy.port), 1)
}

fn batch(ids: std::ops::RangeInclusive<i64>) -> Value {
    ids.map(|id| employee(id, "Ana", "2021-01-05T10:00:00Z", 1, 1))
        .collect()
}

fn assert_unavailable(status: u16, body: &Value, code: &str) {
    assert_eq!(status, 503, "{body}");
    assert_eq!(body["code"], code, "{body}");
    assert!(
        body["message"].as_str().is_some_and(|m| !m.is_empty()),
        "{body}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_database_down_at_start_is_waited_for_then_the_data_loads() {
    let mut app = unstarted(
        Engine::MariaDb,
        |dir| {
            std::fs::write(dir.join("departments.csv"), "1,Sales\n").unwrap();
            std::fs::write(dir.join("jobs.csv"), "1,Dev\n").unwrap();
            std::fs::write(
                dir.join("employees.csv"),
                "1,Ana,2021-01-05T10:00:00Z,1,1\n2,Bo,2021-02-05T10:00:00Z,1,1\n",
            )
            .unwrap();
        },
        |_| {},
    )
    .await;
    let proxy = Proxy::start(authority(&app.db.url).to_owned(), false).await;
    app.database_url = through(&app, &proxy);
    app.start_serving().await;

    let (status, body) = app.get("/health").await;
    assert_eq!(status, 200, "{body}");
    let (status, body) = app.get("/ready").await;
    assert_unavailable(status, &body, "not_ready");
    let (status, body) = app.post_json("employees", &batch(3..=3)).await;
    assert_unavailable(status, &body, "not_ready");
    let (status, body) = app.get("/api/v1/tables").await;
    assert_unavailable(status, &body, "not_ready");
    let (status, _) = app.get("/openapi.json").await;
    assert_eq!(status, 200, "the spec is served while waiting");

    tokio::time::sleep(Duration::from_secs(1)).await;
    proxy.restore();
    app.wait_ready(Duration::from_secs(60)).await;

    assert_eq!(app.counts().await, (1, 1, 2));
    let (status, body) = app.post_json("employees", &batch(3..=3)).await;
    assert_eq!(
        (status, body["inserted"].as_u64()),
        (200, Some(1)),
        "{body}"
    );
    assert!(app.rejects().await.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_database_going_away_mid_run_gives_503_and_the_service_recovers() {
    let mut app = unstarted(Engine::MariaDb, |_| {}, |_| {}).await;
    let proxy = Proxy::start(authority(&app.db.url).to_owned(), true).await;
    app.database_url = through(&app, &proxy);
    app.start().await;
    app.seed_references().await;
    let (status, body) = app.post_json("employees", &batch(1..=100)).await;
    assert_eq!(
        (status, body["inserted"].as_u64()),
        (200, Some(100)),
        "{body}"
    );

    proxy.cut();
    let (status, body) = app.get("/ready").await;
    assert_eq!(status, 503, "{body}");
    assert_eq!(body["code"], "database_unavailable", "{body}");
    let (status, body) = app.post_json("employees", &batch(101..=200)).await;
    assert_unavailable(status, &body, "database_unavailable");
    let (status, body) = app.get("/api/v1/tables/employees/rows/1").await;
    assert_unavailable(status, &body, "database_unavailable");

    proxy.restore();
    app.wait_ready(Duration::from_secs(60)).await;
    // The client resends both batches: the failed one is stored once, the
    // stored one is already stored, row by row, and nothing is a reject.
    let (status, body) = app.post_json("employees", &batch(101..=200)).await;
    assert_eq!(
        (status, body["inserted"].as_u64()),
        (200, Some(100)),
        "{body}"
    );
    let (status, body) = app.post_json("employees", &batch(1..=100)).await;
    assert_eq!(
        (
            status,
            body["already_stored"].as_u64(),
            body["rejected"].as_u64()
        ),
        (200, Some(100), Some(0)),
        "{body}"
    );
    assert_eq!(app.counts().await, (3, 3, 200));
    assert!(app.rejects().await.is_empty());
}
