//! The README's commands, run as a reader runs them: every `sh` block and
//! every inline `cargo run` is either run here, against the real binaries
//! on a fresh start in a folder of its own, or named below with the test
//! that runs it. A line `# ...` under a command is what the command prints
//! (whole lines, in order; `…` stands for any text).

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// One command of a block, with the lines it promises to print.
#[derive(Debug)]
struct Shown {
    /// Its line in the README.
    line: usize,
    text: String,
    promised: Vec<String>,
}

/// The README's `sh` blocks, each with its line and its commands.
fn blocks(readme: &str) -> Vec<(usize, Vec<Shown>)> {
    let mut blocks = Vec::new();
    let mut current: Option<(usize, Vec<Shown>)> = None;
    let mut continued = false;
    for (index, raw) in readme.lines().enumerate() {
        let number = index + 1;
        let line = raw.trim();
        match &mut current {
            None if line == "```sh" => current = Some((number, Vec::new())),
            None => {}
            Some(_) if line == "```" => {
                blocks.push(current.take().expect("in a block"));
                continued = false;
            }
            Some((_, commands)) => {
                if let Some(promise) = line.strip_prefix("# ") {
                    // Before any command: a note, not a promise.
                    if let Some(last) = commands.last_mut() {
                        last.promised.push(promise.to_owned());
                    }
                } else if continued {
                    let last = commands.last_mut().expect("a command goes on");
                    last.text.push('\n');
                    last.text.push_str(line);
                } else if !line.is_empty() {
                    commands.push(Shown {
                        line: number,
                        text: line.to_owned(),
                        promised: Vec::new(),
                    });
                }
                continued = line.ends_with('\\');
            }
        }
    }
    blocks
}

/// Whether `line` is what `promise` says (`…` matching any text).
fn matches(promise: &str, line: &str) -> bool {
    let mut parts = promise.split('…');
    let first = parts.next().unwrap_or_default();
    let Some(mut rest) = line.strip_prefix(first) else {
        return false;
    };
    let parts: Vec<&str> = parts.collect();
    for (i, part) in parts.iter().enumerate() {
        if i + 1 == parts.len() {
            return rest.ends_with(part);
        }
        match rest.find(part) {
            Some(at) => rest = &rest[at + part.len()..],
            None => return false,
        }
    }
    rest.is_empty()
}

/// Fails unless every promised line is a line of `printed`, in order.
fn assert_promises(shown: &Shown, printed: &str) {
    let mut lines = printed.lines().map(str::trim_end);
    for promise in &shown.promised {
        assert!(
            lines.any(|line| matches(promise, line)),
            "README line {}: `{}` does not print `{promise}` (in this order); it printed:\n{printed}",
            shown.line,
            shown.text
        );
    }
}

/// Where the workspace's binaries are: beside the client's.
fn built(name: &str) -> PathBuf {
    let client = assert_cmd::cargo::cargo_bin("client");
    let path = if name == "generate_data" {
        client.with_file_name("examples").join(name)
    } else {
        client.with_file_name(name)
    };
    assert!(
        path.exists(),
        "{} is not built: run the workspace's tests (cargo test --workspace)",
        path.display()
    );
    path
}

/// A reader's folder: the checkout's `data/`, nothing else.
fn checkout() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let repo = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    std::fs::create_dir(dir.path().join("data")).unwrap();
    for file in ["departments.csv", "jobs.csv", "employees.csv"] {
        std::fs::copy(
            repo.join("data").join(file),
            dir.path().join("data").join(file),
        )
        .unwrap();
    }
    dir
}

/// `cargo run -p api` in `dir` with nothing set but the address (the
/// README's 8000 may be taken on a test machine): its output, once ready.
struct Service {
    child: std::process::Child,
    base: String,
    log: PathBuf,
}

