use serde_json::{Value, json};
use test_support::engine_tests;
use test_support::{Engine, TOKEN, spawn_app, spawn_app_with_config};

engine_tests! {
    async fn an_unexpected_database_error_is_an_opaque_500(engine) {
        let app = spawn_app(engine).await;
        let pool = app.db.pool().await;
        sqlx::query("DROP TABLE jobs").execute(&pool).await.unwrap();

        let (status, body) = app.post_csv("jobs", "1,Dev\n").await;

        assert_eq!(status, 500);
        assert_eq!(body, json!({"code": "internal", "message": "internal error"}));
        pool.close().await;
    }

    async fn tables_are_listed_with_their_row_counts(engine) {
        let app = spawn_app(engine).await;
        app.seed_references().await;

        let (status, body) = app.get("/api/v1/tables").await;

        assert_eq!(status, 200);
        assert_eq!(body, json!({"tables": [
            {"name": "departments", "rows": 3},
            {"name": "jobs", "rows": 3},
            {"name": "employees", "rows": 0},
        ]}));
    }

    async fn a_missing_row_or_a_bad_id_or_table_is_a_json_error(engine) {
        let app = spawn_app(engine).await;
        app.seed_references().await;
        let cases = [
            ("/api/v1/tables/jobs/rows/99", 404, "not_found"),
            ("/api/v1/tables/robots/rows/1", 404, "unknown_table"),
            ("/api/v1/tables/robots/rows", 404, "unknown_table"),
            ("/api/v1/tables/jobs/rows/abc", 400, "invalid_parameter"),
            ("/api/v1/tables/jobs/rows/0", 400, "invalid_parameter"),
            ("/api/v1/tables/jobs/rows/2147483648", 400, "invalid_parameter"),
            ("/api/v1/tables/jobs/rows?limit=0", 400, "invalid_parameter"),
            ("/api/v1/tables/jobs/rows?limit=1001", 400, "invalid_parameter"),
            ("/api/v1/tables/jobs/rows?after_id=-1", 400, "invalid_parameter"),
            ("/api/v1/tables/jobs/rows?after_id=x", 400, "invalid_parameter"),
            ("/api/v1/nothing-here", 404, "not_found"),
        ];
        for (path, status, code) in cases {
            let (got, body) = app.get(path).await;
            assert_eq!((got, body["code"].as_str()), (status, Some(code)), "{path}: {body}");
            assert!(body["message"].is_string(), "{body}");
        }
    }

    async fn rows_are_paged_in_id_order_with_a_keyset(engine) {
        let app = spawn_app(engine).await;
        let csv: String = [7, 3, 12, 1, 9].iter().map(|i| format!("{i},Job {i}\n")).collect();
        app.post_csv("jobs", &csv).await;

        let (status, first) = app.get("/api/v1/tables/jobs/rows?limit=2").await;
        assert_eq!(status, 200);
        let ids = |page: &Value| -> Vec<i64> {
            page["rows"].as_array().unwrap().iter().map(|r| r["job_id"].as_i64().unwrap()).collect()
        };
        assert_eq!(ids(&first), [1, 3]);
        assert_eq!(first["next_after_id"], 3);

        let (_, second) = app.get("/api/v1/tables/jobs/rows?limit=2&after_id=3").await;
        assert_eq!(ids(&second), [7, 9]);
        let (_, last) = app.get("/api/v1/tables/jobs/rows?limit=2&after_id=9").await;
        assert_eq!(ids(&last), [12]);
        assert!(last.get("next_after_id").is_none_or(Value::is_null), "{last}");

        let (_, all) = app.get("/api/v1/tables/jobs/rows").await;
        assert_eq!(ids(&all), [1, 3, 7, 9, 12]);
        assert_eq!(all["rows"][0], json!({"job_id": 1, "job_name": "Job 1"}));
    }

    async fn health_and_readiness_answer(engine) {
        let app = spawn_app(engine).await;

        assert_eq!(app.get("/health").await, (200, json!({"status": "ok"})));
        assert_eq!(app.get("/ready").await, (200, json!({"status": "ready"})));
    }

    async fn writes_do_not_answer_get_and_reads_do_not_answer_post(engine) {
        let app = spawn_app(engine).await;

        let response = app.http.delete(app.url("/api/v1/tables/jobs/rows")).send().await.unwrap();
        let allow = response.headers()["allow"].to_str().unwrap().to_owned();
        let (status, body) = test_support::into_json(response).await;
        assert_eq!((status, body["code"].as_str()), (405, Some("method_not_allowed")), "{body}");
        assert_eq!(allow, "GET, POST");
        for (path, allowed) in [
            ("/api/v1/tables", "GET"),
            ("/api/v1/tables/jobs/rows/7", "GET"),
            ("/api/v1/tables/jobs/restore", "POST"),
            ("/openapi.json", "GET"),
        ] {
            let response = app.http.put(app.url(path)).send().await.unwrap();
            assert_eq!(response.status(), 405, "{path}");
            assert_eq!(response.headers()["allow"], allowed, "{path}");
        }
    }
}

