//! Command-line client for the hiring-data migration service.

mod api;
mod commands;
mod output;
mod table;

use clap::{CommandFactory, Parser, Subcommand};
use commands::reports::{self, Report};
use commands::{add_records, backups, rejects, rows};
use output::Format;
use std::path::PathBuf;
use std::process::ExitCode;

/// Drive the hiring-data migration service: load CSVs, back tables up,
/// restore them, and read the hiring reports.
#[derive(Debug, Parser)]
#[command(name = "client", version = env!("BUILD_VERSION"), about)]
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

    /// How data is printed (html: the reports' page with the chart).
    #[arg(long, value_enum, default_value_t = Format::Table, global = true)]
    format: Format,

    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Send a headerless CSV to a table in batches of 1000 rows.
    ///
    /// Rows the API rejects are written, with their reason, to
    /// FILE.rejects.jsonl (or --rejects).
    AddRecords(add_records::Args),
    /// Back a table (or all) up to a new Avro file on the server.
    Backup(backups::BackupArgs),
    /// List a table's backups, newest first.
    Backups(backups::ListArgs),
    /// Replace a table's rows with a backup's (the newest by default).
    Restore(backups::RestoreArgs),
    /// Report req1: hires per department and job in each quarter.
    #[command(
        after_help = "Examples:\n  client req1\n  client req1 --year 2021 --format csv -o hires.csv\n  client req1 --format html -o hires.html"
    )]
    Req1(reports::ReportArgs),
    /// Report req2: departments that hired more than the mean.
    #[command(after_help = "Examples:\n  client req2 --year 2021\n  client req2 --format json")]
    Req2(reports::ReportArgs),
    /// List the rows the service did not store, with their reasons.
    ///
    /// With --format csv, only the raw rows, one per line, exactly as they
    /// were received, ready to fix and send again with add-records.
    Rejects(rejects::Args),
    /// Print one row.
    Get(rows::GetArgs),
    /// List the tables with their row counts.
    #[command(after_help = "Examples:\n  client tables\n  client tables --format csv")]
    Tables,
    /// Check that the API is up and its database ready.
    #[command(after_help = "Examples:\n  client health\n  client --url http://api:8000 health")]
    Health,
    /// Print a completion script for a shell.
    #[command(after_help = "Examples:\n  \
        client completions bash > ~/.local/share/bash-completion/completions/client\n  \
        client completions zsh > ~/.zfunc/_client\n  \
        client completions fish > ~/.config/fish/completions/client.fish")]
    Completions { shell: clap_complete::Shell },
    /// Print the manual page (roff).
    #[command(after_help = "Example:\n  client man > client.1 && man ./client.1")]
    Man,
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli).await {
        Ok(()) => ExitCode::SUCCESS,
        // The reader of our output went away (`client man | head`): done.
        Err(err) if output::is_broken_pipe(&err) => ExitCode::SUCCESS,
        Err(err) => match err.downcast_ref::<clap::Error>() {
            // A usage error found after parsing: clap's exit code (2) and form.
            Some(usage) => usage.exit(),
            None => {
                eprintln!("error: {err:#}");
                ExitCode::FAILURE
            }
        },
    }
}

async fn run(cli: Cli) -> anyhow::Result<()> {
    // Neither needs the API.
    match cli.command {
        Command::Completions { shell } => {
            // Rendered whole first: clap_complete panics on a failed write.
            let mut script = Vec::new();
            clap_complete::generate(shell, &mut Cli::command(), "client", &mut script);
            return Ok(output::stdout(script)?);
        }
        Command::Man => {
            let mut page = Vec::new();
            clap_mangen::Man::new(Cli::command()).render(&mut page)?;
            return Ok(output::stdout(page)?);
        }
        _ => {}
    }
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
    // The reports print html too; every other command takes table, json or
    // csv, checked here, once, before anything is sent.
    let data = match cli.command {
        Command::Req1(args) => return reports::run(&api, Report::Req1, args, cli.format).await,
        Command::Req2(args) => return reports::run(&api, Report::Req2, args, cli.format).await,
        command => (command, cli.format.data()?),
    };
    let context = commands::Context {
        url: cli.url,
        shared_dir: cli.shared_dir,
        quiet: cli.quiet,
        verbose: cli.verbose,
    };
    match data {
        (Command::AddRecords(args), format) => {
            add_records::command(&api, args, &context, format).await
        }
        (Command::Backup(args), format) => backups::backup(&api, args, format).await,
        (Command::Backups(args), format) => backups::list(&api, args, format).await,
        (Command::Restore(args), format) => backups::restore(&api, args, format).await,
        (Command::Rejects(args), format) => rejects::run(&api, args, format).await,
        (Command::Get(args), format) => rows::get(&api, args, format).await,
        (Command::Tables, format) => rows::tables(&api, format).await,
        (Command::Health, format) => rows::health(&api, format).await,
        (Command::Req1(_) | Command::Req2(_) | Command::Completions { .. } | Command::Man, _) => {
            unreachable!("answered above")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn verify_cli() {
        Cli::command().debug_assert();
    }
}
