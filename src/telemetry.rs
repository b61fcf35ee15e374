//! Logging: one subscriber (pretty or JSON lines), written off the request path, and the request
//! log, one line per request naming the method, the path without its query string (codes and
//! tokens travel there), the client, the status and the time taken. Headers, cookies and bodies
//! are never recorded.
//!
//! The request log's line is the one line every request writes, so it does not go through the
//! subscriber's formatting (a visitor per field, `fmt::Debug` for each value, the date worked
//! out anew per line: about a tenth of a small request's time). `RequestLine::end` lays it out
//! itself in a buffer each thread keeps, in the same layout as the subscriber's lines, and hands
//! the lines to the same writer in batches: when a thread's batch reaches 32 KiB, and every
//! 50 ms from a thread of its own (`flush` sends what is waiting at once). The subscriber's
//! filter still decides whether a line is written.

use std::cell::RefCell;
use std::io::Write;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, LazyLock, Mutex, OnceLock};
use std::time::{Duration, Instant};

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
    let ansi = std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none();
    let writer = Arc::new(writer);
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(ansi)
        .with_writer(Shared(writer.clone()));
    let installed = match format {
        LogFormat::Pretty => builder.try_init(),
        LogFormat::Json => builder.json().flatten_event(true).try_init(),
    };
    // Coloured lines are for a person at a terminal: those keep the subscriber's formatting.
    if installed.is_ok() && !ansi {
        let log = RequestLog {
            format,
            write: Box::new(move |lines| {
                let _ = writer.make_writer().write_all(lines);
            }),
            batches: Mutex::new(Vec::new()),
        };
        if REQUEST_LOG.set(log).is_ok() {
            let _ = std::thread::Builder::new()
                .name("socialgate-log-batches".into())
                .spawn(|| {
                    loop {
                        std::thread::sleep(BATCH_AGE);
                        flush();
                    }
                });
        }
    }
}

/// How long a request's line may wait in its thread's batch.
const BATCH_AGE: Duration = Duration::from_millis(50);

/// A batch is sent when it holds this much.
const BATCH_BYTES: usize = 32 * 1024;

/// Sends every thread's waiting request lines to the writer now: before the process ends, and
/// before a test reads the log.
pub fn flush() {
    let Some(log) = REQUEST_LOG.get() else {
        return;
    };
    let batches = log
        .batches
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .clone();
    for batch in batches {
        let mut batch = batch.lock().unwrap_or_else(|e| e.into_inner());
        if !batch.is_empty() {
            (log.write)(&batch);
            batch.clear();
        }
    }
}

/// One writer shared by the subscriber and the request log.
struct Shared<W>(Arc<W>);

impl<'a, W: MakeWriter<'a>> MakeWriter<'a> for Shared<W> {
    type Writer = W::Writer;
    fn make_writer(&'a self) -> W::Writer {
        self.0.make_writer()
    }
}

/// Where the request log's own lines go, and in which layout; unset when the subscriber
/// formats them (coloured output, or no subscriber of ours).
struct RequestLog {
    format: LogFormat,
    write: Box<WriteLines>,
    /// Each thread's batch of lines not yet written.
    batches: Mutex<Vec<Batch>>,
}

type Batch = Arc<Mutex<Vec<u8>>>;

/// Hands lines to the writer.
type WriteLines = dyn Fn(&[u8]) + Send + Sync;

static REQUEST_LOG: OnceLock<RequestLog> = OnceLock::new();

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
        let path = if path.starts_with("/mcp/") {
            "/mcp/{apiKey}"
        } else {
            path
        };
        let taken = started.elapsed();
        let Some(log) = REQUEST_LOG.get() else {
            tracing::info!(
                target: REQUEST_TARGET,
                id,
                %method,
                path,
                %client,
                status,
                ms = taken.as_secs_f64() * 1000.0,
                "request finished"
            );
            return;
        };
        let fields = Fields {
            id,
            method: method.as_str(),
            path,
            client,
            status,
            nanos: taken.as_nanos(),
        };
        thread_local! {
            static BATCH: Batch = {
                let batch = Batch::default();
                if let Some(log) = REQUEST_LOG.get() {
                    log.batches.lock().unwrap_or_else(|e| e.into_inner()).push(batch.clone());
                }
                batch
            };
        }
        BATCH.with(|batch| {
            // Only the flushing thread ever waits for this lock, and only while it copies.
            let mut batch = batch.lock().unwrap_or_else(|e| e.into_inner());
            lay_out(&mut batch, log.format, chrono::Utc::now(), &fields);
            if batch.len() >= BATCH_BYTES {
                (log.write)(&batch);
                batch.clear();
            }
        });
    }
}

