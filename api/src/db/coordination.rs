//! What keeps guarantees across several API processes on one database.
//!
//! On MySQL every cross-process rule goes through the database: named locks
//! (`GET_LOCK`), each held by a connection of its own for as long as the
//! critical section lasts, and the `write_gate` row, read under a shared
//! lock by every ingest transaction and held under an exclusive lock by a
//! restore from its reference check to its swap. A lock's connection is
//! closed, never returned to the pool, when its guard is dropped without
//! being released, so a lock never outlives its holder (a killed process's
//! locks go with its connections).
//!
//! On SQLite one process owns the file (see `dialect::SqliteFile`), so the
//! in-process turns are the whole story.

use super::Db;
use super::dialect::SharedTurns;
use anyhow::Context;
use sqlx::pool::PoolConnection;
use sqlx::{Any, Transaction};
use std::time::Duration;

/// A connection that holds something for its session (a named lock, an
/// open transaction). [`Holding::end`] runs the statement that lets go and
/// returns the connection to the pool; dropped before that, the connection
/// is closed instead, and the database lets go with the session. `None` on
/// SQLite, where there is nothing to hold.
struct Holding(Option<PoolConnection<Any>>);

impl Holding {
    /// Holds `conn` from before its first statement: a caller dropped while
    /// the statement runs (a cancelled request) closes the session, so a
    /// lock granted after all is not left on a pooled connection.
    fn new(conn: PoolConnection<Any>) -> Holding {
        Holding(Some(conn))
    }

    fn conn(&mut self) -> &mut PoolConnection<Any> {
        self.0
            .as_mut()
            .expect("a holding holds its connection until it ends")
    }

    /// Returns the connection to the pool: it holds nothing.
    fn give_back(mut self) {
        drop(self.0.take());
    }

    async fn end(mut self, statement: String) {
        if let Some(mut conn) = self.0.take()
            && sqlx::raw_sql(sqlx::AssertSqlSafe(statement))
                .execute(&mut *conn)
                .await
                .is_err()
        {
            drop(conn.detach());
        }
    }
}

impl Drop for Holding {
    fn drop(&mut self) {
        if let Some(conn) = self.0.take() {
            // No await here: close the session.
            drop(conn.detach());
        }
    }
}

/// A MySQL named lock, held until [`NamedLock::release`] or drop.
pub struct NamedLock {
    held: Holding,
    /// How the lock is let go; `None` when nothing is held (SQLite).
    turns: Option<SharedTurns>,
    /// One of this module's own names (no quotes in it).
    name: String,
}

impl NamedLock {
    /// Releases the lock and returns its connection to the pool.
    pub async fn release(self) {
        let Some(turns) = self.turns else {
            return;
        };
        self.held.end(turns.release_lock(&self.name)).await;
    }
}

/// The exclusive hold on the write gate: no ingest transaction on any
/// process starts its work until [`GateHold::open`] or drop.
pub struct GateHold {
    held: Holding,
}

impl GateHold {
    /// Lets the writers in again.
    pub async fn open(self) {
        self.held.end("COMMIT".to_owned()).await;
    }
}

impl Db {
    /// Waits up to `wait` for the MySQL named lock `name`; on SQLite returns
    /// at once (one process owns the file).
    pub async fn named_lock(&self, name: &str, wait: Duration) -> anyhow::Result<NamedLock> {
        let Some(turns) = self.dialect.shared_turns() else {
            return Ok(NamedLock {
                held: Holding(None),
                turns: None,
                name: name.to_owned(),
            });
        };
        let mut held = Holding::new(self.acquire().await?);
        let got: Option<i64> = sqlx::query_scalar(sqlx::AssertSqlSafe(turns.take_lock()))
            .bind(name)
            .bind(wait.as_secs() as i64)
            .fetch_one(&mut **held.conn())
            .await
            .with_context(|| format!("cannot ask for the lock {name}"))?;
        if got == Some(1) {
            Ok(NamedLock {
                held,
                turns: Some(turns),
                name: name.to_owned(),
            })
        } else {
            held.give_back();
            anyhow::bail!("another API process held the lock {name} for over {wait:?}")
        }
    }

    /// Closes the write gate on MySQL (waiting for the ingest transactions
    /// inside to commit) until the hold is opened or dropped; nothing on
    /// SQLite, where the caller's exclusive write turn is enough.
    pub async fn hold_write_gate(&self) -> sqlx::Result<GateHold> {
        let Some(turns) = self.dialect.shared_turns() else {
            return Ok(GateHold {
                held: Holding(None),
            });
        };
        let mut held = Holding::new(self.acquire().await?);
        sqlx::raw_sql("BEGIN").execute(&mut **held.conn()).await?;
        sqlx::query(turns.close_gate())
            .execute(&mut **held.conn())
            .await?;
        Ok(GateHold { held })
    }
}

impl Db {
    /// Begins an ingest transaction, waiting for the database's locks at
    /// most `WRITE_WAIT_SECS`. On MySQL it passes the write gate in
    /// the same round trip as its `BEGIN`: it waits while a restore holds
    /// the gate, and keeps the gate from closing until it ends.
    pub async fn begin_write(&self) -> sqlx::Result<Transaction<'static, Any>> {
        // An embedded file's writes all go through its writer connection.
        let writer = self
            .embedded
            .as_ref()
            .map_or(&self.pool, |file| &file.writer);
        writer.begin_with(self.dialect.begin_write()).await
    }
}
