//! Replicas on different nodes, all writing.

use super::*;
use serde_json::json;

/// Three replicas, one per node, over `data` and `shared`.
fn one_per_node(db: &TestDb, data: &Path, shared: &Path) -> Vec<Replica> {
    (1..=3)
        .map(|node| Replica::start(&db.node_url(node), data, shared))
        .collect()
}

// At a simultaneous first start, one replica migrates and one loads each
// file; the others wait for them, and no bad row is recorded twice.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replicas_on_every_node_starting_together_migrate_once_and_load_each_file_once() {
    let _cluster = cluster().await;
    let (db, data, shared) = database_and_folders().await;
    std::fs::write(
        data.path().join("departments.csv"),
        "1,Sales\n2,Ops\nx,Bad\n",
    )
    .unwrap();
    std::fs::write(data.path().join("jobs.csv"), "1,Dev\n").unwrap();
    let mut rows = employees(1..3001);
    rows.push_str("3001,Late,not a date,1,1\n");
    std::fs::write(data.path().join("employees.csv"), rows).unwrap();

    let replicas = one_per_node(&db, data.path(), shared.path());
    let http = reqwest::Client::new();
    all_ready(&http, &replicas).await;

    assert_eq!(
        on_every_node(&db, "SELECT COUNT(*) FROM employees").await,
        [3000; 3]
    );
    assert_eq!(
        on_every_node(&db, "SELECT COUNT(*) FROM rejects").await,
        [2; 3]
    );
    assert_eq!(
        on_every_node(
            &db,
            "SELECT COUNT(*) FROM _sqlx_migrations WHERE success = TRUE"
        )
        .await,
        on_every_node(&db, "SELECT COUNT(*) FROM _sqlx_migrations").await,
    );
    assert_eq!(
        on_every_node(
            &db,
            "SELECT COUNT(*) FROM historical_loads WHERE completed_at IS NOT NULL"
        )
        .await,
        [3; 3]
    );
    // The page for people says what the database is.
    let home = http.get(replicas[0].url("/")).send().await.unwrap();
    let home = home.text().await.unwrap();
    assert!(home.contains("Galera cluster of 3"), "{home}");
}

// Batches on three nodes at once, overlapping in ids: every batch is
// answered (conflicts at COMMIT are run again inside the service), every
// row is stored once, every bad row recorded once per batch that held it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ingest_on_every_node_at_once_stores_each_row_once_and_each_reject_once() {
    let _cluster = cluster().await;
    let (db, data, shared) = database_and_folders().await;
    references(data.path());
    let replicas = one_per_node(&db, data.path(), shared.path());
    let http = reqwest::Client::new();
    all_ready(&http, &replicas).await;

    // Each replica sends 30 batches of 200 rows: ids that all three send
    // (the same values), and one bad row of its own per batch.
    let send = |name: &'static str, index: usize| {
        let (http, replica) = (&http, &replicas[index]);
        async move {
            let mut inserted = 0;
            for batch in 0..30i64 {
                let mut rows = employees(batch * 200 + 1..batch * 200 + 201);
                rows.push_str(&format!(
                    "{},{name}{batch},never,1,1\n",
                    100_000 + index as i64 * 100 + batch
                ));
                let (status, body) = post_csv(http, replica, "employees", &rows, None)
                    .await
                    .unwrap();
                assert_eq!(status, 200, "{body}");
                assert_eq!(body["rejected"], 1, "{body}");
                inserted += body["inserted"].as_u64().unwrap();
            }
            inserted
        }
    };
    let (a, b, c) = tokio::join!(send("a", 0), send("b", 1), send("c", 2));
    assert_eq!(a + b + c, 6000, "rows inserted twice, or not at all");
    // What ran again is counted.
    let metrics = http.get(replicas[0].url("/metrics")).send().await.unwrap();
    let metrics = metrics.text().await.unwrap();
    assert!(
        metrics.contains("hiring_db_transaction_retries_total{conflict=\"deadlock\"}"),
        "{metrics}"
    );
    assert_eq!(
        on_every_node(&db, "SELECT COUNT(*) FROM employees").await,
        [6000; 3]
    );
    assert_eq!(
        on_every_node(&db, "SELECT COUNT(*) FROM rejects").await,
        [90; 3]
    );
    // The count every replica reads is the table's, though batches on three
    // nodes added to it at once.
    for replica in &replicas {
        let tables = http
            .get(replica.url("/api/v1/tables"))
            .send()
            .await
            .unwrap();
        let (_, tables) = into_json(tables).await;
        assert_eq!(tables["tables"][2]["rows"], 6000, "{tables}");
    }
}