impl Service {
    fn start(dir: &Path) -> Service {
        let port = test_support::free_port();
        let log = dir.join("api-output.log");
        let file = std::fs::File::create(&log).unwrap();
        let child = Command::new(built("api"))
            .current_dir(dir)
            .env_clear()
            .env("API_ADDR", format!("127.0.0.1:{port}"))
            .stdout(file.try_clone().unwrap())
            .stderr(file)
            .spawn()
            .unwrap();
        let service = Service {
            child,
            base: format!("http://127.0.0.1:{port}"),
            log,
        };
        let deadline = Instant::now() + Duration::from_secs(120);
        while Instant::now() < deadline {
            let ready = Command::new("curl")
                .args(["-sf", &format!("{}/ready", service.base)])
                .stdout(Stdio::null())
                .status()
                .is_ok_and(|status| status.success());
            if ready {
                return service;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        panic!("the API did not get ready: {}", service.output());
    }

    fn output(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

impl Drop for Service {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Runs README commands in `dir` with bash, in one shell as a reader would
/// (a variable set by one is seen by the next), but with
/// `cargo run -p client --` as the built client and the README's address as
/// the service's: what each printed, both streams.
fn run(commands: &[&Shown], dir: &Path, base: &str) -> Vec<String> {
    const MARK: &str = "@@ next README command @@";
    let client = built("client");
    let mut script = String::from("exec 2>&1\n");
    for shown in commands {
        let text = shown
            .text
            .replace("cargo run -p client --", client.to_str().unwrap())
            .replace("http://127.0.0.1:8000", base);
        script += &format!("echo '{MARK}'\n{text}\n");
    }
    let output = Command::new("bash")
        .args(["-euo", "pipefail", "-c", &script])
        .current_dir(dir)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("API_URL", base)
        .output()
        .unwrap();
    let printed = String::from_utf8_lossy(&output.stdout).into_owned();
    let outputs: Vec<String> = printed
        .split(&format!("{MARK}\n"))
        .skip(1)
        .map(str::to_owned)
        .collect();
    assert!(
        output.status.success(),
        "README line {}: `{}` failed: {}",
        commands[outputs.len().max(1) - 1].line,
        commands[outputs.len().max(1) - 1].text,
        outputs.last().map_or("", String::as_str)
    );
    assert_eq!(outputs.len(), commands.len(), "{printed}");
    outputs
}

/// What is not run here, and the test or script that runs it.
const RUN_ELSEWHERE: [(&str, &str); 8] = [
    ("scripts/test.sh", ".ci/run"),
    // Before "./up.sh": the first prefix that fits names the test.
    ("./up.sh --clean --cluster", "scripts/cluster-stack-test.sh"),
    ("./up.sh --cluster", "scripts/cluster-stack-test.sh"),
    ("./up.sh", "scripts/stack-test.sh"),
    (
        "docker compose kill galera1",
        "scripts/cluster-stack-test.sh",
    ),
    (
        "docker compose up --detach --wait",
        "scripts/cluster-stack-test.sh",
    ),
    ("docker compose", "scripts/stack-test.sh"),
    (
        "cargo run -p api --example generate_data",
        "this file: generated_data_is_data",
    ),
];

#[test]
fn the_readme_commands_print_what_the_readme_says() {
    let readme =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("../README.md"))
            .unwrap();
    let home = checkout();
    let dir = home.path();

    // "Two commands": the service first.
    let service = Service::start(dir);
    let started = format!("Swagger UI at {}/docs", service.base);
    assert!(service.output().contains(&started), "{}", service.output());
    let mut ran = 0;
    for (_, commands) in blocks(&readme) {
        let mut here = Vec::new();
        for shown in &commands {
            if shown.text == "cargo run -p api" {
                continue;
            }
            let elsewhere = RUN_ELSEWHERE
                .iter()
                .find(|(prefix, _)| shown.text.starts_with(prefix));
            match elsewhere {
                Some((_, by)) => {
                    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join(by);
                    assert!(
                        by.starts_with("this file") || script.exists(),
                        "README line {}: {by} is gone",
                        shown.line
                    );
                }
                None => here.push(shown),
            }
        }
        if here.is_empty() {
            continue;
        }
        if here
            .iter()
            .any(|shown| shown.text.contains("new_hires.csv"))
        {
            // The reader's own file, for the Client section's examples.
            std::fs::write(
                dir.join("new_hires.csv"),
                "5001,Ann Lee,2021-03-01T09:00:00Z,1,1\n5002,,2021-03-01T09:00:00Z,1,1\n",
            )
            .unwrap();
        }
        let outputs = run(&here, dir, &service.base);
        for (shown, printed) in here.iter().zip(&outputs) {
            assert_promises(shown, printed);
            if shown.text.ends_with("rejects --table jobs --format csv") {
                // Each reject once, and nothing else.
                assert_eq!(printed, "101,\n201,\n", "README line {}", shown.line);
            }
        }
        ran += here.len();
    }
    assert!(ran >= 15, "only {ran} commands ran: is the README parsed?");

    // Inline commands of the prose.
    for inline in readme.split('`').skip(1).step_by(2) {
        if inline.starts_with("cargo run -p client -- ") && !inline.contains('<') {
            let shown = Shown {
                line: 0,
                text: inline.to_owned(),
                promised: Vec::new(),
            };
            let printed = run(&[&shown], dir, &service.base);
            assert!(printed[0].len() > 100, "{inline}: {}", printed[0]);
        }
    }
    // Step 1: the page.
    let page = Command::new("curl")
        .args(["-sf", &format!("{}/", service.base)])
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&page.stdout).contains("<h2>Tables</h2>"));
}

#[test]
fn generated_data_is_data() {
    // `cargo run -p api --example generate_data -- data` makes data/ again,
    // byte for byte.
    let dir = tempfile::tempdir().unwrap();
    let status = Command::new(built("generate_data"))
        .arg(dir.path())
        .stdout(Stdio::null())
        .status()
        .unwrap();
    assert!(status.success());
    let repo = Path::new(env!("CARGO_MANIFEST_DIR")).join("../data");
    for file in ["departments.csv", "jobs.csv", "employees.csv"] {
        assert!(
            std::fs::read(dir.path().join(file)).unwrap()
                == std::fs::read(repo.join(file)).unwrap(),
            "{file} differs from data/{file}"
        );
    }
}

#[test]
fn promised_lines_match_with_ellipses() {
    assert!(matches("a …z", "a xyz"));
    assert!(matches("jobs-….avro: 42", "jobs-2026.avro: 42"));
    assert!(!matches("jobs-….avro: 42", "jobs-2026.avro: 41"));
    assert!(matches("exact", "exact"));
    assert!(!matches("exact", "exactly"));
    assert!(matches("x…y…z", "x1y2z"));
    assert!(!matches("x…y…z", "x1z2y"));
}
