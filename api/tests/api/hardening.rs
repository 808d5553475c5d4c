//! Faults and load: many writers at once, and the server killed (SIGKILL)
//! mid-ingest. Nothing stored is lost or doubled, and every row sent is
//! accounted for as stored or as a logged reject.
use test_support::engine_tests;
use vocab::RejectCode;

use std::collections::BTreeSet;
use std::time::{Duration, Instant};
use test_support::{
    Engine, TOKEN, TestDb, api_command, free_port, into_json, spawn_app, wait_ready,
};

/// How long the writers run (`HARDENING_SECS`, default 30).
fn writers_run_for() -> Duration {
    let secs = std::env::var("HARDENING_SECS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(30);
    Duration::from_secs(secs)
}

/// Employee `id` as a CSV line. Some ids are bad by construction: every 17th
/// names a department that does not exist, every 19th has no valid date.
fn employee_line(id: u64) -> String {
    let department = if id.is_multiple_of(17) {
        99
    } else {
        1 + id % 3
    };
    let date = if id.is_multiple_of(19) {
        "2021-13-01T00:00:00Z"
    } else {
        "2021-06-01T08:00:00Z"
    };
    format!("{id},Person {id},{date},{department},{}\n", 1 + id % 3)
}

fn is_bad(id: u64) -> bool {
    id.is_multiple_of(17) || id.is_multiple_of(19)
}

/// A small deterministic generator, one per writer.
struct Lcg(u64);

impl Lcg {
    fn below(&mut self, n: u64) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (self.0 >> 33) % n
    }
}

#[derive(Default)]
struct Tally {
    sent: BTreeSet<u64>,
    received: u64,
    inserted: u64,
    already_stored: u64,
    rejected: u64,
}

async fn stored_ids(db: &TestDb) -> Vec<u64> {
    let ids = db.employee_ids().await;
    ids.into_iter().map(|id| id as u64).collect()
}

engine_tests! {
    async fn sixteen_writers_of_overlapping_batches_store_each_id_once(engine) {
        const SPACE: u64 = 20_000;
        let app = spawn_app(engine).await;
        app.seed_references().await;
        let deadline = Instant::now() + writers_run_for();

        let writer = |seed: u64| {
            let app = &app;
            async move {
                let mut random = Lcg(seed);
                let mut tally = Tally::default();
                while Instant::now() < deadline {
                    let size = 1 + random.below(400);
                    let first = 1 + random.below(SPACE - size);
                    let ids = first..first + size;
                    let body: String = ids.clone().map(employee_line).collect();
                    let (status, result) = app.post_csv("employees", &body).await;
                    assert_eq!(status, 200, "{result}");
                    assert_eq!(result["received"].as_u64(), Some(size), "{result}");
                    tally.sent.extend(ids);
                    tally.received += size;
                    tally.inserted += result["inserted"].as_u64().unwrap();
                    tally.already_stored += result["already_stored"].as_u64().unwrap();
                    tally.rejected += result["rejected"].as_u64().unwrap();
                }
                tally
            }
        };
        let tallies = futures::future::join_all((0..16).map(writer)).await;

        let mut all = Tally::default();
        for tally in tallies {
            assert_eq!(tally.received, tally.inserted + tally.already_stored + tally.rejected);
            all.sent.extend(tally.sent);
            all.received += tally.received;
            all.inserted += tally.inserted;
            all.already_stored += tally.already_stored;
            all.rejected += tally.rejected;
        }
        assert!(all.received > 1_000, "the writers barely ran: {} rows", all.received);
        // Each good id sent is stored exactly once, and nothing else is.
        let expected: Vec<u64> = all.sent.iter().copied().filter(|id| !is_bad(*id)).collect();
        let stored = stored_ids(&app.db).await;
        assert_eq!(stored.len(), expected.len());
        assert!(stored == expected, "the stored ids are not the good ids sent");
        assert_eq!(all.inserted, expected.len() as u64, "an insert was counted twice");
        // A good row sent again was already stored, never a reject; every
        // reject is a bad row, recorded with the right reason.
        let rejects = app.rejects().await;
        assert_eq!(rejects.len() as u64, all.rejected);
        for reject in &rejects {
            let id = reject.id.unwrap() as u64;
            let expected = match (id.is_multiple_of(17), id.is_multiple_of(19)) {
                (_, true) => RejectCode::InvalidDatetime,
                (true, false) => RejectCode::UnknownDepartment,
                (false, false) => panic!("a good row was rejected: {reject:?}"),
            };
            assert_eq!(reject.code, expected, "{reject:?}");
        }
    }
}

