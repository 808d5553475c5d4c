//! Configuration, read once at start from the environment (or the same-named
//! flags). A malformed value stops the start with the variable's name.

use clap::{Parser, ValueEnum};
use std::fmt;
use std::net::SocketAddr;
use std::path::PathBuf;

/// The package version and, when built from a git checkout, its commit:
/// "0.1.0 (commit 0123456789ab)".
pub const VERSION: &str = env!("BUILD_VERSION");

/// The hiring-data migration service.
#[derive(Clone, Debug, Parser)]
#[command(name = "api", version = VERSION, about)]
pub struct Config {
    /// Database to use: `mysql://user:password@host:3306/db` for MySQL or
    /// MariaDB; when unset, an embedded SQLite file at `var/app.db`.
    #[arg(
        long,
        env = "DATABASE_URL",
        value_name = "DATABASE_URL",
        hide_env_values = true
    )]
    pub database_url: Option<Secret>,

    /// A file holding DATABASE_URL (compose secrets); used when DATABASE_URL is unset.
    #[arg(long, env = "DATABASE_URL_FILE", value_name = "DATABASE_URL_FILE")]
    pub database_url_file: Option<PathBuf>,

    /// Address and port to listen on (port 0 picks a free one).
    #[arg(
        long,
        env = "API_ADDR",
        value_name = "API_ADDR",
        default_value = "127.0.0.1:8000"
    )]
    pub api_addr: SocketAddr,

    /// Folder of the historical CSVs loaded at start (`departments.csv`,
    /// `jobs.csv`, `employees.csv`).
    #[arg(
        long,
        env = "DATA_DIR",
        value_name = "DATA_DIR",
        default_value = "data"
    )]
    pub data_dir: PathBuf,

    /// Folder shared with the client: backups/, reports/, incoming/, secrets/.
    #[arg(
        long,
        env = "SHARED_DIR",
        value_name = "SHARED_DIR",
        default_value = "var/shared"
    )]
    pub shared_dir: PathBuf,

    /// Bearer token that writes need; when unset, one is generated at
    /// `$SHARED_DIR/secrets/api-token`.
    #[arg(
        long,
        env = "API_TOKEN",
        value_name = "API_TOKEN",
        hide_env_values = true
    )]
    pub api_token: Option<Secret>,

    /// Also require the bearer token to read tables (by default reads are open).
    #[arg(long, env = "READS_NEED_TOKEN", value_name = "READS_NEED_TOKEN")]
    pub reads_need_token: bool,

    /// A file holding API_TOKEN (compose secrets); used when API_TOKEN is unset.
    #[arg(long, env = "API_TOKEN_FILE", value_name = "API_TOKEN_FILE")]
    pub api_token_file: Option<PathBuf>,

    /// Check that the service at API_ADDR is ready, exit 0 or 1, and do
    /// nothing else (a container health check that needs no curl).
    #[arg(long)]
    pub healthcheck: bool,

    /// Log format: `text` for people, `json` for collectors.
    #[arg(
        long,
        env = "LOG_FORMAT",
        value_name = "LOG_FORMAT",
        default_value = "text"
    )]
    pub log_format: LogFormat,

    /// Largest request body accepted, in bytes (larger ones get 413).
    #[arg(
        long,
        env = "MAX_BODY_BYTES",
        value_name = "MAX_BODY_BYTES",
        default_value_t = 8 * 1024 * 1024,
        value_parser = clap::value_parser!(u64).range(1024..)
    )]
    pub max_body_bytes: u64,

    /// Seconds a client has to send a request's headers (from connecting,
    /// or from its previous response); then the connection is closed.
    #[arg(
        long,
        env = "HEADER_TIMEOUT_SECS",
        value_name = "HEADER_TIMEOUT_SECS",
        default_value_t = 10,
        value_parser = clap::value_parser!(u64).range(1..=3600)
    )]
    pub header_timeout_secs: u64,

    /// Seconds a whole request may take, body and work: a body still
    /// arriving then gets 408, work still running 503 (and is stopped).
    #[arg(
        long,
        env = "REQUEST_TIMEOUT_SECS",
        value_name = "REQUEST_TIMEOUT_SECS",
        default_value_t = 120,
        value_parser = clap::value_parser!(u64).range(1..=86400)
    )]
    pub request_timeout_secs: u64,

    /// Connections served at once. Over it, a few more are accepted for
    /// `/health` and `/ready` only (others get 503), and the rest are closed.
    #[arg(
        long,
        env = "MAX_CONNECTIONS",
        value_name = "MAX_CONNECTIONS",
        default_value_t = 1024,
        value_parser = clap::value_parser!(u32).range(1..=1_000_000)
    )]
    pub max_connections: u32,

    /// HTTP/2 streams (requests in flight) per connection.
    #[arg(
        long,
        env = "HTTP2_MAX_STREAMS",
        value_name = "HTTP2_MAX_STREAMS",
        default_value_t = 64,
        value_parser = clap::value_parser!(u32).range(1..=1000)
    )]
    pub http2_max_streams: u32,

    /// Compression of new backups: `deflate` (every Avro reader has it),
    /// `null`, `snappy` or `zstandard`. Restore reads all four.
    #[arg(
        long,
        env = "BACKUP_CODEC",
        value_name = "BACKUP_CODEC",
        default_value = "deflate"
    )]
    pub backup_codec: BackupCodec,

    /// Backups kept per table: after a new backup, the oldest beyond this
    /// many are removed with their sidecars. 0 keeps them all.
    #[arg(
        long,
        env = "BACKUP_KEEP",
        value_name = "BACKUP_KEEP",
        default_value_t = 0
    )]
    pub backup_keep: u32,

    /// Seconds a write waits for its turn (another batch, a restore's
    /// swap) before it is answered 503 with `Retry-After`.
    #[arg(
        long,
        env = "WRITE_WAIT_SECS",
        value_name = "WRITE_WAIT_SECS",
        default_value_t = 30,
        value_parser = clap::value_parser!(u64).range(1..=3600)
    )]
    pub write_wait_secs: u64,
}