/// What a request's line says.
struct Fields<'a> {
    id: u64,
    method: &'a str,
    path: &'a str,
    client: crate::client_ip::Shown,
    status: u16,
    nanos: u128,
}

/// Lays out one line as the subscriber would: `pretty` as
/// `2026-12-01T05:08:30.344226Z  INFO socialgate::request: request finished id=… method=GET
/// path="/health" client=127.0.0.1 status=200 ms=0.049100`, `json` as one object with the
/// same keys in the same order.
fn lay_out(line: &mut Vec<u8>, format: LogFormat, now: chrono::DateTime<chrono::Utc>, f: &Fields) {
    let mut number = itoa::Buffer::new();
    let json = format == LogFormat::Json;
    if json {
        line.extend_from_slice(b"{\"timestamp\":\"");
    }
    timestamp(line, now);
    if json {
        line.extend_from_slice(b"\",\"level\":\"INFO\",\"message\":\"request finished\",\"id\":");
    } else {
        line.extend_from_slice(b"  INFO socialgate::request: request finished id=");
    }
    line.extend_from_slice(number.format(f.id).as_bytes());
    line.extend_from_slice(if json { b",\"method\":\"" } else { b" method=" });
    line.extend_from_slice(f.method.as_bytes());
    line.extend_from_slice(if json { b"\",\"path\":" } else { b" path=" });
    // A path is printable ASCII but for rare exceptions, which take the escaping routine.
    let plain = f
        .path
        .bytes()
        .all(|b| (0x20..0x7f).contains(&b) && b != b'"' && b != b'\\');
    if plain {
        line.push(b'"');
        line.extend_from_slice(f.path.as_bytes());
        line.push(b'"');
    } else if json {
        let _ = serde_json::to_writer(&mut *line, f.path);
    } else {
        let _ = write!(line, "{:?}", f.path);
    }
    line.extend_from_slice(if json { b",\"client\":\"" } else { b" client=" });
    if let Some(ip) = f.client.0 {
        let _ = write!(line, "{ip}");
    }
    line.extend_from_slice(if json { b"\",\"status\":" } else { b" status=" });
    line.extend_from_slice(number.format(f.status).as_bytes());
    line.extend_from_slice(if json { b",\"ms\":" } else { b" ms=" });
    line.extend_from_slice(number.format(f.nanos / 1_000_000).as_bytes());
    line.push(b'.');
    let fraction = (f.nanos % 1_000_000) as u32;
    line.extend_from_slice(&six_digits(fraction));
    if json {
        line.extend_from_slice(b",\"target\":\"socialgate::request\"}");
    }
    line.push(b'\n');
}

/// `2026-12-01T05:08:30.344226Z`; the part up to the second is worked out once a second per
/// thread.
fn timestamp(line: &mut Vec<u8>, now: chrono::DateTime<chrono::Utc>) {
    thread_local! {
        static SECOND: RefCell<(i64, [u8; 20])> = const { RefCell::new((i64::MIN, [0; 20])) };
    }
    SECOND.with_borrow_mut(|(second, prefix)| {
        if *second != now.timestamp() {
            *second = now.timestamp();
            let text = now.format("%Y-%m-%dT%H:%M:%S.").to_string();
            if text.len() == prefix.len() {
                prefix.copy_from_slice(text.as_bytes());
            } else {
                // A year beyond 9999 or before 0: not cached.
                *second = i64::MIN;
                line.extend_from_slice(text.as_bytes());
                return;
            }
        }
        line.extend_from_slice(prefix);
    });
    line.extend_from_slice(&six_digits(now.timestamp_subsec_micros().min(999_999)));
    line.push(b'Z');
}

