//! All SQL lives here: connecting, migrations, and small query functions
//! that take a connection (or a transaction, which derefs to one).
//!
//! Queries stay in the subset SQLite and MySQL/MariaDB share; the few
//! engine-specific statements sit in this module, next to each other.

mod coordination;
mod loads;
mod rejects;
mod reports;
mod rows;
mod staging;

pub use coordination::{GateHold, NamedLock, lock_key};
pub use loads::{
    LoadOverview, LoadRecord, Progress, finish_load, latest_loads, load_record, record_progress,
    start_load,
};
pub use rejects::{Source, latest_rejects, page_rejects, record_rejects, reject_counts};
pub use reports::{DepartmentCount, QuarterCount, hires_by_department, hires_by_quarter};
pub use rows::{
    existing_ids, get_row, insert_rows, page_rows, send_all_rows, stored_rows, table_counts,
};
pub use staging::{
    broken_reference, create_staging, drop_staging, index_staging, insert_staging, swap_in_staging,
};

use crate::domain::Table;
use anyhow::Context;
use sqlx::any::{AnyPoolOptions, install_default_drivers};
use sqlx::sqlite::SqliteConnectOptions;
use sqlx::{Any, AnyPool, Transaction};
use std::path::Path;
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{Mutex, MutexGuard, Semaphore, SemaphorePermit};

/// Write transactions at once on MySQL. Ingest of 1 M rows over 16
/// connections (MariaDB, 2 cores): 140 k rows/s and a p99 batch of 270 ms
/// with all 16 writing at once; 155 k rows/s and 145 ms with 4.
const MYSQL_WRITERS: u32 = 4;

/// Which SQL engine the pool talks to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Engine {
    Sqlite,
    MySql,
}

impl Engine {
    /// The engine's name and the server's version, for people
    /// ("SQLite 3.46.0", "MariaDB 10.11.6").
    pub async fn describe(conn: &mut sqlx::AnyConnection) -> sqlx::Result<String> {
        Ok(match Engine::of(conn) {
            Engine::Sqlite => {
                let version: String = sqlx::query_scalar("SELECT sqlite_version()")
                    .fetch_one(&mut *conn)
                    .await?;
                format!("SQLite {version}")
            }
            Engine::MySql => {
                // MariaDB says so in its version ("10.11.6-MariaDB-0+deb12u1").
                let version: String = sqlx::query_scalar("SELECT VERSION()")
                    .fetch_one(&mut *conn)
                    .await?;
                match version.split_once("-MariaDB") {
                    Some((number, _)) => format!("MariaDB {number}"),
                    None => format!("MySQL {version}"),
                }
            }
        })
    }

    /// The engine `conn` talks to.
    pub fn of(conn: &sqlx::AnyConnection) -> Engine {
        if conn.backend_name() == <sqlx::Sqlite as sqlx::Database>::NAME {
            Engine::Sqlite
        } else {
            Engine::MySql
        }
    }
}

/// The connection pool, plus what the service needs to know about its engine.
#[derive(Clone)]
pub struct Db {
    pool: AnyPool,
    engine: Engine,
    /// Write transactions allowed at once. SQLite has one writer at a
    /// time: queueing writers here instead of failing them with "database
    /// is locked" when a read transaction tries to upgrade. MySQL takes a
    /// few: more only contend for the same index pages and the two cores.
    writers: Arc<Semaphore>,
    /// How many turns `writers` has.
    writer_turns: u32,
    /// How long a write waits for its turn (`WRITE_WAIT_SECS`): for a
    /// place in `writers`, and for the database's locks.
    write_wait: Duration,
    /// One restore at a time (see `restore_turn`).
    restores: Arc<Mutex<()>>,
    /// SQLite: a pool of one connection that every ingest transaction
    /// uses (see `begin_write`).
    sqlite_writer: Option<AnyPool>,
    /// SQLite: a read-only connection outside the pool for backups (see
    /// `send_all_rows`).
    sqlite_reader: Option<Arc<SqliteConnectOptions>>,
    /// SQLite: the locked `<file>.lock` that makes this process the file's
    /// only API process (see `claim_sqlite_file`).
    _sqlite_owner: Option<Arc<std::fs::File>>,
}

