//! `GET /`, the page for people.

use test_support::engine_tests;
use test_support::{Engine, TOKEN, TestApp, chromium_dom, spawn_app, spawn_app_with_config};

/// A department row whose name would run a script if it were not escaped;
/// its id is not a number, so it is rejected and shown among the rejects.
const HOSTILE: &str = "<img src=x onerror=\"document.title='hacked'\">Ops";

async fn page(app: &TestApp, token: Option<&str>) -> (u16, String, String) {
    let request = app.http.get(app.url("/"));
    let request = match token {
        Some(token) => request.bearer_auth(token),
        None => request,
    };
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    let content_type = response.headers()["content-type"]
        .to_str()
        .unwrap()
        .to_owned();
    (status, content_type, response.text().await.unwrap())
}

/// The targets of the page's links, in order.
fn links(html: &str) -> Vec<String> {
    html.split("href=\"")
        .skip(1)
        .map(|rest| rest[..rest.find('"').unwrap()].replace("&amp;", "&"))
        .collect()
}

async fn with_a_reject_and_a_backup(engine: Engine) -> TestApp {
    let app = spawn_app(engine).await;
    app.seed_references().await;
    let csv = format!("x,\"{}\"\n", HOSTILE.replace('"', "\"\""));
    let (_, body) = app.post_csv("departments", &csv).await;
    assert_eq!(body["rejected"], 1, "{body}");
    app.backup("jobs").await.ok();
    app
}

engine_tests! {
    async fn the_home_page_shows_the_tables_backups_and_rejects_with_names_as_text(engine) {
        let app = with_a_reject_and_a_backup(engine).await;
        let backup = app.backups("jobs").await.ok().backups.remove(0);

        let (status, content_type, html) = page(&app, None).await;

        assert_eq!(status, 200);
        assert!(content_type.starts_with("text/html"), "{content_type}");
        let (departments, jobs, employees) = app.counts().await;
        for row in [("departments", departments), ("jobs", jobs), ("employees", employees)] {
            let cells = format!("<td>{}</td><td class=\"n\">{}</td>", row.0, row.1);
            assert!(html.contains(&cells), "no {cells} in {html}");
        }
        assert!(html.contains(&backup.name), "{html}");
        assert!(html.contains("invalid_integer"), "{html}");
        assert!(html.contains("&lt;img src=x onerror=&quot;&quot;document.title=&#39;hacked&#39;&quot;&quot;&gt;Ops"), "{html}");
        assert!(!html.contains("<img"), "{html}");
        // Every link resolves.
        let targets = links(&html);
        assert!(targets.iter().any(|t| t == "/docs") && targets.iter().any(|t| t == "/metrics"), "{targets:?}");
        assert!(targets.iter().filter(|t| t.starts_with("/api/v1/reports/")).count() == 6, "{targets:?}");
        for target in targets {
            let status = app.http.get(app.url(&target)).send().await.unwrap().status();
            assert_eq!(status, 200, "{target}");
        }
    }

    async fn the_home_page_names_the_version_the_engine_every_tables_rejects_and_the_loads_in_order(engine) {
        let app = test_support::spawn_app_with_data(engine, |dir| {
            std::fs::write(dir.join("departments.csv"), "1,Ops\n2,\n").unwrap();
            std::fs::write(dir.join("jobs.csv"), "1,Dev\n").unwrap();
            std::fs::write(dir.join("employees.csv"), "1,Ann,2021-05-05T05:05:05Z,1,1\nx,Bo,2021-05-05T05:05:05Z,1,1\n").unwrap();
        })
        .await;
        let (_, body) = app.post_csv("jobs", "2,\n3,\n").await;
        assert_eq!(body["rejected"], 2, "{body}");

        let (_, _, html) = page(&app, None).await;

        assert!(html.contains(&format!("version {}", env!("CARGO_PKG_VERSION"))), "{html}");
        assert!(html.contains("(commit "), "{html}");
        let engine_name = match engine {
            Engine::Sqlite => "SQLite 3.",
            Engine::MariaDb | Engine::Galera => "MariaDB 1",
        };
        assert!(html.contains(engine_name), "{html}");
        for total in ["departments</a> 1", "jobs</a> 2", "employees</a> 1"] {
            assert!(html.contains(total), "no {total} in {html}");
        }
        // The loads in the order they ran.
        let at = |name: &str| html.find(&format!("<td>{name}</td><td>{name}.csv</td>")).unwrap_or_else(|| panic!("no load of {name} in {html}"));
        assert!(at("departments") < at("jobs") && at("jobs") < at("employees"), "{html}");
        // A request id is shortened to 8 characters, whole in its tooltip.
        let rejects = app.get("/api/v1/rejects?source=api").await.1;
        let id = rejects["rejects"][0]["request_id"].as_str().unwrap().to_owned();
        assert!(id.len() > 8, "{id}");
        assert!(html.contains(&format!("<span title=\"{id}\">{}</span>", &id[..8])), "{html}");
        assert!(html.contains("client add-records"), "{html}");
        // A row that is not UTF-8 is shown as text and said to be so.
        let (_, body) = app.post_raw("jobs", "text/csv", b"9,Caf\xe9\n".to_vec()).await;
        assert_eq!(body["rejected"], 1, "{body}");
        let (_, _, html) = page(&app, None).await;
        assert!(html.contains("9,Caf\u{fffd}</code> <small>(not UTF-8"), "{html}");
        assert!(!html.contains("No historical data"), "{html}");
    }

    async fn the_home_page_says_where_it_looked_for_historical_files_it_did_not_find(engine) {
        let app = spawn_app(engine).await;
        let (_, _, html) = page(&app, None).await;
        let dir = app.data_dir.path().display().to_string();
        assert!(html.contains("No historical data was found at this start"), "{html}");
        assert!(html.contains(&format!("<code>{dir}</code>")), "{dir} not in {html}");

        let app = test_support::spawn_app_with_data(engine, |dir| {
            std::fs::write(dir.join("departments.csv"), "1,Ops\n").unwrap();
        })
        .await;
        let (_, _, html) = page(&app, None).await;
        assert!(html.contains("Not found at this start in"), "{html}");
        assert!(html.contains("jobs.csv, employees.csv"), "{html}");
    }
}

