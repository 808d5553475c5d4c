//! Builds the application: database, migrations, historical load, routes,
//! and a bound listener (port 0 works, for tests).

use crate::auth::{self, ApiToken};
use crate::config::Config;
use crate::db::{self, Db};
use crate::error::{ApiError, render_poem_error};
use crate::ingest::RejectLog;
use crate::load;
use crate::readiness::Readiness;
use crate::routes::{self, AppState};
use anyhow::Context;
use poem::listener::{Acceptor, Listener, TcpAcceptor, TcpListener};
use poem::middleware::{RequestId, ReuseId};
use poem::{Endpoint, EndpointExt, IntoResponse, Request, Response, Route, Server};
use std::future::Future;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;
use tokio::io::AsyncReadExt;

pub struct Application {
    acceptor: TcpAcceptor,
    port: u16,
    app: poem::endpoint::BoxEndpoint<'static, Response>,
    state: Arc<AppState>,
    data_dir: PathBuf,
}

impl Application {
    /// Reads the configuration, opens the reject log and binds the listener.
    /// The database is not touched yet: [`Application::run_until`] serves at
    /// once and gets the data ready in the background.
    pub async fn build(config: Config) -> anyhow::Result<Application> {
        let db = Db::connect_lazy(&config.database_url())?;
        let rejects =
            RejectLog::open(&config.shared_dir.join("logs").join("rejected.jsonl")).await?;
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
            rejects,
            readiness: Readiness::starting(),
            backups_dir: config.shared_dir.join("backups"),
            restore_lock: tokio::sync::Mutex::new(()),
            reports_dir: config.shared_dir.join("reports"),
        });
        let acceptor = TcpListener::bind(config.api_addr)
            .into_acceptor()
            .await
            .with_context(|| format!("cannot listen on {} (API_ADDR)", config.api_addr))?;
        let port = acceptor
            .local_addr()
            .first()
            .and_then(|addr| addr.as_socket_addr().map(|a| a.port()))
            .context("the listener has no TCP address")?;
        let app = endpoint(Arc::clone(&state), ApiToken::new(&token), &config).boxed();
        Ok(Application {
            acceptor,
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

    /// Serves until `signal` completes, while [`prepare`] gets the data
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
                Ok(Ok(())) => return signal.await,
                Ok(Err(err)) => err,
                Err(panic) => anyhow::anyhow!("preparing the data failed: {panic}"),
            };
            tracing::error!(
                error = format!("{err:#}"),
                "cannot get the data ready; stopping"
            );
            *failure.lock().unwrap_or_else(|p| p.into_inner()) = Some(err);
        };
        let served = Server::new_with_acceptor(self.acceptor)
            .run_with_graceful_shutdown(self.app, stop, Some(Duration::from_secs(30)))
            .await;
        preparing.abort();
        state.db.close().await;
        if let Some(err) = failure.into_inner().unwrap_or_else(|p| p.into_inner()) {
            return Err(err);
        }
        Ok(served?)
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
                tracing::info!(engine = ?state.db.engine(), "ready");
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
    state.readiness.set_status("applying database migrations");
    state.db.migrate().await?;
    state.readiness.set_status("loading the historical files");
    let loads = load::load_all(&state.db, &state.rejects, data_dir).await?;
    if loads.iter().any(|load| load.loaded_now) {
        state
            .db
            .analyze()
            .await
            .context("cannot analyze the loaded tables")?;
    }
    Ok(())
}

/// The whole HTTP surface: the API, Swagger UI, the spec, and the
/// middleware every request goes through.
pub fn endpoint(
    state: Arc<AppState>,
    token: ApiToken,
    config: &Config,
) -> impl Endpoint<Output = Response> + use<> {
    let max_body_bytes = config.max_body_bytes;
    let reads_need_token = config.reads_need_token;
    let api = routes::openapi(Arc::clone(&state));
    let docs = api.swagger_ui();
    let allowed = Arc::new(AllowedMethods::from_spec(&api.spec()));
    let spec = api.spec_endpoint();
    Route::new()
        .nest("/", api)
        .nest("/docs", docs)
        .at("/openapi.json", poem::get(spec))
        .around(move |next, request| limit_body(next, request, max_body_bytes))
        .around(move |next, request| {
            let state = Arc::clone(&state);
            async move {
                let readiness = &state.readiness;
                if request.uri().path().starts_with("/api/") && !readiness.is_ready() {
                    return Err(ApiError::NotReady(readiness.status()).into());
                }
                Ok(next.call(request).await?.into_response())
            }
        })
        .around(move |next, request| async move {
            if reads_need_token {
                auth::guard_reads(next, request).await
            } else {
                Ok(next.call(request).await?.into_response())
            }
        })
        .data(token)
        .catch_all_error(render_poem_error)
        .around(move |next, request| allow_on_405(next, request, Arc::clone(&allowed)))
        .around(log_request)
        .with(RequestId::default().reuse_id(ReuseId::Use))
}

