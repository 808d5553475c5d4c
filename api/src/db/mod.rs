//! All SQL lives here: connecting, migrations, and small query functions
//! that take a connection (or a transaction, which derefs to one).
//!
//! Queries stay in the subset SQLite and MySQL/MariaDB share; what differs
//! between the engines is the [`dialect`]'s, and asked of it.

mod batch_keys;
mod coordination;
mod counts;
pub mod dialect;
mod loads;
mod rejects;
mod reports;
mod rows;
mod staging;

pub use batch_keys::{StoredBatch, forget_batches, record_batch, stored_batch};
pub use coordination::{GateHold, NamedLock, NodeNotWritable, TurnLost};
pub use counts::{add_to_count, table_counts};
pub use dialect::{Conflict, Dialect, is_unreachable, is_write_busy, lock_key};
pub use loads::{
    LoadOverview, LoadRecord, Progress, finish_load, latest_loads, load_record, record_progress,
    start_load,
};
pub use rejects::{Source, latest_rejects, page_rejects, record_rejects, reject_counts};
pub use reports::{DepartmentCount, QuarterCount, hires_by_department, hires_by_quarter};
pub use rows::{existing_ids, get_row, insert_rows, page_rows, send_all_rows, stored_rows};
pub use staging::{
    Staging, broken_reference, create_staging, drop_every_staging, drop_staging, index_staging,
    insert_staging, swap_in_staging,
};