#[test]
fn a_service_started_without_historical_files_warns_where_it_looked() {
    let (data, shared) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let db = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}?mode=rwc", db.path().join("app.db").display());
    let port = test_support::free_port();
    let log = shared.path().join("stderr.log");
    let mut child =
        test_support::api_command(crate::API_BIN, &url, port, data.path(), shared.path())
            .env("RUST_LOG", "warn")
            .stderr(std::fs::File::create(&log).unwrap())
            .spawn()
            .unwrap();
    let mut logged = String::new();
    for _ in 0..200 {
        logged = std::fs::read_to_string(&log).unwrap();
        if logged.contains("no historical data found") {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    child.kill().unwrap();
    child.wait().unwrap();
    assert!(logged.contains("WARN"), "{logged}");
    assert!(logged.contains("no historical data found"), "{logged}");
    assert!(
        logged.contains(&data.path().display().to_string()),
        "{logged}"
    );
}

#[tokio::test]
async fn with_reads_needing_a_token_the_home_page_says_so_and_nothing_else() {
    let app = spawn_app_with_config(Engine::Sqlite, |config| config.reads_need_token = true).await;

    let (status, _, html) = page(&app, None).await;

    assert_eq!(status, 200);
    assert!(html.contains("needs a token"), "{html}");
    for hidden in ["Tables", "departments", "/metrics", "/docs", "backups"] {
        assert!(
            !html.contains(hidden),
            "{hidden} shown without the token: {html}"
        );
    }
    let (_, _, wrong) = page(&app, Some("wrong")).await;
    assert!(wrong.contains("needs a token") && !wrong.contains("Tables"));
    let (_, _, full) = page(&app, Some(TOKEN)).await;
    assert!(full.contains("<h2>Tables</h2>"), "{full}");
}

/// The page as headless Chromium renders it, offline: the hostile name is
/// text (the page's title stays), and there is nothing to fetch.
#[tokio::test]
async fn the_home_page_renders_in_headless_chromium_with_the_hostile_name_as_text() {
    let app = with_a_reject_and_a_backup(Engine::Sqlite).await;
    let url = app.url("/");

    let (dom, stderr) = tokio::task::spawn_blocking(move || chromium_dom(&url, 5_000))
        .await
        .unwrap();

    assert!(
        dom.contains("<title>Hiring data migration service</title>"),
        "stderr: {stderr}\n{dom}"
    );
    assert!(dom.contains("<h2>Latest rejects</h2>"), "{dom}");
    assert!(dom.contains("&lt;img src=x onerror="), "{dom}");
    assert!(!dom.contains("<img"), "{dom}");
}
