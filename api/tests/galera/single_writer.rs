//! Every replica through HAProxy, which sends all traffic to one node and
//! fails over when it dies.

use super::*;

/// The node (1 to 3) HAProxy sends writes to now.
async fn writer_node(db: &TestDb) -> usize {
    use sqlx::Connection;
    sqlx::any::install_default_drivers();
    let mut conn = sqlx::AnyConnection::connect(&db.url).await.unwrap();
    let port: i64 = sqlx::query_scalar("SELECT @@port")
        .fetch_one(&mut conn)
        .await
        .unwrap();
    conn.close().await.unwrap();
    test_support::GALERA_NODES
        .iter()
        .position(|node| i64::from(*node) == port)
        .expect("HAProxy routes to a node of the cluster")
        + 1
}

/// Sends `rows` under `key` until it is answered 200, as a client that
/// honours 503 and resends after a lost connection does; panics on any
/// other answer, or after a minute.
async fn send_until_stored(
    http: &reqwest::Client,
    replica: &Replica,
    table: &str,
    rows: &str,
    key: &str,
) -> Value {
    let started = std::time::Instant::now();
    loop {
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "batch {key} not stored within a minute"
        );
        match post_csv(http, replica, table, rows, Some(key)).await {
            Ok((200, body)) => return body,
            Ok((503, body)) => assert!(
                ["database_unavailable", "busy", "not_ready", "timeout"]
                    .contains(&body["code"].as_str().unwrap_or_default()),
                "{body}"
            ),
            Ok((status, body)) => panic!("batch {key}: {status} {body}"),
            Err(_) => {} // the connection died with the node: send again
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

// The writer node killed with kill -9 in the middle of ingest from two
// replicas: in-flight requests answer 503 (never 500), resends under the
// same key succeed, no acknowledged row is lost or doubled, every reject is
// recorded once, and the killed node rejoins with the same rows.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_writer_node_killed_mid_ingest_loses_and_doubles_nothing() {
    let _cluster = cluster().await;
    let (db, data, shared) = database_and_folders().await;
    references(data.path());
    let replicas: Vec<Replica> = (0..2)
        .map(|_| Replica::start(&db.url, data.path(), shared.path()))
        .collect();
    let http = reqwest::Client::new();
    all_ready(&http, &replicas).await;
    let writer = writer_node(&db).await;

    let ingest = |index: usize| {
        let (http, replica) = (&http, &replicas[index]);
        async move {
            let mut inserted = 0;
            for batch in 0..40i64 {
                let first = 1 + 10_000 * index as i64 + batch * 101;
                let mut rows = employees(first..first + 100);
                rows.push_str(&format!("{},Bad,never,1,1\n", first + 100));
                let body = send_until_stored(
                    http,
                    replica,
                    "employees",
                    &rows,
                    &format!("r{index}-b{batch}"),
                )
                .await;
                assert_eq!(body["rejected"], 1, "{body}");
                inserted += body["inserted"].as_u64().unwrap();
            }
            inserted
        }
    };
    let kill = async {
        tokio::time::sleep(Duration::from_millis(1500)).await;
        galera(&["kill", &writer.to_string()]);
    };
    let (left, right, ()) = tokio::join!(ingest(0), ingest(1), kill);
    assert_eq!(left + right, 8000, "rows acknowledged twice, or not at all");

    galera(&["start", &writer.to_string()]);
    assert_eq!(
        on_every_node(&db, "SELECT COUNT(*) FROM employees").await,
        [8000; 3]
    );
    assert_eq!(
        on_every_node(&db, "SELECT COUNT(*) FROM rejects").await,
        [80; 3]
    );
    // The replicas reconnect without a restart (HAProxy, failing back to
    // the first node, cut their connections to the other).
    for (index, replica) in replicas.iter().enumerate() {
        let rows = employees(90_000 + 10 * index as i64..90_010 + 10 * index as i64);
        let body = send_until_stored(
            &http,
            replica,
            "employees",
            &rows,
            &format!("after-{index}"),
        )
        .await;
        assert_eq!(body["inserted"], 10, "{body}");
    }
}

// The writer node killed in the middle of a restore: the restore either
// happened or did not (the table is the old one or the backup's, whole),
// the gate does not stay closed, and the restore sent again succeeds.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_writer_node_killed_mid_restore_leaves_the_table_whole_and_a_resend_restores_it() {
    let _cluster = cluster().await;
    let (db, data, shared) = database_and_folders().await;
    references(data.path());
    std::fs::write(data.path().join("employees.csv"), employees(1..100_001)).unwrap();
    let replica = Replica::start(&db.url, data.path(), shared.path());
    let http = reqwest::Client::new();
    all_ready(&http, std::slice::from_ref(&replica)).await;
    let writer = writer_node(&db).await;
    let (status, backup) = post(&http, replica.url("/api/v1/tables/employees/backups"), None).await;
    assert_eq!(status, 201, "{backup}");
    // The table now differs from the backup: 100 more rows.
    let more = send_until_stored(
        &http,
        &replica,
        "employees",
        &employees(200_000..200_100),
        "more",
    )
    .await;
    assert_eq!(more["inserted"], 100, "{more}");

    let restore = post(
        &http,
        replica.url("/api/v1/tables/employees/restore"),
        Some(serde_json::json!({"backup": backup["name"]})),
    );
    let kill = async {
        tokio::time::sleep(Duration::from_millis(400)).await;
        galera(&["kill", &writer.to_string()]);
    };
    let ((status, answer), ()) = tokio::join!(restore, kill);
    assert!(status == 200 || status == 503, "{status} {answer}");
    let rows = on_every_node_but(&db, writer, "SELECT COUNT(*) FROM employees").await;
    assert!(rows == [100_000; 2] || rows == [100_100; 2], "{rows:?}");

    // Sent again (as a client does after a 503), it restores the backup.
    let started = std::time::Instant::now();
    let restored = loop {
        let (status, body) = post(
            &http,
            replica.url("/api/v1/tables/employees/restore"),
            Some(serde_json::json!({"backup": backup["name"]})),
        )
        .await;
        if status == 200 {
            break body;
        }
        assert_eq!(status, 503, "{body}");
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "no restore within a minute: {body}"
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
    };
    assert_eq!(restored["rows"], 100_000, "{restored}");
    // The gate is open again.
    let after = send_until_stored(
        &http,
        &replica,
        "employees",
        &employees(300_000..300_010),
        "after",
    )
    .await;
    assert_eq!(after["inserted"], 10, "{after}");
    galera(&["start", &writer.to_string()]);
    assert_eq!(
        on_every_node(&db, "SELECT COUNT(*) FROM employees").await,
        [100_010; 3]
    );
    assert_eq!(db.staging_tables().await, Vec::<String>::new());
}

