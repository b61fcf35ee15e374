//! The request builder every network calls its platform with: the authentication (bearer,
//! OAuth 1.0a, HTTP Basic or none), JSON, form, multipart or raw bodies, query strings built by
//! `url::Url`, `SOCIALGATE_PROVIDER_HOSTS` applied to every URL, and answers classified into a
//! `ProviderError`. Also `poll_until`, for media and publishes the platform is still processing.

use std::future::Future;
use std::time::Duration;

use reqwest::{Method, Response};
use serde::Serialize;
use serde::de::DeserializeOwned;

use super::error::truncate;
use super::http::{classify, transport_error};
use super::oauth1::Signer;
use super::{Ctx, Provider, ProviderError, Result};

/// How requests are authenticated.
pub enum Auth<'a> {
    None,
    Bearer(&'a str),
    /// HTTP Basic with a user and password (client id and secret).
    Basic(&'a str, &'a str),
    /// OAuth 1.0a, signed over the network's real URL.
    OAuth1(Signer<'a>),
    /// The token as a query parameter (Meta's `access_token`, as its docs use everywhere).
    Query(&'static str, &'a str),
}

/// One network's API: where it lives and how to authenticate to it.
pub struct Api<'a> {
    provider: &'a dyn Provider,
    ctx: &'a Ctx<'a>,
    base: String,
    auth: Auth<'a>,
    /// The `User-Agent` sent, when the network wants its own (`ProviderInfo::user_agent`).
    user_agent: Option<String>,
    /// Requests with this key wait their turn (`paced`).
    pace: Option<(String, Duration)>,
}

/// When each paced key may send its next request (`Api::paced`).
static TURNS: std::sync::LazyLock<
    std::sync::Mutex<std::collections::HashMap<String, tokio::time::Instant>>,
> = std::sync::LazyLock::new(Default::default);

/// Waits until `key` may send, and books its next turn `every` later.
async fn wait_turn(key: &str, every: Duration) {
    let at = {
        let mut turns = TURNS.lock().unwrap_or_else(|e| e.into_inner());
        let now = tokio::time::Instant::now();
        turns.retain(|_, next| *next + Duration::from_secs(3600) > now);
        let at = turns.get(key).copied().unwrap_or(now).max(now);
        turns.insert(key.to_owned(), at + every);
        at
    };
    tokio::time::sleep_until(at).await;
}

/// After an answer that says no requests remain, `key`'s next turn waits for the window to
/// reset (at most a minute here; longer waits are the worker's, through `RetryLater`).
fn note_window(key: &str, headers: &reqwest::header::HeaderMap) {
    let Some(wait) = window_reset(headers) else {
        return;
    };
    let now = tokio::time::Instant::now();
    let mut turns = TURNS.lock().unwrap_or_else(|e| e.into_inner());
    let next = turns.entry(key.to_owned()).or_insert(now);
    *next = (*next).max(now + wait.min(Duration::from_secs(60)));
}

impl<'a> Api<'a> {
    /// `base` is the platform's real base URL (`https://api.x.com`, an instance URL).
    pub fn new(provider: &'a dyn Provider, ctx: &'a Ctx<'a>, base: &str, auth: Auth<'a>) -> Self {
        Api {
            provider,
            ctx,
            base: base.trim_end_matches('/').to_owned(),
            auth,
            user_agent: provider.info().user_agent.map(str::to_owned),
            pace: None,
        }
    }

    /// Sends this `User-Agent` instead of the network's or socialgate's own.
    pub fn user_agent(mut self, value: String) -> Self {
        self.user_agent = Some(value);
        self
    }

    /// At most one request per `every` for `key` (an account, or an app: Reddit counts per
    /// app), across every call in this process; an answer that says the window is used up
    /// holds the next one until it resets. Other instances keep their own turns.
    pub fn paced(mut self, key: &str, every: Duration) -> Self {
        self.pace = Some((key.to_owned(), every));
        self
    }

