//! What the provider tests share: API calls as a client makes them, the OAuth 1.0a check a
//! real X server performs, a tiny PNG, and direct calls into the provider layer.

use std::collections::BTreeMap;

use base64::Engine;
use hmac::{Hmac, Mac};
use reqwest::{Client, StatusCode};
use serde_json::Value;
use sha1::Sha1;
use socialgate::providers::channels::{self, Channel};
use socialgate::providers::{
    ChannelAuth, Ctx, MediaItem, PostDetails, PostOutcome, Published, Thread,
};
use wiremock::Request;

use crate::helpers::{TestApp, client};

/// A 1×1 PNG.
pub const PNG: &[u8] = &[
    0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0x00, 0x00, 0x00, 0x0D, 0x49, 0x48, 0x44, 0x52,
    0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x08, 0x06, 0x00, 0x00, 0x00, 0x1F, 0x15, 0xC4,
    0x89, 0x00, 0x00, 0x00, 0x0D, 0x49, 0x44, 0x41, 0x54, 0x78, 0x9C, 0x63, 0x00, 0x01, 0x00, 0x00,
    0x05, 0x00, 0x01, 0x0D, 0x0A, 0x2D, 0xB4, 0x00, 0x00, 0x00, 0x00, 0x49, 0x45, 0x4E, 0x44, 0xAE,
    0x42, 0x60, 0x82,
];

impl TestApp {
    /// `GET /public/v1{path}` with this credential.
    pub async fn api_get(&self, credential: &str, path: &str) -> (StatusCode, Value) {
        self.authed_get(credential, &format!("/public/v1{path}"))
            .await
    }

    /// `GET {path}` with this credential in `Authorization`.
    pub async fn authed_get(&self, credential: &str, path: &str) -> (StatusCode, Value) {
        let r = client()
            .get(self.url(path))
            .header("Authorization", credential)
            .send()
            .await
            .unwrap();
        let status = r.status();
        (status, r.json().await.unwrap_or(Value::Null))
    }

    /// The URL `GET /public/v1/social/{provider}` answers with.
    pub async fn connect_url(&self, key: &str, provider_and_query: &str) -> String {
        let (status, body) = self
            .api_get(key, &format!("/social/{provider_and_query}"))
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        body["url"].as_str().unwrap().to_owned()
    }

    /// Connects the sandbox as an API client would: follow the URL with any HTTP client.
    pub async fn connect_sandbox(&self, key: &str) -> Value {
        let url = self.connect_url(key, "sandbox").await;
        let r = Client::new().get(url).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::OK);
        let (_, list) = self.api_get(key, "/integrations").await;
        list.as_array()
            .unwrap()
            .iter()
            .find(|c| c["identifier"] == "sandbox")
            .cloned()
            .expect("the sandbox channel is listed")
    }

    /// A channel row by its id.
    pub async fn channel(&self, org: &str, id: &str) -> Channel {
        let (org, id) = (org.to_owned(), id.to_owned());
        self.state
            .db
            .run(move |conn| channels::get(conn, &org, &id))
            .await
            .unwrap()
    }

    /// The channel's credentials, refreshed first if they are about to expire.
    pub async fn channel_auth(&self, channel: &Channel) -> ChannelAuth {
        channels::fresh_auth(&self.state, channel).await.unwrap()
    }

    /// Publishes through the channel's provider, as the worker does.
    pub async fn publish(
        &self,
        channel: &Channel,
        text: &str,
        media: Vec<MediaItem>,
        thread: Option<&Thread>,
    ) -> Result<Published, socialgate::providers::ProviderError> {
        let provider = channel.provider().unwrap();
        let auth = channels::fresh_auth(&self.state, channel)
            .await
            .map_err(|e| match e {
                channels::FreshAuthError::Provider(p) => p,
                other => panic!("{other}"),
            })?;
        let post = PostDetails {
            id: socialgate::crypto::new_id(),
            message: text.to_owned(),
            settings: Value::Object(Default::default()),
            media,
        };
        let ctx = Ctx::of(&self.state);
        let outcome = provider.publish(&ctx, &auth, &post, thread).await?;
        match outcome {
            PostOutcome::Published(p) => Ok(p),
            PostOutcome::Pending(v) => panic!("unexpected pending publish: {v}"),
        }
    }

    /// Stores an organization's app credentials for a network.
    pub async fn set_credentials(
        &self,
        org: &str,
        provider: &str,
        id: &str,
        secret: &str,
        instance: Option<&str>,
    ) {
        let (keys, db) = (self.state.keys.clone(), self.state.db.clone());
        let (org, provider, id, secret, instance) = (
            org.to_owned(),
            provider.to_owned(),
            id.to_owned(),
            secret.to_owned(),
            instance.map(str::to_owned),
        );
        actix_web::web::block(move || {
            socialgate::admin::set_provider_credentials(
                &mut db.get().unwrap(),
                &keys,
                &org,
                &provider,
                &id,
                &secret,
                None,
                instance.as_deref(),
            )
        })
        .await
        .unwrap()
        .unwrap();
    }
}

