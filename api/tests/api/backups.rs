use apache_avro::types::{Record, Value as AvroValue};
use apache_avro::{Codec, Schema, Writer};
use api::error::ErrorCode;
use serde_json::{Value, json};
use std::path::PathBuf;
use test_support::engine_tests;
use test_support::{Engine, TOKEN, TestApp, employee, into_json, spawn_app};

/// Writes an Avro file into the backups folder as another tool would.
fn write_foreign(app: &TestApp, name: &str, schema: &str, records: &[Vec<(&str, AvroValue)>]) {
    let schema = Schema::parse_str(schema).unwrap();
    std::fs::create_dir_all(app.backups_dir()).unwrap();
    let file = std::fs::File::create(app.backups_dir().join(name)).unwrap();
    let mut writer = Writer::with_codec(&schema, file, Codec::Deflate(Default::default())).unwrap();
    for fields in records {
        let mut record = Record::new(&schema).unwrap();
        for (name, value) in fields {
            record.put(name, value.clone());
        }
        writer.append_value(record).unwrap();
    }
    writer.into_inner().unwrap();
}

async fn seeded(engine: Engine) -> TestApp {
    let app = spawn_app(engine).await;
    app.seed_references().await;
    let batch = json!([
        employee(1, "Zoë Ñúñez", "2021-01-05T10:00:00Z", 1, 1),
        employee(2, "李小龍", "2021-03-31T23:30:00-02:00", 2, 3),
        employee(
            3,
            "Robert'); DROP TABLE employees;--",
            "2022-07-01T00:00:00Z",
            3,
            2
        ),
    ]);
    assert_eq!(app.ingest_json("employees", &batch).await.ok().inserted, 3);
    app
}

/// The table's indexes as the engine lists them.
async fn index_names(app: &TestApp, engine: Engine, table: &str) -> Vec<String> {
    let pool = app.db.pool().await;
    let sql = match engine {
        Engine::Sqlite => {
            "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = ? ORDER BY name"
        }
        Engine::MariaDb => {
            "SELECT CONCAT(index_name, ':', column_name) FROM information_schema.statistics \
             WHERE table_schema = DATABASE() AND table_name = ? ORDER BY index_name, seq_in_index"
        }
    };
    let names = sqlx::query_scalar(sql)
        .bind(table)
        .fetch_all(&pool)
        .await
        .unwrap();
    pool.close().await;
    names
}

