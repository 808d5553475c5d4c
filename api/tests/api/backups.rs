use apache_avro::types::{Record, Value as AvroValue};
use apache_avro::{Codec, Schema, Writer};
use api::config::BackupCodec;
use serde_json::{Value, json};
use test_support::engine_tests;
use test_support::{Engine, TOKEN, TestApp, employee, into_json, spawn_app};
use vocab::ErrorCode;

/// Writes an Avro file into the backups folder as another tool would.
pub(crate) fn write_foreign(
    app: &TestApp,
    name: &str,
    schema: &str,
    records: &[Vec<(&str, AvroValue)>],
) {
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

pub(crate) async fn seeded(engine: Engine) -> TestApp {
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
        Engine::MariaDb | Engine::Galera => {
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

/// The backup files (and sidecars) in the folder, sorted.
fn backup_files(app: &TestApp) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(app.backups_dir())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

/// Holds the restore turn of `table` as another API process's restore
/// would (MySQL's named lock), until the connection is dropped.
async fn hold_restore_turn(app: &TestApp, table: &str) -> sqlx::AnyConnection {
    use sqlx::Connection;
    sqlx::any::install_default_drivers();
    let mut conn = sqlx::AnyConnection::connect(&app.database_url)
        .await
        .unwrap();
    let got: i64 = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
        "SELECT GET_LOCK({}, 0)",
        api::db::lock_key(&format!("'hiring.restore.{table}'"))
    )))
    .fetch_one(&mut conn)
    .await
    .unwrap();
    assert_eq!(got, 1);
    conn
}