    /// The API at the network's own `api_base`.
    pub fn of(provider: &'a dyn Provider, ctx: &'a Ctx<'a>, auth: Auth<'a>) -> Self {
        Api::new(provider, ctx, provider.info().api_base, auth)
    }

    /// A request to `path` under the base, or to an absolute URL.
    pub fn request(&self, method: Method, path: &str) -> Request<'_> {
        let url = if path.starts_with("https://") || path.starts_with("http://") {
            path.to_owned()
        } else {
            format!("{}{path}", self.base)
        };
        Request {
            api: self,
            method,
            url,
            query: Vec::new(),
            headers: Vec::new(),
            oauth: Vec::new(),
            body: Body::None,
        }
    }

    pub fn get(&self, path: &str) -> Request<'_> {
        self.request(Method::GET, path)
    }

    pub fn post(&self, path: &str) -> Request<'_> {
        self.request(Method::POST, path)
    }

    pub fn put(&self, path: &str) -> Request<'_> {
        self.request(Method::PUT, path)
    }

    pub fn delete(&self, path: &str) -> Request<'_> {
        self.request(Method::DELETE, path)
    }

    /// The network's name, for messages.
    pub fn name(&self) -> &'static str {
        self.provider.info().name
    }
}

enum Body {
    None,
    /// Serialized once, when the request is built.
    Json(Vec<u8>),
    Form(Vec<(String, String)>),
    Multipart(reqwest::multipart::Form),
    Raw {
        body: reqwest::Body,
        content_type: String,
    },
}

