//! A fake Dribbble (API v2): the token endpoint (client id and secret with the code, a token
//! that never expires, Doorkeeper's `invalid_grant`), `GET /v2/user` with its teams, and
//! `POST /v2/shots` as Dribbble documents it: multipart with an image that is a GIF, JPG or
//! PNG of exactly 400×300 or 800×600 and at most 8 MB, a title, at most 12 tags; 202 with the
//! shot's `Location`; 422 `Validation failed.` otherwise; `X-RateLimit-*` on every answer.

use std::sync::{Arc, Mutex};

use serde_json::json;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, Request, ResponseTemplate};

use super::facebook::form_has;
use crate::helpers::{TestApp, query_param};

/// The `SOCIALGATE_PROVIDER_HOSTS` value that sends Dribbble's hosts to the fake.
pub fn hosts(server: &MockServer) -> String {
    format!("dribbble.com={0} api.dribbble.com={0}", server.uri())
}

fn answer(status: u16) -> ResponseTemplate {
    ResponseTemplate::new(status)
        .insert_header("x-ratelimit-limit", "60")
        .insert_header("x-ratelimit-remaining", "59")
        .insert_header("x-ratelimit-reset", "1796083200")
}

/// Dribbble's validation error.
pub fn invalid(attribute: &str, message: &str) -> ResponseTemplate {
    answer(422).set_body_json(json!({ "message": "Validation failed.",
        "errors": [{ "attribute": attribute, "message": message }] }))
}

fn live(req: &Request) -> bool {
    req.headers
        .get("authorization")
        .is_some_and(|v| v.to_str().unwrap_or("") == "Bearer drb-token")
}

fn bad_credentials() -> ResponseTemplate {
    answer(401).set_body_json(json!({ "message": "Bad credentials." }))
}

/// A multipart body's parts: name → (file name, bytes).
pub fn parts(req: &Request) -> Vec<(String, Option<String>, Vec<u8>)> {
    let content_type = req
        .headers
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let Some(boundary) = content_type.split("boundary=").nth(1) else {
        return Vec::new();
    };
    let delimiter = format!("--{boundary}");
    let body = &req.body;
    let mut out = Vec::new();
    let positions: Vec<usize> = body
        .windows(delimiter.len())
        .enumerate()
        .filter(|(_, w)| *w == delimiter.as_bytes())
        .map(|(i, _)| i)
        .collect();
    for pair in positions.windows(2) {
        let part = &body[pair[0] + delimiter.len()..pair[1]];
        let Some(split) = part.windows(4).position(|w| w == b"\r\n\r\n") else {
            continue;
        };
        let head = String::from_utf8_lossy(&part[..split]);
        let content = &part[split + 4..part.len().saturating_sub(2)];
        let name = head
            .split("name=\"")
            .nth(1)
            .and_then(|r| r.split('"').next())
            .unwrap_or("")
            .to_owned();
        let file = head
            .split("filename=\"")
            .nth(1)
            .and_then(|r| r.split('"').next())
            .map(str::to_owned);
        out.push((name, file, content.to_vec()));
    }
    out
}

/// An accepted shot: its text fields in order, and its image's size.
#[derive(Clone, Debug)]
pub struct Shot {
    pub fields: Vec<(String, String)>,
    pub size: (u32, u32),
}

