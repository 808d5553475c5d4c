//! The hiring-data migration service as a library: `main.rs` only reads the
//! configuration and runs [`startup::Application`], and so do the tests.

pub mod auth;
pub mod backup;
pub mod config;
pub mod db;
pub mod domain;
pub mod error;
pub mod files;
pub mod healthcheck;
pub mod ingest;
pub mod metrics;
pub mod middleware;
pub mod readiness;
pub mod reports;
pub mod routes;
pub mod server;
pub mod startup;
pub mod telemetry;
