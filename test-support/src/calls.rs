//! The calls tests make: raw ones (status and JSON as sent) for tests
//! about the wire format, typed ones ([`Answer`]) for the rest.

use crate::{TOKEN, TestApp, into_json};
use serde::de::DeserializeOwned;
use serde_json::Value;
use std::fmt::Debug;
use vocab::{
    BackupInfo, BackupList, ErrorBody, ErrorCode, IngestResult, MAX_PAGE_ROWS, Record, RejectPage,
    RejectRecord, RestoreResult, RowPage, TableList,
};

/// What a call answered: the typed body on success, the error body
/// otherwise. Tests about the wire format itself use the raw calls.
#[derive(Debug)]
pub struct Answer<T> {
    pub status: u16,
    pub result: Result<T, ErrorBody>,
}

impl<T: Debug> Answer<T> {
    /// The body of a success; panics with the error otherwise.
    #[track_caller]
    pub fn ok(self) -> T {
        match self.result {
            Ok(body) => body,
            Err(error) => panic!("expected a success, got {}: {error:?}", self.status),
        }
    }

    /// The status and code of a failure; panics on a success.
    #[track_caller]
    pub fn err(self) -> (u16, ErrorCode) {
        match self.result {
            Ok(body) => panic!("expected a failure, got {}: {body:?}", self.status),
            Err(error) => (self.status, error.code),
        }
    }
}

async fn answer<T: DeserializeOwned>(response: reqwest::Response) -> Answer<T> {
    let status = response.status().as_u16();
    let text = response.text().await.unwrap();
    let result = if (200..300).contains(&status) {
        Ok(serde_json::from_str(&text)
            .unwrap_or_else(|err| panic!("a {status} answer of another shape ({err}): {text}")))
    } else {
        Err(serde_json::from_str(&text)
            .unwrap_or_else(|err| panic!("a {status} error of another shape ({err}): {text}")))
    };
    Answer { status, result }
}

impl TestApp {
    /// A POST with the write token.
    fn post(&self, path: &str) -> reqwest::RequestBuilder {
        self.http.post(self.url(path)).bearer_auth(TOKEN)
    }

    /// A POST of `body` to `table`'s rows, as `content_type`.
    fn post_rows(&self, table: &str, content_type: &str, body: Vec<u8>) -> reqwest::RequestBuilder {
        self.post(&format!("/api/v1/tables/{table}/rows"))
            .header("content-type", content_type)
            .body(body)
    }

    /// A POST to `table`'s restore, with `body` as JSON or no body.
    fn post_restore(&self, table: &str, body: Option<Value>) -> reqwest::RequestBuilder {
        let request = self.post(&format!("/api/v1/tables/{table}/restore"));
        match body {
            Some(body) => request.json(&body),
            None => request,
        }
    }

    // Raw calls: status and JSON (or text) as sent.

    pub async fn get(&self, path: &str) -> (u16, Value) {
        into_json(send(self.http.get(self.url(path))).await).await
    }

    pub async fn post_json(&self, table: &str, body: &Value) -> (u16, Value) {
        self.post_raw(table, "application/json", body.to_string().into_bytes())
            .await
    }

    pub async fn post_csv(&self, table: &str, body: &str) -> (u16, Value) {
        self.post_raw(table, "text/csv", body.as_bytes().to_vec())
            .await
    }

    pub async fn post_raw(&self, table: &str, content_type: &str, body: Vec<u8>) -> (u16, Value) {
        into_json(send(self.post_rows(table, content_type, body)).await).await
    }

    /// A POST to `path` with the write token, these headers and this body
    /// as it is: for tests of what the edge reads and refuses.
    pub async fn post_with(
        &self,
        path: &str,
        headers: &[(&str, &str)],
        body: impl Into<reqwest::Body>,
    ) -> (u16, Value) {
        let request = headers
            .iter()
            .fold(self.post(path), |request, (name, value)| {
                request.header(*name, *value)
            });
        into_json(send(request.body(body)).await).await
    }

    /// `POST /restore` with `body` as JSON, or with no body.
    pub async fn restore_raw(&self, table: &str, body: Option<Value>) -> (u16, Value) {
        into_json(send(self.post_restore(table, body)).await).await
    }

