//! A fake YouTube: Google's OAuth 2 (client in the form body, a refresh token, refreshes that
//! keep it), `channels.list?mine=true`, and the resumable upload protocol as Google documents
//! it: a session opened with `X-Upload-Content-Length`/`-Type` and the JSON metadata, chunks
//! that must start where the last acknowledged byte ends and be multiples of 256 KiB (but the
//! last), 308 with `Range` until the end, and `bytes */total` to ask where it stands. The
//! second chunk is cut off once (only 256 KiB of it kept, then 503), as a dropped connection
//! would. Thumbnails and YouTube Analytics too.

use std::sync::{Arc, Mutex};

use reqwest::StatusCode;
use serde_json::{Value, json};
use wiremock::matchers::{method, path, query_param};
use wiremock::{Mock, MockServer, Request, ResponseTemplate};

use super::facebook::form_has;
use crate::helpers::{TestApp, client, query_param as url_param};

/// The `SOCIALGATE_PROVIDER_HOSTS` value that sends Google's hosts to the fake.
pub fn hosts(server: &MockServer) -> String {
    format!(
        "accounts.google.com={0} oauth2.googleapis.com={0} www.googleapis.com={0} youtubeanalytics.googleapis.com={0}",
        server.uri()
    )
}

const KIB_256: usize = 256 * 1024;

fn bearer(token: &'static str) -> impl Fn(&Request) -> bool {
    move |req: &Request| {
        req.headers
            .get("authorization")
            .is_some_and(|v| v.to_str().unwrap_or("") == format!("Bearer {token}"))
    }
}

/// Google's error body.
pub fn error(status: u16, domain: &str, reason: &str, message: &str) -> ResponseTemplate {
    ResponseTemplate::new(status).set_body_json(json!({ "error": {
        "code": status, "message": message,
        "errors": [{ "message": message, "domain": domain, "reason": reason }]
    }}))
}

/// The app `yt-id`/`yt-secret`: the code `yt-code` is worth `ya29.one` with the refresh token
/// `1//yt-refresh`, which renews to `ya29.two`; the channel is ada's (`UC-ada`).
pub async fn mount_login(server: &MockServer, scope: &str) {
    let granted = scope.to_owned();
    Mock::given(method("POST"))
        .and(path("/token"))
        .and(|req: &Request| {
            form_has(req, "grant_type", "authorization_code")
                && form_has(req, "code", "yt-code")
                && form_has(req, "client_id", "yt-id")
                && form_has(req, "client_secret", "yt-secret")
                && url::form_urlencoded::parse(&req.body).any(|(k, v)| {
                    k == "redirect_uri" && v.ends_with("/postiz/integrations/social/youtube")
                })
        })
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "access_token": "ya29.one", "expires_in": 3599, "refresh_token": "1//yt-refresh",
            "scope": granted, "token_type": "Bearer"
        })))
        .mount(server)
        .await;
    let granted = scope.to_owned();
    Mock::given(method("POST"))
        .and(path("/token"))
        .and(|req: &Request| {
            form_has(req, "grant_type", "refresh_token")
                && form_has(req, "refresh_token", "1//yt-refresh")
                && form_has(req, "client_secret", "yt-secret")
        })
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "access_token": "ya29.two", "expires_in": 3599, "scope": granted, "token_type": "Bearer"
        })))
        .mount(server)
        .await;
    for token in ["ya29.one", "ya29.two"] {
        Mock::given(method("GET"))
            .and(path("/youtube/v3/channels"))
            .and(query_param("mine", "true"))
            .and(query_param("part", "snippet,statistics"))
            .and(bearer(token))
            .respond_with(ResponseTemplate::new(200).set_body_json(json!({
                "kind": "youtube#channelListResponse", "pageInfo": { "totalResults": 1, "resultsPerPage": 5 },
                "items": [{ "kind": "youtube#channel", "id": "UC-ada",
                    "snippet": { "title": "Ada's Channel", "customUrl": "@ada",
                        "thumbnails": { "default": { "url": "https://yt3.ggpht.com/ada=s88", "width": 88, "height": 88 } } },
                    "statistics": { "viewCount": "129292", "subscriberCount": "713", "videoCount": "55" } }]
            })))
            .mount(server)
            .await;
    }
}

/// What the fake received.
#[derive(Clone, Default)]
pub struct Upload {
    /// The session's metadata (the JSON body that opened it).
    pub metadata: Arc<Mutex<Value>>,
    /// The bytes YouTube kept, in order.
    pub bytes: Arc<Mutex<Vec<u8>>>,
    /// Each PUT's `Content-Range`.
    pub ranges: Arc<Mutex<Vec<String>>>,
    pub thumbnails: Arc<Mutex<usize>>,
}

