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

/// Downloads a post's medium (at most 512 MiB) and its content type.
pub async fn fetch_media(
    http: &reqwest::Client,
    path: &str,
) -> Result<(Vec<u8>, String), ProviderError> {
    const LIMIT: usize = 512 * 1024 * 1024;
    let url = url::Url::parse(path)
        .map_err(|_| ProviderError::BadBody(format!("the media path {path} is not a URL")))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(ProviderError::BadBody(format!(
            "the media path {path} is not an http(s) URL"
        )));
    }
    let mut response = http.get(url).send().await.map_err(|e| {
        if e.is_connect() {
            ProviderError::retry(format!("could not fetch the media {path}: {e}"))
        } else {
            ProviderError::BadBody(format!("could not fetch the media {path}: {e}"))
        }
    })?;
    if !response.status().is_success() {
        return Err(ProviderError::BadBody(format!(
            "could not fetch the media {path}: {}",
            response.status()
        )));
    }
    let content_type = response
        .headers()
        .get(reqwest::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(|v| v.split(';').next().unwrap_or(v).trim().to_owned());
    let mut bytes = Vec::new();
    while let Some(chunk) = response
        .chunk()
        .await
        .map_err(|e| ProviderError::BadBody(format!("could not fetch the media {path}: {e}")))?
    {
        if bytes.len() + chunk.len() > LIMIT {
            return Err(ProviderError::BadBody(format!(
                "the media {path} is larger than 512 MiB"
            )));
        }
        bytes.extend_from_slice(&chunk);
    }
    let content_type = crate::media::sniff(&bytes)
        .map(str::to_owned)
        .or(content_type)
        .unwrap_or_else(|| "application/octet-stream".into());
    Ok((bytes, content_type))
}