use crate::domain::Table;
use anyhow::Context;
use dialect::{EmbeddedFile, galera};
use sqlx::any::install_default_drivers;
use sqlx::sqlite::SqliteConnectOptions;
use sqlx::{Any, AnyPool, Connection, Transaction};
use std::sync::atomic::{AtomicU16, AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::Duration;
use tokio::sync::{Mutex, MutexGuard, Semaphore, SemaphorePermit};

/// The connection pool, plus what the service needs to know about its engine.
#[derive(Clone)]
pub struct Db {
    pool: AnyPool,
    /// The engine as the URL names it...
    named: Dialect,
    /// ...and as the first connection found it (a `mysql:` URL may name a
    /// Galera node).
    found: Arc<OnceLock<Dialect>>,
    /// On a cluster: why this node may take no write now, if it may not
    /// (see `watch_node`).
    node_problem: Arc<Mutex<Option<String>>>,
    /// Names this process's leases and gate closings (a cluster's turns).
    owner: Arc<str>,
    /// On a cluster: the gate slot the next write passes through. It starts
    /// at a random place, so that replicas starting together do not write
    /// the same slots in step.
    next_gate_slot: Arc<AtomicU16>,
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
    /// An embedded file's writer connection (see `begin_write`), read-only
    /// connection for backups (see `send_all_rows`) and ownership.
    embedded: Option<Arc<EmbeddedFile>>,
    /// Transactions run again after a conflict, by kind (`Conflict::ALL`'s
    /// order).
    conflicts: Arc<[AtomicU64; Conflict::ALL.len()]>,
}

impl Db {
    /// A pool on `url` (`sqlite:` or `mysql:`) that connects on first use,
    /// so a database that is still down does not stop the service starting.
    /// Creates an SQLite file's folders when needed.
    pub fn connect_lazy(url: &str, write_wait: Duration) -> anyhow::Result<Db> {
        install_default_drivers();
        let dialect = Dialect::of_url(url)?;
        let url = url.replacen("mariadb:", "mysql:", 1);
        let embedded = dialect.embedded_file(&url, write_wait)?.map(Arc::new);
        let found = Arc::new(OnceLock::new());
        let pool = dialect
            .pool_options(write_wait, dialect.max_connections(), Arc::clone(&found))
            .connect_lazy(&url)
            .context("DATABASE_URL is not a valid database address")?;
        let writer_turns = dialect.writer_turns();
        let mut owner = [0u8; 10];
        getrandom::fill(&mut owner)
            .map_err(|err| anyhow::anyhow!("no randomness for this process's name: {err}"))?;
        let first_gate_slot = u16::from_le_bytes([owner[8], owner[9]]);
        Ok(Db {
            pool,
            named: dialect,
            found,
            node_problem: Arc::default(),
            owner: hex::encode(&owner[..8]).into(),
            next_gate_slot: Arc::new(AtomicU16::new(first_gate_slot)),
            writers: Arc::new(Semaphore::new(writer_turns as usize)),
            writer_turns,
            write_wait,
            restores: Arc::new(Mutex::new(())),
            embedded,
            conflicts: Arc::default(),
        })
    }

    /// Connects, and so finds out what the engine is. On a Galera node:
    /// refuses a cluster on which the guarantees cannot hold, makes the
    /// cluster's own tables (see `dialect::galera`), and watches the node's
    /// state from then on.
    pub async fn discover(&self) -> anyhow::Result<()> {
        let mut conn = self.acquire().await?;
        if self.dialect() != Dialect::Galera {
            return Ok(());
        }
        if let Some(problem) = galera::unsupported(&mut conn).await? {
            anyhow::bail!("{problem}");
        }
        drop(conn);
        for statement in galera::tables() {
            self.run_until_certified(&statement).await?;
        }
        let db = self.clone();
        tokio::spawn(async move { db.watch_node().await });
        Ok(())
    }

    /// Runs `statement` on its own, again while a concurrent transaction
    /// on another node wins over it.
    async fn run_until_certified(&self, statement: &str) -> anyhow::Result<()> {
        let mut attempt = 0;
        loop {
            let mut conn = self.acquire().await?;
            match dialect::execute(&mut conn, statement.to_owned()).await {
                Err(err) if Conflict::of(&err).is_some() && attempt < 10 => attempt += 1,
                other => return Ok(other?),
            }
        }
    }

    /// Keeps `node_problem` up to date, every second, on a connection of
    /// its own that does not wait for the node to catch up (it asks how far
    /// behind the node is), until the pool closes.
    async fn watch_node(self) {
        let mut conn = None;
        while !self.pool.is_closed() {
            // A connection cut under the watcher (a proxy failing over) is
            // made again at once: only a node that does not answer a new
            // one has a problem.
            let mut problem = None;
            for _ in 0..2 {
                if conn.is_none() {
                    conn = self.watcher().await.ok();
                }
                problem = match conn.as_mut() {
                    Some(watcher) => match galera::node_state(watcher).await {
                        Ok(state) => state.err(),
                        Err(err) => {
                            conn = None;
                            Some(format!("the database node does not answer: {err}"))
                        }
                    },
                    None => Some("the database node cannot be reached".to_owned()),
                };
                if conn.is_some() {
                    break;
                }
            }
            let mut current = self.node_problem.lock().await;
            if *current != problem {
                match &problem {
                    Some(problem) => tracing::warn!(problem, "the database node takes no writes"),
                    None => tracing::info!("the database node is synced again"),
                }
                *current = problem;
            }
            drop(current);
            tokio::time::sleep(Duration::from_secs(1)).await;
        }
    }

    async fn watcher(&self) -> anyhow::Result<sqlx::AnyConnection> {
        let mut conn = self.acquire().await?.detach();
        dialect::execute(&mut conn, galera::NO_SYNC_WAIT.to_owned()).await?;
        Ok(conn)
    }

    /// Why this replica's database node may take no write now (on a
    /// cluster: cut off from the primary component, or catching up), if
    /// it may not.
    pub async fn node_problem(&self) -> Option<String> {
        self.node_problem.lock().await.clone()
    }

    /// Applies the embedded migrations of this engine, after finishing
    /// one that a killed process left part applied. The caller holds the
    /// migration turn.
    pub async fn migrate(&self) -> anyhow::Result<()> {
        let dialect = self.dialect();
        let mut conn = self.acquire().await?;
        if let Some(version) = dialect.finish_cut_short_migration(&mut conn).await? {
            tracing::warn!(
                version,
                "finished a migration that a stopped process had begun"
            );
        }
        drop(conn);
        dialect
            .migrator()
            .run(&self.pool)
            .await
            .context("cannot apply database migrations")
    }

    /// True when the database answers and every migration is applied.
    pub async fn is_ready(&self) -> bool {
        let expected = self.dialect().migrator().iter().count();
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

    /// The engine: as the first connection found it, or until then as
    /// the URL names it.
    pub fn dialect(&self) -> Dialect {
        self.found.get().copied().unwrap_or(self.named)
    }

    /// This process's name in the cluster's leases and gate.
    pub(crate) fn owner(&self) -> &str {
        &self.owner
    }

    /// How to open a read-only SQLite connection outside the pool; `None`
    /// on MySQL.
    pub(super) fn sqlite_reader(&self) -> Option<&SqliteConnectOptions> {
        self.embedded.as_ref().map(|file| &*file.reader)
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
            shared,
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
            shared,
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
            let dropped = staging::drop_every_staging(&mut conn, self.dialect(), table).await?;
            if !dropped.is_empty() {
                tracing::info!(?dropped, "dropped what restores cut short left behind");
            }
            if counts::is_marked(&mut conn, table).await? {
                // A restore stopped between its swap and its count: count
                // the table again, every writer kept out.
                let _writers = self.exclusive_write_guard().await?;
                let gate = self.hold_write_gate().await?;
                let mut tx = conn.begin().await?;
                let rows = counts::recount(&mut tx, table).await?;
                tx.commit().await?;
                gate.open().await;
                tracing::info!(%table, rows, "counted again the rows of a table a restore cut short");
            }
            turn.release().await;
        }
        Ok(())
    }

    /// Counts a transaction run again after `conflict`.
    pub fn note_conflict(&self, conflict: Conflict) {
        let index = Conflict::ALL
            .iter()
            .position(|kind| *kind == conflict)
            .expect("every conflict is in Conflict::ALL");
        self.conflicts[index].fetch_add(1, Ordering::Relaxed);
    }

    /// Transactions run again after a conflict since the start, by kind.
    pub fn conflicts(&self) -> impl Iterator<Item = (Conflict, u64)> + '_ {
        Conflict::ALL
            .iter()
            .zip(self.conflicts.iter())
            .map(|(kind, count)| (*kind, count.load(Ordering::Relaxed)))
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

    /// Refreshes the planner's statistics after a bulk load, where the
    /// dialect says that helps the reports.
    pub async fn analyze(&self) -> sqlx::Result<()> {
        if let Some(statement) = self.dialect().analyze() {
            let mut conn = self.pool.acquire().await?;
            sqlx::raw_sql(statement).execute(&mut *conn).await?;
        }
        Ok(())
    }

    pub async fn close(&self) {
        if let Some(file) = &self.embedded {
            file.writer.close().await;
        }
        self.pool.close().await;
    }
}

/// The turn of one restore: see [`Db::restore_turn`].
pub struct RestoreTurn<'a> {
    _local: MutexGuard<'a, ()>,
    shared: NamedLock,
}

impl RestoreTurn<'_> {
    /// Makes sure the turn is still this restore's (see
    /// [`NamedLock::confirm`]).
    pub async fn confirm(&mut self) -> anyhow::Result<()> {
        self.shared.confirm().await
    }
}

fn restore_lock_name(table: Table) -> String {
    format!("hiring.restore.{table}")
}

/// No turn to write came within `WRITE_WAIT_SECS`.
#[derive(Debug, thiserror::Error)]
#[error("no turn to write came within WRITE_WAIT_SECS")]
pub struct WriteBusy;
