//! `GET /`: the page a person sees on opening the service in a browser.
//! Server-rendered, no script, nothing fetched from elsewhere: the tables
//! and their row counts, the historical loads, the newest backups, the
//! latest rejects with their reasons, and links to the reports, the API's
//! documentation and the metrics. Every stored text is escaped.

use super::{ApiTags, AppState};
use crate::backup;
use crate::db::{self, LoadOverview};
use crate::domain::Table;
use crate::http::auth::Authorized;
use crate::reports::escape;
use crate::telemetry;
use poem::Request;
use poem_openapi::payload::Html;
use poem_openapi::{ApiResponse, OpenApi};
use std::fmt::Write as _;
use std::sync::Arc;
use vocab::{BackupInfo, RejectRecord, RejectSource};

/// Backups shown per table, loads and rejects shown in all.
const BACKUPS_PER_TABLE: usize = 3;
const LOADS: u32 = 6;
const REJECTS: u32 = 10;

pub struct HomeApi {
    pub state: Arc<AppState>,
}

#[derive(ApiResponse)]
enum HomePage {
    /// The page (with `READS_NEED_TOKEN` and no token: only a line saying
    /// that a token is needed).
    #[oai(status = 200)]
    Ok(Html<String>),
}

#[OpenApi(tag = "ApiTags::Health")]
impl HomeApi {
    /// A page for people: the tables, the historical loads, the newest
    /// backups and rejects, and links to the reports and the API's
    /// documentation.
    #[oai(path = "/", method = "get", operation_id = "home")]
    async fn home(&self, request: &Request) -> HomePage {
        if self.state.reads_need_token && request.data::<Authorized>().is_none() {
            return HomePage::Ok(Html(page(TOKEN_NEEDED)));
        }
        let body = match Overview::read(&self.state).await {
            Ok(overview) => overview.render(&self.state),
            Err(err) => {
                tracing::warn!(error = %format!("{err:#}"), "the home page could not read the database");
                format!(
                    "<p class=\"warn\">The database cannot be read yet ({}).</p>{}",
                    escape(self.state.readiness.status()),
                    links()
                )
            }
        };
        HomePage::Ok(Html(page(&body)))
    }
}

const TOKEN_NEEDED: &str = "<p>This service needs a token to be read (<code>READS_NEED_TOKEN</code>): \
     send it as <code>Authorization: Bearer &lt;token&gt;</code>.</p>";

/// What the page shows, read from the database and the backups folder.
struct Overview {
    /// The engine and its version, and how the service uses it.
    engine: (String, &'static str),
    tables: Vec<(Table, i64)>,
    loads: Vec<LoadOverview>,
    backups: Vec<(Table, Vec<BackupInfo>)>,
    /// Every table's total of rejects.
    reject_counts: Vec<(Table, i64)>,
    rejects: Vec<RejectRecord>,
}

impl Overview {
    async fn read(state: &AppState) -> anyhow::Result<Overview> {
        let mut conn = state.db.acquire().await?;
        let engine = match state.engine.get() {
            Some(engine) => engine.clone(),
            None => {
                let engine = db::Dialect::describe(&mut conn).await?;
                state.engine.get_or_init(|| engine.clone());
                engine
            }
        };
        let tables = db::table_counts(&mut conn).await?;
        let loads = db::latest_loads(&mut conn, LOADS).await?;
        let reject_counts = db::reject_counts(&mut conn).await?;
        let rejects = db::latest_rejects(&mut conn, REJECTS).await?;
        drop(conn);
        let dir = state.backups_dir.clone();
        let backups = telemetry::spawn_blocking(move || {
            Table::ALL
                .into_iter()
                .map(|table| {
                    let mut newest = backup::list_backups(&dir, table)?;
                    newest.truncate(BACKUPS_PER_TABLE);
                    Ok((table, newest))
                })
                .collect::<std::io::Result<Vec<_>>>()
        })
        .await??;
        Ok(Overview {
            engine,
            tables,
            loads,
            backups,
            reject_counts,
            rejects,
        })
    }

