//! A fake TikTok: Login Kit's token endpoint (`client_key`, the form body, flat answers and flat
//! errors, refresh tokens that rotate), `user/info`, and the Content Posting API as TikTok
//! documents it: every answer in `{"data", "error": {"code", "message", "log_id"}}`,
//! `creator_info` with a creator who turned duets off and may post 60 seconds, inits that
//! refuse a privacy level the creator does not offer (`privacy_level_option_mismatch`) or an
//! interaction the creator turned off, `FILE_UPLOAD` chunk rules (5 to 64 MB, the count rounded
//! down, the last chunk taking the rest, sent in order with `Content-Range`: 206 then 201),
//! photos pulled by URL (JPEG or WebP only), and a status that is `PROCESSING_UPLOAD` once,
//! then `PUBLISH_COMPLETE` (`SEND_TO_USER_INBOX` for an inbox upload).

use std::sync::{Arc, Mutex};

use serde_json::{Value, json};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, Request, ResponseTemplate};

use super::facebook::form_has;
use crate::helpers::{TestApp, query_param};

/// The `SOCIALGATE_PROVIDER_HOSTS` value that sends TikTok's hosts to the fake.
pub fn hosts(server: &MockServer) -> String {
    format!(
        "www.tiktok.com={0} open.tiktokapis.com={0} open-upload.tiktokapis.com={0}",
        server.uri()
    )
}

/// TikTok's envelope around `data`.
pub fn ok(data: Value) -> ResponseTemplate {
    ResponseTemplate::new(200).set_body_json(json!({
        "data": data, "error": { "code": "ok", "message": "", "log_id": "202612010000000000" }
    }))
}

/// TikTok's envelope with an error.
pub fn error(status: u16, code: &str, message: &str) -> ResponseTemplate {
    ResponseTemplate::new(status).set_body_json(json!({
        "data": {}, "error": { "code": code, "message": message, "log_id": "202612010000000001" }
    }))
}

fn bearer(req: &Request) -> Option<String> {
    req.headers
        .get("authorization")?
        .to_str()
        .ok()?
        .strip_prefix("Bearer ")
        .map(str::to_owned)
}

fn live(req: &Request) -> bool {
    matches!(bearer(req).as_deref(), Some("act.one" | "act.two"))
}

const MB: u64 = 1024 * 1024;

/// What the fake received.
#[derive(Clone, Default)]
pub struct Seen {
    /// Each init's JSON body.
    pub inits: Arc<Mutex<Vec<Value>>>,
    /// Each chunk's `Content-Range`, in order.
    pub ranges: Arc<Mutex<Vec<String>>>,
    /// The video's bytes as TikTok kept them.
    pub video: Arc<Mutex<Vec<u8>>>,
    /// What each status check answered.
    pub checks: Arc<Mutex<usize>>,
}

/// The app `tt-key`/`tt-secret`: the code `tt-code` is worth `act.one` (a day) with the refresh
/// token `rft.one`, which renews to `act.two` and rotates to `rft.two`; ada's open id is
/// `ada-open-id`.
pub async fn mount_login(server: &MockServer, scope: &str) {
    let granted = scope.to_owned();
    Mock::given(method("POST"))
        .and(path("/v2/oauth/token/"))
        .respond_with(move |req: &Request| {
            let client = form_has(req, "client_key", "tt-key") && form_has(req, "client_secret", "tt-secret");
            if !client {
                return ResponseTemplate::new(401).set_body_json(json!({
                    "error": "invalid_client", "error_description": "Client key or secret is incorrect.",
                    "log_id": "20261201"
                }));
            }
            let redirect = url::form_urlencoded::parse(&req.body)
                .any(|(k, v)| k == "redirect_uri" && v.ends_with("/postiz/integrations/social/tiktok"));
            let (access, refresh) = if form_has(req, "grant_type", "authorization_code")
                && form_has(req, "code", "tt-code")
                && redirect
            {
                ("act.one", "rft.one")
            } else if form_has(req, "grant_type", "refresh_token") && form_has(req, "refresh_token", "rft.one") {
                ("act.two", "rft.two")
            } else {
                return ResponseTemplate::new(400).set_body_json(json!({
                    "error": "invalid_grant", "error_description": "Authorization code is expired.",
                    "log_id": "20261201"
                }));
            };
            ResponseTemplate::new(200).set_body_json(json!({
                "access_token": access, "expires_in": 86400, "open_id": "ada-open-id",
                "refresh_expires_in": 31536000, "refresh_token": refresh, "scope": granted,
                "token_type": "Bearer"
            }))
        })
        .mount(server)
        .await;
    Mock::given(method("GET"))
        .and(path("/v2/user/info/"))
        .respond_with(|req: &Request| {
            if !live(req) {
                return error(
                    401,
                    "access_token_invalid",
                    "The access token is invalid or not found in the request.",
                );
            }
            let fields = query_param(req.url.as_str(), "fields").unwrap_or_default();
            let mut user = json!({ "open_id": "ada-open-id" });
            for (field, value) in [
                ("display_name", json!("Ada Dances")),
                ("username", json!("ada.dances")),
                (
                    "avatar_url",
                    json!("https://p16-sign.tiktokcdn-us.com/ada.jpeg"),
                ),
                ("union_id", json!("ada-union")),
                ("follower_count", json!(1200)),
                ("following_count", json!(80)),
                ("likes_count", json!(56000)),
                ("video_count", json!(31)),
            ] {
                if fields.split(',').any(|f| f == field) {
                    user[field] = value;
                }
            }
            ok(json!({ "user": user }))
        })
        .mount(server)
        .await;
}

