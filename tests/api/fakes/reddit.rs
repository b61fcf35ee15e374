//! A fake Reddit: the token endpoint with HTTP Basic client authentication (401 with
//! `WWW-Authenticate: Basic` otherwise, `{"error": "invalid_grant"}` with 200 for a bad code),
//! tokens of an hour, and `oauth.reddit.com` as Reddit runs it: a `User-Agent` in Reddit's
//! format naming the app and its version or a 429, at most one request a second per token
//! (faster ones get 429), `X-Ratelimit-*` on every answer, `/api/submit` answering business
//! errors with 200 and `json.errors` (a flair-required subreddit, text-only and link-only
//! ones), the media lease and its storage form (201 with XML), submissions listed under the
//! user, comments, subreddit search, `about`, `link_flair_v2` and `post_requirements`.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use base64::Engine;
use serde_json::{Value, json};
use wiremock::matchers::{method, path, path_regex};
use wiremock::{Mock, MockServer, Request, ResponseTemplate};

use super::facebook::form_has;
use crate::helpers::{TestApp, query_param};

/// The `SOCIALGATE_PROVIDER_HOSTS` value that sends Reddit's hosts to the fake.
pub fn hosts(server: &MockServer) -> String {
    format!(
        "www.reddit.com={0} oauth.reddit.com={0} reddit-uploaded-media.s3-accelerate.amazonaws.com={0}",
        server.uri()
    )
}

/// One submission Reddit keeps.
#[derive(Clone, Debug)]
pub struct Submitted {
    pub subreddit: String,
    pub title: String,
    pub kind: String,
    pub flair: Option<String>,
    pub url: Option<String>,
    pub at: Instant,
}

/// What the fake received and keeps.
#[derive(Clone, Default)]
pub struct Seen {
    pub submissions: Arc<Mutex<Vec<Submitted>>>,
    pub comments: Arc<Mutex<Vec<(String, String)>>>,
    /// When each token's last request came.
    pub last: Arc<Mutex<Option<Instant>>>,
    /// Requests refused for coming too soon, or for a generic `User-Agent`.
    pub too_soon: Arc<Mutex<usize>>,
    pub bad_agents: Arc<Mutex<usize>>,
    /// Whether the next submitted-listing hides the media posts (still processing).
    pub processing: Arc<Mutex<bool>>,
}

fn json_answer(status: u16, body: Value) -> ResponseTemplate {
    ResponseTemplate::new(status)
        .insert_header("x-ratelimit-used", "4")
        .insert_header("x-ratelimit-remaining", "596.0")
        .insert_header("x-ratelimit-reset", "420")
        .set_body_json(body)
}

/// `{"json": {"errors": [[code, message, field]]}}`, with 200 as Reddit sends it.
fn refused(code: &str, message: &str, field: &str) -> ResponseTemplate {
    json_answer(
        200,
        json!({ "json": { "errors": [[code, message, field]] } }),
    )
}

/// Checks what every `oauth.reddit.com` call must carry; the refusal when it does not.
fn gate(req: &Request, seen: &Seen) -> Option<ResponseTemplate> {
    let agent = req
        .headers
        .get("user-agent")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    // `<platform>:<app ID>:<version string> (by /u/<username>)`; the account is named once known.
    let descriptive = agent
        .strip_prefix("web:socialgate:")
        .is_some_and(|rest| rest.starts_with(|c: char| c.is_ascii_digit()));
    if !descriptive {
        *seen.bad_agents.lock().unwrap() += 1;
        return Some(json_answer(
            429,
            json!({ "message": "Too Many Requests", "error": 429 }),
        ));
    }
    let token = req
        .headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if !matches!(token, "Bearer reddit-access-1" | "Bearer reddit-access-2") {
        return Some(
            ResponseTemplate::new(401)
                .insert_header(
                    "www-authenticate",
                    "Bearer realm=\"reddit\", error=\"invalid_token\"",
                )
                .set_body_json(json!({ "message": "Unauthorized", "error": 401 })),
        );
    }
    let now = Instant::now();
    let mut last = seen.last.lock().unwrap();
    // A little slack for the clock of the test machine.
    if last.is_some_and(|at| now.duration_since(at) < Duration::from_millis(950)) {
        *seen.too_soon.lock().unwrap() += 1;
        return Some(json_answer(
            429,
            json!({ "message": "Too Many Requests", "error": 429 }),
        ));
    }
    *last = Some(now);
    None
}