/// Reads the body up front with a cap, so an oversized upload gets 413
/// whether it declares its length or is chunked. Some more of an oversized
/// body is read and dropped (up to four times the cap) before answering, so
/// that a client still sending can read the 413 instead of a reset.
async fn limit_body<E: Endpoint>(
    next: Arc<E>,
    mut request: Request,
    max: u64,
) -> poem::Result<Response> {
    let mut reader = request.take_body().into_async_read();
    let mut bytes = Vec::new();
    if let Err(err) = (&mut reader).take(max + 1).read_to_end(&mut bytes).await {
        let message = format!("cannot read the body: {err}");
        return Err(ApiError::BadRequest(message, "bad_body").into());
    }
    if bytes.len() as u64 > max {
        let _ = tokio::io::copy(
            &mut reader.take(max.saturating_mul(4)),
            &mut tokio::io::sink(),
        )
        .await;
        return Err(ApiError::PayloadTooLarge(max).into());
    }
    request.set_body(bytes);
    Ok(next.call(request).await?.into_response())
}

/// The methods of each path of the spec, for the `Allow` header that
/// RFC 9110 asks of a 405.
struct AllowedMethods(Vec<(String, String)>);

impl AllowedMethods {
    fn from_spec(spec: &str) -> AllowedMethods {
        let spec: serde_json::Value = serde_json::from_str(spec).unwrap_or_default();
        let paths = spec["paths"].as_object().into_iter().flatten();
        let mut allowed: Vec<(String, String)> = paths
            .map(|(template, operations)| {
                let methods: Vec<String> = operations
                    .as_object()
                    .into_iter()
                    .flat_map(|o| o.keys())
                    .map(|method| method.to_uppercase())
                    .collect();
                (template.clone(), methods.join(", "))
            })
            .collect();
        allowed.push(("/openapi.json".to_owned(), "GET".to_owned()));
        AllowedMethods(allowed)
    }

    fn of(&self, path: &str) -> Option<&str> {
        let matches = |template: &str| {
            let (mut wanted, mut given) = (template.split('/'), path.split('/'));
            loop {
                match (wanted.next(), given.next()) {
                    (None, None) => return true,
                    (Some(w), Some(g)) if w == g || w.starts_with('{') => {}
                    _ => return false,
                }
            }
        };
        self.0
            .iter()
            .find(|(template, _)| matches(template))
            .map(|(_, methods)| methods.as_str())
    }
}

async fn allow_on_405<E: Endpoint>(
    next: Arc<E>,
    request: Request,
    allowed: Arc<AllowedMethods>,
) -> poem::Result<Response> {
    let path = request.uri().path().to_owned();
    let mut response = next.call(request).await?.into_response();
    if response.status() == poem::http::StatusCode::METHOD_NOT_ALLOWED
        && let Some(methods) = allowed.of(&path)
        && let Ok(value) = poem::http::HeaderValue::from_str(methods)
    {
        response
            .headers_mut()
            .insert(poem::http::header::ALLOW, value);
    }
    Ok(response)
}

async fn log_request<E: Endpoint>(next: Arc<E>, request: Request) -> poem::Result<Response> {
    let method = request.method().clone();
    let path = request.uri().path().to_owned();
    let started = std::time::Instant::now();
    let response = next.call(request).await?.into_response();
    tracing::info!(
        %method,
        path,
        status = response.status().as_u16(),
        ms = started.elapsed().as_millis() as u64,
        "request"
    );
    Ok(response)
}

/// True when the service listening at `addr` answers `GET /ready` with 200
/// within three seconds (`0.0.0.0` is asked on the loopback).
pub async fn is_ready(addr: std::net::SocketAddr) -> bool {
    use tokio::io::AsyncWriteExt;
    let mut addr = addr;
    if addr.ip().is_unspecified() {
        addr.set_ip(std::net::Ipv4Addr::LOCALHOST.into());
    }
    let check = async {
        let mut stream = tokio::net::TcpStream::connect(addr).await.ok()?;
        stream
            .write_all(b"GET /ready HTTP/1.0\r\nHost: localhost\r\n\r\n")
            .await
            .ok()?;
        let mut head = [0u8; 12];
        stream.read_exact(&mut head).await.ok()?;
        Some(head.starts_with(b"HTTP/1.") && &head[9..12] == b"200")
    };
    matches!(
        tokio::time::timeout(Duration::from_secs(3), check).await,
        Ok(Some(true))
    )
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
