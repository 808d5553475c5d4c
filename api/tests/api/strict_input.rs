//! Strict input: a request that is not exactly what its operation documents
//! (shape, Content-Type and charset, Content-Encoding) is refused before
//! anything acts on it; above all, a malformed restore never restores.
use crate::backups::seeded;
use serde_json::json;
use test_support::{Engine, TestApp, employee, engine_tests};
use vocab::Record;

const JSON: &str = "application/json";

/// Stores one more employee after the newest backup, so that a restore
/// that should not have run shows as that row being gone.
async fn backed_up_then_one_more(engine: Engine) -> (TestApp, String) {
    let app = seeded(engine).await;
    let backup = app.backup("employees").await.ok().name;
    let late = json!([employee(99, "Late Hire", "2021-05-05T00:00:00Z", 1, 1)]);
    assert_eq!(app.ingest_json("employees", &late).await.ok().inserted, 1);
    (app, backup)
}

async fn has_late_hire(app: &TestApp) -> bool {
    app.row("employees", 99).await.status == 200
}

/// Posts `body` (JSON text as sent) to `table` and returns each row's
/// (code, field) in batch order, `None` for a stored row.
async fn verdicts(app: &TestApp, table: &str, body: &str) -> Vec<Option<(String, String)>> {
    let path = format!("/api/v1/tables/{table}/rows");
    let (status, answer) = app
        .post_with(&path, &[("content-type", JSON)], body.to_owned())
        .await;
    assert_eq!(status, 200, "{answer}");
    let received = answer["received"].as_u64().unwrap() as usize;
    let mut verdicts = vec![None; received];
    for error in answer["errors"].as_array().unwrap() {
        let at = error["row"].as_u64().unwrap() as usize;
        let text = |key: &str| error[key].as_str().unwrap_or_default().to_owned();
        verdicts[at] = Some((text("code"), text("field")));
    }
    verdicts
}

async fn department_name(app: &TestApp, id: i64) -> String {
    match app.row("departments", id).await.ok() {
        Record::Department(department) => department.department_name,
        other => panic!("not a department: {other:?}"),
    }
}

fn rejected(code: &str, field: &str) -> Option<(String, String)> {
    Some((code.to_owned(), field.to_owned()))
}

