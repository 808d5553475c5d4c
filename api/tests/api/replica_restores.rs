//! Several real API processes restoring, backing up and ingesting at once:
//! one whole backup, no orphan, nothing acknowledged lost but what a
//! restore replaced; a replica killed mid-restore leaves nothing half-done.

use crate::replicas::{
    all_ready, assert_no_staging_left, mariadb_and_folders, post, query_pairs, sqlx_exec,
    start_replicas,
};
use serde_json::json;
use std::time::Duration;
use test_support::{Engine, TOKEN, TestDb, into_json};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replicas_restoring_one_table_at_once_leave_exactly_one_backup_and_never_an_orphan() {
    let (db, data, shared) = mariadb_and_folders("1,Sales\n2,Ops\n3,R&D\n").await;
    let replicas = start_replicas(3, &db, data.path(), shared.path());
    let http = reqwest::Client::new();
    all_ready(&http, &replicas).await;
    let url = |i: usize, path: &str| format!("{}{path}", replicas[i].base);

    // Two backups of employees (1..=100, then 1..=200) and one of the
    // departments without department 3.
    let batch = |ids: std::ops::RangeInclusive<i64>, department: i64| -> String {
        ids.map(|id| format!("{id},E{id},2021-01-01T00:00:00Z,{department},1\n"))
            .collect()
    };
    let csv = |body: String| {
        http.post(url(0, "/api/v1/tables/employees/rows"))
            .bearer_auth(TOKEN)
            .header("content-type", "text/csv")
            .body(body)
            .send()
    };
    csv(batch(1..=100, 1)).await.unwrap();
    let (_, small) = post(&http, url(0, "/api/v1/tables/employees/backups"), None).await;
    csv(batch(101..=200, 2)).await.unwrap();
    let (_, large) = post(&http, url(1, "/api/v1/tables/employees/backups"), None).await;
    assert_ne!(small["name"], large["name"]);
    sqlx_exec(&db, "DELETE FROM departments WHERE department_id = 3").await;
    let (_, without_3) = post(&http, url(2, "/api/v1/tables/departments/backups"), None).await;
    sqlx_exec(&db, "INSERT INTO departments VALUES (3, 'R&D')").await;

    // Replicas 0 and 1 restore employees from different backups at once;
    // replica 2 restores the departments without 3 while replica 0 sends
    // employees of department 3.
    let restore_small = post(
        &http,
        url(0, "/api/v1/tables/employees/restore"),
        Some(json!({"backup": small["name"]})),
    );
    let restore_large = post(
        &http,
        url(1, "/api/v1/tables/employees/restore"),
        Some(json!({"backup": large["name"]})),
    );
    let restore_departments = post(
        &http,
        url(2, "/api/v1/tables/departments/restore"),
        Some(json!({"backup": without_3["name"]})),
    );
    let ingest_into_3 = async {
        let mut stored = 0;
        for start in (10_001..=10_500).step_by(50) {
            let response = csv(batch(start..=start + 49, 3)).await.unwrap();
            let (status, body) = into_json(response).await;
            assert_eq!(status, 200, "{body}");
            stored += body["inserted"].as_u64().unwrap();
        }
        stored
    };
    let ((small_status, _), (large_status, _), (departments_status, departments_body), _stored) = tokio::join!(
        restore_small,
        restore_large,
        restore_departments,
        ingest_into_3
    );

    assert_eq!((small_status, large_status), (200, 200));
    // No orphan, whichever came first.
    let orphans = query_pairs(
        &db,
        "SELECT e.employee_id, 'orphan' FROM employees e \
         LEFT JOIN departments d ON d.department_id = e.department_id WHERE d.department_id IS NULL",
    )
    .await;
    assert!(
        orphans.is_empty(),
        "orphans: {orphans:?} (departments restore: {departments_status} {departments_body})"
    );
    // Of the backed-up ids, the table holds exactly one backup's.
    let backed_up = query_pairs(
        &db,
        "SELECT COUNT(*), 'n' FROM employees WHERE employee_id <= 200",
    )
    .await;
    assert!([100, 200].contains(&backed_up[0].0), "{backed_up:?}");
    assert_no_staging_left(&db).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn backups_taken_on_two_replicas_at_once_are_distinct_listed_and_restorable() {
    let db = TestDb::create(Engine::MariaDb).await;
    let (data, shared) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    std::fs::write(data.path().join("jobs.csv"), "1,Dev\n2,Ops\n").unwrap();
    let replicas = start_replicas(2, &db, data.path(), shared.path());
    let http = reqwest::Client::new();
    all_ready(&http, &replicas).await;
    let url = |i: usize, path: &str| format!("{}{path}", replicas[i].base);

    let backups = (0..6).map(|i| post(&http, url(i % 2, "/api/v1/tables/jobs/backups"), None));
    let made = futures::future::join_all(backups).await;

    let mut names: Vec<String> = made
        .iter()
        .map(|(status, body)| {
            assert_eq!(*status, 201, "{body}");
            body["name"].as_str().unwrap().to_owned()
        })
        .collect();
    names.sort();
    names.dedup();
    assert_eq!(names.len(), 6, "two backups got one name");
    let (_, listed) = into_json(
        http.get(url(1, "/api/v1/tables/jobs/backups"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(listed["backups"].as_array().unwrap().len(), 6, "{listed}");
    for (i, name) in names.iter().enumerate() {
        let (status, body) = post(
            &http,
            url(i % 2, "/api/v1/tables/jobs/restore"),
            Some(json!({"backup": name})),
        )
        .await;
        assert_eq!((status, body["rows"].as_u64()), (200, Some(2)), "{body}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_replica_killed_mid_restore_leaves_the_table_whole_and_the_others_serving() {
    let (db, data, shared) = mariadb_and_folders("1,Sales\n").await;
    let employees: String = (1..=60_000)
        .map(|id| format!("{id},Person {id},2021-01-01T00:00:00Z,1,1\n"))
        .collect();
    std::fs::write(data.path().join("employees.csv"), employees).unwrap();
    let mut replicas = start_replicas(2, &db, data.path(), shared.path());
    let http = reqwest::Client::new();
    all_ready(&http, &replicas).await;
    let (status, backup) = post(
        &http,
        format!("{}/api/v1/tables/employees/backups", replicas[0].base),
        None,
    )
    .await;
    assert_eq!(status, 201, "{backup}");
    sqlx_exec(&db, "DELETE FROM employees WHERE employee_id > 50000").await;

    // Replica 0 is killed while it stages the 60,000 rows.
    let restore = tokio::spawn({
        let (http, url) = (
            http.clone(),
            format!("{}/api/v1/tables/employees/restore", replicas[0].base),
        );
        let name = backup["name"].clone();
        async move { post(&http, url, Some(json!({"backup": name}))).await }
    });
    let staging_seen = async {
        for _ in 0..400 {
            let staging = query_pairs(
                &db,
                "SELECT 0, table_name FROM information_schema.tables \
                 WHERE table_schema = DATABASE() AND table_name LIKE '%restore%'",
            )
            .await;
            if !staging.is_empty() {
                return true;
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        false
    };
    assert!(staging_seen.await, "the restore never started staging");
    replicas[0].child.kill().unwrap();
    replicas[0].child.wait().unwrap();
    let _ = restore.await;

    // The table is as it was, and the other replica serves and can restore.
    let count = query_pairs(&db, "SELECT COUNT(*), 'n' FROM employees").await;
    assert_eq!(count[0].0, 50_000);
    let (status, body) = post(
        &http,
        format!("{}/api/v1/tables/employees/restore", replicas[1].base),
        Some(json!({"backup": backup["name"]})),
    )
    .await;
    assert_eq!(
        (status, body["rows"].as_u64()),
        (200, Some(60_000)),
        "{body}"
    );
    // A restarted replica clears what the killed restore left behind.
    replicas.remove(0);
    let restarted = start_replicas(1, &db, data.path(), shared.path());
    all_ready(&http, &restarted).await;
    assert_no_staging_left(&db).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ingest_spread_over_replicas_during_two_restores_loses_only_what_a_restore_replaced() {
    let (db, data, shared) = mariadb_and_folders("1,Sales\n2,Ops\n").await;
    let replicas = start_replicas(3, &db, data.path(), shared.path());
    let http = reqwest::Client::new();
    all_ready(&http, &replicas).await;
    let url = |i: usize, path: &str| format!("{}{path}", replicas[i].base);
    let send = |i: usize, ids: std::ops::RangeInclusive<i64>| {
        let body: String = ids
            .map(|id| format!("{id},E{id},2021-01-01T00:00:00Z,{},1\n", 1 + id % 2))
            .collect();
        let request = http
            .post(url(i, "/api/v1/tables/employees/rows"))
            .bearer_auth(TOKEN)
            .header("content-type", "text/csv")
            .body(body);
        async move { into_json(request.send().await.unwrap()).await }
    };
    send(0, 1..=1000).await;
    let (_, first) = post(&http, url(0, "/api/v1/tables/employees/backups"), None).await;
    send(1, 1001..=2000).await;
    let (_, second) = post(&http, url(1, "/api/v1/tables/employees/backups"), None).await;

    // 60 batches of 100 new ids, round-robin over the three replicas, while
    // replicas 0 and 1 restore the two backups.
    let started = std::time::Instant::now();
    let ingest = async {
        let mut acked = Vec::new();
        for batch in 0..60 {
            let first_id = 10_001 + batch * 100;
            let (status, body) = send((batch % 3) as usize, first_id..=first_id + 99).await;
            assert_eq!(status, 200, "{body}");
            assert_eq!(body["inserted"].as_u64(), Some(100), "{body}");
            acked.push((first_id, started.elapsed()));
        }
        acked
    };
    let restores = async {
        let (a, b) = tokio::join!(
            post(
                &http,
                url(0, "/api/v1/tables/employees/restore"),
                Some(json!({"backup": first["name"]}))
            ),
            post(
                &http,
                url(1, "/api/v1/tables/employees/restore"),
                Some(json!({"backup": second["name"]}))
            ),
        );
        (a, b, started.elapsed())
    };
    let (acked, ((a, _), (b, _), restored_at)) = tokio::join!(ingest, restores);
    assert_eq!((a, b), (200, 200));

    let ids = db.employee_ids().await;
    let present = |id: i64| ids.binary_search(&id).is_ok();
    // Of the backed-up rows, exactly one backup's.
    let backed_up = ids.iter().filter(|id| **id <= 2000).count();
    assert!(
        [1000, 2000].contains(&backed_up),
        "{backed_up} backed-up rows"
    );
    for (first_id, at) in acked {
        let stored = (first_id..first_id + 100).filter(|id| present(*id)).count();
        // A batch is whole or gone, and gone only if a restore came after it.
        assert!(
            stored == 0 || stored == 100,
            "batch {first_id} is half there"
        );
        assert!(
            stored == 100 || at < restored_at,
            "batch {first_id}, acknowledged after both restores, is lost"
        );
    }
}

// A restore on one replica while another loads a historical file: neither
// waits for the other. (A chunk of the load that had passed the write gate
// waits for the one before it to commit; when that one began again, its
// ids found stored, it queued behind the restore closing the gate, which
// waited for the first: a cycle the database cannot see, which held both
// until WRITE_WAIT_SECS.)
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restore_beside_another_replicas_historical_load_waits_for_neither() {
    let (db, data, shared) = mariadb_and_folders("1,Sales\n2,Ops\n").await;
    let employees = |n: i64| -> String {
        (1..=n)
            .map(|id| format!("{id},E{id},2021-01-01T00:00:00Z,{},1\n", 1 + id % 2))
            .collect()
    };
    std::fs::write(data.path().join("employees.csv"), employees(200_000)).unwrap();
    let start = || {
        let port = test_support::free_port();
        let child =
            test_support::api_command(crate::API_BIN, &db.url, port, data.path(), shared.path())
                .env("WRITE_WAIT_SECS", "3")
                .spawn()
                .unwrap();
        crate::replicas::Replica {
            child,
            base: format!("http://127.0.0.1:{port}"),
        }
    };
    let http = reqwest::Client::new();
    let first = start();
    all_ready(&http, std::slice::from_ref(&first)).await;
    let backup_url = format!("{}/api/v1/tables/departments/backups", first.base);
    let (status, backup) = post(&http, backup_url, None).await;
    assert_eq!(status, 201, "{backup}");

    // Then a new version of the file arrives (its rows stored already, and
    // one more), and a second replica starts and loads it.
    std::fs::write(data.path().join("employees.csv"), employees(200_001)).unwrap();
    let second = start();
    let mut restores = 0;
    loop {
        let ready = http.get(format!("{}/ready", second.base)).send().await;
        if matches!(&ready, Ok(answer) if answer.status() == 200) {
            break;
        }
        let started = std::time::Instant::now();
        let (status, body) = post(
            &http,
            format!("{}/api/v1/tables/departments/restore", first.base),
            Some(json!({"backup": backup["name"]})),
        )
        .await;
        let took = started.elapsed();
        assert_eq!(status, 200, "{body}");
        assert!(
            took < Duration::from_millis(2500),
            "a restore beside the load took {took:?}"
        );
        restores += 1;
    }
    assert!(restores > 0, "the load was over before any restore");
    assert_eq!(db.employee_ids().await.len(), 200_001);
}
