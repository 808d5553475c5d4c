use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::path::Path;
use test_support::engine_tests;
use test_support::{
    Engine, TestApp, challenge_fixture, chromium_dom, employee, spawn_app, spawn_app_with_data,
};

/// A small dataset where the answers are known by hand: names that sort
/// differently under a case-insensitive collation, a department with no
/// hires, ties, empty quarters, offsets that move a hire across a quarter
/// or a year in UTC, and hires in 2020 and 2022.
async fn hand_built(engine: Engine) -> TestApp {
    let app = spawn_app(engine).await;
    app.post_csv(
        "departments",
        "1,sales\n2,Sales\n3,Ångström\n4,Zero\n5,apple\n",
    )
    .await;
    app.post_csv("jobs", "1,b-job\n2,A-job\n").await;
    let rows = json!([
        employee(1, "e1", "2021-01-05T10:00:00Z", 2, 2),
        employee(2, "e2", "2021-03-31T23:30:00-02:00", 2, 2),
        employee(3, "e3", "2021-07-01T00:00:00Z", 1, 1),
        employee(4, "e4", "2021-12-31T23:59:59Z", 1, 1),
        employee(5, "e5", "2021-12-31T23:30:00-01:00", 1, 1),
        employee(6, "e6", "2021-10-10T10:10:10Z", 3, 1),
        employee(7, "e7", "2021-02-02T00:00:00Z", 5, 1),
        employee(8, "e8", "2021-02-03T00:00:00Z", 5, 1),
        employee(9, "e9", "2021-05-05T00:00:00Z", 5, 1),
        employee(10, "e10", "2020-12-31T23:59:59Z", 2, 2),
        employee(11, "e11", "2022-01-01T00:00:00Z", 2, 2),
        employee(12, "e12", "2021-01-01T00:30:00+01:00", 2, 2),
        employee(13, "e13", "2021-06-06T06:06:06Z", 2, 1),
    ]);
    let (_, body) = app.post_json("employees", &rows).await;
    assert_eq!(body["inserted"], 13, "{body}");
    app
}

