use api::config::Config;
use api::startup::Application;
use clap::Parser;

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let mut config = Config::parse();
    if config.healthcheck {
        return if api::http::healthcheck::is_ready(config.api_addr).await {
            std::process::ExitCode::SUCCESS
        } else {
            std::process::ExitCode::FAILURE
        };
    }
    api::telemetry::init(config.log_format);
    if let Err(err) = config.read_secret_files() {
        eprintln!("error: {err:#}");
        return std::process::ExitCode::FAILURE;
    }
    match run(config).await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(err) => {
            tracing::error!(error = format!("{err:#}"), "the service stopped");
            eprintln!("error: {err:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

async fn run(config: Config) -> anyhow::Result<()> {
    let host = config.api_addr.ip();
    let app = Application::build(config).await?;
    let port = app.port();
    tracing::info!(
        "listening on http://{host}:{port}; open it in a browser for an overview, or Swagger UI at http://{host}:{port}/docs"
    );
    app.run_until_stopped().await
}
