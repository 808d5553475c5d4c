//! What differs between the database engines, in one place. The rest of
//! `db`, and everything above it, asks [`Dialect`] and never matches on
//! the engine itself; each engine's statements and settings sit in its own
//! file (`sqlite.rs`, `mysql.rs`), the way sqlx keeps each driver apart. A
//! new engine is a new variant here and a file beside those two.
//!
//! What differs: how to connect and set up a session, the migrations, how
//! many writers at once, the insert verb, how a write transaction begins,
//! whether processes share the database (and so take turns through it:
//! named locks and the write gate on one server, leases and gate slots on
//! a cluster), the restore's staging DDL and swap, how a report counts, and
//! what an error means.
//!
//! A Galera cluster speaks MySQL: a `mysql:` URL names one, and each
//! connection finds out on connecting (see [`Dialect::pool_options`]).

pub(in crate::db) mod galera;
mod mysql;
mod sqlite;

pub use mysql::lock_key;
pub(super) use sqlite::{EmbeddedFile, send_pages as send_sqlite_pages};

use super::{NodeNotWritable, WriteBusy};
use crate::domain::Table;
use sqlx::AnyConnection;
use sqlx::any::AnyPoolOptions;
use sqlx::migrate::Migrator;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

/// The SQL engine the pool talks to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Dialect {
    /// An embedded file that one API process owns.
    Sqlite,
    /// A MySQL or MariaDB server that several API processes may share.
    MySql,
    /// A node of a MariaDB Galera cluster: API processes may share it, on
    /// one node or on several.
    Galera,
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
    /// The dialect of a `DATABASE_URL`, as far as the URL tells: a Galera
    /// node is found on connecting.
    pub fn of_url(url: &str) -> anyhow::Result<Dialect> {
        if url.starts_with("sqlite:") {
            Ok(Dialect::Sqlite)
        } else if url.starts_with("mysql:") || url.starts_with("mariadb:") {
            Ok(Dialect::MySql)
        } else {
            anyhow::bail!("DATABASE_URL must start with sqlite: or mysql:")
        }
    }

    /// The SQL `conn` talks (a Galera node's is `MySql`).
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
            Dialect::MySql | Dialect::Galera if galera::is_node(conn).await? => {
                let size = galera::cluster_size(conn).await?.unwrap_or_default();
                (
                    format!("{}, Galera cluster of {size}", mysql::version(conn).await?),
                    "a node of a cluster that several API processes may share, on any node",
                )
            }
            Dialect::MySql | Dialect::Galera => (
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
            Dialect::MySql | Dialect::Galera => Ok(None),
        }
    }

    /// Connections the pool may open.
    pub fn max_connections(self) -> u32 {
        match self {
            Dialect::Sqlite => sqlite::MAX_CONNECTIONS,
            Dialect::MySql | Dialect::Galera => mysql::MAX_CONNECTIONS,
        }
    }

    /// Write transactions at once.
    pub fn writer_turns(self) -> u32 {
        match self {
            Dialect::Sqlite => 1,
            Dialect::MySql | Dialect::Galera => mysql::WRITERS,
        }
    }

    /// Chunks of a historical file inserted at once.
    pub fn load_chunks_in_flight(self) -> usize {
        match self {
            Dialect::Sqlite => 1,
            Dialect::MySql | Dialect::Galera => mysql::LOAD_CHUNKS_IN_FLIGHT,
        }
    }

    /// Pool options for at most `max_connections`, each connection set up
    /// as the service needs; a write waits for a lock at most `write_wait`.
    /// Each MySQL connection asks whether its server is a Galera node, sets
    /// its session up as one if so, and says what it found in `found`.
    pub fn pool_options(
        self,
        write_wait: Duration,
        max_connections: u32,
        found: Arc<OnceLock<Dialect>>,
    ) -> AnyPoolOptions {
        let session = match self {
            Dialect::Sqlite => sqlite::session(write_wait),
            Dialect::MySql | Dialect::Galera => mysql::session(write_wait),
        };
        AnyPoolOptions::new()
            .max_connections(max_connections)
            .acquire_timeout(Duration::from_secs(10))
            .after_connect(move |conn, _| {
                let session = session.clone();
                let found = Arc::clone(&found);
                Box::pin(async move {
                    execute(conn, session).await?;
                    let dialect = match self {
                        Dialect::Sqlite => Dialect::Sqlite,
                        Dialect::MySql | Dialect::Galera if galera::is_node(conn).await? => {
                            execute(conn, galera::SESSION.to_owned()).await?;
                            Dialect::Galera
                        }
                        Dialect::MySql | Dialect::Galera => Dialect::MySql,
                    };
                    let _ = found.set(dialect);
                    Ok(())
                })
            })
    }

    /// The embedded migrations: one folder per engine.
    pub fn migrator(self) -> &'static Migrator {
        static SQLITE: Migrator = sqlx::migrate!("./migrations/sqlite");
        static MYSQL: Migrator = sqlx::migrate!("./migrations/mysql");
        match self {
            Dialect::Sqlite => &SQLITE,
            Dialect::MySql | Dialect::Galera => &MYSQL,
        }
    }

    /// Finishes a migration a killed process left part applied, if there
    /// is one (its version); SQLite applies each migration in one
    /// transaction, so never leaves one.
    pub async fn finish_cut_short_migration(
        self,
        conn: &mut AnyConnection,
    ) -> anyhow::Result<Option<i64>> {
        match self {
            Dialect::Sqlite => Ok(None),
            Dialect::MySql | Dialect::Galera => {
                mysql::finish_cut_short_migration(conn, self.migrator()).await
            }
        }
    }

    /// How many slots each table's row count is kept in: one where writers
    /// take turns anyway (SQLite); where they run at once, enough that two
    /// batches seldom add to the same slot (one would wait for the other's
    /// commit, or on a cluster lose to it at certification).
    pub fn count_slots(self) -> u16 {
        match self {
            Dialect::Sqlite => 1,
            Dialect::MySql | Dialect::Galera => 64,
        }
    }

    /// Adds to a table's count; binds: the table's name, the slot, the rows.
    pub fn add_to_count(self) -> &'static str {
        match self {
            Dialect::Sqlite => sqlite::ADD_TO_COUNT,
            Dialect::MySql | Dialect::Galera => mysql::ADD_TO_COUNT,
        }
    }

    /// The verb of a batch's multi-row insert.
    pub fn insert_verb(self) -> &'static str {
        match self {
            Dialect::Sqlite => sqlite::INSERT,
            Dialect::MySql | Dialect::Galera => "INSERT",
        }
    }

    /// The statement that begins a write transaction.
    pub fn begin_write(self) -> &'static str {
        match self {
            Dialect::Sqlite => sqlite::BEGIN_WRITE,
            Dialect::MySql => mysql::BEGIN_WRITE,
            // The gate is passed by a statement of its own: see `Turns`.
            Dialect::Galera => "BEGIN",
        }
    }

    /// How API processes sharing the database take turns through it.
    pub fn turns(self) -> Turns {
        match self {
            Dialect::Sqlite => Turns::OneProcess,
            Dialect::MySql => Turns::Locks(SharedTurns(())),
            Dialect::Galera => Turns::Leases,
        }
    }

    /// The statement that refreshes the planner's statistics after a bulk
    /// load, where that helps the reports.
    pub fn analyze(self) -> Option<&'static str> {
        match self {
            Dialect::Sqlite => None,
            Dialect::MySql | Dialect::Galera => Some(mysql::ANALYZE),
        }
    }

    /// The hint that makes a statement read `table` through `index`.
    pub fn force_index(self, table: &str, index: &str) -> String {
        match self {
            Dialect::Sqlite => format!("{table} INDEXED BY {index}"),
            Dialect::MySql | Dialect::Galera => format!("{table} FORCE INDEX ({index})"),
        }
    }

    /// How the reports count.
    pub fn counting(self) -> Counting {
        match self {
            Dialect::Sqlite => Counting::CorrelatedSubqueries,
            Dialect::MySql | Dialect::Galera => Counting::IdLists,
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
            Dialect::MySql | Dialect::Galera => mysql::create_staging(conn, table, staging).await,
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
            Dialect::MySql | Dialect::Galera => mysql::index_staging(conn, table, staging).await,
        }
    }

    /// The tables of the database.
    pub async fn table_names(self, conn: &mut AnyConnection) -> sqlx::Result<Vec<String>> {
        match self {
            Dialect::Sqlite => sqlite::table_names(conn).await,
            Dialect::MySql | Dialect::Galera => mysql::table_names(conn).await,
        }
    }

    /// Replaces `table` with `staging`, which holds `rows` rows, in one
    /// atomic step, and its count with `rows`.
    pub async fn swap_in_staging(
        self,
        conn: &mut AnyConnection,
        table: Table,
        staging: &str,
        rows: i64,
    ) -> sqlx::Result<()> {
        match self {
            Dialect::Sqlite => sqlite::swap_in_staging(conn, table, staging, rows).await,
            Dialect::MySql | Dialect::Galera => {
                mysql::swap_in_staging(conn, table, staging, rows).await
            }
        }
    }
}