// The writer node killed while two replicas start and one loads the
// historical files: the load resumes and ends once, every row stored once,
// every bad row recorded once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_writer_node_killed_mid_historical_load_loses_and_doubles_nothing() {
    let _cluster = cluster().await;
    let (db, data, shared) = database_and_folders().await;
    references(data.path());
    let mut rows = employees(1..150_001);
    rows.push_str("150001,Late,never,1,1\n");
    rows.push_str(&employees(150_002..300_001));
    std::fs::write(data.path().join("employees.csv"), rows).unwrap();
    let writer = writer_node(&db).await;

    let replicas: Vec<Replica> = (0..2)
        .map(|_| Replica::start(&db.url, data.path(), shared.path()))
        .collect();
    let http = reqwest::Client::new();
    // Kill the writer once the load has stored some rows.
    let started = std::time::Instant::now();
    loop {
        // Before the migrations, there is no table to count.
        let pool = db.pool().await;
        let stored: Option<i64> = sqlx::query_scalar("SELECT COUNT(*) FROM employees")
            .fetch_one(&pool)
            .await
            .ok();
        pool.close().await;
        if stored.is_some_and(|rows| rows > 20_000) {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "the load did not start"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    galera(&["kill", &writer.to_string()]);
    all_ready(&http, &replicas).await;
    galera(&["start", &writer.to_string()]);

    assert_eq!(
        on_every_node(&db, "SELECT COUNT(*) FROM employees").await,
        [299_999; 3]
    );
    assert_eq!(
        on_every_node(&db, "SELECT COUNT(*) FROM rejects").await,
        [1; 3]
    );
    assert_eq!(
        on_every_node(
            &db,
            "SELECT COUNT(*) FROM historical_loads WHERE completed_at IS NOT NULL"
        )
        .await,
        [3; 3]
    );
}
