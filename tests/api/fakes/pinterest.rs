//! A fake Pinterest (API v5): the token endpoint with HTTP Basic client authentication only
//! (a client in the body is refused as Pinterest refuses it), refresh tokens that rotate,
//! `user_account`, `boards` in pages, pins that need a numeric board of the account's and a
//! media source, the video flow (register, the storage's own upload form with every parameter
//! and the file last, a status that is `processing` once, then `succeeded`), analytics, and
//! Pinterest's `{code, message}` errors.

use std::sync::{Arc, Mutex};

use base64::Engine;
use serde_json::{Value, json};
use wiremock::matchers::{method, path, path_regex};
use wiremock::{Mock, MockServer, Request, ResponseTemplate};

use super::facebook::form_has;
use crate::helpers::{TestApp, query_param};

/// The `SOCIALGATE_PROVIDER_HOSTS` value that sends Pinterest's hosts to the fake.
pub fn hosts(server: &MockServer) -> String {
    format!(
        "www.pinterest.com={0} api.pinterest.com={0} pinterest-media-upload.s3-accelerate.amazonaws.com={0}",
        server.uri()
    )
}

/// Pinterest's error body.
pub fn error(status: u16, code: i64, message: &str) -> ResponseTemplate {
    ResponseTemplate::new(status).set_body_json(json!({ "code": code, "message": message }))
}

fn basic(req: &Request) -> bool {
    let expected = format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode("pin-id:pin-secret")
    );
    req.headers
        .get("authorization")
        .is_some_and(|v| v.to_str().unwrap_or("") == expected)
}

fn live(req: &Request) -> bool {
    req.headers.get("authorization").is_some_and(|v| {
        matches!(
            v.to_str().unwrap_or(""),
            "Bearer pina_one" | "Bearer pina_two"
        )
    })
}

fn expired() -> ResponseTemplate {
    error(401, 2, "Authentication failed.")
}

/// What the fake received.
#[derive(Clone, Default)]
pub struct Seen {
    pub pins: Arc<Mutex<Vec<Value>>>,
    /// The storage upload's field names, in order.
    pub upload_fields: Arc<Mutex<Vec<String>>>,
    pub media_checks: Arc<Mutex<usize>>,
}

/// The app `pin-id`/`pin-secret`: the code `pin-code` is worth `pina_one` with the refresh
/// token `pinr_one`, which renews to `pina_two` and rotates to `pinr_two`.
pub async fn mount_login(server: &MockServer, scope: &str) {
    let granted = scope.to_owned();
    Mock::given(method("POST"))
        .and(path("/v5/oauth/token"))
        .respond_with(move |req: &Request| {
            if !basic(req)
                || url::form_urlencoded::parse(&req.body).any(|(k, _)| k == "client_secret")
            {
                return error(401, 2, "Authentication failed.");
            }
            let (access, refresh, kind) = if form_has(req, "grant_type", "authorization_code")
                && form_has(req, "code", "pin-code")
                && url::form_urlencoded::parse(&req.body).any(|(k, v)| {
                    k == "redirect_uri" && v.ends_with("/postiz/integrations/social/pinterest")
                }) {
                ("pina_one", "pinr_one", "authorization_code")
            } else if form_has(req, "grant_type", "refresh_token")
                && form_has(req, "refresh_token", "pinr_one")
            {
                ("pina_two", "pinr_two", "refresh_token")
            } else {
                return error(400, 1, "Invalid authorization code or refresh token.");
            };
            ResponseTemplate::new(200).set_body_json(json!({
                "access_token": access, "token_type": "bearer", "expires_in": 2592000,
                "scope": granted, "response_type": kind, "refresh_token": refresh,
                "refresh_token_expires_in": 5184000, "refresh_token_expires_at": 1_790_000_000
            }))
        })
        .mount(server)
        .await;
    Mock::given(method("GET"))
        .and(path("/v5/user_account"))
        .respond_with(|req: &Request| {
            if !live(req) {
                return expired();
            }
            ResponseTemplate::new(200).set_body_json(json!({
                "account_type": "BUSINESS", "id": "2783136121146311751", "username": "adabakes",
                "business_name": "Ada Bakes", "profile_image": "https://i.pinimg.com/ada.jpg",
                "website_url": "https://ada.example", "follower_count": 42
            }))
        })
        .mount(server)
        .await;
}

