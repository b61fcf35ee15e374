//! The shared outbound client and the rules that turn an HTTP answer into a `ProviderError`.

use std::time::Duration;

use reqwest::{RequestBuilder, Response, StatusCode};
use serde::de::DeserializeOwned;

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

/// Sends a request; a 2xx answer is returned, anything else becomes an error of the right kind.
pub async fn send(
    provider: &dyn Provider,
    request: RequestBuilder,
) -> Result<Response, ProviderError> {
    let response = request.send().await.map_err(transport_error)?;
    let status = response.status();
    if status.is_success() {
        return Ok(response);
    }
    let retry_after = response
        .headers()
        .get(reqwest::header::RETRY_AFTER)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok())
        .map(Duration::from_secs);
    let body = response.text().await.unwrap_or_default();
    Err(classify(provider, status, &body, retry_after))
}

/// Sends a request and reads its JSON answer.
pub async fn send_json<T: DeserializeOwned>(
    provider: &dyn Provider,
    request: RequestBuilder,
) -> Result<T, ProviderError> {
    let response = send(provider, request).await?;
    let text = response.text().await.map_err(transport_error)?;
    serde_json::from_str(&text).map_err(|e| {
        ProviderError::BadBody(format!(
            "{} answered something unexpected ({e}): {}",
            provider.info().name,
            truncate(&text, 300)
        ))
    })
}

/// A failure before an answer: a connection never made is safe to retry; anything after the
/// request may have been sent is unconfirmed.
pub fn transport_error(e: reqwest::Error) -> ProviderError {
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
        return kind;
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

/// A post's medium and its type: our own uploads are read from disk; anything else is
/// fetched through the SSRF guard (https, public addresses, or `SOCIALGATE_FETCH_TRUSTED_HOSTS`).
pub async fn fetch_media(
    ctx: &super::Ctx<'_>,
    path: &str,
) -> Result<(Vec<u8>, String), ProviderError> {
    let bytes = match crate::media::storage::local_file(ctx.config, path) {
        Some(file) => tokio::fs::read(&file).await.map_err(|e| {
            ProviderError::BadBody(format!("the media {path} is not readable: {e}"))
        })?,
        None => {
            let limits = crate::media::guard::Limits {
                max_bytes: 1024 * 1024 * 1024,
                timeout: Duration::from_secs(120),
                trusted: ctx.config.fetch_trusted.clone(),
            };
            crate::media::guard::fetch(path, &limits)
                .await
                .map_err(|e| match e {
                    crate::media::guard::FetchError::Failed(_)
                    | crate::media::guard::FetchError::Status(500..) => {
                        ProviderError::retry(format!("could not fetch the media {path}: {e}"))
                    }
                    other => {
                        ProviderError::BadBody(format!("could not fetch the media {path}: {other}"))
                    }
                })?
                .bytes
        }
    };
    let content_type = crate::media::sniff(&bytes).ok_or_else(|| {
        ProviderError::BadBody(format!(
            "the media {path} is not a supported image or video"
        ))
    })?;
    Ok((bytes, content_type.to_owned()))
}