/// The creator: duets off, 60 seconds at most, a public account's privacy levels.
pub async fn mount_creator(server: &MockServer) {
    Mock::given(method("POST"))
        .and(path("/v2/post/publish/creator_info/query/"))
        .respond_with(|req: &Request| {
            if !live(req) {
                return error(401, "access_token_invalid", "The access token is invalid or not found in the request.");
            }
            ok(json!({
                "creator_avatar_url": "https://p16-sign.tiktokcdn-us.com/ada.jpeg",
                "creator_username": "ada.dances", "creator_nickname": "Ada Dances",
                "privacy_level_options": ["PUBLIC_TO_EVERYONE", "MUTUAL_FOLLOW_FRIENDS", "SELF_ONLY"],
                "comment_disabled": false, "duet_disabled": true, "stitch_disabled": false,
                "max_video_post_duration_sec": 60
            }))
        })
        .mount(server)
        .await;
}

/// Whether an init's `post_info` is one TikTok takes from this creator.
fn post_info_refusal(info: &Value) -> Option<ResponseTemplate> {
    let offered = ["PUBLIC_TO_EVERYONE", "MUTUAL_FOLLOW_FRIENDS", "SELF_ONLY"];
    if !offered.contains(&info["privacy_level"].as_str().unwrap_or_default()) {
        return Some(error(
            403,
            "privacy_level_option_mismatch",
            "privacy_level is not in the creator's privacy_level_options.",
        ));
    }
    if info.get("disable_duet").is_some() && info["disable_duet"] != true {
        return Some(error(
            400,
            "invalid_param",
            "The creator has disabled duet for their account.",
        ));
    }
    None
}

/// Whether `source_info` follows the chunk rules; `(size, chunk, count)` when it does.
fn chunking(source: &Value) -> Option<(u64, u64, u64)> {
    let (size, chunk, count) = (
        source["video_size"].as_u64()?,
        source["chunk_size"].as_u64()?,
        source["total_chunk_count"].as_u64()?,
    );
    let whole = chunk == size && count == 1 && size <= 64 * MB;
    let split = (5 * MB..=64 * MB).contains(&chunk)
        && count == size / chunk
        && (1..=1000).contains(&count)
        && size - chunk * (count - 1) <= 128 * MB;
    (whole || split).then_some((size, chunk, count))
}

