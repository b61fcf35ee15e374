//! A light keep-alive HTTP/1.1 load generator shared by the benchmarks: no client library in
//! the way, one request at a time per connection.

// Each benchmark uses part of this module.
#![allow(dead_code)]

use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// Runs `f` on a new PostgreSQL database made next to the one `admin` names (its role must be
/// allowed to create databases), dropped afterwards whatever `f` answered.
pub fn on_scratch_postgres(
    admin: &str,
    f: impl FnOnce(&str) -> anyhow::Result<()>,
) -> anyhow::Result<()> {
    use diesel::Connection;
    use diesel::connection::SimpleConnection;
    let name = format!("sg_bench_{}", std::process::id());
    let mut conn = diesel::PgConnection::establish(admin)?;
    conn.batch_execute(&format!("CREATE DATABASE \"{name}\""))?;
    let (base, _) = admin.rsplit_once('/').unwrap_or((admin, ""));
    let result = f(&format!("{base}/{name}"));
    conn.batch_execute(&format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"))?;
    result
}

/// Reads one response (headers, then `Content-Length` bytes) into `buf`; returns the status.
pub async fn read_response(stream: &mut TcpStream, buf: &mut Vec<u8>) -> anyhow::Result<u16> {
    buf.clear();
    let (head_end, length) = loop {
        let mut chunk = [0u8; 8192];
        let n = stream.read(&mut chunk).await?;
        anyhow::ensure!(n > 0, "the server closed the connection");
        buf.extend_from_slice(&chunk[..n]);
        if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&buf[..end]).to_ascii_lowercase();
            let length = head
                .lines()
                .find_map(|l| l.strip_prefix("content-length:"))
                .and_then(|v| v.trim().parse::<usize>().ok())
                .unwrap_or(0);
            break (end + 4, length);
        }
    };
    while buf.len() < head_end + length {
        let mut chunk = [0u8; 8192];
        let n = stream.read(&mut chunk).await?;
        anyhow::ensure!(n > 0, "the server closed the connection");
        buf.extend_from_slice(&chunk[..n]);
    }
    let status = std::str::from_utf8(&buf[9..12])
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    Ok(status)
}

/// One connection sending `request(i)` for each index it takes from `next` below `total`;
/// returns the latency of each 200 answer.
pub async fn run_connection(
    addr: &str,
    next: &AtomicUsize,
    total: usize,
    request: &(dyn Fn(usize) -> String + Sync),
) -> anyhow::Result<Vec<Duration>> {
    let mut stream = TcpStream::connect(addr).await?;
    stream.set_nodelay(true)?;
    let mut buf = Vec::with_capacity(16 * 1024);
    let mut latencies = Vec::new();
    loop {
        let i = next.fetch_add(1, Ordering::Relaxed);
        if i >= total {
            return Ok(latencies);
        }
        let started = Instant::now();
        stream.write_all(request(i).as_bytes()).await?;
        if read_response(&mut stream, &mut buf).await? == 200 {
            latencies.push(started.elapsed());
        }
    }
}

/// The `q` quantile (0..1) of some durations.
pub fn quantile(sorted: &[Duration], q: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    sorted[((sorted.len() - 1) as f64 * q).round() as usize]
}

/// Resident memory of this process now and at its peak, in MiB, from /proc.
#[allow(
    dead_code,
    reason = "not every bench that includes this file measures itself"
)]
pub fn memory_mib() -> (f64, f64) {
    memory_of("self")
}

/// Resident memory of a process (`self` or a pid) now and at its peak, in MiB, from /proc.
pub fn memory_of(process: &str) -> (f64, f64) {
    let status = std::fs::read_to_string(format!("/proc/{process}/status")).unwrap_or_default();
    let field = |name: &str| {
        status
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|v| v.split_whitespace().next())
            .and_then(|v| v.parse::<f64>().ok())
            .map_or(0.0, |kb| kb / 1024.0)
    };
    (field("VmRSS:"), field("VmHWM:"))
}
