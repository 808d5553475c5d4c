//! A MariaDB Galera cluster: MySQL's SQL, but every node takes writes and
//! replicates them at COMMIT, so what keeps turns on one server does not
//! hold (measured, `../shared/STACK-NOTES.md`, "Galera"):
//!
//! - named locks and row locks are local to a node: turns across API
//!   processes go through rows that are written, and so certified on every
//!   node: a lease per turn (`hiring_leases`), and a write gate of slots
//!   (`hiring_gate_slots`) that each batch and the restore that closes it
//!   both write;
//! - two nodes writing the same row meet at COMMIT, where one gets a
//!   deadlock error: the whole transaction is run again (see
//!   `ingest::commit_batch`);
//! - a node may not yet have applied a commit acknowledged by another: every
//!   session waits for its node to catch up before a read
//!   (`wsrep_sync_wait = 1`), so a check that decides a write, or a backup's
//!   snapshot, sees every acknowledged row;
//! - a node out of the primary component, or still catching up, must take
//!   no write: the service watches its node's state (`node_state`).
//!
//! The cluster's own tables live outside the migrations: the lease that
//! runs the migrations one replica at a time needs its table first.

use sqlx::AnyConnection;
use std::time::Duration;

/// Reads wait for the node to have applied every commit the cluster had
/// acknowledged when they began (causal reads).
pub(super) const SESSION: &str = "SET SESSION wsrep_sync_wait = 1";

/// A session that does not wait for the node to catch up: to ask how far
/// behind it is.
pub(in crate::db) const NO_SYNC_WAIT: &str = "SET SESSION wsrep_sync_wait = 0";

/// Slots of the write gate: a batch writes one, picked at random, so two
/// batches rarely write the same one (and then one runs again).
pub const GATE_SLOTS: u16 = 64;

/// How long a lease or a closed gate lasts unless renewed: a holder that
/// died lets go this long after its last renewal.
pub const LEASE_TTL: Duration = Duration::from_secs(15);

/// Whether `conn`'s server is a node of a Galera cluster.
pub(super) async fn is_node(conn: &mut AnyConnection) -> sqlx::Result<bool> {
    let row: Option<(String, String)> = sqlx::query_as("SHOW VARIABLES LIKE 'wsrep_on'")
        .fetch_optional(conn)
        .await?;
    Ok(row.is_some_and(|(_, value)| value.eq_ignore_ascii_case("ON")))
}

/// Why the service cannot keep its guarantees on this node's cluster, if
/// it cannot: its restores replace tables with `RENAME TABLE`, which must
/// run on every node at once (total order isolation).
pub(in crate::db) async fn unsupported(conn: &mut AnyConnection) -> sqlx::Result<Option<String>> {
    let row: Option<(String, String)> = sqlx::query_as("SHOW VARIABLES LIKE 'wsrep_osu_method'")
        .fetch_optional(conn)
        .await?;
    Ok(match row {
        Some((_, method)) if !method.eq_ignore_ascii_case("TOI") => Some(format!(
            "the Galera cluster runs schema changes with wsrep_osu_method={method}; \
             restores need TOI (each node would otherwise swap tables on its own)"
        )),
        _ => None,
    })
}

/// The size of the node's cluster, for people.
pub(super) async fn cluster_size(conn: &mut AnyConnection) -> sqlx::Result<Option<String>> {
    let row: Option<(String, String)> = sqlx::query_as("SHOW STATUS LIKE 'wsrep_cluster_size'")
        .fetch_optional(conn)
        .await?;
    Ok(row.map(|(_, size)| size))
}