/// Direct posts and inbox uploads of videos, the chunks, photos and the status.
pub async fn mount_publishing(server: &MockServer) -> Seen {
    mount_creator(server).await;
    let seen = Seen::default();
    let upload_url = format!(
        "{}/upload/?upload_id=7733&upload_token=Xza123",
        server.uri()
    );
    let chunks: Arc<Mutex<Option<(u64, u64, u64)>>> = Arc::default();
    for (at, direct) in [
        ("/v2/post/publish/video/init/", true),
        ("/v2/post/publish/inbox/video/init/", false),
    ] {
        let (seen, upload_url, chunks) = (seen.clone(), upload_url.clone(), chunks.clone());
        Mock::given(method("POST"))
            .and(path(at))
            .respond_with(move |req: &Request| {
                if !live(req) {
                    return error(
                        401,
                        "access_token_invalid",
                        "The access token is invalid or not found in the request.",
                    );
                }
                let Ok(body) = serde_json::from_slice::<Value>(&req.body) else {
                    return error(400, "invalid_param", "The request body is not JSON.");
                };
                seen.inits.lock().unwrap().push(body.clone());
                if direct && let Some(refusal) = post_info_refusal(&body["post_info"]) {
                    return refusal;
                }
                let source = &body["source_info"];
                match source["source"].as_str() {
                    Some("FILE_UPLOAD") => match chunking(source) {
                        Some(plan) => {
                            *chunks.lock().unwrap() = Some(plan);
                            seen.video.lock().unwrap().clear();
                            let id = if direct {
                                "v_pub_file~v2-1.7300"
                            } else {
                                "v_inbox_file~v2.7303"
                            };
                            ok(json!({ "publish_id": id, "upload_url": upload_url }))
                        }
                        None => error(400, "invalid_param", "The chunk size is invalid"),
                    },
                    Some("PULL_FROM_URL") => ok(json!({ "publish_id": "v_pub_url~v2.7301" })),
                    _ => error(400, "invalid_param", "source_info.source is invalid"),
                }
            })
            .mount(server)
            .await;
    }
    {
        let (seen, chunks) = (seen.clone(), chunks.clone());
        Mock::given(method("PUT"))
            .and(path("/upload/"))
            .respond_with(move |req: &Request| {
                let Some((size, chunk, count)) = *chunks.lock().unwrap() else {
                    return ResponseTemplate::new(404);
                };
                let range = req
                    .headers
                    .get("content-range")
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or("")
                    .to_owned();
                seen.ranges.lock().unwrap().push(range.clone());
                let mut kept = seen.video.lock().unwrap();
                let index = kept.len() as u64 / chunk;
                let first = kept.len() as u64;
                let last = if index + 1 == count {
                    size - 1
                } else {
                    first + chunk - 1
                };
                let mime = req
                    .headers
                    .get("content-type")
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or("");
                if range != format!("bytes {first}-{last}/{size}")
                    || req.body.len() as u64 != last - first + 1
                    || !["video/mp4", "video/quicktime", "video/webm"].contains(&mime)
                {
                    return ResponseTemplate::new(416);
                }
                kept.extend_from_slice(&req.body);
                let status = if kept.len() as u64 == size { 201 } else { 206 };
                ResponseTemplate::new(status).insert_header(
                    "content-range",
                    format!("bytes 0-{}/{size}", kept.len() - 1),
                )
            })
            .mount(server)
            .await;
    }
    Mock::given(method("POST"))
        .and(path("/v2/post/publish/content/init/"))
        .respond_with({
            let seen = seen.clone();
            move |req: &Request| {
                if !live(req) {
                    return error(
                        401,
                        "access_token_invalid",
                        "The access token is invalid or not found in the request.",
                    );
                }
                let body: Value = serde_json::from_slice(&req.body).unwrap_or_default();
                seen.inits.lock().unwrap().push(body.clone());
                if body["media_type"] != "PHOTO" || body["source_info"]["source"] != "PULL_FROM_URL"
                {
                    return error(400, "invalid_param", "media_type or source is invalid");
                }
                if body["post_mode"] == "DIRECT_POST"
                    && let Some(refusal) = post_info_refusal(&body["post_info"])
                {
                    return refusal;
                }
                let images = body["source_info"]["photo_images"]
                    .as_array()
                    .cloned()
                    .unwrap_or_default();
                let jpeg_or_webp = images.iter().all(|i| {
                    let url = i.as_str().unwrap_or_default().to_ascii_lowercase();
                    url.ends_with(".jpg") || url.ends_with(".jpeg") || url.ends_with(".webp")
                });
                if images.is_empty() || images.len() > 35 || !jpeg_or_webp {
                    return error(
                        400,
                        "invalid_param",
                        "photo_images must be 1 to 35 JPEG or WebP URLs",
                    );
                }
                ok(json!({ "publish_id": "p_pub_url~v2.7302" }))
            }
        })
        .mount(server)
        .await;
    Mock::given(method("POST"))
        .and(path("/v2/post/publish/status/fetch/"))
        .respond_with({
            let seen = seen.clone();
            move |req: &Request| {
                if !live(req) {
                    return error(401, "access_token_invalid", "The access token is invalid or not found in the request.");
                }
                let body: Value = serde_json::from_slice(&req.body).unwrap_or_default();
                let mut checks = seen.checks.lock().unwrap();
                *checks += 1;
                match body["publish_id"].as_str() {
                    Some(id) if id.starts_with("v_inbox") || id.starts_with("v_pub") || id.starts_with("p_pub") => {}
                    _ => return error(400, "invalid_publish_id", "The publish_id is invalid."),
                }
                if *checks % 2 == 1 {
                    return ok(json!({ "status": "PROCESSING_UPLOAD", "uploaded_bytes": 10000 }));
                }
                if body["publish_id"].as_str().is_some_and(|id| id.starts_with("v_inbox")) {
                    return ok(json!({ "status": "SEND_TO_USER_INBOX", "publicaly_available_post_id": [] }));
                }
                ok(json!({ "status": "PUBLISH_COMPLETE", "publicaly_available_post_id": [7_300_000_000_000_000_001_u64] }))
            }
        })
        .mount(server)
        .await;
    Mock::given(method("POST"))
        .and(path("/v2/video/query/"))
        .respond_with(|req: &Request| {
            if !live(req) {
                return error(401, "access_token_invalid", "The access token is invalid or not found in the request.");
            }
            let body: Value = serde_json::from_slice(&req.body).unwrap_or_default();
            let fields = query_param(req.url.as_str(), "fields").unwrap_or_default();
            if fields.is_empty() || body["filters"]["video_ids"].as_array().is_none_or(|ids| ids.len() > 20) {
                return error(400, "invalid_params", "fields and filters.video_ids (at most 20) are required");
            }
            let videos: Vec<Value> = body["filters"]["video_ids"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|id| id.as_str() == Some("7300000000000000001"))
                .map(|id| json!({ "id": id, "view_count": 5400, "like_count": 310, "comment_count": 12, "share_count": 7 }))
                .collect();
            ok(json!({ "videos": videos, "cursor": 0, "has_more": false }))
        })
        .mount(server)
        .await;
    Mock::given(method("POST"))
        .and(path("/v2/video/list/"))
        .respond_with(|req: &Request| {
            if !live(req) {
                return error(401, "access_token_invalid", "The access token is invalid or not found in the request.");
            }
            let body: Value = serde_json::from_slice(&req.body).unwrap_or_default();
            if body["max_count"].as_u64().is_some_and(|n| n > 20) {
                return error(400, "invalid_params", "max_count must be at most 20");
            }
            ok(json!({ "videos": [
                { "id": "7300000000000000002", "cover_image_url": "https://p16.tiktokcdn.com/cover-2.jpeg", "share_url": "https://www.tiktok.com/@ada.dances/video/7300000000000000002" },
                { "id": "7300000000000000001", "cover_image_url": "https://p16.tiktokcdn.com/cover-1.jpeg", "share_url": "https://www.tiktok.com/@ada.dances/video/7300000000000000001" }
            ], "cursor": 1764500000000_u64, "has_more": false }))
        })
        .mount(server)
        .await;
    seen
}