/// The pool options of `engine`: at most `max_connections`, each set up as
/// the service needs (pragmas on SQLite, the lock wait on MySQL).
fn pool_options(engine: Engine, write_wait: Duration, max_connections: u32) -> AnyPoolOptions {
    let options = AnyPoolOptions::new()
        .max_connections(max_connections)
        .acquire_timeout(Duration::from_secs(10));
    match engine {
        // WAL lets readers run beside the one writer; NORMAL sync is
        // durable across application crashes (WAL is fsynced at
        // checkpoints) and much faster than FULL. A 1000-row batch of
        // employees dirties about a thousand pages of the date index,
        // so the default checkpoint (every 1000 WAL pages) ran after
        // nearly every commit; every 16384 pages (64 MiB of WAL) took
        // the 1 M-row REST ingest from 33 k to 43 k rows/s.
        // A write waits for the file's lock at most `write_wait`.
        Engine::Sqlite => options.after_connect(move |conn, _| {
            Box::pin(async move {
                let pragmas = format!(
                    "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; \
                     PRAGMA busy_timeout = {}; PRAGMA cache_size = -32768; \
                     PRAGMA wal_autocheckpoint = 16384;",
                    write_wait.as_millis()
                );
                sqlx::raw_sql(sqlx::AssertSqlSafe(pragmas))
                    .execute(conn)
                    .await
                    .map(|_| ())
            })
        }),
        // A statement waits for a row lock (the write gate, say) at
        // most `write_wait`, not InnoDB's default 50 s.
        Engine::MySql => options.after_connect(move |conn, _| {
            Box::pin(async move {
                let set = format!(
                    "SET SESSION innodb_lock_wait_timeout = {}",
                    write_wait.as_secs().max(1)
                );
                sqlx::raw_sql(sqlx::AssertSqlSafe(set))
                    .execute(conn)
                    .await
                    .map(|_| ())
            })
        }),
    }
}

impl Db {
    /// A pool on `url` (`sqlite:` or `mysql:`) that connects on first use,
    /// so a database that is still down does not stop the service starting.
    /// Creates an SQLite file's folders when needed.
    pub fn connect_lazy(url: &str, write_wait: Duration) -> anyhow::Result<Db> {
        install_default_drivers();
        let engine = if url.starts_with("sqlite:") {
            Engine::Sqlite
        } else if url.starts_with("mysql:") || url.starts_with("mariadb:") {
            Engine::MySql
        } else {
            anyhow::bail!("DATABASE_URL must start with sqlite: or mysql:");
        };
        let url = url.replacen("mariadb:", "mysql:", 1);
        let sqlite_owner = match engine {
            Engine::Sqlite => claim_sqlite_file(&url)?,
            Engine::MySql => None,
        };
        let max_connections = if engine == Engine::Sqlite { 4 } else { 16 };
        let pool = pool_options(engine, write_wait, max_connections)
            .connect_lazy(&url)
            .context("DATABASE_URL is not a valid database address")?;
        // SQLite writes one transaction at a time: they all go through one
        // connection, whose page cache then stays warm. Spread over the
        // pool's connections in turn, each write found its cache stale
        // (another connection had written since) and read the index pages
        // it touched back from the file: 7-13 % of the ingest rate.
        let sqlite_writer = match engine {
            Engine::Sqlite => Some(pool_options(engine, write_wait, 1).connect_lazy(&url)?),
            Engine::MySql => None,
        };
        let sqlite_reader = match engine {
            Engine::Sqlite => Some(Arc::new(
                SqliteConnectOptions::from_str(&url)
                    .context("DATABASE_URL is not a valid SQLite address")?
                    .read_only(true)
                    .create_if_missing(false)
                    .row_buffer_size(1024),
            )),
            Engine::MySql => None,
        };
        let writer_turns = match engine {
            Engine::Sqlite => 1,
            Engine::MySql => MYSQL_WRITERS,
        };
        Ok(Db {
            pool,
            engine,
            writers: Arc::new(Semaphore::new(writer_turns as usize)),
            writer_turns,
            write_wait,
            restores: Arc::new(Mutex::new(())),
            sqlite_writer,
            sqlite_reader,
            _sqlite_owner: sqlite_owner,
        })
    }

    /// Applies the embedded migrations of this engine.
    pub async fn migrate(&self) -> anyhow::Result<()> {
        match self.engine {
            Engine::Sqlite => sqlx::migrate!("./migrations/sqlite").run(&self.pool).await,
            Engine::MySql => sqlx::migrate!("./migrations/mysql").run(&self.pool).await,
        }
        .context("cannot apply database migrations")
    }

    /// True when the database answers and every migration is applied.
    pub async fn is_ready(&self) -> bool {
        let expected = match self.engine {
            Engine::Sqlite => sqlx::migrate!("./migrations/sqlite").iter().count(),
            Engine::MySql => sqlx::migrate!("./migrations/mysql").iter().count(),
        };
        let applied = sqlx::query_scalar::<_, i64>(
            "SELECT COUNT(*) FROM _sqlx_migrations WHERE success = TRUE",
        )
        .fetch_one(&self.pool);
        // A database that does not answer is not ready; say so quickly.
        matches!(
            tokio::time::timeout(Duration::from_secs(2), applied).await,
            Ok(Ok(n)) if n as usize >= expected
        )
    }