    fn render(&self, state: &AppState) -> String {
        let mut html = String::new();
        let status = if state.readiness.is_ready() {
            "ready".to_owned()
        } else {
            format!("not ready yet: {}", state.readiness.status())
        };
        let _ = write!(
            html,
            "<p>Status: <strong>{}</strong> · version {} · {} ({})</p>",
            escape(&status),
            escape(crate::config::VERSION),
            escape(&self.engine.0),
            self.engine.1,
        );
        html.push_str(&historical_note(state));
        html.push_str(&send_data());

        html.push_str("<h2>Tables</h2><table><thead><tr><th>Table</th><th>Rows</th><th>Read</th></tr></thead><tbody>");
        for (table, rows) in &self.tables {
            let _ = write!(
                html,
                "<tr><td>{table}</td><td class=\"n\">{rows}</td>\
                 <td><a href=\"/api/v1/tables/{table}/rows\">rows (JSON)</a></td></tr>"
            );
        }
        html.push_str("</tbody></table>");

        html.push_str("<h2>Historical loads</h2>");
        if self.loads.is_empty() {
            html.push_str("<p>No historical file has been loaded.</p>");
        } else {
            html.push_str(
                "<table><thead><tr><th>Table</th><th>File</th><th>Rows read</th><th>Inserted</th>\
                 <th>Already stored</th><th>Rejected</th><th>Started</th><th>State</th></tr></thead><tbody>",
            );
            for load in &self.loads {
                let state = match &load.completed_at {
                    Some(at) => format!("complete at {}", escape(at)),
                    None => "in progress, or cut short (resumes at the next start)".to_owned(),
                };
                let _ = write!(
                    html,
                    "<tr><td>{}</td><td>{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td>\
                     <td class=\"n\">{}</td><td class=\"n\">{}</td><td>{}</td><td>{state}</td></tr>",
                    escape(&load.table_name),
                    escape(&load.file_name),
                    load.rows_read,
                    load.inserted,
                    load.already_stored,
                    load.rejected,
                    escape(&load.started_at),
                );
            }
            html.push_str("</tbody></table>");
        }

        let _ = write!(
            html,
            "<h2>Newest backups</h2><p>At most {BACKUPS_PER_TABLE} per table; all of a \
             table's: {}.</p>",
            Table::ALL
                .map(|table| format!("<a href=\"/api/v1/tables/{table}/backups\">{table}</a>"))
                .join(", ")
        );
        html.push_str(
            "<table><thead><tr><th>Table</th><th>Backup</th><th>Rows</th><th>Bytes</th>\
             <th>Codec</th><th>Taken</th></tr></thead><tbody>",
        );
        for (table, backups) in &self.backups {
            if backups.is_empty() {
                let _ = write!(
                    html,
                    "<tr><td>{table}</td><td colspan=\"5\">none yet</td></tr>"
                );
            }
            for backup in backups {
                let _ = write!(
                    html,
                    "<tr><td>{table}</td><td>{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td>\
                     <td>{}</td><td>{}</td></tr>",
                    escape(&backup.name),
                    backup.rows,
                    backup.bytes,
                    escape(&backup.codec),
                    escape(&backup.created_at),
                );
            }
        }
        html.push_str("</tbody></table>");

        let totals = self
            .reject_counts
            .iter()
            .map(|(table, count)| {
                format!("<a href=\"/api/v1/rejects?table={table}\">{table}</a> {count}")
            })
            .collect::<Vec<_>>()
            .join(", ");
        let _ = write!(
            html,
            "<h2>Latest rejects</h2><p>Rejected rows in all: {totals}. The newest {REJECTS} \
             are below; <a href=\"/api/v1/rejects\">all of them (JSON)</a>, or \
             <code>client rejects --format csv</code> for the rows as received, to fix and \
             send again.</p>"
        );
        if self.rejects.is_empty() {
            html.push_str("<p>No row has been rejected.</p>");
        } else {
            html.push_str(
                "<table><thead><tr><th>When</th><th>Table</th><th>From</th><th>Reason</th>\
                 <th>Row as received</th></tr></thead><tbody>",
            );
            for reject in &self.rejects {
                let from = match reject.source {
                    RejectSource::File => format!(
                        "{}, line {}",
                        escape(reject.file_name.as_deref().unwrap_or("a file")),
                        reject.line.unwrap_or_default()
                    ),
                    RejectSource::Api => {
                        let id = reject.request_id.as_deref().unwrap_or("?");
                        format!(
                            "request <span title=\"{}\">{}</span>, row {}",
                            escape(id),
                            escape(short_request_id(id)),
                            reject.row.unwrap_or_default()
                        )
                    }
                };
                let _ = write!(
                    html,
                    "<tr><td>{}</td><td>{}</td><td>{}</td><td><code>{}</code> {}</td>\
                     <td><code>{}</code>{}</td></tr>",
                    escape(&reject.created_at),
                    escape(&reject.table),
                    from,
                    reject.code.as_str(),
                    escape(&reject.message),
                    escape(&reject.raw),
                    if reject.raw_base64.is_some() {
                        format!(
                            " <small>(not UTF-8: shown with &#xfffd;; the {} bytes as recorded: \
                             <code>client rejects --format csv</code>)</small>",
                            reject.raw_bytes().len()
                        )
                    } else {
                        String::new()
                    },
                );
            }
            html.push_str("</tbody></table>");
        }
        html.push_str(&links());
        html
    }
}

/// How to send rows, for a person who has just opened the page.
fn send_data() -> String {
    let most = vocab::MAX_BATCH_ROWS;
    format!(
        "<p>Send rows with the client, <code>client add-records employees new_hires.csv</code> \
         (in batches of {most}, rejects written beside the file), or with \
         <code>POST /api/v1/tables/{{table}}/rows</code>: a JSON array or headerless CSV of 1 to \
         {most} rows, with <code>Authorization: Bearer &lt;token&gt;</code> (see \
         <a href=\"/docs\">Swagger UI</a>).</p>"
    )
}

/// What the historical load did not find at this start, when a file was
/// missing: where it looked.
fn historical_note(state: &AppState) -> String {
    let report = state
        .historical
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    let Some(report) = report.as_ref().filter(|report| !report.missing.is_empty()) else {
        return String::new();
    };
    let dir = escape(&report.data_dir.display().to_string());
    if report.loads.is_empty() {
        format!(
            "<p class=\"warn\">No historical data was found at this start: none of \
             departments.csv, jobs.csv, employees.csv is in <code>{dir}</code> (<code>DATA_DIR</code>). \
             Put the files there and restart, or send the rows through the API.</p>"
        )
    } else {
        let missing = report
            .missing
            .iter()
            .map(|table| format!("{table}.csv"))
            .collect::<Vec<_>>()
            .join(", ");
        format!(
            "<p class=\"warn\">Not found at this start in <code>{dir}</code> \
             (<code>DATA_DIR</code>): {missing}.</p>"
        )
    }
}

/// The first part of a request id, enough to tell requests apart on the
/// page; the whole id is its tooltip.
fn short_request_id(id: &str) -> &str {
    id.char_indices().nth(8).map_or(id, |(end, _)| &id[..end])
}

/// The reports of the default year and the service's own pages.
fn links() -> String {
    let year = super::reports::default_year();
    let mut html = String::from("<h2>Reports</h2><ul>");
    for (path, title) in [
        (
            "hires-by-quarter",
            "Hires per department and job by quarter (req1)",
        ),
        (
            "departments-above-mean",
            "Departments that hired more than the mean (req2)",
        ),
    ] {
        let url = |format: &str| format!("/api/v1/reports/{path}?year={year}&amp;format={format}");
        let _ = write!(
            html,
            "<li>{title}, {year}: <a href=\"{}\">chart</a> · <a href=\"{}\">CSV</a> · \
             <a href=\"{}\">JSON</a></li>",
            url("html"),
            url("csv"),
            url("json"),
        );
    }
    html.push_str(
        "</ul><h2>The API</h2><ul>\
         <li><a href=\"/docs\">Swagger UI</a>: every operation, to read and to try</li>\
         <li><a href=\"/openapi.json\">OpenAPI document</a></li>\
         <li><a href=\"/metrics\">Metrics</a> (Prometheus)</li>\
         <li><a href=\"/health\">Liveness</a> · <a href=\"/ready\">readiness</a></li></ul>",
    );
    html
}

fn page(body: &str) -> String {
    format!(
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>Hiring data migration service</title><style>\
         body{{font-family:system-ui,sans-serif;margin:2rem auto;max-width:72rem;padding:0 1rem;color:#222}}\
         table{{border-collapse:collapse;margin:.5rem 0 1rem}}\
         th,td{{border:1px solid #ccc;padding:.25rem .5rem;text-align:left;vertical-align:top}}\
         td.n{{text-align:right;font-variant-numeric:tabular-nums}}\
         code{{white-space:pre-wrap;word-break:break-all}}.warn{{color:#a40}}\
         </style></head><body><h1>Hiring data migration service</h1>{body}</body></html>"
    )
}
