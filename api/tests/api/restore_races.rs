//! Backups and restores racing ingest, readers and each other: every
//! answer is one whole table, never a mix, never an orphan.

use crate::backups::seeded;
use serde_json::json;
use test_support::spawn_app;
use test_support::{Engine, TestDb, engine_tests};

/// The database's tables, sorted.
async fn table_names(db: &TestDb, engine: Engine) -> Vec<String> {
    let sql = match engine {
        Engine::Sqlite => "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name",
        Engine::MariaDb | Engine::Galera => {
            "SELECT CAST(table_name AS CHAR) FROM information_schema.tables \
             WHERE table_schema = DATABASE() ORDER BY 1"
        }
    };
    let pool = db.pool().await;
    let names = sqlx::query_scalar(sql).fetch_all(&pool).await.unwrap();
    pool.close().await;
    names
}

engine_tests! {
    async fn what_killed_restores_left_behind_is_dropped_at_start_and_nothing_else(engine) {
        let mut app = seeded(engine).await;
        app.stop().await;
        let left = [
            "employees_restore_0a1b2c3d4e5f",
            "jobs_restore_0a1b2c3d4e5f_replaced",
            // What releases before per-restore names left.
            "employees_restore",
            "departments_replaced",
        ];
        let kept = ["employees_restore_notes", "jobs_restore_0A1B2C3D4E5F"];
        let pool = app.db.pool().await;
        for table in left.iter().chain(&kept) {
            sqlx::query(sqlx::AssertSqlSafe(format!("CREATE TABLE {table} (x INT)")))
                .execute(&pool)
                .await
                .unwrap();
        }
        pool.close().await;

        app.start().await;
        let names = table_names(&app.db, engine).await;
        for table in left {
            assert!(!names.iter().any(|name| name == table), "{table} is left: {names:?}");
        }
        for table in kept {
            assert!(names.iter().any(|name| name == table), "{table} was dropped: {names:?}");
        }
        // And a restore works beside them.
        let backup = app.backup("employees").await.ok();
        app.restore("employees", Some(&backup.name)).await.ok();
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
