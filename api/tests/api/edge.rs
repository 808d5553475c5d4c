//! The HTTP edge, spoken by hand where a client cannot misbehave on
//! purpose: the token and the declared length are checked before any of
//! the body is read, and a refused body is never drained.

use std::time::Duration;
use test_support::raw::{RawConnection, head};
use test_support::{Engine, TOKEN, spawn_app, spawn_app_with_config};

const ROWS: &str = "/api/v1/tables/jobs/rows";
const SOON: Duration = Duration::from_secs(5);

/// A request that declares 50 MB and sends none of it is answered at
/// once: 401 without the token, 403 with a wrong one, 413 with the right
/// one; each closes the connection instead of waiting for the body.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refusals_come_before_the_body_and_close_the_connection() {
    let app = spawn_app(Engine::Sqlite).await;
    let wrong = "Bearer wrong-token".to_owned();
    let right = format!("Bearer {TOKEN}");
    let cases: [(Option<&str>, u16, &str); 3] = [
        (None, 401, "unauthorized"),
        (Some(&wrong), 403, "forbidden"),
        (Some(&right), 413, "payload_too_large"),
    ];
    for (authorization, status, code) in cases {
        for framing in [
            ("content-length", "50000000"),
            ("transfer-encoding", "chunked"),
        ] {
            if status == 413 && framing.0 == "transfer-encoding" {
                continue; // a chunked body has no length to refuse up front
            }
            let mut headers = vec![("content-type", "text/csv"), framing];
            if let Some(value) = authorization {
                headers.push(("authorization", value));
            }
            let mut connection = RawConnection::open(&app.address).await;
            connection
                .send(&head("POST", ROWS, &headers))
                .await
                .unwrap();
            let response = connection
                .response(SOON)
                .await
                .unwrap_or_else(|| panic!("no answer before the body ({framing:?}, {status})"));
            assert_eq!(
                (response.status, response.json()["code"].as_str()),
                (status, Some(code)),
                "{framing:?}"
            );
            assert_eq!(response.header("connection"), Some("close"));
            assert!(connection.closed_within(SOON).await, "{framing:?} {status}");
        }
    }
    assert_eq!(app.counts().await.1, 0);
}

/// A chunked body that passes the limit gets 413 as soon as it does; the
/// server stops reading there and closes the connection.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_chunked_body_over_the_limit_gets_413_without_being_drained() {
    let app = spawn_app(Engine::Sqlite).await;
    let right = format!("Bearer {TOKEN}");
    let mut connection = RawConnection::open(&app.address).await;
    let headers = [
        ("content-type", "text/csv"),
        ("transfer-encoding", "chunked"),
        ("authorization", right.as_str()),
    ];
    connection
        .send(&head("POST", ROWS, &headers))
        .await
        .unwrap();
    // 1.25 MiB over a 1 MiB limit, in 64 KiB chunks, and never a last chunk.
    let chunk = [
        format!("{:x}\r\n", 64 * 1024).into_bytes(),
        vec![b'x'; 64 * 1024],
        b"\r\n".to_vec(),
    ]
    .concat();
    for _ in 0..20 {
        connection.send(&chunk).await.unwrap();
    }
    let response = connection
        .response(SOON)
        .await
        .expect("413 once over the limit");
    assert_eq!(
        (response.status, response.json()["code"].as_str()),
        (413, Some("payload_too_large"))
    );
    assert_eq!(response.header("connection"), Some("close"));
    assert!(connection.closed_within(SOON).await);
    assert_eq!(app.counts().await.1, 0);
}

/// A request for a path or method the API does not serve, or a read (which
/// takes no body), is answered without its body being read.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_routes_are_answered_without_reading_the_body() {
    let app = spawn_app(Engine::Sqlite).await;
    let cases = [
        ("POST", "/api/v1/nowhere", 404),
        ("PUT", ROWS, 405),
        ("GET", "/health", 200),
        ("GET", "/api/v1/tables", 200),
    ];
    for (method, path, status) in cases {
        let mut connection = RawConnection::open(&app.address).await;
        let headers = [("content-type", "text/csv"), ("content-length", "50000000")];
        connection
            .send(&head(method, path, &headers))
            .await
            .unwrap();
        let response = connection
            .response(SOON)
            .await
            .expect("an answer before the body");
        assert_eq!(response.status, status, "{method} {path}");
    }
}

/// Headers that never finish, a connection that says nothing, and one left
/// idle after its response are all closed once `HEADER_TIMEOUT_SECS` pass.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connections_that_send_no_headers_in_time_are_closed() {
    let app = spawn_app_with_config(Engine::Sqlite, |c| c.header_timeout_secs = 1).await;
    let mut silent = RawConnection::open(&app.address).await;
    let mut trickling = RawConnection::open(&app.address).await;
    trickling
        .send(b"GET /health HTTP/1.1\r\nhost: x\r\n")
        .await
        .unwrap();
    let mut idle = RawConnection::open(&app.address).await;
    idle.send(&head("GET", "/health", &[])).await.unwrap();
    assert_eq!(idle.response(SOON).await.expect("an answer").status, 200);

    for (name, connection) in [
        ("silent", &mut silent),
        ("trickling", &mut trickling),
        ("idle", &mut idle),
    ] {
        assert!(
            connection.closed_within(SOON).await,
            "the {name} connection is still open"
        );
    }
}