/// Whether the node is in the primary component and synced, and so may
/// take writes; else what it is.
pub(in crate::db) async fn node_state(
    conn: &mut AnyConnection,
) -> sqlx::Result<Result<(), String>> {
    let rows: Vec<(String, String)> = sqlx::query_as(
        "SHOW STATUS WHERE Variable_name IN ('wsrep_ready', 'wsrep_local_state_comment')",
    )
    .fetch_all(conn)
    .await?;
    let value = |name: &str| {
        rows.iter()
            .find(|(variable, _)| variable.eq_ignore_ascii_case(name))
            .map(|(_, value)| value.as_str())
            .unwrap_or("unknown")
    };
    Ok(
        match (value("wsrep_ready"), value("wsrep_local_state_comment")) {
            ("ON", "Synced") => Ok(()),
            ("ON", state) => Err(format!("the database node is {state}, not Synced")),
            (_, _) => Err("the database node is not in the cluster's primary component".to_owned()),
        },
    )
}

/// The cluster's own tables, made when missing (every node at once: DDL
/// runs in total order), and the gate's slots.
pub(in crate::db) fn tables() -> [String; 3] {
    let slots: Vec<String> = (0..GATE_SLOTS).map(|slot| format!("({slot})")).collect();
    [
        "CREATE TABLE IF NOT EXISTS hiring_leases (
            name       VARCHAR(64) NOT NULL PRIMARY KEY,
            owner      VARCHAR(64) NOT NULL,
            expires_at DATETIME(3) NOT NULL
        ) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin"
            .to_owned(),
        "CREATE TABLE IF NOT EXISTS hiring_gate_slots (
            slot         SMALLINT    NOT NULL PRIMARY KEY,
            closed_by    VARCHAR(64) NULL,
            closed_until DATETIME(3) NULL,
            passes       BIGINT      NOT NULL DEFAULT 0
        ) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin"
            .to_owned(),
        format!(
            "INSERT IGNORE INTO hiring_gate_slots (slot) VALUES {}",
            slots.join(", ")
        ),
    ]
}

/// The lease `?` (name): its owner and whether it is still running.
pub(in crate::db) const READ_LEASE: &str = "SELECT owner, expires_at > NOW(3) FROM hiring_leases \
     WHERE name = ? FOR UPDATE";

/// Takes the lease `?` (name) for `?` (owner) and `?` seconds.
pub(in crate::db) const WRITE_LEASE: &str = "INSERT INTO hiring_leases (name, owner, expires_at) \
     VALUES (?, ?, NOW(3) + INTERVAL ? SECOND) \
     ON DUPLICATE KEY UPDATE owner = VALUES(owner), expires_at = VALUES(expires_at)";

/// Renews the lease `?` (name) of `?` (owner) for `?` seconds; no row
/// changes when another took it.
pub(in crate::db) const RENEW_LEASE: &str = "UPDATE hiring_leases \
     SET expires_at = NOW(3) + INTERVAL ? SECOND WHERE name = ? AND owner = ?";

/// Lets the lease `?` (name) of `?` (owner) go.
pub(in crate::db) const DROP_LEASE: &str = "DELETE FROM hiring_leases WHERE name = ? AND owner = ?";

/// Passes the gate through slot `?`: one row changes when the gate is open.
pub(in crate::db) const PASS_GATE: &str = "UPDATE hiring_gate_slots SET passes = passes + 1 \
     WHERE slot = ? AND (closed_until IS NULL OR closed_until < NOW(3))";

/// Closes (or keeps closed) for `?` (owner), `?` seconds, every slot that
/// is open or already its own: another restore's closed slots stay its.
pub(in crate::db) const CLOSE_GATE: &str = "UPDATE hiring_gate_slots \
     SET closed_by = ?, closed_until = NOW(3) + INTERVAL ? SECOND \
     WHERE closed_by = ? OR closed_until IS NULL OR closed_until < NOW(3)";

/// The slots `?` (owner) holds closed: all of them once the gate is its.
pub(in crate::db) const SLOTS_CLOSED_BY: &str = "SELECT COUNT(*) FROM hiring_gate_slots \
     WHERE closed_by = ? AND closed_until >= NOW(3)";

/// Reopens the slots `?` (owner) closed.
pub(in crate::db) const OPEN_GATE: &str = "UPDATE hiring_gate_slots \
     SET closed_by = NULL, closed_until = NULL WHERE closed_by = ?";
