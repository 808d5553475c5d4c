//! Backups other tools read, and files other tools write that restore:
//! random rows round-trip, fastavro reads ours.

use crate::backups::seeded;
use serde_json::{Value, json};
use std::path::PathBuf;
use test_support::engine_tests;
use test_support::{Engine, employee, spawn_app};

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

            assert_eq!(read["codec"], "deflate");
            assert_eq!(read["schema"]["name"], "hiring.v1.Employee");
            assert_eq!(read["records"], serde_json::to_value(app.all_rows("employees").await).unwrap());

            interop("write-jobs", &app.backups_dir().join("from-fastavro.avro"));
            assert_eq!(app.restore("jobs", Some("from-fastavro.avro")).await.ok().rows, 4);
            let (_, row) = app.get("/api/v1/tables/jobs/rows/2").await;
            assert_eq!(row, json!({"job_id": 2, "job_name": "Señor Manager"}));
        }
    }
}

/// The Python with plain fastavro and Apache avro (no codec extras) that
/// `scripts/ensure-python.sh` makes.
fn plain_python() -> PathBuf {
    let python = std::env::var_os("AVRO_PLAIN_PYTHON").map_or_else(
        || std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../.venv-plain/bin/python"),
        PathBuf::from,
    );
    assert!(
        python.exists(),
        "no plain Python Avro at {}; run scripts/ensure-python.sh",
        python.display()
    );
    python
}

/// Runs `scripts/avro_plain.py` with `args`; its stdout, or its stderr as
/// the error.
fn plain(args: &[&str]) -> Result<String, String> {
    let script = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../scripts/avro_plain.py");
    let output = std::process::Command::new(plain_python())
        .arg(script)
        .args(args)
        .output()
        .unwrap();
    if output.status.success() {
        Ok(String::from_utf8(output.stdout).unwrap())
    } else {
        Err(String::from_utf8_lossy(&output.stderr).into_owned())
    }
}

/// Portability: the readers a new user installs (`pip install fastavro
/// avro`, no codec extras) read our default backups, and their files restore.
mod plain_readers {
    use super::*;

    engine_tests! {
        async fn plain_fastavro_and_apache_avro_read_default_backups_and_their_files_restore(engine) {
            let app = seeded(engine).await;
            let backup = app.backup("employees").await.ok();
            assert_eq!(backup.codec, "deflate");
            let path = app.backups_dir().join(backup.name.as_str());
            let rows = serde_json::to_value(app.all_rows("employees").await).unwrap();
            for library in ["fastavro", "avro"] {
                let read: Value = serde_json::from_str(&plain(&["read", library, path.to_str().unwrap()]).unwrap()).unwrap();
                assert_eq!(read["codec"], "deflate", "{library}");
                assert_eq!(read["records"], rows, "{library}");
            }

            for (library, codec) in [("fastavro", "deflate"), ("fastavro", "null"), ("avro", "deflate"), ("avro", "null")] {
                let name = format!("from-{library}-{codec}.avro");
                plain(&["write", library, app.backups_dir().join(&name).to_str().unwrap(), codec]).unwrap();
                assert_eq!(app.restore("jobs", Some(&name)).await.ok().rows, 3, "{name}");
                let (_, row) = app.get("/api/v1/tables/jobs/rows/2").await;
                assert_eq!(row, json!({"job_id": 2, "job_name": "Señora Jefa"}), "{name}");
            }
        }
    }

    /// Why deflate is the default: a zstandard backup is not readable by
    /// plain fastavro.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn plain_fastavro_cannot_read_a_zstandard_backup() {
        let app = test_support::spawn_app_with_config(test_support::Engine::Sqlite, |c| {
            c.backup_codec = api::config::BackupCodec::Zstandard
        })
        .await;
        app.seed_references().await;
        let backup = app.backup("jobs").await.ok();
        let path = app.backups_dir().join(backup.name.as_str());
        let refused = plain(&["read", "fastavro", path.to_str().unwrap()]).unwrap_err();
        assert!(
            refused.contains("zstandard") || refused.contains("zstd"),
            "{refused}"
        );
    }
}