/// A body that stops arriving gets 408 once `REQUEST_TIMEOUT_SECS` pass,
/// and the connection is closed; nothing is stored.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_body_that_never_comes_gets_408() {
    let app = spawn_app_with_config(Engine::Sqlite, |c| c.request_timeout_secs = 1).await;
    let right = format!("Bearer {TOKEN}");
    let mut connection = RawConnection::open(&app.address).await;
    let headers = [
        ("content-type", "text/csv"),
        ("content-length", "100"),
        ("authorization", right.as_str()),
    ];
    connection
        .send(&head("POST", ROWS, &headers))
        .await
        .unwrap();
    connection.send(b"1,Dev\n").await.unwrap();
    let response = connection
        .response(SOON)
        .await
        .expect("408 once the time is up");
    assert_eq!(
        (response.status, response.json()["code"].as_str()),
        (408, Some("request_timeout"))
    );
    assert_eq!(response.header("connection"), Some("close"));
    assert!(connection.closed_within(SOON).await);
    assert_eq!(app.counts().await.1, 0);
}

/// With every connection taken (300 idle ones against MAX_CONNECTIONS=50),
/// `/health` and `/ready` still answer on a new connection; any other
/// path there gets 503 `overloaded` with `Retry-After`, and the
/// connection is not kept.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn over_the_connection_limit_the_health_checks_still_answer() {
    let app = spawn_app_with_config(Engine::Sqlite, |c| c.max_connections = 50).await;
    let mut idle = Vec::new();
    for _ in 0..300 {
        idle.push(RawConnection::open(&app.address).await);
    }
    // The idle ones let in over the limit have a second to speak.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    for path in ["/health", "/ready"] {
        let mut connection = RawConnection::open(&app.address).await;
        connection.send(&head("GET", path, &[])).await.unwrap();
        let response = connection
            .response(SOON)
            .await
            .unwrap_or_else(|| panic!("{path} unanswered"));
        assert_eq!(response.status, 200, "{path}");
        assert_eq!(response.header("connection"), Some("close"));
    }
    let mut connection = RawConnection::open(&app.address).await;
    connection
        .send(&head("GET", "/api/v1/tables", &[]))
        .await
        .unwrap();
    let response = connection.response(SOON).await.expect("an answer");
    assert_eq!(
        (response.status, response.json()["code"].as_str()),
        (503, Some("overloaded"))
    );
    assert_eq!(response.header("retry-after"), Some("1"));

    drop(idle);
    tokio::time::sleep(Duration::from_millis(300)).await;
    let tables = app
        .http
        .get(app.url("/api/v1/tables"))
        .send()
        .await
        .unwrap();
    assert_eq!(
        tables.status(),
        200,
        "served again once the idle connections are gone"
    );
}

/// HTTP/2 (prior knowledge) is served, and the server's SETTINGS bound the
/// streams per connection by `HTTP2_MAX_STREAMS`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn http2_streams_per_connection_are_bounded() {
    let app = spawn_app_with_config(Engine::Sqlite, |c| c.http2_max_streams = 7).await;
    let mut connection = RawConnection::open(&app.address).await;
    connection
        .send(b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n")
        .await
        .unwrap();
    connection.send(&[0, 0, 0, 4, 0, 0, 0, 0, 0]).await.unwrap(); // empty SETTINGS
    let settings = connection
        .frame(4, SOON)
        .await
        .expect("the server's SETTINGS");
    let max_streams = settings
        .chunks_exact(6)
        .find(|entry| entry[..2] == [0, 3])
        .map(|entry| u32::from_be_bytes([entry[2], entry[3], entry[4], entry[5]]));
    assert_eq!(max_streams, Some(7));

    let h2 = reqwest::Client::builder()
        .http2_prior_knowledge()
        .build()
        .unwrap();
    let health = h2.get(app.url("/health")).send().await.unwrap();
    assert_eq!(
        (health.status().as_u16(), health.version()),
        (200, reqwest::Version::HTTP_2)
    );
}

/// Holds the database's write lock from outside the service until dropped:
/// SQLite's file lock, or MySQL's write gate (as a restore holds it).
async fn hold_write_lock(engine: Engine, url: &str) -> sqlx::AnyConnection {
    use sqlx::Connection;
    sqlx::any::install_default_drivers();
    let mut conn = sqlx::AnyConnection::connect(url).await.unwrap();
    let statement = match engine {
        Engine::Sqlite => "BEGIN IMMEDIATE",
        Engine::MariaDb | Engine::Galera => "BEGIN; SELECT name FROM write_gate FOR UPDATE",
    };
    sqlx::raw_sql(statement).execute(&mut conn).await.unwrap();
    conn
}

