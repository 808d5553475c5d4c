//! Bodies built to cost the server memory: 200,000 empty objects, one
//! record of eight million commas, a row of a million keys, a value that
//! is a huge array. Each is answered (refused, or its row rejected), and
//! the server's peak memory grows by a bounded multiple of the body limit,
//! not by the body's element count. Run against the real binary, so that
//! its peak resident set (`VmHWM`) is the server's alone.

use std::time::Duration;
use test_support::{TOKEN, TestDb, api_command, free_port, into_json, wait_ready};

/// The body limit of the server under test (the default, 8 MiB).
const LIMIT: usize = 8 * 1024 * 1024;

/// The peak resident set of process `pid`, in bytes.
fn peak_rss(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let line = status.lines().find(|l| l.starts_with("VmHWM:")).unwrap();
    let kib: u64 = line.split_whitespace().nth(1).unwrap().parse().unwrap();
    kib * 1024
}

/// Fills `template`'s `@` with `unit` repeated to just under the limit.
fn near_limit(template: &str, unit: &str) -> Vec<u8> {
    let room = LIMIT - template.len() - 16;
    template
        .replace('@', &unit.repeat(room / unit.len()))
        .into_bytes()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bodies_built_to_cost_memory_are_answered_within_a_bounded_peak() {
    let db = TestDb::create(test_support::Engine::Sqlite).await;
    let (data, shared) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let port = free_port();
    let base = format!("http://127.0.0.1:{port}");
    let mut server = api_command(crate::API_BIN, &db.url, port, data.path(), shared.path())
        .spawn()
        .unwrap();
    let http = reqwest::Client::new();
    wait_ready(&http, &base, Duration::from_secs(60)).await;
    let post = |content_type: &'static str, body: Vec<u8>| {
        let request = http
            .post(format!("{base}/api/v1/tables/jobs/rows"))
            .bearer_auth(TOKEN)
            .header("content-type", content_type)
            .body(body);
        async move { into_json(request.send().await.unwrap()).await }
    };
    // A batch of the largest ordinary size first, so the baseline holds
    // what any busy server holds.
    let ordinary: String = (1..=1000)
        .map(|i| format!("{i},Job number {i}\n"))
        .collect();
    assert_eq!(post("text/csv", ordinary.into_bytes()).await.0, 200);
    let baseline = peak_rss(server.id());

    let many_objects = near_limit("[{}@]", ",{}");
    let (status, body) = post("application/json", many_objects).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (422, Some("too_many_rows")),
        "{body}"
    );

    let commas = near_limit("1@\n", ",");
    let (status, body) = post("text/csv", commas).await;
    assert_eq!(
        (status, body["rejected"].as_u64()),
        (200, Some(1)),
        "{body}"
    );
    assert_eq!(body["errors"][0]["code"], "wrong_field_count", "{body}");

    let mut many_keys = String::from("[{\"job_id\":1");
    for n in 0.. {
        if many_keys.len() > LIMIT - 64 {
            break;
        }
        many_keys.push_str(&format!(",\"k{n}\":0"));
    }
    many_keys.push_str("}]");
    let (status, body) = post("application/json", many_keys.into_bytes()).await;
    assert_eq!(
        (status, body["rejected"].as_u64()),
        (200, Some(1)),
        "{body}"
    );
    assert_eq!(body["errors"][0]["code"], "unknown_field", "{body}");

    let huge_value = near_limit("[{\"job_id\":1,\"job_name\":[0@]}]", ",0");
    let (status, body) = post("application/json", huge_value).await;
    assert_eq!(
        (status, body["rejected"].as_u64()),
        (200, Some(1)),
        "{body}"
    );

    let grown = peak_rss(server.id()).saturating_sub(baseline);
    println!(
        "peak RSS grew by {} KiB over a baseline of {} KiB",
        grown / 1024,
        baseline / 1024
    );
    assert!(
        grown < 6 * LIMIT as u64,
        "peak RSS grew by {} MiB for 8 MiB bodies",
        grown >> 20
    );
    let _ = server.kill();
    let _ = server.wait();
}
