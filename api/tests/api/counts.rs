//! Row counts are kept beside the rows (`row_counts`), so that reading them
//! never scans a table: they must stay exactly the tables' counts through
//! every way rows come and go.

use crate::backups::seeded;
use test_support::{TOKEN, TestApp, TestDb, engine_tests};

/// The tables' counts as `COUNT(*)` gives them: (departments, jobs, employees).
async fn counted(db: &TestDb) -> (i64, i64, i64) {
    let pool = db.pool().await;
    let mut counts = [0i64; 3];
    for (slot, table) in counts.iter_mut().zip(["departments", "jobs", "employees"]) {
        *slot = sqlx::query_scalar(sqlx::AssertSqlSafe(format!("SELECT COUNT(*) FROM {table}")))
            .fetch_one(&pool)
            .await
            .unwrap();
    }
    pool.close().await;
    (counts[0], counts[1], counts[2])
}

async fn execute(app: &TestApp, sql: &'static str) {
    let pool = app.db.pool().await;
    sqlx::query(sql).execute(&pool).await.unwrap();
    pool.close().await;
}

fn hires(ids: std::ops::Range<u32>) -> String {
    ids.map(|i| format!("{i},Person {i},2021-02-02T00:00:00Z,{},1\n", 1 + i % 2))
        .collect()
}

engine_tests! {
    async fn counts_stay_exact_through_concurrent_ingest_resends_rejects_dry_runs_and_restores(engine) {
        let app = seeded(engine).await;
        let backup = app.backup("employees").await.ok();
        // Eight writers at once; each batch also sent twice (already
        // stored), with a bad row and a duplicate id, and as a dry run.
        let writer = |writer: u32| {
            let app = &app;
            async move {
                for round in 0..5 {
                    let start = 10_000 + writer * 1000 + round * 100;
                    let batch = format!("{}{start},Again,2021-02-02T00:00:00Z,1,1\nx,Bad,2021,1,1\n", hires(start..start + 100));
                    let (status, body) = app.post_csv("employees", &batch).await;
                    assert_eq!((status, body["inserted"].as_u64()), (200, Some(100)), "{body}");
                    let (_, body) = app.post_csv("employees", &batch).await;
                    assert_eq!(body["already_stored"].as_u64(), Some(100), "{body}");
                    let dry_run = app
                        .http
                        .post(app.url("/api/v1/tables/employees/rows?dry_run=true"))
                        .bearer_auth(TOKEN)
                        .header("content-type", "text/csv")
                        .body(hires(start + 50_000..start + 50_100))
                        .send()
                        .await
                        .unwrap();
                    assert_eq!(dry_run.status(), 200);
                }
            }
        };
        futures::future::join_all((0..8).map(writer)).await;
        assert_eq!(app.counts().await, counted(&app.db).await);
        assert_eq!(app.counts().await.2, 3 + 8 * 5 * 100);

        // A restore replaces the count with the backup's.
        let restored = app.restore("employees", Some(&backup.name)).await.ok();
        assert_eq!(app.counts().await, counted(&app.db).await);
        assert_eq!(app.counts().await.2, restored.rows as i64);
        assert_eq!(restored.rows, backup.rows);
    }

    async fn a_count_a_restore_left_marked_is_read_from_the_table_then_counted_again_at_start(engine) {
        let mut app = seeded(engine).await;
        let truth = counted(&app.db).await;
        // As a restore stopped between its swap and its count leaves it:
        // marked, and wrong.
        execute(&app, "UPDATE row_counts SET row_count = 999 WHERE table_name = 'employees'").await;
        execute(&app, "INSERT INTO row_counts (table_name, slot, row_count) VALUES ('employees', -1, 0)").await;
        assert_eq!(app.counts().await, truth, "a marked count is read from the table");

        app.restart().await;
        assert_eq!(app.counts().await, truth);
        let pool = app.db.pool().await;
        let slots: Vec<(i64, i64)> = sqlx::query_as(
            "SELECT CAST(slot AS SIGNED), CAST(row_count AS SIGNED) FROM row_counts \
             WHERE table_name = 'employees'",
        )
        .fetch_all(&pool)
        .await
        .unwrap();
        pool.close().await;
        assert_eq!(slots, [(0, truth.2)], "counted again, the mark gone");
    }
}