    // Typed calls.

    async fn typed_get<T: DeserializeOwned>(&self, path: &str) -> Answer<T> {
        answer(send(self.http.get(self.url(path))).await).await
    }

    /// Stores CSV rows (no header) in `table`.
    pub async fn ingest_csv(&self, table: &str, csv: &str) -> Answer<IngestResult> {
        let body = csv.as_bytes().to_vec();
        answer(send(self.post_rows(table, "text/csv", body)).await).await
    }

    /// Stores JSON rows in `table`.
    pub async fn ingest_json(&self, table: &str, rows: &Value) -> Answer<IngestResult> {
        let body = rows.to_string().into_bytes();
        answer(send(self.post_rows(table, "application/json", body)).await).await
    }

    pub async fn tables(&self) -> Answer<TableList> {
        self.typed_get("/api/v1/tables").await
    }

    pub async fn row(&self, table: &str, id: i64) -> Answer<Record> {
        self.typed_get(&format!("/api/v1/tables/{table}/rows/{id}"))
            .await
    }

    pub async fn page(&self, table: &str, after_id: i64, limit: u32) -> Answer<RowPage> {
        let path = format!("/api/v1/tables/{table}/rows?after_id={after_id}&limit={limit}");
        self.typed_get(&path).await
    }

    /// Every row of a table, through the paged read endpoint.
    pub async fn all_rows(&self, table: &str) -> Vec<Record> {
        let mut rows = Vec::new();
        let mut after = 0;
        loop {
            let page = self.page(table, after, MAX_PAGE_ROWS).await.ok();
            rows.extend(page.rows);
            match page.next_after_id {
                Some(next) => after = i64::from(next),
                None => return rows,
            }
        }
    }

    pub async fn backup(&self, table: &str) -> Answer<BackupInfo> {
        answer(send(self.post(&format!("/api/v1/tables/{table}/backups"))).await).await
    }

    pub async fn backups(&self, table: &str) -> Answer<BackupList> {
        self.typed_get(&format!("/api/v1/tables/{table}/backups"))
            .await
    }

    /// Restores the named backup, or the newest when `name` is `None`.
    pub async fn restore(&self, table: &str, name: Option<&str>) -> Answer<RestoreResult> {
        let body = name.map(|name| serde_json::json!({ "backup": name }));
        answer(send(self.post_restore(table, body)).await).await
    }

    /// Row counts per table (departments, jobs, employees).
    pub async fn counts(&self) -> (i64, i64, i64) {
        let tables = self.tables().await.ok().tables;
        let count = |name: &str| {
            tables
                .iter()
                .find(|t| t.name == name)
                .map(|t| t.rows)
                .unwrap_or_else(|| panic!("no {name} in {tables:?}"))
        };
        (count("departments"), count("jobs"), count("employees"))
    }

    pub async fn rejects_page(&self, query: &str) -> Answer<RejectPage> {
        self.typed_get(&format!("/api/v1/rejects?{query}")).await
    }

    /// Every recorded reject, oldest first, through the paged endpoint.
    pub async fn rejects(&self) -> Vec<RejectRecord> {
        let mut rejects = Vec::new();
        let mut after = 0;
        loop {
            let page = self
                .rejects_page(&format!("after_id={after}&limit={MAX_PAGE_ROWS}"))
                .await
                .ok();
            rejects.extend(page.rejects);
            match page.next_after_id {
                Some(next) => after = next,
                None => return rejects,
            }
        }
    }

    /// Seeds departments 1..=3 and jobs 1..=3 through the API.
    pub async fn seed_references(&self) {
        let departments = self
            .ingest_csv("departments", "1,Sales\n2,Ops\n3,R&D\n")
            .await;
        assert_eq!(departments.ok().inserted, 3);
        let jobs = self
            .ingest_csv("jobs", "1,Dev\n2,Manager\n3,Analyst\n")
            .await;
        assert_eq!(jobs.ok().inserted, 3);
    }
}

async fn send(request: reqwest::RequestBuilder) -> reqwest::Response {
    request.send().await.expect("the test server answers")
}
