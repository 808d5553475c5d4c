//! The container health check: a tiny HTTP client for `api --healthcheck`,
//! so the image needs no curl.

use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// True when the service listening at `addr` answers `GET /ready` with 200
/// within three seconds (`0.0.0.0` is asked on the loopback).
pub async fn is_ready(addr: std::net::SocketAddr) -> bool {
    let mut addr = addr;
    if addr.ip().is_unspecified() {
        addr.set_ip(std::net::Ipv4Addr::LOCALHOST.into());
    }
    let check = async {
        let mut stream = tokio::net::TcpStream::connect(addr).await.ok()?;
        stream
            .write_all(b"GET /ready HTTP/1.0\r\nHost: localhost\r\n\r\n")
            .await
            .ok()?;
        let mut head = [0u8; 12];
        stream.read_exact(&mut head).await.ok()?;
        Some(head.starts_with(b"HTTP/1.") && &head[9..12] == b"200")
    };
    matches!(
        tokio::time::timeout(Duration::from_secs(3), check).await,
        Ok(Some(true))
    )
}
