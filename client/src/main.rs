//! Command-line client for the hiring-data migration service.

mod api;
mod commands;
mod output;
mod table;
mod wire;

use clap::{Parser, Subcommand, ValueEnum};
use commands::reports::Report;
use std::path::PathBuf;
use std::process::ExitCode;
use table::{Table, TableOrAll};

/// Drive the hiring-data migration service: load CSVs, back tables up,
/// restore them, and read the hiring reports.
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

    /// Bearer token for commands that change data; else read from
    /// `$SHARED_DIR/secrets/api-token`.
    #[arg(long, env = "API_TOKEN", global = true, hide_env_values = true)]
    token: Option<String>,

    /// A file holding the token (compose secrets); used when --token is not given.
    #[arg(long, env = "API_TOKEN_FILE", global = true)]
    token_file: Option<PathBuf>,

    /// The folder shared with the API (incoming/, secrets/).
    #[arg(long, env = "SHARED_DIR", default_value = "var/shared", global = true)]
    shared_dir: PathBuf,

    /// Print only data and errors.
    #[arg(long, short, global = true, conflicts_with = "verbose")]
    quiet: bool,

    /// Print more about what happens.
    #[arg(long, short, global = true)]
    verbose: bool,

    #[command(subcommand)]
    command: Command,
}

/// How a report is printed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// An aligned table.
    Table,
    Json,
    Csv,
    /// The page with the chart.
    Html,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Send a headerless CSV to a table in batches of 1000 rows.
    ///
    /// Rows the API rejects are written, with their reason, to
    /// FILE.rejects.jsonl (or --rejects).
    AddRecords {
        table: Table,
        /// The CSV, or `-` for standard input [default: $SHARED_DIR/incoming/<table>.csv].
        file: Option<PathBuf>,
        /// Where to write the rejected rows.
        #[arg(long)]
        rejects: Option<PathBuf>,
    },
    /// Back a table (or all) up to a new Avro file on the server.
    Backup { target: TableOrAll },
    /// List a table's backups, newest first.
    Backups { table: Table },
    /// Replace a table's rows with a backup's (the newest by default).
    Restore {
        table: Table,
        /// The backup's name, from `backups`.
        #[arg(long)]
        backup: Option<String>,
        /// Confirm: the table's current rows are replaced.
        #[arg(long)]
        yes: bool,
    },
    /// Report req1: hires per department and job in each quarter.
    Req1(ReportArgs),
    /// Report req2: departments that hired more than the mean.
    Req2(ReportArgs),
    /// Print one row.
    Get { table: Table, id: i64 },
    /// List the tables with their row counts.
    Tables,
    /// Check that the API is up and its database ready.
    Health,
}

#[derive(Debug, clap::Args)]
struct ReportArgs {
    /// The year.
    #[arg(long, default_value_t = 2021)]
    year: i32,
    #[arg(long, value_enum, default_value_t = Format::Table)]
    format: Format,
    /// Write to this file instead of standard output.
    #[arg(long, short)]
    output: Option<PathBuf>,
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
    let token = match (&cli.token, &cli.token_file) {
        (Some(token), _) => Some(token.clone()),
        (None, Some(file)) => Some(
            std::fs::read_to_string(file)
                .map_err(|err| {
                    anyhow::anyhow!("API_TOKEN_FILE: cannot read {}: {err}", file.display())
                })?
                .trim()
                .to_owned(),
        ),
        (None, None) => None,
    };
    let api = api::Api::new(&cli.url, token, &cli.shared_dir)?;
    match cli.command {
        Command::AddRecords {
            table,
            file,
            rejects,
        } => {
            let source = file
                .unwrap_or_else(|| commands::add_records::default_source(&cli.shared_dir, table));
            if cli.verbose {
                eprintln!("sending {} to {} at {}", source.display(), table, cli.url);
            }
            let summary = commands::add_records::run(
                &api,
                commands::add_records::Options {
                    table,
                    source,
                    rejects,
                    quiet: cli.quiet,
                },
            )
            .await?;
            println!(
                "{}: {} rows read, {} inserted, {} rejected",
                table, summary.read, summary.inserted, summary.rejected
            );
            if let Some(file) = summary.rejects_file {
                println!("rejected rows and their reasons: {}", file.display());
            }
        }
        Command::Backup { target } => {
            commands::backups::backup(&api, target).await?;
        }
        Command::Backups { table } => commands::backups::list(&api, table).await?,
        Command::Restore { table, backup, yes } => {
            commands::backups::restore(&api, table, backup.as_deref(), yes).await?;
        }
        Command::Req1(args) => {
            commands::reports::run(
                &api,
                Report::Req1,
                args.year,
                args.format,
                args.output.as_deref(),
            )
            .await?;
        }
        Command::Req2(args) => {
            commands::reports::run(
                &api,
                Report::Req2,
                args.year,
                args.format,
                args.output.as_deref(),
            )
            .await?;
        }
        Command::Get { table, id } => commands::rows::get(&api, table, id).await?,
        Command::Tables => commands::rows::tables(&api).await?,
        Command::Health => commands::rows::health(&api).await?,
    }
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
