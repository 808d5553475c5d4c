//! No secret is ever printed. Each test sets recognisable secrets (a
//! database password, the API token) and reads every surface the service
//! writes to for them: `--help`, start-up errors, the log at `debug`, the
//! pages and answers (`/`, `/metrics`, the OpenAPI document, errors) and the
//! files it leaves in the shared folder.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;
use test_support::{Engine, TestDb, free_port, wait_ready};

const PASSWORD: &str = "pw-Zq81-never-printed";
const TOKEN: &str = "tok-Vx42-never-printed";

/// Fails naming the surface when `text` holds either secret.
fn assert_clean(surface: &str, text: &str) {
    for secret in [PASSWORD, TOKEN] {
        assert!(
            !text.contains(secret),
            "{surface} prints a secret ({secret}):\n{text}"
        );
    }
}

fn api() -> Command {
    let mut command = Command::new(crate::API_BIN);
    command.env_remove("DATABASE_URL").env_remove("API_TOKEN");
    command
}

/// What the command printed, both streams.
fn printed(command: &mut Command) -> String {
    let output = command.output().unwrap();
    String::from_utf8_lossy(&output.stdout).into_owned() + &String::from_utf8_lossy(&output.stderr)
}

/// Every file under `dir`, with its text, but the secrets folder (where the
/// generated token is kept on purpose).
fn files_under(dir: &Path) -> Vec<(String, String)> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            if path.file_name().is_some_and(|name| name != "secrets") {
                found.extend(files_under(&path));
            }
        } else {
            let bytes = std::fs::read(&path).unwrap();
            found.push((
                path.display().to_string(),
                String::from_utf8_lossy(&bytes).into_owned(),
            ));
        }
    }
    found
}

#[test]
fn help_and_start_up_errors_never_print_a_secret() {
    let url = format!("mysql://hiring:{PASSWORD}@127.0.0.1:1/hiring");
    let help = printed(
        api()
            .arg("--help")
            .env("DATABASE_URL", &url)
            .env("API_TOKEN", TOKEN),
    );
    assert!(help.contains("DATABASE_URL"), "{help}");
    assert_clean("api --help", &help);

    // A URL sqlx cannot parse, given as a flag and from the environment.
    let bad = format!("mysql://hiring:{PASSWORD}@[not-a-host/hiring");
    let shared = tempfile::tempdir().unwrap();
    for command in [
        api().args(["--database-url", &bad]),
        api().env("DATABASE_URL", &bad),
    ] {
        let out = printed(
            command
                .env("API_ADDR", "127.0.0.1:0")
                .env("SHARED_DIR", shared.path())
                .env("API_TOKEN", TOKEN)
                .stdin(Stdio::null()),
        );
        assert!(out.contains("DATABASE_URL"), "{out}");
        assert_clean("a start with a malformed DATABASE_URL", &out);
    }

    // A flag clap refuses, beside the secrets in the environment.
    let out = printed(
        api()
            .args(["--max-connections", "0"])
            .env("DATABASE_URL", &url)
            .env("API_TOKEN", TOKEN),
    );
    assert!(out.contains("MAX_CONNECTIONS"), "{out}");
    assert_clean("a usage error", &out);
}

