//! A fake Mastodon instance that checks what a real one requires, and a channel connected to it.

use reqwest::StatusCode;
use serde_json::json;
use wiremock::matchers::{body_string_contains, header, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::helpers::{TestApp, client, query_param};

/// The instance's OAuth side: the code `the-code` of the organization's app (`mc-id`,
/// `mc-secret`) is worth a token for alice with `granted_scope`, and the token shows her account.
pub async fn mount_oauth(instance: &MockServer, granted_scope: &str) {
    Mock::given(method("POST"))
        .and(path("/oauth/token"))
        .and(header("content-type", "application/x-www-form-urlencoded"))
        .and(body_string_contains("grant_type=authorization_code"))
        .and(body_string_contains("code=the-code"))
        .and(body_string_contains("client_id=mc-id"))
        .and(body_string_contains("client_secret=mc-secret"))
        .and(body_string_contains("redirect_uri=http"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "access_token": "mastodon-token", "token_type": "Bearer", "scope": granted_scope, "created_at": 1
        })))
        .mount(instance)
        .await;
    Mock::given(method("GET"))
        .and(path("/api/v1/accounts/verify_credentials"))
        .and(header("authorization", "Bearer mastodon-token"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "id": "109", "username": "alice", "acct": "alice", "display_name": "Alice A.",
            "avatar": "https://files.example/alice.png"
        })))
        .mount(instance)
        .await;
}

/// Connects alice's account on `instance` (mounted with [`mount_oauth`]) with the organization's
/// app, as an API client would; returns the channel id.
pub async fn connect(app: &TestApp, key: &str, org: &str, instance: &MockServer) -> String {
    app.set_credentials(org, "mastodon", "mc-id", "mc-secret", Some(&instance.uri()))
        .await;
    let url = app.connect_url(key, "mastodon").await;
    let state = query_param(&url, "state").unwrap();
    let r = client()
        .get(app.url(&format!(
            "/postiz/integrations/social/mastodon?code=the-code&state={state}"
        )))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    app.channel_id(key, "mastodon").await
}
