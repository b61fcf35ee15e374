//! Logging: one subscriber (pretty or JSON lines), written off the request path, and the request
//! log, one line per request naming the method, the path without its query string (codes and
//! tokens travel there), the client, the status and the time taken. Headers, cookies and bodies
//! are never recorded.

use std::sync::LazyLock;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use actix_web::Error;
use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::middleware::Next;
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

/// The request log: one line per request when it has been answered, with the method, the path
/// (never the query string, where codes and tokens travel; `/mcp/{apiKey}` for a key in the
/// path), the client, the status, the time taken and an id. No span surrounds the request (it
/// cost about as much as the line), so other lines a request writes do not carry the id.
/// Headers, cookies and bodies are never recorded. Nothing is formatted when the log is off.
pub async fn request_log(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, Error> {
    if !tracing::enabled!(target: REQUEST_TARGET, tracing::Level::INFO) {
        return next.call(req).await;
    }
    let started = Instant::now();
    // Cheap copies (the URI shares its bytes): the request itself must stay unshared for routing.
    let (method, uri) = (req.method().clone(), req.uri().clone());
    let client = crate::client_ip::Shown(crate::client_ip::of(req.request()));
    let id = request_id();
    let outcome = next.call(req).await;
    let status = match &outcome {
        Ok(response) => response.response().status().as_u16(),
        Err(error) => error.as_response_error().status_code().as_u16(),
    };
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
    outcome
}