async fn get_text(app: &TestApp, path: &str, accept: Option<&str>) -> (u16, String, String) {
    let mut request = app.http.get(app.url(path));
    if let Some(accept) = accept {
        request = request.header("accept", accept);
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    let content_type = response
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    (status, content_type, response.text().await.unwrap())
}

engine_tests! {
    async fn req1_counts_hires_per_pair_and_utc_quarter_in_code_point_order(engine) {
        let app = hand_built(engine).await;

        let (status, body) = app.get("/api/v1/reports/hires-by-quarter?year=2021").await;

        assert_eq!(status, 200, "{body}");
        assert_eq!(body, json!({"year": 2021, "rows": [
            {"department": "Sales", "job": "A-job", "q1": 1, "q2": 1, "q3": 0, "q4": 0},
            {"department": "Sales", "job": "b-job", "q1": 0, "q2": 1, "q3": 0, "q4": 0},
            {"department": "apple", "job": "b-job", "q1": 2, "q2": 1, "q3": 0, "q4": 0},
            {"department": "sales", "job": "b-job", "q1": 0, "q2": 0, "q3": 1, "q4": 1},
            {"department": "Ångström", "job": "b-job", "q1": 0, "q2": 0, "q3": 0, "q4": 1},
        ]}));
        let (_, csv_type, csv) = get_text(&app, "/api/v1/reports/hires-by-quarter?year=2021&format=csv", None).await;
        assert!(csv_type.starts_with("text/csv"), "{csv_type}");
        assert_eq!(csv, "department,job,Q1,Q2,Q3,Q4\nSales,A-job,1,1,0,0\nSales,b-job,0,1,0,0\napple,b-job,2,1,0,0\nsales,b-job,0,0,1,1\nÅngström,b-job,0,0,0,1\n");
        let (_, other_year) = app.get("/api/v1/reports/hires-by-quarter?year=2022").await;
        assert_eq!(other_year["rows"], json!([{"department": "Sales", "job": "A-job", "q1": 1, "q2": 0, "q3": 0, "q4": 0},
                                               {"department": "sales", "job": "b-job", "q1": 1, "q2": 0, "q3": 0, "q4": 0}]));
        let (_, empty) = app.get("/api/v1/reports/hires-by-quarter?year=1999").await;
        assert_eq!(empty, json!({"year": 1999, "rows": []}));
    }

    async fn req2_lists_departments_above_the_mean_of_all_departments(engine) {
        let app = hand_built(engine).await;

        let (status, body) = app.get("/api/v1/reports/departments-above-mean").await;

        assert_eq!(status, 200, "{body}");
        // 2021: sales 2, Sales 3, Ångström 1, Zero 0, apple 3 -> mean 9 / 5.
        assert_eq!(body, json!({"year": 2021, "mean": 1.8, "rows": [
            {"id": 2, "department": "Sales", "hired": 3},
            {"id": 5, "department": "apple", "hired": 3},
            {"id": 1, "department": "sales", "hired": 2},
        ]}));
        let (_, _, csv) = get_text(&app, "/api/v1/reports/departments-above-mean?format=csv", None).await;
        assert_eq!(csv, "id,department,hired\n2,Sales,3\n5,apple,3\n1,sales,2\n");
    }

    async fn formats_are_negotiated_and_every_request_writes_the_three_files(engine) {
        let app = hand_built(engine).await;
        let path = "/api/v1/reports/departments-above-mean?year=2021";

        let (_, csv_type, _) = get_text(&app, path, Some("text/csv")).await;
        let (_, html_type, html) = get_text(&app, path, Some("text/html,application/xhtml+xml")).await;
        let (_, json_type, _) = get_text(&app, path, Some("application/json")).await;
        let (_, forced, _) = get_text(&app, &format!("{path}&format=json"), Some("text/html")).await;

        assert!(csv_type.starts_with("text/csv"), "{csv_type}");
        assert!(html_type.starts_with("text/html"), "{html_type}");
        assert!(json_type.starts_with("application/json"), "{json_type}");
        assert!(forced.starts_with("application/json"), "{forced}");
        assert!(html.contains("Departments above the mean, 2021") && html.contains("<td>apple</td>"));
        let dir = app.shared_dir.path().join("reports");
        for ext in ["json", "csv", "html"] {
            let file = dir.join(format!("departments-above-mean-2021.{ext}"));
            assert!(file.is_file(), "{}", file.display());
        }
        let saved: Value = serde_json::from_str(&std::fs::read_to_string(dir.join("departments-above-mean-2021.json")).unwrap()).unwrap();
        assert_eq!(saved["rows"][0]["department"], "Sales");
        app.get("/api/v1/reports/hires-by-quarter?year=2020").await;
        assert!(dir.join("hires-by-quarter-2020.html").is_file());
    }

    async fn accept_q_values_are_honoured_and_nothing_acceptable_is_406(engine) {
        let app = hand_built(engine).await;
        let path = "/api/v1/reports/hires-by-quarter?year=2021";
        for (accept, expected) in [
            ("text/html;q=0, text/csv", "text/csv"),
            ("text/html;q=0.4, application/json;q=0.5", "application/json"),
            ("text/*, text/csv;q=0", "text/html"),
        ] {
            let (status, content_type, body) = get_text(&app, path, Some(accept)).await;
            assert_eq!(status, 200, "{accept}: {body}");
            assert!(content_type.starts_with(expected), "{accept}: {content_type}");
        }
        for accept in ["text/html;q=0", "image/png", "*/*;q=0"] {
            let (status, _, body) = get_text(&app, path, Some(accept)).await;
            let error: Value = serde_json::from_str(&body).unwrap();
            assert_eq!((status, error["code"].as_str()), (406, Some("not_acceptable")), "{accept}: {body}");
            let response = app.http.head(app.url(path)).header("accept", accept).send().await.unwrap();
            assert_eq!(response.status(), 406, "HEAD {accept}");
        }
        // An explicit format wins over Accept.
        let (status, content_type, _) = get_text(&app, &format!("{path}&format=csv"), Some("image/png")).await;
        assert_eq!(status, 200);
        assert!(content_type.starts_with("text/csv"), "{content_type}");
    }

    async fn head_answers_the_headers_without_computing_or_writing_a_report(engine) {
        let app = hand_built(engine).await;
        for (query, content_type) in [
            ("", "application/json; charset=utf-8"),
            ("&format=csv", "text/csv; charset=utf-8"),
            ("&format=html", "text/html; charset=utf-8"),
        ] {
            for report in ["hires-by-quarter", "departments-above-mean"] {
                let url = app.url(&format!("/api/v1/reports/{report}?year=2021{query}"));
                let response = app.http.head(url).send().await.unwrap();
                assert_eq!(response.status(), 200, "{report}{query}");
                assert_eq!(response.headers()["content-type"], content_type, "{report}{query}");
            }
        }
        let reports = app.shared_dir.path().join("reports");
        let written = std::fs::read_dir(&reports).map(|files| files.count()).unwrap_or(0);
        assert_eq!(written, 0, "a HEAD wrote report files");
    }

    // Two departments of one name, and two jobs of one name, stay apart in
    // both reports: rows are grouped by ids, names are labels.
    async fn departments_and_jobs_that_share_a_name_stay_apart(engine) {
        let app = spawn_app(engine).await;
        app.post_csv("departments", "1,Ops\n2,Ops\n3,Idle\n").await;
        app.post_csv("jobs", "1,Dev\n2,Dev\n").await;
        let rows = json!([
            employee(1, "a", "2021-01-05T10:00:00Z", 1, 1),
            employee(2, "b", "2021-01-06T10:00:00Z", 1, 2),
            employee(3, "c", "2021-04-05T10:00:00Z", 2, 1),
            employee(4, "d", "2021-04-06T10:00:00Z", 2, 1),
        ]);
        let (_, body) = app.post_json("employees", &rows).await;
        assert_eq!(body["inserted"], 4, "{body}");

        let (status, req1) = app.get("/api/v1/reports/hires-by-quarter?year=2021").await;
        assert_eq!(status, 200, "{req1}");
        let quarters: Vec<(String, String, i64, i64)> = req1["rows"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| (r["department"].as_str().unwrap().to_owned(), r["job"].as_str().unwrap().to_owned(), r["q1"].as_i64().unwrap(), r["q2"].as_i64().unwrap()))
            .collect();
        let ops_dev = |q1, q2| ("Ops".to_owned(), "Dev".to_owned(), q1, q2);
        // (1,1), (1,2), (2,1): three pairs, though all are "Ops", "Dev".
        assert_eq!(quarters, [ops_dev(1, 0), ops_dev(1, 0), ops_dev(0, 2)]);

        let (status, req2) = app.get("/api/v1/reports/departments-above-mean?year=2021").await;
        assert_eq!(status, 200, "{req2}");
        let above: Vec<(i64, i64)> = req2["rows"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| (r["id"].as_i64().unwrap(), r["hired"].as_i64().unwrap()))
            .collect();
        assert_eq!(above, [(1, 2), (2, 2)], "{req2}");
    }

    // More jobs and departments than one MySQL count names (1000 jobs;
    // 20,000 pairs): every corner of the catalogue is still counted.
    async fn a_catalogue_larger_than_one_count_is_counted_whole(engine) {
        let app = spawn_app(engine).await;
        let departments: String = (1..=25).map(|id| format!("{id},d{id:02}\n")).collect();
        app.post_csv("departments", &departments).await;
        for ids in [1..=1000, 1001..=1005] {
            let jobs: String = ids.map(|id| format!("{id},j{id:04}\n")).collect();
            app.post_csv("jobs", &jobs).await;
        }
        let rows = json!([
            employee(1, "a", "2021-01-05T10:00:00Z", 1, 1),
            employee(2, "b", "2021-05-05T10:00:00Z", 20, 1000),
            employee(3, "c", "2021-08-05T10:00:00Z", 21, 1001),
            employee(4, "d", "2021-11-05T10:00:00Z", 25, 1005),
            employee(5, "e", "2021-12-31T23:59:59Z", 25, 1005),
            employee(6, "f", "2021-02-05T10:00:00Z", 21, 1),
            employee(7, "g", "2022-01-01T00:00:00Z", 25, 1005),
        ]);
        let (_, body) = app.post_json("employees", &rows).await;
        assert_eq!(body["inserted"], 7, "{body}");

        let (status, req1) = app.get("/api/v1/reports/hires-by-quarter?year=2021").await;

        assert_eq!(status, 200, "{req1}");
        assert_eq!(req1["rows"], json!([
            {"department": "d01", "job": "j0001", "q1": 1, "q2": 0, "q3": 0, "q4": 0},
            {"department": "d20", "job": "j1000", "q1": 0, "q2": 1, "q3": 0, "q4": 0},
            {"department": "d21", "job": "j0001", "q1": 1, "q2": 0, "q3": 0, "q4": 0},
            {"department": "d21", "job": "j1001", "q1": 0, "q2": 0, "q3": 1, "q4": 0},
            {"department": "d25", "job": "j1005", "q1": 0, "q2": 0, "q3": 0, "q4": 2},
        ]));
        let (status, req2) = app.get("/api/v1/reports/departments-above-mean?year=2021").await;
        assert_eq!(status, 200, "{req2}");
        // 6 hires over 25 departments.
        assert_eq!(req2, json!({"year": 2021, "mean": 0.24, "rows": [
            {"id": 21, "department": "d21", "hired": 2},
            {"id": 25, "department": "d25", "hired": 2},
            {"id": 1, "department": "d01", "hired": 1},
            {"id": 20, "department": "d20", "hired": 1},
        ]}));
    }

    // Names a spreadsheet would run as formulas are defused in the CSV the
    // API answers and in the file it saves; JSON keeps them as they are.
    async fn report_csv_defuses_formulas_and_json_keeps_names(engine) {
        let app = spawn_app(engine).await;
        app.post_csv("departments", "1,\"=HYPERLINK(\"\"http://evil\"\",\"\"x\"\")\"\n2,@SUM(A1)\n").await;
        app.post_csv("jobs", "1,+cmd\n").await;
        let rows = json!([
            employee(1, "a", "2021-01-05T10:00:00Z", 1, 1),
            employee(2, "b", "2021-01-06T10:00:00Z", 2, 1),
        ]);
        let (_, body) = app.post_json("employees", &rows).await;
        assert_eq!(body["inserted"], 2, "{body}");

        let (status, _, csv) = get_text(&app, "/api/v1/reports/hires-by-quarter?year=2021", Some("text/csv")).await;
        assert_eq!(status, 200, "{csv}");
        assert_eq!(
            csv,
            "department,job,Q1,Q2,Q3,Q4\n\
             \"'=HYPERLINK(\"\"http://evil\"\",\"\"x\"\")\",'+cmd,1,0,0,0\n\
             '@SUM(A1),'+cmd,1,0,0,0\n"
        );
        let saved = std::fs::read_to_string(app.shared_dir.path().join("reports/hires-by-quarter-2021.csv")).unwrap();
        assert_eq!(saved, csv);
        let (_, json) = app.get("/api/v1/reports/hires-by-quarter?year=2021").await;
        assert_eq!(json["rows"][0]["department"], "=HYPERLINK(\"http://evil\",\"x\")");
    }

    // Twenty identical report requests at once all answer 200, and the
    // saved files are whole, with no temp file left behind.
    async fn concurrent_identical_reports_all_succeed_and_leave_whole_files(engine) {
        let app = hand_built(engine).await;
        let path = "/api/v1/reports/hires-by-quarter?year=2021";
        let requests = (0..20).map(|i| {
            let accept = ["application/json", "text/csv", "text/html"][i % 3];
            get_text(&app, path, Some(accept))
        });
        let answers = futures::future::join_all(requests).await;
        for (status, _, body) in &answers {
            assert_eq!(*status, 200, "{body}");
        }
        let dir = app.shared_dir.path().join("reports");
        let mut names: Vec<String> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        assert_eq!(names, ["hires-by-quarter-2021.csv", "hires-by-quarter-2021.html", "hires-by-quarter-2021.json"]);
        let (_, _, csv) = get_text(&app, path, Some("text/csv")).await;
        assert_eq!(std::fs::read_to_string(dir.join("hires-by-quarter-2021.csv")).unwrap(), csv);
        let json: Value = serde_json::from_slice(&std::fs::read(dir.join("hires-by-quarter-2021.json")).unwrap()).unwrap();
        assert_eq!(json["year"], 2021);
        assert!(std::fs::read_to_string(dir.join("hires-by-quarter-2021.html")).unwrap().trim_end().ends_with("</html>"));
    }

    // The saved files are rewritten only when the counts change: the same
    // request again leaves them as they were (same inodes); a new hire
    // rewrites them. A year without hires answers and saves nothing.
    async fn saved_reports_are_rewritten_only_when_their_data_changes(engine) {
        use std::os::unix::fs::MetadataExt;
        let app = hand_built(engine).await;
        let dir = app.shared_dir.path().join("reports");
        let inodes = || -> Vec<u64> {
            ["json", "csv", "html"]
                .iter()
                .map(|ext| std::fs::metadata(dir.join(format!("hires-by-quarter-2021.{ext}"))).unwrap().ino())
                .collect()
        };
        let path = "/api/v1/reports/hires-by-quarter?year=2021";
        let (status, _, first_csv) = get_text(&app, path, Some("text/csv")).await;
        assert_eq!(status, 200);
        let first = inodes();
        for accept in ["application/json", "text/csv", "text/html"] {
            let (status, _, body) = get_text(&app, path, Some(accept)).await;
            assert_eq!(status, 200, "{body}");
        }
        assert_eq!(inodes(), first, "unchanged data rewrote the files");
        let (_, _, again) = get_text(&app, path, Some("text/csv")).await;
        assert_eq!(again, first_csv);

        let (_, body) = app.post_json("employees", &json!([employee(99, "new", "2021-08-08T08:08:08Z", 4, 1)])).await;
        assert_eq!(body["inserted"], 1, "{body}");
        let (_, _, changed) = get_text(&app, path, Some("text/csv")).await;
        assert_ne!(changed, first_csv);
        assert!(inodes().iter().zip(&first).all(|(now, then)| now != then), "new data did not rewrite every file");
        assert_eq!(std::fs::read_to_string(dir.join("hires-by-quarter-2021.csv")).unwrap(), changed);

        let (status, empty) = app.get("/api/v1/reports/hires-by-quarter?year=1950").await;
        assert_eq!((status, empty["rows"].as_array().map(Vec::len)), (200, Some(0)));
        let (status, _) = app.get("/api/v1/reports/departments-above-mean?year=1950").await;
        assert_eq!(status, 200);
        assert!(!dir.join("hires-by-quarter-1950.json").exists());
        assert!(!dir.join("departments-above-mean-1950.json").exists());
    }

    async fn bad_report_parameters_are_json_400s(engine) {
        let app = spawn_app(engine).await;
        for path in [
            "/api/v1/reports/hires-by-quarter?year=1899",
            "/api/v1/reports/hires-by-quarter?year=2101",
            "/api/v1/reports/hires-by-quarter?year=twenty",
            "/api/v1/reports/departments-above-mean?format=xml",
            "/api/v1/reports/departments-above-mean?year=",
        ] {
            let (status, body) = app.get(path).await;
            assert_eq!((status, body["code"].as_str()), (400, Some("invalid_parameter")), "{path}: {body}");
        }
        let (status, body) = app.get("/api/v1/reports/departments-above-mean").await;
        assert_eq!((status, body), (200, json!({"year": 2021, "mean": 0.0, "rows": []})));
    }

    async fn req2_of_the_challenge_dataset_matches_an_independent_count(engine) {
        let app = spawn_app_with_data(engine, |dir| {
            for name in ["departments.csv", "jobs.csv", "employees.csv"] {
                std::fs::copy(challenge_fixture().join(name), dir.join(name)).unwrap();
            }
        })
        .await;

        let (status, body) = app.get("/api/v1/reports/departments-above-mean?year=2021").await;

        assert_eq!(status, 200, "{body}");
        let expected = independent_req2(&challenge_fixture(), 2021);
        let got: Vec<(i64, String, i64)> = body["rows"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| (r["id"].as_i64().unwrap(), r["department"].as_str().unwrap().to_owned(), r["hired"].as_i64().unwrap()))
            .collect();
        assert!(!got.is_empty());
        assert_eq!(got, expected);
    }
}

/// req2 computed straight from the CSV files, without the service: complete
/// rows only, UTC year, mean over all departments.
fn independent_req2(dir: &Path, year: i32) -> Vec<(i64, String, i64)> {
    let read = |name: &str| -> Vec<Vec<String>> {
        let mut reader = csv::ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            .from_path(dir.join(name))
            .unwrap();
        reader
            .records()
            .map(|r| r.unwrap().iter().map(str::to_owned).collect())
            .collect()
    };
    let departments: BTreeMap<i64, String> = read("departments.csv")
        .into_iter()
        .map(|r| (r[0].parse().unwrap(), r[1].clone()))
        .collect();
    let mut hired: BTreeMap<i64, i64> = departments.keys().map(|id| (*id, 0)).collect();
    for row in read("employees.csv") {
        if row.len() != 5 || row.iter().any(|f| f.trim().is_empty()) {
            continue;
        }
        let date = chrono::DateTime::parse_from_rfc3339(&row[2])
            .unwrap()
            .with_timezone(&chrono::Utc);
        if chrono::Datelike::year(&date) == year {
            *hired.get_mut(&row[3].parse().unwrap()).unwrap() += 1;
        }
    }
    let mean = hired.values().sum::<i64>() as f64 / hired.len() as f64;
    let mut rows: Vec<(i64, String, i64)> = hired
        .iter()
        .filter(|(_, n)| **n as f64 > mean)
        .map(|(id, n)| (*id, departments[id].clone(), *n))
        .collect();
    rows.sort_by(|a, b| b.2.cmp(&a.2).then_with(|| a.1.cmp(&b.1)));
    rows
}

/// Loads each report page in headless Chromium with the network cut off and
/// checks that plotly drew the chart.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn report_pages_render_offline_in_headless_chromium() {
    let app = hand_built(Engine::Sqlite).await;
    for path in [
        "/api/v1/reports/hires-by-quarter?format=html",
        "/api/v1/reports/departments-above-mean?format=html",
    ] {
        let (status, _, html) = get_text(&app, path, None).await;
        assert_eq!(status, 200);
        let page = app.shared_dir.path().join("page.html");
        std::fs::write(&page, html).unwrap();
        let url = format!("file://{}", page.display());
        let (dom, stderr) = tokio::task::spawn_blocking(move || chromium_dom(&url, 15_000))
            .await
            .unwrap();
        assert!(
            dom.contains("<svg class=\"main-svg\""),
            "{path}: no chart drawn; stderr: {stderr}"
        );
    }
}