    pub fn engine(&self) -> Engine {
        self.engine
    }

    /// How to open a read-only SQLite connection outside the pool; `None`
    /// on MySQL.
    pub(super) fn sqlite_reader(&self) -> Option<&SqliteConnectOptions> {
        self.sqlite_reader.as_deref()
    }

    /// Waits for a turn to write (see `writers`), at most `WRITE_WAIT_SECS`;
    /// the turn ends when the guard is dropped.
    pub async fn write_guard(&self) -> Result<SemaphorePermit<'_>, WriteBusy> {
        self.write_turns(1).await
    }

    /// Waits until no one else writes, at most `WRITE_WAIT_SECS`, and keeps
    /// it so until the guard is dropped: for a check that must still hold
    /// when the next statement runs (a restore's reference check, then its
    /// swap).
    pub async fn exclusive_write_guard(&self) -> Result<SemaphorePermit<'_>, WriteBusy> {
        self.write_turns(self.writer_turns).await
    }

    async fn write_turns(&self, turns: u32) -> Result<SemaphorePermit<'_>, WriteBusy> {
        match tokio::time::timeout(self.write_wait, self.writers.acquire_many(turns)).await {
            // The semaphore is never closed.
            Ok(permit) => Ok(permit.expect("the writers' semaphore is open")),
            Err(_) => Err(WriteBusy),
        }
    }

    /// Waits until no other restore runs in this process, nor one of
    /// `table` in any process on the database (a MySQL named lock), and
    /// keeps it so until the turn is dropped: two restores never stage or
    /// swap the same table at once. Gives up after `wait`.
    pub async fn restore_turn(
        &self,
        table: Table,
        wait: Duration,
    ) -> anyhow::Result<RestoreTurn<'_>> {
        let local = self.restores.lock().await;
        let shared = self.named_lock(&restore_lock_name(table), wait).await?;
        Ok(RestoreTurn {
            _local: local,
            _shared: shared,
        })
    }

    /// The restore turn of `table` if no restore holds it now, in this
    /// process or another; `None` otherwise (or when the database cannot
    /// say).
    pub async fn try_restore_turn(&self, table: Table) -> Option<RestoreTurn<'_>> {
        let local = self.restores.try_lock().ok()?;
        let shared = self
            .named_lock(&restore_lock_name(table), Duration::ZERO)
            .await
            .ok()?;
        Some(RestoreTurn {
            _local: local,
            _shared: shared,
        })
    }

    /// Drops the staging tables that restores cut short (a killed process)
    /// left behind, for each table that no restore works on now.
    pub async fn clear_abandoned_staging(&self) -> anyhow::Result<()> {
        for table in Table::ALL {
            let Ok(turn) = self
                .named_lock(&restore_lock_name(table), Duration::ZERO)
                .await
            else {
                continue; // a restore of this table runs elsewhere
            };
            let mut conn = self.acquire().await?;
            drop_staging(&mut conn, table).await?;
            turn.release().await;
        }
        Ok(())
    }

    /// The pool's connections: in use, and idle.
    pub fn pool_connections(&self) -> (usize, usize) {
        let idle = self.pool.num_idle();
        let open = self.pool.size() as usize;
        (open.saturating_sub(idle), idle)
    }

    pub async fn begin(&self) -> sqlx::Result<Transaction<'static, Any>> {
        self.pool.begin().await
    }

    pub async fn acquire(&self) -> sqlx::Result<sqlx::pool::PoolConnection<Any>> {
        self.pool.acquire().await
    }

    /// Refreshes MySQL's statistics of the tables after a bulk load, so the
    /// reports' queries get the right plan (measured: 1.5 s -> 0.13 s at 1 M
    /// rows). SQLite is left without statistics: with them its planner
    /// picked a slower index for the reports (0.3 s -> 1.1 s).
    pub async fn analyze(&self) -> sqlx::Result<()> {
        if self.engine == Engine::MySql {
            let mut conn = self.pool.acquire().await?;
            sqlx::raw_sql("ANALYZE TABLE departments, jobs, employees")
                .execute(&mut *conn)
                .await?;
        }
        Ok(())
    }

    pub async fn close(&self) {
        if let Some(writer) = &self.sqlite_writer {
            writer.close().await;
        }
        self.pool.close().await;
    }
}

/// The turn of one restore: see [`Db::restore_turn`].
pub struct RestoreTurn<'a> {
    _local: MutexGuard<'a, ()>,
    _shared: NamedLock,
}