// A restore on one node while the others ingest: every acknowledged row is
// in the table, or in the backup the restore took of what it replaced.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restore_on_one_node_beside_ingest_on_the_others_loses_no_acknowledged_row() {
    let _cluster = cluster().await;
    let (db, data, shared) = database_and_folders().await;
    references(data.path());
    std::fs::write(data.path().join("employees.csv"), employees(1..1001)).unwrap();
    let replicas = one_per_node(&db, data.path(), shared.path());
    let http = reqwest::Client::new();
    all_ready(&http, &replicas).await;
    let (status, backup) = post(
        &http,
        replicas[0].url("/api/v1/tables/employees/backups"),
        None,
    )
    .await;
    assert_eq!(status, 201, "{backup}");

    let ingest = |index: usize| {
        let (http, replica) = (&http, &replicas[index]);
        async move {
            let mut acked = Vec::new();
            for batch in 0..40i64 {
                let first = 10_000 * index as i64 + batch * 100;
                let (status, body) = post_csv(
                    http,
                    replica,
                    "employees",
                    &employees(first..first + 100),
                    None,
                )
                .await
                .unwrap();
                assert_eq!(status, 200, "{body}");
                acked.extend(first..first + 100);
            }
            acked
        }
    };
    let restore = async {
        tokio::time::sleep(Duration::from_millis(300)).await;
        post(
            &http,
            replicas[0].url("/api/v1/tables/employees/restore"),
            Some(json!({"backup": backup["name"]})),
        )
        .await
    };
    let (left, right, (status, restored)) = tokio::join!(ingest(1), ingest(2), restore);
    assert_eq!(status, 200, "{restored}");

    let stored: std::collections::HashSet<i64> = db.employee_ids().await.into_iter().collect();
    let replaced = avro_ids(
        &shared
            .path()
            .join("backups")
            .join(restored["previous_backup"].as_str().unwrap()),
    );
    let lost: Vec<i64> = left
        .into_iter()
        .chain(right)
        .filter(|id| !stored.contains(id) && !replaced.contains(id))
        .collect();
    assert!(
        lost.is_empty(),
        "{} acknowledged rows lost, e.g. {:?}",
        lost.len(),
        &lost[..lost.len().min(5)]
    );
    let counts = on_every_node(&db, "SELECT COUNT(*) FROM employees").await;
    assert!(counts.iter().all(|count| *count == counts[0]), "{counts:?}");
}

/// The ids in an employees backup.
fn avro_ids(path: &Path) -> std::collections::HashSet<i64> {
    let file = std::fs::File::open(path).unwrap();
    apache_avro::Reader::new(std::io::BufReader::new(file))
        .unwrap()
        .map(|record| match record.unwrap() {
            apache_avro::types::Value::Record(fields) => match &fields[0].1 {
                apache_avro::types::Value::Int(id) => i64::from(*id),
                apache_avro::types::Value::Long(id) => *id,
                other => panic!("an id of another type: {other:?}"),
            },
            other => panic!("a record of another shape: {other:?}"),
        })
        .collect()
}