/// An MP4 of `len` bytes whose movie header says it lasts `seconds`.
pub fn mp4_lasting(len: usize, seconds: u32) -> Vec<u8> {
    let mut video = b"\0\0\0\x20ftypisom\0\0\x02\0isomiso2avc1mp41".to_vec();
    let mut mvhd = vec![0u8; 4];
    mvhd.extend_from_slice(&[0; 8]);
    mvhd.extend_from_slice(&1000u32.to_be_bytes());
    mvhd.extend_from_slice(&(seconds * 1000).to_be_bytes());
    mvhd.extend_from_slice(&[0; 80]);
    let mvhd = [
        ((mvhd.len() + 8) as u32).to_be_bytes().as_slice(),
        b"mvhd",
        &mvhd,
    ]
    .concat();
    video.extend_from_slice(&((mvhd.len() + 8) as u32).to_be_bytes());
    video.extend_from_slice(b"moov");
    video.extend_from_slice(&mvhd);
    let rest = len - video.len() - 8;
    video.extend_from_slice(&((rest + 8) as u32).to_be_bytes());
    video.extend_from_slice(b"mdat");
    video.extend((0..rest).map(|i| (i % 251) as u8));
    video
}

/// Connects ada's account; returns the channel id.
pub async fn connect(app: &TestApp, key: &str, org: &str, server: &MockServer) -> String {
    app.set_credentials(org, "tiktok", "tt-key", "tt-secret", None)
        .await;
    let url = app.connect_url(key, "tiktok").await;
    assert!(
        url.starts_with(&format!("{}/v2/auth/authorize/?", server.uri())),
        "{url}"
    );
    assert_eq!(query_param(&url, "client_key").as_deref(), Some("tt-key"));
    let scope = query_param(&url, "scope").unwrap();
    assert_eq!(
        scope,
        "video.list,user.info.basic,video.publish,video.upload,user.info.profile,user.info.stats"
    );
    mount_login(server, &scope).await;
    let state = query_param(&url, "state").unwrap();
    super::callback(
        app,
        key,
        "tiktok",
        &format!("code=tt-code&scopes={scope}&state={state}"),
    )
    .await
}