/// The resumable upload of one video (`vid-1`) with `token`.
pub async fn mount_upload(server: &MockServer, token: &'static str) -> Upload {
    let seen = Upload::default();
    let (metadata, base) = (seen.metadata.clone(), server.uri());
    Mock::given(method("POST"))
        .and(path("/upload/youtube/v3/videos"))
        .and(query_param("uploadType", "resumable"))
        .and(query_param("part", "snippet,status"))
        .and(bearer(token))
        .respond_with(move |req: &Request| {
            let header = |n: &str| req.headers.get(n).and_then(|v| v.to_str().ok()).unwrap_or("");
            let body: Value = serde_json::from_slice(&req.body).unwrap_or_default();
            let valid = header("x-upload-content-length").parse::<u64>().is_ok()
                && header("x-upload-content-type").starts_with("video/")
                && header("content-type").starts_with("application/json")
                && body["snippet"]["title"].is_string()
                && body["snippet"]["categoryId"].is_string()
                && body["status"]["privacyStatus"].is_string();
            if !valid {
                return error(400, "youtube.video", "invalidMetadata", "The request metadata is invalid.");
            }
            *metadata.lock().unwrap() = body;
            ResponseTemplate::new(200).insert_header(
                "location",
                format!("{base}/upload/youtube/v3/videos?uploadType=resumable&upload_id=up-1&part=snippet,status"),
            )
        })
        .mount(server)
        .await;
    let (bytes, ranges) = (seen.bytes.clone(), seen.ranges.clone());
    let cut = Arc::new(Mutex::new(false));
    Mock::given(method("PUT"))
        .and(path("/upload/youtube/v3/videos"))
        .and(query_param("upload_id", "up-1"))
        .respond_with(move |req: &Request| {
            let range = req
                .headers
                .get("content-range")
                .and_then(|v| v.to_str().ok())
                .unwrap_or("")
                .to_owned();
            ranges.lock().unwrap().push(range.clone());
            let mut kept = bytes.lock().unwrap();
            let at = |n: usize| {
                let mut r = ResponseTemplate::new(308);
                if n > 0 {
                    r = r.insert_header("range", format!("bytes=0-{}", n - 1));
                }
                r
            };
            let Some(spec) = range.strip_prefix("bytes ") else {
                return ResponseTemplate::new(400);
            };
            let (span, total) = spec.split_once('/').unwrap_or_default();
            let total: usize = total.parse().unwrap_or(0);
            if span == "*" {
                return at(kept.len());
            }
            let (first, last) = span.split_once('-').unwrap_or_default();
            let (first, last): (usize, usize) = (
                first.parse().unwrap_or(usize::MAX),
                last.parse().unwrap_or(0),
            );
            let len = last + 1 - first;
            let is_last = last + 1 == total;
            if first != kept.len() || len != req.body.len() || (!is_last && len % KIB_256 != 0) {
                return ResponseTemplate::new(400).set_body_string("bad Content-Range");
            }
            let mut cut = cut.lock().unwrap();
            if first > 0 && !*cut {
                // The connection drops: part of the chunk arrived.
                *cut = true;
                kept.extend_from_slice(&req.body[..KIB_256]);
                return ResponseTemplate::new(503);
            }
            kept.extend_from_slice(&req.body);
            if kept.len() < total {
                return at(kept.len());
            }
            ResponseTemplate::new(201).set_body_json(json!({
                "kind": "youtube#video", "id": "vid-1",
                "status": { "uploadStatus": "uploaded" }
            }))
        })
        .mount(server)
        .await;
    let thumbnails = seen.thumbnails.clone();
    Mock::given(method("POST"))
        .and(path("/upload/youtube/v3/thumbnails/set"))
        .and(query_param("videoId", "vid-1"))
        .and(bearer(token))
        .respond_with(move |req: &Request| {
            if !req.body.starts_with(b"\x89PNG") {
                return error(
                    400,
                    "youtube.thumbnail",
                    "invalidImage",
                    "The provided image content is invalid.",
                );
            }
            *thumbnails.lock().unwrap() += 1;
            ResponseTemplate::new(200)
                .set_body_json(json!({ "kind": "youtube#thumbnailSetResponse", "items": [] }))
        })
        .mount(server)
        .await;
    seen
}

/// Connects ada's channel; returns the channel id.
pub async fn connect(app: &TestApp, key: &str, org: &str, server: &MockServer) -> String {
    app.set_credentials(org, "youtube", "yt-id", "yt-secret", None)
        .await;
    let url = app.connect_url(key, "youtube").await;
    assert!(
        url.starts_with(&format!("{}/o/oauth2/v2/auth?", server.uri())),
        "{url}"
    );
    assert_eq!(url_param(&url, "access_type").as_deref(), Some("offline"));
    assert_eq!(url_param(&url, "prompt").as_deref(), Some("consent"));
    mount_login(server, &url_param(&url, "scope").unwrap()).await;
    let state = url_param(&url, "state").unwrap();
    let r = client()
        .get(app.url(&format!(
            "/postiz/integrations/social/youtube?code=yt-code&state={state}"
        )))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK, "{}", r.text().await.unwrap());
    app.channel_id(key, "youtube").await
}
