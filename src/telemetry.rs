//! Logging: one subscriber (pretty or JSON lines), written off the request path, and the request
//! log, one line per request naming the method, the path without its query string (codes and
//! tokens travel there), the client, the status and the time taken. Headers, cookies and bodies
//! are never recorded.

use std::sync::LazyLock;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use actix_web::dev::ServiceRequest;
use actix_web::http::{Method, Uri};
use tracing_subscriber::EnvFilter;
use tracing_subscriber::fmt::MakeWriter;

use crate::config::LogFormat;

/// The default filter when `RUST_LOG` is unset.
pub const DEFAULT_FILTER: &str = "info";

/// Installs the global subscriber with a filter in `RUST_LOG` syntax, writing to `writer`.
/// A second call does nothing.
pub fn init<W>(format: LogFormat, filter: &str, writer: W)
where
    W: for<'a> MakeWriter<'a> + Send + Sync + 'static,
{
    let filter = EnvFilter::try_new(filter).unwrap_or_else(|_| EnvFilter::new(DEFAULT_FILTER));
    use std::io::IsTerminal;
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none())
        .with_writer(writer);
    let _ = match format {
        LogFormat::Pretty => builder.try_init(),
        LogFormat::Json => builder.json().flatten_event(true).try_init(),
    };
}

/// A writer that hands each formatted line to a thread of its own, which writes them in
/// batches: a request never waits for the terminal, the journal or a pipe. When the queue is
/// full (a stalled reader) callers wait rather than lose lines.
pub fn off_the_request_path<W: std::io::Write + Send + 'static>(
    out: W,
) -> (
    tracing_appender::non_blocking::NonBlocking,
    tracing_appender::non_blocking::WorkerGuard,
) {
    tracing_appender::non_blocking::NonBlockingBuilder::default()
        .lossy(false)
        .thread_name("socialgate-log")
        .finish(std::io::BufWriter::with_capacity(64 * 1024, out))
}

/// The target of the request log's lines (`RUST_LOG=socialgate::request=warn` turns it off).
pub const REQUEST_TARGET: &str = "socialgate::request";

static NEXT_REQUEST: AtomicU64 = AtomicU64::new(0);

/// A request id unique in this process and unlikely to repeat across processes: a random
/// 24-bit prefix drawn at start, then a counter.
fn request_id() -> u64 {
    static PREFIX: LazyLock<u64> =
        LazyLock::new(|| u64::from(rand::random::<u32>() & 0xFF_FFFF) << 40);
    *PREFIX | (NEXT_REQUEST.fetch_add(1, Ordering::Relaxed) & 0xFF_FFFF_FFFF)
}

/// A line of the request log, begun when a request arrives and written when it has been
/// answered: the method, the path (never the query string, where codes and tokens travel;
/// `/mcp/{apiKey}` for a key in the path), the client, the status, the time taken and an id.
/// No span surrounds the request (it cost about as much as the line), so other lines a request
/// writes do not carry the id. Headers, cookies and bodies are never recorded.
pub struct RequestLine {
    started: Instant,
    method: Method,
    uri: Uri,
    client: crate::client_ip::Shown,
    id: u64,
}

impl RequestLine {
    /// Begins the line; `None` when the request log is off, so nothing is copied or formatted.
    pub fn begin(req: &ServiceRequest) -> Option<RequestLine> {
        if !tracing::enabled!(target: REQUEST_TARGET, tracing::Level::INFO) {
            return None;
        }
        Some(RequestLine {
            started: Instant::now(),
            // Cheap copies (the URI shares its bytes): the request must stay unshared for routing.
            method: req.method().clone(),
            uri: req.uri().clone(),
            client: crate::client_ip::Shown(crate::client_ip::of(req.request())),
            id: request_id(),
        })
    }

    /// Writes the line with the answer's status.
    pub fn end(self, status: u16) {
        let RequestLine {
            started,
            method,
            uri,
            client,
            id,
        } = self;
        let path = uri.path();
        tracing::info!(
            target: REQUEST_TARGET,
            id,
            %method,
            path = if path.starts_with("/mcp/") { "/mcp/{apiKey}" } else { path },
            %client,
            status,
            ms = started.elapsed().as_secs_f64() * 1000.0,
            "request finished"
        );
    }
}
