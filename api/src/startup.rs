//! Builds the application (database pool, token, routes, a bound listener:
//! port 0 works, for tests) and runs it: it serves at once while the
//! migrations and the historical load get the data ready in the background.

use crate::config::Config;
use crate::db::{self, Db};
use crate::http::admission::{self, Limits};
use crate::http::auth::{self, ApiToken};
use crate::http::endpoint;
use crate::http::readiness::Readiness;
use crate::ingest;
use crate::metrics::Metrics;
use crate::routes::{self, AppState};
use anyhow::Context;
use poem::{EndpointExt, Response};
use std::future::Future;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

pub struct Application {
    listener: tokio::net::TcpListener,
    limits: Limits,
    port: u16,
    app: poem::endpoint::BoxEndpoint<'static, Response>,
    state: Arc<AppState>,
    data_dir: PathBuf,
}

impl Application {
    /// Reads the configuration, makes the token when needed and binds the
    /// listener.
    /// The database is not touched yet: [`Application::run_until`] serves at
    /// once and gets the data ready in the background.
    pub async fn build(config: Config) -> anyhow::Result<Application> {
        let db = Db::connect_lazy(&config.database_url(), config.write_wait())?;
        let token = match &config.api_token {
            Some(token) => token.expose().to_owned(),
            None => {
                let path = auth::token_path(&config.shared_dir);
                let token = auth::load_or_create_token(&path)?;
                tracing::info!(path = %path.display(), "API_TOKEN is not set; writes need the token in this file");
                token
            }
        };
        let state = Arc::new(AppState {
            db,
            readiness: Arc::new(Readiness::starting()),
            backups_dir: config.shared_dir.join("backups"),
            reports_dir: config.shared_dir.join("reports"),
            saved_reports: Arc::default(),
            backup_keep: config.backup_keep,
            backup_codec: config.backup_codec,
            metrics: Arc::new(Metrics::default()),
            reads_need_token: config.reads_need_token,
            engine: std::sync::OnceLock::new(),
            historical: std::sync::Mutex::default(),
        });
        let listener = tokio::net::TcpListener::bind(config.api_addr)
            .await
            .with_context(|| format!("cannot listen on {} (API_ADDR)", config.api_addr))?;
        let port = listener
            .local_addr()
            .context("the listener has no TCP address")?
            .port();
        tracing::info!(addr = %config.api_addr, port, "listening");
        let app = endpoint(
            routes::openapi(Arc::clone(&state)),
            Arc::clone(&state.readiness),
            Arc::clone(&state.metrics),
            ApiToken::new(&token),
            &config,
        )
        .boxed();
        let limits = Limits {
            header_timeout: config.header_timeout(),
            max_connections: config.max_connections as usize,
            http2_max_streams: config.http2_max_streams,
        };
        Ok(Application {
            listener,
            limits,
            port,
            app,
            state,
            data_dir: config.data_dir,
        })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// Serves until Ctrl-C or SIGTERM, then finishes requests in flight.
    pub async fn run_until_stopped(self) -> anyhow::Result<()> {
        self.run_until(shutdown_signal()).await
    }

    /// Serves until `signal` completes, while `prepare` gets the data
    /// ready. Stops with an error if preparing fails for a reason other than
    /// an unreachable database (which it waits out).
    pub async fn run_until(self, signal: impl Future<Output = ()> + Send) -> anyhow::Result<()> {
        let state = self.state;
        let mut preparing = tokio::spawn(prepare_when_reachable(Arc::clone(&state), self.data_dir));
        let failure = std::sync::Mutex::new(None);
        let stop = async {
            tokio::pin!(signal);
            let prepared = tokio::select! {
                () = &mut signal => return,
                outcome = &mut preparing => outcome,
            };
            let err = match prepared {
                Ok(Ok(())) => {
                    tokio::select! {
                        () = &mut signal => return,
                        () = forget_old_batch_keys(&state.db) => unreachable!("it never ends"),
                    }
                }
                Ok(Err(err)) => err,
                Err(panic) => anyhow::anyhow!("preparing the data failed: {panic}"),
            };
            tracing::error!(
                error = format!("{err:#}"),
                "cannot get the data ready; stopping"
            );
            *failure.lock().unwrap_or_else(|p| p.into_inner()) = Some(err);
        };
        admission::serve(self.listener, self.app, self.limits, stop).await;
        preparing.abort();
        state.db.close().await;
        if let Some(err) = failure.into_inner().unwrap_or_else(|p| p.into_inner()) {
            return Err(err);
        }
        Ok(())
    }
}

/// Forgets the batch keys older than `ingest::BATCH_KEYS_KEPT`, now and
/// every hour after, for as long as the service runs.
async fn forget_old_batch_keys(db: &db::Db) {
    let mut hourly = tokio::time::interval(Duration::from_secs(3600));
    loop {
        hourly.tick().await;
        match ingest::forget_old_batch_keys(db).await {
            Ok(0) => {}
            Ok(forgotten) => tracing::info!(forgotten, "old batch keys forgotten"),
            Err(err) => tracing::warn!(error = format!("{err:#}"), "cannot forget old batch keys"),
        }
    }
}

/// Applies the migrations and loads the historical files, waiting out a
/// database that cannot be reached yet (retrying with a growing pause, up to
/// five seconds); then marks the service ready.
async fn prepare_when_reachable(state: Arc<AppState>, data_dir: PathBuf) -> anyhow::Result<()> {
    let mut pause = Duration::from_millis(250);
    loop {
        match prepare(&state, &data_dir).await {
            Ok(()) => {
                state.readiness.mark_ready();
                tracing::info!(dialect = ?state.db.dialect(), "ready");
                return Ok(());
            }
            Err(err) if db::is_unreachable(&err) => {
                state
                    .readiness
                    .set_status("waiting for the database to answer");
                tracing::warn!(
                    error = format!("{err:#}"),
                    retry_in_ms = pause.as_millis() as u64,
                    "the database cannot be reached yet"
                );
                tokio::time::sleep(pause).await;
                pause = (pause * 2).min(Duration::from_secs(5));
            }
            Err(err) => return Err(err),
        }
    }
}

async fn prepare(state: &AppState, data_dir: &Path) -> anyhow::Result<()> {
    state.readiness.set_status("connecting to the database");
    state.db.discover().await?;
    state.readiness.set_status("applying database migrations");
    // sqlx does not lock migrations through an `Any` pool: replicas that
    // start together take turns here.
    let turn = state
        .db
        .named_lock("hiring.migrate", Duration::from_secs(600))
        .await?;
    let migrated = state.db.migrate().await;
    turn.release().await;
    migrated?;
    state.db.clear_abandoned_staging().await?;
    state.readiness.set_status("loading the historical files");
    // One process loads; the others wait for it, then find every file loaded.
    let turn = state
        .db
        .named_lock("hiring.historical_load", Duration::from_secs(3600))
        .await?;
    let report = ingest::load_all(&state.db, data_dir, &state.metrics).await;
    turn.release().await;
    let report = report?;
    let loaded_now = report.loads.iter().any(|load| load.loaded_now);
    *state
        .historical
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner()) = Some(report);
    if loaded_now {
        state
            .db
            .analyze()
            .await
            .context("cannot analyze the loaded tables")?;
    }
    Ok(())
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
    tracing::info!("shutting down");
}

