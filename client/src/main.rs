//! Command-line client for the hiring-data migration service.
//!
//! This first version checks the service; the data commands (add-records,
//! backup, restore, req1, req2, get) arrive with their issue.

use anyhow::Context;
use clap::{Parser, Subcommand};
use std::process::ExitCode;

/// Drive the hiring-data migration service from the command line.
#[derive(Debug, Parser)]
#[command(name = "client", version, about)]
struct Cli {
    /// Base URL of the API.
    #[arg(
        long = "url",
        env = "API_URL",
        default_value = "http://127.0.0.1:8000",
        global = true
    )]
    url: String,

    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Check that the API is up and its database ready.
    Health,
    /// List the tables with their row counts.
    Tables,
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {err:#}");
            ExitCode::FAILURE
        }
    }
}

async fn run(cli: Cli) -> anyhow::Result<()> {
    let http = reqwest::Client::new();
    let base = cli.url.trim_end_matches('/');
    let path = match cli.command {
        Command::Health => "/ready",
        Command::Tables => "/api/v1/tables",
    };
    let response = http
        .get(format!("{base}{path}"))
        .send()
        .await
        .with_context(|| format!("cannot reach the API at {base} (set --url or API_URL)"))?;
    let status = response.status();
    let body: serde_json::Value = response
        .json()
        .await
        .context("the API answered with something that is not JSON")?;
    if !status.is_success() {
        let message = body["message"].as_str().unwrap_or("no message");
        anyhow::bail!("the API answered {status}: {message}");
    }
    println!("{}", serde_json::to_string_pretty(&body)?);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn verify_cli() {
        Cli::command().debug_assert();
    }
}