engine_tests! {
    // A restore first backs the table up as it is, every acknowledged row
    // in it, and names that backup; restoring it undoes the restore
    // exactly, rows acknowledged while the restore was staging included.
    async fn a_restore_is_undone_by_restoring_its_previous_backup(engine) {
        let app = spawn_app(engine).await;
        app.seed_references().await;
        let batch = |ids: std::ops::RangeInclusive<i64>| -> String {
            ids.map(|i| format!("{i},Person {i},2021-03-04T05:06:07Z,{},{}\n", 1 + i % 3, 1 + i % 2)).collect()
        };
        for start in (1..=8000).step_by(1000) {
            let (_, body) = app.post_csv("employees", &batch(start..=start + 999)).await;
            assert_eq!(body["inserted"], 1000, "{body}");
        }
        let chosen = app.backup("employees").await.ok();
        app.post_csv("employees", &batch(8001..=8100)).await;
        let before = app.all_rows("employees").await;

        // Undone exactly.
        let restored = app.restore("employees", Some(&chosen.name)).await.ok();
        assert_eq!((restored.rows, restored.previous_rows), (8000, 8100));
        assert_ne!(restored.previous_backup, chosen.name);
        let newest = &app.backups("employees").await.ok().backups[0];
        assert_eq!((&newest.name, newest.before_restore_of.as_deref()), (&restored.previous_backup, Some(chosen.name.as_str())));
        // A restore without a name skips the backups restores took.
        assert_eq!(app.restore("employees", None).await.ok().backup, chosen.name);
        let undone = app.restore("employees", Some(&restored.previous_backup)).await.ok();
        assert_eq!((undone.rows, undone.previous_rows), (8100, 8000));
        assert_eq!(app.all_rows("employees").await, before);

        // With rows acknowledged while the restore stages: each is in the
        // restored table (acknowledged after the swap) or in the backup
        // taken before it, and restoring that backup brings it back.
        let restoring = std::sync::atomic::AtomicBool::new(true);
        let restore = async {
            let answer = app.restore("employees", Some(&chosen.name)).await.ok();
            restoring.store(false, std::sync::atomic::Ordering::SeqCst);
            answer
        };
        let write = async {
            let mut acknowledged = Vec::new();
            let mut id = 20_000;
            while restoring.load(std::sync::atomic::Ordering::SeqCst) {
                let (status, body) = app.post_csv("employees", &batch(id..=id)).await;
                if status == 200 && body["inserted"] == 1 {
                    acknowledged.push(id);
                }
                id += 1;
            }
            acknowledged
        };
        let (restored, acknowledged) = tokio::join!(restore, write);
        let after: std::collections::BTreeSet<i32> = app.all_rows("employees").await.iter().map(|r| r.id()).collect();
        app.restore("employees", Some(&restored.previous_backup)).await.ok();
        let undone = app.all_rows("employees").await;
        let undone_ids: std::collections::BTreeSet<i32> = undone.iter().map(|r| r.id()).collect();
        for id in &acknowledged {
            let id = *id as i32;
            assert!(after.contains(&id) || undone_ids.contains(&id), "row {id} was acknowledged and is lost");
        }
        for row in &before {
            assert!(undone.contains(row), "{row:?} is not back");
        }
        assert_eq!(undone.len() as i64, restored.previous_rows);
    }

    // Each BACKUP_CODEC writes backups named by it in the sidecar and the
    // file's header, and each restores the same rows.
    async fn every_backup_codec_round_trips(engine) {
        for codec in [BackupCodec::Null, BackupCodec::Deflate, BackupCodec::Snappy, BackupCodec::Zstandard] {
            let app = test_support::spawn_app_with_config(engine, move |c| c.backup_codec = codec).await;
            app.seed_references().await;
            let rows: Vec<Value> = (1..=300).map(|i| employee(i, &format!("Person {i} ñ"), "2021-03-04T05:06:07Z", 1 + i % 3, 1)).collect();
            let (_, body) = app.post_json("employees", &json!(rows)).await;
            assert_eq!(body["inserted"], 300, "{body}");
            let backup = app.backup("employees").await.ok();
            assert_eq!(backup.codec, codec.name());
            let file = std::fs::read(app.backups_dir().join(&backup.name)).unwrap();
            let header = String::from_utf8_lossy(&file[..file.len().min(2000)]).into_owned();
            // A null-codec file may leave `avro.codec` out (null is the default).
            let named = ["deflate", "snappy", "zstandard"].into_iter().find(|name| header.contains(name));
            assert_eq!(named.unwrap_or("null"), codec.name());
            let before = app.all_rows("employees").await;
            app.post_csv("employees", "999,Late,2021-01-01T00:00:00Z,1,1\n").await;
            let restored = app.restore("employees", Some(&backup.name)).await.ok();
            assert_eq!(restored.rows, 300, "{codec:?}");
            assert_eq!(app.all_rows("employees").await, before, "{codec:?}");
        }
    }

    // BACKUP_KEEP: after each backup the oldest beyond the newest N go,
    // with their sidecars; on MariaDB, not while another process restores
    // the table.
    async fn backup_keep_prunes_the_oldest_but_not_during_a_restore(engine) {
        let app = test_support::spawn_app_with_config(engine, |c| c.backup_keep = 2).await;
        app.seed_references().await;
        let mut made = Vec::new();
        for _ in 0..4 {
            made.push(app.backup("jobs").await.ok().name);
            tokio::time::sleep(std::time::Duration::from_millis(5)).await;
        }
        let listed: Vec<String> = app
            .backups("jobs")
            .await
            .ok()
            .backups
            .into_iter()
            .map(|b| b.name)
            .collect();
        assert_eq!(listed, [made[3].clone(), made[2].clone()]);
        let mut kept = vec![
            made[2].clone(),
            format!("{}.json", made[2]),
            made[3].clone(),
            format!("{}.json", made[3]),
        ];
        kept.sort();
        assert_eq!(backup_files(&app), kept);
        // Another table's backups are not counted against this one's.
        app.backup("departments").await.ok();
        assert_eq!(app.backups("jobs").await.ok().backups.len(), 2);

        if engine == Engine::Sqlite {
            return;
        }
        let mut restoring = hold_restore_turn(&app, "jobs").await;
        app.backup("jobs").await.ok();
        assert_eq!(
            app.backups("jobs").await.ok().backups.len(),
            3,
            "pruned during a restore"
        );
        let release = format!("DO RELEASE_LOCK({})", api::db::lock_key("'hiring.restore.jobs'"));
        sqlx::raw_sql(sqlx::AssertSqlSafe(release))
            .execute(&mut restoring)
            .await
            .unwrap();
        app.backup("jobs").await.ok();
        assert_eq!(app.backups("jobs").await.ok().backups.len(), 2);
    }

    async fn a_restored_table_keeps_its_indexes_and_no_staging_is_left(engine) {
        let app = seeded(engine).await;
        let before = index_names(&app, engine, "employees").await;
        let backup = app.backup("employees").await.ok();

        app.restore("employees", Some(&backup.name)).await.ok();

        assert!(before.iter().any(|name| name.starts_with("employees_pair_date")), "{before:?}");
        assert_eq!(index_names(&app, engine, "employees").await, before);
        std::fs::write(app.backups_dir().join("junk.avro"), b"Obj\x01 broken").unwrap();
        let refused = app.restore("employees", Some("junk.avro")).await.err();
        assert_eq!(refused, (422, ErrorCode::InvalidBackup));
        let pool = app.db.pool().await;
        let leftovers: Vec<String> = match engine {
            Engine::Sqlite => sqlx::query_scalar("SELECT name FROM sqlite_master WHERE name LIKE '%restore%' OR name LIKE '%replaced%'").fetch_all(&pool).await.unwrap(),
            Engine::MariaDb | Engine::Galera => sqlx::query_scalar("SELECT table_name FROM information_schema.tables WHERE table_schema = DATABASE() AND (table_name LIKE '%restore%' OR table_name LIKE '%replaced%')").fetch_all(&pool).await.unwrap(),
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
        assert_eq!((full.table.as_str(), full.rows, full.codec.as_str()), ("employees", 2, "deflate"));
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

    // A backup holds every row once, in id order, with its text exactly as
    // stored: across the pages SQLite reads in (8192 rows each), with ids
    // that leave gaps, and with names that JSON escapes.
    async fn a_backup_holds_every_row_in_order_across_pages(engine) {
        let app = spawn_app(engine).await;
        app.seed_references().await;
        let names = ["Quote \" in", "Back \\ slash", "Emoji 🧑‍💻 ZWJ", "مهسا\u{200c}ی", "Line\u{2028}sep", "Slash / </script>"];
        let mut ids = (1..=20_000).map(|i| i * 3 + i % 2);
        let mut expected = Vec::new();
        for _ in 0..20 {
            let body: String = ids.by_ref().take(1000).map(|id| {
                let name = format!("{} {id}", names[id as usize % names.len()]).replace('"', "\"\"");
                format!("{id},\"{name}\",2021-03-04T05:06:07Z,{},{}\n", 1 + id % 3, 1 + id % 2)
            }).collect();
            let (_, answer) = app.post_csv("employees", &body).await;
            assert_eq!(answer["inserted"], 1000, "{answer}");
        }
        expected.extend(app.all_rows("employees").await);
        assert_eq!(expected.len(), 20_000);

        let backup = app.backup("employees").await.ok();
        assert_eq!(backup.rows, 20_000);
        let file = std::fs::File::open(app.backups_dir().join(&backup.name)).unwrap();
        let read: Vec<vocab::EmployeeRecord> = apache_avro::Reader::new(file)
            .unwrap()
            .map(|value| apache_avro::from_value(&value.unwrap()).unwrap())
            .collect();
        let expected: Vec<vocab::EmployeeRecord> = expected
            .into_iter()
            .map(|row| match row {
                vocab::Record::Employee(e) => e,
                other => panic!("{other:?}"),
            })
            .collect();
        assert_eq!(read, expected);
        assert!(read.iter().any(|e| e.employee_name.starts_with("Quote \" in")));

        app.post_csv("employees", "999999,Late,2021-01-01T00:00:00Z,1,1\n").await;
        assert_eq!(app.restore("employees", Some(&backup.name)).await.ok().rows, 20_000);
        let restored: Vec<vocab::Record> = app.all_rows("employees").await;
        assert_eq!(restored.len(), 20_000);
        assert!(restored.iter().zip(&read).all(|(r, e)| *r == vocab::Record::Employee(e.clone())));
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
}