engine_tests! {
    async fn a_restored_table_keeps_its_indexes_and_no_staging_is_left(engine) {
        let app = seeded(engine).await;
        let before = index_names(&app, engine, "employees").await;
        let backup = app.backup("employees").await.ok();

        app.restore("employees", Some(&backup.name)).await.ok();

        assert!(before.len() >= 2, "{before:?}");
        assert_eq!(index_names(&app, engine, "employees").await, before);
        std::fs::write(app.backups_dir().join("junk.avro"), b"Obj\x01 broken").unwrap();
        let refused = app.restore("employees", Some("junk.avro")).await.err();
        assert_eq!(refused, (422, ErrorCode::InvalidBackup));
        let pool = app.db.pool().await;
        let leftovers: Vec<String> = match engine {
            Engine::Sqlite => sqlx::query_scalar("SELECT name FROM sqlite_master WHERE name LIKE '%restore%' OR name LIKE '%replaced%'").fetch_all(&pool).await.unwrap(),
            Engine::MariaDb => sqlx::query_scalar("SELECT table_name FROM information_schema.tables WHERE table_schema = DATABASE() AND (table_name LIKE '%restore%' OR table_name LIKE '%replaced%')").fetch_all(&pool).await.unwrap(),
        };
        assert!(leftovers.is_empty(), "{leftovers:?}");
        pool.close().await;
    }

    async fn a_table_round_trips_through_a_backup(engine) {
        let app = spawn_app(engine).await;
        app.seed_references().await;
        let empty = app.backup("employees").await;
        assert_eq!(empty.status, 201);
        let empty = empty.ok();
        let stored = app.ingest_json("employees", &json!([
            employee(1, "Zoë", "2021-01-05T10:00:00Z", 1, 1),
            employee(7, "Ana", "2021-03-31T23:30:00-02:00", 2, 3),
        ])).await.ok();
        assert_eq!(stored.inserted, 2);
        let original = app.all_rows("employees").await;

        let full = app.backup("employees").await.ok();
        assert_eq!((full.table.as_str(), full.rows, full.codec.as_str()), ("employees", 2, "zstandard"));
        assert_eq!(full.sha256.len(), 64);
        assert!(full.bytes > 0);

        let restored = app.restore("employees", Some(&empty.name)).await.ok();
        assert_eq!((restored.rows, restored.previous_rows), (0, 2));
        assert!(app.all_rows("employees").await.is_empty());

        let restored = app.restore("employees", None).await.ok();
        assert_eq!(restored.backup, full.name);
        assert_eq!(app.all_rows("employees").await, original);
    }

    async fn backups_are_listed_newest_first_and_never_overwrite_each_other(engine) {
        let app = seeded(engine).await;

        let first = app.backup("jobs").await.ok();
        let second = app.backup("jobs").await.ok();
        let third = app.backup("jobs").await.ok();
        let list = app.backups("jobs").await.ok().backups;

        let names: Vec<&str> = list.iter().map(|b| b.name.as_str()).collect();
        assert_eq!(names, [&third.name, &second.name, &first.name]);
        assert_eq!(list[0], third);
        let (_, others) = app.get("/api/v1/tables/departments/backups").await;
        assert_eq!(others, json!({"backups": []}));
    }

    async fn bad_backup_requests_are_refused_and_the_table_is_untouched(engine) {
        let app = seeded(engine).await;
        let before = app.all_rows("employees").await;
        let good = app.backup("employees").await.ok();
        let name = good.name.as_str().to_owned();
        let jobs_backup = app.backup("jobs").await.ok();
        std::fs::write(app.backups_dir().join("junk.avro"), b"not avro at all").unwrap();
        std::fs::write(app.backups_dir().join("empty.avro"), b"").unwrap();
        let bytes = std::fs::read(app.backups_dir().join(&name)).unwrap();
        std::fs::write(app.backups_dir().join("truncated.avro"), &bytes[..bytes.len() / 2]).unwrap();
        let mut flipped = bytes.clone();
        let middle = flipped.len() / 2;
        flipped[middle] ^= 0xff;

        let cases: Vec<(Option<Value>, u16, &str)> = vec![
            (Some(json!({"backup": "../../etc/passwd.avro"})), 400, "invalid_backup_name"),
            (Some(json!({"backup": "/etc/passwd"})), 400, "invalid_backup_name"),
            (Some(json!({"backup": "sub/dir.avro"})), 400, "invalid_backup_name"),
            (Some(json!({"backup": "nothing-here.avro"})), 404, "backup_not_found"),
            (Some(json!({"backup": jobs_backup.name})), 422, "invalid_backup"),
            (Some(json!({"backup": "junk.avro"})), 422, "invalid_backup"),
            (Some(json!({"backup": "empty.avro"})), 422, "invalid_backup"),
            (Some(json!({"backup": "truncated.avro"})), 422, "invalid_backup"),
            (Some(json!({"backup": ["a.avro"]})), 400, "invalid_json"),
            (Some(json!({"backup": 12})), 400, "invalid_json"),
            (Some(json!({"backup": null})), 400, "invalid_json"),
        ];
        for (body, status, code) in cases {
            let (got, error) = app.restore_raw("employees", body.clone()).await;
            assert_eq!((got, error["code"].as_str()), (status, Some(code)), "{body:?}: {error}");
            assert!(error["message"].is_string());
        }
        // The same file with one byte flipped, under its own name and checksum.
        std::fs::write(app.backups_dir().join(&name), &flipped).unwrap();
        let (got, error) = app.restore_raw("employees", Some(json!({"backup": name}))).await;
        assert_eq!((got, error["code"].as_str()), (422, Some("invalid_backup")), "{error}");
        assert!(error["message"].as_str().unwrap().contains("corrupt"), "{error}");

        assert_eq!(app.all_rows("employees").await, before);
        let none = app.restore("departments", None).await.err();
        assert_eq!(none, (404, ErrorCode::BackupNotFound));
    }

    async fn files_of_the_wrong_shape_are_refused(engine) {
        let app = seeded(engine).await;
        let before = app.all_rows("jobs").await;
        let with = |fields: &str| format!(r#"{{"type":"record","name":"Job","fields":[{fields}]}}"#);
        write_foreign(&app, "extra.avro", &with(r#"{"name":"job_id","type":"int"},{"name":"job_name","type":"string"},{"name":"salary","type":"int"}"#),
            &[vec![("job_id", AvroValue::Int(9)), ("job_name", AvroValue::String("X".into())), ("salary", AvroValue::Int(1))]]);
        write_foreign(&app, "missing.avro", &with(r#"{"name":"job_id","type":"int"}"#), &[vec![("job_id", AvroValue::Int(9))]]);
        write_foreign(&app, "types.avro", &with(r#"{"name":"job_id","type":"string"},{"name":"job_name","type":"string"}"#),
            &[vec![("job_id", AvroValue::String("9".into())), ("job_name", AvroValue::String("X".into()))]]);
        write_foreign(&app, "invalid-row.avro", &with(r#"{"name":"job_id","type":"int"},{"name":"job_name","type":"string"}"#),
            &[vec![("job_id", AvroValue::Int(0)), ("job_name", AvroValue::String("Zero".into()))]]);
        write_foreign(&app, "duplicate.avro", &with(r#"{"name":"job_id","type":"int"},{"name":"job_name","type":"string"}"#),
            &[vec![("job_id", AvroValue::Int(1)), ("job_name", AvroValue::String("A".into()))],
              vec![("job_id", AvroValue::Int(1)), ("job_name", AvroValue::String("B".into()))]]);

        for name in ["extra.avro", "missing.avro", "types.avro", "invalid-row.avro", "duplicate.avro"] {
            assert_eq!(app.restore("jobs", Some(name)).await.err(), (422, ErrorCode::InvalidBackup), "{name}");
        }
        assert_eq!(app.all_rows("jobs").await, before);
    }

    async fn a_standard_avro_file_from_another_tool_restores(engine) {
        let app = seeded(engine).await;
        let schema = r#"{"type":"record","name":"dept","namespace":"elsewhere","fields":[
            {"name":"department_name","type":"string"},{"name":"department_id","type":"long"}]}"#;
        write_foreign(&app, "from-spark.avro", schema, &[
            vec![("department_name", AvroValue::String("Sales".into())), ("department_id", AvroValue::Long(1))],
            vec![("department_name", AvroValue::String("Ops ".into())), ("department_id", AvroValue::Long(2))],
            vec![("department_name", AvroValue::String("R&D".into())), ("department_id", AvroValue::Long(3))],
            vec![("department_name", AvroValue::String("New".into())), ("department_id", AvroValue::Long(40))],
        ]);

        let restored = app.restore("departments", Some("from-spark.avro")).await.ok();

        assert_eq!(restored.rows, 4);
        let (_, row) = app.get("/api/v1/tables/departments/rows/2").await;
        assert_eq!(row["department_name"], "Ops");
        assert_eq!(app.counts().await.0, 4);
    }

    async fn a_restore_that_would_orphan_employees_is_refused(engine) {
        let app = seeded(engine).await;
        let before = app.all_rows("departments").await;
        let schema = r#"{"type":"record","name":"Department","fields":[{"name":"department_id","type":"int"},{"name":"department_name","type":"string"}]}"#;
        write_foreign(&app, "fewer.avro", schema, &[vec![("department_id", AvroValue::Int(1)), ("department_name", AvroValue::String("Sales".into()))]]);
        let employees = app.backup("employees").await.ok();
        app.post_csv("departments", "9,Nine\n").await;
        app.post_json("employees", &json!([employee(50, "Late", "2021-01-01T00:00:00Z", 9, 1)])).await;
        // A departments backup taken before department 9 existed would orphan employee 50.
        write_foreign(&app, "before-nine.avro", schema, &[
            vec![("department_id", AvroValue::Int(1)), ("department_name", AvroValue::String("Sales".into()))],
            vec![("department_id", AvroValue::Int(2)), ("department_name", AvroValue::String("Ops".into()))],
            vec![("department_id", AvroValue::Int(3)), ("department_name", AvroValue::String("R&D".into()))],
        ]);

        for name in ["fewer.avro", "before-nine.avro"] {
            let (status, error) = app.restore_raw("departments", Some(json!({"backup": name}))).await;
            assert_eq!((status, error["code"].as_str()), (422, Some("invalid_backup")), "{error}");
            assert!(error["message"].as_str().unwrap().contains("reference"), "{error}");
        }
        let mut expected = before.clone();
        expected.push(serde_json::from_value(json!({"department_id": 9, "department_name": "Nine"})).unwrap());
        assert_eq!(app.all_rows("departments").await, expected);
        // Employees restored while their departments exist: fine.
        app.restore("employees", Some(&employees.name)).await.ok();
    }

    async fn backup_and_restore_need_the_token(engine) {
        let app = seeded(engine).await;
        for path in ["/api/v1/tables/jobs/backups", "/api/v1/tables/jobs/restore"] {
            let response = app.http.post(app.url(path)).send().await.unwrap();
            assert_eq!(response.status(), 401, "{path}");
            let response = app.http.post(app.url(path)).bearer_auth("nope").send().await.unwrap();
            assert_eq!(response.status(), 403, "{path}");
        }
        let (status, body) = app.get("/api/v1/tables/robots/backups").await;
        assert_eq!((status, body["code"].as_str()), (404, Some("unknown_table")));
        for path in ["/api/v1/tables/robots/backups", "/api/v1/tables/robots/restore"] {
            let response = app.http.post(app.url(path)).bearer_auth(TOKEN).send().await.unwrap();
            let (status, body) = into_json(response).await;
            assert_eq!((status, body["code"].as_str()), (404, Some("unknown_table")), "{path}");
        }
    }

    async fn a_backup_racing_ingest_holds_whole_batches_from_one_snapshot(engine) {
        let app = seeded(engine).await;
        let before = app.all_rows("employees").await.len();
        let writing = std::sync::atomic::AtomicBool::new(true);
        let writer = async {
            for round in 0..60u32 {
                let start = 10_000 + round * 100;
                let batch: String = (start..start + 100)
                    .map(|i| format!("{i},Racer {i},2021-02-02T00:00:00Z,1,1\n"))
                    .collect();
                let (status, body) = app.post_csv("employees", &batch).await;
                assert_eq!((status, body["inserted"].as_u64()), (200, Some(100)), "{body}");
            }
            writing.store(false, std::sync::atomic::Ordering::SeqCst);
        };
        let backups = async {
            let mut rows = Vec::new();
            while writing.load(std::sync::atomic::Ordering::SeqCst) {
                let backup = app.backup("employees").await.ok();
                rows.push((backup.name, backup.rows as usize));
            }
            rows
        };
        let ((), backups) = tokio::join!(writer, backups);

        // Each backup is one snapshot: whole 100-row batches, nothing torn.
        assert!(!backups.is_empty());
        for (_, rows) in &backups {
            assert_eq!((rows - before) % 100, 0, "a backup of {rows} rows");
        }
        let (name, rows) = backups.last().unwrap();
        app.restore("employees", Some(name)).await.ok();
        assert_eq!(app.all_rows("employees").await.len(), *rows);
    }

    async fn readers_during_a_restore_see_the_old_table_or_the_new_one_never_a_mix(engine) {
        let app = seeded(engine).await;
        let rows = |range: std::ops::Range<u32>| -> String {
            range.map(|i| format!("{i},Person {i},2021-02-02T00:00:00Z,1,1\n")).collect()
        };
        for start in (1000..9000).step_by(1000) {
            app.post_csv("employees", &rows(start..start + 1000)).await;
        }
        let backup = app.backup("employees").await.ok();
        let backed_up = 3 + 8000;
        for start in (20_000..24_000).step_by(1000) {
            app.post_csv("employees", &rows(start..start + 1000)).await;
        }
        let current = backed_up + 4000;

        let restoring = std::sync::atomic::AtomicBool::new(true);
        let reader = async {
            let mut seen = std::collections::BTreeSet::new();
            while restoring.load(std::sync::atomic::Ordering::SeqCst) {
                let (_, _, count) = app.counts().await;
                seen.insert(count);
            }
            seen
        };
        let restore = async {
            let outcome = app.restore_raw("employees", Some(json!({"backup": backup.name}))).await;
            restoring.store(false, std::sync::atomic::Ordering::SeqCst);
            outcome
        };
        let (seen, (status, body)) = tokio::join!(reader, restore);

        assert_eq!(status, 200, "{body}");
        assert!(!seen.is_empty(), "no read ran during the restore");
        assert!(seen.iter().all(|n| *n == current || *n == backed_up), "counts seen: {seen:?}");
        assert_eq!(app.counts().await.2, backed_up);
    }

    async fn a_departments_restore_racing_ingest_never_leaves_an_orphan(engine) {
        let app = spawn_app(engine).await;
        app.post_csv("departments", "1,Sales\n2,Ops\n").await;
        app.post_csv("jobs", "1,Dev\n").await;
        let backup = app.backup("departments").await.ok();
        app.post_csv("departments", "3,New\n").await;

        // Employees of department 3 arrive while department 3 is restored away.
        let writer = async {
            for round in 0..40 {
                let batch: String = (round * 25..round * 25 + 25)
                    .map(|i| format!("{},P,2021-02-02T00:00:00Z,3,1\n", i + 1))
                    .collect();
                let (status, body) = app.post_csv("employees", &batch).await;
                assert_eq!(status, 200, "{body}");
            }
        };
        let restore = async {
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
            app.restore_raw("departments", Some(json!({"backup": backup.name}))).await
        };
        let ((), (status, body)) = tokio::join!(writer, restore);

        // Either the restore came first (and the employees were refused) or
        // it saw them and refused to orphan them: never both stored.
        let departments = app.all_rows("departments").await;
        let employees = app.all_rows("employees").await;
        let has_3 = departments.iter().any(|d| d.id() == 3);
        match status {
            200 => assert!(!has_3, "{departments:?}"),
            422 => assert!(has_3 && !employees.is_empty(), "{body}"),
            _ => panic!("{status} {body}"),
        }
        assert!(employees.is_empty() || has_3, "employees of a department that is gone");
    }

    async fn concurrent_restores_of_one_table_all_succeed_and_leave_one_whole_table(engine) {
        let app = seeded(engine).await;
        let batch: String = (1000..3000).map(|i| format!("{i},Person {i},2021-02-02T00:00:00Z,1,1\n")).collect();
        app.post_csv("employees", &batch).await;
        let backup = app.backup("employees").await.ok();
        let backed_up = app.all_rows("employees").await;
        app.post_csv("employees", "5000,After The Backup,2021-02-02T00:00:00Z,1,1\n").await;

        let restores = (0..4).map(|_| app.restore_raw("employees", Some(json!({"backup": backup.name}))));
        let answers = futures::future::join_all(restores).await;

        for (status, body) in &answers {
            assert_eq!(*status, 200, "{body}");
        }
        assert_eq!(app.all_rows("employees").await, backed_up);
    }

    async fn a_restore_racing_ingest_leaves_one_whole_table(engine) {
        let app = seeded(engine).await;
        let batch: String = (1000..2000).map(|i| format!("{i},Person {i},2021-02-02T00:00:00Z,1,1\n")).collect();
        app.post_csv("employees", &batch).await;
        let backup = app.backup("employees").await.ok();
        let backed_up = app.all_rows("employees").await;

        let writer = async {
            let mut accepted = Vec::new();
            for round in 0..20 {
                let start = 10_000 + round * 50;
                let batch: String = (start..start + 50).map(|i| format!("{i},Racer {i},2021-02-02T00:00:00Z,2,2\n")).collect();
                let (status, body) = app.post_csv("employees", &batch).await;
                assert_eq!(status, 200, "{body}");
                accepted.push(body["inserted"].as_u64().unwrap());
            }
            accepted
        };
        let restore = async {
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
            app.restore_raw("employees", Some(json!({"backup": backup.name}))).await
        };
        let (accepted, (status, body)) = tokio::join!(writer, restore);

        assert_eq!(status, 200, "{body}");
        assert!(accepted.iter().all(|n| *n == 50));
        let after = app.all_rows("employees").await;
        for row in &backed_up {
            assert!(after.contains(row), "{row:?} lost");
        }
        for row in &after {
            assert!(backed_up.contains(row) || (10_000..11_000).contains(&row.id()), "{row:?} came from nowhere");
        }
    }
}

mod round_trip {
    use super::*;
    use proptest::prelude::*;

    fn name() -> impl Strategy<Value = String> {
        "[A-Za-zÀ-ÿ一-龥 ',.\"\\-]{1,40}"
            .prop_map(|s| s.trim().to_owned())
            .prop_filter("non-empty", |s| !s.is_empty())
    }

    fn rows() -> impl Strategy<Value = Vec<(i32, String, i64)>> {
        prop::collection::btree_map(1..=i32::MAX, (name(), 0i64..4_102_444_800), 1..60).prop_map(
            |map| {
                map.into_iter()
                    .map(|(id, (name, secs))| (id, name, secs))
                    .collect()
            },
        )
    }

    fn run(engine: Engine, rows: Vec<(i32, String, i64)>) {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        runtime.block_on(async {
            let app = spawn_app(engine).await;
            app.seed_references().await;
            let empty = app.backup("employees").await.ok();
            let batch: Vec<Value> = rows
                .iter()
                .map(|(id, name, secs)| {
                    let date = chrono::DateTime::from_timestamp(*secs, 0)
                        .unwrap()
                        .format("%Y-%m-%dT%H:%M:%S+00:00")
                        .to_string();
                    employee(
                        i64::from(*id),
                        name,
                        &date,
                        1 + i64::from(*id % 3),
                        1 + i64::from(*id % 2),
                    )
                })
                .collect();
            let (_, body) = app.post_json("employees", &Value::Array(batch)).await;
            assert_eq!(body["inserted"].as_u64(), Some(rows.len() as u64), "{body}");
            let original = app.all_rows("employees").await;
            let full = app.backup("employees").await.ok();

            app.restore_raw("employees", Some(json!({"backup": empty.name})))
                .await;
            assert!(app.all_rows("employees").await.is_empty());
            app.restore("employees", Some(&full.name)).await.ok();
            assert_eq!(app.all_rows("employees").await, original);
        });
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 8, ..ProptestConfig::default() })]
        #[test]
        fn sqlite_random_rows_round_trip(rows in rows()) {
            run(Engine::Sqlite, rows);
        }

        #[test]
        fn mariadb_random_rows_round_trip(rows in rows()) {
            run(Engine::MariaDb, rows);
        }
    }
}

/// The Python with fastavro that `scripts/ensure-python.sh` makes.
fn fastavro_python() -> PathBuf {
    let python = std::env::var_os("AVRO_PYTHON")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../.venv/bin/python")
        });
    assert!(
        python.exists(),
        "no Python with fastavro at {}; run scripts/ensure-python.sh",
        python.display()
    );
    python
}

fn interop(command: &str, file: &std::path::Path) -> String {
    let script =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../scripts/avro_interop.py");
    let output = std::process::Command::new(fastavro_python())
        .arg(script)
        .arg(command)
        .arg(file)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).unwrap()
}

/// Interoperability with an independent Avro implementation.
mod fastavro {
    use super::*;

    engine_tests! {
        async fn fastavro_reads_our_backups_and_its_files_restore(engine) {
            let app = seeded(engine).await;
            let backup = app.backup("employees").await.ok();

            let read: Value = serde_json::from_str(&interop("read", &app.backups_dir().join(backup.name.as_str()))).unwrap();

            assert_eq!(read["codec"], "zstandard");
            assert_eq!(read["schema"]["name"], "hiring.v1.Employee");
            assert_eq!(read["records"], serde_json::to_value(app.all_rows("employees").await).unwrap());

            interop("write-jobs", &app.backups_dir().join("from-fastavro.avro"));
            assert_eq!(app.restore("jobs", Some("from-fastavro.avro")).await.ok().rows, 4);
            let (_, row) = app.get("/api/v1/tables/jobs/rows/2").await;
            assert_eq!(row, json!({"job_id": 2, "job_name": "Señor Manager"}));
        }
    }
}
