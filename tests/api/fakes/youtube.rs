//! A fake YouTube: Google's OAuth 2 (client in the form body, a refresh token, refreshes that
//! keep it), `channels.list?mine=true`, and the resumable upload protocol as Google documents
//! it: a session opened with `X-Upload-Content-Length`/`-Type` and the JSON metadata, chunks
//! that must start where the last acknowledged byte ends and be multiples of 256 KiB (but the
//! last), 308 with `Range` until the end, and `bytes */total` to ask where it stands. The
//! first session's second chunk is cut off once (only 256 KiB of it kept, then 503), and an
//! upload host on a raw socket really drops the connection mid-chunk. Thumbnails and YouTube
//! Analytics too.

use std::sync::{Arc, Mutex};

use reqwest::StatusCode;
use serde_json::{Value, json};
use socialgate::providers::MediaItem;
use wiremock::matchers::{method, path, query_param};
use wiremock::{Mock, MockServer, Request, ResponseTemplate};

use super::facebook::form_has;
use crate::helpers::{TestApp, client, query_param as url_param};

/// The `SOCIALGATE_PROVIDER_HOSTS` value that sends Google's hosts to the fake.
pub fn hosts(server: &MockServer) -> String {
    format!(
        "accounts.google.com={0} oauth2.googleapis.com={0} www.googleapis.com={0} \
         youtubeanalytics.googleapis.com={0} openidconnect.googleapis.com={0}",
        server.uri()
    )
}

const KIB_256: usize = 256 * 1024;

/// An MP4 of `len` bytes (the header is what the type check reads).
pub fn mp4(len: usize) -> Vec<u8> {
    let mut video = b"\0\0\0\x18ftypisom\0\0\x02\0isomiso2avc1mp41".to_vec();
    video.extend((0..len - video.len()).map(|i| (i % 251) as u8));
    video
}

/// A post's video, by the path its upload answered.
pub fn video_item(path: &Value) -> MediaItem {
    MediaItem {
        kind: "video".into(),
        path: path.as_str().unwrap().to_owned(),
        alt: None,
        thumbnail: None,
        dimensions: None,
    }
}

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
    /// The last session's metadata (the JSON body that opened it).
    pub metadata: Arc<Mutex<Value>>,
    /// Each session's bytes, as YouTube kept them, in order (session `up-N` is `N - 1`).
    pub sessions: Arc<Mutex<Vec<Vec<u8>>>>,
    /// Each PUT's `Content-Range`.
    pub ranges: Arc<Mutex<Vec<String>>>,
    pub thumbnails: Arc<Mutex<usize>>,
}

impl Upload {
    /// What the first session kept.
    pub fn first(&self) -> Vec<u8> {
        self.sessions
            .lock()
            .unwrap()
            .first()
            .cloned()
            .unwrap_or_default()
    }
}

/// A PUT's answer: status, an optional `Range` header, and the body.
pub type Answer = (u16, Option<String>, String);

/// Answers one PUT to a session as YouTube does: a chunk must start where the kept bytes end
/// and be a multiple of 256 KiB unless it is the last; `bytes */total` asks where it stands.
fn answer_put(kept: &mut Vec<u8>, range: &str, body: &[u8], id: usize) -> Answer {
    let at = |n: usize| {
        (
            308,
            (n > 0).then(|| format!("bytes=0-{}", n - 1)),
            String::new(),
        )
    };
    let Some(spec) = range.strip_prefix("bytes ") else {
        return (400, None, "bad Content-Range".into());
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
    let len = (last + 1).saturating_sub(first);
    let is_last = last + 1 == total;
    if first != kept.len() || len != body.len() || (!is_last && len % KIB_256 != 0) {
        return (400, None, "bad Content-Range".into());
    }
    kept.extend_from_slice(body);
    if kept.len() < total {
        return at(kept.len());
    }
    let video = json!({ "kind": "youtube#video", "id": format!("vid-{id}"),
        "status": { "uploadStatus": "uploaded" } });
    (201, None, video.to_string())
}

fn header<'a>(req: &'a Request, name: &str) -> &'a str {
    req.headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
}