test_support::engine_tests! {
    /// A write that finds no turn within `WRITE_WAIT_SECS` (another holds
    /// the database's write lock) gets 503 `busy` with `Retry-After`, and so
    /// does one queued behind it; nothing is stored, and once the lock is
    /// free the same batch is stored.
    async fn a_write_that_finds_no_turn_in_time_gets_503_busy(engine) {
        let app = spawn_app_with_config(engine, |c| c.write_wait_secs = 1).await;
        let holder = hold_write_lock(engine, &app.database_url).await;
        let post = || {
            app.http
                .post(app.url(ROWS))
                .bearer_auth(TOKEN)
                .header("content-type", "text/csv")
                .body("1,Dev\n")
                .send()
        };
        let started = std::time::Instant::now();
        let (first, second) = tokio::join!(post(), post());
        for response in [first.unwrap(), second.unwrap()] {
            assert_eq!(response.headers()["retry-after"], "2");
            let (status, body) = test_support::into_json(response).await;
            assert_eq!((status, body["code"].as_str()), (503, Some("busy")), "{body}");
        }
        assert!(started.elapsed() < Duration::from_secs(10), "{:?}", started.elapsed());
        drop(holder);

        let (status, body) = app.post_csv("jobs", "1,Dev\n").await;
        assert_eq!((status, body["inserted"].as_u64()), (200, Some(1)), "{body}");
        assert_eq!(app.counts().await.1, 1);
    }
}

/// An HTTP/2 connection left idle after its request, by a client that
/// answers every PING, is closed once `HEADER_TIMEOUT_SECS` pass (HTTP/2
/// has no header timer of its own).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_idle_http2_connection_is_closed() {
    let app = spawn_app_with_config(Engine::Sqlite, |c| c.header_timeout_secs = 1).await;
    let mut connection = RawConnection::open(&app.address).await;
    connection
        .send(b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n")
        .await
        .unwrap();
    connection.send(&[0, 0, 0, 4, 0, 0, 0, 0, 0]).await.unwrap(); // SETTINGS
    connection
        .frame(4, SOON)
        .await
        .expect("the server's SETTINGS");
    connection.send(&[0, 0, 0, 4, 1, 0, 0, 0, 0]).await.unwrap(); // SETTINGS ACK
    // GET /health on stream 1 (HPACK: :method GET, :scheme http, :path and
    // :authority as literals), END_STREAM | END_HEADERS.
    let block = [&[0x82, 0x86, 0x44, 7][..], b"/health", &[0x41, 1], b"x"].concat();
    let mut headers = vec![0, 0, block.len() as u8, 1, 5, 0, 0, 0, 1];
    headers.extend_from_slice(&block);
    connection.send(&headers).await.unwrap();
    connection
        .frame(1, SOON)
        .await
        .expect("the answer's HEADERS");
    // Idle, but alive: every PING is answered, as a real client's would be.
    let closed = tokio::time::timeout(SOON, async {
        while let Some((kind, flags, payload)) = connection.next_frame().await {
            if kind == 6 && flags & 1 == 0 {
                let mut ack = vec![0, 0, 8, 6, 1, 0, 0, 0, 0];
                ack.extend_from_slice(&payload);
                if connection.send(&ack).await.is_err() {
                    break;
                }
            }
        }
    })
    .await;
    assert!(closed.is_ok(), "the idle HTTP/2 connection stays open");
}

/// A client that sends requests but never reads the answers is cut off
/// once nothing has moved for `HEADER_TIMEOUT_SECS`, rather than holding a
/// connection (and hyper's write) forever.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_that_stops_reading_is_cut_off() {
    let app = spawn_app_with_config(Engine::Sqlite, |c| c.header_timeout_secs = 1).await;
    let one = app.http.get(app.url("/openapi.json")).send().await.unwrap();
    let answer_size = one.bytes().await.unwrap().len();
    let mut connection = RawConnection::open(&app.address).await;
    const REQUESTS: usize = 300;
    let requests = head("GET", "/openapi.json", &[]).repeat(REQUESTS);
    connection.send(&requests).await.unwrap();
    // Far more than the socket buffers hold is waiting to be written.
    tokio::time::sleep(Duration::from_secs(4)).await;
    let received = connection.drain(Duration::from_secs(20)).await;
    assert!(
        received.is_some(),
        "still open after the client read everything"
    );
    let received = received.unwrap();
    assert!(
        received < REQUESTS * answer_size,
        "all {REQUESTS} answers came ({received} bytes): the server waited for the reader"
    );
}

/// Work that outlasts `REQUEST_TIMEOUT_SECS` (a batch waiting for a write
/// lock held elsewhere) is stopped with 503 `timeout` and stores nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn work_over_the_request_timeout_is_stopped_with_503() {
    let app = spawn_app_with_config(Engine::Sqlite, |c| c.request_timeout_secs = 1).await;
    let holder = hold_write_lock(Engine::Sqlite, &app.database_url).await;
    let (status, body) = app.post_csv("jobs", "9,Late\n").await;
    assert_eq!(
        (status, body["code"].as_str()),
        (503, Some("timeout")),
        "{body}"
    );
    drop(holder);
    assert_eq!(app.counts().await.1, 0, "the stopped batch stored a row");
}
