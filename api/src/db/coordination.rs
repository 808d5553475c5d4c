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
//! On a Galera cluster locks are a node's own, so the same turns go through
//! rows that are written, and so certified on every node: a named lock is a
//! lease (`hiring_leases`) renewed while held, and the write gate is a set
//! of slots (`hiring_gate_slots`): each ingest transaction writes one, and a
//! restore closes them all. A holder that dies lets go when its lease runs
//! out (`galera::LEASE_TTL`).
//!
//! On SQLite one process owns the file (see `dialect::SqliteFile`), so the
//! in-process turns are the whole story.

use super::dialect::{Conflict, SharedTurns, Turns, execute, galera, lock_wait, lock_wait_ran_out};
use super::{Db, WriteBusy};
use anyhow::Context;
use sqlx::pool::PoolConnection;
use sqlx::{Any, Connection, Transaction};
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

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

/// How long a restore waits for the write gate at a time (see
/// `Db::close_gate_row`).
const GATE_TRY: Duration = Duration::from_secs(1);

/// A named lock (a MySQL named lock, or a lease on a cluster), held until
/// [`NamedLock::release`] or drop.
pub struct NamedLock {
    held: Held,
    /// One of this module's own names (no quotes in it).
    name: String,
}

enum Held {
    /// Nothing to hold: one process owns the database.
    Nothing,
    /// A session's named lock.
    Session(Holding, SharedTurns),
    /// A cluster's lease.
    Lease(Lease),
}

impl NamedLock {
    /// Makes sure the lock is still this process's, for at least a lease's
    /// life from now (a lease is renewed on the spot); a session's lock
    /// lasts as long as its session, so it is. Fails with [`TurnLost`] when
    /// another process took the lease (this one's ran out unrenewed).
    pub async fn confirm(&mut self) -> anyhow::Result<()> {
        match &mut self.held {
            Held::Nothing | Held::Session(..) => Ok(()),
            Held::Lease(Lease(renewed)) => renewed.confirm(1, &self.name).await,
        }
    }

    /// Releases the lock (returning its connection to the pool).
    pub async fn release(self) {
        match self.held {
            Held::Nothing => {}
            Held::Session(held, turns) => held.end(turns.release_lock(&self.name)).await,
            Held::Lease(lease) => lease.release().await,
        }
    }
}

/// The exclusive hold on the write gate: no ingest transaction on any
/// process starts its work until [`GateHold::open`] or drop.
pub struct GateHold {
    held: GateHeld,
}

enum GateHeld {
    Nothing,
    /// The gate row's exclusive lock, held by an open transaction.
    Row(Holding),
    /// The slots closed in this process's name, renewed while held.
    Slots(Renewed),
}

impl GateHold {
    /// Makes sure the gate is still closed by this process, for at least a
    /// lease's life from now: see [`NamedLock::confirm`].
    pub async fn confirm(&mut self) -> anyhow::Result<()> {
        match &mut self.held {
            GateHeld::Nothing | GateHeld::Row(_) => Ok(()),
            GateHeld::Slots(closed) => {
                closed
                    .confirm(u64::from(galera::GATE_SLOTS), "the write gate")
                    .await
            }
        }
    }

    /// Lets the writers in again.
    pub async fn open(self) {
        match self.held {
            GateHeld::Nothing => {}
            GateHeld::Row(held) => held.end("COMMIT".to_owned()).await,
            GateHeld::Slots(closed) => closed.end().await,
        }
    }
}

