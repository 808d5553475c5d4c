//! `GET /metrics`: what an operator scrapes, counted where it happens.

use test_support::{TOKEN, spawn_app_with_config, spawn_app_with_data};

/// The exposition's lines, checked for content type.
async fn scrape(app: &test_support::TestApp) -> String {
    let response = app.http.get(app.url("/metrics")).send().await.unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(
        response.headers()["content-type"],
        api::metrics::CONTENT_TYPE
    );
    response.text().await.unwrap()
}

fn has(text: &str, line: &str) -> bool {
    text.lines().any(|l| l == line)
}

test_support::engine_tests! {
    /// Rows by table, source and outcome; requests by route template and
    /// status; backups and restores; the historical load; the pool.
    async fn metrics_count_rows_requests_backups_restores_and_the_load(engine) {
        let app = spawn_app_with_data(engine, |dir| {
            std::fs::write(dir.join("jobs.csv"), "1,Dev\n2,Ops\nx,Bad\n").unwrap();
        })
        .await;
        let (status, _) = app.post_csv("jobs", "3,QA\n2,Ops\nbad\n").await;
        assert_eq!(status, 200);
        app.backup("jobs").await.ok();
        app.restore("jobs", None).await.ok();
        let _ = app.http.get(app.url("/api/v1/tables/jobs/rows/424242")).send().await.unwrap();
        let _ = app.http.get(app.url("/nowhere/7")).send().await.unwrap();

        let text = scrape(&app).await;
        for line in [
            r#"hiring_rows_total{table="jobs",source="file",outcome="inserted"} 2"#,
            r#"hiring_rows_total{table="jobs",source="file",outcome="rejected"} 1"#,
            r#"hiring_rows_total{table="jobs",source="api",outcome="inserted"} 1"#,
            r#"hiring_rows_total{table="jobs",source="api",outcome="already_stored"} 1"#,
            r#"hiring_rows_total{table="jobs",source="api",outcome="rejected"} 1"#,
            r#"hiring_historical_load_rows_read{table="jobs"} 3"#,
            r#"hiring_historical_load_complete{table="jobs"} 1"#,
            r#"hiring_http_requests_total{method="POST",route="/api/v1/tables/{table}/rows",status="200"} 1"#,
            r#"hiring_http_requests_total{method="GET",route="/api/v1/tables/{table}/rows/{id}",status="404"} 1"#,
            r#"hiring_http_requests_total{method="GET",route="unmatched",status="404"} 1"#,
            r#"hiring_backups_total{table="jobs",outcome="ok"} 1"#,
            r#"hiring_backup_rows_total{table="jobs"} 3"#,
            r#"hiring_restores_total{table="jobs",outcome="ok"} 1"#,
            r#"hiring_restore_rows_total{table="jobs"} 3"#,
        ] {
            assert!(has(&text, line), "{line} missing in\n{text}");
        }
        assert!(has(
            &text,
            r#"hiring_http_request_duration_seconds_bucket{le="+Inf",method="POST",route="/api/v1/tables/{table}/rows"} 1"#
        ));
        assert!(text.contains(r#"hiring_db_pool_connections{state="idle"}"#));
        assert!(text.ends_with("# EOF\n"));
    }
}

/// With `READS_NEED_TOKEN`, the metrics need the token like any read;
/// a failed restore is counted as failed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_follow_reads_need_token_and_count_failures() {
    let app =
        spawn_app_with_config(test_support::Engine::Sqlite, |c| c.reads_need_token = true).await;
    let response = app.http.get(app.url("/metrics")).send().await.unwrap();
    assert_eq!(response.status(), 401);
    let restore = app
        .restore_raw("jobs", Some(serde_json::json!({"backup": "nothing.avro"})))
        .await;
    assert_eq!(restore.0, 404);
    let response = app
        .http
        .get(app.url("/metrics"))
        .bearer_auth(TOKEN)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let text = response.text().await.unwrap();
    assert!(
        has(
            &text,
            r#"hiring_restores_total{table="jobs",outcome="failed"} 1"#
        ),
        "{text}"
    );
    assert!(
        has(
            &text,
            r#"hiring_http_requests_total{method="GET",route="/metrics",status="401"} 1"#
        ),
        "{text}"
    );
}
