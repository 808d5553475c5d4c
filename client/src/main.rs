//! Command-line client for the hiring-data migration service.

mod api;
mod commands;
mod output;
mod table;

use clap::{CommandFactory, Parser, Subcommand};
use commands::reports::Report;
use output::Format;
use std::path::PathBuf;
use std::process::ExitCode;
use table::{Table, TableOrAll};

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
    #[command(
        after_help = "Examples:\n  client add-records departments data/departments.csv\n  client add-records employees hired.csv --dry-run\n  cat jobs.csv | client add-records jobs -\n  client add-records employees   # reads $SHARED_DIR/incoming/employees.csv"
    )]
    AddRecords {
        table: Table,
        /// The CSV, or `-` for standard input [default: $SHARED_DIR/incoming/<table>.csv].
        file: Option<PathBuf>,
        /// Where to write the rejected rows.
        #[arg(long)]
        rejects: Option<PathBuf>,
        /// Check every row as a real run would and write the rejects file,
        /// storing nothing. Each batch is checked against what is stored,
        /// not against the file's earlier batches.
        #[arg(long)]
        dry_run: bool,
    },
    /// Back a table (or all) up to a new Avro file on the server.
    #[command(
        after_help = "Examples:\n  client backup employees\n  client backup all --format json"
    )]
    Backup { target: TableOrAll },
    /// List a table's backups, newest first.
    #[command(after_help = "Examples:\n  client backups employees")]
    Backups { table: Table },
    /// Replace a table's rows with a backup's (the newest by default).
    #[command(
        after_help = "Examples:\n  client restore employees --yes\n  client restore jobs --backup jobs-20261125T063000.123Z-a1b2c3.avro --yes"
    )]
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
    #[command(
        after_help = "Examples:\n  client req1\n  client req1 --year 2021 --format csv -o hires.csv\n  client req1 --format html -o hires.html"
    )]
    Req1(ReportArgs),
    /// Report req2: departments that hired more than the mean.
    #[command(after_help = "Examples:\n  client req2 --year 2021\n  client req2 --format json")]
    Req2(ReportArgs),
    /// List the rows the service did not store, with their reasons.
    ///
    /// With --format csv, only the raw rows, one per line, ready to fix and
    /// send again with add-records.
    #[command(
        after_help = "Examples:\n  client rejects --table employees\n  client rejects --source file --format csv -o fix-me.csv"
    )]
    Rejects {
        /// Only this table's rejects.
        #[arg(long)]
        table: Option<Table>,
        /// Only rejects from requests (api) or historical files (file).
        #[arg(long, value_enum)]
        source: Option<vocab::RejectSource>,
        /// Write to this file instead of standard output.
        #[arg(long, short)]
        output: Option<PathBuf>,
    },
    /// Print one row.
    #[command(
        after_help = "Examples:\n  client get employees 42\n  client get departments 3 --format json"
    )]
    Get { table: Table, id: i64 },
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

#[derive(Debug, clap::Args)]
struct ReportArgs {
    /// The year.
    #[arg(long, default_value_t = 2021)]
    year: i32,
    /// Write to this file instead of standard output.
    #[arg(long, short)]
    output: Option<PathBuf>,
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
    // Only the reports print html: every other command checks the format
    // (`cli.format.data()?`) before it sends anything.
    match cli.command {
        Command::AddRecords {
            table,
            file,
            rejects,
            dry_run,
        } => {
            let format = cli.format.data()?;
            let source = file
                .unwrap_or_else(|| commands::add_records::default_source(&cli.shared_dir, table));
            if cli.verbose {
                eprintln!("sending {} to {} at {}", source.display(), table, cli.url);
            }
            let options = commands::add_records::Options {
                table,
                source,
                rejects,
                quiet: cli.quiet,
                dry_run,
            };
            let summary = commands::add_records::run(&api, options).await?;
            output::print(format, &summary)?;
        }
        Command::Backup { target } => {
            commands::backups::backup(&api, target, cli.format.data()?).await?
        }
        Command::Backups { table } => {
            commands::backups::list(&api, table, cli.format.data()?).await?
        }
        Command::Restore { table, backup, yes } => {
            commands::backups::restore(&api, table, backup.as_deref(), yes, cli.format.data()?)
                .await?;
        }
        Command::Req1(args) => report(&api, Report::Req1, &args, cli.format).await?,
        Command::Req2(args) => report(&api, Report::Req2, &args, cli.format).await?,
        Command::Get { table, id } => {
            commands::rows::get(&api, table, id, cli.format.data()?).await?
        }
        Command::Rejects {
            table,
            source,
            output,
        } => {
            let format = cli.format.data()?;
            commands::rejects::run(&api, table, source, format, output.as_deref()).await?
        }
        Command::Tables => commands::rows::tables(&api, cli.format.data()?).await?,
        Command::Health => commands::rows::health(&api, cli.format.data()?).await?,
        Command::Completions { .. } | Command::Man => unreachable!("answered above"),
    }
    Ok(())
}

async fn report(
    api: &api::Api,
    report: Report,
    args: &ReportArgs,
    format: Format,
) -> anyhow::Result<()> {
    commands::reports::run(api, report, args.year, format, args.output.as_deref()).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn verify_cli() {
        Cli::command().debug_assert();
    }
}