/// The resumable upload with `token`: each session `up-N` uploads the video `vid-N`. Sessions
/// live on the fake itself, where the second chunk of the first session is cut off once (only
/// 256 KiB of it kept, then 503), or with `uploads_at` on another host (a `Dropping` one).
pub async fn mount_upload(server: &MockServer, token: &'static str) -> Upload {
    mount_upload_at(server, token, None, Upload::default()).await
}

/// `mount_upload`, the sessions' URIs on `uploads_at` when given, the record kept in `seen`.
pub async fn mount_upload_at(
    server: &MockServer,
    token: &'static str,
    uploads_at: Option<String>,
    seen: Upload,
) -> Upload {
    let (metadata, sessions) = (seen.metadata.clone(), seen.sessions.clone());
    let base = uploads_at.unwrap_or_else(|| server.uri());
    Mock::given(method("POST"))
        .and(path("/upload/youtube/v3/videos"))
        .and(query_param("uploadType", "resumable"))
        .and(query_param("part", "snippet,status"))
        .and(bearer(token))
        .respond_with(move |req: &Request| {
            let body: Value = serde_json::from_slice(&req.body).unwrap_or_default();
            let valid = header(req, "x-upload-content-length").parse::<u64>().is_ok()
                && header(req, "x-upload-content-type").starts_with("video/")
                && header(req, "content-type").starts_with("application/json")
                && body["snippet"]["title"].is_string()
                && body["snippet"]["categoryId"].is_string()
                && body["status"]["privacyStatus"].is_string();
            if !valid {
                return error(400, "youtube.video", "invalidMetadata", "The request metadata is invalid.");
            }
            *metadata.lock().unwrap() = body;
            let mut sessions = sessions.lock().unwrap();
            sessions.push(Vec::new());
            ResponseTemplate::new(200).insert_header(
                "location",
                format!("{base}/upload/youtube/v3/videos?uploadType=resumable&upload_id=up-{}&part=snippet,status",
                    sessions.len()),
            )
        })
        .mount(server)
        .await;
    let (sessions, ranges) = (seen.sessions.clone(), seen.ranges.clone());
    let cut = Arc::new(Mutex::new(false));
    Mock::given(method("PUT"))
        .and(path("/upload/youtube/v3/videos"))
        .respond_with(move |req: &Request| {
            let range = header(req, "content-range").to_owned();
            ranges.lock().unwrap().push(range.clone());
            let id = session_of(req.url.query().unwrap_or(""));
            let mut sessions = sessions.lock().unwrap();
            let Some(kept) = id.and_then(|n| sessions.get_mut(n - 1)) else {
                return ResponseTemplate::new(404);
            };
            let mut cut = cut.lock().unwrap();
            if id == Some(1) && !kept.is_empty() && !*cut && range.contains('-') {
                // The connection drops: part of the chunk arrived.
                *cut = true;
                kept.extend_from_slice(&req.body[..KIB_256]);
                return ResponseTemplate::new(503);
            }
            let (status, at, body) = answer_put(kept, &range, &req.body, id.unwrap_or(0));
            let mut answer = ResponseTemplate::new(status).set_body_string(body);
            if let Some(at) = at {
                answer = answer.insert_header("range", at);
            }
            answer
        })
        .mount(server)
        .await;
    let thumbnails = seen.thumbnails.clone();
    Mock::given(method("POST"))
        .and(path("/upload/youtube/v3/thumbnails/set"))
        .and(bearer(token))
        .respond_with(move |req: &Request| {
            let video = url::form_urlencoded::parse(req.url.query().unwrap_or("").as_bytes())
                .any(|(k, v)| k == "videoId" && v.starts_with("vid-"));
            if !video {
                return error(
                    404,
                    "youtube.video",
                    "videoNotFound",
                    "The video could not be found.",
                );
            }
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

/// The session number of an upload URI's query (`upload_id=up-N`).
fn session_of(query: &str) -> Option<usize> {
    url::form_urlencoded::parse(query.as_bytes())
        .find(|(k, _)| k == "upload_id")
        .and_then(|(_, v)| v.strip_prefix("up-")?.parse().ok())
}

/// An upload host on a plain TCP socket, speaking HTTP/1.1 itself, that really drops the
/// connection: the first chunk after the first is read up to `drop_after` bytes of its body,
/// then the socket is closed without an answer, and YouTube keeps what arrived, rounded down
/// to 256 KiB. Answers otherwise as the fake does.
pub struct Dropping {
    pub uri: String,
    pub dropped: Arc<Mutex<usize>>,
}

impl Dropping {
    pub async fn start(seen: &Upload, drop_after: usize) -> Dropping {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let uri = format!("http://{}", listener.local_addr().unwrap());
        let dropped: Arc<Mutex<usize>> = Arc::default();
        let (sessions, ranges, drops) =
            (seen.sessions.clone(), seen.ranges.clone(), dropped.clone());
        tokio::spawn(async move {
            while let Ok((socket, _)) = listener.accept().await {
                let (sessions, ranges, drops) = (sessions.clone(), ranges.clone(), drops.clone());
                tokio::spawn(serve(socket, sessions, ranges, drops, drop_after));
            }
        });
        Dropping { uri, dropped }
    }
}

/// Serves the requests of one connection until it closes or is dropped on purpose.
async fn serve(
    socket: tokio::net::TcpStream,
    sessions: Arc<Mutex<Vec<Vec<u8>>>>,
    ranges: Arc<Mutex<Vec<String>>>,
    dropped: Arc<Mutex<usize>>,
    drop_after: usize,
) {
    use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
    let mut socket = BufReader::new(socket);
    loop {
        let mut line = String::new();
        if socket.read_line(&mut line).await.unwrap_or(0) == 0 {
            return;
        }
        let target = line.split_whitespace().nth(1).unwrap_or("").to_owned();
        let (mut length, mut range) = (0usize, String::new());
        loop {
            let mut h = String::new();
            if socket.read_line(&mut h).await.unwrap_or(0) == 0 {
                return;
            }
            let h = h.trim_end();
            if h.is_empty() {
                break;
            }
            let (name, value) = h.split_once(':').unwrap_or_default();
            match name.trim().to_ascii_lowercase().as_str() {
                "content-length" => length = value.trim().parse().unwrap_or(0),
                "content-range" => range = value.trim().to_owned(),
                _ => {}
            }
        }
        ranges.lock().unwrap().push(range.clone());
        let id = session_of(target.split_once('?').map_or("", |(_, q)| q)).unwrap_or(0);
        let resuming = sessions
            .lock()
            .unwrap()
            .get(id.wrapping_sub(1))
            .is_some_and(|k| !k.is_empty());
        if resuming && range.contains('-') && *dropped.lock().unwrap() == 0 {
            let mut part = vec![0; drop_after.min(length)];
            if socket.read_exact(&mut part).await.is_err() {
                return;
            }
            let mut sessions = sessions.lock().unwrap();
            let kept = &mut sessions[id - 1];
            kept.extend_from_slice(&part[..part.len() / KIB_256 * KIB_256]);
            *dropped.lock().unwrap() += 1;
            return; // the socket closes with the rest of the chunk unread
        }
        let mut body = vec![0; length];
        if socket.read_exact(&mut body).await.is_err() {
            return;
        }
        let (status, at, text) = match sessions.lock().unwrap().get_mut(id.wrapping_sub(1)) {
            Some(kept) => answer_put(kept, &range, &body, id),
            None => (404, None, String::new()),
        };
        let mut head = format!("HTTP/1.1 {status} X\r\ncontent-length: {}\r\n", text.len());
        if let Some(at) = at {
            head.push_str(&format!("range: {at}\r\n"));
        }
        if status == 201 {
            head.push_str("content-type: application/json\r\n");
        }
        head.push_str("\r\n");
        let written = socket.get_mut().write_all(head.as_bytes()).await;
        if written.is_err() || socket.get_mut().write_all(text.as_bytes()).await.is_err() {
            return;
        }
    }
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