#[tokio::test]
async fn swagger_ui_and_the_openapi_document_are_served() {
    let app = spawn_app(Engine::Sqlite).await;

    let docs = app.http.get(app.url("/docs")).send().await.unwrap();
    assert_eq!(docs.status(), 200);
    let html = docs.text().await.unwrap();
    assert!(html.contains("swagger"), "{html}");
    assert!(!html.contains("cdn."), "Swagger UI must work offline");

    let (status, spec) = app.get("/openapi.json").await;
    assert_eq!(status, 200);
    let mut operations: Vec<&str> = spec["paths"]
        .as_object()
        .unwrap()
        .values()
        .flat_map(|path| path.as_object().unwrap().values())
        .map(|operation| operation["operationId"].as_str().unwrap())
        .collect();
    operations.sort_unstable();
    assert_eq!(
        operations,
        [
            "create_backup",
            "get_row",
            "health",
            "home",
            "insert_rows",
            "list_backups",
            "list_rejects",
            "list_rows",
            "list_tables",
            "metrics",
            "ready",
            "report_departments_above_mean",
            "report_hires_by_quarter",
            "restore_backup",
        ]
    );
    insta::assert_json_snapshot!("openapi", spec);
}

#[tokio::test]
async fn the_documented_limits_are_the_shared_constants() {
    // poem-openapi's validators take literals: the document must still say
    // what vocab::MAX_BATCH_ROWS and MAX_PAGE_ROWS say.
    let app = spawn_app(Engine::Sqlite).await;
    let (_, spec) = app.get("/openapi.json").await;
    let limit = |path: &str| {
        spec["paths"][path]["get"]["parameters"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["name"] == "limit")
            .map(|p| p["schema"]["maximum"].as_f64().unwrap())
            .unwrap()
    };
    let page = f64::from(vocab::MAX_PAGE_ROWS);
    assert_eq!(limit("/api/v1/tables/{table}/rows"), page);
    assert_eq!(limit("/api/v1/rejects"), page);
    let insert = &spec["paths"]["/api/v1/tables/{table}/rows"]["post"];
    let json = &insert["requestBody"]["content"]["application/json"]["schema"];
    assert_eq!(json["maxItems"], vocab::MAX_BATCH_ROWS);
    let too_many = insert["responses"]["422"]["description"].as_str().unwrap();
    assert!(
        too_many.contains(&format!("more than {} rows", vocab::MAX_BATCH_ROWS)),
        "{too_many}"
    );
    assert!(
        spec["info"]["description"]
            .as_str()
            .unwrap()
            .contains(&format!("1 to {}", vocab::MAX_BATCH_ROWS))
    );
}

#[tokio::test]
async fn without_a_configured_token_one_is_generated_privately_and_required() {
    use std::os::unix::fs::PermissionsExt;
    let app = spawn_app_with_config(Engine::Sqlite, |config| config.api_token = None).await;

    let path = app.shared_dir.path().join("secrets/api-token");
    let token = std::fs::read_to_string(&path).unwrap().trim().to_owned();
    assert_eq!(
        std::fs::metadata(&path).unwrap().permissions().mode() & 0o777,
        0o600
    );
    let post = |token: &str| {
        app.http
            .post(app.url("/api/v1/tables/jobs/rows"))
            .bearer_auth(token)
            .header("content-type", "text/csv")
            .body("1,Dev\n")
            .send()
    };
    assert_eq!(post(TOKEN).await.unwrap().status(), 403);
    assert_eq!(post(&token).await.unwrap().status(), 200);
}

#[tokio::test]
async fn reads_need_the_token_when_so_configured() {
    let app = spawn_app_with_config(Engine::Sqlite, |config| config.reads_need_token = true).await;
    let get = |path: &str, token: Option<&str>| {
        let request = app.http.get(app.url(path));
        match token {
            Some(token) => request.bearer_auth(token),
            None => request,
        }
        .send()
    };

    assert_eq!(get("/api/v1/tables", None).await.unwrap().status(), 401);
    assert_eq!(get("/api/v1/rejects", None).await.unwrap().status(), 401);
    let head = app
        .http
        .head(app.url("/api/v1/tables"))
        .send()
        .await
        .unwrap();
    assert_eq!(head.status(), 401, "HEAD is a read too");
    let head = app
        .http
        .head(app.url("/api/v1/reports/hires-by-quarter"))
        .send()
        .await
        .unwrap();
    assert_eq!(head.status(), 401, "HEAD is a read too");
    assert_eq!(
        get("/api/v1/tables/jobs/rows/1", Some("wrong"))
            .await
            .unwrap()
            .status(),
        403
    );
    assert_eq!(
        get("/api/v1/tables", Some(TOKEN)).await.unwrap().status(),
        200
    );
    assert_eq!(get("/health", None).await.unwrap().status(), 200);
    assert_eq!(get("/openapi.json", None).await.unwrap().status(), 200);
}