/// One request being built.
pub struct Request<'a> {
    api: &'a Api<'a>,
    method: Method,
    url: String,
    query: Vec<(String, String)>,
    headers: Vec<(&'static str, String)>,
    /// OAuth 1.0a protocol parameters beyond the usual (`oauth_callback`, `oauth_verifier`).
    oauth: Vec<(&'static str, String)>,
    body: Body,
}

impl Request<'_> {
    pub fn query(mut self, pairs: &[(&str, &str)]) -> Self {
        self.query.extend(
            pairs
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned())),
        );
        self
    }

    pub fn header(mut self, name: &'static str, value: impl Into<String>) -> Self {
        self.headers.push((name, value.into()));
        self
    }

    /// An OAuth 1.0a protocol parameter, signed and sent in the `Authorization` header.
    pub fn oauth_param(mut self, name: &'static str, value: impl Into<String>) -> Self {
        self.oauth.push((name, value.into()));
        self
    }

    pub fn json(mut self, body: &impl Serialize) -> Self {
        self.body = Body::Json(serde_json::to_vec(body).unwrap_or_else(|_| b"null".to_vec()));
        self
    }

    pub fn form(mut self, pairs: &[(&str, &str)]) -> Self {
        self.body = Body::Form(
            pairs
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect(),
        );
        self
    }

    pub fn multipart(mut self, form: reqwest::multipart::Form) -> Self {
        self.body = Body::Multipart(form);
        self
    }

    /// A raw body (an upload) with its content type.
    pub fn body(mut self, body: impl Into<reqwest::Body>, content_type: &str) -> Self {
        self.body = Body::Raw {
            body: body.into(),
            content_type: content_type.to_owned(),
        };
        self
    }

    fn build(self) -> Result<reqwest::RequestBuilder> {
        let api = self.api;
        let mut real = url::Url::parse(&self.url)
            .map_err(|e| ProviderError::BadBody(format!("invalid URL {}: {e}", self.url)))?;
        if !self.query.is_empty() {
            real.query_pairs_mut().extend_pairs(&self.query);
        }
        if let Auth::Query(name, token) = &api.auth {
            real.query_pairs_mut().append_pair(name, token);
        }
        let target = api.ctx.config.providers.hosts.rewrite(real.as_str());
        let mut builder = api.ctx.http.request(self.method.clone(), target);
        match &api.auth {
            Auth::None | Auth::Query(..) => {}
            Auth::Bearer(token) => builder = builder.bearer_auth(token),
            Auth::Basic(user, password) => builder = builder.basic_auth(user, Some(password)),
            Auth::OAuth1(signer) => {
                // Signed over the real URL without its query; query and form pairs are signed.
                let mut bare = real.clone();
                bare.set_query(None);
                let pairs: Vec<(String, String)> = real
                    .query_pairs()
                    .map(|(k, v)| (k.into_owned(), v.into_owned()))
                    .chain(match &self.body {
                        Body::Form(form) => form.clone(),
                        _ => Vec::new(),
                    })
                    .collect();
                let params: Vec<(&str, &str)> = pairs
                    .iter()
                    .map(|(k, v)| (k.as_str(), v.as_str()))
                    .collect();
                let extra: Vec<(&str, &str)> =
                    self.oauth.iter().map(|(k, v)| (*k, v.as_str())).collect();
                let header = signer.header(self.method.as_str(), bare.as_str(), &params, &extra);
                builder = builder.header(reqwest::header::AUTHORIZATION, header);
            }
        }
        if let Some(agent) = &api.user_agent {
            builder = builder.header(reqwest::header::USER_AGENT, agent);
        }
        for (name, value) in self.headers {
            builder = builder.header(name, value);
        }
        Ok(match self.body {
            Body::None => builder,
            Body::Json(bytes) => builder
                .header(reqwest::header::CONTENT_TYPE, "application/json")
                .body(bytes),
            Body::Form(pairs) => builder.form(&pairs),
            Body::Multipart(form) => builder.multipart(form),
            Body::Raw { body, content_type } => builder
                .header(reqwest::header::CONTENT_TYPE, content_type)
                .body(body),
        })
    }

    /// Sends it; a 2xx answer is returned, anything else is classified.
    pub async fn send(self) -> Result<Response> {
        let provider = self.api.provider;
        let response = self.send_any().await?;
        let status = response.status();
        if status.is_success() {
            return Ok(response);
        }
        let retry_after = wait_stated(response.headers());
        let body = response.text().await.unwrap_or_default();
        Err(classify(provider, status, &body, retry_after))
    }

    /// Sends it and answers whatever status came back (protocols that speak in statuses, such
    /// as a resumable upload's 308); only a failed transport is an error.
    pub async fn send_any(self) -> Result<Response> {
        let pace = self.api.pace.clone();
        if let Some((key, every)) = &pace {
            wait_turn(key, *every).await;
        }
        let response = self.build()?.send().await.map_err(transport_error)?;
        if let Some((key, _)) = &pace {
            note_window(key, response.headers());
        }
        Ok(response)
    }

    /// Sends it and reads the JSON answer as `T`.
    pub async fn read<T: DeserializeOwned>(self) -> Result<T> {
        let name = self.api.name();
        let text = self.text().await?;
        serde_json::from_str(&text).map_err(|e| {
            ProviderError::BadBody(format!(
                "{name} answered something unexpected ({e}): {}",
                truncate(&text, 300)
            ))
        })
    }

    /// Sends it and reads the answer as text.
    pub async fn text(self) -> Result<String> {
        self.send().await?.text().await.map_err(transport_error)
    }
}

/// How long the platform asks us to wait: `Retry-After` in seconds, else, on an answer that
/// says no requests remain, `X-RateLimit-Reset` / `X-Ratelimit-Reset` (seconds until the
/// window resets, as Reddit sends it, or the moment it resets in Unix seconds, as Dribbble
/// and GitHub-style APIs send it).
pub fn wait_stated(headers: &reqwest::header::HeaderMap) -> Option<Duration> {
    match number(headers, "retry-after") {
        Some(seconds) => Some(Duration::from_secs(seconds.ceil() as u64)),
        None => window_reset(headers),
    }
}

