//! HTTP/1.1 spoken by hand over a TCP socket, for the requests no HTTP
//! client sends on purpose: headers that trickle in, a body that never
//! comes, a length that lies, a connection that says nothing.

use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// One client connection to the server under test.
pub struct RawConnection {
    stream: TcpStream,
    received: Vec<u8>,
}

/// A response as read off the socket.
#[derive(Debug)]
pub struct RawResponse {
    pub status: u16,
    /// The head, lower-cased, for `contains` checks.
    pub head: String,
    pub body: Vec<u8>,
}

impl RawResponse {
    pub fn header(&self, name: &str) -> Option<&str> {
        let prefix = format!("{}:", name.to_ascii_lowercase());
        self.head
            .lines()
            .find_map(|line| line.strip_prefix(&prefix))
            .map(str::trim)
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).unwrap_or_default()
    }
}

impl RawConnection {
    /// Connects to an `http://host:port` address.
    pub async fn open(address: &str) -> RawConnection {
        let host = address.trim_start_matches("http://");
        RawConnection {
            stream: TcpStream::connect(host).await.expect("the server accepts"),
            received: Vec::new(),
        }
    }

    /// Writes bytes; an error means the server has closed the connection.
    pub async fn send(&mut self, bytes: &[u8]) -> std::io::Result<()> {
        self.stream.write_all(bytes).await
    }

    /// Reads one response (head, and a body of the declared length or up to
    /// the connection's end), or `None` if none comes within `limit` or the
    /// connection ends first.
    pub async fn response(&mut self, limit: Duration) -> Option<RawResponse> {
        tokio::time::timeout(limit, self.read_response())
            .await
            .ok()
            .flatten()
    }

    async fn read_response(&mut self) -> Option<RawResponse> {
        let head_end = loop {
            if let Some(at) = find(&self.received, b"\r\n\r\n") {
                break at + 4;
            }
            if !self.fill().await {
                return None;
            }
        };
        let head = String::from_utf8_lossy(&self.received[..head_end]).to_ascii_lowercase();
        let status = head.split(' ').nth(1)?.parse().ok()?;
        let mut response = RawResponse {
            status,
            head,
            body: Vec::new(),
        };
        let length = response
            .header("content-length")
            .and_then(|length| length.parse::<usize>().ok());
        loop {
            let have = self.received.len() - head_end;
            if length.is_some_and(|length| have >= length) || !self.fill().await {
                break;
            }
        }
        let end = length.map_or(self.received.len(), |length| {
            (head_end + length).min(self.received.len())
        });
        response.body = self.received[head_end..end].to_vec();
        self.received.drain(..end);
        Some(response)
    }

    /// The payload of the first HTTP/2 frame of type `kind` the server
    /// sends within `limit`, skipping the others.
    pub async fn frame(&mut self, kind: u8, limit: Duration) -> Option<Vec<u8>> {
        tokio::time::timeout(limit, async {
            loop {
                let (frame_kind, _, payload) = self.next_frame().await?;
                if frame_kind == kind {
                    return Some(payload);
                }
            }
        })
        .await
        .ok()
        .flatten()
    }

    /// The next HTTP/2 frame: its type, flags and payload; `None` at the
    /// connection's end.
    pub async fn next_frame(&mut self) -> Option<(u8, u8, Vec<u8>)> {
        while self.received.len() < 9 {
            if !self.fill().await {
                return None;
            }
        }
        let length =
            u32::from_be_bytes([0, self.received[0], self.received[1], self.received[2]]) as usize;
        while self.received.len() < 9 + length {
            if !self.fill().await {
                return None;
            }
        }
        let frame: Vec<u8> = self.received.drain(..9 + length).collect();
        Some((frame[3], frame[4], frame[9..].to_vec()))
    }

    /// Whether the server ends the connection (EOF or reset) within `limit`,
    /// discarding anything else it sends.
    pub async fn closed_within(&mut self, limit: Duration) -> bool {
        self.drain(limit).await.is_some()
    }

    /// Reads until the server ends the connection; the bytes read, or
    /// `None` if it is still open after `limit`.
    pub async fn drain(&mut self, limit: Duration) -> Option<usize> {
        let mut total = self.received.len();
        self.received.clear();
        tokio::time::timeout(limit, async {
            while self.fill().await {
                total += self.received.len();
                self.received.clear();
            }
        })
        .await
        .ok()
        .map(|()| total)
    }

    /// Reads more; false at the connection's end.
    async fn fill(&mut self) -> bool {
        let mut buffer = [0u8; 16 * 1024];
        match self.stream.read(&mut buffer).await {
            Ok(0) | Err(_) => false,
            Ok(n) => {
                self.received.extend_from_slice(&buffer[..n]);
                true
            }
        }
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack
        .windows(needle.len())
        .position(|window| window == needle)
}

/// A request head for `path` on the test server, ending in the blank line.
pub fn head(method: &str, path: &str, headers: &[(&str, &str)]) -> Vec<u8> {
    let mut text = format!("{method} {path} HTTP/1.1\r\nhost: localhost\r\n");
    for (name, value) in headers {
        text.push_str(&format!("{name}: {value}\r\n"));
    }
    text.push_str("\r\n");
    text.into_bytes()
}
