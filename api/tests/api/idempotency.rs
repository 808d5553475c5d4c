//! `Idempotency-Key`: a batch sent again under its key is answered as the
//! first attempt was, and nothing is stored or recorded twice.

use serde_json::{Value, json};
use test_support::{TestApp, employee, engine_tests, spawn_app};

const ROWS: &str = "/api/v1/tables/employees/rows";

/// `POST` of a JSON batch of employees under `key`.
async fn post_keyed(app: &TestApp, key: &str, batch: &Value) -> (u16, Value) {
    app.post_with(
        ROWS,
        &[
            ("content-type", "application/json"),
            ("idempotency-key", key),
        ],
        batch.to_string(),
    )
    .await
}

/// Two valid rows and one that breaks a reference.
fn mixed_batch() -> Value {
    json!([
        employee(1, "Ana", "2021-01-05T10:00:00Z", 1, 1),
        employee(2, "Bo", "2021-02-05T10:00:00Z", 1, 1),
        employee(3, "Cy", "2021-02-05T10:00:00Z", 99, 1),
    ])
}

engine_tests! {
    // The answer of a resend is the first attempt's, not "already stored",
    // and its reject is recorded once.
    async fn a_batch_sent_again_under_its_key_is_answered_as_before_and_records_nothing(engine) {
        let app = spawn_app(engine).await;
        app.seed_references().await;
        let (status, first) = post_keyed(&app, "batch-0001", &mixed_batch()).await;
        assert_eq!(status, 200, "{first}");
        assert_eq!((first["inserted"].as_u64(), first["rejected"].as_u64()), (Some(2), Some(1)));

        for _ in 0..2 {
            let (status, again) = post_keyed(&app, "batch-0001", &mixed_batch()).await;
            assert_eq!(status, 200, "{again}");
            assert_eq!(again, first);
        }
        assert_eq!(app.counts().await.2, 2);
        assert_eq!(app.rejects().await.len(), 1, "a resend recorded its reject again");

        // Without a key a resend is a new batch: nothing is stored twice,
        // and it says so.
        let (_, unkeyed) = app.post_json("employees", &mixed_batch()).await;
        assert_eq!((unkeyed["inserted"].as_u64(), unkeyed["already_stored"].as_u64()), (Some(0), Some(2)));
        // A new key is a new batch too.
        let (_, new_key) = post_keyed(&app, "batch-0002", &mixed_batch()).await;
        assert_eq!(new_key["already_stored"], 2, "{new_key}");
    }

    // Sent at once under one key, every attempt gets the one answer and the
    // batch is recorded once.
    async fn attempts_racing_under_one_key_store_the_batch_once(engine) {
        let app = spawn_app(engine).await;
        app.seed_references().await;
        let batch = mixed_batch();
        let attempts = (0..8).map(|_| post_keyed(&app, "raced", &batch));
        let answers = futures::future::join_all(attempts).await;
        for (status, answer) in &answers {
            assert_eq!(*status, 200, "{answer}");
            assert_eq!(answer, &answers[0].1);
        }
        assert_eq!(answers[0].1["inserted"], 2, "{}", answers[0].1);
        assert_eq!(app.rejects().await.len(), 1);
        assert_eq!(app.counts().await.2, 2);
    }

    async fn a_key_sent_again_with_another_batch_or_table_is_refused(engine) {
        let app = spawn_app(engine).await;
        app.seed_references().await;
        assert_eq!(post_keyed(&app, "k-1", &mixed_batch()).await.0, 200);
        let jobs = app.counts().await.1;

        let other = json!([employee(7, "Di", "2021-02-05T10:00:00Z", 1, 1)]);
        let (status, refused) = post_keyed(&app, "k-1", &other).await;
        assert_eq!((status, refused["code"].as_str()), (409, Some("idempotency_key_reused")), "{refused}");
        assert!(refused["message"].as_str().unwrap().contains("k-1"), "{refused}");
        let (status, refused) = app
            .post_with(
                "/api/v1/tables/jobs/rows",
                &[("content-type", "application/json"), ("idempotency-key", "k-1")],
                json!([{"job_id": 9, "job": "Welder"}]).to_string(),
            )
            .await;
        assert_eq!((status, refused["code"].as_str()), (409, Some("idempotency_key_reused")), "{refused}");
        assert_eq!(app.counts().await.2, 2, "a refused batch stored rows");
        assert_eq!(app.counts().await.1, jobs, "a refused batch stored rows");
    }

    async fn a_key_that_is_not_visible_ascii_of_at_most_255_is_refused(engine) {
        let app = spawn_app(engine).await;
        app.seed_references().await;
        let long = "k".repeat(256);
        for key in ["", "a key", long.as_str()] {
            let (status, refused) = post_keyed(&app, key, &mixed_batch()).await;
            assert_eq!((status, refused["code"].as_str()), (400, Some("invalid_parameter")), "{key:?}: {refused}");
            assert!(refused["message"].as_str().unwrap().contains("Idempotency-Key"), "{refused}");
        }
        assert_eq!(app.counts().await.2, 0);
        let longest = "k".repeat(255);
        assert_eq!(post_keyed(&app, &longest, &mixed_batch()).await.0, 200);
    }

    // A dry run stores nothing, so its key is not recorded: the real batch
    // under the same key afterwards is stored.
    async fn a_dry_run_does_not_record_its_key(engine) {
        let app = spawn_app(engine).await;
        app.seed_references().await;
        let (status, dry) = app
            .post_with(
                &format!("{ROWS}?dry_run=true"),
                &[("content-type", "application/json"), ("idempotency-key", "d-1")],
                mixed_batch().to_string(),
            )
            .await;
        assert_eq!((status, dry["dry_run"].as_bool()), (200, Some(true)), "{dry}");
        let (_, real) = post_keyed(&app, "d-1", &mixed_batch()).await;
        assert_eq!(real["inserted"], 2, "{real}");
        assert_eq!(real.get("dry_run"), None, "{real}");
    }

    // Keys are kept for a day, then forgotten.
    async fn batch_keys_older_than_a_day_are_forgotten(engine) {
        let app = spawn_app(engine).await;
        app.seed_references().await;
        assert_eq!(post_keyed(&app, "today", &mixed_batch()).await.0, 200);
        let pool = app.db.pool().await;
        sqlx::query(
            "INSERT INTO batch_keys (idempotency_key, table_name, body_sha256, answer, created_at) \
             VALUES ('old', 'employees', 'x', '{}', '2020-01-01T00:00:00.000Z')",
        )
        .execute(&pool)
        .await
        .unwrap();
        // The service owns an SQLite file while it runs.
        let mut app = app;
        app.stop().await;
        let db = api::db::Db::connect_lazy(&app.database_url, std::time::Duration::from_secs(5)).unwrap();
        assert_eq!(api::ingest::forget_old_batch_keys(&db).await.unwrap(), 1);
        db.close().await;
        let kept: Vec<String> = sqlx::query_scalar("SELECT idempotency_key FROM batch_keys")
            .fetch_all(&pool)
            .await
            .unwrap();
        assert_eq!(kept, ["today"]);
    }
}
