//! Logging: one subscriber (pretty or JSON lines) and the request span, which names the method,
//! the path without its query string (codes and tokens travel there), the request id and the status.
//! Headers, cookies and bodies are never recorded.

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::{Error, HttpMessage};
use tracing::Span;
use tracing_actix_web::{RequestId, RootSpanBuilder};
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
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(writer);
    let _ = match format {
        LogFormat::Pretty => builder.try_init(),
        LogFormat::Json => builder.json().flatten_event(true).try_init(),
    };
}

/// The root span of every request.
pub struct RequestSpan;

impl RootSpanBuilder for RequestSpan {
    fn on_request_start(request: &ServiceRequest) -> Span {
        let request_id = request
            .extensions()
            .get::<RequestId>()
            .map(|id| id.to_string())
            .unwrap_or_default();
        tracing::info_span!(
            "request",
            method = %request.method(),
            // `/mcp/{apiKey}` carries a credential in its path: it is never written.
            path = %if request.path().starts_with("/mcp/") { "/mcp/{apiKey}" } else { request.path() },
            client = tracing::field::display(crate::client_ip::Shown(crate::client_ip::of(request.request()))),
            request_id = %request_id,
            status = tracing::field::Empty,
        )
    }

    fn on_request_end<B: MessageBody>(span: Span, outcome: &Result<ServiceResponse<B>, Error>) {
        let status = match outcome {
            Ok(response) => response.response().status().as_u16(),
            Err(error) => error.as_response_error().status_code().as_u16(),
        };
        span.record("status", status);
        let _guard = span.enter();
        tracing::info!(status, "request finished");
    }
}
