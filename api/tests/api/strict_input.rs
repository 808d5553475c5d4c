//! Strict input: a request that is not exactly what its operation documents
//! (shape, Content-Type and charset, Content-Encoding) is refused before
//! anything acts on it; above all, a malformed restore never restores.
use crate::backups::seeded;
use serde_json::json;
use test_support::{Engine, TestApp, employee, engine_tests};

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
}