/// Something a cluster holds in a row while a task renews it: a lease, or
/// the closed gate. Dropped without [`Renewed::end`], it is let go in the
/// background (or, with no runtime left, when it runs out).
struct Renewed {
    db: Db,
    renewer: tokio::task::JoinHandle<()>,
    /// The statement that renews, and its values.
    renew: (&'static str, Vec<String>),
    /// The statement that lets go, and its values.
    end: (&'static str, Vec<String>),
    ended: bool,
}

/// A lease (or the closed gate) ran out before it was renewed, and another
/// process took it: what it guarded may no longer be done.
#[derive(Debug, thiserror::Error)]
#[error("{0} was taken over by another API process (this one's lease ran out unrenewed)")]
pub struct TurnLost(String);

impl Renewed {
    /// Runs `renew` (its values: `binds`) every third of the lease's life.
    fn start(
        db: &Db,
        renew: (&'static str, Vec<String>),
        end: (&'static str, Vec<String>),
    ) -> Renewed {
        let renewer = {
            let db = db.clone();
            let renew = renew.clone();
            tokio::spawn(async move {
                loop {
                    tokio::time::sleep(galera::LEASE_TTL / 3).await;
                    match db.run_bound(renew.0, &renew.1).await {
                        Ok(0) => tracing::error!(
                            statement = renew.0,
                            "a lease was lost: it ran out before it was renewed"
                        ),
                        Ok(_) => {}
                        Err(err) => {
                            tracing::warn!(error = format!("{err:#}"), "cannot renew a lease")
                        }
                    }
                }
            })
        };
        Renewed {
            db: db.clone(),
            renewer,
            renew,
            end,
            ended: false,
        }
    }

    /// Renews now: `rows` rows must change (each still this process's).
    async fn confirm(&self, rows: u64, what: &str) -> anyhow::Result<()> {
        let renewed = self
            .db
            .run_bound(self.renew.0, &self.renew.1)
            .await
            .with_context(|| format!("cannot renew {what}"))?;
        if renewed < rows {
            return Err(TurnLost(what.to_owned()).into());
        }
        Ok(())
    }

    async fn end(mut self) {
        self.renewer.abort();
        self.ended = true;
        if let Err(err) = self.db.run_bound(self.end.0, &self.end.1).await {
            tracing::warn!(
                error = format!("{err:#}"),
                "cannot let a lease go; it runs out by itself"
            );
        }
    }
}

impl Drop for Renewed {
    fn drop(&mut self) {
        self.renewer.abort();
        if self.ended {
            return;
        }
        let (db, (statement, binds)) = (self.db.clone(), std::mem::take(&mut self.end));
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            runtime.spawn(async move {
                let _ = db.run_bound(statement, &binds).await;
            });
        }
    }
}

/// A cluster's lease: see [`Db::named_lock`].
struct Lease(Renewed);

impl Lease {
    async fn release(self) {
        self.0.end().await;
    }
}

impl Db {
    /// Waits up to `wait` for the named lock `name`: a MySQL named lock, a
    /// lease on a cluster; on SQLite returns at once (one process owns the
    /// file).
    pub async fn named_lock(&self, name: &str, wait: Duration) -> anyhow::Result<NamedLock> {
        let held = match self.dialect().turns() {
            Turns::OneProcess => Held::Nothing,
            Turns::Locks(turns) => {
                Held::Session(self.session_lock(turns, name, wait).await?, turns)
            }
            Turns::Leases => Held::Lease(self.lease(name, wait).await?),
        };
        Ok(NamedLock {
            held,
            name: name.to_owned(),
        })
    }

    async fn session_lock(
        &self,
        turns: SharedTurns,
        name: &str,
        wait: Duration,
    ) -> anyhow::Result<Holding> {
        let mut held = Holding::new(self.acquire().await?);
        let got: Option<i64> = sqlx::query_scalar(sqlx::AssertSqlSafe(turns.take_lock()))
            .bind(name)
            .bind(wait.as_secs() as i64)
            .fetch_one(&mut **held.conn())
            .await
            .with_context(|| format!("cannot ask for the lock {name}"))?;
        if got == Some(1) {
            Ok(held)
        } else {
            held.give_back();
            anyhow::bail!("another API process held the lock {name} for over {wait:?}")
        }
    }

    /// Takes the lease `name` when no one holds it, or its holder let it
    /// run out; waits up to `wait`.
    async fn lease(&self, name: &str, wait: Duration) -> anyhow::Result<Lease> {
        let deadline = Instant::now() + wait;
        let owner = self.owner().to_owned();
        let ttl = galera::LEASE_TTL.as_secs().to_string();
        loop {
            match self.try_lease(name, &owner, &ttl).await {
                Ok(true) => {
                    let binds = vec![ttl.clone(), name.to_owned(), owner.clone()];
                    let end = vec![name.to_owned(), owner.clone()];
                    return Ok(Lease(Renewed::start(
                        self,
                        (galera::RENEW_LEASE, binds),
                        (galera::DROP_LEASE, end),
                    )));
                }
                Ok(false) => {}
                Err(err) if Conflict::of(&err).is_some() => {}
                Err(err) => {
                    return Err(
                        anyhow::Error::new(err).context(format!("cannot ask for the lease {name}"))
                    );
                }
            }
            if Instant::now() >= deadline {
                anyhow::bail!("another API process held the lease {name} for over {wait:?}");
            }
            tokio::time::sleep(Duration::from_millis(200).min(wait)).await;
        }
    }

    /// One try at the lease: true once it is `owner`'s.
    async fn try_lease(&self, name: &str, owner: &str, ttl: &str) -> sqlx::Result<bool> {
        let mut tx = self.begin().await?;
        let holder: Option<(String, i64)> = sqlx::query_as(galera::READ_LEASE)
            .bind(name)
            .fetch_optional(&mut *tx)
            .await?;
        let free = match holder {
            None => true,
            Some((holder, running)) => running == 0 || holder == owner,
        };
        if !free {
            tx.rollback().await?;
            return Ok(false);
        }
        sqlx::query(galera::WRITE_LEASE)
            .bind(name)
            .bind(owner)
            .bind(ttl)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(true)
    }

    /// Runs `statement` with the values `binds` on its own: rows changed.
    async fn run_bound(&self, statement: &'static str, binds: &[String]) -> sqlx::Result<u64> {
        let mut query = sqlx::query(statement);
        for value in binds {
            query = query.bind(value.as_str());
        }
        Ok(query.execute(&self.pool).await?.rows_affected())
    }

    /// Closes the write gate (waiting for the ingest transactions inside to
    /// commit) until the hold is opened or dropped: the gate row's lock on
    /// one server, every gate slot on a cluster; nothing on SQLite, where
    /// the caller's exclusive write turn is enough. Waits for another
    /// restore's closing at most `WRITE_WAIT_SECS`.
    pub async fn hold_write_gate(&self) -> anyhow::Result<GateHold> {
        let held = match self.dialect().turns() {
            Turns::OneProcess => GateHeld::Nothing,
            Turns::Locks(turns) => GateHeld::Row(self.close_gate_row(turns).await?),
            Turns::Leases => GateHeld::Slots(self.close_gate_slots().await?),
        };
        Ok(GateHold { held })
    }

    /// Holds the gate row's exclusive lock in an open transaction. The
    /// lock is asked for a second at a time, and let go of in between: a
    /// writer inside the gate may wait for one still outside (a historical
    /// load commits its chunks in file order, and a chunk whose ids were
    /// stored begins again), and the one outside would otherwise queue
    /// behind this request while it waits for the one inside, a cycle of
    /// waits the database cannot see.
    async fn close_gate_row(&self, turns: SharedTurns) -> anyhow::Result<Holding> {
        let deadline = Instant::now() + self.write_wait;
        loop {
            let mut held = Holding::new(self.acquire().await?);
            let conn = &mut **held.conn();
            execute(conn, lock_wait(GATE_TRY)).await?;
            sqlx::raw_sql("BEGIN").execute(&mut *conn).await?;
            match sqlx::query(turns.close_gate()).execute(&mut *conn).await {
                Ok(_) => {
                    execute(conn, lock_wait(self.write_wait)).await?;
                    return Ok(held);
                }
                Err(err) if lock_wait_ran_out(&err) => {
                    held.end(format!("ROLLBACK; {}", lock_wait(self.write_wait)))
                        .await;
                }
                Err(err) => {
                    return Err(anyhow::Error::new(err).context("cannot close the write gate"));
                }
            }
            if Instant::now() >= deadline {
                return Err(WriteBusy.into());
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    async fn close_gate_slots(&self) -> anyhow::Result<Renewed> {
        let deadline = Instant::now() + self.write_wait;
        let owner = self.owner().to_owned();
        let ttl = galera::LEASE_TTL.as_secs().to_string();
        loop {
            match self.try_close_gate(&owner, &ttl).await {
                Ok(true) => {
                    let binds = vec![owner.clone(), ttl.clone(), owner.clone()];
                    return Ok(Renewed::start(
                        self,
                        (galera::CLOSE_GATE, binds),
                        (galera::OPEN_GATE, vec![owner]),
                    ));
                }
                Ok(false) => {}
                Err(err) if Conflict::of(&err).is_some() => self.note_conflict(Conflict::Deadlock),
                Err(err) => {
                    return Err(anyhow::Error::new(err).context("cannot close the write gate"));
                }
            }
            if Instant::now() >= deadline {
                return Err(WriteBusy.into());
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// One try at closing every slot: true once they are all `owner`'s.
    /// Slots a writer of this node holds are waited for a second at most,
    /// for the reason `close_gate_row` gives.
    async fn try_close_gate(&self, owner: &str, ttl: &str) -> sqlx::Result<bool> {
        let mut conn = self.acquire().await?;
        execute(&mut conn, lock_wait(GATE_TRY)).await?;
        let closed = self.close_slots(&mut conn, owner, ttl).await;
        if let Err(reset) = execute(&mut conn, lock_wait(self.write_wait)).await {
            // Not back to the pool with the short wait; the first failure
            // is the one to tell.
            drop(conn.detach());
            closed?;
            return Err(reset);
        }
        match closed {
            Err(err) if lock_wait_ran_out(&err) => Ok(false),
            other => other,
        }
    }

    async fn close_slots(
        &self,
        conn: &mut sqlx::AnyConnection,
        owner: &str,
        ttl: &str,
    ) -> sqlx::Result<bool> {
        let mut tx = conn.begin().await?;
        sqlx::query(galera::CLOSE_GATE)
            .bind(owner)
            .bind(ttl)
            .bind(owner)
            .execute(&mut *tx)
            .await?;
        let closed: i64 = sqlx::query_scalar(galera::SLOTS_CLOSED_BY)
            .bind(owner)
            .fetch_one(&mut *tx)
            .await?;
        if closed < i64::from(galera::GATE_SLOTS) {
            tx.rollback().await?;
            return Ok(false);
        }
        tx.commit().await?;
        Ok(true)
    }
}

impl Db {
    /// Begins an ingest transaction, waiting for the database's locks at
    /// most `WRITE_WAIT_SECS`. It passes the write gate: it waits while a
    /// restore holds the gate, and keeps the gate from closing until it
    /// ends (on one server in the same round trip as its `BEGIN`; on a
    /// cluster by writing a gate slot, which a restore's closing then
    /// waits for, or wins over at COMMIT). On a cluster, a node that may
    /// take no write refuses it.
    pub async fn begin_write(&self) -> anyhow::Result<Transaction<'static, Any>> {
        // An embedded file's writes all go through its writer connection.
        let writer = self
            .embedded
            .as_ref()
            .map_or(&self.pool, |file| &file.writer);
        let dialect = self.dialect();
        if !matches!(dialect.turns(), Turns::Leases) {
            return Ok(writer.begin_with(dialect.begin_write()).await?);
        }
        if let Some(problem) = self.node_problem().await {
            return Err(NodeNotWritable(problem).into());
        }
        let deadline = Instant::now() + self.write_wait;
        loop {
            let mut tx = writer.begin_with(dialect.begin_write()).await?;
            let slot = self.next_gate_slot.fetch_add(1, Ordering::Relaxed) % galera::GATE_SLOTS;
            let passed = sqlx::query(galera::PASS_GATE)
                .bind(i32::from(slot))
                .execute(&mut *tx)
                .await?
                .rows_affected();
            if passed == 1 {
                return Ok(tx);
            }
            tx.rollback().await?;
            if Instant::now() >= deadline {
                return Err(WriteBusy.into());
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

/// A write asked of a cluster node that may take none now.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct NodeNotWritable(pub String);