/// Sends batches from four connections at the real binary, kills it
/// (SIGKILL) mid-ingest, restarts it, and resends what was not answered:
/// every acknowledged batch is stored, a batch cut off is stored whole or
/// not at all, and every id ends up stored exactly once.
async fn ingest_killed_midway_loses_and_doubles_nothing(engine: Engine) {
    const BATCHES: u64 = 120;
    const BATCH: u64 = 500;
    let db = TestDb::create(engine).await;
    let data = tempfile::tempdir().unwrap();
    let shared = tempfile::tempdir().unwrap();
    std::fs::write(
        data.path().join("departments.csv"),
        "1,Sales\n2,Ops\n3,R&D\n",
    )
    .unwrap();
    std::fs::write(
        data.path().join("jobs.csv"),
        "1,Dev\n2,Manager\n3,Analyst\n",
    )
    .unwrap();
    let port = free_port();
    let base = format!("http://127.0.0.1:{port}");
    let start = || {
        api_command(crate::API_BIN, &db.url, port, data.path(), shared.path())
            .spawn()
            .unwrap()
    };
    let http = reqwest::Client::new();
    let wait_ready = || wait_ready(&http, &base, Duration::from_secs(120));
    let body = |batch: u64| -> String {
        (batch * BATCH + 1..=(batch + 1) * BATCH)
            .map(|id| format!("{id},Person {id},2021-06-01T08:00:00Z,{},1\n", 1 + id % 3))
            .collect()
    };
    let send = |batch: u64| {
        let request = http
            .post(format!("{base}/api/v1/tables/employees/rows"))
            .bearer_auth(TOKEN)
            .header("content-type", "text/csv")
            .body(body(batch));
        async move {
            let response = request.send().await.ok()?;
            let (status, result) = into_json(response).await;
            (status == 200).then_some(result)
        }
    };

    let mut child = start();
    wait_ready().await;
    // Four connections take batches in turn; the kill lands once a quarter
    // of them are acknowledged.
    let acked = std::sync::Mutex::new(BTreeSet::new());
    let next = std::sync::atomic::AtomicU64::new(0);
    let sender = || async {
        loop {
            let batch = next.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            if batch >= BATCHES {
                return;
            }
            match send(batch).await {
                Some(result) => {
                    assert_eq!(result["inserted"].as_u64(), Some(BATCH), "{result}");
                    acked.lock().unwrap().insert(batch);
                }
                None => return, // the server is gone
            }
        }
    };
    let killer = async {
        while acked.lock().unwrap().len() < (BATCHES / 4) as usize {
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
        child.kill().unwrap();
        child.wait().unwrap();
    };
    futures::future::join(futures::future::join_all((0..4).map(|_| sender())), killer).await;
    let acked = acked.into_inner().unwrap();
    assert!(
        (acked.len() as u64) < BATCHES,
        "every batch finished before the kill"
    );

    // No acknowledged row is lost.
    let stored: BTreeSet<u64> = stored_ids(&db).await.into_iter().collect();
    for batch in &acked {
        assert!((batch * BATCH + 1..=(batch + 1) * BATCH).all(|id| stored.contains(&id)));
    }

    // The client resends every batch it has no answer for.
    let mut child = start();
    wait_ready().await;
    let mut already_stored = 0;
    for batch in (0..BATCHES).filter(|b| !acked.contains(b)) {
        let result = send(batch).await.expect("the restarted server answers");
        let inserted = result["inserted"].as_u64().unwrap();
        assert!(
            inserted == 0 || inserted == BATCH,
            "batch {batch} was half stored: {result}"
        );
        assert_eq!(result["rejected"].as_u64(), Some(0), "{result}");
        already_stored += result["already_stored"].as_u64().unwrap();
    }
    child.kill().unwrap();
    child.wait().unwrap();
    eprintln!(
        "{engine:?}: {} of {BATCHES} batches acknowledged before the kill; \
         {already_stored} rows of the resent ones were stored already",
        acked.len()
    );

    let stored = stored_ids(&db).await;
    let expected: Vec<u64> = (1..=BATCHES * BATCH).collect();
    assert!(
        stored == expected,
        "{} rows stored, {} expected",
        stored.len(),
        expected.len()
    );
    // A resent batch that had been stored is already stored, not rejected.
    let pool = db.pool().await;
    let rejects: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM rejects")
        .fetch_one(&pool)
        .await
        .unwrap();
    pool.close().await;
    assert_eq!(rejects, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_ingest_killed_midway_loses_and_doubles_nothing() {
    ingest_killed_midway_loses_and_doubles_nothing(Engine::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mariadb_ingest_killed_midway_loses_and_doubles_nothing() {
    ingest_killed_midway_loses_and_doubles_nothing(Engine::MariaDb).await;
}