/// The app `rd-id`/`rd-secret`: the code `rd-code` is worth `reddit-access-1` (an hour) with
/// the refresh token `rd-refresh`, which renews to `reddit-access-2` (no new refresh token,
/// as Reddit answers); the account is `ada_writes`.
pub async fn mount_login(server: &MockServer, scope: &str, seen: &Seen) {
    let granted = scope.to_owned();
    Mock::given(method("POST"))
        .and(path("/api/v1/access_token"))
        .respond_with(move |req: &Request| {
            let expected = format!("Basic {}", base64::engine::general_purpose::STANDARD.encode("rd-id:rd-secret"));
            if req.headers.get("authorization").and_then(|v| v.to_str().ok()) != Some(expected.as_str()) {
                return ResponseTemplate::new(401).insert_header("www-authenticate", "Basic realm=\"reddit\"");
            }
            let agent = req.headers.get("user-agent").and_then(|v| v.to_str().ok()).unwrap_or("");
            if !agent.starts_with("web:socialgate:") {
                return json_answer(429, json!({ "message": "Too Many Requests", "error": 429 }));
            }
            if form_has(req, "grant_type", "authorization_code")
                && form_has(req, "code", "rd-code")
                && url::form_urlencoded::parse(&req.body)
                    .any(|(k, v)| k == "redirect_uri" && v.ends_with("/postiz/integrations/social/reddit"))
            {
                return json_answer(200, json!({
                    "access_token": "reddit-access-1", "token_type": "bearer", "expires_in": 3600,
                    "scope": granted, "refresh_token": "rd-refresh"
                }));
            }
            if form_has(req, "grant_type", "refresh_token") && form_has(req, "refresh_token", "rd-refresh") {
                return json_answer(200, json!({
                    "access_token": "reddit-access-2", "token_type": "bearer", "expires_in": 3600, "scope": granted
                }));
            }
            json_answer(200, json!({ "error": "invalid_grant" }))
        })
        .mount(server)
        .await;
    let gated = seen.clone();
    Mock::given(method("GET"))
        .and(path("/api/v1/me"))
        .respond_with(move |req: &Request| {
            if let Some(refusal) = gate(req, &gated) {
                return refusal;
            }
            json_answer(200, json!({
                "id": "1w72", "name": "ada_writes", "icon_img": "https://styles.redditmedia.com/ada.png?width=256&amp;s=1",
                "total_karma": 1200
            }))
        })
        .mount(server)
        .await;
}

/// The subreddits: r/rust (any kind, flair required), r/selfhosted (text only, no flair),
/// r/pics (pictures only).
fn subreddit(name: &str) -> Option<Value> {
    Some(match name.to_ascii_lowercase().as_str() {
        "rust" => {
            json!({ "display_name": "rust", "title": "The Rust Programming Language", "url": "/r/rust/",
            "id": "2s7lj", "subreddit_type": "public", "submission_type": "any", "allow_images": true,
            "allow_videos": true, "link_flair_enabled": true, "subscribers": 380000 })
        }
        "selfhosted" => {
            json!({ "display_name": "selfhosted", "title": "Self Hosted", "url": "/r/selfhosted/",
            "id": "32hch", "subreddit_type": "public", "submission_type": "self", "allow_images": false,
            "allow_videos": false, "link_flair_enabled": false, "subscribers": 600000 })
        }
        "pics" => json!({ "display_name": "pics", "title": "Pictures", "url": "/r/pics/",
            "id": "2qh0u", "subreddit_type": "public", "submission_type": "link", "allow_images": true,
            "allow_videos": false, "link_flair_enabled": false, "subscribers": 30000000 }),
        _ => return None,
    })
}

