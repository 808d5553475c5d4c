//! The HTTP side: one client, errors a person can act on.

use anyhow::{Context, bail};
use serde::Serialize;
use serde::de::DeserializeOwned;
use std::path::PathBuf;
use std::time::Duration;
use vocab::ErrorBody;

/// The code and message of an error answer: as `ErrorBody`, or with a code
/// this client does not know yet (a newer API's), still read as text, so
/// that the API's message reaches the person.
fn error_of(text: &str) -> Option<(String, String)> {
    if let Ok(body) = serde_json::from_str::<ErrorBody>(text) {
        return Some((body.code.to_string(), body.message));
    }
    let value: serde_json::Value = serde_json::from_str(text).ok()?;
    Some((
        value.get("code")?.as_str()?.to_owned(),
        value.get("message")?.as_str()?.to_owned(),
    ))
}

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
    /// The API answered, but not with what this client reads; not retried.
    Unexpected(String),
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
            Failure::Transient(message) | Failure::Unexpected(message) => f.write_str(message),
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

    /// GET a JSON answer of type `T`.
    pub async fn get<T: DeserializeOwned>(&self, path: &str) -> Result<T, Failure> {
        let request = self.http.get(self.url(path));
        let body = self.body(self.send(self.reads(request)).await?).await?;
        self.decode("GET", path, &body)
    }

    /// GET returning the body as text (CSV or HTML renderings).
    pub async fn get_text(&self, path: &str) -> Result<String, Failure> {
        let request = self.http.get(self.url(path));
        let body = self.body(self.send(self.reads(request)).await?).await?;
        String::from_utf8(body).map_err(|_| {
            Failure::Unexpected(format!(
                "the API's answer to GET {path} is not UTF-8 text{}",
                self.skew_hint()
            ))
        })
    }

    /// POST a JSON body (or none) with the token, reading an answer of type `T`.
    pub async fn post<T: DeserializeOwned>(
        &self,
        path: &str,
        body: Option<&impl Serialize>,
    ) -> anyhow::Result<T> {
        let mut request = self.http.post(self.url(path)).bearer_auth(self.token()?);
        if let Some(body) = body {
            request = request.json(body);
        }
        let body = self.body(self.send(request).await?).await?;
        Ok(self.decode("POST", path, &body)?)
    }

    /// POST a headerless CSV body with the token (and the batch's
    /// `Idempotency-Key`, when given), reading an answer of type `T`.
    pub async fn post_csv<T: DeserializeOwned>(
        &self,
        path: &str,
        body: Vec<u8>,
        key: Option<&str>,
    ) -> Result<T, Failure> {
        // Without a token this is not worth retrying: the same error each time.
        let token = self
            .token()
            .map_err(|err| Failure::Unexpected(err.to_string()))?;
        let mut request = self
            .http
            .post(self.url(path))
            .bearer_auth(token)
            // No charset: a file's rows that are not UTF-8 go as they are,
            // for the API to reject and record exactly.
            .header("content-type", "text/csv")
            .body(body);
        if let Some(key) = key {
            request = request.header("idempotency-key", key);
        }
        let body = self.body(self.send(request).await?).await?;
        self.decode("POST", path, &body)
    }

    /// The answer of `method path` as a `T`, or why it is not one.
    fn decode<T: DeserializeOwned>(
        &self,
        method: &str,
        path: &str,
        body: &[u8],
    ) -> Result<T, Failure> {
        serde_json::from_slice(body).map_err(|err| {
            let what = if err.is_data() {
                format!("does not have the shape this client expects: {err}")
            } else {
                format!("is not JSON: {err}")
            };
            Failure::Unexpected(format!(
                "the API's answer to {method} {path} {what}{}",
                self.skew_hint()
            ))
        })
    }

    /// Names the server, for answers this client cannot read.
    fn skew_hint(&self) -> String {
        format!(
            " (is {} the hiring-data API, of the version this client was built for?)",
            self.base
        )
    }

    /// Adds the token to a read when there is one (the API may require it).
    fn reads(&self, request: reqwest::RequestBuilder) -> reqwest::RequestBuilder {
        match &self.token {
            Some(token) => request.bearer_auth(token),
            None => request,
        }
    }

    /// The whole body; a connection lost while reading it may be retried.
    async fn body(&self, response: reqwest::Response) -> Result<Vec<u8>, Failure> {
        Ok(response
            .bytes()
            .await
            .map_err(|e| self.transient(&e))?
            .to_vec())
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
        let text = response.text().await.unwrap_or_default();
        let (code, mut message) = match error_of(&text) {
            Some(found) => found,
            None => (
                status.canonical_reason().unwrap_or("error").to_owned(),
                format!("the body is not the API's error shape: {}", snippet(&text)),
            ),
        };
        if status.as_u16() == 401 || status.as_u16() == 403 {
            message = format!("{message} ({})", self.token_hint);
        }
        // 503: the API is busy or its database is away. 502 and 504: a load
        // balancer in front of several replicas lost the one answering (it
        // died or stalled); another one answers the resend, and a batch is
        // resent under its Idempotency-Key, so it is never stored twice.
        if matches!(status.as_u16(), 502..=504) {
            return Err(Failure::Transient(format!(
                "the API is unavailable ({} {code}): {message}",
                status.as_u16()
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

/// The start of a body, on one line, for an error message.
fn snippet(text: &str) -> String {
    const MAX: usize = 200;
    let line = text.split_whitespace().collect::<Vec<_>>().join(" ");
    match line.char_indices().nth(MAX) {
        Some((end, _)) => format!("{}...", &line[..end]),
        None if line.is_empty() => "(no body)".to_owned(),
        None => line,
    }
}
