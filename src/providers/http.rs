//! The shared outbound client and the rules that turn an HTTP answer into a `ProviderError`
//! (requests themselves are built with `api::Api`).

use std::time::Duration;

use reqwest::StatusCode;

use super::error::truncate;
use super::{Provider, ProviderError};

/// The one outbound client: rustls (ring), bounded timeouts, no redirects followed for us.
pub fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .user_agent(concat!("socialgate/", env!("CARGO_PKG_VERSION")))
        .connect_timeout(Duration::from_secs(10))
        .timeout(Duration::from_secs(120))
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("the TLS provider is installed before the client is built")
}

/// A failure before an answer: a connection never made is safe to retry; anything after the
/// request may have been sent is unconfirmed.
/// The URL is left out of the message: some platforms take tokens in the query string.
pub fn transport_error(e: reqwest::Error) -> ProviderError {
    let e = e.without_url();
    if e.is_connect() {
        ProviderError::retry(format!("could not connect: {e}"))
    } else if e.is_builder() {
        ProviderError::BadBody(format!("invalid request: {e}"))
    } else {
        ProviderError::Unconfirmed(e.to_string())
    }
}

/// The generic rules (Postiz's `SocialAbstract.fetch`), after the provider's own hook.
pub fn classify(
    provider: &dyn Provider,
    status: StatusCode,
    body: &str,
    retry_after: Option<Duration>,
) -> ProviderError {
    if let Some(kind) = provider.classify(status.as_u16(), body) {
        // A wait the platform states in `Retry-After` is kept when it is the longer one.
        return match kind {
            ProviderError::RetryLater { message, after } => ProviderError::RetryLater {
                message,
                after: after.max(retry_after),
            },
            other => other,
        };
    }
    let short = truncate(body, 2000);
    if status == StatusCode::TOO_MANY_REQUESTS
        || status.is_server_error()
        || body.contains("rate_limit_exceeded")
        || body.contains("Rate limit")
    {
        return ProviderError::RetryLater {
            message: format!("{} answered {status}: {short}", provider.info().name),
            after: retry_after,
        };
    }
    if status == StatusCode::UNAUTHORIZED {
        return ProviderError::RefreshNeeded(short);
    }
    ProviderError::BadBody(if short.is_empty() {
        format!("{} answered {status}", provider.info().name)
    } else {
        short
    })
}
