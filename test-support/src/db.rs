//! A fresh database per test.

use tempfile::TempDir;

/// Which engine a test runs against.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Engine {
    Sqlite,
    MariaDb,
    /// The three-node MariaDB Galera cluster `scripts/galera.sh` starts,
    /// through its HAProxy (one writer node at a time).
    Galera,
}

/// A database made for one test and dropped after it.
pub struct TestDb {
    pub url: String,
    mysql: Option<(String, String)>,
    _dir: Option<TempDir>,
}

/// Where MariaDB tests connect; `scripts/ensure-mariadb.sh` creates this user.
fn mysql_server_url() -> String {
    std::env::var("TEST_MYSQL_URL")
        .unwrap_or_else(|_| "mysql://hiring_test:hiring_test@127.0.0.1:3306".to_owned())
}

/// The Galera cluster of `scripts/galera.sh`: its nodes' ports, and the
/// HAProxy port that routes to one of them.
pub const GALERA_NODES: [u16; 3] = [3311, 3312, 3313];
const GALERA_WRITER: u16 = 3310;

fn galera_url(port: u16) -> String {
    format!("mysql://hiring_test:hiring_test@127.0.0.1:{port}")
}

impl TestDb {
    pub async fn create(engine: Engine) -> TestDb {
        match engine {
            Engine::Sqlite => {
                let dir = tempfile::tempdir().unwrap();
                let url = format!("sqlite://{}?mode=rwc", dir.path().join("test.db").display());
                TestDb {
                    url,
                    mysql: None,
                    _dir: Some(dir),
                }
            }
            Engine::MariaDb | Engine::Galera => {
                let server = if engine == Engine::Galera {
                    galera_url(GALERA_WRITER)
                } else {
                    mysql_server_url()
                };
                let name = format!("t_{}", uuid::Uuid::new_v4().simple());
                sqlx::any::install_default_drivers();
                let mut conn = <sqlx::AnyConnection as sqlx::Connection>::connect(&server)
                    .await
                    .unwrap_or_else(|err| {
                        panic!(
                            "cannot reach {engine:?} at {} ({err}); run \
                             scripts/ensure-mariadb.sh (MariaDB; or set TEST_MYSQL_URL) \
                             or scripts/galera.sh (Galera)",
                            server.split('@').next_back().unwrap_or_default()
                        )
                    });
                sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
                    "CREATE DATABASE {name} CHARACTER SET utf8mb4 COLLATE utf8mb4_bin"
                )))
                .execute(&mut conn)
                .await
                .unwrap();
                TestDb {
                    url: format!("{server}/{name}"),
                    mysql: Some((server, name)),
                    _dir: None,
                }
            }
        }
    }

    /// The test database's URL on the Galera node `node` (1 to 3), to
    /// reach one node rather than the writer HAProxy picks.
    pub fn node_url(&self, node: usize) -> String {
        let (_, name) = self.mysql.as_ref().expect("a Galera test database");
        format!("{}/{name}", galera_url(GALERA_NODES[node - 1]))
    }

    /// The stored employee ids, in order, read behind the API's back.
    pub async fn employee_ids(&self) -> Vec<i64> {
        let pool = self.pool().await;
        let ids = sqlx::query_scalar("SELECT employee_id FROM employees ORDER BY employee_id")
            .fetch_all(&pool)
            .await
            .unwrap();
        pool.close().await;
        ids
    }

    /// The tables a restore stages or sets aside (`<table>_restore_…`,
    /// `<table>_replaced_…`) still in the MySQL test database: none once
    /// every restore has finished or been cleaned up after.
    pub async fn staging_tables(&self) -> Vec<String> {
        let pool = self.pool().await;
        let found = sqlx::query_scalar(
            "SELECT CAST(table_name AS CHAR) FROM information_schema.tables \
             WHERE table_schema = DATABASE() \
             AND (table_name LIKE '%restore%' OR table_name LIKE '%replaced%')",
        )
        .fetch_all(&pool)
        .await
        .unwrap();
        pool.close().await;
        found
    }

    /// A pool on the test database, to look behind the API's back.
    pub async fn pool(&self) -> sqlx::AnyPool {
        sqlx::any::install_default_drivers();
        sqlx::AnyPool::connect(&self.url).await.unwrap()
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        let Some((server, name)) = self.mysql.take() else {
            return;
        };
        // Drop runs outside async; a short-lived runtime drops the database.
        let _ = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            runtime.block_on(async {
                if let Ok(mut conn) =
                    <sqlx::AnyConnection as sqlx::Connection>::connect(&server).await
                {
                    let _ = sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
                        "DROP DATABASE IF EXISTS {name}"
                    )))
                    .execute(&mut conn)
                    .await;
                }
            });
        })
        .join();
    }
}
