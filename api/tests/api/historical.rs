use std::path::Path;
use test_support::engine_tests;
use test_support::{Engine, TestDb, challenge_fixture, spawn_app_with_data};
use vocab::RejectCode;
use vocab::RejectSource;

fn write(dir: &Path, name: &str, text: &str) {
    std::fs::write(dir.join(name), text).unwrap();
}

fn copy_challenge(dir: &Path) {
    for name in ["departments.csv", "jobs.csv", "employees.csv"] {
        std::fs::copy(challenge_fixture().join(name), dir.join(name)).unwrap();
    }
}

fn copy_project_data(dir: &Path) {
    let data = Path::new(env!("CARGO_MANIFEST_DIR")).join("../data");
    for name in ["departments.csv", "jobs.csv", "employees.csv"] {
        std::fs::copy(data.join(name), dir.join(name)).unwrap();
    }
}

engine_tests! {
    async fn a_historical_record_that_is_not_utf8_is_recorded_with_its_exact_bytes(engine) {
        let app = spawn_app_with_data(engine, |dir| {
            std::fs::write(dir.join("jobs.csv"), b"1,Dev\n2,Caf\xe9\n3,Ops\n").unwrap();
        })
        .await;

        let rejects = app.rejects().await;

        assert_eq!(app.counts().await.1, 2);
        assert_eq!(rejects.len(), 1, "{rejects:?}");
        let reject = &rejects[0];
        assert_eq!((reject.code, reject.source, reject.line, reject.id), (RejectCode::InvalidEncoding, RejectSource::File, Some(2), Some(2)));
        assert_eq!(reject.field.as_deref(), Some("job_name"));
        assert_eq!(&*reject.raw_bytes(), b"2,Caf\xe9");
        assert_eq!(reject.raw, "2,Caf\u{fffd}");
    }

    async fn the_projects_own_dataset_loads_and_its_dirty_rows_are_logged(engine) {
        let app = spawn_app_with_data(engine, copy_project_data).await;

        let (departments, jobs, employees) = app.counts().await;
        let rejects = app.rejects().await;
        assert_eq!((departments, jobs), (12, 40));
        assert!(!rejects.is_empty(), "the dataset has dirty rows on purpose");
        assert_eq!(employees + rejects.len() as i64, 3000);
        assert!(rejects.iter().all(|r| r.file_name.as_deref() == Some("employees.csv")));
    }

    async fn the_historical_files_load_once_and_never_again(engine) {
        let mut app = spawn_app_with_data(engine, |dir| {
            write(dir, "departments.csv", "1,Sales\r\n2,Ops\r\n");
            write(dir, "jobs.csv", "1,Dev\n2,\n");
            write(dir, "employees.csv", "1,Ana,2021-01-01T00:00:00Z,1,1\n2,Bo,2021-01-01T00:00:00Z,9,1\n3,Cy,2021-05-05T05:05:05+01:00,2,1");
        })
        .await;
        assert_eq!(app.counts().await, (2, 1, 2));
        let rejects = app.rejects().await;
        let reasons: Vec<(&str, RejectCode, Option<i64>)> = rejects
            .iter()
            .map(|r| (r.file_name.as_deref().unwrap(), r.code, r.line))
            .collect();
        assert_eq!(reasons, [("jobs.csv", RejectCode::MissingField, Some(2)), ("employees.csv", RejectCode::UnknownDepartment, Some(2))]);
        assert!(rejects.iter().all(|r| r.source == RejectSource::File && r.row.is_none()));
        let (_, row) = app.get("/api/v1/tables/employees/rows/3").await;
        assert_eq!(row["hiring_date"], "2021-05-05T04:05:05Z");

        app.restart().await;

        assert_eq!(app.counts().await, (2, 1, 2));
        assert_eq!(app.rejects().await.len(), 2, "a restart recorded the rejects again");
    }

    async fn a_load_resumed_after_a_crash_records_each_reject_once(engine) {
        // The state a crash leaves before the file's first chunk committed:
        // no rows, no rejects, no progress (a chunk's rows, rejects and
        // progress commit together or not at all).
        let mut app = spawn_app_with_data(engine, |dir| {
            write(dir, "departments.csv", "1,Sales\n");
            write(dir, "jobs.csv", "1,Dev\n");
            write(dir, "employees.csv", "1,Ana,2021-01-01T00:00:00Z,1,1\n2,Bo,2021-01-01T00:00:00Z,9,1\n3,Cy,bad,1,1\n");
        })
        .await;
        assert_eq!(app.rejects().await.len(), 2);
        app.stop().await;
        let pool = app.db.pool().await;
        for statement in [
            "DELETE FROM employees",
            // Counted in the batch's transaction, so never counted either.
            "UPDATE row_counts SET row_count = 0 WHERE table_name = 'employees'",
            "DELETE FROM rejects WHERE table_name = 'employees'",
            "UPDATE historical_loads SET rows_read = 0, inserted = 0, rejected = 0, completed_at = NULL \
             WHERE table_name = 'employees'",
        ] {
            sqlx::query(sqlx::AssertSqlSafe(statement)).execute(&pool).await.unwrap();
        }
        pool.close().await;

        app.start().await;

        assert_eq!(app.counts().await, (1, 1, 1));
        let rejects = app.rejects().await;
        let lines: Vec<Option<i64>> = rejects.iter().map(|r| r.line).collect();
        assert_eq!(lines, [Some(2), Some(3)], "{rejects:?}");
        assert!(rejects.iter().all(|r| r.file_sha256.as_ref().is_some_and(|s| s.len() == 64)));
    }

    async fn a_changed_historical_file_is_loaded_as_new_rows(engine) {
        let mut app = spawn_app_with_data(engine, |dir| write(dir, "departments.csv", "1,Sales\n")).await;
        write(app.data_dir.path(), "departments.csv", "1,Sales\n2,Ops\n");

        app.restart().await;

        assert_eq!(app.counts().await.0, 2);
        // Its first row was stored with the same values: not a reject.
        assert!(app.rejects().await.is_empty());
        let pool = app.db.pool().await;
        let counts: Vec<(i64, i64, i64, i64)> = sqlx::query_as(
            "SELECT rows_read, inserted, already_stored, rejected FROM historical_loads \
             WHERE table_name = 'departments' ORDER BY rows_read",
        )
        .fetch_all(&pool)
        .await
        .unwrap();
        pool.close().await;
        assert_eq!(counts, [(1, 1, 0, 0), (2, 1, 1, 0)]);
    }

    // Chunks of 1000 rows: an id at the end of the first chunk and again at
    // the start of the second (the earlier one wins), and in the third
    // chunk an id stored by an earlier version of the file with other
    // values. On MySQL a chunk may be inserted beside the one before.
    async fn ids_repeated_across_chunks_keep_their_first_occurrence(engine) {
        let employee = |id: i32, name: &str| format!("{id},{name},2021-01-01T00:00:00Z,1,1\n");
        let mut app = spawn_app_with_data(engine, |dir| {
            write(dir, "departments.csv", "1,Sales\n");
            write(dir, "jobs.csv", "1,Dev\n");
            write(dir, "employees.csv", &(employee(2500, "old") + &employee(2600, "same")));
        })
        .await;
        let mut file: String = (1..=1000).map(|id| employee(id, "first")).collect();
        file += &employee(1000, "second");
        file.extend((1002..=3000).map(|id| employee(id, if id == 2600 { "same" } else { "new" })));
        write(app.data_dir.path(), "employees.csv", &file);

        app.restart().await;

        let rows = app.all_rows("employees").await;
        assert_eq!(rows.len(), 2999);
        let name_of = |id: i32| {
            rows.iter()
                .find_map(|row| match row {
                    vocab::Record::Employee(e) if e.employee_id == id => Some(e.employee_name.clone()),
                    _ => None,
                })
                .unwrap()
        };
        assert_eq!((name_of(1000).as_str(), name_of(2500).as_str(), name_of(2999).as_str()), ("first", "old", "new"));
        let rejects: Vec<(Option<i64>, Option<i64>, RejectCode)> =
            app.rejects().await.iter().map(|r| (r.line, r.id, r.code)).collect();
        assert_eq!(rejects, [(Some(1001), Some(1000), RejectCode::DuplicateId), (Some(2500), Some(2500), RejectCode::DuplicateId)]);
        let pool = app.db.pool().await;
        let counts: (i64, i64, i64, i64) = sqlx::query_as(
            "SELECT rows_read, inserted, already_stored, rejected FROM historical_loads \
             WHERE table_name = 'employees' AND rows_read = 3000",
        )
        .fetch_one(&pool)
        .await
        .unwrap();
        pool.close().await;
        assert_eq!(counts, (3000, 2997, 1, 2));
    }

    async fn the_challenge_dataset_loads_with_its_70_incomplete_rows_rejected(engine) {
        let app = spawn_app_with_data(engine, copy_challenge).await;

        let lines = |name: &str| {
            let text = std::fs::read_to_string(challenge_fixture().join(name)).unwrap();
            text.lines().filter(|l| !l.trim().is_empty()).count() as i64
        };
        let (departments, jobs, employees) = app.counts().await;
        assert_eq!((departments, jobs), (lines("departments.csv"), lines("jobs.csv")));
        assert_eq!(employees, lines("employees.csv") - 70);
        let rejects = app.rejects().await;
        assert_eq!(rejects.len(), 70);
        assert!(rejects.iter().all(|r| r.table == "employees" && r.code == RejectCode::MissingField), "{rejects:?}");
        assert!(rejects.iter().all(|r| r.file_name.as_deref() == Some("employees.csv")));
    }
}

