//! What an operator watches, served at `GET /metrics` in the OpenMetrics
//! text format that Prometheus scrapes: requests by route and status and
//! their latency, rows by table and outcome, backups and restores, the
//! historical load's progress, and the database pool.
//!
//! Each process counts its own; with replicas, sum them in Prometheus.

use crate::domain::Table;
use prometheus_client::encoding::{EncodeLabelSet, EncodeLabelValue};
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;
use std::time::Duration;

/// The content type of [`Metrics::render`].
pub const CONTENT_TYPE: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RequestLabels {
    method: String,
    /// The route's template (`/api/v1/tables/{table}/rows`), or `unmatched`.
    route: String,
    status: u16,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RouteLabels {
    method: String,
    route: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RowLabels {
    table: &'static str,
    source: RowSource,
    outcome: RowOutcome,
}

/// Where rows came from.
#[derive(Clone, Copy, Debug, Hash, PartialEq, Eq, EncodeLabelValue)]
#[allow(non_camel_case_types)]
pub enum RowSource {
    api,
    file,
}

#[derive(Clone, Copy, Debug, Hash, PartialEq, Eq, EncodeLabelValue)]
#[allow(non_camel_case_types)]
enum RowOutcome {
    inserted,
    already_stored,
    rejected,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct TableLabels {
    table: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct OperationLabels {
    table: &'static str,
    outcome: Outcome,
}

#[derive(Clone, Copy, Debug, Hash, PartialEq, Eq, EncodeLabelValue)]
#[allow(non_camel_case_types)]
enum Outcome {
    ok,
    failed,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct PoolLabels {
    state: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ConflictLabels {
    conflict: &'static str,
}

type Histograms<L> = Family<L, Histogram, fn() -> Histogram>;

/// The metrics of one process.
pub struct Metrics {
    registry: Registry,
    requests: Family<RequestLabels, Counter>,
    latency: Histograms<RouteLabels>,
    rows: Family<RowLabels, Counter>,
    backups: Family<OperationLabels, Counter>,
    backup_seconds: Histograms<TableLabels>,
    backup_rows: Family<TableLabels, Counter>,
    restores: Family<OperationLabels, Counter>,
    restore_seconds: Histograms<TableLabels>,
    restore_rows: Family<TableLabels, Counter>,
    load_rows_read: Family<TableLabels, Gauge>,
    load_complete: Family<TableLabels, Gauge>,
    pool: Family<PoolLabels, Gauge>,
    retries: Family<ConflictLabels, Counter>,
    /// One render at a time brings `retries` up to the database's counts.
    rendering: std::sync::Mutex<()>,
}

/// 1 ms to about 33 s, doubling.
fn request_buckets() -> Histogram {
    Histogram::new(exponential_buckets(0.001, 2.0, 16))
}

/// 10 ms to about 5.5 min, doubling: backups and restores of big tables.
fn operation_buckets() -> Histogram {
    Histogram::new(exponential_buckets(0.01, 2.0, 16))
}

impl Default for Metrics {
    fn default() -> Self {
        Metrics::new()
    }
}

impl Metrics {
    pub fn new() -> Metrics {
        let mut registry = Registry::with_prefix("hiring");
        let metrics = Metrics {
            requests: Family::default(),
            latency: Family::new_with_constructor(request_buckets),
            rows: Family::default(),
            backups: Family::default(),
            backup_seconds: Family::new_with_constructor(operation_buckets),
            backup_rows: Family::default(),
            restores: Family::default(),
            restore_seconds: Family::new_with_constructor(operation_buckets),
            restore_rows: Family::default(),
            load_rows_read: Family::default(),
            load_complete: Family::default(),
            pool: Family::default(),
            retries: Family::default(),
            rendering: std::sync::Mutex::new(()),
            registry: Registry::default(),
        };
        let m = &metrics;
        registry.register(
            "http_requests",
            "HTTP requests answered, by method, route and status",
            m.requests.clone(),
        );
        registry.register(
            "http_request_duration_seconds",
            "Time to answer an HTTP request, by method and route",
            m.latency.clone(),
        );
        registry.register(
            "rows",
            "Rows received, by table, source (api, file) and outcome (inserted, already_stored, rejected)",
            m.rows.clone(),
        );
        registry.register(
            "backups",
            "Backups attempted, by table and outcome",
            m.backups.clone(),
        );
        registry.register(
            "backup_duration_seconds",
            "Time to write a backup, by table",
            m.backup_seconds.clone(),
        );
        registry.register(
            "backup_rows",
            "Rows written to backups, by table",
            m.backup_rows.clone(),
        );
        registry.register(
            "restores",
            "Restores attempted, by table and outcome",
            m.restores.clone(),
        );
        registry.register(
            "restore_duration_seconds",
            "Time to restore a table from a backup",
            m.restore_seconds.clone(),
        );
        registry.register(
            "restore_rows",
            "Rows restored, by table",
            m.restore_rows.clone(),
        );
        registry.register(
            "historical_load_rows_read",
            "Records of the table's historical file read so far",
            m.load_rows_read.clone(),
        );
        registry.register(
            "historical_load_complete",
            "1 once the table's historical file is loaded",
            m.load_complete.clone(),
        );
        registry.register(
            "db_pool_connections",
            "Database pool connections, by state (in_use, idle)",
            m.pool.clone(),
        );
        registry.register(
            "db_transaction_retries",
            "Transactions (batches, report reads) run again because a concurrent one rolled \
             them back or a restore swapped a table under them, by conflict (duplicate_key, \
             deadlock: on a Galera cluster also a commit that lost certification, \
             stale_snapshot, table_changed)",
            m.retries.clone(),
        );
        Metrics {
            registry,
            ..metrics
        }
    }

    /// One answered request; `route` is its template, `None` when no route
    /// matched. Any method but the standard ones counts as `other`: a
    /// label's values must stay few whatever clients send.
    pub fn request(&self, method: &str, route: Option<&str>, status: u16, took: Duration) {
        let route = route.unwrap_or("unmatched").to_owned();
        const STANDARD: [&str; 7] = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"];
        let method = STANDARD
            .into_iter()
            .find(|standard| *standard == method)
            .unwrap_or("other")
            .to_owned();
        self.latency
            .get_or_create(&RouteLabels {
                method: method.clone(),
                route: route.clone(),
            })
            .observe(took.as_secs_f64());
        self.requests
            .get_or_create(&RequestLabels {
                method,
                route,
                status,
            })
            .inc();
    }

    /// One stored batch's counts.
    pub fn rows(
        &self,
        table: Table,
        source: RowSource,
        inserted: u64,
        already_stored: u64,
        rejected: u64,
    ) {
        for (outcome, count) in [
            (RowOutcome::inserted, inserted),
            (RowOutcome::already_stored, already_stored),
            (RowOutcome::rejected, rejected),
        ] {
            self.rows
                .get_or_create(&RowLabels {
                    table: table.name(),
                    source,
                    outcome,
                })
                .inc_by(count);
        }
    }

    /// One backup: its rows when it was written.
    pub fn backup(&self, table: Table, took: Duration, rows: Option<u64>) {
        record_operation(
            (&self.backups, &self.backup_seconds, &self.backup_rows),
            table,
            took,
            rows,
        );
    }

    /// One restore: its rows when it swapped the table in.
    pub fn restore(&self, table: Table, took: Duration, rows: Option<u64>) {
        record_operation(
            (&self.restores, &self.restore_seconds, &self.restore_rows),
            table,
            took,
            rows,
        );
    }

    /// How far the table's historical load has read, and whether it is done.
    pub fn load_progress(&self, table: Table, rows_read: i64, complete: bool) {
        let labels = TableLabels {
            table: table.name(),
        };
        self.load_rows_read.get_or_create(&labels).set(rows_read);
        self.load_complete
            .get_or_create(&labels)
            .set(i64::from(complete));
    }

    /// The exposition, with the pool's current `in_use` and `idle` and the
    /// database's transactions run again, by conflict, since the start.
    pub fn render(
        &self,
        pool_in_use: usize,
        pool_idle: usize,
        retries: impl Iterator<Item = (&'static str, u64)>,
    ) -> String {
        let _one_at_a_time = self
            .rendering
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        for (conflict, count) in retries {
            let counter = self.retries.get_or_create(&ConflictLabels { conflict });
            counter.inc_by(count.saturating_sub(counter.get()));
        }
        for (state, count) in [("in_use", pool_in_use), ("idle", pool_idle)] {
            self.pool
                .get_or_create(&PoolLabels { state })
                .set(count as i64);
        }
        let mut text = String::new();
        // Writing to a String cannot fail.
        let _ = prometheus_client::encoding::text::encode(&mut text, &self.registry);
        text
    }
}

fn record_operation(
    (count, seconds, rows_total): (
        &Family<OperationLabels, Counter>,
        &Histograms<TableLabels>,
        &Family<TableLabels, Counter>,
    ),
    table: Table,
    took: Duration,
    rows: Option<u64>,
) {
    let outcome = if rows.is_some() {
        Outcome::ok
    } else {
        Outcome::failed
    };
    let name = table.name();
    count
        .get_or_create(&OperationLabels {
            table: name,
            outcome,
        })
        .inc();
    let labels = TableLabels { table: name };
    seconds.get_or_create(&labels).observe(took.as_secs_f64());
    if let Some(rows) = rows {
        rows_total.get_or_create(&labels).inc_by(rows);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_exposition_names_every_family_and_ends_in_eof() {
        let metrics = Metrics::new();
        metrics.request("GET", Some("/api/v1/tables"), 200, Duration::from_millis(3));
        for made_up in ["AAAA1", "AAAA2", "BREW"] {
            metrics.request(made_up, None, 405, Duration::from_millis(1));
        }
        metrics.rows(Table::Jobs, RowSource::api, 2, 1, 3);
        metrics.backup(Table::Jobs, Duration::from_millis(40), Some(5));
        metrics.restore(Table::Jobs, Duration::from_millis(40), None);
        metrics.load_progress(Table::Employees, 1999, true);
        let text = metrics.render(1, 3, [("deadlock", 2)].into_iter());
        for line in [
            r#"hiring_http_requests_total{method="GET",route="/api/v1/tables",status="200"} 1"#,
            r#"hiring_rows_total{table="jobs",source="api",outcome="rejected"} 3"#,
            r#"hiring_backups_total{table="jobs",outcome="ok"} 1"#,
            r#"hiring_db_transaction_retries_total{conflict="deadlock"} 2"#,
            r#"hiring_backup_rows_total{table="jobs"} 5"#,
            r#"hiring_restores_total{table="jobs",outcome="failed"} 1"#,
            r#"hiring_historical_load_rows_read{table="employees"} 1999"#,
            r#"hiring_historical_load_complete{table="employees"} 1"#,
            r#"hiring_db_pool_connections{state="in_use"} 1"#,
            r#"hiring_http_requests_total{method="other",route="unmatched",status="405"} 3"#,
        ] {
            assert!(text.lines().any(|l| l == line), "{line} missing in\n{text}");
        }
        assert!(text.contains("hiring_http_request_duration_seconds_bucket{"));
        assert!(text.ends_with("# EOF\n"), "{text}");
    }
}