/// How API processes sharing a database take turns.
#[derive(Clone, Copy, Debug)]
pub enum Turns {
    /// One process owns the database (an SQLite file): its own turns are
    /// the whole story.
    OneProcess,
    /// One server: named locks held by a session, and the write gate's row
    /// locks.
    Locks(SharedTurns),
    /// A cluster, where locks are a node's own: leases and gate slots, rows
    /// that are written and so certified on every node (see `galera`).
    Leases,
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

/// The session setting with which a row lock is waited for at most `wait`
/// (on MySQL and Galera).
pub fn lock_wait(wait: Duration) -> String {
    mysql::session(wait)
}

/// Whether a statement gave up waiting for a row lock (MySQL's 1205).
pub fn lock_wait_ran_out(err: &sqlx::Error) -> bool {
    matches!(err, sqlx::Error::Database(db) if mysql::is_lock_wait_timeout(&**db))
}

/// Runs one statement; never several in one string.
pub(in crate::db) async fn execute(conn: &mut AnyConnection, sql: String) -> sqlx::Result<()> {
    sqlx::raw_sql(sqlx::AssertSqlSafe(sql))
        .execute(conn)
        .await?;
    Ok(())
}

/// True when `err` says the database cannot be reached (down, restarting,
/// refusing connections, gone mid-query, or a cluster node that takes no
/// writes now): worth retrying later, as
/// opposed to an error in what was asked.
pub fn is_unreachable(err: &anyhow::Error) -> bool {
    err.chain().any(|cause| cause.is::<NodeNotWritable>())
        || err
            .chain()
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

/// Why a transaction was rolled back by a concurrent one, so that running
/// it again at once may well succeed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Conflict {
    /// A key another writer stored after our checks.
    DuplicateKey,
    /// A deadlock; on a cluster, also a write that lost certification to
    /// another node's, or a transaction a DDL statement aborted.
    Deadlock,
    /// A stale SQLite snapshot.
    StaleSnapshot,
    /// A table replaced (a restore's swap) under a running statement.
    TableChanged,
}

impl Conflict {
    pub const ALL: [Conflict; 4] = [
        Conflict::DuplicateKey,
        Conflict::Deadlock,
        Conflict::StaleSnapshot,
        Conflict::TableChanged,
    ];

