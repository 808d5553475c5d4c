//! The `rejects` table and `GET /api/v1/rejects`: every rejected row,
//! recorded in its batch's transaction, read back by table and source.

use test_support::engine_tests;
use test_support::{spawn_app, spawn_app_with_data};
use vocab::ErrorCode;
use vocab::RejectCode;
use vocab::RejectSource;

engine_tests! {
    async fn rejects_are_paged_oldest_first_and_filtered_by_table_and_source(engine) {
        let app = spawn_app_with_data(engine, |dir| {
            std::fs::write(dir.join("departments.csv"), "1,Sales\nx,Bad\n").unwrap();
        })
        .await;
        app.ingest_csv("jobs", "1,Dev\n2,\n3,\n").await.ok();
        app.ingest_csv("departments", "1,Again\n").await.ok();

        let all = app.rejects().await;
        let seen: Vec<(&str, RejectSource, RejectCode)> =
            all.iter().map(|r| (r.table.as_str(), r.source, r.code)).collect();
        assert_eq!(seen, [
            ("departments", RejectSource::File, RejectCode::InvalidInteger),
            ("jobs", RejectSource::Api, RejectCode::MissingField),
            ("jobs", RejectSource::Api, RejectCode::MissingField),
            ("departments", RejectSource::Api, RejectCode::DuplicateId),
        ]);

        let jobs = app.rejects_page("table=jobs").await.ok();
        assert_eq!(jobs.rejects, all[1..3]);
        assert_eq!(jobs.next_after_id, None);
        let from_files = app.rejects_page("source=file").await.ok();
        assert_eq!(from_files.rejects, all[..1]);
        let api_departments = app.rejects_page("table=departments&source=api").await.ok();
        assert_eq!(api_departments.rejects, all[3..]);

        let first = app.rejects_page("limit=2").await.ok();
        assert_eq!(first.rejects, all[..2]);
        let next = first.next_after_id.expect("a second page");
        let second = app.rejects_page(&format!("limit=2&after_id={next}")).await.ok();
        assert_eq!(second.rejects, all[2..]);

        for query in ["table=robots", "source=email", "limit=0", "limit=1001", "after_id=-1"] {
            let refused = app.rejects_page(query).await.err();
            assert_eq!(refused, (400, ErrorCode::InvalidParameter), "{query}");
        }
    }

    async fn a_huge_rejected_row_is_recorded_cut_to_4_kib_with_a_marker(engine) {
        let app = spawn_app(engine).await;
        let name = "é".repeat(6000);
        let answer = app.ingest_csv("jobs", &format!("1,{name}\n")).await.ok();
        assert_eq!(answer.rejected, 1);

        let rejects = app.rejects().await;
        let raw = &rejects[0].raw;
        assert!(raw.len() < 4096 + 64, "{} bytes kept", raw.len());
        assert!(raw.starts_with("1,éé"));
        assert!(raw.ends_with("[cut: 12002 bytes in all]"), "{}", &raw[raw.len() - 40..]);

        // A JSON row with a field near the body limit, and one with a huge
        // unknown key: each is kept to 4 KiB too.
        let big = "x".repeat(500_000);
        let rows = serde_json::json!([
            {"job_id": 2, "job_name": big},
            {"job_id": 3, "job_name": "ok", big.as_str(): 1},
        ]);
        let answer = app.ingest_json("jobs", &rows).await.ok();
        assert_eq!(answer.rejected, 2, "{answer:?}");
        for reject in &app.rejects().await[1..] {
            assert!(reject.raw.len() < 4096 + 64, "{} bytes kept", reject.raw.len());
            assert!(reject.raw.contains("[cut: 5000"), "{}", &reject.raw[reject.raw.len() - 40..]);
        }
    }

    async fn a_batch_whose_rejects_cannot_be_recorded_stores_nothing(engine) {
        let app = spawn_app(engine).await;
        let pool = app.db.pool().await;
        sqlx::query("DROP TABLE rejects").execute(&pool).await.unwrap();
        pool.close().await;

        let (status, body) = app.post_csv("jobs", "1,Dev\nx,Bad\n").await;

        assert_eq!(status, 500, "{body}");
        assert_eq!(app.counts().await.1, 0, "rows were stored without their rejects");
    }
}