#[tokio::test]
async fn the_healthcheck_flag_sees_a_ready_server_and_a_missing_one() {
    let app = spawn_app(Engine::Sqlite).await;
    let port: u16 = app.address.rsplit(':').next().unwrap().parse().unwrap();

    assert!(api::http::healthcheck::is_ready(format!("0.0.0.0:{port}").parse().unwrap()).await);
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    assert!(!api::http::healthcheck::is_ready(closed).await);

    // The binary's own flag, as a container health check runs it.
    let status = tokio::process::Command::new(crate::API_BIN)
        .args(["--healthcheck", "--api-addr", &format!("127.0.0.1:{port}")])
        .status()
        .await
        .unwrap();
    assert!(status.success());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn json_logs_are_one_object_per_line_with_the_request_id() {
    let db = test_support::TestDb::create(Engine::Sqlite).await;
    let (data, shared) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    // One hire in 2021, so that the report is saved (and logs it).
    for (file, text) in [
        ("departments.csv", "1,Ops\n"),
        ("jobs.csv", "1,Dev\n"),
        ("employees.csv", "1,Ann,2021-05-05T05:05:05Z,1,1\n"),
    ] {
        std::fs::write(data.path().join(file), text).unwrap();
    }
    let port = test_support::free_port();
    let log = shared.path().join("stderr.log");
    let mut child =
        test_support::api_command(crate::API_BIN, &db.url, port, data.path(), shared.path())
            .env("LOG_FORMAT", "json")
            .env("RUST_LOG", "info")
            .stderr(std::fs::File::create(&log).unwrap())
            .spawn()
            .unwrap();
    let http = reqwest::Client::new();
    let url = format!("http://127.0.0.1:{port}/health");
    let mut ready = false;
    for _ in 0..200 {
        if http
            .get(&url)
            .header("x-request-id", "log-me-42")
            .send()
            .await
            .is_ok()
        {
            ready = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let base = format!("http://127.0.0.1:{port}");
    test_support::wait_ready(&http, &base, std::time::Duration::from_secs(60)).await;
    let report = http
        .get(format!(
            "http://127.0.0.1:{port}/api/v1/reports/hires-by-quarter?year=2021"
        ))
        .header("x-request-id", "report-9")
        .send()
        .await;
    child.kill().unwrap();
    child.wait().unwrap();
    assert!(ready, "the API did not start");
    assert_eq!(report.unwrap().status(), 200);

    let text = std::fs::read_to_string(&log).unwrap();
    let lines: Vec<serde_json::Value> = text
        .lines()
        .map(|line| serde_json::from_str(line).unwrap_or_else(|_| panic!("not JSON: {line}")))
        .collect();
    assert!(
        lines
            .iter()
            .all(|l| l["level"].is_string() && l.get("timestamp").is_some())
    );
    assert!(text.contains("log-me-42"), "{text}");
    // Work on a blocking thread logs inside the request's spans.
    let saved = lines
        .iter()
        .find(|l| {
            l["message"]
                .as_str()
                .is_some_and(|m| m.starts_with("report saved"))
        })
        .unwrap_or_else(|| panic!("no report saved line: {text}"));
    let spans = saved["spans"].as_array().unwrap();
    assert!(
        spans.iter().any(|s| s["request_id"] == "report-9"),
        "{saved}"
    );
    assert!(
        spans
            .iter()
            .any(|s| s["name"] == "hires_by_quarter" && s["year"] == 2021),
        "{saved}"
    );
    assert!(!text.contains(TOKEN), "the token was logged");
}

#[tokio::test]
async fn an_incoming_request_id_is_kept_only_when_short_and_plain() {
    let app = spawn_app(Engine::Sqlite).await;
    let id_for = |sent: String| {
        let request = app
            .http
            .get(app.url("/health"))
            .header("x-request-id", sent);
        async move {
            let response = request.send().await.unwrap();
            response.headers()["x-request-id"]
                .to_str()
                .unwrap()
                .to_owned()
        }
    };

    let plain = format!("trace-{}", "a1.:_".repeat(11));
    assert_eq!(plain.len(), 61);
    assert_eq!(id_for(plain.clone()).await, plain);
    for unsafe_id in [
        "x".repeat(65),
        "two words".to_owned(),
        "<script>".to_owned(),
        "newline\\nforged".to_owned(),
    ] {
        let got = id_for(unsafe_id.clone()).await;
        assert_ne!(got, unsafe_id);
        assert!(!got.is_empty() && got.len() <= 64, "{got}");
    }
}

#[test]
fn version_names_the_package_and_the_commit_built() {
    let output = std::process::Command::new(crate::API_BIN)
        .arg("--version")
        .output()
        .unwrap();
    assert!(output.status.success());
    let version = String::from_utf8(output.stdout).unwrap();
    assert!(
        version.starts_with(&format!("api {}", env!("CARGO_PKG_VERSION"))),
        "{version}"
    );
    // Tests run from a git checkout.
    assert!(version.contains("(commit "), "{version}");
}