// A replica whose node leaves the cluster reports not ready, and comes
// back when the node has rejoined.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_replica_whose_node_is_down_is_not_ready_until_it_rejoins() {
    let _cluster = cluster().await;
    let (db, data, shared) = database_and_folders().await;
    let replicas = one_per_node(&db, data.path(), shared.path());
    let http = reqwest::Client::new();
    all_ready(&http, &replicas).await;

    galera(&["kill", "3"]);
    let not_ready = async {
        loop {
            let status = http
                .get(replicas[2].url("/ready"))
                .send()
                .await
                .unwrap()
                .status();
            if status == 503 {
                break;
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    };
    tokio::time::timeout(Duration::from_secs(10), not_ready)
        .await
        .expect("still ready with its node down");
    let (status, body) = post_csv(&http, &replicas[2], "departments", "9,Late\n", None)
        .await
        .unwrap();
    assert_eq!(
        (status, body["code"].as_str()),
        (503, Some("database_unavailable")),
        "{body}"
    );
    // The others write on.
    let (status, body) = post_csv(&http, &replicas[0], "departments", "10,On\n", None)
        .await
        .unwrap();
    assert_eq!(status, 200, "{body}");

    galera(&["start", "3"]);
    wait_ready(&http, &replicas[2].base, Duration::from_secs(60)).await;
    let (status, body) = post_csv(&http, &replicas[2], "departments", "9,Late\n", None)
        .await
        .unwrap();
    assert_eq!(
        (status, body["inserted"].as_u64()),
        (200, Some(1)),
        "{body}"
    );
    assert_eq!(
        on_every_node(&db, "SELECT COUNT(*) FROM departments").await,
        [2; 3]
    );
}

// Two restores of one table at once on two nodes: both succeed, one after
// the other, and the table is one backup's, whole.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn restores_of_one_table_on_two_nodes_at_once_both_succeed_one_after_the_other() {
    let _cluster = cluster().await;
    let (db, data, shared) = database_and_folders().await;
    references(data.path());
    std::fs::write(data.path().join("employees.csv"), employees(1..20_001)).unwrap();
    let replicas = one_per_node(&db, data.path(), shared.path());
    let http = reqwest::Client::new();
    all_ready(&http, &replicas).await;
    let (_, small) = post(
        &http,
        replicas[0].url("/api/v1/tables/employees/backups"),
        None,
    )
    .await;
    let (status, body) = post_csv(
        &http,
        &replicas[1],
        "employees",
        &employees(30_000..30_500),
        None,
    )
    .await
    .unwrap();
    assert_eq!(status, 200, "{body}");
    let (_, large) = post(
        &http,
        replicas[1].url("/api/v1/tables/employees/backups"),
        None,
    )
    .await;

    let restore = |index: usize, backup: &Value| {
        post(
            &http,
            replicas[index].url("/api/v1/tables/employees/restore"),
            Some(json!({"backup": backup["name"]})),
        )
    };
    let ((a, first), (b, second)) = tokio::join!(restore(0, &small), restore(1, &large));
    assert_eq!((a, b), (200, 200), "{first} {second}");
    let rows = on_every_node(&db, "SELECT COUNT(*) FROM employees").await;
    assert!(rows == [20_000; 3] || rows == [20_500; 3], "{rows:?}");
}

