//! What differs between the database engines, in one place. The rest of
//! `db`, and everything above it, asks [`Dialect`] and never matches on
//! the engine itself; each engine's statements and settings sit in its own
//! file (`sqlite.rs`, `mysql.rs`), the way sqlx keeps each driver apart. A
//! new engine is a new variant here and a file beside those two.
//!
//! What differs: how to connect and set up a session, the migrations, how
//! many writers at once, the insert verb, how a write transaction begins,
//! whether processes share the database (and so take turns through it:
//! named locks, the write gate), the restore's staging DDL and swap, how a
//! report counts, and what an error means.

mod mysql;
mod sqlite;

pub use mysql::lock_key;
pub(super) use sqlite::{EmbeddedFile, send_pages as send_sqlite_pages};

use super::WriteBusy;
use crate::domain::Table;
use sqlx::AnyConnection;
use sqlx::any::AnyPoolOptions;
use sqlx::migrate::Migrator;
use std::time::Duration;

/// The SQL engine the pool talks to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Dialect {
    /// An embedded file that one API process owns.
    Sqlite,
    /// A MySQL or MariaDB server that several API processes may share.
    MySql,
}

/// How a report counts hires: both count over one `(department_id, job_id,
/// hiring_date)` index, in the form the engine's planner runs well (see
/// `db::reports`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Counting {
    /// A correlated subquery per department, job and quarter.
    CorrelatedSubqueries,
    /// One statement per quarter naming the catalogue's ids as lists.
    IdLists,
}

impl Dialect {
    /// The dialect of a `DATABASE_URL`.
    pub fn of_url(url: &str) -> anyhow::Result<Dialect> {
        if url.starts_with("sqlite:") {
            Ok(Dialect::Sqlite)
        } else if url.starts_with("mysql:") || url.starts_with("mariadb:") {
            Ok(Dialect::MySql)
        } else {
            anyhow::bail!("DATABASE_URL must start with sqlite: or mysql:")
        }
    }

    /// The dialect `conn` talks.
    pub fn of(conn: &AnyConnection) -> Dialect {
        if conn.backend_name() == <sqlx::Sqlite as sqlx::Database>::NAME {
            Dialect::Sqlite
        } else {
            Dialect::MySql
        }
    }

    /// What the engine is, for people: its name and version ("SQLite
    /// 3.46.0", "MariaDB 10.11.6"), and how the service uses it.
    pub async fn describe(conn: &mut AnyConnection) -> sqlx::Result<(String, &'static str)> {
        Ok(match Dialect::of(conn) {
            Dialect::Sqlite => (
                sqlite::version(conn).await?,
                "an embedded file that this one process owns",
            ),
            Dialect::MySql => (
                mysql::version(conn).await?,
                "a database server that several API processes may share",
            ),
        })
    }

    /// What an embedded file needs beside the pool (see [`EmbeddedFile`]);
    /// `None` for a server.
    pub(in crate::db) fn embedded_file(
        self,
        url: &str,
        write_wait: Duration,
    ) -> anyhow::Result<Option<EmbeddedFile>> {
        match self {
            Dialect::Sqlite => EmbeddedFile::open(url, write_wait).map(Some),
            Dialect::MySql => Ok(None),
        }
    }

    /// Connections the pool may open.
    pub fn max_connections(self) -> u32 {
        match self {
            Dialect::Sqlite => sqlite::MAX_CONNECTIONS,
            Dialect::MySql => mysql::MAX_CONNECTIONS,
        }
    }

    /// Write transactions at once.
    pub fn writer_turns(self) -> u32 {
        match self {
            Dialect::Sqlite => 1,
            Dialect::MySql => mysql::WRITERS,
        }
    }

    /// Chunks of a historical file inserted at once.
    pub fn load_chunks_in_flight(self) -> usize {
        match self {
            Dialect::Sqlite => 1,
            Dialect::MySql => mysql::LOAD_CHUNKS_IN_FLIGHT,
        }
    }

    /// Pool options for at most `max_connections`, each connection set up
    /// as the service needs; a write waits for a lock at most `write_wait`.
    pub fn pool_options(self, write_wait: Duration, max_connections: u32) -> AnyPoolOptions {
        let session = match self {
            Dialect::Sqlite => sqlite::session(write_wait),
            Dialect::MySql => mysql::session(write_wait),
        };
        AnyPoolOptions::new()
            .max_connections(max_connections)
            .acquire_timeout(Duration::from_secs(10))
            .after_connect(move |conn, _| {
                let session = session.clone();
                Box::pin(async move {
                    sqlx::raw_sql(sqlx::AssertSqlSafe(session))
                        .execute(conn)
                        .await
                        .map(|_| ())
                })
            })
    }

