use serde_json::{Value, json};
use test_support::engine_tests;
use test_support::{TOKEN, TestApp, employee, spawn_app};
use vocab::RejectCode;
use vocab::{JobRecord, Record, RejectSource};

fn codes(body: &Value) -> Vec<(u64, String)> {
    body["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["row"].as_u64().unwrap(),
                e["code"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

/// `POST /api/v1/tables/employees/rows?dry_run=true`.
async fn dry_run(app: &TestApp, content_type: &str, body: Vec<u8>) -> (u16, Value) {
    let path = "/api/v1/tables/employees/rows?dry_run=true";
    app.post_with(path, &[("content-type", content_type)], body)
        .await
}

engine_tests! {
    // A dry run checks a batch exactly as an ingest does and answers the
    // same report, marked as a dry run; nothing is stored or recorded.
    async fn a_dry_run_reports_what_an_ingest_would_do_and_stores_nothing(engine) {
        let app = spawn_app(engine).await;
        app.seed_references().await;
        let stored = json!([employee(1, "Ana", "2021-01-05T10:00:00Z", 1, 1)]);
        assert_eq!(app.post_json("employees", &stored).await.1["inserted"], 1);
        let batch = json!([
            employee(2, "Bo", "2021-02-05T10:00:00Z", 1, 1),
            employee(1, "Ana", "2021-01-05T10:00:00Z", 1, 1),
            employee(3, "Cy", "2021-02-05T10:00:00Z", 99, 1),
            employee(2, "Bo again", "2021-02-05T10:00:00Z", 1, 1),
            employee(1, "Ana, changed", "2021-01-05T10:00:00Z", 1, 1),
            employee(4, "Di", "yesterday", 1, 1),
        ]);
        let (status, report) = dry_run(&app, "application/json", batch.to_string().into_bytes()).await;

        assert_eq!(status, 200, "{report}");
        assert_eq!(report["dry_run"], true, "{report}");
        assert_eq!((report["received"].as_u64(), report["inserted"].as_u64(), report["already_stored"].as_u64(), report["rejected"].as_u64()),
                   (Some(6), Some(1), Some(1), Some(4)));
        let expected = [(2, "unknown_department"), (3, "duplicate_id"), (4, "duplicate_id"), (5, "invalid_datetime")];
        let expected: Vec<(u64, String)> = expected.iter().map(|(row, code)| (*row, (*code).to_owned())).collect();
        assert_eq!(codes(&report), expected, "{report}");
        assert_eq!(app.counts().await.2, 1, "a dry run stored rows");
        assert!(app.rejects().await.is_empty(), "a dry run recorded rejects");
        let (_, csv_report) = dry_run(&app, "text/csv", b"2,Bo,2021-02-05T10:00:00Z,1,1\n3,Cy,2021-02-05T10:00:00Z,99,1\n".to_vec()).await;
        assert_eq!((csv_report["inserted"].as_u64(), csv_report["rejected"].as_u64(), csv_report["dry_run"].as_bool()), (Some(1), Some(1), Some(true)));
        assert_eq!(app.counts().await.2, 1);

        // The same batch for real: the same report, without the mark.
        let (_, real) = app.post_json("employees", &batch).await;
        let mut unmarked = report.clone();
        unmarked.as_object_mut().unwrap().remove("dry_run");
        assert_eq!(real, unmarked);
        assert_eq!(app.counts().await.2, 2);
        assert_eq!(app.rejects().await.len(), 4);
        let (status, refused) = app.post_with("/api/v1/tables/employees/rows?dry_run=maybe", &[("content-type", "application/json")], batch.to_string()).await;
        assert_eq!(status, 400, "{refused}");
    }

    async fn a_json_batch_of_valid_rows_is_stored_and_read_back(engine) {
        let app = spawn_app(engine).await;
        app.seed_references().await;

        let batch = json!([
            employee(1, "Ana", "2021-01-05T10:00:00Z", 1, 1),
            employee(2, "Bo", "2021-03-31T23:30:00-02:00", 2, 3),
        ]);
        let (status, body) = app.post_json("employees", &batch).await;

        assert_eq!(status, 200, "{body}");
        assert_eq!(body, json!({"table": "employees", "received": 2, "inserted": 2, "already_stored": 0, "rejected": 0, "errors": []}));
        let (status, row) = app.get("/api/v1/tables/employees/rows/2").await;
        assert_eq!(status, 200);
        assert_eq!(row, employee(2, "Bo", "2021-04-01T01:30:00Z", 2, 3));
        assert_eq!(app.counts().await, (3, 3, 2));
        assert!(app.rejects().await.is_empty());
    }

    async fn a_csv_body_with_bom_crlf_quotes_and_no_final_newline_is_stored(engine) {
        let app = spawn_app(engine).await;

        let body = "\u{feff}1,\"Sales, North\"\r\n2,\"The \"\"Best\"\" Team\"\r\n3,Ops";
        let (status, result) = app.post_raw("departments", "text/csv; charset=utf-8", body.into()).await;

        assert_eq!(status, 200, "{result}");
        assert_eq!(result["inserted"], 3);
        let (_, row) = app.get("/api/v1/tables/departments/rows/2").await;
        assert_eq!(row, json!({"department_id": 2, "department_name": "The \"Best\" Team"}));
        let (_, row) = app.get("/api/v1/tables/departments/rows/1").await;
        assert_eq!(row["department_name"], "Sales, North");
    }

    async fn unicode_and_sql_looking_names_are_stored_verbatim(engine) {
        let app = spawn_app(engine).await;
        let names = [
            "Robert'); DROP TABLE departments;--",
            "李小龍 🚀",
            "Ñandú \\ \"quoted\" % _",
            &"é".repeat(255),
        ];
        let batch: Vec<Value> = names
            .iter()
            .enumerate()
            .map(|(i, name)| json!({"department_id": i + 1, "department_name": name}))
            .collect();

        let (status, body) = app.post_json("departments", &Value::Array(batch)).await;

        assert_eq!((status, body["inserted"].as_u64()), (200, Some(4)), "{body}");
        for (i, name) in names.iter().enumerate() {
            let (_, row) = app.get(&format!("/api/v1/tables/departments/rows/{}", i + 1)).await;
            assert_eq!(row["department_name"], *name);
        }
        assert_eq!(app.counts().await.0, 4);
    }

    async fn every_dictionary_rule_rejects_its_bad_values_row_by_row(engine) {
        let app = spawn_app(engine).await;
        app.seed_references().await;
        let (_, first) = app.post_json("employees", &json!([employee(1, "Existing", "2021-01-01T00:00:00Z", 1, 1)])).await;
        assert_eq!(first["inserted"], 1);

        let long = "x".repeat(256);
        let rows = json!([
            /* 0 */ employee(10, "Good", "2021-02-01T00:00:00+05:30", 1, 1),
            /* 1 */ {"employee_id": 11, "employee_name": "No job", "hiring_date": "2021-01-01T00:00:00Z", "department_id": 1},
            /* 2 */ {"employee_id": "12", "employee_name": "String id", "hiring_date": "2021-01-01T00:00:00Z", "department_id": 1, "job_id": 1},
            /* 3 */ employee(0, "Zero", "2021-01-01T00:00:00Z", 1, 1),
            /* 4 */ employee(2_147_483_648, "Too big", "2021-01-01T00:00:00Z", 1, 1),
            /* 5 */ employee(15, &long, "2021-01-01T00:00:00Z", 1, 1),
            /* 6 */ employee(16, "Tab\tinside", "2021-01-01T00:00:00Z", 1, 1),
            /* 7 */ employee(17, "   ", "2021-01-01T00:00:00Z", 1, 1),
            /* 8 */ employee(18, "No zone", "2021-01-01T00:00:00", 1, 1),
            /* 9 */ employee(19, "Bad day", "2021-02-30T00:00:00Z", 1, 1),
            /* 10 */ employee(20, "No dept", "2021-01-01T00:00:00Z", 99, 1),
            /* 11 */ employee(21, "No job", "2021-01-01T00:00:00Z", 1, 99),
            /* 12 */ employee(1, "Dup of stored", "2021-01-01T00:00:00Z", 1, 1),
            /* 13 */ employee(10, "Dup in batch", "2021-01-01T00:00:00Z", 1, 1),
            /* 14 */ {"employee_id": 24, "employee_name": "Extra", "hiring_date": "2021-01-01T00:00:00Z", "department_id": 1, "job_id": 1, "salary": 5},
            /* 15 */ {"employee_id": 25, "employee_name": null, "hiring_date": "2021-01-01T00:00:00Z", "department_id": 1, "job_id": 1},
            /* 16 */ {"employee_id": 26.5, "employee_name": "Float", "hiring_date": "2021-01-01T00:00:00Z", "department_id": 1, "job_id": 1},
            /* 17 */ employee(2_147_483_647, "Max id", "2021-12-31T23:59:59Z", 3, 3),
        ]);

        let (status, body) = app.post_json("employees", &rows).await;

        assert_eq!(status, 200, "{body}");
        assert_eq!(
            codes(&body),
            [
                (1, "missing_field"),
                (2, "invalid_integer"),
                (3, "out_of_range"),
                (4, "out_of_range"),
                (5, "invalid_name"),
                (6, "invalid_name"),
                (7, "missing_field"),
                (8, "invalid_datetime"),
                (9, "invalid_datetime"),
                (10, "unknown_department"),
                (11, "unknown_job"),
                (12, "duplicate_id"),
                (13, "duplicate_id"),
                (14, "unknown_field"),
                (15, "missing_field"),
                (16, "invalid_integer"),
            ]
            .map(|(row, code)| (row, code.to_owned()))
        );
        assert_eq!((body["received"].as_u64(), body["inserted"].as_u64(), body["rejected"].as_u64()), (Some(18), Some(2), Some(16)));
        let fields: Vec<&str> = body["errors"].as_array().unwrap().iter().map(|e| e["field"].as_str().unwrap_or("-")).collect();
        assert_eq!(&fields[..4], ["job_id", "employee_id", "employee_id", "employee_id"]);
        assert_eq!(body["errors"][9]["id"], 20);
        let (_, kept) = app.get("/api/v1/tables/employees/rows/10").await;
        assert_eq!(kept, employee(10, "Good", "2021-01-31T18:30:00Z", 1, 1));
        let (_, existing) = app.get("/api/v1/tables/employees/rows/1").await;
        assert_eq!(existing["employee_name"], "Existing");
        assert_eq!(app.counts().await.2, 3);
    }

    async fn csv_rows_of_the_wrong_width_or_encoding_are_rejected_alone(engine) {
        let app = spawn_app(engine).await;

        let (status, body) = app.post_csv("jobs", "1,Dev\n2\n3,QA,extra\n,Empty id\n4,\"Quoted, name\"\n").await;

        assert_eq!(status, 200, "{body}");
        assert_eq!(
            codes(&body),
            [(1, "wrong_field_count"), (2, "wrong_field_count"), (3, "missing_field")].map(|(r, c)| (r, c.to_owned()))
        );
        assert_eq!(app.counts().await.1, 2);
    }

    async fn each_reject_is_logged_with_its_reason_and_request_id(engine) {
        let app = spawn_app(engine).await;

        let response = app
            .http
            .post(app.url("/api/v1/tables/departments/rows"))
            .bearer_auth(TOKEN)
            .header("x-request-id", "req-42")
            .header("content-type", "text/csv")
            .body("1,Sales\nabc,Bad id\n1,Dup\n")
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
        assert_eq!(response.headers()["x-request-id"], "req-42");

        let rejects = app.rejects().await;
        assert_eq!(rejects.len(), 2, "{rejects:?}");
        let first = &rejects[0];
        assert_eq!((first.table.as_str(), first.source), ("departments", RejectSource::Api));
        assert_eq!(first.request_id.as_deref(), Some("req-42"));
        assert_eq!((first.row, first.line, first.file_name.as_deref()), (Some(1), None, None));
        assert_eq!((first.code, first.field.as_deref()), (RejectCode::InvalidInteger, Some("department_id")));
        assert_eq!(first.raw, "abc,Bad id");
        assert!(first.message.contains("abc"));
        assert!(first.created_at.ends_with('Z'));
        assert_eq!((rejects[1].row, rejects[1].code), (Some(2), RejectCode::DuplicateId));
        assert!(rejects[0].reject_id < rejects[1].reject_id);
    }

    async fn a_resent_batch_stores_nothing_twice_and_reports_nothing_wrong(engine) {
        let app = spawn_app(engine).await;
        let batch = "1,Dev\n2,Ops\n3,\n";

        let first = app.ingest_csv("jobs", batch).await.ok();
        let second = app.ingest_csv("jobs", batch).await.ok();

        assert_eq!((first.inserted, first.already_stored, first.rejected), (2, 0, 1));
        assert_eq!((second.inserted, second.already_stored, second.rejected), (0, 2, 1));
        assert_eq!(second.errors[0].code, RejectCode::MissingField);
        assert_eq!(app.counts().await.1, 2);
        // Only the bad row is on record, once per time it was sent.
        let codes: Vec<RejectCode> = app.rejects().await.iter().map(|r| r.code).collect();
        assert_eq!(codes, [RejectCode::MissingField, RejectCode::MissingField]);
    }

    async fn a_stored_id_sent_with_other_values_is_a_duplicate(engine) {
        let app = spawn_app(engine).await;
        app.seed_references().await;
        let ana = employee(1, "Ana", "2021-01-05T10:00:00Z", 1, 1);
        app.ingest_json("employees", &json!([ana])).await.ok();
        let cases = [
            employee(1, "Ana B", "2021-01-05T10:00:00Z", 1, 1),
            employee(1, "Ana", "2021-01-05T10:00:01Z", 1, 1),
            employee(1, "Ana", "2021-01-05T10:00:00Z", 2, 1),
            employee(1, "Ana", "2021-01-05T10:00:00Z", 1, 2),
        ];
        for case in cases {
            let answer = app.ingest_json("employees", &json!([case])).await.ok();
            assert_eq!((answer.already_stored, answer.rejected), (0, 1), "{case}");
            assert_eq!(answer.errors[0].code, RejectCode::DuplicateId, "{case}");
        }
        // The same instant written in another zone is the same value.
        let same = employee(1, "Ana", "2021-01-05T12:00:00+02:00", 1, 1);
        let answer = app.ingest_json("employees", &json!([same])).await.ok();
        assert_eq!((answer.inserted, answer.already_stored, answer.rejected), (0, 1, 0));
    }

    async fn a_batch_mixing_stored_and_new_ids_stores_exactly_the_new_ones(engine) {
        let app = spawn_app(engine).await;
        app.post_csv("jobs", "999,Stored\n").await;
        // 999 rows go in several statements; the stored id comes last, so
        // the first statements have stored rows by the time it is refused.
        let batch: String = (1..=999).map(|i| format!("{i},Job {i}\n")).collect();

        let (status, body) = app.post_csv("jobs", &batch).await;

        assert_eq!(status, 200, "{body}");
        assert_eq!((body["inserted"].as_u64(), body["rejected"].as_u64()), (Some(998), Some(1)));
        assert_eq!(codes(&body), [(998, "duplicate_id".to_owned())]);
        assert!(body["errors"][0]["message"].as_str().unwrap().contains("other values"), "{body}");
        assert_eq!(app.counts().await.1, 999);
        let row = app.row("jobs", 999).await.ok();
        assert_eq!(row, Record::Job(JobRecord { job_id: 999, job_name: "Stored".into() }));
    }

    async fn concurrent_overlapping_batches_store_each_id_once(engine) {
        let app = spawn_app(engine).await;
        let batch: String = (1..=300).map(|i| format!("{i},Job {i}\n")).collect();

        let sends = (0..6).map(|_| app.post_csv("jobs", &batch));
        let results = futures::future::join_all(sends).await;

        let inserted: u64 = results.iter().map(|(status, body)| {
            assert_eq!(*status, 200, "{body}");
            body["inserted"].as_u64().unwrap()
        }).sum();
        assert_eq!(inserted, 300);
        let already: u64 = results.iter().map(|(_, body)| body["already_stored"].as_u64().unwrap()).sum();
        assert_eq!(already, 5 * 300);
        assert_eq!(app.counts().await.1, 300);
        assert!(app.rejects().await.is_empty());
    }

    async fn a_batch_of_1000_rows_is_accepted_and_1001_refused_whole(engine) {
        let app = spawn_app(engine).await;
        let rows = |n: usize| -> Value {
            Value::Array((1..=n).map(|i| json!({"job_id": i, "job_name": format!("Job {i}")})).collect())
        };

        let (status, body) = app.post_json("jobs", &rows(1001)).await;
        assert_eq!((status, body["code"].as_str()), (422, Some("too_many_rows")), "{body}");
        let csv: String = (1..=1001).map(|i| format!("{i},Job\n")).collect();
        let (status, body) = app.post_csv("jobs", &csv).await;
        assert_eq!((status, body["code"].as_str()), (422, Some("too_many_rows")), "{body}");
        assert_eq!(app.counts().await.1, 0);

        let (status, body) = app.post_json("jobs", &rows(1000)).await;
        assert_eq!((status, body["inserted"].as_u64()), (200, Some(1000)));
    }

    async fn request_level_failures_get_the_json_error_shape_and_store_nothing(engine) {
        let app = spawn_app(engine).await;
        let cases: Vec<(&str, &str, &[u8], u16, &str)> = vec![
            ("jobs", "application/json", b"[]", 422, "empty_batch"),
            ("jobs", "text/csv", b"", 422, "empty_batch"),
            ("jobs", "text/csv", b"\r\n\n", 422, "empty_batch"),
            ("jobs", "application/json", b"not json", 400, "invalid_json"),
            ("jobs", "application/json", br#"{"job_id": 1, "job_name": "x"}"#, 400, "invalid_json"),
            ("jobs", "application/json", b"[1, 2]", 400, "invalid_json"),
            ("jobs", "application/json", br#"[{"job_id": 1, "job_name": "x"}"#, 400, "invalid_json"),
            ("jobs", "text/plain", b"1,x\n", 415, "unsupported_media_type"),
            ("jobs", "text/csv; charset=latin1", b"1,x\n", 415, "unsupported_media_type"),
            ("jobs", "application/xml", b"<x/>", 415, "unsupported_media_type"),
            ("nope", "text/csv", b"1,x\n", 404, "unknown_table"),
            ("Jobs", "text/csv", b"1,x\n", 404, "unknown_table"),
        ];
        for (table, content_type, body, status, code) in cases {
            let (got, error) = app.post_raw(table, content_type, body.to_vec()).await;
            assert_eq!((got, error["code"].as_str()), (status, Some(code)), "{table} {content_type} {error}");
            assert!(error["message"].as_str().is_some_and(|m| !m.is_empty()), "{error}");
        }
        assert_eq!(app.counts().await, (0, 0, 0));
        assert!(app.rejects().await.is_empty());
    }

    async fn a_csv_row_that_is_not_utf8_is_rejected_alone_and_recorded_with_its_exact_bytes(engine) {
        let app = spawn_app(engine).await;
        // Latin-1 "Café" and a lone 0xFF, between two good rows; no charset.
        let body = b"1,Dev\n2,Caf\xe9\n3,\xff\n4,Ops\n".to_vec();

        let (status, answer) = app.post_raw("jobs", "text/csv", body).await;

        assert_eq!(status, 200, "{answer}");
        assert_eq!((answer["inserted"].as_u64(), answer["rejected"].as_u64()), (Some(2), Some(2)), "{answer}");
        let errors = answer["errors"].as_array().unwrap();
        assert_eq!(errors.iter().map(|e| (e["row"].as_u64().unwrap(), e["code"].as_str().unwrap())).collect::<Vec<_>>(), [(1, "invalid_encoding"), (2, "invalid_encoding")]);
        assert_eq!(errors[0]["id"], 2, "the id still parses: {answer}");
        let rejects = app.rejects().await;
        assert_eq!(rejects.len(), 2);
        assert_eq!(&*rejects[0].raw_bytes(), b"2,Caf\xe9");
        assert_eq!(&*rejects[1].raw_bytes(), b"3,\xff");
        assert_eq!(rejects[0].raw, "2,Caf\u{fffd}");
        assert!(rejects[0].raw_base64.is_some());
        // A UTF-8 row carries no copy of its bytes.
        let (_, answer) = app.post_csv("jobs", "5,\n").await;
        assert_eq!(answer["rejected"], 1);
        assert_eq!(app.rejects().await[2].raw_base64, None);
    }

    async fn writes_without_the_right_token_are_refused_before_the_body_is_read(engine) {
        let app = spawn_app(engine).await;
        let url = app.url("/api/v1/tables/jobs/rows");
        let post = || app.http.post(&url).header("content-type", "text/csv").body("1,Dev\n");

        let cases = [
            (post(), 401, "unauthorized"),
            (post().header("authorization", "Basic dXNlcjpwYXNz"), 401, "unauthorized"),
            (post().bearer_auth("wrong-token"), 403, "forbidden"),
            (app.http.post(&url).bearer_auth("wrong-token").header("content-type", "text/plain").body("x"), 403, "forbidden"),
            (app.http.post(&url).header("content-type", "application/json").body("garbage"), 401, "unauthorized"),
        ];
        for (request, status, code) in cases {
            let (got, body) = test_support::into_json(request.send().await.unwrap()).await;
            assert_eq!((got, body["code"].as_str()), (status, Some(code)), "{body}");
        }
        assert_eq!(app.counts().await.1, 0);
    }
}