impl Config {
    pub fn header_timeout(&self) -> std::time::Duration {
        std::time::Duration::from_secs(self.header_timeout_secs)
    }

    pub fn request_timeout(&self) -> std::time::Duration {
        std::time::Duration::from_secs(self.request_timeout_secs)
    }

    pub fn write_wait(&self) -> std::time::Duration {
        std::time::Duration::from_secs(self.write_wait_secs)
    }

    /// Fills DATABASE_URL and API_TOKEN from their `*_FILE` variables when
    /// they are not set directly.
    pub fn read_secret_files(&mut self) -> anyhow::Result<()> {
        fn read(path: &std::path::Path, variable: &str) -> anyhow::Result<Secret> {
            let text = std::fs::read_to_string(path).map_err(|err| {
                anyhow::anyhow!("{variable}: cannot read {}: {err}", path.display())
            })?;
            text.trim()
                .parse::<Secret>()
                .map_err(|err| anyhow::anyhow!("{variable}: {}: {err}", path.display()))
        }
        if self.database_url.is_none()
            && let Some(path) = &self.database_url_file
        {
            self.database_url = Some(read(path, "DATABASE_URL_FILE")?);
        }
        if self.api_token.is_none()
            && let Some(path) = &self.api_token_file
        {
            self.api_token = Some(read(path, "API_TOKEN_FILE")?);
        }
        Ok(())
    }

    /// The database URL in effect (the SQLite default when none is set).
    pub fn database_url(&self) -> String {
        self.database_url.as_ref().map_or_else(
            || "sqlite://var/app.db?mode=rwc".to_owned(),
            |url| url.expose().to_owned(),
        )
    }
}

/// The Avro codec of new backups.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum BackupCodec {
    Null,
    Deflate,
    Snappy,
    Zstandard,
}

impl BackupCodec {
    /// The codec's name in the Avro specification (and in `avro.codec`).
    pub fn name(self) -> &'static str {
        match self {
            BackupCodec::Null => "null",
            BackupCodec::Deflate => "deflate",
            BackupCodec::Snappy => "snappy",
            BackupCodec::Zstandard => "zstandard",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    Text,
    Json,
}

/// A value that must never be printed: `Debug` shows `[redacted]`.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Secret(value.into())
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

impl std::str::FromStr for Secret {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if s.trim().is_empty() {
            Err("the value is empty".to_owned())
        } else {
            Ok(Secret(s.to_owned()))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn verify_cli() {
        Config::command().debug_assert();
    }

    #[test]
    fn bad_values_name_their_variable() {
        let err = Config::try_parse_from(["api", "--api-addr", "nowhere"]).unwrap_err();
        assert!(err.to_string().contains("API_ADDR"), "{err}");
        let err = Config::try_parse_from(["api", "--log-format", "xml"]).unwrap_err();
        assert!(err.to_string().contains("LOG_FORMAT"), "{err}");
        let err = Config::try_parse_from(["api", "--max-body-bytes", "12"]).unwrap_err();
        assert!(err.to_string().contains("MAX_BODY_BYTES"), "{err}");
        for (flag, variable) in [
            ("--header-timeout-secs", "HEADER_TIMEOUT_SECS"),
            ("--request-timeout-secs", "REQUEST_TIMEOUT_SECS"),
            ("--max-connections", "MAX_CONNECTIONS"),
            ("--http2-max-streams", "HTTP2_MAX_STREAMS"),
            ("--write-wait-secs", "WRITE_WAIT_SECS"),
            ("--backup-codec", "BACKUP_CODEC"),
        ] {
            for bad in ["0", "soon"] {
                let err = Config::try_parse_from(["api", flag, bad]).unwrap_err();
                assert!(err.to_string().contains(variable), "{flag} {bad}: {err}");
            }
        }
    }

    #[test]
    fn secrets_can_come_from_files_and_a_bad_file_names_its_variable() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("url"), "mysql://u:p@db/x\n").unwrap();
        std::fs::write(dir.path().join("token"), "  tok \n").unwrap();
        std::fs::write(dir.path().join("empty"), "\n").unwrap();
        let path = |name: &str| dir.path().join(name).display().to_string();
        let mut config = Config::try_parse_from([
            "api",
            "--database-url-file",
            &path("url"),
            "--api-token-file",
            &path("token"),
        ])
        .unwrap();
        config.read_secret_files().unwrap();
        assert_eq!(config.database_url(), "mysql://u:p@db/x");
        assert_eq!(config.api_token.unwrap().expose(), "tok");

        let mut config =
            Config::try_parse_from(["api", "--api-token-file", &path("empty")]).unwrap();
        assert!(
            config
                .read_secret_files()
                .unwrap_err()
                .to_string()
                .contains("API_TOKEN_FILE")
        );
        let mut config =
            Config::try_parse_from(["api", "--database-url-file", &path("nope")]).unwrap();
        assert!(
            config
                .read_secret_files()
                .unwrap_err()
                .to_string()
                .contains("DATABASE_URL_FILE")
        );
    }

    #[test]
    fn secrets_never_print() {
        let config = Config::try_parse_from([
            "api",
            "--database-url",
            "mysql://u:hunter2@db/x",
            "--api-token",
            "s3cret",
        ])
        .unwrap();
        let printed = format!("{config:?}");
        assert!(
            !printed.contains("hunter2") && !printed.contains("s3cret"),
            "{printed}"
        );
    }
}