    /// The embedded migrations: one folder per engine.
    pub fn migrator(self) -> &'static Migrator {
        static SQLITE: Migrator = sqlx::migrate!("./migrations/sqlite");
        static MYSQL: Migrator = sqlx::migrate!("./migrations/mysql");
        match self {
            Dialect::Sqlite => &SQLITE,
            Dialect::MySql => &MYSQL,
        }
    }

    /// The verb of a batch's multi-row insert.
    pub fn insert_verb(self) -> &'static str {
        match self {
            Dialect::Sqlite => sqlite::INSERT,
            Dialect::MySql => "INSERT",
        }
    }

    /// The statement that begins a write transaction.
    pub fn begin_write(self) -> &'static str {
        match self {
            Dialect::Sqlite => sqlite::BEGIN_WRITE,
            Dialect::MySql => mysql::BEGIN_WRITE,
        }
    }

    /// How API processes sharing the database take turns through it (named
    /// locks, the write gate); `None` on SQLite, where one process owns the
    /// file and its own turns are the whole story.
    pub fn shared_turns(self) -> Option<SharedTurns> {
        match self {
            Dialect::Sqlite => None,
            Dialect::MySql => Some(SharedTurns(())),
        }
    }

    /// The statement that refreshes the planner's statistics after a bulk
    /// load, where that helps the reports.
    pub fn analyze(self) -> Option<&'static str> {
        match self {
            Dialect::Sqlite => None,
            Dialect::MySql => Some(mysql::ANALYZE),
        }
    }

    /// The hint that makes a statement read `table` through `index`.
    pub fn force_index(self, table: &str, index: &str) -> String {
        match self {
            Dialect::Sqlite => format!("{table} INDEXED BY {index}"),
            Dialect::MySql => format!("{table} FORCE INDEX ({index})"),
        }
    }

    /// How the reports count.
    pub fn counting(self) -> Counting {
        match self {
            Dialect::Sqlite => Counting::CorrelatedSubqueries,
            Dialect::MySql => Counting::IdLists,
        }
    }

    /// Creates `staging`, an empty table shaped like `table` (same key, so
    /// a duplicate id fails the load), with as few indexes as it needs
    /// while it is loaded.
    pub async fn create_staging(
        self,
        conn: &mut AnyConnection,
        table: Table,
        staging: &str,
    ) -> sqlx::Result<()> {
        match self {
            Dialect::Sqlite => sqlite::create_staging(conn, table, staging).await,
            Dialect::MySql => mysql::create_staging(conn, table, staging).await,
        }
    }

    /// Builds the indexes `staging` was loaded without.
    pub async fn index_staging(
        self,
        conn: &mut AnyConnection,
        table: Table,
        staging: &str,
    ) -> sqlx::Result<()> {
        match self {
            Dialect::Sqlite => Ok(()),
            Dialect::MySql => mysql::index_staging(conn, table, staging).await,
        }
    }

    /// Replaces `table` with `staging` in one atomic step.
    pub async fn swap_in_staging(
        self,
        conn: &mut AnyConnection,
        table: Table,
        staging: &str,
    ) -> sqlx::Result<()> {
        match self {
            Dialect::Sqlite => sqlite::swap_in_staging(conn, table, staging).await,
            Dialect::MySql => mysql::swap_in_staging(conn, table, staging).await,
        }
    }
}

/// The statements of turns taken through a shared database: MySQL's named
/// locks (`GET_LOCK`, on a connection of their own) and the `write_gate`
/// row's locks.
#[derive(Clone, Copy, Debug)]
pub struct SharedTurns(());

impl SharedTurns {
    /// Takes the named lock `?` (its name), waiting up to `?` seconds;
    /// answers 1 once taken.
    pub fn take_lock(self) -> String {
        mysql::take_lock()
    }

    /// Releases the named lock `name`.
    pub fn release_lock(self, name: &str) -> String {
        mysql::release_lock(name)
    }

    /// Inside a transaction: closes the write gate until it ends.
    pub fn close_gate(self) -> &'static str {
        mysql::CLOSE_GATE
    }
}

/// Runs one statement; never several in one string.
pub(in crate::db) async fn execute(conn: &mut AnyConnection, sql: String) -> sqlx::Result<()> {
    sqlx::raw_sql(sqlx::AssertSqlSafe(sql))
        .execute(conn)
        .await?;
    Ok(())
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
            sqlx::Error::Database(db) => mysql::is_unreachable(&**db),
            _ => false,
        })
}

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
    is_unique_violation(err) || mysql::is_deadlock(&**db) || sqlite::is_stale_snapshot(&**db)
}

/// Whether a failure is a write that found no turn within `WRITE_WAIT_SECS`:
/// in this process ([`WriteBusy`]), or in the database (a lock wait that
/// ran out, or a deadlock still there after the retries; SQLite's BUSY or
/// LOCKED after its busy timeout).
pub fn is_write_busy(err: &anyhow::Error) -> bool {
    err.chain().any(|cause| {
        cause.is::<WriteBusy>()
            || cause
                .downcast_ref::<sqlx::Error>()
                .is_some_and(|err| match err {
                    sqlx::Error::Database(db) => {
                        mysql::is_lock_wait(&**db) || sqlite::is_busy(&**db)
                    }
                    _ => false,
                })
    })
}
