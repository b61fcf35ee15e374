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
}

impl<'a> Api<'a> {
    /// `base` is the platform's real base URL (`https://api.x.com`, an instance URL).
    pub fn new(provider: &'a dyn Provider, ctx: &'a Ctx<'a>, base: &str, auth: Auth<'a>) -> Self {
        Api {
            provider,
            ctx,
            base: base.trim_end_matches('/').to_owned(),
            auth,
        }
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
        let response = self.build()?.send().await.map_err(transport_error)?;
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

    /// Sends it and answers whatever status came back (protocols that speak in statuses, such
    /// as a resumable upload's 308); only a failed transport is an error.
    pub async fn send_any(self) -> Result<Response> {
        self.build()?.send().await.map_err(transport_error)
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