    /// Its name in metrics and logs.
    pub fn name(self) -> &'static str {
        match self {
            Conflict::DuplicateKey => "duplicate_key",
            Conflict::Deadlock => "deadlock",
            Conflict::StaleSnapshot => "stale_snapshot",
            Conflict::TableChanged => "table_changed",
        }
    }

    /// The conflict that failed `err`, if one did. A lock wait that ran out
    /// is not one: it already waited `WRITE_WAIT_SECS` (see
    /// [`is_write_busy`]).
    pub fn of(err: &sqlx::Error) -> Option<Conflict> {
        let sqlx::Error::Database(db) = err else {
            return None;
        };
        if db.is_unique_violation() {
            Some(Conflict::DuplicateKey)
        } else if mysql::is_deadlock(&**db) {
            Some(Conflict::Deadlock)
        } else if mysql::is_table_changed(&**db) {
            Some(Conflict::TableChanged)
        } else if sqlite::is_stale_snapshot(&**db) {
            Some(Conflict::StaleSnapshot)
        } else {
            None
        }
    }

    /// The conflict anywhere in `err`'s chain.
    pub fn in_chain(err: &anyhow::Error) -> Option<Conflict> {
        err.chain()
            .filter_map(|cause| cause.downcast_ref::<sqlx::Error>())
            .find_map(Conflict::of)
    }
}

/// Whether a failure is a write that found no turn within `WRITE_WAIT_SECS`:
/// in this process ([`WriteBusy`]), or in the database (a lock wait that
/// ran out, or a deadlock still there after the retries; SQLite's BUSY or
/// LOCKED after its busy timeout).
pub fn is_write_busy(err: &anyhow::Error) -> bool {
    err.chain().any(|cause| {
        cause.is::<WriteBusy>()
            || cause.is::<super::TurnLost>()
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
