//! The HTTP edge, spoken by hand where a client cannot misbehave on
//! purpose: the token and the declared length are checked before any of
//! the body is read, and a refused body is never drained.

use std::time::Duration;
use test_support::raw::{RawConnection, head};
use test_support::{Engine, TOKEN, spawn_app};

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

/// A request for a path or method the API does not serve is answered
/// without its body being read.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_routes_are_answered_without_reading_the_body() {
    let app = spawn_app(Engine::Sqlite).await;
    for (method, path, status) in [("POST", "/api/v1/nowhere", 404), ("PUT", ROWS, 405)] {
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
