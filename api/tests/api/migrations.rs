//! Migrations a killed process cut short: on MySQL each schema statement
//! commits on its own, so a migration can be left part applied, marked
//! unfinished. The next start finishes it.

use sqlx::migrate::Migrator;
use std::path::Path;
use std::time::Duration;
use test_support::{Engine, unstarted};

async fn execute(pool: &sqlx::AnyPool, sql: &str) {
    sqlx::raw_sql(sqlx::AssertSqlSafe(sql.to_owned()))
        .execute(pool)
        .await
        .unwrap();
}

#[tokio::test]
async fn a_migration_cut_short_by_a_kill_is_finished_at_the_next_start() {
    let mut app = unstarted(Engine::MariaDb, |_| {}, |_| {}).await;
    let every = Path::new(env!("CARGO_MANIFEST_DIR")).join("migrations/mysql");
    let all = Migrator::new(every.as_path()).await.unwrap();
    // Migrations 1 to 4 applied, then a process killed inside 5, between
    // its CREATE TABLE and its INSERT.
    let first_four = tempfile::tempdir().unwrap();
    for migration in all.iter().filter(|m| m.version <= 4) {
        let name = format!(
            "{:04}_{}.sql",
            migration.version,
            migration.description.replace(' ', "_")
        );
        std::fs::write(first_four.path().join(name), migration.sql.as_str()).unwrap();
    }
    let pool = app.db.pool().await;
    Migrator::new(first_four.path())
        .await
        .unwrap()
        .run(&pool)
        .await
        .unwrap();
    let gate = all.iter().find(|m| m.version == 5).unwrap();
    let create = gate.sql.as_str().split(';').next().unwrap();
    assert!(create.contains("CREATE TABLE write_gate"), "{create}");
    execute(&pool, create).await;
    sqlx::query(
        "INSERT INTO _sqlx_migrations (version, description, success, checksum, execution_time) \
         VALUES (?, ?, FALSE, ?, -1)",
    )
    .bind(gate.version)
    .bind(gate.description.as_ref())
    .bind(gate.checksum.as_ref())
    .execute(&pool)
    .await
    .unwrap();

    app.start_serving().await;
    app.wait_ready(Duration::from_secs(30)).await;
    let gate_rows: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM write_gate")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(gate_rows, 1, "the rest of migration 5 ran");
    let applied: Vec<(i64, i64)> = sqlx::query_as(
        "SELECT version, CAST(success AS SIGNED) FROM _sqlx_migrations ORDER BY version",
    )
    .fetch_all(&pool)
    .await
    .unwrap();
    let expected: Vec<(i64, i64)> = all.iter().map(|m| (m.version, 1)).collect();
    assert_eq!(applied, expected);

    // Killed after the last statement of a migration, before it was marked
    // applied: every statement took effect, and is not run twice.
    app.stop().await;
    execute(
        &pool,
        "UPDATE _sqlx_migrations SET success = FALSE WHERE version = 8",
    )
    .await;
    app.start_serving().await;
    app.wait_ready(Duration::from_secs(30)).await;
    let (status, body) = app.post_csv("departments", "1,Sales\n").await;
    assert_eq!(status, 200, "{body}");
    pool.close().await;
}