/// Submissions, comments, the media lease, and the subreddits' rules.
pub async fn mount_api(server: &MockServer, seen: &Seen) {
    let base = server.uri();
    let s = seen.clone();
    Mock::given(method("POST"))
        .and(path("/api/submit"))
        .respond_with(move |req: &Request| {
            if let Some(refusal) = gate(req, &s) {
                return refusal;
            }
            let field = |name: &str| url::form_urlencoded::parse(&req.body).find(|(k, _)| k == name).map(|(_, v)| v.into_owned());
            if field("api_type").as_deref() != Some("json") {
                return ResponseTemplate::new(200).set_body_json(json!({ "jquery": [] }));
            }
            let sr = field("sr").unwrap_or_default();
            let Some(about) = subreddit(&sr) else {
                return refused("SUBREDDIT_NOEXIST", "that subreddit doesn't exist", "sr");
            };
            let kind = field("kind").unwrap_or_else(|| "link".into());
            let title = field("title").unwrap_or_default();
            if title.trim().is_empty() {
                return refused("NO_TEXT", "we need something here", "title");
            }
            match (about["submission_type"].as_str(), kind.as_str()) {
                (Some("self"), "link" | "image" | "video") => return refused("NO_LINKS", "that subreddit only allows text posts", "sr"),
                (Some("link"), "self") => return refused("NO_SELFS", "that subreddit doesn't allow text posts", "sr"),
                _ => {}
            }
            let flair = field("flair_id");
            if sr == "rust" && flair.as_deref() != Some("f-news") && flair.as_deref() != Some("f-project") {
                return refused("SUBMIT_VALIDATION_FLAIR_REQUIRED", "Your post must contain post flair.", "flair");
            }
            let url = field("url");
            if matches!(kind.as_str(), "image" | "video")
                && !url.as_deref().is_some_and(|u| u.contains("/rte_images/"))
            {
                return refused("BAD_URL", "you should check that url", "url");
            }
            if kind == "video" && field("video_poster_url").is_none() {
                return refused("MISSING_VIDEO_URLS", "missing video urls", "url");
            }
            let mut all = s.submissions.lock().unwrap();
            all.push(Submitted { subreddit: about["display_name"].as_str().unwrap().to_owned(), title: title.clone(), kind: kind.clone(), flair, url, at: Instant::now() });
            let id = format!("p{}", all.len());
            if matches!(kind.as_str(), "image" | "video") {
                return json_answer(200, json!({ "json": { "errors": [], "data": {
                    "user_submitted_page": "https://www.reddit.com/user/ada_writes/submitted/",
                    "websocket_url": format!("wss://ws-0a1b.wss.redditmedia.com/rte_images/{id}?m=AQAA")
                }}}));
            }
            json_answer(200, json!({ "json": { "errors": [], "data": {
                "url": format!("https://www.reddit.com/r/{sr}/comments/{id}/slug/"), "drafts_count": 0,
                "id": id, "name": format!("t3_{id}")
            }}}))
        })
        .mount(server)
        .await;
    let s = seen.clone();
    Mock::given(method("GET"))
        .and(path("/user/ada_writes/submitted"))
        .respond_with(move |req: &Request| {
            if let Some(refusal) = gate(req, &s) {
                return refusal;
            }
            let hide_media = std::mem::take(&mut *s.processing.lock().unwrap());
            let children: Vec<Value> = s.submissions.lock().unwrap().iter().enumerate().rev()
                .filter(|(_, p)| !(hide_media && matches!(p.kind.as_str(), "image" | "video")))
                .map(|(i, p)| json!({ "kind": "t3", "data": {
                    "id": format!("p{}", i + 1), "name": format!("t3_p{}", i + 1), "subreddit": p.subreddit,
                    "title": p.title, "permalink": format!("/r/{}/comments/p{}/slug/", p.subreddit, i + 1)
                }}))
                .collect();
            json_answer(200, json!({ "kind": "Listing", "data": { "after": null, "dist": children.len(), "children": children } }))
        })
        .mount(server)
        .await;
    let s = seen.clone();
    Mock::given(method("POST"))
        .and(path("/api/comment"))
        .respond_with(move |req: &Request| {
            if let Some(refusal) = gate(req, &s) {
                return refusal;
            }
            let field = |name: &str| {
                url::form_urlencoded::parse(&req.body)
                    .find(|(k, _)| k == name)
                    .map(|(_, v)| v.into_owned())
            };
            let (Some(thing), Some(text)) = (field("thing_id"), field("text")) else {
                return refused("NO_THING_ID", "id not specified", "parent");
            };
            let mut comments = s.comments.lock().unwrap();
            comments.push((thing.clone(), text));
            let id = format!("c{}", comments.len());
            let post = thing.trim_start_matches("t3_");
            json_answer(
                200,
                json!({ "json": { "errors": [], "data": { "things": [{ "kind": "t1", "data": {
                    "id": id, "name": format!("t1_{id}"), "link_id": thing, "parent_id": thing,
                    "permalink": format!("/r/rust/comments/{post}/slug/{id}/")
                }}]}}}),
            )
        })
        .mount(server)
        .await;
    let s = seen.clone();
    Mock::given(method("POST"))
        .and(path("/api/media/asset.json"))
        .respond_with(move |req: &Request| {
            if let Some(refusal) = gate(req, &s) {
                return refusal;
            }
            let (Some(file), Some(mime)) = (
                url::form_urlencoded::parse(&req.body).find(|(k, _)| k == "filepath").map(|(_, v)| v.into_owned()),
                url::form_urlencoded::parse(&req.body).find(|(k, _)| k == "mimetype").map(|(_, v)| v.into_owned()),
            ) else {
                return json_answer(400, json!({ "message": "Bad Request", "error": 400 }));
            };
            let asset = format!("a{}", file.len());
            json_answer(200, json!({
                "args": { "action": "//reddit-uploaded-media.s3-accelerate.amazonaws.com", "fields": [
                    { "name": "acl", "value": "private" }, { "name": "key", "value": format!("rte_images/{asset}") },
                    { "name": "X-Amz-Algorithm", "value": "AWS4-HMAC-SHA256" }, { "name": "success_action_status", "value": "201" },
                    { "name": "content-type", "value": mime }, { "name": "policy", "value": "pol" },
                    { "name": "X-Amz-Signature", "value": "sig" }
                ]},
                "asset": { "asset_id": asset, "processing_state": "incomplete", "payload": { "filepath": file },
                    "websocket_url": format!("wss://ws-0a1b.wss.redditmedia.com/rte_images/{asset}?m=AQAA") }
            }))
        })
        .mount(server)
        .await;
    Mock::given(method("POST"))
        .and(path("/"))
        .respond_with(move |req: &Request| {
            let body = String::from_utf8_lossy(&req.body);
            let fields: Vec<&str> = body
                .split("Content-Disposition: form-data; name=\"")
                .skip(1)
                .filter_map(|p| p.split('"').next())
                .collect();
            if req.headers.get("authorization").is_some()
                || fields.last() != Some(&"file")
                || !fields.contains(&"key")
            {
                return ResponseTemplate::new(400)
                    .set_body_string("<Error><Code>InvalidPolicyDocument</Code></Error>");
            }
            let key = body
                .split("name=\"key\"\r\n\r\n")
                .nth(1)
                .and_then(|r| r.split("\r\n").next())
                .unwrap_or("");
            ResponseTemplate::new(201).set_body_string(format!(
                "<PostResponse><Location>{base}/{}</Location><Key>{key}</Key></PostResponse>",
                key.replace('/', "%2F")
            ))
        })
        .mount(server)
        .await;
    let s = seen.clone();
    Mock::given(method("GET"))
        .and(path("/subreddits/search"))
        .respond_with(move |req: &Request| {
            if let Some(refusal) = gate(req, &s) {
                return refusal;
            }
            let q = query_param(req.url.as_str(), "q")
                .unwrap_or_default()
                .to_ascii_lowercase();
            let children: Vec<Value> = ["rust", "selfhosted", "pics"]
                .iter()
                .filter(|n| n.contains(&q))
                .filter_map(|n| subreddit(n))
                .map(|d| json!({ "kind": "t5", "data": d }))
                .collect();
            json_answer(
                200,
                json!({ "kind": "Listing", "data": { "after": null, "children": children } }),
            )
        })
        .mount(server)
        .await;
    let s = seen.clone();
    Mock::given(method("GET"))
        .and(path_regex(r"^/r/[^/]+/about$"))
        .respond_with(move |req: &Request| {
            if let Some(refusal) = gate(req, &s) {
                return refusal;
            }
            let name = req.url.path().split('/').nth(2).unwrap_or_default();
            match subreddit(name) {
                Some(d) => json_answer(200, json!({ "kind": "t5", "data": d })),
                None => json_answer(200, json!({ "kind": "Listing", "data": { "modhash": null, "dist": 0, "children": [], "after": null, "before": null } })),
            }
        })
        .mount(server)
        .await;
    let s = seen.clone();
    Mock::given(method("GET"))
        .and(path_regex(r"^/r/[^/]+/api/link_flair_v2$"))
        .respond_with(move |req: &Request| {
            if let Some(refusal) = gate(req, &s) {
                return refusal;
            }
            let name = req.url.path().split('/').nth(2).unwrap_or_default();
            if name != "rust" {
                return json_answer(403, json!({ "message": "Forbidden", "error": 403 }));
            }
            json_answer(200, json!([
                { "id": "f-news", "text": "News", "text_editable": false, "type": "text", "mod_only": false },
                { "id": "f-project", "text": "🛠️ project", "text_editable": false, "type": "richtext", "mod_only": false }
            ]))
        })
        .mount(server)
        .await;
    let s = seen.clone();
    Mock::given(method("GET"))
        .and(path_regex(r"^/api/v1/[^/]+/post_requirements$"))
        .respond_with(move |req: &Request| {
            if let Some(refusal) = gate(req, &s) {
                return refusal;
            }
            let name = req.url.path().split('/').nth(3).unwrap_or_default();
            json_answer(
                200,
                json!({ "is_flair_required": name == "rust", "body_restriction_policy": "none",
                "title_text_max_length": null, "domain_blacklist": [] }),
            )
        })
        .mount(server)
        .await;
}

/// Connects ada's account; returns the channel id and what the fake keeps.
pub async fn connect(app: &TestApp, key: &str, org: &str, server: &MockServer) -> (String, Seen) {
    let seen = Seen::default();
    app.set_credentials(org, "reddit", "rd-id", "rd-secret", None)
        .await;
    let url = app.connect_url(key, "reddit").await;
    assert!(
        url.starts_with(&format!("{}/api/v1/authorize?", server.uri())),
        "{url}"
    );
    assert_eq!(query_param(&url, "duration").as_deref(), Some("permanent"));
    let scope = query_param(&url, "scope").unwrap();
    assert_eq!(scope, "read identity submit flair");
    mount_login(server, "flair identity read submit", &seen).await;
    mount_api(server, &seen).await;
    let state = query_param(&url, "state").unwrap();
    (
        super::callback(app, key, "reddit", &format!("code=rd-code&state={state}")).await,
        seen,
    )
}
