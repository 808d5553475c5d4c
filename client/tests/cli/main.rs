//! End-to-end: the real `client` binary against the real API on port 0
//! (the workspace's test harness, `test-support`).

mod edges;
mod failures;
mod formats;
mod readme;
mod records;
mod rejects;
mod reports_and_backups;

use assert_cmd::Command;
use std::path::Path;
use test_support::{BlockingApp, Engine, TOKEN};

/// The API for one test, and the client pointed at it.
struct Cli(BlockingApp);

impl Cli {
    /// The API on a fresh database of `engine`, after `write_data` has
    /// filled its data folder.
    fn start(engine: Engine, write_data: impl FnOnce(&Path)) -> Cli {
        Cli(BlockingApp::start(engine, write_data, |config| {
            config.max_body_bytes = 8 * 1024 * 1024;
        }))
    }

    /// The API on SQLite, listening on `port`.
    fn start_on(port: u16, write_data: impl FnOnce(&Path)) -> Cli {
        Cli(BlockingApp::start(
            Engine::Sqlite,
            write_data,
            move |config| {
                config.max_body_bytes = 8 * 1024 * 1024;
                config.api_addr = format!("127.0.0.1:{port}").parse().unwrap();
            },
        ))
    }

    fn shared_dir(&self) -> &Path {
        self.0.shared_dir()
    }

    /// The `client` binary with only the API's address, token and shared
    /// folder in its environment.
    fn client(&self) -> Command {
        let mut command = client();
        command
            .env("API_URL", self.0.url())
            .env("API_TOKEN", TOKEN)
            .env("SHARED_DIR", self.shared_dir());
        command
    }

    /// What the API itself answers at `path`, for comparison.
    fn api_json(&self, path: &str) -> serde_json::Value {
        self.0.block_on(|app| async move { app.get(path).await.1 })
    }
}

/// The `client` binary with an empty environment.
fn client() -> Command {
    let mut command = Command::cargo_bin("client").unwrap();
    command.env_clear();
    command
}

/// Departments 1..=3 and jobs 1..=2 as historical files.
fn references(dir: &Path) {
    std::fs::write(dir.join("departments.csv"), "1,Sales\n2,Ops\n3,R&D\n").unwrap();
    std::fs::write(dir.join("jobs.csv"), "1,Dev\n2,Manager\n").unwrap();
}

#[test]
fn version_names_the_package_and_the_commit_built() {
    let output = client().arg("--version").output().unwrap();
    assert!(output.status.success());
    let version = String::from_utf8(output.stdout).unwrap();
    assert!(
        version.starts_with(&format!("client {}", env!("CARGO_PKG_VERSION"))),
        "{version}"
    );
    // Tests run from a git checkout.
    assert!(version.contains("(commit "), "{version}");
}

#[test]
fn completions_are_printed_for_bash_zsh_and_fish() {
    for shell in ["bash", "zsh", "fish"] {
        let output = client().args(["completions", shell]).output().unwrap();
        assert!(output.status.success(), "{shell}");
        let script = String::from_utf8(output.stdout).unwrap();
        for word in ["add-records", "restore", "req1", "format"] {
            assert!(script.contains(word), "{shell} lacks {word}");
        }
    }
    let unknown = client().args(["completions", "cmd"]).output().unwrap();
    assert_eq!(unknown.status.code(), Some(2));
}

#[test]
fn the_man_page_describes_every_subcommand() {
    let output = client().arg("man").output().unwrap();
    assert!(output.status.success());
    let page = String::from_utf8(output.stdout).unwrap();
    assert!(page.contains(".TH client 1"), "{page}");
    for command in [
        "add\\-records",
        "backup",
        "restore",
        "req1",
        "req2",
        "rejects",
        "completions",
    ] {
        assert!(page.contains(command), "the man page lacks {command}");
    }
}

#[test]
fn every_subcommand_shows_examples_in_its_help() {
    for command in [
        "add-records",
        "backup",
        "backups",
        "restore",
        "req1",
        "req2",
        "rejects",
        "get",
        "tables",
        "health",
        "completions",
        "man",
    ] {
        let output = client().args([command, "--help"]).output().unwrap();
        let help = String::from_utf8(output.stdout).unwrap();
        assert!(
            help.contains("Example"),
            "{command} --help has no example:\n{help}"
        );
        assert!(
            help.contains(&format!("client {command}")),
            "{command}: {help}"
        );
    }
}

#[test]
fn no_color_turns_colour_off_even_when_forced() {
    // Help on stdout; a usage error (restore without a table) on stderr.
    let printed = |args: &[&str], env: &[(&str, &str)]| {
        let mut command = client();
        let output = command
            .args(args)
            .envs(env.iter().copied())
            .output()
            .unwrap();
        String::from_utf8(output.stdout).unwrap() + &String::from_utf8(output.stderr).unwrap()
    };
    for args in [&["--help"][..], &["restore"][..]] {
        assert!(
            printed(args, &[("CLICOLOR_FORCE", "1")]).contains('\x1b'),
            "{args:?}"
        );
        let forced_off = printed(args, &[("CLICOLOR_FORCE", "1"), ("NO_COLOR", "1")]);
        assert!(!forced_off.contains('\x1b'), "{args:?}: {forced_off}");
    }
}

#[test]
fn help_text_is_stable() {
    let output = client().arg("--help").output().unwrap();
    insta::assert_snapshot!("help", String::from_utf8(output.stdout).unwrap());
}