/// The `host:port` of a fake, for `SOCIALGATE_FETCH_TRUSTED_HOSTS` (fakes are local http).
pub fn trusted(server: &wiremock::MockServer) -> String {
    server.address().to_string()
}

/// An image medium served by a fake at `path`.
pub fn image(url: &str, alt: Option<&str>) -> MediaItem {
    MediaItem {
        kind: "image".into(),
        path: url.to_owned(),
        alt: alt.map(str::to_owned),
        thumbnail: None,
    }
}

fn encode(s: &str) -> String {
    socialgate::percent::url_encode(s)
}

/// The parameters of an `Authorization: OAuth …` header.
pub fn oauth_params(req: &Request) -> BTreeMap<String, String> {
    let header = req
        .headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let Some(rest) = header.strip_prefix("OAuth ") else {
        return BTreeMap::new();
    };
    rest.split(", ")
        .filter_map(|p| {
            let (k, v) = p.split_once('=')?;
            let v = v.trim_matches('"');
            let decode = |s: &str| {
                url::form_urlencoded::parse(format!("x={}", s.replace('+', "%2B")).as_bytes())
                    .next()
                    .map(|(_, v)| v.into_owned())
                    .unwrap_or_default()
            };
            Some((decode(k), decode(v)))
        })
        .collect()
}

/// Whether the request carries a valid HMAC-SHA1 OAuth 1.0a signature (RFC 5849 §3.4), as X
/// checks it: query parameters and oauth_* parameters signed, JSON or multipart bodies not.
/// `server` is the fake's base URL (the request itself names its host `localhost`).
pub fn oauth1_valid(
    req: &Request,
    server: &str,
    consumer_secret: &str,
    token_secret: &str,
) -> bool {
    let params = oauth_params(req);
    let Some(signature) = params.get("oauth_signature") else {
        return false;
    };
    if params.get("oauth_signature_method").map(String::as_str) != Some("HMAC-SHA1")
        || params.get("oauth_version").map(String::as_str) != Some("1.0")
        || !params.contains_key("oauth_nonce")
        || !params.contains_key("oauth_timestamp")
    {
        return false;
    }
    let mut all: Vec<(String, String)> = params
        .iter()
        .filter(|(k, _)| *k != "oauth_signature")
        .map(|(k, v)| (encode(k), encode(v)))
        .collect();
    for (k, v) in req.url.query_pairs() {
        all.push((encode(&k), encode(&v)));
    }
    all.sort();
    let normalized: Vec<String> = all.iter().map(|(k, v)| format!("{k}={v}")).collect();
    let base_url = format!("{server}{}", req.url.path());
    let base = format!(
        "{}&{}&{}",
        req.method.as_str(),
        encode(&base_url),
        encode(&normalized.join("&"))
    );
    let key = format!("{}&{}", encode(consumer_secret), encode(token_secret));
    let mut mac = Hmac::<Sha1>::new_from_slice(key.as_bytes()).unwrap();
    mac.update(base.as_bytes());
    let expected = base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes());
    &expected == signature
}
