//! The HTTP side: one client, errors a person can act on.

use anyhow::{Context, bail};
use serde_json::Value;
use std::path::PathBuf;
use std::time::Duration;

pub struct Api {
    http: reqwest::Client,
    base: String,
    token: Option<String>,
    token_hint: String,
}

/// How a request failed: worth retrying or not.
#[derive(Debug)]
pub enum Failure {
    /// The API could not be reached or timed out; the request may be retried.
    Transient(String),
    /// The API answered with an error.
    Refused {
        status: u16,
        code: String,
        message: String,
    },
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Failure::Transient(message) => f.write_str(message),
            Failure::Refused {
                status,
                code,
                message,
            } => {
                write!(
                    f,
                    "the API refused the request ({status} {code}): {message}"
                )
            }
        }
    }
}

impl std::error::Error for Failure {}

impl Api {
    pub fn new(
        base: &str,
        token: Option<String>,
        shared_dir: &std::path::Path,
    ) -> anyhow::Result<Api> {
        let token_file: PathBuf = shared_dir.join("secrets").join("api-token");
        let token = token.or_else(|| {
            std::fs::read_to_string(&token_file)
                .ok()
                .map(|t| t.trim().to_owned())
                .filter(|t| !t.is_empty())
        });
        let http = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(5))
            .timeout(Duration::from_secs(300))
            .build()
            .context("cannot build the HTTP client")?;
        Ok(Api {
            http,
            base: base.trim_end_matches('/').to_owned(),
            token,
            token_hint: format!(
                "set --token or API_TOKEN, or run where {} exists",
                token_file.display()
            ),
        })
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    fn token(&self) -> anyhow::Result<&str> {
        match &self.token {
            Some(token) => Ok(token),
            None => bail!(
                "this command changes data and needs the API token: {}",
                self.token_hint
            ),
        }
    }

    pub async fn get_json(&self, path: &str) -> Result<Value, Failure> {
        let text = self.get_text(path).await?;
        serde_json::from_str(&text).map_err(|err| {
            Failure::Transient(format!(
                "the API at {} answered with something that is not JSON: {err}",
                self.base
            ))
        })
    }

    /// GET returning the body as text (CSV or HTML renderings).
    pub async fn get_text(&self, path: &str) -> Result<String, Failure> {
        let mut request = self.http.get(self.url(path));
        if let Some(token) = &self.token {
            request = request.bearer_auth(token);
        }
        self.send(request)
            .await?
            .text()
            .await
            .map_err(|e| self.transient(&e))
    }

    pub async fn post_json(&self, path: &str, body: Option<&Value>) -> anyhow::Result<Value> {
        let mut request = self.http.post(self.url(path)).bearer_auth(self.token()?);
        if let Some(body) = body {
            request = request.json(body);
        }
        Ok(self
            .send(request)
            .await?
            .json()
            .await
            .map_err(|e| self.transient(&e))?)
    }

    pub async fn post_csv(&self, path: &str, body: Vec<u8>) -> Result<Value, Failure> {
        let token = self.token.clone().unwrap_or_default();
        let request = self
            .http
            .post(self.url(path))
            .bearer_auth(token)
            .header("content-type", "text/csv; charset=utf-8")
            .body(body);
        self.send(request)
            .await?
            .json()
            .await
            .map_err(|e| self.transient(&e))
    }

    pub fn has_token(&self) -> anyhow::Result<()> {
        self.token().map(|_| ())
    }

    async fn send(&self, request: reqwest::RequestBuilder) -> Result<reqwest::Response, Failure> {
        let response = request.send().await.map_err(|e| self.transient(&e))?;
        let status = response.status();
        if status.is_success() {
            return Ok(response);
        }
        let body: Value = response.json().await.unwrap_or(Value::Null);
        let code = body["code"].as_str().unwrap_or("error").to_owned();
        let mut message = body["message"].as_str().unwrap_or("no message").to_owned();
        if status.as_u16() == 401 || status.as_u16() == 403 {
            message = format!("{message} ({})", self.token_hint);
        }
        if status.as_u16() == 503 {
            return Err(Failure::Transient(format!(
                "the API is unavailable: {message}"
            )));
        }
        Err(Failure::Refused {
            status: status.as_u16(),
            code,
            message,
        })
    }

    fn transient(&self, err: &reqwest::Error) -> Failure {
        if err.is_connect() {
            Failure::Transient(format!(
                "cannot reach the API at {} (is it running? set --url or API_URL)",
                self.base
            ))
        } else if err.is_timeout() {
            Failure::Transient(format!("the API at {} did not answer in time", self.base))
        } else {
            Failure::Transient(format!("talking to the API at {} failed: {err}", self.base))
        }
    }
}
