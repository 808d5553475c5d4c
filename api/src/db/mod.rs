//! All SQL lives here: connecting, migrations, and small query functions
//! that take a connection (or a transaction, which derefs to one).
//!
//! Queries stay in the subset SQLite and MySQL/MariaDB share; what differs
//! between the engines is the [`dialect`]'s, and asked of it.

mod coordination;
pub mod dialect;
mod loads;
mod rejects;
mod reports;
mod rows;
mod staging;

pub use coordination::{GateHold, NamedLock};
pub use dialect::{
    Dialect, is_retryable, is_unique_violation, is_unreachable, is_write_busy, lock_key,
};
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
use dialect::EmbeddedFile;
use sqlx::any::install_default_drivers;
use sqlx::sqlite::SqliteConnectOptions;
use sqlx::{Any, AnyPool, Transaction};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{Mutex, MutexGuard, Semaphore, SemaphorePermit};

/// The connection pool, plus what the service needs to know about its engine.
#[derive(Clone)]
pub struct Db {
    pool: AnyPool,
    dialect: Dialect,
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
        let pool = dialect
            .pool_options(write_wait, dialect.max_connections())
            .connect_lazy(&url)
            .context("DATABASE_URL is not a valid database address")?;
        let writer_turns = dialect.writer_turns();
        Ok(Db {
            pool,
            dialect,
            writers: Arc::new(Semaphore::new(writer_turns as usize)),
            writer_turns,
            write_wait,
            restores: Arc::new(Mutex::new(())),
            embedded,
        })
    }

    /// Applies the embedded migrations of this engine.
    pub async fn migrate(&self) -> anyhow::Result<()> {
        self.dialect
            .migrator()
            .run(&self.pool)
            .await
            .context("cannot apply database migrations")
    }

    /// True when the database answers and every migration is applied.
    pub async fn is_ready(&self) -> bool {
        let expected = self.dialect.migrator().iter().count();
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

    pub fn dialect(&self) -> Dialect {
        self.dialect
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

    /// Refreshes the planner's statistics after a bulk load, where the
    /// dialect says that helps the reports.
    pub async fn analyze(&self) -> sqlx::Result<()> {
        if let Some(statement) = self.dialect.analyze() {
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
    _shared: NamedLock,
}

fn restore_lock_name(table: Table) -> String {
    format!("hiring.restore.{table}")
}

/// No turn to write came within `WRITE_WAIT_SECS`.
#[derive(Debug, thiserror::Error)]
#[error("no turn to write came within WRITE_WAIT_SECS")]
pub struct WriteBusy;