impl Shot {
    /// The values of a text field.
    pub fn field(&self, name: &str) -> Vec<&str> {
        self.fields
            .iter()
            .filter(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
            .collect()
    }
}

/// What the fake received.
#[derive(Clone, Default)]
pub struct Seen {
    pub shots: Arc<Mutex<Vec<Shot>>>,
}

/// The app `drb-id`/`drb-secret`: the code `drb-code` is worth `drb-token`; ada is a player in
/// the team Acme Studio (id 77).
pub async fn mount_login(server: &MockServer, scope: &str) {
    let granted = scope.to_owned();
    Mock::given(method("POST"))
        .and(path("/oauth/token"))
        .respond_with(move |req: &Request| {
            // Doorkeeper reads the parameters from the body or the query string.
            let has = |k: &str, v: &str| form_has(req, k, v) || query_param(req.url.as_str(), k).as_deref() == Some(v);
            if !(has("client_id", "drb-id") && has("client_secret", "drb-secret")) {
                return answer(401).set_body_json(json!({ "error": "invalid_client",
                    "error_description": "Client authentication failed due to unknown client, no client authentication included, or unsupported authentication method." }));
            }
            if !has("code", "drb-code") {
                return answer(400).set_body_json(json!({ "error": "invalid_grant",
                    "error_description": "The provided authorization grant is invalid, expired, revoked, does not match the redirection URI used in the authorization request, or was issued to another client." }));
            }
            answer(200).set_body_json(json!({ "access_token": "drb-token", "token_type": "bearer",
                "scope": granted, "created_at": 1_796_000_000 }))
        })
        .mount(server)
        .await;
    Mock::given(method("GET"))
        .and(path("/v2/user"))
        .respond_with(|req: &Request| {
            if !live(req) {
                return bad_credentials();
            }
            answer(200).set_body_json(json!({
                "id": 1_812_345, "name": "Ada Draws", "login": "adadraws",
                "html_url": "https://dribbble.com/adadraws", "avatar_url": "https://cdn.dribbble.com/ada.png",
                "can_upload_shot": true, "pro": false, "followers_count": 310, "type": "Player",
                "teams": [{ "id": 77, "name": "Acme Studio", "login": "acme", "type": "Team" }]
            }))
        })
        .mount(server)
        .await;
}

/// Shots, held to Dribbble's documented rules.
pub async fn mount_shots(server: &MockServer) -> Seen {
    let seen = Seen::default();
    let s = seen.clone();
    Mock::given(method("POST"))
        .and(path("/v2/shots"))
        .respond_with(move |req: &Request| {
            if !live(req) {
                return bad_credentials();
            }
            let parts = parts(req);
            let text: Vec<(String, String)> = parts
                .iter()
                .filter(|(_, file, _)| file.is_none())
                .map(|(n, _, v)| (n.clone(), String::from_utf8_lossy(v).into_owned()))
                .collect();
            if !text
                .iter()
                .any(|(n, v)| n == "title" && !v.trim().is_empty())
            {
                return invalid("title", "can't be blank");
            }
            if text.iter().filter(|(n, _)| n == "tags[]").count() > 12 {
                return invalid("tags", "is limited to a maximum of 12 tags");
            }
            let Some((_, _, image)) = parts
                .iter()
                .find(|(n, file, _)| n == "image" && file.is_some())
            else {
                return invalid("image", "can't be blank");
            };
            if image.len() > 8 * 1024 * 1024 {
                return invalid("image", "must be no larger than eight megabytes");
            }
            let size = socialgate::media::dimensions(image);
            let kind = socialgate::media::sniff(image);
            if !matches!(kind, Some("image/gif" | "image/jpeg" | "image/png"))
                || !matches!(size, Some((400, 300) | (800, 600)))
            {
                return invalid("image", "must be exactly 400x300 or 800x600");
            }
            let mut shots = s.shots.lock().unwrap();
            shots.push(Shot {
                fields: text,
                size: size.unwrap(),
            });
            answer(202).insert_header(
                "location",
                format!("https://api.dribbble.com/v2/shots/47175{}", shots.len()),
            )
        })
        .mount(server)
        .await;
    seen
}

/// A PNG of `width`×`height` pixels (grey).
pub fn png(width: u32, height: u32) -> Vec<u8> {
    let mut out = Vec::new();
    {
        let mut encoder = png::Encoder::new(&mut out, width, height);
        encoder.set_color(png::ColorType::Grayscale);
        encoder.set_depth(png::BitDepth::Eight);
        let mut writer = encoder.write_header().unwrap();
        writer
            .write_image_data(&vec![128u8; (width * height) as usize])
            .unwrap();
    }
    out
}

/// Connects ada's account; returns the channel id.
pub async fn connect(app: &TestApp, key: &str, org: &str, server: &MockServer) -> String {
    app.set_credentials(org, "dribbble", "drb-id", "drb-secret", None)
        .await;
    let url = app.connect_url(key, "dribbble").await;
    assert!(
        url.starts_with(&format!("{}/oauth/authorize?", server.uri())),
        "{url}"
    );
    let scope = query_param(&url, "scope").unwrap();
    assert_eq!(scope, "public upload");
    mount_login(server, &scope).await;
    let state = query_param(&url, "state").unwrap();
    super::callback(
        app,
        key,
        "dribbble",
        &format!("code=drb-code&state={state}"),
    )
    .await
}
