//! A fake Bluesky PDS that checks what a real one requires, and a channel connected to it.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use reqwest::StatusCode;
use serde_json::{Value, json};
use wiremock::matchers::{body_json, header, method, path, query_param as wm_query};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::helpers::{TestApp, client, input_value};

/// An access JWT (only its payload matters to us). `exp` is fixed, so the same name always
/// gives the same token.
pub fn jwt(name: &str) -> String {
    let payload = json!({ "sub": name, "exp": 4_102_444_800i64 });
    format!(
        "eyJhbGciOiJIUzI1NiJ9.{}.c2ln",
        URL_SAFE_NO_PAD.encode(payload.to_string())
    )
}

/// The `sub` of a JWT made by [`jwt`].
pub fn subject(token: &str) -> String {
    let payload = URL_SAFE_NO_PAD
        .decode(token.split('.').nth(1).unwrap())
        .unwrap();
    serde_json::from_slice::<Value>(&payload).unwrap()["sub"]
        .as_str()
        .unwrap()
        .to_owned()
}

/// The PDS's sessions: alice.test's app password opens one (access JWT `jwt("access-1")`,
/// refresh JWT `refresh-1`), any other is refused, and the session shows her profile.
pub async fn mount_session(pds: &MockServer) {
    Mock::given(method("POST"))
        .and(path("/xrpc/com.atproto.server.createSession"))
        .and(body_json(
            json!({ "identifier": "alice.test", "password": "app-pass-word" }),
        ))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "did": "did:plc:alice", "handle": "alice.test",
            "accessJwt": jwt("access-1"), "refreshJwt": "refresh-1"
        })))
        .mount(pds)
        .await;
    Mock::given(method("POST"))
        .and(path("/xrpc/com.atproto.server.createSession"))
        .respond_with(ResponseTemplate::new(401).set_body_json(json!({
            "error": "AuthenticationRequired", "message": "Invalid identifier or password"
        })))
        .mount(pds)
        .await;
    Mock::given(method("GET"))
        .and(path("/xrpc/app.bsky.actor.getProfile"))
        .and(wm_query("actor", "did:plc:alice"))
        .and(header("authorization", format!("Bearer {}", jwt("access-1")).as_str()))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "did": "did:plc:alice", "handle": "alice.test", "displayName": "Alice", "avatar": "https://cdn.example/a.jpg"
        })))
        .mount(pds)
        .await;
}

/// Connects alice.test (on a PDS mounted with [`mount_session`]) through the credentials form;
/// returns the channel id.
pub async fn connect(app: &TestApp, key: &str, pds: &MockServer) -> String {
    let url = app.connect_url(key, "bluesky").await;
    let form_client = client();
    let (_, html) = app
        .page(&form_client, url.trim_start_matches(&app.address))
        .await;
    let r = form_client
        .post(app.url("/integrations/social/bluesky/connect"))
        .form(&[
            (
                "csrf_token",
                input_value(&html, "csrf_token").unwrap().as_str(),
            ),
            ("state", input_value(&html, "state").unwrap().as_str()),
            ("service", pds.uri().as_str()),
            ("identifier", "alice.test"),
            ("password", "app-pass-word"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    app.channel_id(key, "bluesky").await
}