/// Until the rate-limit window resets, when an answer says no requests remain in it.
fn window_reset(headers: &reqwest::header::HeaderMap) -> Option<Duration> {
    if number(headers, "x-ratelimit-remaining").is_none_or(|left| left >= 1.0) {
        return None;
    }
    let reset = number(headers, "x-ratelimit-reset")?;
    // Past a billion it is a moment (2001 onwards), not a count of seconds.
    let seconds = if reset > 1e9 {
        reset - chrono::Utc::now().timestamp() as f64
    } else {
        reset
    };
    Some(Duration::from_secs(seconds.max(1.0).ceil() as u64))
}

/// A header's value as a number that is not negative.
fn number(headers: &reqwest::header::HeaderMap, name: &str) -> Option<f64> {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<f64>().ok())
        .filter(|n| n.is_finite() && *n >= 0.0)
}

/// Waits `every`, then checks, until `check` gives a value, at most `times` times; then the
/// platform is "still processing" (retry later).
pub async fn poll_until<T, F, Fut>(
    every: Duration,
    times: u32,
    what: &str,
    mut check: F,
) -> Result<T>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<Option<T>>>,
{
    for _ in 0..times {
        tokio::time::sleep(every).await;
        if let Some(done) = check().await? {
            return Ok(done);
        }
    }
    Err(ProviderError::retry(format!("{what} is still processing")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_wait_a_platform_states_is_read_from_its_headers() {
        let headers = |pairs: &[(&'static str, String)]| {
            let mut map = reqwest::header::HeaderMap::new();
            for (name, value) in pairs {
                map.insert(*name, value.parse().unwrap());
            }
            map
        };
        let wait = |pairs: &[(&'static str, String)]| wait_stated(&headers(pairs));
        assert_eq!(
            wait(&[("retry-after", "120".into())]),
            Some(Duration::from_secs(120))
        );
        assert_eq!(
            wait(&[
                ("x-ratelimit-remaining", "0.0".into()),
                ("x-ratelimit-reset", "42".into())
            ]),
            Some(Duration::from_secs(42))
        );
        let in_a_minute = (chrono::Utc::now().timestamp() + 60).to_string();
        let stated = wait(&[
            ("x-ratelimit-remaining", "0".into()),
            ("x-ratelimit-reset", in_a_minute),
        ])
        .unwrap()
        .as_secs();
        assert!((58..=61).contains(&stated), "{stated}");
        // Requests left: the reset is no reason to wait.
        assert_eq!(
            wait(&[
                ("x-ratelimit-remaining", "7".into()),
                ("x-ratelimit-reset", "42".into())
            ]),
            None
        );
        assert_eq!(wait(&[]), None);
    }

    #[tokio::test]
    async fn paced_requests_keep_their_distance() {
        let every = Duration::from_millis(50);
        let start = tokio::time::Instant::now();
        for _ in 0..3 {
            wait_turn("paced-test", every).await;
        }
        let paced = start.elapsed();
        assert!(paced >= Duration::from_millis(100), "{paced:?}");
        let mut headers = reqwest::header::HeaderMap::new();
        headers.insert("x-ratelimit-remaining", "0".parse().unwrap());
        headers.insert("x-ratelimit-reset", "1".parse().unwrap());
        note_window("paced-test", &headers);
        let held = tokio::time::Instant::now();
        wait_turn("paced-test", every).await;
        assert!(
            held.elapsed() >= Duration::from_millis(900),
            "{:?}",
            held.elapsed()
        );
        // Another key is not held.
        let other = tokio::time::Instant::now();
        wait_turn("other-test", every).await;
        assert!(other.elapsed() < Duration::from_millis(50));
    }

    #[tokio::test]
    async fn poll_until_stops_at_the_first_answer_or_gives_up() {
        let mut calls = 0;
        let found = poll_until(Duration::from_millis(1), 5, "the media", || {
            calls += 1;
            let n = calls;
            async move { Ok((n == 3).then_some(n)) }
        })
        .await;
        assert_eq!(found, Ok(3));
        let gave_up: Result<(), _> =
            poll_until(Duration::from_millis(1), 2, "the media", || async {
                Ok(None)
            })
            .await;
        assert_eq!(
            gave_up,
            Err(ProviderError::retry("the media is still processing"))
        );
    }
}