fn restore_lock_name(table: Table) -> String {
    format!("hiring.restore.{table}")
}

/// True when `err` says the database cannot be reached (down, restarting,
/// refusing connections, or gone mid-query): worth retrying later, as
/// opposed to an error in what was asked.
pub fn is_unreachable(err: &anyhow::Error) -> bool {
    err.chain()
        .filter_map(|cause| cause.downcast_ref::<sqlx::Error>())
        .any(|err| match err {
            sqlx::Error::Io(_)
            | sqlx::Error::Tls(_)
            | sqlx::Error::PoolTimedOut
            | sqlx::Error::PoolClosed
            | sqlx::Error::WorkerCrashed => true,
            // MySQL: too many connections, server shutting down, connection killed.
            sqlx::Error::Database(db) => matches!(mysql_number(&**db), Some(1040 | 1053 | 1927)),
            _ => false,
        })
}

/// No turn to write came within `WRITE_WAIT_SECS`.
#[derive(Debug, thiserror::Error)]
#[error("no turn to write came within WRITE_WAIT_SECS")]
pub struct WriteBusy;

/// Whether a statement failed because a primary key was stored already.
pub fn is_unique_violation(err: &sqlx::Error) -> bool {
    matches!(err, sqlx::Error::Database(db) if db.is_unique_violation())
}

/// Errors worth retrying the whole transaction for at once: a key another
/// writer stored after our checks, a deadlock, a stale SQLite snapshot. A
/// lock wait that ran out is not: it already waited `WRITE_WAIT_SECS` (see
/// [`is_write_busy`]).
pub fn is_retryable(err: &sqlx::Error) -> bool {
    let sqlx::Error::Database(db) = err else {
        return false;
    };
    is_unique_violation(err)
        || mysql_number(&**db) == Some(1213)
        || db.code().as_deref() == Some("517")
}

/// Whether a failure is a write that found no turn within `WRITE_WAIT_SECS`:
/// in this process ([`WriteBusy`]), or in the database (MySQL's lock wait
/// timeout, or a deadlock still there after the retries; SQLite's BUSY or
/// LOCKED after its busy timeout).
pub fn is_write_busy(err: &anyhow::Error) -> bool {
    err.chain().any(|cause| {
        cause.is::<WriteBusy>()
            || cause
                .downcast_ref::<sqlx::Error>()
                .is_some_and(|err| match err {
                    sqlx::Error::Database(db) => {
                        matches!(mysql_number(&**db), Some(1205 | 1213))
                            || matches!(db.code().as_deref(), Some("5" | "6"))
                    }
                    _ => false,
                })
    })
}

/// MySQL's error number (its `code()` is the coarser SQLSTATE).
fn mysql_number(db: &(dyn sqlx::error::DatabaseError + 'static)) -> Option<u16> {
    db.try_downcast_ref::<sqlx::mysql::MySqlDatabaseError>()
        .map(|err| err.number())
}

/// The file of an SQLite URL; `None` for an in-memory database.
fn sqlite_path(url: &str) -> Option<&Path> {
    let path = url
        .trim_start_matches("sqlite:")
        .trim_start_matches("//")
        .split('?')
        .next()
        .unwrap_or_default();
    (!path.is_empty() && path != ":memory:").then(|| Path::new(path))
}

/// Creates the SQLite file's folders and takes `<file>.lock` for this
/// process: SQLite is the single-node default, and a second API process on
/// the same file would break the guarantees that hold only within one
/// (one restore at a time, no ingest between a restore's check and swap).
/// The lock goes with the process, however it ends.
fn claim_sqlite_file(url: &str) -> anyhow::Result<Option<Arc<std::fs::File>>> {
    let Some(path) = sqlite_path(url) else {
        return Ok(None);
    };
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent)
            .with_context(|| format!("cannot create the folder {}", parent.display()))?;
    }
    let mut lock_path = path.as_os_str().to_owned();
    lock_path.push(".lock");
    let lock_path = std::path::PathBuf::from(lock_path);
    let file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&lock_path)
        .with_context(|| format!("cannot open {}", lock_path.display()))?;
    match file.try_lock() {
        Ok(()) => Ok(Some(Arc::new(file))),
        Err(std::fs::TryLockError::WouldBlock) => anyhow::bail!(
            "another API process already uses the SQLite database {}: SQLite serves one \
             process; stop the other one, or point DATABASE_URL at MySQL to run several",
            path.display()
        ),
        Err(std::fs::TryLockError::Error(err)) => {
            Err(err).with_context(|| format!("cannot lock {}", lock_path.display()))
        }
    }
}