// A restore whose turn (a lease) another process took over meanwhile (its
// own ran out unrenewed: a paused process, a slow node) stops before its
// swap: 503, the table as it was, its staging table gone, the gate open.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restore_whose_turn_was_taken_over_stops_before_its_swap() {
    let _cluster = cluster().await;
    let (db, data, shared) = database_and_folders().await;
    references(data.path());
    std::fs::write(data.path().join("employees.csv"), employees(1..100_001)).unwrap();
    let replica = Replica::start(&db.node_url(1), data.path(), shared.path());
    let http = reqwest::Client::new();
    all_ready(&http, std::slice::from_ref(&replica)).await;
    let (status, backup) = post(&http, replica.url("/api/v1/tables/employees/backups"), None).await;
    assert_eq!(status, 201, "{backup}");
    let (status, body) = post_csv(
        &http,
        &replica,
        "employees",
        &employees(200_000..200_010),
        None,
    )
    .await
    .unwrap();
    assert_eq!(status, 200, "{body}");

    let restore = tokio::spawn({
        let (http, url) = (
            http.clone(),
            replica.url("/api/v1/tables/employees/restore"),
        );
        async move { post(&http, url, Some(json!({"backup": backup["name"]}))).await }
    });
    // Another process takes the lease over, on another node, while the
    // restore stages its 100,000 rows.
    let pool = sqlx::AnyPool::connect(&db.node_url(2)).await.unwrap();
    let mut taken = 0;
    for _ in 0..2000 {
        let update = sqlx::query(
            "UPDATE hiring_leases SET owner = 'another-process' \
             WHERE name LIKE 'hiring.restore.employees%'",
        )
        .execute(&pool)
        .await;
        taken = match update {
            Ok(done) => done.rows_affected(),
            // The restore wrote its lease at the same moment on its node
            // and won certification: take it over at the next try.
            Err(sqlx::Error::Database(err)) if err.code().as_deref() == Some("40001") => 0,
            Err(err) => panic!("{err}"),
        };
        if taken == 1 || restore.is_finished() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    assert_eq!(taken, 1, "the restore's lease was never seen");
    let (status, body) = restore.await.unwrap();
    assert_eq!(
        (status, body["code"].as_str()),
        (503, Some("busy")),
        "{body}"
    );
    pool.close().await;

    assert_eq!(
        on_every_node(&db, "SELECT COUNT(*) FROM employees").await,
        [100_010; 3]
    );
    let leftovers = on_every_node(
        &db,
        "SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = DATABASE() \
         AND table_name LIKE 'employees\\_re%'",
    )
    .await;
    assert_eq!(leftovers, [0; 3]);
    let (status, body) = post_csv(
        &http,
        &replica,
        "employees",
        &employees(300_000..300_010),
        None,
    )
    .await
    .unwrap();
    assert_eq!(
        (status, body["inserted"].as_u64()),
        (200, Some(10)),
        "the gate is open: {body}"
    );
}

/// Sets node `node`'s global `wsrep_osu_method` to `method`.
fn set_schema_change_method(db: &TestDb, node: usize, method: &str) {
    let url = db.node_url(node);
    let statement = format!("SET GLOBAL wsrep_osu_method = '{method}'");
    std::thread::scope(|scope| {
        scope.spawn(|| {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            runtime.block_on(async {
                let pool = sqlx::AnyPool::connect(&url).await.unwrap();
                sqlx::raw_sql(sqlx::AssertSqlSafe(statement))
                    .execute(&pool)
                    .await
                    .unwrap();
                pool.close().await;
            });
        });
    });
}

/// Puts TOI back on a node when dropped, also when the test fails.
struct Toi<'a>(&'a TestDb, usize);

impl Drop for Toi<'_> {
    fn drop(&mut self) {
        set_schema_change_method(self.0, self.1, "TOI");
    }
}

// A cluster that runs schema changes node by node (RSU) would let a
// restore's swap happen on one node only: refused at start, before any
// schema change, with a message that says why.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_node_that_changes_schemas_on_its_own_is_refused_at_start() {
    let _cluster = cluster().await;
    let (db, data, shared) = database_and_folders().await;
    set_schema_change_method(&db, 3, "RSU");
    let _toi = Toi(&db, 3);
    let started = test_support::api_command(
        API_BIN,
        &db.node_url(3),
        test_support::free_port(),
        data.path(),
        shared.path(),
    )
    .stderr(std::process::Stdio::piped())
    .spawn()
    .unwrap();
    let output = tokio::time::timeout(
        Duration::from_secs(60),
        tokio::task::spawn_blocking(move || started.wait_with_output().unwrap()),
    )
    .await
    .expect("the replica stops by itself")
    .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success(), "{stderr}");
    assert!(stderr.contains("wsrep_osu_method=RSU"), "{stderr}");
    // Nothing was created: not even the migrations' table.
    let tables = on_every_node(
        &db,
        "SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = DATABASE()",
    )
    .await;
    assert_eq!(tables, [0; 3]);
}