/// Kills the real binary (SIGKILL) in the middle of a large historical load,
/// starts it again, and checks that every row is there exactly once.
async fn a_load_killed_midway_resumes_without_loss_or_doubles(engine: Engine) {
    const EMPLOYEES: i64 = 60_000;
    let db = TestDb::create(engine).await;
    let data = tempfile::tempdir().unwrap();
    let shared = tempfile::tempdir().unwrap();
    write(data.path(), "departments.csv", "1,Sales\n2,Ops\n");
    write(data.path(), "jobs.csv", "1,Dev\n");
    let mut employees = String::new();
    for id in 1..=EMPLOYEES {
        // Every 1000th row references a missing department: a known reject.
        let department = if id % 1000 == 0 { 9 } else { 1 + id % 2 };
        employees.push_str(&format!(
            "{id},Person {id},2021-01-01T00:00:00Z,{department},1\n"
        ));
    }
    write(data.path(), "employees.csv", &employees);
    let expected_rejects = EMPLOYEES / 1000;

    let port = test_support::free_port();
    let start = || {
        test_support::api_command(crate::API_BIN, &db.url, port, data.path(), shared.path())
            .spawn()
            .unwrap()
    };
    let pool = db.pool().await;
    let mut child = start();
    let progress = || async {
        sqlx::query_as::<_, (i64, Option<String>)>(
            "SELECT rows_read, completed_at FROM historical_loads WHERE table_name = 'employees'",
        )
        .fetch_optional(&pool)
        .await
        .ok()
        .flatten()
    };
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(120);
    loop {
        if let Some((read, None)) = progress().await
            && read >= 5_000
        {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the load never got going"
        );
        assert!(
            child.try_wait().unwrap().is_none(),
            "the server exited early"
        );
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }
    child.kill().unwrap();
    child.wait().unwrap();
    let (read_at_kill, _) = progress().await.unwrap();
    assert!(
        read_at_kill < EMPLOYEES,
        "the load finished before the kill; make it bigger"
    );

    let mut child = start();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(300);
    while !matches!(progress().await, Some((_, Some(_)))) {
        assert!(
            std::time::Instant::now() < deadline,
            "the resumed load never finished"
        );
        assert!(
            child.try_wait().unwrap().is_none(),
            "the server exited during the resumed load"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    child.kill().unwrap();
    child.wait().unwrap();

    let count: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM employees")
        .fetch_one(&pool)
        .await
        .unwrap();
    let distinct: i64 = sqlx::query_scalar("SELECT COUNT(DISTINCT employee_id) FROM employees")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(
        (count, distinct),
        (EMPLOYEES - expected_rejects, EMPLOYEES - expected_rejects)
    );
    let (read, inserted, rejected): (i64, i64, i64) = sqlx::query_as(
        "SELECT rows_read, inserted, rejected FROM historical_loads WHERE table_name = 'employees'",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(
        (read, inserted, rejected),
        (EMPLOYEES, EMPLOYEES - expected_rejects, expected_rejects)
    );
    // Rows stored before the kill are never reported as rejects, and each
    // known bad row is recorded once (a chunk cut off by the kill took its
    // rejects with it, and the resumed load records them once).
    let rejects: Vec<(String, i64)> =
        sqlx::query_as("SELECT code, line FROM rejects ORDER BY reject_id")
            .fetch_all(&pool)
            .await
            .unwrap();
    assert!(
        rejects.iter().all(|(code, _)| code == "unknown_department"),
        "{rejects:?}"
    );
    let lines: Vec<i64> = rejects.iter().map(|(_, line)| *line).collect();
    let expected: Vec<i64> = (1..=EMPLOYEES).filter(|i| i % 1000 == 0).collect();
    assert_eq!(lines, expected);
    pool.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_a_load_killed_midway_resumes_without_loss_or_doubles() {
    a_load_killed_midway_resumes_without_loss_or_doubles(Engine::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mariadb_a_load_killed_midway_resumes_without_loss_or_doubles() {
    a_load_killed_midway_resumes_without_loss_or_doubles(Engine::MariaDb).await;
}

/// A failure other than an unreachable database (here a migration that was
/// changed after it was applied) is not waited out: the service stops with
/// the error.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_changed_migration_stops_the_service_with_the_error() {
    let mut app = test_support::spawn_app(Engine::Sqlite).await;
    app.stop().await;
    let pool = app.db.pool().await;
    sqlx::query("UPDATE _sqlx_migrations SET checksum = X'00' WHERE version = 1")
        .execute(&pool)
        .await
        .unwrap();
    pool.close().await;
    let config = test_support::config(&app.db.url, app.data_dir.path(), app.shared_dir.path());

    let server = api::startup::Application::build(config).await.unwrap();
    let outcome = tokio::time::timeout(
        std::time::Duration::from_secs(60),
        server.run_until(std::future::pending()),
    )
    .await
    .expect("the service stops by itself");

    let error = format!("{:#}", outcome.unwrap_err());
    assert!(error.contains("migration"), "{error}");
}