engine_tests! {
    async fn a_restore_body_that_is_not_one_object_restores_nothing(engine) {
        let (app, backup) = backed_up_then_one_more(engine).await;
        let path = "/api/v1/tables/employees/restore";
        let bodies = [
            "[]".to_owned(),
            format!("[\"{backup}\"]"),
            "null".to_owned(),
            format!("\"{backup}\""),
            "1".to_owned(),
            format!("{{\"backup\":\"{backup}\",\"backup\":\"{backup}\"}}"),
            format!("{{\"backup\":\"{backup}\",\"table\":\"jobs\"}}"),
            "{} []".to_owned(),
        ];
        for body in bodies {
            let (status, error) = app.post_with(path, &[("content-type", JSON)], body.clone()).await;
            assert_eq!((status, error["code"].as_str()), (400, Some("invalid_json")), "{body}: {error}");
            assert!(has_late_hire(&app).await, "{body} restored the table");
        }
        // The documented forms still work: an object, or no body at all.
        let named = format!("{{\"backup\": \"{backup}\"}}");
        let (status, answer) = app.post_with(path, &[("content-type", JSON)], named).await;
        assert_eq!(status, 200, "{answer}");
        assert!(!has_late_hire(&app).await);
    }

    async fn a_restore_body_of_another_content_type_restores_nothing(engine) {
        let (app, backup) = backed_up_then_one_more(engine).await;
        let path = "/api/v1/tables/employees/restore";
        let body = format!("{{\"backup\":\"{backup}\"}}");
        for content_type in [
            None,
            Some("text/plain"),
            Some("application/x-www-form-urlencoded"),
            Some("application/json; charset=utf-16"),
            Some("application/json-patch+json"),
        ] {
            let headers: Vec<(&str, &str)> = content_type.iter().map(|t| ("content-type", *t)).collect();
            let (status, error) = app.post_with(path, &headers, body.clone()).await;
            assert_eq!(
                (status, error["code"].as_str()),
                (415, Some("unsupported_media_type")),
                "{content_type:?}: {error}"
            );
            assert!(has_late_hire(&app).await, "{content_type:?} restored the table");
        }
        let gzip = [("content-type", JSON), ("content-encoding", "gzip")];
        let (status, error) = app.post_with(path, &gzip, body.clone()).await;
        assert_eq!((status, error["code"].as_str()), (415, Some("unsupported_media_type")), "{error}");
        assert!(has_late_hire(&app).await);
        // An empty body needs no type: it restores the newest backup.
        let (status, answer) = app.post_with(path, &[("content-type", "text/plain")], "").await;
        assert_eq!(status, 200, "{answer}");
        assert!(!has_late_hire(&app).await);
    }

    async fn bodies_are_refused_where_none_is_documented_or_encoded(engine) {
        let app = seeded(engine).await;
        let (status, error) = app
            .post_with("/api/v1/tables/jobs/backups", &[("content-type", JSON)], "{}")
            .await;
        assert_eq!((status, error["code"].as_str()), (415, Some("unsupported_media_type")), "{error}");
        assert!(app.backups("jobs").await.ok().backups.is_empty());
        let (status, answer) = app.post_with("/api/v1/tables/jobs/backups", &[], "").await;
        assert_eq!(status, 201, "{answer}");

        let rows = "[{\"job_id\": 50, \"job_name\": \"Gzip\"}]";
        let path = "/api/v1/tables/jobs/rows";
        for headers in [
            [("content-type", JSON), ("content-encoding", "gzip")],
            [("content-type", JSON), ("content-encoding", "br")],
            [("content-type", "application/json; charset=utf-16"), ("x-ignored", "")],
            [("content-type", "application/json;charset=latin1"), ("x-ignored", "")],
        ] {
            let (status, error) = app.post_with(path, &headers, rows).await;
            assert_eq!(
                (status, error["code"].as_str()),
                (415, Some("unsupported_media_type")),
                "{headers:?}: {error}"
            );
        }
        assert_eq!(app.row("jobs", 50).await.status, 404);
        let fine = [("content-type", "Application/JSON; charset=UTF-8"), ("content-encoding", "identity")];
        let (status, answer) = app.post_with(path, &fine, rows).await;
        assert_eq!((status, answer["inserted"].as_u64()), (200, Some(1)), "{answer}");
    }

    async fn json_rows_with_a_repeated_key_are_rejected_not_last_one_wins(engine) {
        let app = test_support::spawn_app(engine).await;
        let body = r#"[
            {"job_id": 905, "job_id": 906, "job_name": "Twice"},
            {"job_id": 907, "job_name": "A", "job_name": "B"},
            {"job_id": 908, "job_name": "Once"}
        ]"#;
        assert_eq!(
            verdicts(&app, "jobs", body).await,
            [rejected("duplicate_field", "job_id"), rejected("duplicate_field", "job_name"), None]
        );
        for id in [905, 906, 907] {
            assert_eq!(app.row("jobs", id).await.status, 404, "job {id} was stored");
        }
        // The reject keeps the row as sent, both keys included.
        let rejects = app.rejects().await;
        assert_eq!(rejects[0].raw, r#"{"job_id":905,"job_id":906,"job_name":"Twice"}"#);
        assert_eq!(rejects[0].code.as_str(), "duplicate_field");
    }

    async fn ids_beyond_any_integer_type_are_out_of_range_and_odd_numbers_row_level(engine) {
        let app = test_support::spawn_app(engine).await;
        let body = r#"[
            {"job_id": 9223372036854775808, "job_name": "Past i64"},
            {"job_id": 18446744073709551616, "job_name": "Past u64"},
            {"job_id": 123456789012345678901234567890, "job_name": "Far"},
            {"job_id": 1e400, "job_name": "Not a double"},
            {"job_id": 2.0, "job_name": "A fraction"},
            {"job_id": 3, "job_name": "\ud800"},
            {"job_id": 4, "job_name": "Fine"}
        ]"#;
        assert_eq!(
            verdicts(&app, "jobs", body).await,
            [
                rejected("out_of_range", "job_id"),
                rejected("out_of_range", "job_id"),
                rejected("out_of_range", "job_id"),
                rejected("invalid_integer", "job_id"),
                rejected("invalid_integer", "job_id"),
                rejected("invalid_name", "job_name"),
                None,
            ]
        );
        let rejects = app.rejects().await;
        assert_eq!(rejects[0].message, "`9223372036854775808` is outside 1..=2147483647");
        assert_eq!(rejects[3].raw, r#"{"job_id":1e400,"job_name":"Not a double"}"#);
        assert!(rejects[5].message.contains("not Unicode text"), "{}", rejects[5].message);
        // CSV ids alike: any integer literal out of range, however long.
        let csv = "99999999999999999999,Far\n-9223372036854775809,Below\n5,Fine\n";
        let answer = app.ingest_csv("jobs", csv).await.ok();
        let codes: Vec<_> = answer.errors.iter().map(|e| (e.row, e.code.as_str())).collect();
        assert_eq!(codes, [(0, "out_of_range"), (1, "out_of_range")]);
        assert_eq!(answer.errors[0].message, "`99999999999999999999` is outside 1..=2147483647");
        assert_eq!(app.tables().await.ok().tables.iter().map(|t| t.rows).sum::<i64>(), 2);
    }

    async fn invisible_names_are_missing_and_spoofing_ones_invalid(engine) {
        let app = test_support::spawn_app(engine).await;
        let body = serde_json::to_string(&json!([
            {"department_id": 1, "department_name": "\u{200B}"},
            {"department_id": 2, "department_name": " \u{FEFF}\u{2060} "},
            {"department_id": 3, "department_name": "Sales\u{202E}lanretni"},
            {"department_id": 4, "department_name": "\u{2066}Ops"},
            {"department_id": 5, "department_name": "R&D\u{FFFE}"},
            {"department_id": 6, "department_name": "\u{200B}Persian: می\u{200C}خواهم\u{200B}"},
            {"department_id": 7, "department_name": "Jose\u{301}"},
        ]))
        .unwrap();
        assert_eq!(
            verdicts(&app, "departments", &body).await,
            [
                rejected("missing_field", "department_name"),
                rejected("missing_field", "department_name"),
                rejected("invalid_name", "department_name"),
                rejected("invalid_name", "department_name"),
                rejected("invalid_name", "department_name"),
                None,
                None,
            ]
        );
        // Trimmed at the ends, kept as sent inside, never normalised.
        assert_eq!(department_name(&app, 6).await, "Persian: می\u{200C}خواهم");
        assert_eq!(department_name(&app, 7).await, "Jose\u{301}");
        // The same rules hold for CSV bodies.
        let csv = "8,\u{200B}\u{200B}\n9,x\u{202D}y\n10,Ok\u{200D}\n";
        let answer = app.ingest_csv("departments", csv).await.ok();
        let codes: Vec<_> = answer.errors.iter().map(|e| (e.row, e.code.as_str())).collect();
        assert_eq!(codes, [(0, "missing_field"), (1, "invalid_name")]);
        assert_eq!(department_name(&app, 10).await, "Ok");
    }
}