/// A number below a million as six digits, zeros in front.
fn six_digits(mut n: u32) -> [u8; 6] {
    let mut digits = [b'0'; 6];
    for digit in digits.iter_mut().rev() {
        *digit = b'0' + (n % 10) as u8;
        n /= 10;
    }
    digits
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex;

    /// The same line as the subscriber would write for the same fields, in `format`.
    fn from_the_subscriber(format: LogFormat, f: &Fields) -> String {
        let out = Arc::new(Mutex::new(Vec::new()));
        let sink = out.clone();
        let writer = move || Capture(sink.clone());
        let builder = tracing_subscriber::fmt()
            .with_ansi(false)
            .with_writer(writer);
        let ms = f.nanos as f64 / 1e6;
        let emit = || {
            tracing::info!(
                target: REQUEST_TARGET,
                id = f.id,
                method = %f.method,
                path = f.path,
                client = %f.client,
                status = f.status,
                ms,
                "request finished"
            )
        };
        match format {
            LogFormat::Pretty => tracing::subscriber::with_default(builder.finish(), emit),
            LogFormat::Json => {
                tracing::subscriber::with_default(builder.json().flatten_event(true).finish(), emit)
            }
        }
        String::from_utf8(out.lock().unwrap().clone()).unwrap()
    }

    struct Capture(Arc<Mutex<Vec<u8>>>);
    impl std::io::Write for Capture {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    fn ours(format: LogFormat, f: &Fields) -> String {
        let mut line = Vec::new();
        lay_out(&mut line, format, chrono::Utc::now(), f);
        String::from_utf8(line).unwrap()
    }

    fn fields(path: &str) -> Fields<'_> {
        Fields {
            id: 6_168_189_863_079_754_031,
            method: "GET",
            path,
            client: crate::client_ip::Shown(Some("203.0.113.7".parse().unwrap())),
            status: 200,
            nanos: 1_250_000,
        }
    }

    #[test]
    fn the_pretty_line_is_laid_out_as_the_subscriber_lays_it_out() {
        for path in ["/public/v1/integrations", "/odd\"path\\here", "/caf\u{e9}"] {
            let f = fields(path);
            let (mine, theirs) = (
                ours(LogFormat::Pretty, &f),
                from_the_subscriber(LogFormat::Pretty, &f),
            );
            // Past the timestamp, and up to the time taken, which the subscriber prints as
            // `1.25` and this line as `1.250000`.
            let cut = |s: &str| s[27..s.rfind("ms=").unwrap()].to_owned();
            assert_eq!(cut(&mine), cut(&theirs), "{mine}\n{theirs}");
            assert!(mine.ends_with(" ms=1.250000\n"), "{mine}");
            let stamp = chrono::DateTime::parse_from_rfc3339(&mine[..27]).unwrap();
            assert!((chrono::Utc::now() - stamp.to_utc()).num_seconds().abs() < 5);
        }
    }

    #[test]
    fn the_json_line_has_the_subscribers_keys_in_its_order_and_its_values() {
        for path in ["/health", "/odd\"path\\here", "/caf\u{e9}"] {
            let f = fields(path);
            let (mine, theirs) = (
                ours(LogFormat::Json, &f),
                from_the_subscriber(LogFormat::Json, &f),
            );
            let mine: serde_json::Map<String, serde_json::Value> =
                serde_json::from_str(&mine).unwrap();
            let theirs: serde_json::Map<String, serde_json::Value> =
                serde_json::from_str(&theirs).unwrap();
            let keys = |m: &serde_json::Map<_, _>| m.keys().cloned().collect::<Vec<String>>();
            assert_eq!(keys(&mine), keys(&theirs));
            for (key, value) in &theirs {
                if key != "timestamp" {
                    assert_eq!(&mine[key], value, "{key}");
                }
            }
            assert_eq!(mine["path"], path);
        }
    }

    #[test]
    fn a_timestamp_carries_microseconds_and_a_new_second_is_worked_out_anew() {
        let at = |s: &str| chrono::DateTime::parse_from_rfc3339(s).unwrap().to_utc();
        let mut line = Vec::new();
        timestamp(&mut line, at("2026-12-01T05:08:30.000042Z"));
        timestamp(&mut line, at("2026-12-01T05:08:31.999999Z"));
        assert_eq!(
            String::from_utf8(line).unwrap(),
            "2026-12-01T05:08:30.000042Z2026-12-01T05:08:31.999999Z"
        );
    }
}