/// Boards (two pages), pins, the video flow and analytics.
pub async fn mount_publishing(server: &MockServer) -> Seen {
    let seen = Seen::default();
    Mock::given(method("GET"))
        .and(path("/v5/boards"))
        .respond_with(|req: &Request| {
            if !live(req) {
                return expired();
            }
            if query_param(req.url.as_str(), "page_size").as_deref() != Some("250") {
                return error(400, 400, "Invalid page_size.");
            }
            match query_param(req.url.as_str(), "bookmark").as_deref() {
                None => ResponseTemplate::new(200).set_body_json(json!({
                    "items": [{ "id": "549755885175", "name": "Breads", "privacy": "PUBLIC", "owner": { "username": "adabakes" } }],
                    "bookmark": "page-2"
                })),
                Some("page-2") => ResponseTemplate::new(200).set_body_json(json!({
                    "items": [{ "id": "549755885176", "name": "Cakes", "privacy": "PUBLIC", "owner": { "username": "adabakes" } }],
                    "bookmark": null
                })),
                Some(_) => error(400, 400, "Invalid bookmark."),
            }
        })
        .mount(server)
        .await;
    {
        let seen = seen.clone();
        Mock::given(method("POST"))
            .and(path("/v5/pins"))
            .respond_with(move |req: &Request| {
                if !live(req) {
                    return expired();
                }
                let body: Value = serde_json::from_slice(&req.body).unwrap_or_default();
                let board = body["board_id"].as_str().unwrap_or_default();
                if !["549755885175", "549755885176"].contains(&board) {
                    return error(404, 404, "Board not found.");
                }
                let source = &body["media_source"];
                let valid = match source["source_type"].as_str() {
                    Some("image_url") => source["url"].is_string(),
                    Some("image_base64") => {
                        source["data"].is_string() && source["content_type"].is_string()
                    }
                    Some("multiple_image_urls") => source["items"]
                        .as_array()
                        .is_some_and(|i| (2..=5).contains(&i.len())),
                    Some("video_id") => {
                        source["media_id"] == "12345"
                            && (source["cover_image_url"].is_string()
                                || source["cover_image_data"].is_string())
                    }
                    _ => false,
                };
                if !valid {
                    return error(400, 1, "Invalid request: media_source is invalid.");
                }
                if body["title"]
                    .as_str()
                    .is_some_and(|t| t.chars().count() > 100)
                    || body["description"]
                        .as_str()
                        .is_some_and(|d| d.chars().count() > 800)
                {
                    return error(400, 1, "Invalid request: title or description is too long.");
                }
                let mut pins = seen.pins.lock().unwrap();
                pins.push(body.clone());
                ResponseTemplate::new(201).set_body_json(json!({
                    "id": format!("81346655{}", pins.len()), "board_id": board,
                    "title": body["title"], "created_at": "2026-12-01T10:00:00"
                }))
            })
            .mount(server)
            .await;
    }
    Mock::given(method("POST"))
        .and(path("/v5/media"))
        .respond_with(|req: &Request| {
            if !live(req) {
                return expired();
            }
            let body: Value = serde_json::from_slice(&req.body).unwrap_or_default();
            if body["media_type"] != "video" {
                return error(400, 1, "Invalid media_type.");
            }
            ResponseTemplate::new(201).set_body_json(json!({
                "media_id": "12345", "media_type": "video",
                "upload_url": "https://pinterest-media-upload.s3-accelerate.amazonaws.com/",
                "upload_parameters": {
                    "x-amz-date": "20261201T000000Z", "x-amz-signature": "sig", "x-amz-security-token": "tok",
                    "x-amz-algorithm": "AWS4-HMAC-SHA256", "key": "uploads/12345", "policy": "pol",
                    "x-amz-credential": "cred", "Content-Type": "multipart/form-data"
                }
            }))
        })
        .mount(server)
        .await;
    {
        let seen = seen.clone();
        Mock::given(method("POST"))
            .and(path("/"))
            .respond_with(move |req: &Request| {
                // The storage takes no Pinterest token, every parameter, and the file last.
                if req.headers.get("authorization").is_some() {
                    return ResponseTemplate::new(400)
                        .set_body_string("<Error><Code>InvalidArgument</Code></Error>");
                }
                let body = String::from_utf8_lossy(&req.body);
                let fields: Vec<String> = body
                    .split("Content-Disposition: form-data; name=\"")
                    .skip(1)
                    .filter_map(|p| p.split('"').next().map(str::to_owned))
                    .collect();
                *seen.upload_fields.lock().unwrap() = fields.clone();
                if fields.last().map(String::as_str) != Some("file")
                    || !fields.contains(&"policy".to_owned())
                {
                    return ResponseTemplate::new(400)
                        .set_body_string("<Error><Code>InvalidArgument</Code></Error>");
                }
                ResponseTemplate::new(204)
            })
            .mount(server)
            .await;
    }
    {
        let seen = seen.clone();
        Mock::given(method("GET"))
            .and(path("/v5/media/12345"))
            .respond_with(move |req: &Request| {
                if !live(req) {
                    return expired();
                }
                let mut checks = seen.media_checks.lock().unwrap();
                *checks += 1;
                let status = if *checks == 1 {
                    "processing"
                } else {
                    "succeeded"
                };
                ResponseTemplate::new(200).set_body_json(
                    json!({ "media_id": "12345", "media_type": "video", "status": status }),
                )
            })
            .mount(server)
            .await;
    }
    Mock::given(method("GET"))
        .and(path_regex(r"^/v5/(user_account|pins/\d+)/analytics$"))
        .respond_with(|req: &Request| {
            if !live(req) {
                return expired();
            }
            let (Some(_), Some(_), Some(types)) = (
                query_param(req.url.as_str(), "start_date"),
                query_param(req.url.as_str(), "end_date"),
                query_param(req.url.as_str(), "metric_types"),
            ) else {
                return error(400, 400, "Invalid user accounts analytics parameters.");
            };
            let metrics: serde_json::Map<String, Value> = types
                .split(',')
                .enumerate()
                .map(|(i, t)| (t.to_owned(), json!(10 * (i + 1))))
                .collect();
            ResponseTemplate::new(200).set_body_json(json!({ "all": {
                "daily_metrics": [
                    { "date": "2026-11-30", "data_status": "READY", "metrics": metrics },
                    { "date": "2026-12-01", "data_status": "READY", "metrics": metrics }
                ],
                "summary_metrics": metrics
            }}))
        })
        .mount(server)
        .await;
    seen
}

/// Connects ada's account; returns the channel id.
pub async fn connect(app: &TestApp, key: &str, org: &str, server: &MockServer) -> String {
    app.set_credentials(org, "pinterest", "pin-id", "pin-secret", None)
        .await;
    let url = app.connect_url(key, "pinterest").await;
    assert!(
        url.starts_with(&format!("{}/oauth/?", server.uri())),
        "{url}"
    );
    let scope = query_param(&url, "scope").unwrap();
    assert_eq!(
        scope,
        "boards:read,boards:write,pins:read,pins:write,user_accounts:read"
    );
    mount_login(server, &scope).await;
    let state = query_param(&url, "state").unwrap();
    super::callback(
        app,
        key,
        "pinterest",
        &format!("code=pin-code&state={state}"),
    )
    .await
}