#[cfg(test)]
mod tests {
    //! The HTTP layer reads the routes' own declarations: held here, where
    //! both are known.
    use crate::http::route_table::{Operation, RouteTable};
    use poem::http::Method;

    #[test]
    fn every_write_the_api_declares_needs_the_token_and_no_read_does() {
        let table = RouteTable::of::<crate::routes::Apis>();
        let operations: Vec<(&str, &Operation)> = table
            .0
            .iter()
            .flat_map(|route| {
                route
                    .operations
                    .iter()
                    .map(|o| (route.template.as_str(), o))
            })
            .collect();
        assert!(operations.len() >= 14, "{}", operations.len());
        for (path, operation) in operations {
            let write = operation.method != Method::GET;
            assert_eq!(operation.guarded, write, "{} {path}", operation.method);
            // A write declares what it reads, or that it reads nothing.
            if operation.id == Some("insert_rows") {
                let types = &operation.body.media_types;
                assert!(
                    types.iter().any(|t| t.starts_with("application/json")),
                    "{types:?}"
                );
                assert!(types.iter().any(|t| t.starts_with("text/csv")), "{types:?}");
            }
        }
        let rows = table.of_path("/api/v1/tables/jobs/rows").unwrap();
        assert_eq!(rows.template, "/api/v1/tables/{table}/rows");
        assert_eq!(rows.allow, "GET, POST");
        assert!(
            table
                .operation(&Method::HEAD, "/api/v1/tables/jobs/rows")
                .is_some()
        );
        assert!(
            table
                .operation(&Method::DELETE, "/api/v1/tables/jobs/rows")
                .is_none()
        );
        assert!(table.of_path("/api/v1/nowhere").is_none());
    }
}
