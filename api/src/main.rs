use api::config::Config;
use api::startup::Application;
use clap::Parser;

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let config = Config::parse();
    api::telemetry::init(config.log_format);
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
    tracing::info!("listening on http://{host}:{port}; Swagger UI at http://{host}:{port}/docs");
    app.run_until_stopped().await?;
    Ok(())
}
