//! The hiring-data migration service as a library: `main.rs` only reads the
//! configuration and runs [`startup::Application`], and so do the tests.

pub mod backup;
pub mod config;
pub mod db;
pub mod domain;
pub mod files;
pub mod http;
pub mod ingest;
pub mod metrics;
pub mod reports;
pub mod routes;
pub mod startup;
pub mod telemetry;
