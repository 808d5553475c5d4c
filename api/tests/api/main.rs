//! Black-box tests: the real server on port 0, against SQLite and MariaDB,
//! with a fresh database per test.

mod backup_interop;
mod backups;
mod bad_bodies;
mod counts;
mod edge;
mod hardening;
mod historical;
mod home;
mod idempotency;
mod ingest;
mod metrics;
mod migrations;
mod outage;
mod reads;
mod rejects;
mod replica_restores;
mod replicas;
mod reports;
mod restore_races;
mod secrets;
mod strict_input;

/// The `api` binary this test build made.
const API_BIN: &str = env!("CARGO_BIN_EXE_api");
