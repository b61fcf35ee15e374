//! A fake of the test-only Sketch network (`tests/networks/sketch.rs`): OAuth 2 with PKCE S256
//! and HTTP Basic client authentication, bearer calls, multipart uploads, and containers that
//! are still in progress at the first check.

use std::sync::{Arc, Mutex};

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use reqwest::StatusCode;
use serde_json::json;
use sha2::{Digest, Sha256};
use wiremock::matchers::{body_string_contains, header, method, path, path_regex};
use wiremock::{Mock, MockServer, Request, ResponseTemplate};

use crate::helpers::{TestApp, client, query_param};

/// The `SOCIALGATE_PROVIDER_HOSTS` value that sends Sketch's hosts to the fake.
pub fn hosts(server: &MockServer) -> String {
    format!("sketch.example={0} api.sketch.example={0}", server.uri())
}

fn form(req: &Request) -> Vec<(String, String)> {
    url::form_urlencoded::parse(&req.body)
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect()
}

fn field(req: &Request, name: &str) -> Option<String> {
    form(req)
        .into_iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v)
}

/// The token endpoint: the app (`sk-id`/`sk-secret`) by HTTP Basic, the code `sk-code` with the
/// verifier whose S256 is the challenge the authorization URL carried, and refreshes of
/// `sk-refresh`. Tokens live an hour.
pub async fn mount_oauth(server: &MockServer, challenge: Arc<Mutex<String>>) {
    let basic = format!("Basic {}", STANDARD.encode("sk-id:sk-secret"));
    Mock::given(method("POST"))
        .and(path("/oauth/token"))
        .and(header("authorization", basic.as_str()))
        .and(move |req: &Request| {
            let verifier = field(req, "code_verifier").unwrap_or_default();
            let s256 = URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()));
            field(req, "grant_type").as_deref() == Some("authorization_code")
                && field(req, "code").as_deref() == Some("sk-code")
                && field(req, "client_secret").is_none()
                && field(req, "redirect_uri")
                    .is_some_and(|r| r.ends_with("/postiz/integrations/social/sketch"))
                && *challenge.lock().unwrap() == s256
        })
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "access_token": "sk-access-1", "refresh_token": "sk-refresh", "expires_in": 3600,
            "token_type": "bearer", "scope": "profile posts.write media.upload"
        })))
        .mount(server)
        .await;
    Mock::given(method("POST"))
        .and(path("/oauth/token"))
        .and(header("authorization", basic.as_str()))
        .and(body_string_contains("grant_type=refresh_token"))
        .and(body_string_contains("refresh_token=sk-refresh"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "access_token": "sk-access-2", "refresh_token": "sk-refresh", "expires_in": "3600"
        })))
        .mount(server)
        .await;
    Mock::given(method("POST"))
        .and(path("/oauth/token"))
        .respond_with(ResponseTemplate::new(400).set_body_json(json!({
            "error": "invalid_grant", "error_description": "The code or verifier is wrong"
        })))
        .mount(server)
        .await;
    for token in ["sk-access-1", "sk-access-2"] {
        Mock::given(method("GET"))
            .and(path("/v1/me"))
            .and(header("authorization", format!("Bearer {token}").as_str()))
            .respond_with(ResponseTemplate::new(200).set_body_json(json!({
                "id": "sk-42", "name": "Alice Sketch", "username": "alice"
            })))
            .mount(server)
            .await;
    }
}

/// Uploads (multipart `file` with a file name and an image type) and containers, which are in
/// progress at the first check and finished at the next.
pub async fn mount_publishing(server: &MockServer) {
    Mock::given(method("POST"))
        .and(path("/v1/media"))
        .and(|req: &Request| {
            let body = String::from_utf8_lossy(&req.body);
            let content_type = req
                .headers
                .get("content-type")
                .and_then(|v| v.to_str().ok())
                .unwrap_or("");
            content_type.starts_with("multipart/form-data")
                && body.contains("name=\"file\"; filename=\"")
                && body.contains("Content-Type: image/png")
                && req.headers.get("authorization").is_some()
        })
        .respond_with(ResponseTemplate::new(201).set_body_json(json!({ "id": "m-1" })))
        .mount(server)
        .await;
    Mock::given(method("POST"))
        .and(path("/v1/containers"))
        .and(|req: &Request| {
            let body: serde_json::Value = serde_json::from_slice(&req.body).unwrap_or_default();
            body["text"].is_string() && body["visibility"].is_string()
        })
        .respond_with(|req: &Request| {
            let body: serde_json::Value = serde_json::from_slice(&req.body).unwrap_or_default();
            let id = if body["reply_to"].is_null() {
                "c-1"
            } else {
                "c-2"
            };
            ResponseTemplate::new(202).set_body_json(json!({ "id": id, "status": "IN_PROGRESS" }))
        })
        .mount(server)
        .await;
    for (container, post) in [("c-1", "p-1"), ("c-2", "p-2")] {
        Mock::given(method("GET"))
            .and(path(format!("/v1/containers/{container}")))
            .respond_with(ResponseTemplate::new(200).set_body_json(json!({
                "id": container, "status": "IN_PROGRESS"
            })))
            .up_to_n_times(1)
            .with_priority(1)
            .mount(server)
            .await;
        Mock::given(method("GET"))
            .and(path_regex(format!("^/v1/containers/{container}$")))
            .respond_with(ResponseTemplate::new(200).set_body_json(json!({
                "id": container, "status": "FINISHED", "post_id": post,
                "permalink": format!("https://sketch.example/alice/{post}")
            })))
            .mount(server)
            .await;
    }
}

/// Connects alice's Sketch account with the organization's app, as an API client would:
/// follows the authorization URL's parameters and comes back with the code; returns the
/// channel id.
pub async fn connect(app: &TestApp, key: &str, org: &str, server: &MockServer) -> String {
    let challenge = Arc::new(Mutex::new(String::new()));
    mount_oauth(server, challenge.clone()).await;
    app.set_credentials(org, "sketch", "sk-id", "sk-secret", None)
        .await;
    let url = app.connect_url(key, "sketch").await;
    assert!(
        url.starts_with(&format!("{}/oauth/authorize?", server.uri())),
        "the authorization URL goes to the listed host's base: {url}"
    );
    assert_eq!(query_param(&url, "client_id").as_deref(), Some("sk-id"));
    assert_eq!(
        query_param(&url, "scope").as_deref(),
        Some("profile posts.write media.upload")
    );
    assert_eq!(
        query_param(&url, "code_challenge_method").as_deref(),
        Some("S256")
    );
    *challenge.lock().unwrap() = query_param(&url, "code_challenge").unwrap();
    let state = query_param(&url, "state").unwrap();
    let r = client()
        .get(app.url(&format!(
            "/postiz/integrations/social/sketch?code=sk-code&state={state}"
        )))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    app.channel_id(key, "sketch").await
}
