//! Fake networks, one module each: what a network's fake server answers (`mount_…`) and,
//! where tests share it, the helper that connects a channel to it. Checks a single test makes
//! stay in that test. Here: what the fakes share (a tiny PNG, media served by a fake, trusting
//! a fake's address) and the OAuth 1.0a signature check (RFC 5849) a real server performs.

pub mod bluesky;
pub mod dribbble;
pub mod facebook;
pub mod gmb;
pub mod instagram;
pub mod linkedin;
pub mod mastodon;
pub mod pinterest;
pub mod reddit;
pub mod sketch;
pub mod threads;
pub mod tiktok;
pub mod x;
pub mod youtube;

use std::collections::BTreeMap;

use base64::Engine;
use hmac::{Hmac, Mac};
use sha1::Sha1;
use socialgate::providers::MediaItem;
use wiremock::Request;

/// The network's callback with `query` (code and state) as the browser brings it back, on the
/// `/postiz` prefix; answers the new channel's id.
pub async fn callback(
    app: &crate::helpers::TestApp,
    key: &str,
    network: &str,
    query: &str,
) -> String {
    let r = crate::helpers::client()
        .get(app.url(&format!("/postiz/integrations/social/{network}?{query}")))
        .send()
        .await
        .unwrap();
    assert_eq!(
        r.status(),
        reqwest::StatusCode::OK,
        "{}",
        r.text().await.unwrap()
    );
    app.channel_id(key, network).await
}

/// A 1×1 PNG.
pub const PNG: &[u8] = &[
    0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0x00, 0x00, 0x00, 0x0D, 0x49, 0x48, 0x44, 0x52,
    0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x08, 0x06, 0x00, 0x00, 0x00, 0x1F, 0x15, 0xC4,
    0x89, 0x00, 0x00, 0x00, 0x0D, 0x49, 0x44, 0x41, 0x54, 0x78, 0x9C, 0x63, 0x00, 0x01, 0x00, 0x00,
    0x05, 0x00, 0x01, 0x0D, 0x0A, 0x2D, 0xB4, 0x00, 0x00, 0x00, 0x00, 0x49, 0x45, 0x4E, 0x44, 0xAE,
    0x42, 0x60, 0x82,
];

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
        dimensions: None,
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
/// `server` is the base URL the signature covers (the request itself names the fake's host).
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