/// Starts the binary with `url` and the token, logging everything, and
/// gives back its address, the process and its log's path.
fn start(
    url: &str,
    shared: &Path,
    data: &Path,
) -> (String, std::process::Child, std::path::PathBuf) {
    let port = free_port();
    let log = shared.join("../api.log");
    let child = test_support::api_command(crate::API_BIN, url, port, data, shared)
        .env("API_TOKEN", TOKEN)
        .env("RUST_LOG", "debug")
        .stdout(std::fs::File::create(shared.join("../api.out")).unwrap())
        .stderr(std::fs::File::create(&log).unwrap())
        .spawn()
        .unwrap();
    (format!("http://127.0.0.1:{port}"), child, log)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_waiting_service_never_prints_the_password_of_its_database() {
    // Nobody listens on port 1: the service waits for the database.
    let url = format!("mysql://hiring:{PASSWORD}@127.0.0.1:1/hiring");
    let root = tempfile::tempdir().unwrap();
    let (shared, data) = (root.path().join("shared"), root.path().join("data"));
    std::fs::create_dir_all(&shared).unwrap();
    std::fs::create_dir_all(&data).unwrap();
    let (base, mut child, log) = start(&url, &shared, &data);

    let http = reqwest::Client::new();
    let mut pages = String::new();
    for _ in 0..100 {
        if let Ok(answer) = http.get(format!("{base}/ready")).send().await {
            pages += &answer.text().await.unwrap();
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // Long enough for a few attempts to reach the database, each logged.
    tokio::time::sleep(Duration::from_secs(2)).await;
    for path in ["/", "/metrics", "/ready", "/health"] {
        pages += &http
            .get(format!("{base}{path}"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
    }
    child.kill().unwrap();
    child.wait().unwrap();

    let logged = std::fs::read_to_string(&log).unwrap();
    assert!(logged.contains("cannot be reached"), "{logged}");
    assert_clean("the log of a service waiting for its database", &logged);
    assert_clean("the pages of a service waiting for its database", &pages);
}

/// The text of what `url` answers to a GET.
async fn read(http: &reqwest::Client, url: &str) -> String {
    http.get(url).send().await.unwrap().text().await.unwrap()
}

/// A MariaDB user whose password is [`PASSWORD`], allowed into `db` only.
async fn user_with_the_password(db: &TestDb) -> String {
    let (server, name) = db.url.rsplit_once('/').unwrap();
    let user = format!("u{}", &name[2..14]);
    let pool = db.pool().await;
    for statement in [
        format!("CREATE USER '{user}'@'127.0.0.1' IDENTIFIED BY '{PASSWORD}'"),
        format!("GRANT ALL PRIVILEGES ON {name}.* TO '{user}'@'127.0.0.1'"),
    ] {
        sqlx::raw_sql(sqlx::AssertSqlSafe(statement))
            .execute(&pool)
            .await
            .unwrap();
    }
    pool.close().await;
    let host = server.rsplit_once('@').unwrap().1;
    format!("mysql://{user}:{PASSWORD}@{host}/{name}")
}

async fn drop_user(db: &TestDb, url: &str) {
    let user = url
        .trim_start_matches("mysql://")
        .split(':')
        .next()
        .unwrap();
    let pool = db.pool().await;
    sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
        "DROP USER IF EXISTS '{user}'@'127.0.0.1'"
    )))
    .execute(&pool)
    .await
    .unwrap();
    pool.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_working_service_never_prints_its_token_or_its_database_password() {
    let db = TestDb::create(Engine::MariaDb).await;
    let url = user_with_the_password(&db).await;
    let root = tempfile::tempdir().unwrap();
    let (shared, data) = (root.path().join("shared"), root.path().join("data"));
    std::fs::create_dir_all(&shared).unwrap();
    std::fs::create_dir_all(&data).unwrap();
    std::fs::write(data.join("departments.csv"), "1,Ops\n2,\n").unwrap();
    std::fs::write(data.join("jobs.csv"), "1,Dev\n").unwrap();
    std::fs::write(
        data.join("employees.csv"),
        "1,Ann,2021-05-05T05:05:05Z,1,1\n2,Bo,2021-13-05T05:05:05Z,1,1\n",
    )
    .unwrap();
    let (base, mut child, log) = start(&url, &shared, &data);
    let http = reqwest::Client::new();
    wait_ready(&http, &base, Duration::from_secs(60)).await;

    let auth = format!("Bearer {TOKEN}");
    let mut answers = String::new();
    let mut keep = |text: String| answers.push_str(&text);
    for path in [
        "/",
        "/metrics",
        "/ready",
        "/openapi.json",
        "/docs",
        "/api/v1/tables",
        "/api/v1/rejects",
        "/api/v1/reports/hires-by-quarter?year=2021&format=html",
        "/api/v1/nowhere",
    ] {
        keep(read(&http, &format!("{base}{path}")).await);
    }
    let post = |path: &str, token: Option<&str>| {
        let request = http.post(format!("{base}{path}"));
        match token {
            Some(token) => request.header("authorization", format!("Bearer {token}")),
            None => request,
        }
    };
    // Refused writes: no token, a wrong token, a token one letter short.
    for token in [None, Some("wrong"), Some(&TOKEN[1..])] {
        let answer = post("/api/v1/tables/jobs/backups", token)
            .send()
            .await
            .unwrap();
        assert!(matches!(answer.status().as_u16(), 401 | 403));
        keep(answer.text().await.unwrap());
    }
    let answer = post("/api/v1/tables/jobs/rows", None)
        .header("authorization", &auth)
        .header("content-type", "text/csv")
        .body("7,Tester\n8,\n")
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 200);
    keep(answer.text().await.unwrap());
    for table in ["departments", "jobs", "employees"] {
        let answer = post(&format!("/api/v1/tables/{table}/backups"), None)
            .header("authorization", &auth)
            .send()
            .await
            .unwrap();
        assert_eq!(answer.status(), 201);
        keep(answer.text().await.unwrap());
    }
    let answer = post("/api/v1/tables/jobs/restore", None)
        .header("authorization", &auth)
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 200);
    keep(answer.text().await.unwrap());
    keep(read(&http, &format!("{base}/")).await);
    keep(read(&http, &format!("{base}/metrics")).await);

    child.kill().unwrap();
    child.wait().unwrap();
    drop_user(&db, &url).await;

    assert_clean("the answers", &answers);
    let logged = std::fs::read_to_string(&log).unwrap()
        + &std::fs::read_to_string(shared.join("../api.out")).unwrap();
    assert!(
        logged.contains("DEBUG"),
        "the log is not at debug: {logged}"
    );
    assert_clean("the log at debug", &logged);
    let files = files_under(&shared);
    assert!(files.iter().any(|(path, _)| path.ends_with(".avro")));
    for (path, text) in files {
        assert_clean(&path, &text);
    }
}
